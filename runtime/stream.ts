/**
 * The async/await face of wirelab, in the spirit of Tornado's `IOStream`: a `Connection` you
 * `await` (`readLine`, `readUntil`, `readExactly`, `readSome`, `for await`), built as an
 * ordinary `Protocol` (`StreamProtocol`), so it runs on any reactor and any transport, fakes
 * included.
 *
 * Reads: one read may be pending at a time. Bytes that arrive with no read pending wait in a
 * buffer (a list of the received chunks and an offset: no concatenation); once it holds
 * `readHighWaterMark` bytes the transport is paused, and resumed when a read needs more, so
 * the buffer never grows without bound. A line or delimited read that would return more than
 * its `max` fails with `ReadLimitExceededError` and closes the connection. Data received
 * before the connection closed can still be read; a read the remaining bytes cannot satisfy
 * fails with `StreamClosedError`, whose `partial` holds them.
 *
 * Writes: `write` hands the bytes to the transport at once and returns a promise that resolves
 * when the transport's buffer is below its high-water mark. The connection is the transport's
 * push producer, so it learns of that without polling; below the mark it returns one shared,
 * already resolved promise.
 *
 * Results are views of the received bytes whenever they lie in one chunk (no copy); they stay
 * valid, since transports hand over their chunks for good.
 *
 * @example
 * ```ts
 * await serve(reactor, "tcp:8080:interface=127.0.0.1", async (conn) => {
 *   for await (const line of conn.lines()) {
 *     await conn.write(line);
 *     await conn.write("\r\n");
 *   }
 * });
 * const client = await dial(reactor, "tcp:127.0.0.1:8080");
 * await client.write("hello\r\n");
 * console.log(new TextDecoder().decode(await client.readLine())); // "hello"
 * ```
 *
 * @module
 */

import type { Deferred } from "./deferred.js";
import type { ClientEndpoint, ServerEndpoint } from "./endpoints.js";
import {
  ConnectionDone,
  InvalidOptionError,
  ReadLimitExceededError,
  ReadPendingError,
  StreamClosedError,
} from "./errors.js";
import { Factory, Protocol } from "./protocol.js";
import type { PushProducer, Transport } from "./protocol.js";
import type { ListeningPort, Reactor } from "./reactor.js";

/** Bytes buffered unread past which the transport is paused: 64 KiB. */
export const DEFAULT_READ_HIGH_WATER_MARK = 64 * 1024;
/** The default `max` of `readLine` and `readUntil`: 64 KiB. */
export const DEFAULT_MAX_READ_SIZE = 64 * 1024;

/** Options for a {@link Connection}. */
export interface ConnectionOptions {
  /**
   * Unread bytes past which the transport is paused (it resumes as soon as a read needs more).
   * The buffer holds at most this plus one chunk, or what the pending read needs.
   * @defaultValue {@link DEFAULT_READ_HIGH_WATER_MARK} (64 KiB)
   */
  readHighWaterMark?: number;
  /**
   * The `max` of `readLine`, `readUntil` and `lines()` when none is given.
   * @defaultValue {@link DEFAULT_MAX_READ_SIZE} (64 KiB)
   */
  maxReadSize?: number;
}

// The kinds of pending read; plain numbers keep the hot path free of lookups.
const NONE = 0;
const SOME = 1;
const EXACTLY = 2;
const UNTIL = 3;
const LINE = 4;

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);
const RESOLVED: Promise<void> = Promise.resolve();
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const encoder = new TextEncoder();
// Shared by every connection until its first buffered chunk: never pushed to.
const NO_CHUNKS: Uint8Array[] = [];

// Connection state, as bits of one small integer (a field per flag costs every connection a word).
/** The pending read is an iterator step: it settles with an IteratorResult. */
const READ_ITER = 1;
/** This connection paused the transport (unread bytes reached the high-water mark). */
const READ_PAUSED = 2;
/** No more writes: `close()`, `abort()`, `closeWrite()` or the connection was lost. */
const WRITE_CLOSED = 4;
/** The transport's write buffer is past its high-water mark. */
const WRITE_PAUSED = 8;
/** `connectionLost` has been seen. */
const LOST = 16;

function ignore(): void {}

/** A promise with its settling functions, made only when someone waits (a drain, `closed`). */
interface Pending {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

function pending(): Pending {
  let resolve: () => void = ignore;
  let reject: (error: unknown) => void = ignore;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A thenable that rejects with `error` whatever adopts it: a pending read keeps only its
 * promise's resolve function (one store per read instead of two), and fails by resolving with
 * this.
 */
function rejecting(error: unknown): PromiseLike<never> {
  return {
    then(_onFulfilled, onRejected) {
      onRejected?.(error);
      return this;
    },
  };
}

// The encoding of the last string delimiter given to `readUntil` (by any connection): a
// protocol reads with the same delimiter again and again. The bytes are only ever read.
let lastDelimString = "";
let lastDelimBytes: Uint8Array = EMPTY;

/**
 * One connection you can `await`. Get one from {@link serve}, {@link dial}, or a
 * {@link StreamProtocol} attached to any transport.
 */
export class Connection implements AsyncIterable<Uint8Array> {
  /** The transport underneath; the connection is registered on it as its push producer. */
  readonly transport: Transport;
  /** Why the connection closed (`ConnectionDone` when cleanly), once it has. */
  closeReason: Error | null = null;

  private readonly readHighWaterMark: number;
  private readonly maxReadSize: number;

  // The unread bytes: chunks[head..] with `offset` bytes of chunks[head] already consumed.
  private chunks: Uint8Array[] = NO_CHUNKS;
  private head = 0;
  private offset = 0;
  private buffered = 0;
  // Where a pending delimited read resumes its search, so no byte is scanned twice.
  private scanFrom = 0;

  // The one pending read (its iterator flag is READ_ITER).
  private readKind = NONE;
  private readSize = 0;
  private readDelim: Uint8Array = EMPTY;
  private readResolve: ((value: unknown) => void) | null = null;
  // Stores the pending read's resolve function: one bound function per connection, no closure.
  private readonly captureRead: (resolve: (value: unknown) => void) => void;

  // Set once no more bytes will arrive: the reason (ConnectionDone when clean).
  private readEnd: Error | null = null;
  private flags = 0;
  private drain: Pending | null = null;
  private closedWaiter: Pending | null = null;

  /**
   * @param transport - the connected transport.
   * @param options - buffer and read limits.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming an option that is not a
   *   positive integer.
   */
  constructor(transport: Transport, options: ConnectionOptions = {}) {
    this.transport = transport;
    this.readHighWaterMark = positive("readHighWaterMark", options.readHighWaterMark ?? DEFAULT_READ_HIGH_WATER_MARK);
    this.maxReadSize = positive("maxReadSize", options.maxReadSize ?? DEFAULT_MAX_READ_SIZE);
    this.captureRead = this.setReadResolve.bind(this);
  }

  /**
   * Resolves once the connection is closed, whatever the reason; it never rejects. (Made on
   * first use: a connection nobody waits on holds no promise for it.)
   */
  get closed(): Promise<void> {
    if (this.closedWaiter !== null) return this.closedWaiter.promise;
    if ((this.flags & LOST) !== 0) return RESOLVED;
    this.closedWaiter = pending();
    return this.closedWaiter.promise;
  }

  /** Bytes received and not yet read. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  // --- reads ------------------------------------------------------------------------------

  /**
   * Reads one line, ended by `"\n"` or `"\r\n"`, and returns it without the line ending.
   *
   * @param max - the longest line accepted, in bytes, line ending excluded.
   * @defaultValue max the `maxReadSize` option (64 KiB)
   * @returns the line.
   * @throws (rejects) ReadLimitExceededError (`WL_ERR_READ_LIMIT`) when the line is longer
   *   than `max` (the connection is closed); StreamClosedError (`WL_ERR_STREAM_CLOSED`) when
   *   the stream ends first, with the unterminated bytes in `partial`; ReadPendingError
   *   (`WL_ERR_READ_PENDING`) when another read is pending.
   */
  readLine(max: number = this.maxReadSize): Promise<Uint8Array> {
    return this.startRead(LINE, max, EMPTY, false) as Promise<Uint8Array>;
  }

  /**
   * Reads up to and including the first occurrence of `delimiter`, as Tornado's
   * `read_until`.
   *
   * @param delimiter - the bytes to stop after (a string is UTF-8); not empty.
   * @param max - the longest result accepted, in bytes, delimiter included.
   * @defaultValue max the `maxReadSize` option (64 KiB)
   * @returns the bytes, ending with the delimiter.
   * @throws (rejects) ReadLimitExceededError (`WL_ERR_READ_LIMIT`) when the delimiter is not
   *   within `max` bytes (the connection is closed); StreamClosedError
   *   (`WL_ERR_STREAM_CLOSED`) when the stream ends first; ReadPendingError
   *   (`WL_ERR_READ_PENDING`); InvalidOptionError (`WL_ERR_INVALID_OPTION`) for an empty
   *   delimiter.
   */
  readUntil(delimiter: Uint8Array | string, max: number = this.maxReadSize): Promise<Uint8Array> {
    let delim: Uint8Array;
    if (typeof delimiter === "string") {
      if (delimiter !== lastDelimString) {
        lastDelimBytes = encoder.encode(delimiter);
        lastDelimString = delimiter;
      }
      delim = lastDelimBytes;
    } else {
      delim = delimiter;
    }
    if (delim.length === 0) return Promise.reject(new InvalidOptionError("delimiter", "must not be empty"));
    return this.startRead(UNTIL, max, delim, false) as Promise<Uint8Array>;
  }

  /**
   * Reads exactly `n` bytes.
   *
   * @param n - how many bytes, an integer of 0 or more.
   * @returns the bytes.
   * @throws (rejects) StreamClosedError (`WL_ERR_STREAM_CLOSED`) when the stream ends first,
   *   with what there was in `partial`; ReadPendingError (`WL_ERR_READ_PENDING`);
   *   InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad `n`.
   */
  readExactly(n: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(n) || n < 0) return Promise.reject(new InvalidOptionError("n", `must be an integer >= 0, got ${n}`));
    return this.startRead(EXACTLY, n, EMPTY, false) as Promise<Uint8Array>;
  }

  /**
   * Reads whatever bytes are available, waiting for some when there are none: at most `max`,
   * and never more than one received chunk, so it never copies.
   *
   * @param max - the most bytes to return, at least 1.
   * @defaultValue max Infinity
   * @returns at least one byte.
   * @throws (rejects) StreamClosedError (`WL_ERR_STREAM_CLOSED`) when the stream has ended
   *   and nothing is left; ReadPendingError (`WL_ERR_READ_PENDING`).
   */
  readSome(max = Infinity): Promise<Uint8Array> {
    if (!(max >= 1)) return Promise.reject(new InvalidOptionError("max", `must be at least 1, got ${max}`));
    return this.startRead(SOME, max, EMPTY, false) as Promise<Uint8Array>;
  }

  /**
   * Iterates over the received chunks (`readSome()` until the end). The loop ends when the
   * stream ends cleanly (the peer closed, or `close()`), and throws StreamClosedError when it
   * was lost otherwise. Breaking out of the loop leaves the connection open.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return new ReadIterator(this, SOME, Infinity);
  }

  /**
   * Iterates over the lines (as `readLine(max)`, without line endings). At a clean end, an
   * unterminated last line is still yielded, as in Node's `readline`. Breaking out of the loop
   * leaves the connection open.
   *
   * @param max - the longest line accepted, as in `readLine`.
   * @defaultValue max the `maxReadSize` option (64 KiB)
   */
  lines(max: number = this.maxReadSize): AsyncIterableIterator<Uint8Array> {
    return new ReadIterator(this, LINE, max);
  }

  // --- writes and closing -----------------------------------------------------------------

  /**
   * Sends bytes (a string is UTF-8).
   *
   * @returns a promise that resolves once the transport's buffer is below its high-water mark
   *   (at once, as a shared resolved promise, when it already is).
   * @throws (rejects) StreamClosedError (`WL_ERR_STREAM_CLOSED`) when the stream is closed
   *   for writing, or closes while the write waits for the buffer to drain.
   */
  write(data: Uint8Array | string): Promise<void> {
    if ((this.flags & WRITE_CLOSED) !== 0) return Promise.reject(new StreamClosedError("cannot write: the stream is closed"));
    this.transport.write(data);
    if ((this.flags & WRITE_PAUSED) === 0) return RESOLVED;
    return (this.drain ?? this.makeDrain()).promise;
  }

  /**
   * Closes the connection once queued bytes are sent. Reading ends at once: unread bytes are
   * discarded, a pending read fails with StreamClosedError (a `for await` loop just ends).
   *
   * @returns the `closed` promise.
   */
  close(): Promise<void> {
    this.shutdown(false);
    return this.closed;
  }

  /** Closes the connection at once, discarding queued bytes; reading ends as with `close()`. */
  abort(): Promise<void> {
    this.shutdown(true);
    return this.closed;
  }

  /** Half-closes: sends FIN after queued bytes; reading goes on until the peer closes. */
  closeWrite(): void {
    if ((this.flags & WRITE_CLOSED) !== 0) return;
    this.flags |= WRITE_CLOSED;
    this.transport.loseWriteConnection();
  }

  // --- what StreamProtocol tells the connection -------------------------------------------

  /** @internal Bytes arrived. */
  handleData(data: Uint8Array): void {
    const n = data.length;
    if (n === 0 || this.readEnd !== null) return;
    // The common case of a waiting readSome: hand the chunk over without buffering it.
    if (this.readKind === SOME && this.buffered === 0 && n <= this.readSize) {
      this.complete(data);
      this.updateFlow();
      return;
    }
    if (this.chunks === NO_CHUNKS) this.chunks = [data];
    else this.chunks.push(data);
    this.buffered += n;
    if (this.readKind !== NONE) this.pump();
    else if ((this.flags & READ_PAUSED) === 0 && this.buffered >= this.readHighWaterMark) this.pauseReading();
  }

  /** @internal The peer half-closed: no more bytes will come. */
  handleReadEnd(): void {
    if (this.readEnd !== null) return;
    this.readEnd = new ConnectionDone();
    this.flags &= ~READ_PAUSED;
    this.pump();
  }

  /** @internal The connection is closed. */
  handleLost(reason: Error): void {
    if ((this.flags & LOST) !== 0) return;
    this.flags = (this.flags | LOST | WRITE_CLOSED) & ~READ_PAUSED;
    this.closeReason = reason;
    if (this.readEnd === null) this.readEnd = reason;
    const drain = this.drain;
    this.drain = null;
    drain?.reject(new StreamClosedError("the stream closed before its write buffer drained", { cause: reason }));
    this.pump();
    this.closedWaiter?.resolve();
  }

  /** @internal The transport's buffer passed its high-water mark. */
  handleWritePause(): void {
    this.flags |= WRITE_PAUSED;
  }

  /** @internal The transport's buffer drained below its high-water mark. */
  handleWriteResume(): void {
    this.flags &= ~WRITE_PAUSED;
    const drain = this.drain;
    this.drain = null;
    drain?.resolve();
  }

  /** @internal Starts a read (or an iterator step). */
  startRead(kind: number, size: number, delim: Uint8Array, iter: boolean): Promise<unknown> {
    if (this.readKind !== NONE) return Promise.reject(new ReadPendingError());
    if (kind !== EXACTLY && !(size >= 0)) return Promise.reject(new InvalidOptionError("max", `must be a number >= 0, got ${size}`));
    this.readKind = kind;
    this.readSize = size;
    this.readDelim = delim;
    if (iter) this.flags |= READ_ITER;
    else this.flags &= ~READ_ITER;
    this.scanFrom = 0;
    const promise = new Promise<unknown>(this.captureRead);
    // The common case of `for await`: nothing is buffered, the read waits for the next chunk.
    if (kind !== SOME || this.buffered !== 0 || this.readEnd !== null) this.pump();
    else if ((this.flags & READ_PAUSED) !== 0) this.updateFlow();
    return promise;
  }

  // --- internals --------------------------------------------------------------------------

  /** Settles the pending read if the buffer (or the end of the stream) allows. */
  private pump(): void {
    const kind = this.readKind;
    if (kind === NONE) return;
    const size = this.readSize;
    let value: Uint8Array | null = null;
    switch (kind) {
      case SOME:
        if (this.buffered > 0) value = this.take(Math.min(this.chunks[this.head]!.length - this.offset, size));
        break;
      case EXACTLY:
        if (this.buffered >= size) value = this.take(size);
        break;
      case UNTIL: {
        const delim = this.readDelim;
        const at = this.find(delim);
        if (at >= 0) {
          if (at + delim.length > size) return this.failLimit(size);
          value = this.take(at + delim.length);
        } else if (this.buffered >= size) {
          return this.failLimit(size);
        }
        break;
      }
      case LINE: {
        const at = this.find(null);
        if (at >= 0) {
          const length = at > 0 && this.byteAt(at - 1) === CR ? at - 1 : at;
          if (length > size) return this.failLimit(size);
          value = this.take(at + 1, length);
        } else if (this.buffered >= size + 2) {
          // Even a "\r" as the last byte leaves a line of size + 1 bytes.
          return this.failLimit(size);
        }
        break;
      }
    }
    if (value !== null) {
      this.complete(value);
      this.updateFlow();
      return;
    }
    const end = this.readEnd;
    if (end === null) {
      this.updateFlow();
      return;
    }
    // The stream has ended and this read cannot be satisfied.
    const partial = this.takeAll();
    const clean = end instanceof ConnectionDone;
    if ((this.flags & READ_ITER) !== 0 && clean) {
      if (kind === LINE && partial.length > size) {
        this.fail(new ReadLimitExceededError(size));
      } else if (kind === LINE && partial.length > 0) {
        this.complete(partial);
      } else {
        this.finish(DONE);
      }
      return;
    }
    this.fail(new StreamClosedError(clean ? "the stream ended before the read was satisfied" : `the stream was lost: ${end.message}`, { cause: end, partial }));
  }

  private setReadResolve(resolve: (value: unknown) => void): void {
    this.readResolve = resolve;
  }

  private complete(value: Uint8Array): void {
    this.finish((this.flags & READ_ITER) !== 0 ? { done: false, value } : value);
  }

  private finish(result: unknown): void {
    const resolve = this.readResolve!;
    this.clearRead();
    resolve(result);
  }

  private fail(error: Error): void {
    this.finish(rejecting(error));
  }

  private clearRead(): void {
    this.readKind = NONE;
    this.readResolve = null;
    this.readDelim = EMPTY;
  }

  private failLimit(limit: number): void {
    const error = new ReadLimitExceededError(limit);
    this.fail(error);
    this.readEnd = error;
    this.takeAll();
    this.closeTransport(false);
  }

  private shutdown(abort: boolean): void {
    this.flags |= WRITE_CLOSED;
    if (this.readEnd === null) {
      this.readEnd = new ConnectionDone("the stream was closed locally");
      this.takeAll();
      this.pump();
    }
    this.closeTransport(abort);
  }

  private closeTransport(abort: boolean): void {
    if ((this.flags & LOST) !== 0) return;
    // A paused transport might never read the peer's FIN, and so never finish closing.
    if ((this.flags & READ_PAUSED) !== 0) {
      this.flags &= ~READ_PAUSED;
      this.transport.resumeProducing();
    }
    if (abort) this.transport.abortConnection();
    else this.transport.loseConnection();
  }

  /** Pauses the transport while unread bytes pile up, and resumes it when a read needs more. */
  private updateFlow(): void {
    if (this.readEnd !== null) return;
    if (this.readKind === NONE && this.buffered >= this.readHighWaterMark) {
      if ((this.flags & READ_PAUSED) === 0) this.pauseReading();
    } else if ((this.flags & READ_PAUSED) !== 0) {
      this.flags &= ~READ_PAUSED;
      this.transport.resumeProducing();
    }
  }

  private pauseReading(): void {
    this.flags |= READ_PAUSED;
    this.transport.pauseProducing();
  }

  private makeDrain(): Pending {
    const drain = pending();
    // Nobody may be awaiting the write that found the buffer full; its failure is no crash.
    drain.promise.catch(ignore);
    this.drain = drain;
    return drain;
  }

  /**
   * Removes the first `n` unread bytes and returns the first `keep` of them (a line without
   * its ending): a view when they lie in one chunk, a copy otherwise.
   */
  private take(n: number, keep = n): Uint8Array {
    if (n === 0) return EMPTY;
    this.buffered -= n;
    this.scanFrom = 0;
    const first = this.chunks[this.head]!;
    const start = this.offset;
    const available = first.length - start;
    if (available >= n) {
      if (available === n) this.dropHead();
      else this.offset = start + n;
      return start === 0 && keep === first.length ? first : first.subarray(start, start + keep);
    }
    const out = keep === 0 ? EMPTY : new Uint8Array(keep);
    let consumed = 0;
    while (consumed < n) {
      const chunk = this.chunks[this.head]!;
      const count = Math.min(chunk.length - this.offset, n - consumed);
      if (consumed < keep) out.set(chunk.subarray(this.offset, this.offset + Math.min(count, keep - consumed)), consumed);
      consumed += count;
      if (this.offset + count === chunk.length) this.dropHead();
      else this.offset += count;
    }
    return out;
  }

  private takeAll(): Uint8Array {
    return this.take(this.buffered);
  }

  private dropHead(): void {
    this.chunks[this.head] = EMPTY;
    this.head++;
    this.offset = 0;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= 1024) {
      this.chunks.splice(0, this.head);
      this.head = 0;
    }
  }

  /**
   * Finds the delimiter (`null`: a line feed) in the unread bytes, resuming where the last
   * search stopped.
   *
   * @returns its offset from the first unread byte, or -1.
   */
  private find(delim: Uint8Array | null): number {
    const first = delim === null ? LF : delim[0]!;
    const length = delim === null ? 1 : delim.length;
    let from = this.scanFrom;
    for (;;) {
      const at = this.indexOfByte(first, from);
      if (at < 0) break;
      if (length === 1) return at;
      if (at + length > this.buffered) {
        // Maybe the start of the delimiter, with the rest still to come.
        this.scanFrom = at;
        return -1;
      }
      if (this.matchAt(at, delim!)) return at;
      from = at + 1;
    }
    this.scanFrom = this.buffered;
    return -1;
  }

  private indexOfByte(byte: number, from: number): number {
    let base = 0;
    const chunks = this.chunks;
    for (let i = this.head; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      const start = i === this.head ? this.offset : 0;
      const length = chunk.length - start;
      if (from < base + length) {
        const j = chunk.indexOf(byte, start + (from > base ? from - base : 0));
        if (j >= 0) return base + j - start;
      }
      base += length;
    }
    return -1;
  }

  private matchAt(at: number, delim: Uint8Array): boolean {
    let i = this.head;
    let pos = this.offset + at;
    while (pos >= this.chunks[i]!.length) pos -= this.chunks[i++]!.length;
    let chunk = this.chunks[i]!;
    for (let k = 0; k < delim.length; k++) {
      if (pos === chunk.length) {
        chunk = this.chunks[++i]!;
        pos = 0;
      }
      if (chunk[pos++] !== delim[k]) return false;
    }
    return true;
  }

  private byteAt(at: number): number {
    let i = this.head;
    let pos = this.offset + at;
    while (pos >= this.chunks[i]!.length) pos -= this.chunks[i++]!.length;
    return this.chunks[i]![pos]!;
  }
}

/** The iterator of `for await (const chunk of conn)` and `conn.lines()`. */
class ReadIterator implements AsyncIterableIterator<Uint8Array> {
  constructor(
    private readonly conn: Connection,
    private readonly kind: number,
    private readonly max: number,
  ) {}

  next(): Promise<IteratorResult<Uint8Array>> {
    return this.conn.startRead(this.kind, this.max, EMPTY, true) as Promise<IteratorResult<Uint8Array>>;
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }
}

function positive(option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidOptionError(option, `must be an integer >= 1, got ${value}`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// The protocol underneath, and the entry points

/**
 * The `Protocol` that feeds a {@link Connection}: attach it to any transport, and its
 * `connection` is ready from `connectionMade` on. It registers itself as the transport's push
 * producer, which is how writes learn about backpressure (so the transport's producer slot is
 * taken). It half-closes: when the peer sends FIN, reads end and writes go on.
 */
export class StreamProtocol extends Protocol implements PushProducer {
  /** The connection, set in `connectionMade`. */
  connection!: Connection;

  /**
   * @param options - the connection's options.
   * @param onConnection - called with the connection once it is made.
   */
  constructor(
    private readonly options: ConnectionOptions = {},
    private readonly onConnection: ((conn: Connection) => void) | null = null,
  ) {
    super();
  }

  override connectionMade(): void {
    this.connection = new Connection(this.transport, this.options);
    this.transport.registerProducer(this, true);
    this.onConnection?.(this.connection);
  }

  override dataReceived(data: Uint8Array): void {
    this.connection.handleData(data);
  }

  override readConnectionLost(): void {
    this.connection.handleReadEnd();
  }

  override connectionLost(reason: Error): void {
    this.connection.handleLost(reason);
  }

  /** The transport's write buffer is full (this protocol is its own push producer). */
  pauseProducing(): void {
    this.connection.handleWritePause();
  }

  /** The transport's write buffer drained. */
  resumeProducing(): void {
    this.connection.handleWriteResume();
  }

  /** The transport is going away; `connectionLost` follows. */
  stopProducing(): void {}
}

/** What `serve` runs for each connection. */
export type ConnectionHandler = (conn: Connection) => Promise<void> | void;

/** Options for {@link serve} and {@link streamFactory}. */
export interface ServeOptions extends ConnectionOptions {
  /**
   * Told when a handler throws or rejects (its connection is then closed). The default
   * reports every error except `StreamClosedError` and `ReadLimitExceededError` (the peer
   * went away or misbehaved; the connection is already closed) to the reactor's
   * `reportError`.
   */
  onError?: (error: unknown, conn: Connection) => void;
}

/**
 * Builds the factory `serve` listens with: one `StreamProtocol` per connection, and `handler`
 * run on each. Use it to wrap the handler in policies (`withIdleTimeout`, `limitConnections`).
 *
 * The connection lives as long as the handler: when the handler's promise settles, the
 * connection is closed (after its queued bytes are sent). A handler that passes the connection
 * on should `await conn.closed`.
 *
 * @param reactor - the reactor whose `reportError` hears of handler errors.
 * @param handler - run for each connection.
 * @param options - the connections' options and the error reporter.
 * @returns the factory.
 */
export function streamFactory(
  reactor: Pick<Reactor, "reportError">,
  handler: ConnectionHandler,
  options: ServeOptions = {},
): Factory<StreamProtocol> {
  const onError = options.onError ?? ((error: unknown) => reportHandlerError(reactor, error));
  const onConnection = (conn: Connection): void => {
    runHandler(handler, conn, onError);
  };
  return Factory.forProtocol(() => new StreamProtocol(options, onConnection));
}

/**
 * Listens on `endpoint` and runs `handler` on each connection, async/await style.
 *
 * @param reactor - the reactor to listen on.
 * @param endpoint - where, such as `"tcp:8080:interface=127.0.0.1"`.
 * @param handler - run for each connection; the connection closes when it settles, and a
 *   rejection is reported (see {@link ServeOptions.onError}), never left unhandled.
 * @param options - the connections' options and the error reporter.
 * @returns a Deferred of the listening port.
 * @throws (through the Deferred) CannotListenError (`WL_ERR_CANNOT_LISTEN`) or
 *   InvalidEndpointError (`WL_ERR_INVALID_ENDPOINT`).
 *
 * @example
 * ```ts
 * const port = await serve(reactor, "tcp:0:interface=127.0.0.1", async (conn) => {
 *   for await (const chunk of conn) await conn.write(chunk);
 * });
 * ```
 */
export function serve(
  reactor: Reactor,
  endpoint: string | ServerEndpoint,
  handler: ConnectionHandler,
  options: ServeOptions = {},
): Deferred<ListeningPort> {
  return reactor.listen(endpoint, streamFactory(reactor, handler, options));
}

/**
 * Connects to `endpoint` and returns the connection, async/await style.
 *
 * The connection half-closes: when the server closes, reads end (StreamClosedError, or the
 * end of a `for await` loop) but the connection stays open for writing until `close()`, so
 * the caller closes it, as with any socket.
 *
 * @param reactor - the reactor to connect with.
 * @param endpoint - where, such as `"tcp:127.0.0.1:8080"`.
 * @param options - the connection's options.
 * @returns the connection, once connected.
 * @throws (rejects) ConnectionRefusedError (`WL_ERR_CONNECTION_REFUSED`), ConnectTimeoutError
 *   or another SocketError.
 */
export async function dial(reactor: Reactor, endpoint: string | ClientEndpoint, options: ConnectionOptions = {}): Promise<Connection> {
  const protocol = await reactor.connect(endpoint, Factory.forProtocol(() => new StreamProtocol(options)));
  return protocol.connection;
}

function runHandler(handler: ConnectionHandler, conn: Connection, onError: (error: unknown, conn: Connection) => void): void {
  let result: Promise<void> | void;
  try {
    result = handler(conn);
  } catch (error) {
    handlerFailed(error, conn, onError);
    return;
  }
  if (result === undefined) {
    void conn.close();
    return;
  }
  result.then(
    () => {
      void conn.close();
    },
    (error: unknown) => {
      handlerFailed(error, conn, onError);
    },
  );
}

function handlerFailed(error: unknown, conn: Connection, onError: (error: unknown, conn: Connection) => void): void {
  void conn.close();
  onError(error, conn);
}

function reportHandlerError(reactor: Pick<Reactor, "reportError">, error: unknown): void {
  if (error instanceof StreamClosedError || error instanceof ReadLimitExceededError) return;
  reactor.reportError("a connection handler", error);
}
