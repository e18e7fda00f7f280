/**
 * `IntNStringReceiver` and its three sizes: strings prefixed by their length as a big-endian
 * unsigned integer of 1, 2 or 4 bytes, as Twisted's `Int8StringReceiver`,
 * `Int16StringReceiver` and `Int32StringReceiver` frame them.
 *
 * @module
 */

import { InvalidOptionError, LengthLimitExceededError, StringTooLongError } from "../errors.js";
import { FramingReceiver, SEND_COPY_THRESHOLD, asBuffer } from "./framing-receiver.js";

/** The longest string accepted when a protocol sets no `MAX_LENGTH`, in bytes, as in Twisted. */
export const DEFAULT_INT_STRING_MAX_LENGTH = 99999;

/** The size in bytes of a length prefix. */
export type PrefixLength = 1 | 2 | 4;

/**
 * A protocol that receives length-prefixed strings; subclass one of `Int8StringReceiver`,
 * `Int16StringReceiver` or `Int32StringReceiver`.
 *
 * A prefix announcing more than `MAX_LENGTH` bytes calls `lengthLimitExceeded`, which closes the
 * connection by default; the receiver records a `LengthLimitExceededError`
 * (`WL_ERR_LENGTH_LIMIT`) as its `failure` and delivers nothing more.
 *
 * A string that lies inside one received chunk is delivered as a view of that chunk; one spread
 * over chunks is read into a fresh Buffer of exactly its length, allocated once the prefix is
 * read (so between chunks the receiver holds at most `MAX_LENGTH` bytes plus a partial
 * prefix). Neither is reused, so a string may be kept after the call.
 */
export abstract class IntNStringReceiver extends FramingReceiver {
  /** The size of the length prefix in bytes. */
  abstract readonly prefixLength: PrefixLength;

  /**
   * The longest string accepted, in bytes. May be changed per subclass or per instance; a bad
   * value stops the receiver with `InvalidOptionError` (`WL_ERR_INVALID_OPTION`).
   * @defaultValue {@link DEFAULT_INT_STRING_MAX_LENGTH} (99999)
   */
  MAX_LENGTH: number = DEFAULT_INT_STRING_MAX_LENGTH;

  // The prefix read so far, when it is split between chunks.
  #prefix = 0;
  #prefixRead = 0;
  // The string being read, once its prefix is known and it spans chunks.
  #payload: Buffer | null = null;
  #filled = 0;

  /**
   * A complete string arrived. Override this.
   *
   * @param data - the payload (see the class notes on views).
   */
  stringReceived(_data: Buffer): void {}

  /**
   * A prefix announced more than `MAX_LENGTH` bytes. The receiver has already stopped for good.
   * The default closes the connection (`transport.loseConnection()`).
   *
   * @param length - the announced length.
   * @param error - `LengthLimitExceededError` (`WL_ERR_LENGTH_LIMIT`).
   */
  lengthLimitExceeded(_length: number, _error: LengthLimitExceededError): void {
    this.transport.loseConnection();
  }

  /**
   * Sends `data` with its length prefix. As in Twisted, the bound is what the prefix can
   * express, not `MAX_LENGTH` (which limits what this side accepts).
   *
   * @param data - a string (sent as UTF-8) or bytes.
   * @throws StringTooLongError (`WL_ERR_STRING_TOO_LONG`) when `data` has `2 ** (8 *
   *   prefixLength)` bytes or more.
   */
  sendString(data: string | Uint8Array): void {
    const bytes = asBuffer(data);
    const p = this.prefixLength;
    const limit = 2 ** (8 * p) - 1;
    if (bytes.length > limit) throw new StringTooLongError(bytes.length, limit);
    if (p + bytes.length <= SEND_COPY_THRESHOLD) {
      const out = Buffer.allocUnsafe(p + bytes.length);
      out.writeUIntBE(bytes.length, 0, p);
      bytes.copy(out, p);
      this.transport.write(out);
    } else {
      const prefix = Buffer.allocUnsafe(p);
      prefix.writeUIntBE(bytes.length, 0, p);
      this.transport.writeSequence([prefix, bytes]);
    }
  }

  protected override partialLength(): number {
    return this.#payload !== null ? this.#payload.length : this.#prefixRead;
  }

  protected override parseChunk(chunk: Buffer): void {
    const max = this.MAX_LENGTH;
    if (!Number.isSafeInteger(max) || max < 0) {
      if (this.failWith(new InvalidOptionError("MAX_LENGTH", `must be a non-negative integer, got ${max}`))) {
        this.transport.loseConnection();
      }
      return;
    }
    const p = this.prefixLength;
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      let payload = this.#payload;
      if (payload === null) {
        let length: number;
        if (this.#prefixRead === 0 && end - pos >= p) {
          length = p === 4 ? chunk.readUInt32BE(pos) : p === 2 ? chunk.readUInt16BE(pos) : (chunk[pos] ?? 0);
          pos += p;
        } else {
          // A prefix split between chunks: collect it byte by byte (at most 3 of them).
          while (this.#prefixRead < p && pos < end) {
            this.#prefix = this.#prefix * 256 + (chunk[pos++] ?? 0);
            this.#prefixRead++;
          }
          if (this.#prefixRead < p) return;
          length = this.#prefix;
          this.#prefix = 0;
          this.#prefixRead = 0;
        }
        if (length > max) {
          const error = new LengthLimitExceededError(length, max);
          if (this.failWith(error)) this.lengthLimitExceeded(length, error);
          return;
        }
        if (end - pos >= length) {
          // The whole string is here: deliver a view.
          const data = chunk.subarray(pos, pos + length);
          pos += length;
          this.stringReceived(data);
          if (this.interrupted(chunk, pos)) return;
          continue;
        }
        payload = Buffer.allocUnsafe(length);
        this.#payload = payload;
        this.#filled = 0;
      }
      const count = Math.min(payload.length - this.#filled, end - pos);
      chunk.copy(payload, this.#filled, pos, pos + count);
      this.#filled += count;
      pos += count;
      if (this.#filled < payload.length) return;
      this.#payload = null;
      this.#filled = 0;
      this.stringReceived(payload);
      if (this.interrupted(chunk, pos)) return;
    }
  }
}

/** Strings prefixed by a 1-byte length (at most 255 bytes). */
export class Int8StringReceiver extends IntNStringReceiver {
  /** 1 byte. */
  override readonly prefixLength = 1;
}

/** Strings prefixed by a 2-byte big-endian length (at most 65535 bytes). */
export class Int16StringReceiver extends IntNStringReceiver {
  /** 2 bytes. */
  override readonly prefixLength = 2;
}

/**
 * Strings prefixed by a 4-byte big-endian length.
 *
 * @example
 * ```ts
 * class Echo extends Int32StringReceiver {
 *   override stringReceived(data: Buffer): void {
 *     this.sendString(data);
 *   }
 * }
 * ```
 */
export class Int32StringReceiver extends IntNStringReceiver {
  /** 4 bytes. */
  override readonly prefixLength = 4;
}
