/**
 * The HTTP/1.1 response parser: a synchronous state machine fed bytes, emitting events, for
 * the client side. No I/O, no timers.
 *
 * @module
 */

import { Buffer } from "node:buffer";

import { HttpResponseParseError, HttpResponseTooLargeError, InvalidOptionError } from "../../errors.js";
import { EMPTY_HEADERS, HttpHeaders } from "./http-headers.js";

/** Default of {@link ResponseParserOptions.maxStatusLineLength}: 8 KiB. */
export const DEFAULT_MAX_STATUS_LINE_LENGTH = 8 * 1024;
/** Default of {@link ResponseParserOptions.maxResponseHeaderSize}: 16 KiB. */
export const DEFAULT_MAX_RESPONSE_HEADER_SIZE = 16 * 1024;
/** Default of {@link ResponseParserOptions.maxResponseHeaderCount}: 100 fields. */
export const DEFAULT_MAX_RESPONSE_HEADER_COUNT = 100;
/** Default of {@link ResponseParserOptions.maxResponseBodySize}: 16 MiB. */
export const DEFAULT_MAX_RESPONSE_BODY_SIZE = 16 * 1024 * 1024;
/** Default of {@link ResponseParserOptions.maxChunkLineLength} for responses: 4 KiB. */
export const DEFAULT_MAX_RESPONSE_CHUNK_LINE_LENGTH = 4 * 1024;

/** How a response body is framed: none, by `Content-Length`, chunked, or until the connection closes. */
export type ResponseBodyKind = "none" | "length" | "chunked" | "close";

/** A response's status line and header section. */
export interface ResponseHead {
  /** The minor HTTP version: 0 or 1. */
  readonly versionMinor: number;
  /** The status code. */
  readonly status: number;
  /** The reason phrase (may be empty). */
  readonly reason: string;
  /** The header fields in order, names lowercased. */
  readonly headers: HttpHeaders;
  /** Whether the connection can carry another request after this response. */
  readonly keepAlive: boolean;
  /** How the body is framed. */
  readonly bodyKind: ResponseBodyKind;
  /** The `Content-Length` for `length`, 0 for `none`, null otherwise. */
  readonly contentLength: number | null;
}

/** What a {@link ResponseParser} calls. A callback must not throw. */
export interface ResponseParserCallbacks {
  /**
   * A final response's head (1xx interim responses other than 101 are skipped).
   * @returns true when the response has no body whatever its fields say: the answer to HEAD.
   *   The head's `bodyKind` then becomes `none` and its `keepAlive` ignores the framing.
   */
  onResponseHead(head: ResponseHead): boolean | void;
  /** A piece of the body: a view into the chunk given to `execute()`, never empty. */
  onBody(chunk: Uint8Array): void;
  /** The response is complete. */
  onResponseComplete(trailers: HttpHeaders): void;
  /** The input is not a valid response stream; the parser has stopped for good. */
  onError(error: HttpResponseParseError): void;
}

/** Limits of a {@link ResponseParser}; each has a named default. */
export interface ResponseParserOptions {
  /**
   * The longest status line, CRLF not counted.
   * @defaultValue {@link DEFAULT_MAX_STATUS_LINE_LENGTH} (8192)
   */
  maxStatusLineLength?: number;
  /**
   * The largest header (or trailer) section, CRLFs counted.
   * @defaultValue {@link DEFAULT_MAX_RESPONSE_HEADER_SIZE} (16384)
   */
  maxResponseHeaderSize?: number;
  /**
   * The most header (or trailer) fields.
   * @defaultValue {@link DEFAULT_MAX_RESPONSE_HEADER_COUNT} (100)
   */
  maxResponseHeaderCount?: number;
  /**
   * The largest body, announced or received; over it fails with `HttpResponseTooLargeError`.
   * @defaultValue {@link DEFAULT_MAX_RESPONSE_BODY_SIZE} (16 MiB)
   */
  maxResponseBodySize?: number;
  /**
   * The longest chunk-size line, CRLF not counted.
   * @defaultValue {@link DEFAULT_MAX_RESPONSE_CHUNK_LINE_LENGTH} (4096)
   */
  maxChunkLineLength?: number;
}

const S_STATUS = 0;
const S_HEADER = 1;
const S_BODY_LENGTH = 2;
const S_BODY_CLOSE = 3;
const S_CHUNK_SIZE = 4;
const S_CHUNK_DATA = 5;
const S_CHUNK_CRLF = 6;
const S_TRAILER = 7;
const S_DEAD = 8;

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

const TOKEN = new Uint8Array(256);
for (const ch of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[ch.charCodeAt(0)] = 1;

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 16; c++) {
  HEX["0123456789abcdef".charCodeAt(c)] = c;
  HEX["0123456789ABCDEF".charCodeAt(c)] = c;
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function positive(options: ResponseParserOptions, key: keyof ResponseParserOptions, fallback: number): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidOptionError(key, `must be a positive safe integer, got ${String(value)}`);
  return value;
}

function parseError(reason: string, message: string): HttpResponseParseError {
  return new HttpResponseParseError(reason, message);
}

/**
 * Parses a stream of HTTP/1.1 responses, fed in chunks of any size: `onResponseHead`, `onBody`
 * (zero or more times), `onResponseComplete` per response; or `onError` once, after which it
 * ignores all input. Interim 1xx responses are skipped, except 101 (the connection then
 * belongs to another protocol, and the parser stops after it).
 *
 * Lenient where clients are (a reason phrase may be empty or missing, identical repeated
 * `Content-Length` fields are folded, `Transfer-Encoding` wins over `Content-Length`), strict
 * where framing is at stake: bare LF, malformed or conflicting lengths and malformed chunks
 * are errors.
 */
export class ResponseParser {
  private readonly callbacks: ResponseParserCallbacks;
  private readonly maxStatusLineLength: number;
  private readonly maxHeaderSize: number;
  private readonly maxHeaderCount: number;
  private readonly maxBodySize: number;
  private readonly maxChunkLineLength: number;

  private state = S_STATUS;
  private stash: Buffer = EMPTY;
  private sectionBytes = 0;
  private versionMinor = 1;
  private status = 0;
  private reason = "";
  private fields: string[] = [];
  private trailers: string[] | null = null;
  private remaining = 0;
  private bodyTotal = 0;
  private crlfSeen = 0;
  private keepAlive = true;

  /**
   * @param callbacks - where events go.
   * @param options - limits; see {@link ResponseParserOptions}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when a limit is not a positive integer.
   */
  constructor(callbacks: ResponseParserCallbacks, options: ResponseParserOptions = {}) {
    this.callbacks = callbacks;
    this.maxStatusLineLength = positive(options, "maxStatusLineLength", DEFAULT_MAX_STATUS_LINE_LENGTH);
    this.maxHeaderSize = positive(options, "maxResponseHeaderSize", DEFAULT_MAX_RESPONSE_HEADER_SIZE);
    this.maxHeaderCount = positive(options, "maxResponseHeaderCount", DEFAULT_MAX_RESPONSE_HEADER_COUNT);
    this.maxBodySize = positive(options, "maxResponseBodySize", DEFAULT_MAX_RESPONSE_BODY_SIZE);
    this.maxChunkLineLength = positive(options, "maxChunkLineLength", DEFAULT_MAX_RESPONSE_CHUNK_LINE_LENGTH);
  }

  /** Whether the parser has stopped for good (after an error, a 101, or a body ended by close). */
  get isStopped(): boolean {
    return this.state === S_DEAD;
  }

  /** Whether the parser is between responses (nothing of a response received). */
  get isIdle(): boolean {
    return this.state === S_STATUS && this.stash.length === 0;
  }

  /**
   * Parses the next bytes, emitting events synchronously.
   * @param data - any chunk of the stream.
   */
  execute(data: Uint8Array): void {
    if (this.state === S_DEAD) return;
    const buf = toBuffer(data);
    const len = buf.length;
    let pos = 0;
    while (pos < len && this.state !== S_DEAD) {
      switch (this.state) {
        case S_STATUS:
        case S_HEADER:
        case S_CHUNK_SIZE:
        case S_TRAILER: {
          const limit =
            this.state === S_STATUS
              ? this.maxStatusLineLength + 2
              : this.state === S_CHUNK_SIZE
                ? this.maxChunkLineLength + 2
                : this.maxHeaderSize - this.sectionBytes;
          const lf = buf.indexOf(LF, pos);
          const room = limit - this.stash.length;
          if (lf < 0 || lf - pos + 1 > room) {
            if ((lf < 0 ? len - pos : lf - pos + 1) >= room) {
              this.tooLong();
              return;
            }
            this.stash = this.stash.length === 0 ? Buffer.from(buf.subarray(pos)) : Buffer.concat([this.stash, buf.subarray(pos)]);
            return;
          }
          let line: Buffer;
          if (this.stash.length === 0) {
            line = buf.subarray(pos, lf + 1);
          } else {
            line = Buffer.concat([this.stash, buf.subarray(pos, lf + 1)]);
            this.stash = EMPTY;
          }
          pos = lf + 1;
          if (line.length < 2 || line[line.length - 2] !== CR) {
            this.fail(parseError("bare-lf", "a line ends with LF without CR"));
            return;
          }
          this.line(line, line.length - 2);
          break;
        }
        case S_BODY_LENGTH:
        case S_CHUNK_DATA: {
          const n = Math.min(len - pos, this.remaining);
          const chunk = buf.subarray(pos, pos + n);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            if (this.state === S_BODY_LENGTH) this.state = S_STATUS;
            else {
              this.state = S_CHUNK_CRLF;
              this.crlfSeen = 0;
            }
          }
          this.callbacks.onBody(chunk);
          if (this.state === S_STATUS) this.complete(EMPTY_HEADERS);
          break;
        }
        case S_BODY_CLOSE: {
          const chunk = pos === 0 ? buf : buf.subarray(pos);
          pos = len;
          this.bodyTotal += chunk.length;
          if (this.bodyTotal > this.maxBodySize) {
            this.fail(new HttpResponseTooLargeError("body-too-large", this.maxBodySize));
            return;
          }
          this.callbacks.onBody(chunk);
          break;
        }
        case S_CHUNK_CRLF: {
          const expected = this.crlfSeen === 0 ? CR : LF;
          if (buf[pos] !== expected) {
            this.fail(parseError("missing-chunk-crlf", "chunk data is not followed by CRLF"));
            return;
          }
          pos++;
          if (++this.crlfSeen === 2) this.state = S_CHUNK_SIZE;
          break;
        }
        default:
          return;
      }
    }
  }

  /**
   * Tells the parser the connection ended: completes a body framed by the close; ending inside
   * any other response is an error (`incomplete-response`).
   */
  finish(): void {
    if (this.state === S_DEAD) return;
    if (this.state === S_BODY_CLOSE) {
      this.state = S_DEAD;
      this.callbacks.onResponseComplete(EMPTY_HEADERS);
      return;
    }
    if (this.isIdle) {
      this.state = S_DEAD;
      return;
    }
    this.fail(parseError("incomplete-response", "the connection ended inside a response"));
  }

  // -------------------------------------------------------------------------------------------

  private tooLong(): void {
    switch (this.state) {
      case S_STATUS:
        this.fail(new HttpResponseTooLargeError("status-line-too-long", this.maxStatusLineLength));
        return;
      case S_CHUNK_SIZE:
        this.fail(parseError("chunk-line-too-long", `chunk-size line is longer than ${this.maxChunkLineLength} bytes`));
        return;
      default:
        this.fail(new HttpResponseTooLargeError("header-section-too-large", this.maxHeaderSize));
    }
  }

  /** One complete line, content in line[0, end). */
  private line(line: Buffer, end: number): void {
    switch (this.state) {
      case S_STATUS:
        this.statusLine(line, end);
        return;
      case S_HEADER:
      case S_TRAILER: {
        this.sectionBytes += end + 2;
        if (end === 0) {
          if (this.state === S_HEADER) this.headComplete();
          else {
            const trailers = this.trailers === null ? EMPTY_HEADERS : new HttpHeaders(this.trailers);
            this.state = S_STATUS;
            this.complete(trailers);
          }
          return;
        }
        this.field(line, end);
        return;
      }
      case S_CHUNK_SIZE:
        this.chunkSize(line, end);
        return;
      default:
        return;
    }
  }

  private statusLine(b: Buffer, end: number): void {
    // Empty lines before a status line are tolerated, as a request's are (RFC 9112 §2.2).
    if (end === 0) return;
    const ok =
      end >= 12 &&
      b.toString("latin1", 0, 7) === "HTTP/1." &&
      (b[7] === 0x30 || b[7] === 0x31) &&
      b[8] === 0x20 &&
      isDigit(b[9]) &&
      isDigit(b[10]) &&
      isDigit(b[11]) &&
      (end === 12 || b[12] === 0x20);
    if (!ok) {
      this.fail(parseError("invalid-status-line", "the status line is not HTTP/1.x NNN reason"));
      return;
    }
    for (let i = 13; i < end; i++) {
      const c = b[i]!;
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
        this.fail(parseError("invalid-status-line", "the reason phrase has a control character"));
        return;
      }
    }
    this.versionMinor = b[7]! - 0x30;
    this.status = (b[9]! - 0x30) * 100 + (b[10]! - 0x30) * 10 + (b[11]! - 0x30);
    this.reason = end > 13 ? b.toString("latin1", 13, end) : "";
    this.fields = [];
    this.trailers = null;
    this.sectionBytes = 0;
    this.state = S_HEADER;
  }

  private field(b: Buffer, end: number): void {
    let i = 0;
    while (i < end && TOKEN[b[i]!] === 1) i++;
    if (i === 0 || i === end || b[i] !== 0x3a) {
      this.fail(parseError("invalid-field", "a field line is not name: value"));
      return;
    }
    const name = b.toString("latin1", 0, i).toLowerCase();
    let s = i + 1;
    while (s < end && (b[s] === 0x20 || b[s] === 0x09)) s++;
    let e = end;
    while (e > s && (b[e - 1] === 0x20 || b[e - 1] === 0x09)) e--;
    for (let k = s; k < e; k++) {
      const c = b[k]!;
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
        this.fail(parseError("invalid-field-value", "a field value has a control character"));
        return;
      }
    }
    const list = this.state === S_TRAILER ? (this.trailers ??= []) : this.fields;
    if (list.length >= this.maxHeaderCount * 2) {
      this.fail(new HttpResponseTooLargeError("too-many-headers", this.maxHeaderCount));
      return;
    }
    list.push(name, b.toString("latin1", s, e));
  }

  private headComplete(): void {
    const fields = this.fields;
    const status = this.status;
    let contentLength = -1;
    let chunked = false;
    let hasTransferEncoding = false;
    let close = false;
    let keepAliveOption = false;
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      if (name === "content-length") {
        if (!/^\d+$/.test(value)) {
          this.fail(parseError("invalid-content-length", "Content-Length is not a decimal number"));
          return;
        }
        const n = Number(value);
        if (!Number.isSafeInteger(n) || (contentLength !== -1 && contentLength !== n)) {
          this.fail(parseError("invalid-content-length", "Content-Length is too large or conflicting"));
          return;
        }
        contentLength = n;
      } else if (name === "transfer-encoding") {
        hasTransferEncoding = true;
        chunked = /(^|,)\s*chunked\s*$/i.test(value);
      } else if (name === "connection") {
        for (const option of value.split(",")) {
          const o = option.trim().toLowerCase();
          if (o === "close") close = true;
          else if (o === "keep-alive") keepAliveOption = true;
        }
      }
    }
    if (status >= 100 && status < 200 && status !== 101) {
      // Interim response: skip it and wait for the final one.
      this.state = S_STATUS;
      return;
    }
    let keepAlive = this.versionMinor === 1 ? !close : keepAliveOption && !close;
    let bodyKind: ResponseBodyKind;
    let length: number | null = 0;
    if (status === 101 || status === 204 || status === 304) {
      bodyKind = "none";
    } else if (hasTransferEncoding) {
      // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3), but such a message may be
      // an attempt at smuggling: do not reuse the connection.
      if (contentLength !== -1) keepAlive = false;
      bodyKind = chunked ? "chunked" : "close";
      length = null;
    } else if (contentLength !== -1) {
      bodyKind = contentLength === 0 ? "none" : "length";
      length = contentLength;
    } else {
      bodyKind = "close";
      length = null;
    }
    const keepAliveWithoutBody = keepAlive;
    if (bodyKind === "close") keepAlive = false;
    this.keepAlive = keepAlive;
    this.bodyTotal = 0;
    const head: Mutable<ResponseHead> = {
      versionMinor: this.versionMinor,
      status,
      reason: this.reason,
      headers: new HttpHeaders(fields),
      keepAlive,
      bodyKind,
      contentLength: length,
    };
    const noBody = this.callbacks.onResponseHead(head);
    if (this.state === S_DEAD) return;
    if (noBody === true) {
      // The answer to HEAD: whatever its fields announce, nothing follows.
      head.bodyKind = "none";
      head.keepAlive = keepAliveWithoutBody;
      this.keepAlive = keepAliveWithoutBody;
    } else if (bodyKind === "length" && length !== null && length > this.maxBodySize) {
      this.fail(new HttpResponseTooLargeError("body-too-large", this.maxBodySize));
      return;
    }
    if (status === 101) {
      this.state = S_DEAD;
      this.callbacks.onResponseComplete(EMPTY_HEADERS);
      return;
    }
    if (noBody === true || bodyKind === "none") {
      this.state = S_STATUS;
      this.complete(EMPTY_HEADERS);
      return;
    }
    if (bodyKind === "length") {
      this.state = S_BODY_LENGTH;
      this.remaining = length!;
    } else if (bodyKind === "chunked") {
      this.state = S_CHUNK_SIZE;
    } else {
      this.state = S_BODY_CLOSE;
    }
  }

  private chunkSize(b: Buffer, end: number): void {
    let i = 0;
    let size = 0;
    while (i < end) {
      const d = HEX[b[i]!]!;
      if (d < 0) break;
      size = size * 16 + d;
      if (size > Number.MAX_SAFE_INTEGER) {
        this.fail(parseError("invalid-chunk-size", "a chunk size is too large"));
        return;
      }
      i++;
    }
    // Extensions (after ';') are ignored; anything else after the size is an error.
    while (i < end && (b[i] === 0x20 || b[i] === 0x09)) i++;
    if (i === 0 || (i < end && b[i] !== 0x3b)) {
      this.fail(parseError("invalid-chunk-size", "a chunk size is not hexadecimal"));
      return;
    }
    this.bodyTotal += size;
    if (this.bodyTotal > this.maxBodySize) {
      this.fail(new HttpResponseTooLargeError("body-too-large", this.maxBodySize));
      return;
    }
    if (size === 0) {
      this.state = S_TRAILER;
      this.sectionBytes = 0;
    } else {
      this.state = S_CHUNK_DATA;
      this.remaining = size;
    }
  }

  private complete(trailers: HttpHeaders): void {
    if (!this.keepAlive) this.state = S_DEAD;
    this.callbacks.onResponseComplete(trailers);
  }

  private fail(error: HttpResponseParseError): void {
    this.state = S_DEAD;
    this.stash = EMPTY;
    this.callbacks.onError(error);
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}
