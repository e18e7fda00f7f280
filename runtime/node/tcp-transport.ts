/**
 * `TcpTransport`: the `Transport` of a TCP, TLS or unix-socket connection on `NodeReactor`.
 *
 * Built for many connections and a hot data path:
 * - the socket listeners are module-level functions shared by every connection (the socket
 *   points back at its transport through one symbol-keyed property), so a connection costs no
 *   closures;
 * - the Buffer from `'data'` goes straight to `dataReceived`;
 * - `write` is a flag test and `socket.write`, with no allocation of its own;
 * - a clean close reports the shared `connectionDone` instance, so closing allocates no Error;
 * - producer state lives in a separate object made only when a producer is registered;
 * - the write-buffer bounds cost nothing until a write leaves the buffer at its high-water
 *   mark (Node's `write()` returns false): only then are they looked at.
 *
 * Backpressure (the policy is in `runtime/write-buffer.ts`): `write` never refuses data. Once
 * `writeBufferSize` reaches `highWaterMark`, a registered push producer is paused (resumed on
 * `'drain'`); with no producer, a connection whose limits say so stops reading once it is past
 * the mark, until `'drain'`; a pull producer is asked for more only once everything it wrote
 * has been handed to the kernel. Past `maxWriteBufferSize` the connection is aborted with
 * `WriteBufferOverflowError`.
 *
 * @module
 */

import type { Socket } from "node:net";

import { ConnectionAborted, ProducerRegisteredError, WriteBufferOverflowError } from "../errors.js";
import type { Address, Producer, Protocol, PushProducer, Transport } from "../protocol.js";
import { connectionDone } from "../protocol.js";
import type { TransportWriteLimits } from "../write-buffer.js";
import { mapConnectionLostError } from "./map-socket-error.js";

/** What a transport needs from the port or connector that made it. */
export interface ConnectionOwner {
  /** The reactor's bookkeeping: connection list and error hook. */
  readonly registry: ConnectionRegistry;
  /** What its connections' write buffers may do (read only once a buffer is full). */
  readonly writeLimits: TransportWriteLimits;
  /** The connection closed, after the protocol's `connectionLost`. */
  connectionClosed(transport: TcpTransport, reason: Error): void;
}

/** The part of the reactor that keeps track of open connections. */
export interface ConnectionRegistry {
  /** @internal */ addConnection(transport: TcpTransport): void;
  /** @internal */ removeConnection(transport: TcpTransport): void;
  /** @internal */ reportError(where: string, error: unknown): void;
}

const kTransport: unique symbol = Symbol("wirelab.transport");

/** A socket that knows its transport; the one property a connection adds to its socket. */
interface OwnedSocket extends Socket {
  [kTransport]: TcpTransport;
}

// Connection state, as bits of one small integer.
/** `loseConnection`/`abortConnection` called, an error seen, or the peer closed: no more writes or reads. */
const DISCONNECTING = 1;
/** `'close'` seen (or forced at shutdown): `connectionLost` has been called. */
const CLOSED = 2;
/** The write side is shut (`loseWriteConnection`). */
const WRITE_CLOSED = 4;
/** `abortConnection` was called. */
const ABORTED = 8;
/** The `'finish'` listener is attached. */
const FINISH_HOOKED = 16;
/** The `'drain'` listener is attached. */
const DRAIN_HOOKED = 32;
/** The protocol paused reading (`pauseProducing`). */
const READS_PAUSED = 64;
/** The transport stopped reading until its write buffer drains (no producer registered). */
const READS_HELD = 128;
/** Writes are ignored in any of these states. */
const NO_WRITES = DISCONNECTING | CLOSED | WRITE_CLOSED;

/** @internal The producer registered on a transport, and what the transport knows of it. */
export class ProducerSlot {
  /** A push producer that the transport paused and has not resumed yet. */
  paused = false;
  /** Writes handed to the socket since a pull producer was last asked for more, not flushed yet. */
  pendingWrites = 0;
  /** The write callback that counts a pull producer's flushed writes; null for push producers. */
  onWritten: ((error?: Error | null) => void) | null = null;

  constructor(
    readonly producer: Producer,
    readonly streaming: boolean,
  ) {}
}

/**
 * A connection over a `net.Socket` (TCP or unix) or `tls.TLSSocket`.
 *
 * Built by `NodeReactor`'s ports and connectors; protocols see it as their `Transport`.
 * `connectionLost` is called exactly once, with `connectionDone` for a clean close,
 * `ConnectionAborted` after `abortConnection`, `ConnectionResetError` when the peer reset the
 * connection, `BrokenPipeError` for a write to a closed peer, or `ConnectionLost` with the
 * socket error as `cause`. An exception thrown by the protocol's callbacks is reported through
 * the reactor's error hook and closes the connection with that exception as the reason.
 */
export class TcpTransport implements Transport {
  /** @internal Neighbours in the reactor's list of open connections. */
  prevConnection: TcpTransport | null = null;
  /** @internal */
  nextConnection: TcpTransport | null = null;
  private flags = 0;
  private producer: ProducerSlot | null = null;
  /** Why the connection is ending, when it is not a clean close. */
  private reason: Error | null = null;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    /** The Node socket underneath. */
    readonly socket: Socket,
    /** The protocol this transport delivers to. */
    readonly protocol: Protocol,
    private readonly owner: ConnectionOwner,
    /** The addresses, read when the connection was made: a closed socket can no longer tell them. */
    private readonly host: Address,
    private readonly peer: Address,
  ) {}

  /** @internal Attaches the socket listeners and calls `protocol.makeConnection`. */
  start(): void {
    const socket = this.socket as OwnedSocket;
    socket[kTransport] = this;
    socket.on("error", onSocketError);
    socket.on("close", onSocketClose);
    socket.on("end", onSocketEnd);
    socket.on("data", onSocketData);
    this.owner.registry.addConnection(this);
    try {
      this.protocol.makeConnection(this);
    } catch (error) {
      this.failFromProtocol("connectionMade", error);
    }
  }

  // -- Transport ------------------------------------------------------------------------------

  write(data: Uint8Array | string): void {
    if ((this.flags & NO_WRITES) !== 0) return;
    const slot = this.producer;
    if (slot?.onWritten == null) {
      if (!this.socket.write(data)) this.bufferFull();
    } else {
      slot.pendingWrites++;
      if (!this.socket.write(data, slot.onWritten)) this.bufferFull();
    }
  }

  writeSequence(data: Iterable<Uint8Array | string>): void {
    if ((this.flags & NO_WRITES) !== 0) return;
    const socket = this.socket;
    const slot = this.producer;
    // Corked writes leave in one writev when the cork comes off.
    socket.cork();
    let ok = true;
    if (slot?.onWritten != null) {
      for (const piece of data) {
        slot.pendingWrites++;
        ok = socket.write(piece, slot.onWritten) && ok;
      }
    } else {
      for (const piece of data) ok = socket.write(piece) && ok;
    }
    socket.uncork();
    if (!ok) this.bufferFull();
  }

  /**
   * Stops reading, sends every buffered byte, then FIN, and closes; the protocol then gets
   * `connectionLost(connectionDone)`. If the peer never reads, the close waits for it.
   */
  loseConnection(): void {
    if ((this.flags & (DISCONNECTING | CLOSED)) !== 0) return;
    this.flags |= DISCONNECTING;
    const socket = this.socket;
    // As in Twisted, nothing more is read once the connection is being closed.
    socket.pause();
    if (socket.writableFinished) {
      socket.destroy();
      return;
    }
    this.hookFinish();
    if (!socket.writableEnded) socket.end();
  }

  /**
   * Closes at once, discarding buffered bytes; this side gets `ConnectionAborted`. Over TCP the
   * peer is sent a reset and sees `ConnectionResetError` (though if the reset arrives together
   * with bytes it has not read yet, libuv may report a plain end of stream). TLS and unix
   * sockets cannot send a reset: they are simply destroyed, and the peer sees the stream end.
   */
  abortConnection(): void {
    if ((this.flags & (ABORTED | CLOSED)) !== 0) return;
    this.flags |= ABORTED | DISCONNECTING;
    const socket = this.socket;
    try {
      // Sends RST, so the peer sees ECONNRESET; only TCP handles can (not TLS, not unix).
      socket.resetAndDestroy();
    } catch {
      socket.destroy();
    }
  }

  loseWriteConnection(): void {
    if ((this.flags & NO_WRITES) !== 0) return;
    this.flags |= WRITE_CLOSED;
    this.hookFinish();
    this.socket.end();
  }

  /** The remote address; it stays available after the connection is lost. */
  getPeer(): Address {
    return this.peer;
  }

  /** The local address; it stays available after the connection is lost. */
  getHost(): Address {
    return this.host;
  }

  setTcpNoDelay(enabled: boolean): void {
    this.socket.setNoDelay(enabled);
  }

  /**
   * Attaches a producer. A push producer (`streaming` true) is paused when a write leaves the
   * buffer at or past `highWaterMark` (at once if it already is) and resumed on `'drain'`. A
   * pull producer gets `resumeProducing()` now, and again (on a later turn of the loop) each
   * time everything written since has been handed to the kernel; one that writes nothing when
   * asked is not asked again. A producer still attached when the connection closes gets
   * `stopProducing()`; one attached to a closed transport gets it at once.
   *
   * @throws ProducerRegisteredError (`WL_ERR_PRODUCER_REGISTERED`) when one is attached.
   */
  registerProducer(producer: Producer, streaming: boolean): void {
    if (this.producer !== null) throw new ProducerRegisteredError();
    if ((this.flags & CLOSED) !== 0) {
      producer.stopProducing();
      return;
    }
    const slot = new ProducerSlot(producer, streaming);
    this.producer = slot;
    if (streaming) {
      this.hookDrain();
      if (this.socket.writableNeedDrain) this.pauseProducer(slot);
      return;
    }
    slot.onWritten = () => {
      if (--slot.pendingWrites === 0) setImmediate(askPullProducer, this, slot);
    };
    producer.resumeProducing();
  }

  unregisterProducer(): void {
    this.producer = null;
  }

  /** Bytes written but not yet handed to the kernel. */
  get writeBufferSize(): number {
    return this.socket.writableLength;
  }

  /**
   * Buffered bytes past which a push producer is paused: the socket's own writable high-water
   * mark, which the reactor sets from its `highWaterMark` option (TLS server sockets keep
   * Node's default, as Node gives no way to set it).
   */
  get highWaterMark(): number {
    return this.socket.writableHighWaterMark;
  }

  get disconnecting(): boolean {
    return (this.flags & (DISCONNECTING | CLOSED)) !== 0;
  }

  /** Stops reading from the socket (the transport as a producer of incoming data). */
  pauseProducing(): void {
    this.flags |= READS_PAUSED;
    this.socket.pause();
  }

  /**
   * Starts reading again after `pauseProducing`, unless the transport itself holds reading
   * until its write buffer drains.
   */
  resumeProducing(): void {
    this.flags &= ~READS_PAUSED;
    if ((this.flags & (DISCONNECTING | READS_HELD)) === 0) this.socket.resume();
  }

  /** True while reading stops until the write buffer drains (no producer registered; see `runtime/write-buffer.ts`). */
  get readsHeld(): boolean {
    return (this.flags & READS_HELD) !== 0;
  }

  /** Closes the connection, as Twisted's transports do. */
  stopProducing(): void {
    this.loseConnection();
  }

  // -- Events ---------------------------------------------------------------------------------

  /** @internal `'data'`. */
  dataArrived(data: Buffer): void {
    if ((this.flags & DISCONNECTING) !== 0) return;
    try {
      this.protocol.dataReceived(data);
    } catch (error) {
      this.failFromProtocol("dataReceived", error);
    }
  }

  /** @internal `'end'`: the peer sent FIN. */
  peerEnded(): void {
    if ((this.flags & (DISCONNECTING | CLOSED)) !== 0) return;
    const protocol = this.protocol;
    // A socket that is not half-open (TLS server sockets) has already shut its write side.
    if (typeof protocol.readConnectionLost !== "function" || !this.socket.allowHalfOpen) {
      this.loseConnection();
      return;
    }
    try {
      protocol.readConnectionLost();
    } catch (error) {
      this.failFromProtocol("readConnectionLost", error);
    }
  }

  /** @internal `'finish'`: every byte was handed to the kernel and FIN was sent. */
  writeFinished(): void {
    if ((this.flags & CLOSED) !== 0) return;
    if ((this.flags & DISCONNECTING) !== 0) {
      this.socket.destroy();
      return;
    }
    const protocol = this.protocol;
    if (typeof protocol.writeConnectionLost !== "function") return;
    try {
      protocol.writeConnectionLost();
    } catch (error) {
      this.failFromProtocol("writeConnectionLost", error);
    }
  }

  /** @internal `'error'`: remembered as the reason; Node destroys the socket and `'close'` follows. */
  socketFailed(error: Error): void {
    this.flags |= DISCONNECTING;
    if (this.reason === null && (this.flags & ABORTED) === 0) this.reason = mapConnectionLostError(error);
  }

  /** @internal `'drain'`: reads again if the full buffer held reading; resumes a push producer paused by this transport. */
  drained(): void {
    const flags = this.flags;
    if ((flags & CLOSED) !== 0) return;
    if ((flags & READS_HELD) !== 0) {
      this.flags = flags & ~READS_HELD;
      if ((flags & (READS_PAUSED | DISCONNECTING)) === 0) this.socket.resume();
    }
    const slot = this.producer;
    if (slot === null || !slot.paused) return;
    slot.paused = false;
    try {
      (slot.producer as PushProducer).resumeProducing();
    } catch (error) {
      this.failFromProtocol("resumeProducing", error);
    }
  }

  /** @internal Asks a pull producer for more once its writes are flushed. */
  askPull(slot: ProducerSlot): void {
    if (this.producer !== slot || slot.pendingWrites !== 0 || (this.flags & NO_WRITES) !== 0) return;
    try {
      slot.producer.resumeProducing();
    } catch (error) {
      this.failFromProtocol("resumeProducing", error);
    }
  }

  /**
   * @internal The socket is gone: tells the protocol (once) and the owner.
   *
   * @param forced - the reason to give instead of the one the socket's history implies;
   *   used by the reactor's shutdown, which closes sockets without waiting for `'close'`.
   */
  closed(forced?: Error): void {
    if ((this.flags & CLOSED) !== 0) return;
    this.flags |= CLOSED | DISCONNECTING;
    const reason = forced ?? ((this.flags & ABORTED) !== 0 ? new ConnectionAborted() : (this.reason ?? connectionDone));
    this.owner.registry.removeConnection(this);
    const slot = this.producer;
    if (slot !== null) {
      this.unregisterProducer();
      try {
        slot.producer.stopProducing();
      } catch (error) {
        this.owner.registry.reportError("stopProducing", error);
      }
    }
    const protocol = this.protocol;
    protocol.connected = false;
    try {
      protocol.connectionLost(reason);
    } catch (error) {
      this.owner.registry.reportError("connectionLost", error);
    }
    this.owner.connectionClosed(this, reason);
  }

  /** @internal Closes the socket now and calls `connectionLost(reason)` without waiting. */
  forceClose(reason: Error): void {
    if ((this.flags & CLOSED) !== 0) return;
    this.socket.destroy();
    this.closed(reason);
  }

  // -------------------------------------------------------------------------------------------

  /** A write left the buffer at or past the high-water mark: the slow path of `write`. */
  private bufferFull(): void {
    const limits = this.owner.writeLimits;
    const size = this.socket.writableLength;
    if (size > limits.maxWriteBufferSize) {
      this.overflow(size, limits.maxWriteBufferSize);
      return;
    }
    const slot = this.producer;
    if (slot === null) {
      if (limits.pauseReadsWhenFull && (this.flags & READS_HELD) === 0 && size > this.socket.writableHighWaterMark) {
        this.flags |= READS_HELD;
        this.hookDrain();
        this.socket.pause();
      }
    } else if (slot.streaming && !slot.paused) {
      this.pauseProducer(slot);
    }
  }

  /** The buffer passed `maxWriteBufferSize`: abort, with the reason the protocol will get. */
  private overflow(size: number, limit: number): void {
    this.flags |= DISCONNECTING;
    this.reason ??= new WriteBufferOverflowError(size, limit);
    const socket = this.socket;
    try {
      socket.resetAndDestroy();
    } catch {
      socket.destroy();
    }
  }

  private hookDrain(): void {
    if ((this.flags & DRAIN_HOOKED) !== 0) return;
    this.flags |= DRAIN_HOOKED;
    this.socket.on("drain", onSocketDrain);
  }

  private pauseProducer(slot: ProducerSlot): void {
    slot.paused = true;
    try {
      (slot.producer as PushProducer).pauseProducing();
    } catch (error) {
      this.failFromProtocol("pauseProducing", error);
    }
  }

  private hookFinish(): void {
    if ((this.flags & FINISH_HOOKED) !== 0) return;
    this.flags |= FINISH_HOOKED;
    this.socket.on("finish", onSocketFinish);
  }

  /** A protocol callback threw: report it, and close the connection with it as the reason. */
  private failFromProtocol(where: string, error: unknown): void {
    this.owner.registry.reportError(where, error);
    if ((this.flags & CLOSED) !== 0) return;
    this.flags |= DISCONNECTING;
    if (this.reason === null) this.reason = error instanceof Error ? error : new Error(String(error));
    this.socket.destroy();
  }
}

// Shared listeners: Node calls them with the socket as `this`.

function onSocketData(this: OwnedSocket, data: Buffer): void {
  this[kTransport].dataArrived(data);
}

function onSocketEnd(this: OwnedSocket): void {
  this[kTransport].peerEnded();
}

function onSocketFinish(this: OwnedSocket): void {
  this[kTransport].writeFinished();
}

function onSocketError(this: OwnedSocket, error: Error): void {
  this[kTransport].socketFailed(error);
}

function onSocketClose(this: OwnedSocket): void {
  this[kTransport].closed();
}

function onSocketDrain(this: OwnedSocket): void {
  this[kTransport].drained();
}

function askPullProducer(transport: TcpTransport, slot: ProducerSlot): void {
  transport.askPull(slot);
}
