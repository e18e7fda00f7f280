/**
 * `TcpConnector`: one client's way to a TCP, TLS or unix-domain endpoint on `NodeReactor`,
 * reusable for reconnecting.
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";

import type { Deferred } from "../deferred.js";
import type { ClientEndpoint } from "../endpoints.js";
import { CancelledError, ConnectTimeoutError, ConnectionRefusedByFactoryError, ConnectionRefusedError, ReactorStateError } from "../errors.js";
import type { Address, ClientFactory, Connector, Factory, Protocol } from "../protocol.js";
import type { DelayedCall } from "../reactor.js";
import type { TransportWriteLimits } from "../write-buffer.js";
import { errnoOf, mapConnectError } from "./map-socket-error.js";
import { loadPem } from "./load-pem.js";
import type { NodeReactor } from "./node-reactor.js";
import { tcpLocalAddress, tcpPeerAddress } from "./peer-address.js";
import { TcpTransport } from "./tcp-transport.js";
import type { ConnectionOwner } from "./tcp-transport.js";

type State = "disconnected" | "connecting" | "connected";

/** Stream options every client socket gets. */
interface StreamOptions {
  allowHalfOpen: boolean;
  writableHighWaterMark: number;
}

function isClientFactory<P extends Protocol>(factory: Factory<P>): factory is ClientFactory<P> {
  const f = factory as Partial<ClientFactory<P>>;
  return typeof f.startedConnecting === "function" && typeof f.clientConnectionFailed === "function" && typeof f.clientConnectionLost === "function";
}

/**
 * Connects a factory to an endpoint, as Twisted's connectors do.
 *
 * `connect()` makes a new attempt with the same factory (what a reconnecting factory calls
 * from `clientConnectionLost` or `clientConnectionFailed`). The factory's `doStart` runs at the
 * first attempt and `doStop` once an attempt fails or a connection is lost and the factory
 * did not connect again from its hook. The Deferred given to the constructor fires with the
 * outcome of the first attempt only.
 */
export class TcpConnector<P extends Protocol = Protocol> implements Connector, ConnectionOwner {
  private state: State = "disconnected";
  private factoryStarted = false;
  private socket: net.Socket | null = null;
  private transport: TcpTransport | null = null;
  private timer: DelayedCall | null = null;
  /** Removes the listeners of the attempt in progress. */
  private detach: (() => void) | null = null;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    /** @internal */ readonly registry: NodeReactor,
    private readonly endpoint: ClientEndpoint,
    private readonly factory: Factory<P> | ClientFactory<P>,
    private deferred: Deferred<P> | null,
  ) {}

  getDestination(): ClientEndpoint {
    return this.endpoint;
  }

  /**
   * Starts a connection attempt.
   *
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when an attempt is in progress or a
   *   connection is established. During the reactor's shutdown the call does nothing.
   */
  connect(): void {
    if (this.state !== "disconnected") throw new ReactorStateError(`connector is already ${this.state}`);
    if (!this.registry.acceptingConnections) return;
    this.state = "connecting";
    if (!this.factoryStarted) {
      this.factoryStarted = true;
      this.factory.doStart();
    }
    this.registry.addConnector(this);
    let socket: net.Socket;
    try {
      socket = this.openSocket();
    } catch (error) {
      this.failed(mapConnectError(error));
      return;
    }
    this.socket = socket;
    const onConnected = (): void => {
      this.connected();
    };
    const onError = (error: Error): void => {
      // No socket file at a unix path is nothing listening there: refused, as on every world.
      if (this.endpoint.kind === "unix" && errnoOf(error) === "ENOENT") {
        this.failed(new ConnectionRefusedError(`nothing listens at ${this.endpoint.path}`, { cause: error }));
        return;
      }
      this.failed(mapConnectError(error));
    };
    const onClose = (): void => {
      // A socket that ends or closes before it is connected without an error (a TLS peer
      // that hangs up during the handshake) still ends the attempt.
      this.failed(mapConnectError(Object.assign(new Error("the peer closed the connection during setup"), { code: "ECONNRESET" })));
    };
    const connectEvent = this.endpoint.kind === "tls" ? "secureConnect" : "connect";
    socket.once(connectEvent, onConnected);
    socket.on("error", onError);
    socket.on("close", onClose);
    socket.on("end", onClose);
    this.detach = () => {
      socket.removeListener(connectEvent, onConnected);
      socket.removeListener("error", onError);
      socket.removeListener("close", onClose);
      socket.removeListener("end", onClose);
    };
    const seconds = this.endpoint.timeout;
    this.timer = this.registry.callLater(seconds * 1000, () => {
      this.timer = null;
      this.failed(new ConnectTimeoutError(`Connecting to ${describe(this.endpoint)} timed out after ${seconds} s.`));
    });
    if (isClientFactory(this.factory)) {
      try {
        this.factory.startedConnecting(this);
      } catch (error) {
        this.registry.reportError("startedConnecting", error);
      }
    }
  }

  /** Abandons the attempt in progress (the attempt fails with `CancelledError`); otherwise does nothing. */
  stopConnecting(): void {
    if (this.state !== "connecting") return;
    this.failed(new CancelledError("the connection attempt was stopped"));
  }

  /** Closes the established connection, or abandons the attempt in progress. */
  disconnect(): void {
    if (this.state === "connecting") this.stopConnecting();
    else if (this.transport !== null) this.transport.loseConnection();
  }

  /** @internal Outgoing connections' limits. */
  get writeLimits(): TransportWriteLimits {
    return this.registry.outgoingLimits;
  }

  /** @internal */
  connectionClosed(_transport: TcpTransport, reason: Error): void {
    this.transport = null;
    this.socket = null;
    this.state = "disconnected";
    if (isClientFactory(this.factory)) {
      try {
        this.factory.clientConnectionLost(this, reason);
      } catch (error) {
        this.registry.reportError("clientConnectionLost", error);
      }
    }
    this.stopFactoryUnlessReconnecting();
  }

  private openSocket(): net.Socket {
    const ep = this.endpoint;
    // Node's socket constructor takes these stream options, though its typings omit them.
    const common: StreamOptions = { allowHalfOpen: true, writableHighWaterMark: this.registry.highWaterMark };
    if (ep.kind === "unix") {
      const options: net.IpcNetConnectOpts & StreamOptions = { ...common, path: ep.path };
      return net.connect(options);
    }
    const tcp: net.TcpNetConnectOpts & StreamOptions = {
      ...common,
      host: ep.host,
      port: ep.port,
      ...(ep.bindAddress === undefined ? {} : { localAddress: ep.bindAddress }),
    };
    if (ep.kind === "tcp") return net.connect(tcp);
    const options: tls.ConnectionOptions & StreamOptions = {
      ...tcp,
      rejectUnauthorized: ep.verify,
      ...(ep.servername === undefined ? {} : { servername: ep.servername }),
      ...(ep.trustRoots === undefined ? {} : { ca: loadPem(ep.trustRoots) }),
    };
    return tls.connect(options);
  }

  private connected(): void {
    const socket = this.socket;
    if (this.state !== "connecting" || socket === null) return;
    this.endAttempt();
    const ep = this.endpoint;
    const peer: Address = ep.kind === "unix" ? { type: "unix", host: ep.path, port: 0 } : tcpPeerAddress(socket);
    // A peer the socket cannot name any more (it closed meanwhile) is the one dialled.
    if (ep.kind !== "unix" && peer.host === "") Object.assign(peer, { host: ep.host, port: ep.port });
    const host: Address = ep.kind === "unix" ? UNIX_CLIENT : tcpLocalAddress(socket);
    let protocol: P | null;
    try {
      protocol = this.factory.buildProtocol(peer);
    } catch (error) {
      this.registry.reportError("buildProtocol", error);
      this.failed(new ConnectionRefusedByFactoryError(), socket);
      return;
    }
    if (protocol === null) {
      this.failed(new ConnectionRefusedByFactoryError(), socket);
      return;
    }
    this.state = "connected";
    this.registry.removeConnector(this);
    const transport = new TcpTransport(socket, protocol, this, host, peer);
    this.transport = transport;
    transport.start();
    const d = this.deferred;
    this.deferred = null;
    d?.callback(protocol);
  }

  /** The attempt failed (`socket` is passed when it failed after `endAttempt`). */
  private failed(reason: Error, socket: net.Socket | null = this.socket): void {
    if (this.state !== "connecting") return;
    this.endAttempt();
    this.state = "disconnected";
    this.socket = null;
    this.registry.removeConnector(this);
    if (socket !== null) {
      // The attempt's 'error' listener is gone; a late error must not become uncaught.
      socket.on("error", ignoreError);
      socket.destroy();
    }
    if (isClientFactory(this.factory)) {
      try {
        this.factory.clientConnectionFailed(this, reason);
      } catch (error) {
        this.registry.reportError("clientConnectionFailed", error);
      }
    }
    this.stopFactoryUnlessReconnecting();
    const d = this.deferred;
    this.deferred = null;
    d?.errback(reason);
  }

  private endAttempt(): void {
    if (this.timer !== null) {
      if (this.timer.active()) this.timer.cancel();
      this.timer = null;
    }
    if (this.detach !== null) {
      this.detach();
      this.detach = null;
    }
  }

  private stopFactoryUnlessReconnecting(): void {
    if (this.state === "disconnected" && this.factoryStarted) {
      this.factoryStarted = false;
      this.factory.doStop();
    }
  }
}

function ignoreError(): void {}

/** The local end of a unix-domain connection: a client's socket is normally unnamed. */
const UNIX_CLIENT: Address = Object.freeze({ type: "unix", host: "", port: 0 });

function describe(endpoint: ClientEndpoint): string {
  return endpoint.kind === "unix" ? endpoint.path : `${endpoint.host}:${endpoint.port}`;
}

