/**
 * `TcpPort`: a listening TCP, TLS or unix-domain port of `NodeReactor`.
 *
 * @module
 */

import { chmodSync } from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";

import { Deferred, fail, succeed } from "../deferred.js";
import type { ServerEndpoint } from "../endpoints.js";
import { CannotListenError } from "../errors.js";
import type { Address, Factory } from "../protocol.js";
import type { ListeningPort } from "../reactor.js";
import type { TransportWriteLimits } from "../write-buffer.js";
import { errnoOf } from "./map-socket-error.js";
import { loadPem } from "./load-pem.js";
import type { NodeReactor } from "./node-reactor.js";
import { tcpLocalAddress, tcpPeerAddress } from "./peer-address.js";
import { TcpTransport } from "./tcp-transport.js";
import type { ConnectionOwner } from "./tcp-transport.js";

/**
 * A port accepting connections; each gets a protocol from the factory and a `TcpTransport`.
 *
 * The factory's `doStart` runs when the port starts listening and `doStop` when it stops.
 * A `buildProtocol` that returns null (or throws, which is also reported) refuses the
 * connection: the socket is closed at once.
 */
export class TcpPort implements ListeningPort, ConnectionOwner {
  private listening = false;
  private host: Address;
  /** @internal Abandons a port still being bound (set until it listens or fails). */
  opening: (() => void) | null = null;
  /** TLS only: raw sockets accepted and not yet closed, so shutdown can end stuck handshakes. */
  private readonly rawSockets = new Set<net.Socket>();
  /** A wildcard port's local address per local IP, shared by its connections. */
  private readonly localAddresses = new Map<string, Address>();

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    /** @internal */ readonly registry: NodeReactor,
    private readonly server: net.Server,
    private readonly endpoint: ServerEndpoint,
    private readonly factory: Factory,
  ) {
    this.host =
      endpoint.kind === "unix"
        ? { type: "unix", host: endpoint.path, port: 0 }
        : { type: "tcp", host: endpoint.interface, port: endpoint.port };
  }

  /**
   * @internal Binds `endpoint` and starts accepting.
   *
   * @returns a Deferred of the port, failing with CannotListenError (`WL_ERR_CANNOT_LISTEN`).
   */
  static open(reactor: NodeReactor, endpoint: ServerEndpoint, factory: Factory): Deferred<ListeningPort> {
    let server: net.Server;
    if (endpoint.kind === "tls") {
      let key: string | Buffer;
      let cert: string | Buffer;
      try {
        key = loadPem(endpoint.privateKey);
        cert = loadPem(endpoint.certKey);
      } catch (error) {
        return fail(new CannotListenError(errnoOf(error), `cannot read the TLS key or certificate: ${String(error)}`, { cause: error }));
      }
      try {
        // Not half-open: Node would keep a socket whose peer hung up mid-handshake open until
        // the handshake timeout. TLS connections therefore close when the peer sends FIN.
        server = tls.createServer({ highWaterMark: reactor.highWaterMark, key, cert });
      } catch (error) {
        return fail(new CannotListenError(errnoOf(error), `bad TLS key or certificate: ${String(error)}`, { cause: error }));
      }
    } else {
      server = net.createServer({ allowHalfOpen: true, highWaterMark: reactor.highWaterMark });
    }
    const port = new TcpPort(reactor, server, endpoint, factory);
    const d = new Deferred<ListeningPort>();
    const giveUp = (error: Error): void => {
      server.removeListener("listening", onListening);
      server.removeListener("error", onListenError);
      server.close();
      port.opening = null;
      reactor.removePort(port);
      factory.doStop();
      d.errback(error);
    };
    const onListenError = (error: Error): void => {
      giveUp(new CannotListenError(errnoOf(error), `cannot listen on ${describe(endpoint)}: ${error.message}`, { cause: error }));
    };
    // Shutdown before the port is bound: give up now, and close the server should it still
    // come to listen (a host name being looked up binds later).
    port.opening = () => {
      giveUp(new CannotListenError("ECANCELED", `stopped listening on ${describe(endpoint)} before it was bound: the reactor shut down`));
      server.once("listening", () => server.close());
    };
    const onListening = (): void => {
      port.opening = null;
      server.removeListener("error", onListenError);
      server.on("error", (error) => {
        // After listening, errors come from accept() (EMFILE and the like): keep serving.
        reactor.reportError("a listening port", error);
      });
      port.started();
      d.callback(port);
    };
    server.once("error", onListenError);
    server.once("listening", onListening);
    if (endpoint.kind === "tls") {
      server.on("connection", (raw: net.Socket) => {
        port.handshakeStarted(raw);
      });
      server.on("secureConnection", (socket: net.Socket) => {
        port.accept(socket);
      });
    } else {
      server.on("connection", (socket: net.Socket) => {
        port.accept(socket);
      });
    }
    factory.doStart();
    reactor.addPort(port);
    if (endpoint.kind === "unix") server.listen({ path: endpoint.path, backlog: endpoint.backlog });
    else server.listen({ port: endpoint.port, host: endpoint.interface, backlog: endpoint.backlog });
    return d;
  }

  getHost(): Address {
    return this.host;
  }

  stopListening(): Deferred<void> {
    if (!this.listening) return succeed(undefined);
    this.listening = false;
    this.registry.removePort(this);
    // Closing the handle frees the address at once; open connections carry on.
    this.server.close();
    this.factory.doStop();
    return succeed(undefined);
  }

  /**
   * @internal The reactor's shutdown: stops listening and drops TLS handshakes in progress
   * (established connections are closed by the reactor itself).
   */
  shutDown(): void {
    this.opening?.();
    void this.stopListening();
    for (const raw of this.rawSockets) raw.destroy();
    this.rawSockets.clear();
  }

  /** @internal A TLS client connected; its handshake starts. */
  handshakeStarted(raw: net.Socket): void {
    if (!this.listening) {
      raw.destroy();
      return;
    }
    this.rawSockets.add(raw);
    raw.once("close", () => {
      this.rawSockets.delete(raw);
    });
  }

  /** @internal Accepted connections' limits. */
  get writeLimits(): TransportWriteLimits {
    return this.registry.acceptedLimits;
  }

  /**
   * The local address of an accepted socket. Every connection to one local IP has the same
   * one, so it is shared: a port bound to one interface has its own address; a wildcard port
   * keeps one per local IP it was reached on.
   */
  private localAddressOf(socket: net.Socket): Address {
    if (this.endpoint.kind === "unix" || !WILDCARDS.has(this.endpoint.interface)) return this.host;
    const read = tcpLocalAddress(socket);
    let shared = this.localAddresses.get(read.host);
    if (shared === undefined) {
      shared = Object.freeze({ type: "tcp", host: read.host, port: this.host.port });
      this.localAddresses.set(read.host, shared);
    }
    return shared;
  }

  /** @internal */
  connectionClosed(): void {}

  /** @internal */
  accept(socket: net.Socket): void {
    if (!this.listening) {
      socket.destroy();
      return;
    }
    const peer = this.endpoint.kind === "unix" ? UNIX_PEER : tcpPeerAddress(socket);
    let protocol;
    try {
      protocol = this.factory.buildProtocol(peer);
    } catch (error) {
      this.registry.reportError("buildProtocol", error);
      protocol = null;
    }
    if (protocol === null) {
      socket.destroy();
      return;
    }
    const transport = new TcpTransport(socket, protocol, this, this.localAddressOf(socket), peer);
    transport.start();
  }

  private started(): void {
    this.listening = true;
    if (this.endpoint.kind === "unix") {
      if (this.endpoint.mode !== undefined) {
        try {
          chmodSync(this.endpoint.path, this.endpoint.mode);
        } catch (error) {
          this.registry.reportError("chmod of a unix socket", error);
        }
      }
    } else {
      const address = this.server.address();
      if (address !== null && typeof address === "object") this.host = { type: "tcp", host: address.address, port: address.port };
    }
    this.registry.addPort(this);
  }
}

/** Interfaces that mean "every local address". */
const WILDCARDS = new Set(["0.0.0.0", "::", ""]);

/** The peer of an accepted unix-domain connection: the client's socket is normally unnamed. */
const UNIX_PEER: Address = Object.freeze({ type: "unix", host: "", port: 0 });

function describe(endpoint: ServerEndpoint): string {
  return endpoint.kind === "unix" ? endpoint.path : `${endpoint.interface}:${endpoint.port}`;
}
