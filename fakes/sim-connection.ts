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
  BrokenPipeError,
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
import { linkedTransports } from "./loopback.js";
import type { MemoryTransport, PairBufferOptions } from "./loopback.js";
import type { SimHost } from "./sim-host.js";
import type { SimLink } from "./sim-link.js";
import { SimPipe } from "./sim-pipe.js";
import type { PipeWorld } from "./sim-pipe.js";
import type { ConnectionEnd } from "./sim-scheduler.js";
import { TraceKind } from "./sim-trace.js";

/** @internal One end of a simulated connection, owner of the timers its protocol sets. */
export class SimConnectionEnd implements ConnectionEnd {
  lostAt = NaN;
  peer: ConnectionEnd = this;
  constructor(
    readonly name: string,
    private readonly transport: MemoryTransport,
    readonly host: SimHost,
  ) {}

  get lost(): boolean {
    return this.transport.lost;
  }
}

/** What connections and connection attempts need from the simulated network they run in. */
export interface ConnectionWorld extends PipeWorld {
  /** Both ends of `conn` are lost. */
  connectionClosed(conn: SimConnection): void;
  /** The client of `attempt` sends its SYN. */
  sendSyn(attempt: SimConnectAttempt): void;
}

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
  "BrokenPipeError",
] as const;

/** Why a write was ignored, as the trace names it, by code. */
export const REFUSED_WRITE_REASONS = [
  "after close (ignored)",
  "after the connection was lost (ignored)",
  "after its write half was shut (ignored)",
  "after its write half was shut by a fault: BrokenPipeError",
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
  if (reason instanceof BrokenPipeError) return 11;
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
  /** @internal The client's end, as an owner of timers. */
  readonly clientEnd: SimConnectionEnd;
  /** @internal The server's end, as an owner of timers. */
  readonly serverEnd: SimConnectionEnd;
  private lostSides = 0;
  /** Bit per side (1 client, 2 server) whose write half a `halfClose` fault shut. */
  private shutByFault = 0;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    private readonly net: ConnectionWorld,
    /** The same number as its attempt; `c<id>` in the trace. */
    readonly id: number,
    /** The client's attempt. */
    readonly attempt: SimConnectAttempt,
    /** The server's host. */
    readonly serverHost: SimHost,
    /** The link between the two hosts. */
    readonly link: SimLink,
    serverAddress: Address,
    buffers: PairBufferOptions,
  ) {
    const { server, client } = linkedTransports(serverAddress, attempt.hostAddress, buffers);
    this.client = client;
    this.server = server;
    const clientEnd = new SimConnectionEnd(`c${id} client side`, this.client, attempt.host);
    const serverEnd = new SimConnectionEnd(`c${id} server side`, this.server, serverHost);
    clientEnd.peer = serverEnd;
    serverEnd.peer = clientEnd;
    this.clientEnd = clientEnd;
    this.serverEnd = serverEnd;
    this.up = new SimPipe(net, this, 0, this.client, this.server, link, serverHost, clientEnd, serverEnd);
    this.down = new SimPipe(net, this, 1, this.server, this.client, link, attempt.host, serverEnd, clientEnd);
    const up = this.up;
    const down = this.down;
    client.onActivity = () => {
      up.kick();
      if (client.reading) down.readerResumed();
    };
    server.onActivity = () => {
      down.kick();
      if (server.reading) up.readerResumed();
    };
    client.onConnectionLost = (reason) => {
      this.sideLost(0, reason);
      attempt.lost(reason);
    };
    server.onConnectionLost = (reason) => {
      this.sideLost(1, reason);
    };
    client.onWriteRefused = (data) => {
      this.writeRefused(0, data);
    };
    server.onWriteRefused = (data) => {
      this.writeRefused(1, data);
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

  /** Closes at once the end on `host` (both, for a connection to itself); its protocol gets `reason`. */
  forceCloseOn(host: SimHost, reason: Error): void {
    if (this.attempt.host === host) this.client.forceClose(reason);
    if (this.serverHost === host) this.server.forceClose(reason);
  }

  /** @returns the connection for reports, such as `c0 10.0.0.2:49152 -> 10.0.0.1:80`. */
  describe(): string {
    return `c${this.id} ${this.clientHost.address}:${this.attempt.hostAddress.port} -> ${this.serverHost.address}:${this.attempt.endpoint.port}`;
  }

  /** @internal The SYN-ACK reached the client. */
  established(): void {
    this.attempt.established(this);
  }

  /**
   * @internal A `halfClose` fault shuts the write half of one side, as if its program had
   * (the peer reads EOF after the bytes in flight). Unlike its program, it does not know: its
   * next write fails the connection with `BrokenPipeError`, as a write after `shutdown(2)` does.
   */
  shutWrite(side: 0 | 1): void {
    const t = side === 0 ? this.client : this.server;
    if (t.writeClosed || t.closeRequested || t.aborted || t.lost) return;
    this.shutByFault |= side === 0 ? 1 : 2;
    t.loseWriteConnection();
  }

  private writeRefused(side: 0 | 1, data: Uint8Array): void {
    const t = side === 0 ? this.client : this.server;
    const byFault = !t.lost && !t.aborted && !t.closeRequested && (this.shutByFault & (side === 0 ? 1 : 2)) !== 0;
    const reason = t.lost ? 1 : t.aborted || t.closeRequested ? 0 : byFault ? 3 : 2;
    this.net.tracer.record(this.net.current, TraceKind.writeRefused, this.id, side, data.length, reason);
    if (!byFault) return;
    const pipe = side === 0 ? this.up : this.down;
    pipe.abortReason = new BrokenPipeError("write after a halfClose fault shut this side's write half");
    t.abortConnection();
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
    (side === 0 ? this.clientEnd : this.serverEnd).lostAt = this.net.current;
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
    private readonly net: ConnectionWorld,
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
    // A named function: the trace and leak reports name timers by their function.
    const connectTimeout = (): void => {
      this.timer = null;
      this.fail(new ConnectTimeoutError(`connecting to ${this.endpoint.host}:${this.endpoint.port} timed out after ${seconds} s`));
    };
    this.timer = this.host.callLater(seconds * 1000, connectTimeout);
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

  /**
   * @internal The client's end was lost: once connected, the connection ends; before the
   * handshake completed (a reset between accept and SYN-ACK), the connect fails with the
   * reason, as `connect(2)` does.
   */
  lost(reason: Error): void {
    if (this.state === "connecting") {
      this.fail(reason);
      return;
    }
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
