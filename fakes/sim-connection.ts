/**
 * `SimConnection`: one simulated TCP connection, two `MemoryTransport`s joined by two
 * {@link SimPipe}s; and `SimConnectAttempt`, the client's side of setting one up (SYN, SYN-ACK,
 * refusal, timeout), with Twisted's client-factory hooks.
 *
 * @module
 */

import { Deferred } from "../runtime/deferred.js";
import type { TcpClientEndpoint } from "../runtime/endpoints.js";
import {
  CancelledError,
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedByFactoryError,
  ConnectionRefusedError,
  ConnectionResetError,
  ConnectTimeoutError,
  DNSLookupError,
} from "../runtime/errors.js";
import { ClientFactory } from "../runtime/protocol.js";
import type { Address, Connector, Factory, Protocol } from "../runtime/protocol.js";
import type { DelayedCall } from "../runtime/reactor.js";
import { MemoryTransport } from "./loopback.js";
import type { MemoryTransportOptions } from "./loopback.js";
import type { SimHost } from "./sim-host.js";
import type { SimLink } from "./sim-link.js";
import { SimPipe } from "./sim-pipe.js";
import { TraceKind } from "./sim-trace.js";
import type { SimNetwork } from "./simulation.js";

/** The reasons the trace names, by code. */
export const REASON_NAMES = [
  "ConnectionDone",
  "ConnectionResetError",
  "ConnectionAborted",
  "ConnectionLost",
  "ConnectionRefusedError",
  "ConnectTimeoutError",
  "CancelledError",
  "DNSLookupError",
  "ConnectionRefusedByFactoryError",
  "crashed",
  "other",
] as const;

/** @returns the trace code of a `connectionLost` or connect-failure reason. */
export function reasonCode(reason: Error): number {
  if (reason instanceof ConnectionDone) return 0;
  if (reason instanceof ConnectionResetError) return 1;
  if (reason instanceof ConnectionAborted) return 2;
  if (reason instanceof ConnectionLost) return 3;
  if (reason instanceof ConnectionRefusedError) return 4;
  if (reason instanceof ConnectTimeoutError) return 5;
  if (reason instanceof CancelledError) return 6;
  if (reason instanceof DNSLookupError) return 7;
  if (reason instanceof ConnectionRefusedByFactoryError) return 8;
  return 10;
}

/** A connection between two simulated hosts (or within one). */
export class SimConnection {
  /** The client's end. */
  readonly client: MemoryTransport;
  /** The server's end. */
  readonly server: MemoryTransport;
  /** Client-to-server bytes. */
  readonly up: SimPipe;
  /** Server-to-client bytes (and the SYN-ACK before them). */
  readonly down: SimPipe;
  private lostSides = 0;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    private readonly net: SimNetwork,
    /** The same number as its attempt; `c<id>` in the trace. */
    readonly id: number,
    /** The client's attempt. */
    readonly attempt: SimConnectAttempt,
    /** The server's host. */
    readonly serverHost: SimHost,
    /** The link between the two hosts. */
    readonly link: SimLink,
    serverAddress: Address,
    water: MemoryTransportOptions,
  ) {
    const clientAddress = attempt.hostAddress;
    this.client = new MemoryTransport(clientAddress, serverAddress, water);
    this.server = new MemoryTransport(serverAddress, clientAddress, water);
    MemoryTransport.link(this.client, this.server);
    this.up = new SimPipe(net, this, 0, this.client, this.server, link, serverHost);
    this.down = new SimPipe(net, this, 1, this.server, this.client, link, attempt.host);
    const up = this.up;
    const down = this.down;
    const client = this.client;
    const server = this.server;
    client.onActivity = () => {
      up.kick();
      if (!client.readingPaused) down.readerResumed();
    };
    server.onActivity = () => {
      down.kick();
      if (!server.readingPaused) up.readerResumed();
    };
    client.onConnectionLost = (reason) => {
      this.sideLost(0, reason);
      attempt.lost(reason);
    };
    server.onConnectionLost = (reason) => {
      this.sideLost(1, reason);
    };
  }

  /** The client's host. */
  get clientHost(): SimHost {
    return this.attempt.host;
  }

  /** True until both ends are lost. */
  get open(): boolean {
    return this.lostSides !== 3;
  }

  /** @returns the end on `host`: the client's when both are (loopback). */
  sideOn(host: SimHost): MemoryTransport {
    return this.attempt.host === host ? this.client : this.server;
  }

  /** @internal The SYN-ACK reached the client. */
  established(): void {
    this.attempt.established(this);
  }

  /**
   * @internal Ends one side without telling anything that ran on it (its host crashed).
   */
  silence(side: 0 | 1): void {
    const t = side === 0 ? this.client : this.server;
    if (t.lost) return;
    t.onActivity = null;
    t.onConnectionLost = null;
    t.protocol = null;
    t.producer = null;
    t.finish(new ConnectionLost("the host crashed"));
    this.sideLost(side, null);
  }

  private sideLost(side: 0 | 1, reason: Error | null): void {
    const bit = side === 0 ? 1 : 2;
    if ((this.lostSides & bit) !== 0) return;
    this.lostSides |= bit;
    this.net.tracer.record(this.net.current, TraceKind.lost, this.id, side, reason === null ? 9 : reasonCode(reason));
    if (this.lostSides === 3) this.net.connectionClosed(this);
  }
}

/** How a simulated connection attempt stands. */
export type SimAttemptState = "connecting" | "connected" | "failed" | "disconnected";

/** A client's connection attempt on a simulated host. */
export class SimConnectAttempt<P extends Protocol = Protocol> {
  /** Fires with the protocol after its `connectionMade`, or fails. */
  readonly deferred: Deferred<P>;
  /** What a `ClientFactory`'s hooks receive. */
  readonly connector: Connector;
  /** Where the attempt stands. */
  state: SimAttemptState = "connecting";
  /** The connection, once the server accepted. */
  connection: SimConnection | null = null;
  /** The local address. */
  readonly hostAddress: Address;
  /** The address dialled. */
  readonly peerAddress: Address;
  /** The host's life the attempt belongs to (a crash ends it). */
  readonly incarnation: number;
  private timer: DelayedCall | null = null;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    private readonly net: SimNetwork,
    /** The client's host. */
    readonly host: SimHost,
    /** `c<id>` in the trace. */
    readonly id: number,
    /** The parsed endpoint. */
    readonly endpoint: TcpClientEndpoint,
    /** The factory that builds the client protocol. */
    readonly factory: Factory<P> | ClientFactory<P>,
    /** The host dialled, or null when nothing has that address. */
    readonly target: SimHost | null,
    localAddress: string,
    localPort: number,
  ) {
    this.incarnation = host.incarnation;
    this.hostAddress = { type: "tcp", host: localAddress, port: localPort };
    this.peerAddress = { type: "tcp", host: endpoint.host, port: endpoint.port };
    this.deferred = new Deferred<P>(() => {
      this.fail(new CancelledError("the connection attempt was cancelled"));
    });
    this.connector = {
      getDestination: () => endpoint,
      connect: () => {
        host.connect(endpoint, factory).addErrback(() => undefined);
      },
      stopConnecting: () => {
        this.fail(new CancelledError("stopConnecting() was called"));
      },
      disconnect: () => {
        if (this.state === "connecting") this.fail(new CancelledError("disconnect() was called while connecting"));
        else if (this.state === "connected") this.connection?.client.loseConnection();
      },
    };
  }

  /** @internal Starts the factory and the timeout, and sends the SYN. */
  start(): void {
    this.factory.doStart();
    if (this.factory instanceof ClientFactory) this.factory.startedConnecting(this.connector);
    if (this.state !== "connecting") return;
    const seconds = this.endpoint.timeout;
    this.timer = this.host.callLater(seconds * 1000, () => {
      this.timer = null;
      this.fail(new ConnectTimeoutError(`connecting to ${this.endpoint.host}:${this.endpoint.port} timed out after ${seconds} s`));
    });
    this.net.sendSyn(this);
  }

  /** @internal The SYN-ACK arrived: build and attach the client protocol. */
  established(connection: SimConnection): void {
    const client = connection.client;
    if (this.state !== "connecting" || this.incarnation !== this.host.incarnation) {
      // Nobody waits for this connection any more: the client's stack answers with a reset.
      client.abortConnection();
      return;
    }
    const protocol = this.factory.buildProtocol(this.peerAddress);
    if (protocol === null) {
      this.fail(new ConnectionRefusedByFactoryError());
      client.abortConnection();
      return;
    }
    this.cancelTimer();
    this.state = "connected";
    this.net.tracer.record(this.net.current, TraceKind.connected, this.id);
    client.attach(protocol);
    this.deferred.callback(protocol);
  }

  /**
   * @internal Fails the attempt (once): `clientConnectionFailed`, the factory released, the
   * Deferred failed. Does nothing once the attempt is settled.
   */
  fail(error: Error): void {
    if (this.state !== "connecting") return;
    this.state = "failed";
    this.cancelTimer();
    this.net.tracer.record(this.net.current, TraceKind.connectFailed, this.id, reasonCode(error));
    this.host.attemptSettled(this);
    if (this.factory instanceof ClientFactory) this.factory.clientConnectionFailed(this.connector, error);
    this.factory.doStop();
    this.deferred.errback(error);
  }

  /** @internal Ends the attempt without telling anyone (its host crashed). */
  kill(): void {
    if (this.state === "connecting") this.state = "failed";
    this.timer = null;
  }

  /** @internal The established connection was lost. */
  lost(reason: Error): void {
    if (this.state !== "connected") return;
    this.state = "disconnected";
    if (this.factory instanceof ClientFactory) this.factory.clientConnectionLost(this.connector, reason);
    this.factory.doStop();
  }

  private cancelTimer(): void {
    if (this.timer?.active() === true) this.timer.cancel();
    this.timer = null;
  }
}
