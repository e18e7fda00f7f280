/**
 * `permessage-deflate` (RFC 7692): negotiating its parameters, and compressing and
 * decompressing whole messages with `node:zlib`'s raw deflate.
 *
 * Each message is compressed with `Z_SYNC_FLUSH` and sent without the trailing
 * `00 00 ff ff`; the receiver puts it back before inflating. Context takeover (the sliding
 * window carried from one message to the next) is done with zlib's preset dictionary: the last
 * 2^windowBits bytes of the messages already sent (or received) prime the window of the next
 * call, which is exactly the state a streaming compressor would be in. That keeps everything
 * synchronous (the parser stays a pure function of its bytes) at the price of re-priming the
 * window per message (hashing up to 32 KiB on the sending side); use the `*_no_context_takeover`
 * parameters where that matters.
 *
 * @module
 */

import { constants as zlibConstants, deflateRawSync, inflateRawSync } from "node:zlib";
import type { ZlibOptions } from "node:zlib";

import { InvalidOptionError, WebSocketHandshakeError, WebSocketMessageTooBigError, WebSocketProtocolError } from "../../errors.js";
import type { ExtensionOffer } from "./handshake.js";

/** The extension's registered name. */
export const PERMESSAGE_DEFLATE = "permessage-deflate";
/** Messages shorter than this many bytes are sent uncompressed by default (as `ws` does). */
export const DEFAULT_DEFLATE_THRESHOLD = 1024;
/** The default zlib compression level (zlib's own default). */
export const DEFAULT_DEFLATE_LEVEL = zlibConstants.Z_DEFAULT_COMPRESSION;
/** The default zlib memory level. */
export const DEFAULT_DEFLATE_MEM_LEVEL = 8;
/** The largest LZ77 window (2^15 = 32 KiB), the default on both sides. */
export const MAX_WINDOW_BITS = 15;

const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
/** zlib turns a raw-deflate window of 8 bits into 9, which a peer limited to 8 could not read. */
const MIN_COMPRESS_WINDOW_BITS = 9;
const MIN_WINDOW_BITS = 8;

/** How to negotiate and run permessage-deflate; every field is optional. */
export interface PerMessageDeflateOptions {
  /**
   * Server: never carry the compression window between messages, and say so. Client: ask the
   * server not to.
   * @defaultValue false
   */
  serverNoContextTakeover?: boolean;
  /**
   * Server: require the client not to carry its window. Client: promise not to.
   * @defaultValue false
   */
  clientNoContextTakeover?: boolean;
  /**
   * Server: the largest window (in bits, 9 to 15) it compresses with. Client: ask the server for
   * at most this window (sent only when below 15).
   * @defaultValue {@link MAX_WINDOW_BITS} (15)
   */
  serverMaxWindowBits?: number;
  /**
   * Server: the largest window (9 to 15) the client may compress with, when the client allows
   * the server to choose. Client: the window it offers to compress with (sent only when below 15).
   * @defaultValue {@link MAX_WINDOW_BITS} (15)
   */
  clientMaxWindowBits?: number;
  /**
   * Messages smaller than this (in bytes) are sent uncompressed.
   * @defaultValue {@link DEFAULT_DEFLATE_THRESHOLD} (1024)
   */
  threshold?: number;
  /**
   * zlib compression level, -1 to 9.
   * @defaultValue {@link DEFAULT_DEFLATE_LEVEL} (-1: zlib's default, 6)
   */
  level?: number;
  /**
   * zlib memory level, 1 to 9.
   * @defaultValue {@link DEFAULT_DEFLATE_MEM_LEVEL} (8)
   */
  memLevel?: number;
}

/** The parameters both sides agreed on. Window sizes are in bits (8 to 15). */
export interface PerMessageDeflateParams {
  /** The server starts each message with an empty window. */
  readonly serverNoContextTakeover: boolean;
  /** The client starts each message with an empty window. */
  readonly clientNoContextTakeover: boolean;
  /** The largest window the server compresses with. */
  readonly serverMaxWindowBits: number;
  /** The largest window the client compresses with. */
  readonly clientMaxWindowBits: number;
}

/** What a server agreed to: the parameters and the `Sec-WebSocket-Extensions` value to answer with. */
export interface PerMessageDeflateAgreement {
  /** The negotiated parameters. */
  readonly params: PerMessageDeflateParams;
  /** The response header value, such as `permessage-deflate; server_no_context_takeover`. */
  readonly response: string;
}

interface ParsedParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | null;
  /** `true` when present without a value (a client saying "you may choose"). */
  clientMaxWindowBits: number | true | null;
}

/**
 * Checks the options, naming the bad one.
 *
 * @param options - the options to check.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a value out of bounds.
 */
export function validatePerMessageDeflateOptions(options: PerMessageDeflateOptions): void {
  const bits = (name: "serverMaxWindowBits" | "clientMaxWindowBits"): void => {
    const v = options[name];
    if (v !== undefined && (!Number.isInteger(v) || v < MIN_COMPRESS_WINDOW_BITS || v > MAX_WINDOW_BITS)) {
      throw new InvalidOptionError(name, `must be an integer from 9 to 15, got ${v}`);
    }
  };
  bits("serverMaxWindowBits");
  bits("clientMaxWindowBits");
  const t = options.threshold;
  if (t !== undefined && (!Number.isInteger(t) || t < 0)) throw new InvalidOptionError("threshold", `must be a non-negative integer, got ${t}`);
  const l = options.level;
  if (l !== undefined && (!Number.isInteger(l) || l < -1 || l > 9)) throw new InvalidOptionError("level", `must be an integer from -1 to 9, got ${l}`);
  const m = options.memLevel;
  if (m !== undefined && (!Number.isInteger(m) || m < 1 || m > 9)) throw new InvalidOptionError("memLevel", `must be an integer from 1 to 9, got ${m}`);
}

/** Reads one offer's (or response's) parameters; null when one is unknown, repeated or malformed. */
function parseParams(offer: ExtensionOffer): ParsedParams | null {
  const out: ParsedParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: null, clientMaxWindowBits: null };
  const seen = new Set<string>();
  for (const [name, value] of offer.params) {
    if (seen.has(name)) return null;
    seen.add(name);
    switch (name) {
      case "server_no_context_takeover":
        if (value !== null) return null;
        out.serverNoContextTakeover = true;
        break;
      case "client_no_context_takeover":
        if (value !== null) return null;
        out.clientNoContextTakeover = true;
        break;
      case "server_max_window_bits": {
        const bits = parseBits(value);
        if (bits === null) return null;
        out.serverMaxWindowBits = bits;
        break;
      }
      case "client_max_window_bits":
        if (value === null) {
          out.clientMaxWindowBits = true;
        } else {
          const bits = parseBits(value);
          if (bits === null) return null;
          out.clientMaxWindowBits = bits;
        }
        break;
      default:
        return null;
    }
  }
  return out;
}

function parseBits(value: string | null): number | null {
  if (value === null || !/^(?:8|9|1[0-5])$/.test(value)) return null;
  return Number(value);
}

/**
 * Server side: picks the first acceptable permessage-deflate offer from a client's
 * `Sec-WebSocket-Extensions` (RFC 7692 section 7.1). Offers with unknown, repeated or malformed
 * parameters are declined, as the RFC asks, and the next one is tried.
 *
 * @param offers - the client's parsed extension offers (see `parseExtensions`), in order.
 * @param options - the server's configuration.
 * @returns the agreement, or null when no offer is acceptable (the connection goes on without it).
 */
export function negotiatePerMessageDeflate(offers: readonly ExtensionOffer[], options: PerMessageDeflateOptions = {}): PerMessageDeflateAgreement | null {
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const p = parseParams(offer);
    if (p === null) continue;
    const serverNoContextTakeover = p.serverNoContextTakeover || options.serverNoContextTakeover === true;
    const clientNoContextTakeover = p.clientNoContextTakeover || options.clientNoContextTakeover === true;
    // A window of 8 is accepted: this side then sends uncompressed (see PerMessageDeflate).
    const serverMaxWindowBits = Math.min(options.serverMaxWindowBits ?? MAX_WINDOW_BITS, p.serverMaxWindowBits ?? MAX_WINDOW_BITS);
    let clientMaxWindowBits = MAX_WINDOW_BITS;
    const parts = [PERMESSAGE_DEFLATE];
    if (serverNoContextTakeover) parts.push("server_no_context_takeover");
    if (clientNoContextTakeover) parts.push("client_no_context_takeover");
    if (p.serverMaxWindowBits !== null || serverMaxWindowBits < MAX_WINDOW_BITS) parts.push(`server_max_window_bits=${serverMaxWindowBits}`);
    if (p.clientMaxWindowBits !== null) {
      const offered = p.clientMaxWindowBits === true ? MAX_WINDOW_BITS : p.clientMaxWindowBits;
      clientMaxWindowBits = Math.min(options.clientMaxWindowBits ?? MAX_WINDOW_BITS, offered);
      if (clientMaxWindowBits < MAX_WINDOW_BITS || p.clientMaxWindowBits !== true) parts.push(`client_max_window_bits=${clientMaxWindowBits}`);
    }
    return {
      params: { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits },
      response: parts.join("; "),
    };
  }
  return null;
}

/**
 * Client side: the permessage-deflate offer for `Sec-WebSocket-Extensions`. It always lets the
 * server choose the client's window (`client_max_window_bits`).
 *
 * @param options - the client's configuration.
 * @returns the header value, such as `permessage-deflate; client_max_window_bits`.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for an option out of bounds.
 */
export function perMessageDeflateOffer(options: PerMessageDeflateOptions = {}): string {
  validatePerMessageDeflateOptions(options);
  const parts = [PERMESSAGE_DEFLATE];
  if (options.serverNoContextTakeover === true) parts.push("server_no_context_takeover");
  if (options.clientNoContextTakeover === true) parts.push("client_no_context_takeover");
  const smwb = options.serverMaxWindowBits ?? MAX_WINDOW_BITS;
  if (smwb < MAX_WINDOW_BITS) parts.push(`server_max_window_bits=${smwb}`);
  const cmwb = options.clientMaxWindowBits ?? MAX_WINDOW_BITS;
  parts.push(cmwb < MAX_WINDOW_BITS ? `client_max_window_bits=${cmwb}` : "client_max_window_bits");
  return parts.join("; ");
}

/**
 * Client side: checks the server's permessage-deflate response against the offer made with
 * `options`, and returns the parameters to run with.
 *
 * @param response - the server's one accepted extension.
 * @param options - the options the offer was made with.
 * @returns the negotiated parameters.
 * @throws WebSocketHandshakeError (`WL_ERR_WS_HANDSHAKE`) when the response is not one the offer
 *   allows (unknown, repeated or malformed parameters, or a window larger than asked for).
 */
export function acceptPerMessageDeflate(response: ExtensionOffer, options: PerMessageDeflateOptions = {}): PerMessageDeflateParams {
  const bad = (why: string): WebSocketHandshakeError => new WebSocketHandshakeError(0, "bad-extension-response", `bad permessage-deflate response: ${why}`);
  if (response.name !== PERMESSAGE_DEFLATE) throw bad(`unexpected extension ${response.name}`);
  const p = parseParams(response);
  if (p === null) throw bad("unknown, repeated or malformed parameter");
  const askedServer = options.serverMaxWindowBits ?? MAX_WINDOW_BITS;
  const serverMaxWindowBits = p.serverMaxWindowBits ?? MAX_WINDOW_BITS;
  if (serverMaxWindowBits > askedServer) throw bad(`server_max_window_bits=${serverMaxWindowBits} is over the ${askedServer} asked for`);
  if (p.clientMaxWindowBits === true) throw bad("client_max_window_bits without a value");
  const offeredClient = options.clientMaxWindowBits ?? MAX_WINDOW_BITS;
  const clientMaxWindowBits = p.clientMaxWindowBits ?? offeredClient;
  if (clientMaxWindowBits > offeredClient) throw bad(`client_max_window_bits=${clientMaxWindowBits} is over the ${offeredClient} offered`);
  return {
    serverNoContextTakeover: p.serverNoContextTakeover,
    clientNoContextTakeover: p.clientNoContextTakeover || options.clientNoContextTakeover === true,
    serverMaxWindowBits,
    clientMaxWindowBits,
  };
}

/**
 * One connection's compressor and decompressor, set up from the negotiated parameters.
 * Synchronous: it is called from the frame parser and the frame writer.
 */
export class PerMessageDeflate {
  /** Messages shorter than this are sent uncompressed. */
  readonly threshold: number;
  /**
   * False when the peer limited this side's window to 8 bits, which zlib cannot produce:
   * everything is then sent uncompressed (always allowed), and received messages still inflate.
   */
  readonly canCompress: boolean;
  readonly #sendBits: number;
  readonly #sendTakeover: boolean;
  readonly #recvTakeover: boolean;
  readonly #level: number;
  readonly #memLevel: number;
  #sendWindow: Uint8Array | null = null;
  #recvWindow: Uint8Array | null = null;

  /**
   * @param role - which side this is: it decides which half of `params` applies to sending.
   * @param params - the negotiated parameters.
   * @param options - `threshold`, `level` and `memLevel` (the rest is in `params`).
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for an option out of bounds.
   */
  constructor(role: "server" | "client", readonly params: PerMessageDeflateParams, options: PerMessageDeflateOptions = {}) {
    validatePerMessageDeflateOptions(options);
    const server = role === "server";
    this.#sendBits = server ? params.serverMaxWindowBits : params.clientMaxWindowBits;
    this.#sendTakeover = !(server ? params.serverNoContextTakeover : params.clientNoContextTakeover);
    this.#recvTakeover = !(server ? params.clientNoContextTakeover : params.serverNoContextTakeover);
    this.canCompress = this.#sendBits >= MIN_COMPRESS_WINDOW_BITS;
    this.threshold = options.threshold ?? DEFAULT_DEFLATE_THRESHOLD;
    this.#level = options.level ?? DEFAULT_DEFLATE_LEVEL;
    this.#memLevel = options.memLevel ?? DEFAULT_DEFLATE_MEM_LEVEL;
    const recvBits = server ? params.clientMaxWindowBits : params.serverMaxWindowBits;
    if (recvBits < MIN_WINDOW_BITS || recvBits > MAX_WINDOW_BITS) throw new InvalidOptionError("params", `window bits must be 8 to 15, got ${recvBits}`);
  }

  /**
   * Whether a message of `length` bytes should be compressed.
   *
   * @param length - the message's size in bytes.
   * @returns true when it is at least `threshold` and this side may compress.
   */
  shouldCompress(length: number): boolean {
    return this.canCompress && length >= this.threshold;
  }

  /**
   * Compresses one whole message (RFC 7692 section 7.2.1), carrying the window over when
   * context takeover is on.
   *
   * @param data - the message.
   * @returns the payload to send with RSV1 set.
   */
  compress(data: Uint8Array): Uint8Array {
    const options: ZlibOptions = {
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
      windowBits: this.#sendBits,
      level: this.#level,
      memLevel: this.#memLevel,
    };
    if (this.#sendWindow !== null) options.dictionary = this.#sendWindow;
    const out = deflateRawSync(data, options);
    if (this.#sendTakeover) this.#sendWindow = slide(this.#sendWindow, data, 1 << this.#sendBits);
    // A sync flush always ends in the empty stored block 00 00 ff ff, which is not sent.
    return endsWithTail(out) ? out.subarray(0, out.length - 4) : out;
  }

  /**
   * Decompresses one whole message (RFC 7692 section 7.2.2).
   *
   * @param fragments - the message's payload, as received (unmasked), in order.
   * @param maxLength - the largest decompressed size allowed.
   * @returns the message.
   * @throws WebSocketMessageTooBigError (`WL_ERR_WS_MESSAGE_TOO_BIG`, 1009) past `maxLength`;
   *   inflating stops there, so a compression bomb costs no more than `maxLength`.
   * @throws WebSocketProtocolError (`WL_ERR_WS_PROTOCOL`, 1007) when the data does not inflate.
   */
  decompress(fragments: readonly Uint8Array[], maxLength: number): Uint8Array {
    let total = TAIL.length;
    for (const f of fragments) total += f.length;
    const input = new Uint8Array(total);
    let at = 0;
    for (const f of fragments) {
      input.set(f, at);
      at += f.length;
    }
    input.set(TAIL, at);
    const options: ZlibOptions = { finishFlush: zlibConstants.Z_SYNC_FLUSH, windowBits: MAX_WINDOW_BITS, maxOutputLength: Math.max(1, maxLength) };
    if (this.#recvWindow !== null) options.dictionary = this.#recvWindow;
    let out: Buffer;
    try {
      out = inflateRawSync(input, options);
    } catch (error) {
      if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") throw new WebSocketMessageTooBigError(maxLength, "decompressed message");
      throw new WebSocketProtocolError(1007, "invalid-compressed-data", "compressed message does not inflate", "WL_ERR_WS_PROTOCOL", { cause: error });
    }
    if (out.length > maxLength) throw new WebSocketMessageTooBigError(maxLength, "decompressed message");
    // A receiver keeps the full 32 KiB: any window the peer used fits in it.
    if (this.#recvTakeover) this.#recvWindow = slide(this.#recvWindow, out, 1 << MAX_WINDOW_BITS);
    return out;
  }
}

function endsWithTail(b: Uint8Array): boolean {
  const n = b.length;
  return n >= 4 && b[n - 4] === 0 && b[n - 3] === 0 && b[n - 2] === 0xff && b[n - 1] === 0xff;
}

/** The last `size` bytes of `window` followed by `data`, as a new buffer. */
function slide(window: Uint8Array | null, data: Uint8Array, size: number): Uint8Array | null {
  const old = window ?? new Uint8Array(0);
  const total = old.length + data.length;
  const keep = Math.min(size, total);
  if (keep === 0) return window;
  const out = new Uint8Array(keep);
  if (data.length >= keep) {
    out.set(data.subarray(data.length - keep));
  } else {
    const fromOld = keep - data.length;
    out.set(old.subarray(old.length - fromOld), 0);
    out.set(data, fromOld);
  }
  return out;
}
