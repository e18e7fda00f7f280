/**
 * Protocols, factories and the transports they write through.
 *
 * A `Protocol` holds the logic of one connection and sees the world through its `Transport`
 * only; a `Factory` builds one protocol per connection and holds what they share. The same
 * protocol runs on `NodeReactor`'s TCP transports and on the fakes' in-memory ones.
 *
 * @module
 */

import { ConnectionDone } from "./errors.js";
import type { ClientEndpoint } from "./endpoints.js";
import type { DatagramTransport } from "./reactor.js";

/** A network address. */
export interface Address {
  /** The kind of socket. */
  readonly type: "tcp" | "unix" | "udp";
  /** An IP address or host name; for unix sockets, the path. */
  readonly host: string;
  /** The port; 0 for unix sockets. */
  readonly port: number;
}

/**
 * A producer that writes on its own (a push producer). The transport pauses it when its write
 * buffer passes the high-water mark and resumes it once the buffer drains.
 */
export interface PushProducer {
  pauseProducing(): void;
  resumeProducing(): void;
  stopProducing(): void;
}

/**
 * A producer that writes only when asked (a pull producer): the transport calls
 * `resumeProducing()` each time it wants one more piece.
 */
export interface PullProducer {
  resumeProducing(): void;
  stopProducing(): void;
}

/** Something that can be told to stop producing; what a transport gives to a consumer. */
export type Producer = PushProducer | PullProducer;

/**
 * One connection's way to the peer. Every transport (TCP, TLS, unix, in-memory) has these
 * semantics:
 *
 * - `write` never blocks: data is buffered, and a registered push producer is paused once the
 *   buffer passes `highWaterMark`. The buffer is bounded all the same (`runtime/write-buffer.ts`):
 *   with no producer, an accepted connection stops reading while it is past the mark, and a
 *   write past `maxWriteBufferSize` aborts the connection with `WriteBufferOverflowError`.
 * - `loseConnection` closes after the buffer is flushed; the protocol then gets
 *   `connectionLost(ConnectionDone)`. `abortConnection` closes now and discards the buffer.
 * - A transport is itself a push producer of incoming data: `pauseProducing` stops reading.
 */
export interface Transport extends PushProducer {
  /** Queues bytes (a string is sent as UTF-8). Ignored once the connection is closing. */
  write(data: Uint8Array | string): void;
  /** Queues several pieces, in order, as one write where the transport can. */
  writeSequence(data: Iterable<Uint8Array | string>): void;
  /** Closes the connection once every queued byte is sent. */
  loseConnection(): void;
  /** Closes the connection at once, discarding queued bytes; the peer sees a reset. */
  abortConnection(): void;
  /** Half-close: sends FIN after queued bytes, and keeps reading. */
  loseWriteConnection(): void;
  /** The remote address; it stays available after the connection is lost (in `connectionLost` too). */
  getPeer(): Address;
  /** The local address; it stays available after the connection is lost. */
  getHost(): Address;
  /** Turns Nagle's algorithm off (true) or on (false); a no-op where it means nothing. */
  setTcpNoDelay(enabled: boolean): void;
  /**
   * Attaches a producer: `streaming` true for a push producer, false for a pull producer.
   * @throws ProducerRegisteredError (`WL_ERR_PRODUCER_REGISTERED`) when one is attached.
   */
  registerProducer(producer: Producer, streaming: boolean): void;
  /** Detaches the producer. */
  unregisterProducer(): void;
  /** Bytes written but not yet handed to the peer. */
  readonly writeBufferSize: number;
  /** Buffered bytes past which a push producer is paused. */
  readonly highWaterMark: number;
  /** True once `loseConnection` or `abortConnection` was called, or the peer went away. */
  readonly disconnecting: boolean;
}

/**
 * The logic of one connection. Subclass it and override the events you care about.
 *
 * @example
 * ```ts
 * class Echo extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport.write(data);
 *   }
 * }
 * ```
 */
export class Protocol {
  /** The transport, set by `makeConnection`. */
  transport!: Transport;
  /** The factory that built this protocol, if one did. */
  factory: Factory | null = null;
  /** True between `makeConnection` and `connectionLost`. */
  connected = false;

  /** Called by the transport once it is ready; sets `transport` and calls `connectionMade`. */
  makeConnection(transport: Transport): void {
    this.connected = true;
    this.transport = transport;
    this.connectionMade();
  }

  /** The connection is open and `transport` is set. */
  connectionMade(): void {}

  /** Bytes arrived; chunk boundaries mean nothing (TCP is a stream). */
  dataReceived(_data: Uint8Array): void {}

  /**
   * The connection is closed. `reason` is `ConnectionDone` for a clean close, otherwise the
   * error (`ConnectionLost`, `ConnectionResetError`, ...).
   */
  connectionLost(_reason: Error): void {}

  /**
   * The peer half-closed its side (sent FIN). When a protocol does not override this, the
   * transport closes the connection, as most protocols expect.
   */
  readConnectionLost?(): void;

  /** This side's write half is closed (after `loseWriteConnection`). */
  writeConnectionLost?(): void;

  /**
   * The server this connection belongs to is shutting down gracefully (as
   * `HttpServerFactory.shutdown` does for a protocol a request was upgraded to): finish what is
   * in progress and close. A WebSocket sends a close frame with 1001 (Going Away). A connection
   * still open at the server's deadline is aborted.
   */
  goingAway?(): void;
}

/** Builds one protocol per connection and holds what they share. */
export class Factory<P extends Protocol = Protocol> {
  /** How many ports and connectors use this factory; start/stop hooks run at the edges. */
  numPorts = 0;

  /** @param protocol - the class `buildProtocol` instantiates, if not overridden. */
  constructor(readonly protocol?: new () => P) {}

  /** Builds a factory whose protocols are made by `make`. */
  static forProtocol<P extends Protocol>(make: () => P): Factory<P> {
    const factory = new Factory<P>();
    factory.buildProtocol = () => make();
    return factory;
  }

  /**
   * Builds the protocol for a new connection from `addr`; `null` refuses the connection.
   * The default instantiates `this.protocol` and sets its `factory`.
   */
  buildProtocol(_addr: Address): P | null {
    if (this.protocol === undefined) throw new TypeError("Factory has no protocol class; override buildProtocol");
    const p = new this.protocol();
    p.factory = this;
    return p;
  }

  /** Called by the reactor when a port or connector starts using this factory. */
  doStart(): void {
    if (this.numPorts++ === 0) this.startFactory();
  }

  /** Called by the reactor when a port or connector stops using this factory. */
  doStop(): void {
    if (this.numPorts === 0) return;
    if (--this.numPorts === 0) this.stopFactory();
  }

  /** The first port or connector started using this factory. */
  startFactory(): void {}

  /** The last port or connector stopped using this factory. */
  stopFactory(): void {}
}

/** What a client factory's hooks receive: the attempt, and a way to make another. */
export interface Connector {
  /** Where it connects. */
  getDestination(): ClientEndpoint;
  /** Starts another connection attempt with the same factory. */
  connect(): void;
  /** Abandons the attempt in progress, if any. */
  stopConnecting(): void;
  /** Closes the connection, if one is established. */
  disconnect(): void;
}

/** A factory for outgoing connections, told how each attempt ended. */
export class ClientFactory<P extends Protocol = Protocol> extends Factory<P> {
  /** An attempt started. */
  startedConnecting(_connector: Connector): void {}
  /** An attempt failed before a connection was made. */
  clientConnectionFailed(_connector: Connector, _reason: Error): void {}
  /** An established connection was closed. */
  clientConnectionLost(_connector: Connector, _reason: Error): void {}
}

/** The logic of a UDP port: datagrams in, `transport.write(data, addr)` out. */
export class DatagramProtocol {
  /** The port's transport, set when the port is bound. */
  transport!: DatagramTransport;

  /** Called by the reactor once the port is bound. */
  makeConnection(transport: DatagramTransport): void {
    this.transport = transport;
    this.startProtocol();
  }

  /** The port is bound and `transport` is set. */
  startProtocol(): void {}

  /** The port is closed. */
  stopProtocol(): void {}

  /** One datagram arrived from `addr`. */
  datagramReceived(_data: Uint8Array, _addr: Address): void {}
}

/** The reason given to `connectionLost` for a clean close; one shared instance is enough. */
export const connectionDone: Error = new ConnectionDone();
