/**
 * `NetstringReceiver`: D. J. Bernstein's netstrings (`5:hello,`), as Twisted receives them.
 *
 * @module
 */

import { InvalidOptionError, LengthLimitExceededError, NetstringParseError } from "../errors.js";
import type { WirelabError } from "../errors.js";
import { EMPTY_BUFFER, FramingReceiver, SEND_COPY_THRESHOLD, asBuffer } from "./framing-receiver.js";

/** The longest string accepted when a protocol sets no `MAX_LENGTH`, in bytes, as in Twisted. */
export const DEFAULT_NETSTRING_MAX_LENGTH = 99999;

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const COLON = 0x3a;
const COMMA = 0x2c;

const READING_LENGTH = 0;
const READING_PAYLOAD = 1;
const READING_COMMA = 2;

/**
 * A protocol that receives netstrings: `<length>:<bytes>,` with the length in decimal ASCII.
 *
 * Strict as Twisted: the length must be `0` or start with a non-zero digit (`01:a,` is
 * malformed), must have at least one digit, and must be followed by `:`; the payload must be
 * followed by `,`. Malformed input calls `netstringParseError` with a `NetstringParseError`
 * (`WL_ERR_NETSTRING_PARSE`); a length over `MAX_LENGTH` calls `lengthLimitExceeded` with a
 * `LengthLimitExceededError` (`WL_ERR_LENGTH_LIMIT`) as soon as the digits read so far exceed
 * it (Twisted raises a `NetstringParseError` there). Both close the connection by default; the
 * receiver records the error as its `failure` and delivers nothing more.
 *
 * A string that lies inside one received chunk is delivered as a view of that chunk; one spread
 * over chunks is read into a fresh Buffer of exactly its length, allocated once its length is
 * known (so between chunks the receiver holds at most `MAX_LENGTH` bytes). Neither is reused,
 * so a string may be kept after the call.
 *
 * @example
 * ```ts
 * class Echo extends NetstringReceiver {
 *   override stringReceived(data: Buffer): void {
 *     this.sendString(data);
 *   }
 * }
 * ```
 */
export class NetstringReceiver extends FramingReceiver {
  /**
   * The longest string accepted, in bytes. May be changed per subclass or per instance; a bad
   * value stops the receiver with `InvalidOptionError` (`WL_ERR_INVALID_OPTION`).
   * @defaultValue {@link DEFAULT_NETSTRING_MAX_LENGTH} (99999)
   */
  MAX_LENGTH: number = DEFAULT_NETSTRING_MAX_LENGTH;

  #state = READING_LENGTH;
  #length = 0;
  #digits = 0;
  #payload: Buffer | null = null;
  #filled = 0;

  /**
   * A complete string arrived. Override this.
   *
   * @param data - the payload (see the class notes on views).
   */
  stringReceived(_data: Buffer): void {}

  /**
   * The announced length is over `MAX_LENGTH`. The receiver has already stopped for good. The
   * default closes the connection.
   *
   * @param length - the length read so far (the announced one is at least this).
   * @param error - `LengthLimitExceededError` (`WL_ERR_LENGTH_LIMIT`).
   */
  lengthLimitExceeded(_length: number, _error: LengthLimitExceededError): void {
    this.transport.loseConnection();
  }

  /**
   * The peer sent something that is not a netstring. The receiver has already stopped for good.
   * The default closes the connection.
   *
   * @param error - `NetstringParseError` (`WL_ERR_NETSTRING_PARSE`).
   */
  netstringParseError(_error: NetstringParseError): void {
    this.transport.loseConnection();
  }

  /**
   * Sends `data` as one netstring.
   *
   * @param data - a string (sent as UTF-8) or bytes.
   */
  sendString(data: string | Uint8Array): void {
    const bytes = asBuffer(data);
    const header = `${bytes.length}:`;
    const total = header.length + bytes.length + 1;
    if (total <= SEND_COPY_THRESHOLD) {
      const out = Buffer.allocUnsafe(total);
      out.write(header, 0, "latin1");
      bytes.copy(out, header.length);
      out[total - 1] = COMMA;
      this.transport.write(out);
    } else {
      this.transport.writeSequence([Buffer.from(header, "latin1"), bytes, ","]);
    }
  }

  protected override partialLength(): number {
    return this.#payload !== null ? this.#payload.length : this.#digits;
  }

  protected override parseChunk(chunk: Buffer): void {
    const max = this.MAX_LENGTH;
    if (!Number.isSafeInteger(max) || max < 0) {
      this.#fail(new InvalidOptionError("MAX_LENGTH", `must be a non-negative integer, got ${max}`));
      return;
    }
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      if (this.#state === READING_LENGTH) {
        while (pos < end) {
          const c = chunk[pos++] ?? 0;
          if (c >= DIGIT_0 && c <= DIGIT_9) {
            if (this.#digits > 0 && this.#length === 0) {
              this.#fail(new NetstringParseError("netstring length has a leading zero"));
              return;
            }
            this.#length = this.#length * 10 + (c - DIGIT_0);
            this.#digits++;
            if (this.#length > max) {
              this.#fail(new LengthLimitExceededError(this.#length, max));
              return;
            }
          } else if (c === COLON && this.#digits > 0) {
            this.#state = READING_PAYLOAD;
            break;
          } else {
            const what = c === COLON ? "netstring length is missing" : `unexpected byte 0x${c.toString(16).padStart(2, "0")} in netstring length`;
            this.#fail(new NetstringParseError(what));
            return;
          }
        }
        continue;
      }
      if (this.#state === READING_PAYLOAD) {
        const length = this.#length;
        if (this.#payload === null) {
          if (end - pos > length) {
            // The whole string and its comma are here: deliver a view.
            if (chunk[pos + length] !== COMMA) {
              this.#fail(new NetstringParseError("netstring is not followed by a comma"));
              return;
            }
            const data = chunk.subarray(pos, pos + length);
            pos += length + 1;
            this.#state = READING_LENGTH;
            this.#length = 0;
            this.#digits = 0;
            this.stringReceived(data);
            if (this.interrupted(chunk, pos)) return;
            continue;
          }
          this.#payload = Buffer.allocUnsafe(length);
          this.#filled = 0;
        }
        const payload = this.#payload;
        const count = Math.min(payload.length - this.#filled, end - pos);
        chunk.copy(payload, this.#filled, pos, pos + count);
        this.#filled += count;
        pos += count;
        if (this.#filled < payload.length) return;
        this.#state = READING_COMMA;
        continue;
      }
      // READING_COMMA: the payload is complete and buffered.
      if (chunk[pos++] !== COMMA) {
        this.#fail(new NetstringParseError("netstring is not followed by a comma"));
        return;
      }
      const data = this.#payload ?? EMPTY_BUFFER;
      this.#payload = null;
      this.#filled = 0;
      this.#state = READING_LENGTH;
      this.#length = 0;
      this.#digits = 0;
      this.stringReceived(data);
      if (this.interrupted(chunk, pos)) return;
    }
  }

  #fail(error: WirelabError): void {
    const length = this.#length;
    this.#payload = null;
    this.#digits = 0;
    this.#length = 0;
    if (!this.failWith(error)) return;
    if (error instanceof LengthLimitExceededError) this.lengthLimitExceeded(length, error);
    else if (error instanceof NetstringParseError) this.netstringParseError(error);
    else this.transport.loseConnection();
  }
}
