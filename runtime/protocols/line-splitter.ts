/**
 * `LineSplitter`: the delimiter search shared by `LineReceiver` and `LineOnlyReceiver`. It finds
 * one line at a time in a chunk, keeping a partial line between chunks in one owned, growing
 * buffer, and applies Twisted's length rule.
 *
 * @module
 */

import { InvalidOptionError } from "../errors.js";
import type { Transport } from "../protocol.js";
import { EMPTY_BUFFER, SEND_COPY_THRESHOLD, asBuffer } from "./framing-receiver.js";

/** `split` found a line: it is in `line`, and parsing goes on at `next`. */
export const SPLIT_LINE = 0;
/** `split` consumed the rest of the chunk into its partial line; more bytes are needed. */
export const SPLIT_NEED_MORE = 1;
/** `split` found that the line starting at `pos` is longer than the limit. */
export const SPLIT_TOO_LONG = 2;

/** What `split` reports. */
export type SplitResult = typeof SPLIT_LINE | typeof SPLIT_NEED_MORE | typeof SPLIT_TOO_LONG;

/** A partial-line buffer bigger than this is released once emptied, so idle connections stay small. */
const RETAIN_CAPACITY = 4096;
/** The first capacity of the partial-line buffer. */
const INITIAL_CAPACITY = 256;

/**
 * Splits a byte stream into lines. Internal to the line receivers.
 *
 * Twisted's rule for the limit: a line of `maxLength` bytes is accepted; a longer line is
 * rejected as soon as its delimiter arrives, or, before that, once `maxLength + delimiter
 * length` bytes are held with no delimiter among them (fewer could still be a full line plus
 * part of its delimiter). So the partial line never exceeds `maxLength + delimiter length - 1`
 * bytes.
 *
 * A line that lies inside one chunk is returned as a view of that chunk; a line spread over
 * several chunks is copied into a fresh Buffer of its own. The splitter's own buffer is never
 * handed out.
 */
export class LineSplitter {
  /** The line found by the last `split` that returned `SPLIT_LINE`. */
  line: Buffer = EMPTY_BUFFER;
  /** Where the last `split` stopped in its chunk. */
  next = 0;

  #delimiter: Buffer = Buffer.from("\r\n");
  #first = 0x0d;
  #source: string | Uint8Array | undefined;
  #max = Number.NaN; // never equal to a value given, so the first one is checked
  #pending: Buffer = EMPTY_BUFFER;
  #pendingLength = 0;

  /** Bytes of the partial line held between chunks. */
  get pendingLength(): number {
    return this.#pendingLength;
  }

  /** The delimiter's length in bytes (after a successful `configure`). */
  get delimiterLength(): number {
    return this.#delimiter.length;
  }

  /** The delimiter as bytes (after a successful `configure`). */
  get delimiterBytes(): Buffer {
    return this.#delimiter;
  }

  /**
   * Adopts the receiver's current `delimiter` and `MAX_LENGTH`, cheaply when unchanged.
   *
   * @returns null, or the `InvalidOptionError` (`WL_ERR_INVALID_OPTION`) naming a bad value.
   */
  configure(delimiter: string | Uint8Array, maxLength: number): InvalidOptionError | null {
    if (delimiter !== this.#source) {
      if (delimiter.length === 0) return new InvalidOptionError("delimiter", "must not be empty");
      // A copy, so that a caller reusing its array cannot change the delimiter behind our back.
      this.#delimiter = Buffer.from(asBuffer(delimiter));
      this.#first = this.#delimiter[0] ?? 0;
      this.#source = delimiter;
    }
    if (maxLength !== this.#max) {
      if (!Number.isSafeInteger(maxLength) || maxLength < 0) {
        return new InvalidOptionError("MAX_LENGTH", `must be a non-negative integer, got ${maxLength}`);
      }
      this.#max = maxLength;
    }
    return null;
  }

  /**
   * Looks for the end of the line that starts with the partial line, followed by `chunk` from
   * `pos`. Sets `line` and `next` on `SPLIT_LINE`; on `SPLIT_NEED_MORE` the rest of the chunk
   * is kept; on `SPLIT_TOO_LONG` nothing is consumed.
   */
  split(chunk: Buffer, pos: number): SplitResult {
    const d = this.#delimiter.length;
    const max = this.#max;
    const end = chunk.length;
    const held = this.#pendingLength;
    if (held === 0) {
      const at = this.#find(chunk, pos);
      if (at < 0) {
        if (end - pos >= max + d) return SPLIT_TOO_LONG;
        this.#append(chunk, pos, end);
        this.next = end;
        return SPLIT_NEED_MORE;
      }
      if (at - pos > max) return SPLIT_TOO_LONG;
      this.line = chunk.subarray(pos, at);
      this.next = at + d;
      return SPLIT_LINE;
    }
    // The partial line holds no whole delimiter, but may end with the first part of one.
    const k = d > 1 ? this.#straddle(chunk, pos) : 0;
    if (k > 0) {
      const length = held - k;
      if (length > max) return SPLIT_TOO_LONG;
      const line = Buffer.allocUnsafe(length);
      this.#pending.copy(line, 0, 0, length);
      this.line = line;
      this.next = pos + d - k;
      this.#release();
      return SPLIT_LINE;
    }
    const at = this.#find(chunk, pos);
    if (at < 0) {
      if (held + end - pos >= max + d) return SPLIT_TOO_LONG;
      this.#append(chunk, pos, end);
      this.next = end;
      return SPLIT_NEED_MORE;
    }
    const length = held + at - pos;
    if (length > max) return SPLIT_TOO_LONG;
    const line = Buffer.allocUnsafe(length);
    this.#pending.copy(line, 0, 0, held);
    chunk.copy(line, held, pos, at);
    this.line = line;
    this.next = at + d;
    this.#release();
    return SPLIT_LINE;
  }

  /**
   * Empties the splitter, returning the partial line followed by `chunk` from `pos` as one
   * fresh Buffer.
   */
  take(chunk: Buffer = EMPTY_BUFFER, pos = 0): Buffer {
    const held = this.#pendingLength;
    const rest = chunk.length - pos;
    if (held === 0) return rest === 0 ? EMPTY_BUFFER : Buffer.from(chunk.subarray(pos));
    const out = Buffer.allocUnsafe(held + rest);
    this.#pending.copy(out, 0, 0, held);
    chunk.copy(out, held, pos);
    this.#release();
    return out;
  }

  /** Forgets the partial line and releases its buffer. */
  reset(): void {
    this.#pendingLength = 0;
    this.#pending = EMPTY_BUFFER;
  }

  /**
   * The index of the first whole delimiter in `chunk` from `pos`, or -1. Searching for its
   * first byte (memchr, in native code) and checking the rest here is about twice as fast as
   * `indexOf(delimiter)` for the short delimiters lines use.
   */
  #find(chunk: Buffer, pos: number): number {
    const first = this.#first;
    const delim = this.#delimiter;
    const d = delim.length;
    const last = chunk.length - d;
    for (let from = pos; ; ) {
      const at = chunk.indexOf(first, from);
      // A candidate nearer the end than the delimiter's length cannot be whole, nor can later ones.
      if (at < 0 || at > last) return -1;
      let j = 1;
      while (j < d && chunk[at + j] === delim[j]) j++;
      if (j === d) return at;
      from = at + 1;
    }
  }

  /**
   * How many bytes at the end of the partial line begin a delimiter that `chunk` (from `pos`)
   * completes; 0 for none. The largest such count is the earliest delimiter.
   */
  #straddle(chunk: Buffer, pos: number): number {
    const delim = this.#delimiter;
    const d = delim.length;
    const held = this.#pendingLength;
    const pending = this.#pending;
    const available = chunk.length - pos;
    for (let k = Math.min(d - 1, held); k >= 1; k--) {
      // A smaller k needs even more bytes from the chunk.
      if (available < d - k) return 0;
      let match = true;
      for (let j = 0; j < k && match; j++) match = pending[held - k + j] === delim[j];
      for (let j = k; j < d && match; j++) match = chunk[pos + j - k] === delim[j];
      if (match) return k;
    }
    return 0;
  }

  #append(chunk: Buffer, from: number, to: number): void {
    const count = to - from;
    if (count === 0) return;
    const needed = this.#pendingLength + count;
    if (needed > this.#pending.length) {
      // Doubling keeps copying linear; the cap keeps a connection within its limit.
      const cap = Math.max(needed, Math.min(Math.max(this.#pending.length * 2, INITIAL_CAPACITY), this.#max + this.#delimiter.length));
      const grown = Buffer.allocUnsafeSlow(cap);
      this.#pending.copy(grown, 0, 0, this.#pendingLength);
      this.#pending = grown;
    }
    chunk.copy(this.#pending, this.#pendingLength, from, to);
    this.#pendingLength = needed;
  }

  #release(): void {
    this.#pendingLength = 0;
    if (this.#pending.length > RETAIN_CAPACITY) this.#pending = EMPTY_BUFFER;
  }
}

/**
 * Writes `line` and `delimiter` as one write when small, as a sequence otherwise.
 *
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `delimiter` is empty.
 */
export function sendWithDelimiter(
  transport: Transport,
  line: string | Uint8Array,
  delimiter: string | Uint8Array,
): void {
  if (delimiter.length === 0) throw new InvalidOptionError("delimiter", "must not be empty");
  if (typeof line === "string" && typeof delimiter === "string") {
    transport.write(line + delimiter);
    return;
  }
  const bytes = asBuffer(line);
  const delim = asBuffer(delimiter);
  if (bytes.length + delim.length <= SEND_COPY_THRESHOLD) {
    transport.write(Buffer.concat([bytes, delim], bytes.length + delim.length));
  } else {
    transport.writeSequence([bytes, delim]);
  }
}
