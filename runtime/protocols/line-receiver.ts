/**
 * `LineReceiver`: Twisted's line protocol with a raw mode: lines ending in a delimiter, and a
 * switch to raw bytes (and back) in the middle of a chunk.
 *
 * @module
 */

import { LineLengthExceededError } from "../errors.js";
import { EMPTY_BUFFER, FramingReceiver, asBuffer } from "./framing-receiver.js";
import { LineSplitter, SPLIT_LINE, SPLIT_NEED_MORE, sendWithDelimiter } from "./line-splitter.js";

/** The line delimiter when a protocol sets none, as in Twisted. */
export const DEFAULT_LINE_DELIMITER = "\r\n";
/** The longest line accepted when a protocol sets no `MAX_LENGTH`, in bytes, as in Twisted. */
export const DEFAULT_LINE_MAX_LENGTH = 16384;

/**
 * A protocol that receives lines, and can switch to raw bytes and back.
 *
 * Lines are delivered to `lineReceived` without their delimiter, as Buffers. A line that lies
 * inside one received chunk is a view of that chunk (no copy); a line spread over chunks is a
 * fresh Buffer. Either way it is never a view of the receiver's own buffers, so it stays valid
 * after the call and may be kept (keeping a view keeps its whole chunk alive: copy a small line
 * you keep for long).
 *
 * Limits: a line longer than `MAX_LENGTH` bytes calls `lineLengthExceeded`, which by default
 * closes the connection; the receiver then records `LineLengthExceededError`
 * (`WL_ERR_LINE_TOO_LONG`) as its `failure` and delivers nothing more. Between chunks it holds at
 * most `MAX_LENGTH + delimiter length - 1` bytes of a partial line.
 *
 * Raw mode: `setRawMode()` (typically from `lineReceived`) sends every following byte, from the
 * one after the current line, to `rawDataReceived`; `setLineMode(extra)` goes back to lines,
 * parsing `extra` (the unused tail of the raw data) first.
 *
 * It stops delivering as soon as the transport is disconnecting, and pauses mid-chunk on
 * `pauseProducing()` (see `FramingReceiver`). A handler that throws stops the receiver and
 * aborts the connection (`HandlerFailedError`).
 *
 * @example
 * ```ts
 * class Echo extends LineReceiver {
 *   override lineReceived(line: Buffer): void {
 *     this.sendLine(line);
 *   }
 * }
 * ```
 */
export class LineReceiver extends FramingReceiver {
  /**
   * The bytes that end a line: a string (sent as UTF-8) or bytes; never empty. May be changed
   * per subclass or per instance, also between lines.
   * @defaultValue {@link DEFAULT_LINE_DELIMITER} (`"\r\n"`)
   */
  delimiter: string | Uint8Array = DEFAULT_LINE_DELIMITER;

  /**
   * The longest line accepted, in bytes, without its delimiter. May be changed per subclass or
   * per instance. A bad value (negative, not an integer) stops the receiver with
   * `InvalidOptionError` (`WL_ERR_INVALID_OPTION`) and closes the connection.
   * @defaultValue {@link DEFAULT_LINE_MAX_LENGTH} (16384)
   */
  MAX_LENGTH: number = DEFAULT_LINE_MAX_LENGTH;

  readonly #splitter = new LineSplitter();
  #lineMode = true;
  // The chunk being parsed and where, so that clearLineBuffer can take its rest.
  #chunk: Buffer = EMPTY_BUFFER;
  #pos = 0;

  /** True in line mode, false in raw mode. */
  get lineMode(): boolean {
    return this.#lineMode;
  }

  /**
   * A complete line arrived. Override this.
   *
   * @param line - the line without its delimiter (see the class notes on views).
   */
  lineReceived(_line: Buffer): void {}

  /**
   * Raw bytes arrived in raw mode. Override this if you use raw mode.
   *
   * @param data - a view of the received chunk (or a fresh Buffer when a partial line was
   *   pending as raw mode began).
   */
  rawDataReceived(_data: Buffer): void {}

  /**
   * A line grew past `MAX_LENGTH`. The receiver has already stopped for good, with `error` as
   * its `failure`. The default closes the connection (`transport.loseConnection()`).
   *
   * @param line - the bytes from the start of the offending line to the end of the chunk being
   *   parsed (a fresh Buffer).
   * @param error - `LineLengthExceededError` (`WL_ERR_LINE_TOO_LONG`).
   */
  lineLengthExceeded(_line: Buffer, _error: LineLengthExceededError): void {
    this.transport.loseConnection();
  }

  /**
   * Sends `line` followed by the delimiter.
   *
   * @param line - a string (sent as UTF-8) or bytes.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `delimiter` is empty.
   */
  sendLine(line: string | Uint8Array): void {
    sendWithDelimiter(this.transport, line, this.delimiter);
  }

  /** Switches to raw mode: the following bytes go to `rawDataReceived`. */
  setRawMode(): void {
    this.#lineMode = false;
  }

  /**
   * Switches to line mode. `extra`, if given, is parsed as lines first: ahead of any data not yet
   * delivered. Called from `rawDataReceived`, it is the unused tail of the raw data.
   *
   * @param extra - bytes (or a UTF-8 string) to parse before what follows.
   */
  setLineMode(extra?: string | Uint8Array): void {
    this.#lineMode = true;
    if (extra !== undefined && extra.length > 0) this.injectData(asBuffer(extra));
  }

  /**
   * Empties every buffer: the partial line, the rest of the chunk being parsed (when called
   * from a handler), and bytes held while paused.
   *
   * @returns what was buffered, in order, as one fresh Buffer.
   */
  clearLineBuffer(): Buffer {
    const parts = [this.#splitter.take(this.#chunk, this.#pos), ...this.takeHeld()];
    this.#pos = this.#chunk.length;
    return parts.length === 1 ? (parts[0] ?? EMPTY_BUFFER) : Buffer.concat(parts);
  }

  protected override partialLength(): number {
    return this.#splitter.pendingLength;
  }

  protected override parseChunk(chunk: Buffer): void {
    const splitter = this.#splitter;
    const invalid = splitter.configure(this.delimiter, this.MAX_LENGTH);
    if (invalid !== null) {
      if (this.failWith(invalid)) this.transport.loseConnection();
      return;
    }
    const end = chunk.length;
    let pos = 0;
    this.#chunk = chunk;
    try {
      while (pos < end) {
        if (!this.#lineMode) {
          // Raw mode takes everything left of this chunk, after any partial line.
          const data = splitter.pendingLength > 0 ? splitter.take(chunk, pos) : pos === 0 ? chunk : chunk.subarray(pos);
          this.#pos = end;
          this.rawDataReceived(data);
          return;
        }
        const result = splitter.split(chunk, pos);
        if (result === SPLIT_NEED_MORE) return;
        if (result !== SPLIT_LINE) {
          this.#tooLong(chunk, pos);
          return;
        }
        this.#pos = splitter.next;
        this.lineReceived(splitter.line);
        pos = this.#pos; // clearLineBuffer may have emptied the rest of the chunk
        if (this.interrupted(chunk, pos)) return;
        // The handler may have changed the delimiter or the limit between two lines.
        const changed = splitter.configure(this.delimiter, this.MAX_LENGTH);
        if (changed !== null) {
          if (this.failWith(changed)) this.transport.loseConnection();
          return;
        }
      }
    } finally {
      this.#chunk = EMPTY_BUFFER;
      this.#pos = 0;
    }
  }

  #tooLong(chunk: Buffer, pos: number): void {
    const error = new LineLengthExceededError(this.MAX_LENGTH);
    const line = this.#splitter.take(chunk, pos);
    this.#splitter.reset();
    if (this.failWith(error)) this.lineLengthExceeded(line, error);
  }
}
