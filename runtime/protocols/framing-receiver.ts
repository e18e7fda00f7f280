/**
 * `FramingReceiver`: what every framing protocol (lines, netstrings, length-prefixed strings)
 * shares: a parser fed chunks that never throws out of `dataReceived`, stops for good at its
 * first error, honours `pauseProducing`, and stops delivering once the transport is closing.
 *
 * @module
 */

import { HandlerFailedError } from "../errors.js";
import type { WirelabError } from "../errors.js";
import { Protocol } from "../protocol.js";
import type { PushProducer, Transport } from "../protocol.js";

/**
 * A message and its framing up to this many bytes are sent as one concatenated write; bigger
 * ones as a `writeSequence`, so that a large payload is not copied.
 */
export const SEND_COPY_THRESHOLD = 16 * 1024;

/** The empty chunk, shared so that no code path allocates one. */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

/**
 * Views `data` as a Buffer without copying (`Buffer.indexOf` and friends need one).
 *
 * @param data - bytes, or a string to encode as UTF-8.
 * @returns `data` itself when it is a Buffer, otherwise a Buffer over the same memory (or the
 *   UTF-8 encoding of a string).
 */
export function asBuffer(data: Uint8Array | string): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (Buffer.isBuffer(data)) return data;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The base of the framing protocols. A subclass implements `parseChunk`; this class owns the
 * parts every receiver must get right the same way:
 *
 * - **Never throws.** `dataReceived` catches anything a handler (`lineReceived`,
 *   `stringReceived`, ...) throws. Twisted lets such an exception reach the transport, which
 *   logs it and drops the connection; here the receiver records a `HandlerFailedError`
 *   (`WL_ERR_HANDLER_FAILED`, the thrown value in `cause`) as its {@link failure}, stops for
 *   good, and calls {@link handlerFailed}, whose default aborts the connection (queued writes
 *   are discarded, as when Twisted drops it).
 * - **Stops for good at its first error.** After a framing error (too long, malformed) or a
 *   handler failure, `failure` is set and every later byte is ignored: no event ever follows.
 * - **Backpressure.** `pauseProducing()` stops delivery at once, even in the middle of a chunk,
 *   and pauses the transport; bytes already received are held (not parsed, not limit-checked)
 *   until `resumeProducing()`. Twisted's `LineReceiver` and `IntNStringReceiver` do the same.
 * - **Closing.** Once `transport.disconnecting` is true, nothing more is delivered.
 * - **Re-entrancy.** Data given to `dataReceived` from inside a handler is queued after the
 *   bytes being parsed, never parsed in the middle of them.
 *
 * Chunks passed to `dataReceived` are not copied when they can be delivered as views: do not
 * modify a chunk after handing it over (Node's sockets never do).
 */
export abstract class FramingReceiver extends Protocol implements PushProducer {
  /** True while delivery is paused by `pauseProducing` or `stopProducing`. */
  paused = false;

  #failure: WirelabError | null = null;
  #busy = false;
  #held: Buffer[] = [];

  /**
   * The error that stopped this receiver for good, or null while it is healthy: a framing error
   * (`LineLengthExceededError`, `LengthLimitExceededError`, `NetstringParseError`,
   * `InvalidOptionError`) or a `HandlerFailedError`. It is the first error only.
   */
  get failure(): WirelabError | null {
    return this.#failure;
  }

  /**
   * Bytes received and kept but not yet delivered: a partial message, plus whatever is held
   * while paused. For tests and monitoring; outside a pause it never exceeds the protocol's
   * `MAX_LENGTH` plus its framing overhead.
   */
  get bufferedLength(): number {
    let n = this.partialLength();
    for (const chunk of this.#held) n += chunk.length;
    return n;
  }

  /**
   * Feeds received bytes to the parser. Never throws.
   *
   * @param data - the next bytes of the stream; any chunking gives the same events.
   */
  override dataReceived(data: Uint8Array): void {
    if (this.#failure !== null) return;
    if (this.#busy || this.paused) {
      if (data.length > 0) this.#held.push(asBuffer(data));
      return;
    }
    if (this.#closing()) return;
    this.#run(asBuffer(data));
  }

  /** Stops delivering events, even mid-chunk, and pauses the transport's reading. */
  pauseProducing(): void {
    this.paused = true;
    this.transport.pauseProducing();
  }

  /** Resumes reading, first delivering what was held while paused. Never throws. */
  resumeProducing(): void {
    this.paused = false;
    this.transport.resumeProducing();
    if (!this.#busy && this.#held.length > 0 && this.#failure === null && !this.#closing()) {
      this.#run(this.#held.shift() ?? EMPTY_BUFFER);
    }
  }

  /** Stops delivering events for good and tells the transport to stop producing. */
  stopProducing(): void {
    this.paused = true;
    this.transport.stopProducing();
  }

  /**
   * Called when a handler threw (a hook such as `lineLengthExceeded` included); the receiver
   * has already stopped for good, and {@link failure} holds its first error (this one, unless a
   * framing error came first). The default aborts the connection. Whatever this method throws
   * is ignored, and the connection is aborted.
   *
   * @param error - `HandlerFailedError` (`WL_ERR_HANDLER_FAILED`); the thrown value is in `cause`.
   */
  handlerFailed(_error: HandlerFailedError): void {
    this.transport.abortConnection();
  }

  /**
   * Parses one chunk, from its first byte, delivering every complete message. Implementations
   * call `interrupted(chunk, pos)` after each delivery and return when it says so, call
   * `failWith` on a framing error and return, and keep a partial message for the next chunk.
   */
  protected abstract parseChunk(chunk: Buffer): void;

  /** Bytes of a partial message the parser keeps between chunks. */
  protected abstract partialLength(): number;

  /**
   * Whether parsing must stop after a delivery: paused (the rest of `chunk` from `pos` is held
   * for `resumeProducing`), closing, or failed.
   */
  protected interrupted(chunk: Buffer, pos: number): boolean {
    if (this.#failure !== null) return true;
    if (this.paused) {
      if (pos < chunk.length) this.#held.unshift(pos === 0 ? chunk : chunk.subarray(pos));
      return true;
    }
    return this.#closing();
  }

  /**
   * Records `error` as the final failure and drops held bytes. The caller then runs its hook.
   *
   * @returns false when the receiver had already failed (the hook must not run again).
   */
  protected failWith(error: WirelabError): boolean {
    if (this.#failure !== null) return false;
    this.#failure = error;
    this.#held = [];
    return true;
  }

  /**
   * Feeds `data` ahead of everything held: for bytes a handler gives back (`setLineMode(extra)`),
   * which come before any data not yet delivered.
   */
  protected injectData(data: Buffer): void {
    if (this.#failure !== null || data.length === 0) return;
    if (this.#busy || this.paused) {
      this.#held.unshift(data);
      return;
    }
    if (this.#closing()) return;
    this.#run(data);
  }

  /** Takes every held byte out of the queue, in order (for `clearLineBuffer`). */
  protected takeHeld(): Buffer[] {
    const held = this.#held;
    this.#held = [];
    return held;
  }

  #closing(): boolean {
    // A receiver fed by hand before `makeConnection` has no transport yet.
    const transport = this.transport as Transport | undefined;
    return transport !== undefined && transport.disconnecting;
  }

  #run(first: Buffer): void {
    this.#busy = true;
    try {
      this.parseChunk(first);
      while (this.#held.length > 0 && !this.paused && this.#failure === null && !this.#closing()) {
        this.parseChunk(this.#held.shift() ?? EMPTY_BUFFER);
      }
    } catch (thrown) {
      this.#handlerThrew(thrown);
    } finally {
      this.#busy = false;
    }
  }

  #handlerThrew(thrown: unknown): void {
    const error = new HandlerFailedError(`${this.constructor.name} handler`, thrown);
    this.failWith(error);
    try {
      this.handlerFailed(error);
    } catch {
      // The hook's own failure has nowhere better to go; the connection must still close.
      try {
        (this.transport as Transport | undefined)?.abortConnection();
      } catch {
        // Nothing is left to try: dataReceived must not throw.
      }
    }
  }
}
