/**
 * `FrameParser`: the receiving half of RFC 6455, a synchronous state machine fed bytes that
 * emits whole messages, pings, pongs and the close frame.
 *
 * @module
 */

import { InvalidOptionError, WebSocketHandlerError, WebSocketInvalidUtf8Error, WebSocketMessageTooBigError, WebSocketProtocolError } from "../../errors.js";
import { isValidCloseCode, CloseCode } from "./close-codes.js";
import { applyMask } from "./mask.js";
import type { PerMessageDeflate } from "./permessage-deflate.js";

/** The frame opcodes of RFC 6455 section 5.2. */
export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/**
 * The default `maxPayload`: 16 MiB per message. Tornado's default is 10 MiB and `ws`'s 100 MiB;
 * 16 MiB keeps a worst-case connection's buffer bounded at a size a server can afford for a
 * few of them while leaving room for real bulk messages.
 */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;

/** The largest payload of a control frame (ping, pong, close). */
export const MAX_CONTROL_PAYLOAD = 125;

/** What a {@link FrameParser} calls. A handler that throws stops the parser with 1011. */
export interface FrameParserHandlers {
  /** A whole message: text as a string, binary as bytes (a view the receiver may keep). */
  onMessage(data: string | Uint8Array, isBinary: boolean): void;
  /** A ping and its application data (at most 125 bytes). */
  onPing(data: Uint8Array): void;
  /** A pong and its application data. */
  onPong(data: Uint8Array): void;
  /** A close frame: its code (1005 when it had none) and reason. The parser ignores anything after it. */
  onClose(code: number, reason: string): void;
  /** The first (and last) error: the parser has stopped for good; `error.closeCode` says how to close. */
  onError(error: WebSocketProtocolError): void;
}

/** Options for {@link FrameParser}. */
export interface FrameParserOptions {
  /**
   * The side this parser runs on: a server requires every frame to be masked, a client
   * requires none to be (RFC 6455 section 5.1).
   */
  role: "server" | "client";
  /**
   * The largest message, in bytes, after reassembly (and, with permessage-deflate, both before
   * and after decompression). Checked against each frame's announced length before any of its
   * payload is buffered. From 0 to 2^53 - 1.
   * @defaultValue {@link DEFAULT_MAX_PAYLOAD} (16 MiB)
   */
  maxPayload?: number;
  /**
   * The negotiated permessage-deflate, if any. Without it, a frame with RSV1 set is a
   * protocol error.
   * @defaultValue null
   */
  perMessageDeflate?: PerMessageDeflate | null;
}

const S_HEADER = 0;
const S_LEN16 = 1;
const S_LEN64 = 2;
const S_MASK = 3;
const S_PAYLOAD = 4;
/** A close frame was received: everything after it is ignored. */
const S_CLOSED = 5;
const S_FAILED = 6;

const EMPTY = new Uint8Array(0);
const TWO_32 = 0x1_0000_0000;

/**
 * Parses a stream of WebSocket frames. Feed it the bytes in any chunking; the events are the
 * same. It validates every rule of RFC 6455 a receiver must (masking by role, reserved bits,
 * opcodes, control-frame size and fragmentation, continuation order, close codes, UTF-8 of text
 * messages across fragments and of close reasons) and the limits, and stops for good at its
 * first error, handing `onError` a {@link WebSocketProtocolError} whose `closeCode` is 1002
 * (protocol), 1007 (invalid payload) or 1009 (too big); or 1011 when a handler threw.
 *
 * Payload bytes are never modified in place: a masked payload is unmasked into a new buffer, an
 * unmasked single-frame binary message is delivered as a view into the chunk it arrived in. Do
 * not reuse a chunk's memory after feeding it (Node's sockets never do).
 *
 * @example
 * ```ts
 * const parser = new FrameParser({ role: "client" }, handlers);
 * parser.feed(Buffer.from("810548656c6c6f", "hex")); // handlers.onMessage("Hello", false)
 * ```
 */
export class FrameParser {
  /** The largest message accepted, in bytes. */
  readonly maxPayload: number;
  readonly #server: boolean;
  readonly #deflate: PerMessageDeflate | null;
  readonly #handlers: FrameParserHandlers;

  #state = S_HEADER;
  #failure: WebSocketProtocolError | null = null;
  #paused = false;
  #busy = false;
  #held: Uint8Array[] = [];

  /** Header bytes gathered across chunks. */
  readonly #scratch = new Uint8Array(8);
  #have = 0;

  // The frame being read.
  #fin = false;
  #rsv1 = false;
  #opcode = 0;
  #masked = false;
  readonly #mask = new Uint8Array(4);
  #length = 0;
  #received = 0;
  #control: Uint8Array = EMPTY;

  // The message being reassembled; #msgOpcode is 0 between messages.
  #msgOpcode = 0;
  #msgCompressed = false;
  #msgLength = 0;
  /** Payload bytes of the current message received so far. */
  #msgBuffered = 0;
  #fragments: Uint8Array[] = [];
  #textParts: string[] = [];
  readonly #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  /**
   * @param options - see {@link FrameParserOptions}.
   * @param handlers - the events.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a `maxPayload` out of bounds.
   */
  constructor(options: FrameParserOptions, handlers: FrameParserHandlers) {
    const max = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    if (!Number.isSafeInteger(max) || max < 0) throw new InvalidOptionError("maxPayload", `must be an integer from 0 to 2^53 - 1, got ${max}`);
    if (options.role !== "server" && options.role !== "client") throw new InvalidOptionError("role", `must be "server" or "client", got ${String(options.role)}`);
    this.maxPayload = max;
    this.#server = options.role === "server";
    this.#deflate = options.perMessageDeflate ?? null;
    this.#handlers = handlers;
  }

  /** The error that stopped the parser for good, or null. */
  get failure(): WebSocketProtocolError | null {
    return this.#failure;
  }

  /** True once a close frame was parsed: later bytes are ignored. */
  get closed(): boolean {
    return this.#state === S_CLOSED;
  }

  /** True once the parser stopped for good, by a close frame or an error. */
  get stopped(): boolean {
    return this.#state >= S_CLOSED;
  }

  /** True while `pause()` holds delivery. */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Payload bytes of the message being reassembled that the parser holds (a text message's
   * decoded part is counted by its UTF-8 size). Never more than `maxPayload`. Bytes held while
   * paused are not counted: see {@link heldBytes}.
   */
  get bufferedBytes(): number {
    return this.#msgBuffered;
  }

  /** Bytes fed while paused (or from inside a handler) and not parsed yet. */
  get heldBytes(): number {
    let n = 0;
    for (const c of this.#held) n += c.length;
    return n;
  }

  /**
   * Parses the next bytes of the stream, emitting events synchronously. Never throws. While
   * paused, or when called from one of its own handlers, the chunk is queued (not copied).
   *
   * @param data - the next bytes; any chunking gives the same events.
   */
  feed(data: Uint8Array): void {
    if (this.#state >= S_CLOSED) return;
    if (this.#busy || this.#paused) {
      if (data.length > 0) this.#held.push(data);
      return;
    }
    this.#drive(data);
  }

  /** Stops emitting events, even in the middle of a chunk; the rest is held until `resume()`. */
  pause(): void {
    this.#paused = true;
  }

  /** Emits what was held while paused, then goes on with later chunks. Never throws. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#busy || this.#held.length === 0 || this.#state >= S_CLOSED) return;
    this.#drive(this.#held.shift() ?? EMPTY);
  }

  #drive(first: Uint8Array): void {
    this.#busy = true;
    try {
      this.#parse(first);
      while (!this.#paused && this.#state < S_CLOSED && this.#held.length > 0) this.#parse(this.#held.shift() ?? EMPTY);
    } finally {
      this.#busy = false;
    }
  }

  #parse(chunk: Uint8Array): void {
    const end = chunk.length;
    let pos = 0;
    for (;;) {
      switch (this.#state) {
        case S_HEADER: {
          pos = this.#gather(chunk, pos, 2);
          if (this.#have < 2) return;
          this.#have = 0;
          this.#header(this.#scratch[0] ?? 0, this.#scratch[1] ?? 0);
          break;
        }
        case S_LEN16: {
          pos = this.#gather(chunk, pos, 2);
          if (this.#have < 2) return;
          this.#have = 0;
          const s = this.#scratch;
          this.#lengthKnown(((s[0] ?? 0) << 8) | (s[1] ?? 0));
          break;
        }
        case S_LEN64: {
          pos = this.#gather(chunk, pos, 8);
          if (this.#have < 8) return;
          this.#have = 0;
          const s = this.#scratch;
          const hi = (((s[0] ?? 0) << 24) | ((s[1] ?? 0) << 16) | ((s[2] ?? 0) << 8) | (s[3] ?? 0)) >>> 0;
          const lo = (((s[4] ?? 0) << 24) | ((s[5] ?? 0) << 16) | ((s[6] ?? 0) << 8) | (s[7] ?? 0)) >>> 0;
          if (hi >= 0x8000_0000) {
            this.#fail(new WebSocketProtocolError(1002, "invalid-length", "64-bit payload length has its most significant bit set"));
          } else if (hi >= 0x20_0000) {
            // Past 2^53 a length is not a safe integer; no maxPayload allows it anyway.
            this.#fail(new WebSocketMessageTooBigError(this.maxPayload, "frame"));
          } else {
            this.#lengthKnown(hi * TWO_32 + lo);
          }
          break;
        }
        case S_MASK: {
          pos = this.#gather(chunk, pos, 4);
          if (this.#have < 4) return;
          this.#have = 0;
          this.#mask.set(this.#scratch.subarray(0, 4));
          this.#startPayload();
          break;
        }
        case S_PAYLOAD: {
          const take = Math.min(end - pos, this.#length - this.#received);
          if (take > 0) {
            this.#piece(chunk.subarray(pos, pos + take));
            pos += take;
            this.#received += take;
          }
          if (this.#state !== S_PAYLOAD) break;
          if (this.#received < this.#length) return;
          this.#state = S_HEADER;
          this.#frameDone();
          break;
        }
        default:
          return;
      }
      if (this.#state >= S_CLOSED) return;
      if (this.#paused) {
        if (pos < end) this.#held.unshift(chunk.subarray(pos));
        return;
      }
    }
  }

  /** Copies header bytes into the scratch buffer until it has `n`; returns the new position. */
  #gather(chunk: Uint8Array, pos: number, n: number): number {
    const s = this.#scratch;
    const end = chunk.length;
    while (this.#have < n && pos < end) s[this.#have++] = chunk[pos++] ?? 0;
    return pos;
  }

  #header(b0: number, b1: number): void {
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    if ((b0 & 0x30) !== 0) return this.#protocol("reserved-bits", "RSV2 and RSV3 must be clear");
    if (opcode === Opcode.CONTINUATION) {
      if (this.#msgOpcode === 0) return this.#protocol("unexpected-continuation", "continuation frame without a message to continue");
      if (rsv1) return this.#protocol("rsv1-on-continuation", "RSV1 set on a continuation frame");
    } else if (opcode === Opcode.TEXT || opcode === Opcode.BINARY) {
      if (this.#msgOpcode !== 0) return this.#protocol("expected-continuation", "new data frame inside a fragmented message");
      if (rsv1 && this.#deflate === null) return this.#protocol("rsv1-without-extension", "RSV1 set but no extension was negotiated");
    } else if (opcode === Opcode.CLOSE || opcode === Opcode.PING || opcode === Opcode.PONG) {
      if (!fin) return this.#protocol("fragmented-control-frame", "control frames must not be fragmented");
      if (rsv1) return this.#protocol("rsv1-on-control-frame", "RSV1 set on a control frame");
      if (len7 > MAX_CONTROL_PAYLOAD) return this.#protocol("control-frame-too-long", "control frame payload is longer than 125 bytes");
    } else {
      return this.#protocol("invalid-opcode", `unknown opcode 0x${opcode.toString(16)}`);
    }
    if (masked !== this.#server) {
      return this.#server ? this.#protocol("unmasked-frame", "a client frame must be masked") : this.#protocol("masked-frame", "a server frame must not be masked");
    }
    this.#fin = fin;
    this.#rsv1 = rsv1;
    this.#opcode = opcode;
    this.#masked = masked;
    if (len7 === 126) this.#state = S_LEN16;
    else if (len7 === 127) this.#state = S_LEN64;
    else this.#lengthKnown(len7);
  }

  #lengthKnown(length: number): void {
    if (this.#opcode < 8) {
      // Checked on the announced length, before a byte of the payload is buffered.
      if (length > this.maxPayload - this.#msgLength) return this.#fail(new WebSocketMessageTooBigError(this.maxPayload));
    } else if (this.#opcode === Opcode.CLOSE && length === 1) {
      return this.#protocol("invalid-close-payload", "close frame with a 1-byte payload");
    }
    this.#length = length;
    if (this.#masked) {
      this.#state = S_MASK;
    } else {
      this.#startPayload();
    }
  }

  #startPayload(): void {
    this.#received = 0;
    const opcode = this.#opcode;
    if (opcode >= 8) {
      this.#control = this.#length === 0 ? EMPTY : new Uint8Array(this.#length);
    } else if (opcode !== Opcode.CONTINUATION) {
      this.#msgOpcode = opcode;
      this.#msgCompressed = this.#rsv1;
      this.#msgLength = 0;
    }
    if (opcode < 8) this.#msgLength += this.#length;
    if (this.#length > 0) {
      this.#state = S_PAYLOAD;
    } else {
      this.#state = S_HEADER;
      this.#frameDone();
    }
  }

  /** Takes in a piece of the current frame's payload, at offset `#received`. */
  #piece(piece: Uint8Array): void {
    const offset = this.#received;
    if (this.#opcode >= 8) {
      const c = this.#control;
      c.set(piece, offset);
      if (this.#masked) applyMask(c, offset, piece.length, this.#mask, offset);
      return;
    }
    this.#msgBuffered += piece.length;
    let bytes = piece;
    if (this.#masked) {
      bytes = new Uint8Array(piece.length);
      bytes.set(piece);
      applyMask(bytes, 0, bytes.length, this.#mask, offset);
    }
    if (this.#msgOpcode === Opcode.TEXT && !this.#msgCompressed) {
      // Decoding as the bytes arrive validates UTF-8 across fragments and fails fast.
      let text: string;
      try {
        text = this.#decoder.decode(bytes, { stream: true });
      } catch {
        return this.#fail(new WebSocketInvalidUtf8Error("text-message"));
      }
      if (text.length > 0) this.#textParts.push(text);
    } else {
      this.#fragments.push(bytes);
    }
  }

  #frameDone(): void {
    switch (this.#opcode) {
      case Opcode.CLOSE:
        return this.#closeFrame(this.#control);
      case Opcode.PING: {
        const data = this.#control;
        this.#control = EMPTY;
        return this.#emit("onPing", () => {
          this.#handlers.onPing(data);
        });
      }
      case Opcode.PONG: {
        const data = this.#control;
        this.#control = EMPTY;
        return this.#emit("onPong", () => {
          this.#handlers.onPong(data);
        });
      }
      default:
        if (this.#fin) this.#messageDone();
    }
  }

  #closeFrame(payload: Uint8Array): void {
    let code: number = CloseCode.NO_STATUS;
    let reason = "";
    if (payload.length >= 2) {
      code = ((payload[0] ?? 0) << 8) | (payload[1] ?? 0);
      if (!isValidCloseCode(code)) return this.#protocol("invalid-close-code", `invalid close code ${code}`);
      try {
        reason = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(payload.subarray(2));
      } catch {
        return this.#fail(new WebSocketInvalidUtf8Error("close-reason"));
      }
    }
    this.#state = S_CLOSED;
    this.#resetMessage();
    this.#held = [];
    this.#emit("onClose", () => {
      this.#handlers.onClose(code, reason);
    });
  }

  #messageDone(): void {
    const opcode = this.#msgOpcode;
    const fragments = this.#fragments;
    const compressed = this.#msgCompressed;
    const parts = this.#textParts;
    this.#resetMessage();
    let data: string | Uint8Array;
    if (compressed) {
      let bytes: Uint8Array;
      try {
        // The parser is only ever given compressed frames when #deflate is set (RSV1 check).
        bytes = (this.#deflate as PerMessageDeflate).decompress(fragments, this.maxPayload);
      } catch (error) {
        return this.#fail(error instanceof WebSocketProtocolError ? error : new WebSocketProtocolError(1007, "invalid-compressed-data", "compressed message does not inflate", "WL_ERR_WS_PROTOCOL", { cause: error }));
      }
      if (opcode === Opcode.TEXT) {
        try {
          data = this.#decoder.decode(bytes);
        } catch {
          return this.#fail(new WebSocketInvalidUtf8Error("text-message"));
        }
      } else {
        data = bytes;
      }
    } else if (opcode === Opcode.TEXT) {
      let last: string;
      try {
        last = this.#decoder.decode();
      } catch {
        return this.#fail(new WebSocketInvalidUtf8Error("text-message"));
      }
      if (last.length > 0) parts.push(last);
      data = parts.length === 1 ? (parts[0] ?? "") : parts.join("");
    } else {
      data = concat(fragments);
    }
    const isBinary = opcode === Opcode.BINARY;
    this.#emit("onMessage", () => {
      this.#handlers.onMessage(data, isBinary);
    });
  }

  #resetMessage(): void {
    this.#msgOpcode = 0;
    this.#msgCompressed = false;
    this.#msgLength = 0;
    this.#msgBuffered = 0;
    this.#fragments = [];
    this.#textParts = [];
  }

  #emit(name: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#fail(new WebSocketHandlerError(name, error), true);
    }
  }

  #protocol(reason: string, message: string): void {
    this.#fail(new WebSocketProtocolError(1002, reason, message));
  }

  #fail(error: WebSocketProtocolError, afterClose = false): void {
    if (this.#state === S_FAILED || (this.#state === S_CLOSED && !afterClose)) return;
    this.#state = S_FAILED;
    this.#failure = error;
    this.#held = [];
    this.#resetMessage();
    this.#control = EMPTY;
    try {
      this.#handlers.onError(error);
    } catch {
      // The parser has stopped already; there is nobody left to tell.
    }
  }
}

/** The pieces as one buffer: the piece itself when there is one. */
function concat(pieces: readonly Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0] ?? EMPTY;
  let total = 0;
  for (const p of pieces) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
