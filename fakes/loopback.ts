/**
 * In-memory connections: two protocols joined by a pair of {@link MemoryTransport}s, and a
 * {@link Pump} that moves bytes between them when the test says so.
 *
 * The transport holds the connection's state (bytes in flight, close flags, producers) and
 * exposes small delivery steps (`sendData`, `sendFin`, `sendReset`); it never decides when to
 * take them. The Pump takes them in a fixed order, cutting reads with a `ChunkingPolicy`. A
 * seeded simulated network can take the same steps on its own schedule.
 *
 * Semantics are TCP's: bytes written before `loseConnection` arrive before the peer's
 * `connectionLost(ConnectionDone)`; `abortConnection` discards unsent bytes, the aborting side
 * sees `ConnectionAborted` and the peer `ConnectionResetError`; `loseWriteConnection` sends a
 * FIN after the queued bytes and the peer gets `readConnectionLost()` if it defines it, or
 * closes its side otherwise.
 *
 * The write buffer is the bytes in flight, and is bounded as on `NodeReactor` (see
 * `runtime/write-buffer.ts`): past the high-water mark a push producer is paused, or, with no
 * producer, the side stops reading if its limits say so (by default the server side of a pair
 * does, the client side does not); past `maxWriteBufferSize` the side is aborted and its
 * protocol gets `WriteBufferOverflowError`.
 *
 * @module
 */

import {
  ConnectionAborted,
  ConnectionDone,
  ConnectionResetError,
  InvalidOptionError,
  ProducerRegisteredError,
  ReactorStalledError,
  WriteBufferOverflowError,
} from "../runtime/errors.js";
import type { Address, Producer, Protocol, PushProducer, Transport } from "../runtime/protocol.js";
import { DEFAULT_HIGH_WATER_MARK, DEFAULT_MAX_WRITE_BUFFER_SIZE, transportWriteLimits, writeBufferPolicy } from "../runtime/write-buffer.js";
import type { WriteBufferOptions } from "../runtime/write-buffer.js";
import { ByteQueue, toBytes, wholeWrites } from "./chunking.js";
import type { ChunkingPolicy } from "./chunking.js";
import { drainMicrotasks } from "./microtask-activity.js";
import { runAsTestedCode } from "./nondeterminism-guard.js";

/** The default buffered bytes at or below which a paused producer is resumed: drained. */
export const DEFAULT_LOW_WATER_MARK = 0;
/** The default address of the server side of an in-memory pair. */
export const DEFAULT_SERVER_ADDRESS: Address = { type: "tcp", host: "127.0.0.1", port: 8080 };
/** The default address of the client side of an in-memory pair. */
export const DEFAULT_CLIENT_ADDRESS: Address = { type: "tcp", host: "127.0.0.1", port: 49152 };
/** The default bound on the rounds one `Pump.flush()` may run. */
export const DEFAULT_PUMP_MAX_STEPS = 100_000;

/** Options for one {@link MemoryTransport}. */
export interface MemoryTransportOptions {
  /**
   * Bytes in flight (written, not yet delivered to the peer's protocol) past which a
   * registered push producer is paused.
   * @defaultValue {@link DEFAULT_HIGH_WATER_MARK} (64 KiB)
   */
  highWaterMark?: number;
  /**
   * Bytes in flight at or below which a paused push producer is resumed, a pull producer is
   * asked for more, and a side that stopped reading because of its full buffer reads again.
   * @defaultValue {@link DEFAULT_LOW_WATER_MARK} (0: fully drained)
   */
  lowWaterMark?: number;
  /**
   * Bytes in flight past which a write aborts this side with `WriteBufferOverflowError`; at
   * least `highWaterMark`, or `Infinity`.
   * @defaultValue {@link DEFAULT_MAX_WRITE_BUFFER_SIZE} (64 MiB)
   */
  maxWriteBufferSize?: number;
  /**
   * Whether this side stops reading while its bytes in flight are past `highWaterMark` and no
   * producer is registered (until they drain to `lowWaterMark`). A lone transport does not;
   * `connectPair`, `MemoryReactor` and `SimNetwork` set it from their
   * `pauseReadsOnFullBuffer` option.
   * @defaultValue false
   */
  pauseReadsWhenFull?: boolean;
}

/**
 * One side of an in-memory connection. Implements `Transport` fully; delivery happens only
 * when a driver (a {@link Pump}, or a simulated network) calls the `send*` steps.
 */
export class MemoryTransport implements Transport {
  /** The protocol attached to this side. */
  protocol: Protocol | null = null;
  /** The other side; set by {@link MemoryTransport.link}. */
  peer: MemoryTransport | null = null;
  /** Bytes written by this side and not yet delivered to the peer's protocol. */
  readonly outgoing = new ByteQueue();
  /** True once `loseConnection` or `abortConnection` was called, or the connection is lost. */
  disconnecting = false;
  /** True once `loseConnection` was called: close after flushing. */
  closeRequested = false;
  /** True once `loseWriteConnection` was called: FIN after flushing, keep reading. */
  writeClosed = false;
  /** True once `abortConnection` was called. */
  aborted = false;
  /** True once this side's FIN went to the peer. */
  finSent = false;
  /**
   * True once the reactor's shutdown closed this side at once (`forceClose`): it is lost, and
   * its FIN is still on its way to the peer.
   */
  forcedClosed = false;
  /** True once the peer's FIN arrived here. */
  finReceived = false;
  /** True while the protocol has paused reading with `pauseProducing()`. */
  readingPaused = false;
  /** True while this side stops reading until its full write buffer drains (no producer registered). */
  readsHeld = false;
  /** True once `connectionLost` was delivered. */
  lost = false;
  /** The reason `connectionLost` got, once it did. */
  lostReason: Error | null = null;
  /** Why this side aborted, when not by `abortConnection()`: what its protocol will be told. */
  abortReason: Error | null = null;
  /** The registered producer, if any. */
  producer: Producer | null = null;
  /** Whether the registered producer is a push producer. */
  streaming = false;
  /** True while this transport holds its push producer paused. */
  producerPaused = false;
  /** How many writes were ignored because this side was closing or closed. */
  writesAfterClose = 0;
  /** The last value given to `setTcpNoDelay`, or null. */
  tcpNoDelay: boolean | null = null;
  /** Called after `connectionLost` is delivered (the fake reactors hook client factories here). */
  onConnectionLost: ((reason: Error) => void) | null = null;
  /** Called whenever this side has new work for the driver (bytes, a close, reading resumed). */
  onActivity: (() => void) | null = null;
  /** Told of each write ignored because this side was closing or closed (a simulated network traces it). */
  onWriteRefused: ((data: Uint8Array) => void) | null = null;
  readonly highWaterMark: number;
  /** See {@link MemoryTransportOptions.lowWaterMark}. */
  readonly lowWaterMark: number;
  /** See {@link MemoryTransportOptions.maxWriteBufferSize}. */
  readonly maxWriteBufferSize: number;
  /** See {@link MemoryTransportOptions.pauseReadsWhenFull}. */
  readonly pauseReadsWhenFull: boolean;

  /**
   * @param host - this side's address (`getHost()`).
   * @param peerAddress - the other side's address (`getPeer()`).
   * @param options - see {@link MemoryTransportOptions}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a water mark out of bounds.
   */
  constructor(
    private readonly host: Address,
    private readonly peerAddress: Address,
    options: MemoryTransportOptions = {},
  ) {
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.lowWaterMark = options.lowWaterMark ?? DEFAULT_LOW_WATER_MARK;
    if (!Number.isInteger(this.highWaterMark) || this.highWaterMark < 0) {
      throw new InvalidOptionError("highWaterMark", `must be a non-negative integer, got ${this.highWaterMark}`);
    }
    if (!Number.isInteger(this.lowWaterMark) || this.lowWaterMark < 0 || this.lowWaterMark > this.highWaterMark) {
      throw new InvalidOptionError("lowWaterMark", `must be an integer in [0, highWaterMark], got ${this.lowWaterMark}`);
    }
    this.maxWriteBufferSize = writeBufferPolicy({ maxWriteBufferSize: options.maxWriteBufferSize ?? DEFAULT_MAX_WRITE_BUFFER_SIZE }, this.highWaterMark).maxWriteBufferSize;
    this.pauseReadsWhenFull = options.pauseReadsWhenFull ?? false;
  }

  /** True when bytes for this side may be delivered: its protocol reads, and it does not hold reading. */
  get reading(): boolean {
    return !this.readingPaused && !this.readsHeld;
  }

  /** Joins two transports as the two ends of one connection. */
  static link(a: MemoryTransport, b: MemoryTransport): void {
    a.peer = b;
    b.peer = a;
  }

  /**
   * Attaches `protocol` to this side (`protocol.makeConnection(this)`).
   *
   * @returns the protocol.
   */
  attach<P extends Protocol>(protocol: P): P {
    this.protocol = protocol;
    protocol.makeConnection(this);
    return protocol;
  }

  // -------------------------------------------------------------------------------------------
  // Transport

  get writeBufferSize(): number {
    return this.outgoing.length;
  }

  write(data: Uint8Array | string): void {
    if (this.closeRequested || this.writeClosed || this.aborted || this.lost) {
      this.writesAfterClose++;
      this.onWriteRefused?.(toBytes(data));
      return;
    }
    const bytes = toBytes(data);
    if (bytes.length === 0) return;
    this.outgoing.push(bytes);
    if (this.outgoing.length > this.highWaterMark) this.bufferFull();
    this.onActivity?.();
  }

  writeSequence(data: Iterable<Uint8Array | string>): void {
    const pieces = Array.from(data, toBytes);
    const total = pieces.reduce((n, p) => n + p.length, 0);
    const joined = new Uint8Array(total);
    let at = 0;
    for (const p of pieces) {
      joined.set(p, at);
      at += p.length;
    }
    this.write(joined);
  }

  loseConnection(): void {
    if (this.closeRequested || this.aborted || this.lost) return;
    this.closeRequested = true;
    this.disconnecting = true;
    this.onActivity?.();
  }

  abortConnection(): void {
    if (this.aborted || this.lost) return;
    this.aborted = true;
    this.disconnecting = true;
    this.outgoing.clear();
    this.onActivity?.();
  }

  loseWriteConnection(): void {
    if (this.writeClosed || this.closeRequested || this.aborted || this.lost) return;
    this.writeClosed = true;
    this.onActivity?.();
  }

  /** The remote address; it stays available after the connection is lost. */
  getPeer(): Address {
    return this.peerAddress;
  }

  /** The local address; it stays available after the connection is lost. */
  getHost(): Address {
    return this.host;
  }

  setTcpNoDelay(enabled: boolean): void {
    this.tcpNoDelay = enabled;
  }

  /**
   * Attaches a producer. A pull producer is asked for its first piece at once; a push
   * producer is paused at once if the buffer is already past the high-water mark.
   *
   * @throws ProducerRegisteredError (`WL_ERR_PRODUCER_REGISTERED`) when one is registered.
   */
  registerProducer(producer: Producer, streaming: boolean): void {
    if (this.producer !== null) throw new ProducerRegisteredError();
    if (this.lost) {
      producer.stopProducing();
      return;
    }
    this.producer = producer;
    this.streaming = streaming;
    this.producerPaused = false;
    if (!streaming) {
      producer.resumeProducing();
    } else if (this.outgoing.length > this.highWaterMark) {
      this.producerPaused = true;
      (producer as PushProducer).pauseProducing();
    }
  }

  unregisterProducer(): void {
    this.producer = null;
    this.streaming = false;
    this.producerPaused = false;
  }

  /** Stops reading: bytes for this side stay in flight, and the sender's buffer fills. */
  pauseProducing(): void {
    this.readingPaused = true;
  }

  /** Reads again (unless this side holds reading until its own write buffer drains). */
  resumeProducing(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    if (!this.readsHeld) this.onActivity?.();
  }

  /** Closes the connection, as a real transport does when told to stop producing. */
  stopProducing(): void {
    this.loseConnection();
  }

  /**
   * The reactor's shutdown closes this side at once, as `NodeReactor` destroys a socket: its
   * protocol gets `connectionLost(reason)` now, bytes not yet delivered are dropped, and the
   * peer reads the end of the stream (then `ConnectionDone`) when the FIN a driver delivers
   * reaches it.
   */
  forceClose(reason: Error): void {
    if (this.lost) return;
    this.outgoing.clear();
    this.closeRequested = true;
    this.forcedClosed = !this.aborted && !this.finSent;
    this.finish(reason);
    this.onActivity?.();
  }

  // -------------------------------------------------------------------------------------------
  // Delivery steps, for drivers

  /** @returns true when `sendData` can move bytes now: some are queued and the peer reads. */
  canSendData(): boolean {
    const peer = this.peer;
    return this.outgoing.length > 0 && !this.lost && peer !== null && !peer.lost && peer.reading;
  }

  /**
   * Moves the first `n` queued bytes to the peer's `dataReceived`, then resumes this side's
   * producer if the buffer drained to the low-water mark.
   *
   * @param n - bytes to deliver, from 1 to `outgoing.length`.
   * @returns the bytes delivered.
   */
  sendData(n: number): Uint8Array {
    const peer = this.peer;
    if (!this.canSendData() || peer === null) throw new Error("sendData() when no data can move");
    const chunk = this.outgoing.take(n);
    peer.protocol?.dataReceived(chunk);
    this.drained();
    return chunk;
  }

  /** @returns true when this side's FIN is due: its close was asked and its bytes are all sent. */
  canSendFin(): boolean {
    const peer = this.peer;
    return (
      (this.closeRequested || this.writeClosed) &&
      !this.finSent &&
      !this.aborted &&
      (!this.lost || this.forcedClosed) &&
      this.outgoing.length === 0 &&
      peer !== null &&
      peer.reading
    );
  }

  /**
   * Delivers this side's FIN. After `loseConnection` the peer's protocol reads EOF
   * (`readConnectionLost()`, if it defines it), then both sides are closed with
   * `ConnectionDone` (bytes the peer still had in flight are dropped, as the socket is gone).
   * After `loseWriteConnection` the peer gets `readConnectionLost()` if its protocol defines
   * it, or closes its own side otherwise; when both halves are closed, both sides are lost.
   */
  sendFin(): void {
    const peer = this.peer;
    if (!this.canSendFin() || peer === null) throw new Error("sendFin() when no FIN is due");
    this.finSent = true;
    peer.finReceived = true;
    if (this.closeRequested) {
      // The peer reads EOF first, as on a real socket, then the connection is over.
      if (!peer.lost) peer.protocol?.readConnectionLost?.();
      this.finish(new ConnectionDone());
      peer.finish(new ConnectionDone());
      return;
    }
    this.protocol?.writeConnectionLost?.();
    const receiver = peer.protocol;
    const halfCloseable = receiver?.readConnectionLost !== undefined;
    if (halfCloseable) receiver?.readConnectionLost?.();
    if (peer.finSent) {
      // Both halves are closed now: the connection is over for both sides.
      this.finish(new ConnectionDone());
      peer.finish(new ConnectionDone());
    } else if (!halfCloseable) {
      peer.loseConnection();
    }
  }

  /** @returns true when this side aborted and the reset has not been delivered yet. */
  canSendReset(): boolean {
    return this.aborted && !this.lost;
  }

  /**
   * Delivers this side's reset: it is lost with `ConnectionAborted` (or its `abortReason`),
   * and the peer, whose unsent bytes are discarded, with `ConnectionResetError` (or
   * `ConnectionAborted` if it aborted too).
   */
  sendReset(): void {
    if (!this.canSendReset()) throw new Error("sendReset() when no reset is due");
    this.finish(this.abortReason ?? new ConnectionAborted());
    const peer = this.peer;
    if (peer !== null) peer.finish(peer.aborted ? new ConnectionAborted() : new ConnectionResetError());
  }

  /** @returns true when a driver has any step to take on this side. */
  hasPendingStep(): boolean {
    return this.canSendReset() || this.canSendData() || this.canSendFin();
  }

  /**
   * Delivers `connectionLost(reason)` once: discards unsent bytes, stops the producer, then
   * tells the protocol and the `onConnectionLost` hook. Drivers call this for faults too.
   */
  finish(reason: Error): void {
    if (this.lost) return;
    this.lost = true;
    this.lostReason = reason;
    this.disconnecting = true;
    this.outgoing.clear();
    const producer = this.producer;
    this.producer = null;
    this.producerPaused = false;
    producer?.stopProducing();
    const protocol = this.protocol;
    if (protocol !== null) {
      protocol.connected = false;
      protocol.connectionLost(reason);
    }
    this.onConnectionLost?.(reason);
  }

  /** Bytes in flight passed the high-water mark. */
  private bufferFull(): void {
    if (this.outgoing.length > this.maxWriteBufferSize) {
      this.abortReason ??= new WriteBufferOverflowError(this.outgoing.length, this.maxWriteBufferSize);
      this.abortConnection();
    } else if (this.producer === null) {
      if (this.pauseReadsWhenFull) this.readsHeld = true;
    } else if (this.streaming && !this.producerPaused) {
      this.producerPaused = true;
      (this.producer as PushProducer).pauseProducing();
    }
  }

  private drained(): void {
    if (this.lost || this.outgoing.length > this.lowWaterMark) return;
    if (this.readsHeld) {
      this.readsHeld = false;
      if (!this.readingPaused) this.onActivity?.();
    }
    const producer = this.producer;
    if (producer === null) return;
    if (!this.streaming) {
      producer.resumeProducing();
    } else if (this.producerPaused) {
      this.producerPaused = false;
      producer.resumeProducing();
    }
  }
}

/**
 * How both sides of an in-memory connection bound their write buffers: the options of
 * `NodeReactor` (see `runtime/write-buffer.ts`), plus the fakes' `lowWaterMark`.
 */
export interface PairBufferOptions extends WriteBufferOptions {
  /**
   * See {@link MemoryTransportOptions.lowWaterMark}.
   * @defaultValue {@link DEFAULT_LOW_WATER_MARK} (0)
   */
  lowWaterMark?: number;
}

/**
 * Makes the two linked transports of one in-memory connection, each with the limits of its
 * side: `server` is the accepted one.
 *
 * @param serverAddress - the server side's address.
 * @param clientAddress - the client side's address.
 * @param options - see {@link PairBufferOptions}.
 * @returns both transports, linked, no protocol attached yet.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for an option out of bounds.
 */
export function linkedTransports(serverAddress: Address, clientAddress: Address, options: PairBufferOptions = {}): { server: MemoryTransport; client: MemoryTransport } {
  const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  const policy = writeBufferPolicy(options, highWaterMark);
  const side = (accepted: boolean): MemoryTransportOptions => {
    const limits = transportWriteLimits(policy, accepted);
    return {
      highWaterMark,
      lowWaterMark: options.lowWaterMark ?? DEFAULT_LOW_WATER_MARK,
      maxWriteBufferSize: limits.maxWriteBufferSize,
      pauseReadsWhenFull: limits.pauseReadsWhenFull,
    };
  };
  const server = new MemoryTransport(serverAddress, clientAddress, side(true));
  const client = new MemoryTransport(clientAddress, serverAddress, side(false));
  MemoryTransport.link(server, client);
  return { server, client };
}

/** Options for {@link connectPair}. */
export interface ConnectPairOptions extends PairBufferOptions {
  /**
   * How the byte stream is cut into reads, in both directions.
   * @defaultValue {@link wholeWrites}()
   */
  chunking?: ChunkingPolicy;
  /**
   * The server side's address: its `getHost()` and the client's `getPeer()`.
   * @defaultValue {@link DEFAULT_SERVER_ADDRESS}
   */
  serverAddress?: Address;
  /**
   * The client side's address.
   * @defaultValue {@link DEFAULT_CLIENT_ADDRESS}
   */
  clientAddress?: Address;
  /**
   * Most rounds one `flush()` runs before throwing `ReactorStalledError`.
   * @defaultValue {@link DEFAULT_PUMP_MAX_STEPS}
   */
  maxSteps?: number;
}

/**
 * Moves bytes and closes between the two sides of an in-memory pair, only when asked.
 *
 * One round takes at most one step per direction, client to server first: a pending reset,
 * else one read of queued bytes (sized by the chunking policy), else a due FIN.
 */
export class Pump {
  private readonly maxSteps: number;

  /**
   * @param server - the server side's transport.
   * @param client - the client side's transport.
   * @param chunking - the policy that sizes reads.
   * @param maxSteps - the bound on rounds per `flush()`.
   */
  /** The policy that sizes reads: a fresh copy of the one given, if it has state (see `ChunkingPolicy.fresh`). */
  readonly chunking: ChunkingPolicy;

  constructor(
    readonly server: MemoryTransport,
    readonly client: MemoryTransport,
    chunking: ChunkingPolicy = wholeWrites(),
    maxSteps: number = DEFAULT_PUMP_MAX_STEPS,
  ) {
    if (!Number.isInteger(maxSteps) || maxSteps < 1) throw new InvalidOptionError("maxSteps", `must be a positive integer, got ${maxSteps}`);
    this.maxSteps = maxSteps;
    this.chunking = chunking.fresh?.() ?? chunking;
  }

  /** True when nothing can move: every byte delivered (or blocked by a paused reader). */
  get idle(): boolean {
    return !this.client.hasPendingStep() && !this.server.hasPendingStep();
  }

  /**
   * Runs one round. The protocols' code runs under the active nondeterminism guard, if any.
   *
   * @returns true when anything moved.
   */
  pump(): boolean {
    return runAsTestedCode(() => this.round());
  }

  /**
   * Runs rounds until nothing moves.
   *
   * @returns how many rounds moved something.
   * @throws ReactorStalledError (`WL_ERR_REACTOR_STALLED`) after `maxSteps` rounds that all
   *   moved something: the two sides keep each other busy without end.
   */
  flush(): number {
    return runAsTestedCode(() => {
      let rounds = 0;
      while (this.round()) {
        if (++rounds >= this.maxSteps && !this.idle) {
          throw new ReactorStalledError(rounds, "in-memory pump still has bytes to move");
        }
      }
      return rounds;
    });
  }

  /**
   * Runs rounds until nothing moves, letting microtasks run whenever the bytes stop, so
   * async/await code on either side (a continuation that writes, reads on or closes) runs too:
   * it returns once both sides wait on something the pump cannot give. What a test of async
   * code over `connectPair` awaits instead of a hand-written flush loop.
   *
   * @returns how many rounds moved something.
   * @throws ReactorStalledError (`WL_ERR_REACTOR_STALLED`) when the sides keep each other busy
   *   past `maxSteps` rounds, or past `maxSteps` turns of async code.
   */
  async flushAsync(): Promise<number> {
    let rounds = 0;
    for (let turns = 0; ; turns++) {
      await drainMicrotasks();
      if (this.idle) return rounds;
      if (turns >= this.maxSteps || rounds >= this.maxSteps) {
        throw new ReactorStalledError(rounds, `in-memory pump still has bytes to move after ${turns} turns of async code`);
      }
      rounds += this.flush();
    }
  }

  private round(): boolean {
    const a = this.step(this.client);
    const b = this.step(this.server);
    return a || b;
  }

  private step(side: MemoryTransport): boolean {
    if (side.canSendReset()) {
      side.sendReset();
    } else if (side.canSendData()) {
      side.sendData(this.chunking.nextReadSize(side.outgoing));
    } else if (side.canSendFin()) {
      side.sendFin();
    } else {
      return false;
    }
    return true;
  }
}

/**
 * Joins two protocols through in-memory transports: the server's `connectionMade` runs, then
 * the client's. Nothing is delivered until the returned Pump is pumped.
 *
 * @param serverProtocol - the accepting side.
 * @param clientProtocol - the connecting side.
 * @param options - see {@link ConnectPairOptions}.
 * @returns the Pump, which also holds both transports.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for an option out of bounds.
 *
 * @example
 * ```ts
 * const pump = connectPair(new EchoServer(), client, { chunking: byteByByte() });
 * client.transport.write("hello");
 * pump.flush(); // the echo is back in the client
 * ```
 */
export function connectPair(serverProtocol: Protocol, clientProtocol: Protocol, options: ConnectPairOptions = {}): Pump {
  const { server, client } = linkedTransports(options.serverAddress ?? DEFAULT_SERVER_ADDRESS, options.clientAddress ?? DEFAULT_CLIENT_ADDRESS, options);
  const pump = new Pump(server, client, options.chunking ?? wholeWrites(), options.maxSteps ?? DEFAULT_PUMP_MAX_STEPS);
  runAsTestedCode(() => {
    server.attach(serverProtocol);
    client.attach(clientProtocol);
  });
  return pump;
}
