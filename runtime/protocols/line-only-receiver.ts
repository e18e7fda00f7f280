/**
 * `LineOnlyReceiver`: lines and nothing else; the lean version of `LineReceiver`.
 *
 * @module
 */

import { LineLengthExceededError } from "../errors.js";
import { FramingReceiver } from "./framing-receiver.js";
import { DEFAULT_LINE_DELIMITER, DEFAULT_LINE_MAX_LENGTH } from "./line-receiver.js";
import { LineSplitter, SPLIT_LINE, SPLIT_NEED_MORE, sendWithDelimiter } from "./line-splitter.js";

/**
 * A protocol that receives lines only: no raw mode, no `clearLineBuffer`, so its loop does
 * nothing but find delimiters. Lines, limits, views, pausing, closing and handler failures
 * behave exactly as in `LineReceiver`.
 *
 * @example
 * ```ts
 * class Shout extends LineOnlyReceiver {
 *   override lineReceived(line: Buffer): void {
 *     this.sendLine(line.toString("utf8").toUpperCase());
 *   }
 * }
 * ```
 */
export class LineOnlyReceiver extends FramingReceiver {
  /**
   * The bytes that end a line: a string (sent as UTF-8) or bytes; never empty. A change made
   * by a handler applies from the next chunk (`LineReceiver` applies it from the next line).
   * @defaultValue {@link DEFAULT_LINE_DELIMITER} (`"\r\n"`)
   */
  delimiter: string | Uint8Array = DEFAULT_LINE_DELIMITER;

  /**
   * The longest line accepted, in bytes, without its delimiter. A bad value stops the receiver
   * with `InvalidOptionError` (`WL_ERR_INVALID_OPTION`) and closes the connection.
   * @defaultValue {@link DEFAULT_LINE_MAX_LENGTH} (16384)
   */
  MAX_LENGTH: number = DEFAULT_LINE_MAX_LENGTH;

  readonly #splitter = new LineSplitter();

  /**
   * A complete line arrived. Override this.
   *
   * @param line - the line without its delimiter: a view of the received chunk, or a fresh
   *   Buffer when it spanned chunks; never a view of the receiver's own buffer.
   */
  lineReceived(_line: Buffer): void {}

  /**
   * A line grew past `MAX_LENGTH`. The receiver has already stopped for good, with `error` as
   * its `failure`. The default closes the connection (`transport.loseConnection()`).
   *
   * @param line - the bytes from the start of the offending line to the end of the chunk.
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
    while (pos < end) {
      const result = splitter.split(chunk, pos);
      if (result === SPLIT_NEED_MORE) return;
      if (result !== SPLIT_LINE) {
        const error = new LineLengthExceededError(this.MAX_LENGTH);
        const line = splitter.take(chunk, pos);
        if (this.failWith(error)) this.lineLengthExceeded(line, error);
        return;
      }
      pos = splitter.next;
      this.lineReceived(splitter.line);
      if (this.interrupted(chunk, pos)) return;
    }
  }
}
