/**
 * `FrameWriter`: the sending half of RFC 6455: frames text, binary, ping, pong and close
 * messages, masks them on the client side, compresses them with permessage-deflate when
 * negotiated, and fragments them on request.
 *
 * @module
 */

import { InvalidOptionError } from "../../errors.js";
import type { Transport } from "../../protocol.js";
import { SEND_COPY_THRESHOLD } from "../framing-receiver.js";
import { isValidCloseCode, MAX_CLOSE_REASON_BYTES } from "./close-codes.js";
import { MAX_CONTROL_PAYLOAD, Opcode } from "./frame-parser.js";
import { applyMask } from "./mask.js";
import type { PerMessageDeflate } from "./permessage-deflate.js";

/** The default `fragmentSize`: 0, every message goes out as one frame. */
export const DEFAULT_FRAGMENT_SIZE = 0;

/** Where a {@link FrameWriter} writes: a transport, or anything with its two write methods. */
export type FrameSink = Pick<Transport, "write" | "writeSequence">;

/** Options for {@link FrameWriter}. */
export interface FrameWriterOptions {
  /** The side this writer runs on: a client masks every frame, a server none. */
  role: "server" | "client";
  /**
   * The random source of masking keys, a number in [0, 1) per call (the reactor's `random()`).
   * Required on the client side. The keys only need to be unpredictable to scripts in a
   * browser (RFC 6455 section 10.3); give a cryptographic source if your threat model differs.
   */
  random?: () => number;
  /**
   * The negotiated permessage-deflate, if any: messages at or above its threshold are
   * compressed.
   * @defaultValue null
   */
  perMessageDeflate?: PerMessageDeflate | null;
  /**
   * Data messages with a (possibly compressed) payload longer than this are split into frames
   * of at most this many payload bytes. 0 never fragments.
   * @defaultValue {@link DEFAULT_FRAGMENT_SIZE} (0)
   */
  fragmentSize?: number;
}

/**
 * A server-side message framed once, to be sent to many connections with
 * {@link FrameWriter.sendPrepared} without framing (or encoding) it again. It is never
 * compressed, which is always allowed.
 */
export interface PreparedMessage {
  /** The whole frame: header and payload. */
  readonly frame: Uint8Array;
  /** Whether it is a binary message. */
  readonly isBinary: boolean;
}

/**
 * Builds the header of one frame.
 *
 * @param opcode - the frame's opcode.
 * @param fin - whether it is the last frame of its message.
 * @param rsv1 - whether RSV1 is set (a compressed message's first frame).
 * @param length - the payload length.
 * @param maskKey - the masking key, written after the length; null for an unmasked frame.
 * @returns the 2 to 14 header bytes.
 */
export function frameHeader(opcode: number, fin: boolean, rsv1: boolean, length: number, maskKey: Uint8Array | null): Uint8Array {
  const ext = length < 126 ? 0 : length < 0x1_0000 ? 2 : 8;
  const header = new Uint8Array(2 + ext + (maskKey === null ? 0 : 4));
  writeHeader(header, opcode, fin, rsv1, length, maskKey);
  return header;
}

function headerSize(length: number, masked: boolean): number {
  return 2 + (length < 126 ? 0 : length < 0x1_0000 ? 2 : 8) + (masked ? 4 : 0);
}

/** Writes a header at the start of `out`; returns its size. */
function writeHeader(out: Uint8Array, opcode: number, fin: boolean, rsv1: boolean, length: number, maskKey: Uint8Array | null): number {
  out[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = maskKey === null ? 0 : 0x80;
  let at: number;
  if (length < 126) {
    out[1] = maskBit | length;
    at = 2;
  } else if (length < 0x1_0000) {
    out[1] = maskBit | 126;
    out[2] = length >>> 8;
    out[3] = length & 0xff;
    at = 4;
  } else {
    out[1] = maskBit | 127;
    const hi = Math.floor(length / 0x1_0000_0000);
    const lo = length >>> 0;
    out[2] = hi >>> 24;
    out[3] = (hi >>> 16) & 0xff;
    out[4] = (hi >>> 8) & 0xff;
    out[5] = hi & 0xff;
    out[6] = lo >>> 24;
    out[7] = (lo >>> 16) & 0xff;
    out[8] = (lo >>> 8) & 0xff;
    out[9] = lo & 0xff;
    at = 10;
  }
  if (maskKey !== null) {
    out.set(maskKey, at);
    at += 4;
  }
  return at;
}

const EMPTY = new Uint8Array(0);

/**
 * Frames messages and writes them to a transport. A server writes header and payload as one
 * `writeSequence` (no copy of the payload) when the frame is larger than
 * `SEND_COPY_THRESHOLD`, and as one joined write below it; a client must mask, which copies the
 * payload once into the frame it writes.
 *
 * @example
 * ```ts
 * const writer = new FrameWriter(transport, { role: "server" });
 * writer.sendMessage("Hello"); // 81 05 48 65 6c 6c 6f
 * ```
 */
export class FrameWriter {
  readonly #sink: FrameSink;
  readonly #client: boolean;
  readonly #random: (() => number) | null;
  readonly #deflate: PerMessageDeflate | null;
  readonly #fragmentSize: number;

  /**
   * @param sink - where frames are written.
   * @param options - see {@link FrameWriterOptions}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a client without `random`, or a
   *   `fragmentSize` that is not a non-negative integer.
   */
  constructor(sink: FrameSink, options: FrameWriterOptions) {
    if (options.role !== "server" && options.role !== "client") throw new InvalidOptionError("role", `must be "server" or "client", got ${String(options.role)}`);
    this.#client = options.role === "client";
    this.#random = options.random ?? null;
    if (this.#client && this.#random === null) throw new InvalidOptionError("random", "a client needs a random source for its masking keys");
    const fragmentSize = options.fragmentSize ?? DEFAULT_FRAGMENT_SIZE;
    if (!Number.isSafeInteger(fragmentSize) || fragmentSize < 0) throw new InvalidOptionError("fragmentSize", `must be a non-negative integer, got ${fragmentSize}`);
    this.#fragmentSize = fragmentSize;
    this.#deflate = options.perMessageDeflate ?? null;
    this.#sink = sink;
  }

  /**
   * Sends one data message: a string as a text message (UTF-8), bytes as a binary message.
   *
   * @param data - the message.
   * @param fragmentSize - overrides the writer's `fragmentSize` for this message.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad `fragmentSize`.
   */
  sendMessage(data: string | Uint8Array, fragmentSize: number = this.#fragmentSize): void {
    if (!Number.isSafeInteger(fragmentSize) || fragmentSize < 0) throw new InvalidOptionError("fragmentSize", `must be a non-negative integer, got ${fragmentSize}`);
    const text = typeof data === "string";
    let payload: Uint8Array = text ? Buffer.from(data, "utf8") : data;
    let rsv1 = false;
    const deflate = this.#deflate;
    if (deflate !== null && deflate.shouldCompress(payload.length)) {
      payload = deflate.compress(payload);
      rsv1 = true;
    }
    const opcode = text ? Opcode.TEXT : Opcode.BINARY;
    if (fragmentSize === 0 || payload.length <= fragmentSize) {
      this.#frame(opcode, true, rsv1, payload);
      return;
    }
    for (let at = 0; at < payload.length; at += fragmentSize) {
      const last = at + fragmentSize >= payload.length;
      this.#frame(at === 0 ? opcode : Opcode.CONTINUATION, last, at === 0 && rsv1, payload.subarray(at, at + fragmentSize));
    }
  }

  /**
   * Sends one frame of a message being streamed: the first call starts a message (text or
   * binary), later ones continue it, and `fin` ends it. Such frames are never compressed.
   *
   * @param data - this frame's payload.
   * @param isBinary - the message's type (read on its first frame only).
   * @param first - whether this frame starts the message.
   * @param fin - whether this frame ends it.
   */
  sendFragment(data: Uint8Array, isBinary: boolean, first: boolean, fin: boolean): void {
    this.#frame(first ? (isBinary ? Opcode.BINARY : Opcode.TEXT) : Opcode.CONTINUATION, fin, false, data);
  }

  /**
   * Sends a ping.
   *
   * @param data - application data, at most 125 bytes (a string is sent as UTF-8).
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `data` is longer than 125 bytes.
   */
  ping(data: string | Uint8Array = EMPTY): void {
    this.#frame(Opcode.PING, true, false, controlPayload(data));
  }

  /**
   * Sends a pong.
   *
   * @param data - application data, at most 125 bytes (a ping's data, when answering one).
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `data` is longer than 125 bytes.
   */
  pong(data: string | Uint8Array = EMPTY): void {
    this.#frame(Opcode.PONG, true, false, controlPayload(data));
  }

  /**
   * Sends a close frame.
   *
   * @param code - the close code; omit it to send a close frame with no payload (the peer
   *   sees 1005).
   * @param reason - the reason, at most 123 UTF-8 bytes; only sent with a code.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a code not valid on the wire
   *   (see `isValidCloseCode`) or a reason that is too long.
   */
  close(code?: number, reason = ""): void {
    this.#frame(Opcode.CLOSE, true, false, closePayload(code, reason));
  }

  /**
   * Frames a message once, for sending to many connections (server side only).
   *
   * @param data - the message: a string is a text message, bytes a binary one.
   * @returns the prepared frame.
   */
  static prepare(data: string | Uint8Array): PreparedMessage {
    const isBinary = typeof data !== "string";
    const payload = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    const size = headerSize(payload.length, false);
    const frame = new Uint8Array(size + payload.length);
    writeHeader(frame, isBinary ? Opcode.BINARY : Opcode.TEXT, true, false, payload.length, null);
    frame.set(payload, size);
    return { frame, isBinary };
  }

  /**
   * Sends a message framed by {@link FrameWriter.prepare}.
   *
   * @param message - the prepared message.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) on a client, whose frames must each
   *   be masked with a fresh key.
   */
  sendPrepared(message: PreparedMessage): void {
    if (this.#client) throw new InvalidOptionError("message", "a client cannot send a prepared (unmasked) message");
    this.#sink.write(message.frame);
  }

  #frame(opcode: number, fin: boolean, rsv1: boolean, payload: Uint8Array): void {
    const length = payload.length;
    // Frames are written and dropped: Buffer.allocUnsafe takes small ones from Node's pool, where
    // a `new Uint8Array` over 64 bytes costs a malloc'd backing store each (several times slower).
    if (this.#client) {
      const size = headerSize(length, true);
      const frame = Buffer.allocUnsafe(size + length);
      writeHeader(frame, opcode, fin, rsv1, length, this.#maskKey());
      frame.set(payload, size);
      applyMask(frame, size, length, frame.subarray(size - 4, size), 0);
      this.#sink.write(frame);
      return;
    }
    const size = headerSize(length, false);
    if (size + length <= SEND_COPY_THRESHOLD) {
      const frame = Buffer.allocUnsafe(size + length);
      writeHeader(frame, opcode, fin, rsv1, length, null);
      frame.set(payload, size);
      this.#sink.write(frame);
    } else {
      const header = Buffer.allocUnsafe(size);
      writeHeader(header, opcode, fin, rsv1, length, null);
      this.#sink.writeSequence([header, payload]);
    }
  }

  #maskKey(): Uint8Array {
    const r = Math.floor((this.#random as () => number)() * 0x1_0000_0000) >>> 0;
    return new Uint8Array([r >>> 24, (r >>> 16) & 0xff, (r >>> 8) & 0xff, r & 0xff]);
  }
}

function controlPayload(data: string | Uint8Array): Uint8Array {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  if (bytes.length > MAX_CONTROL_PAYLOAD) throw new InvalidOptionError("data", `a control frame carries at most ${MAX_CONTROL_PAYLOAD} bytes, got ${bytes.length}`);
  return bytes;
}

/**
 * The payload of a close frame.
 *
 * @param code - the close code, or undefined for an empty payload.
 * @param reason - the reason (UTF-8, at most 123 bytes).
 * @returns the payload bytes.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a code not valid on the wire or a
 *   reason that is too long.
 */
export function closePayload(code: number | undefined, reason = ""): Uint8Array {
  if (code === undefined) {
    if (reason !== "") throw new InvalidOptionError("reason", "a close reason needs a close code");
    return EMPTY;
  }
  if (!isValidCloseCode(code)) throw new InvalidOptionError("code", `${code} is not a close code that may be sent`);
  const text = Buffer.from(reason, "utf8");
  if (text.length > MAX_CLOSE_REASON_BYTES) throw new InvalidOptionError("reason", `at most ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes, got ${text.length}`);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}
