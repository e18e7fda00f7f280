/**
 * The HTTP/1.1 request parser: a synchronous state machine fed bytes, emitting events.
 *
 * It does no I/O and keeps no timers; the server protocol feeds it whatever `dataReceived` got
 * and answers its events. The decisions it makes (what it accepts, what it rejects with which
 * status, and where it differs from `node:http`) are listed in `README.md` next to this file.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import {
  HttpBodyTooLargeError,
  HttpBufferOverflowError,
  HttpHeadersTooLargeError,
  HttpParseError,
  HttpUriTooLongError,
  InvalidOptionError,
} from "../../errors.js";
import { EMPTY_HEADERS, HttpHeaders } from "./http-headers.js";

/** Default of {@link RequestParserOptions.maxRequestLineLength}: 8 KiB. */
export const DEFAULT_MAX_REQUEST_LINE_LENGTH = 8 * 1024;
/** Default of {@link RequestParserOptions.maxHeaderSize}: 16 KiB. */
export const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;
/** Default of {@link RequestParserOptions.maxHeaderCount}: 100 fields. */
export const DEFAULT_MAX_HEADER_COUNT = 100;
/** Default of {@link RequestParserOptions.maxBodySize}: 1 MiB. */
export const DEFAULT_MAX_BODY_SIZE = 1024 * 1024;
/** Default of {@link RequestParserOptions.maxChunkLineLength}: 4 KiB. */
export const DEFAULT_MAX_CHUNK_LINE_LENGTH = 4 * 1024;
/** Default of {@link RequestParserOptions.maxBufferedBytes}: 256 KiB. */
export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024;

/** How a request's body is framed. */
export type BodyKind = "none" | "length" | "chunked";

/** Everything up to the end of a request's header section. */
export interface RequestHead {
  /** The method, case kept (methods are case-sensitive): `GET`, `POST`, ... */
  readonly method: string;
  /** The request-target exactly as sent (origin, absolute, authority or asterisk form). */
  readonly target: string;
  /** The major HTTP version: always 1. */
  readonly versionMajor: number;
  /** The minor HTTP version: 0 or 1. */
  readonly versionMinor: number;
  /** The header fields in order, names lowercased. */
  readonly headers: HttpHeaders;
  /**
   * Whether the connection may carry another request after this one: HTTP/1.1 unless
   * `Connection: close`; HTTP/1.0 only with `Connection: keep-alive` (and never for an HTTP/1.0
   * request framed with `Transfer-Encoding`).
   */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue` on an HTTP/1.1 request: the client waits for `100 Continue`. */
  readonly expectContinue: boolean;
  /**
   * The client asks to switch protocols: an HTTP/1.1 request with an `Upgrade` field and an
   * `upgrade` option in `Connection` (a WebSocket handshake), or any `CONNECT`. The parser pauses
   * after such a request completes; see {@link RequestParser.detach}.
   */
  readonly upgrade: boolean;
  /** How the body is framed: always `none` for `CONNECT`, whose bytes after the head are the tunnel's. */
  readonly bodyKind: BodyKind;
  /** The body length: the `Content-Length` for `length`, 0 for `none`, null for `chunked`. */
  readonly contentLength: number | null;
}

/** What a {@link RequestParser} calls; a callback must not throw (see `execute`). */
export interface RequestParserCallbacks {
  /** A request's head was parsed. */
  onRequestHead(head: RequestHead): void;
  /**
   * A piece of the current request's body (never empty). It is a view into the chunk given to
   * `execute()`, not a copy: it stays valid as long as the caller does not reuse that chunk's
   * memory (node sockets never do); copy it to keep it past that.
   */
  onBody(chunk: Uint8Array): void;
  /** The current request is complete; `trailers` is empty unless a chunked body sent some. */
  onRequestComplete(trailers: HttpHeaders): void;
  /** The input is not a valid request stream; the parser has stopped for good. */
  onError(error: HttpParseError): void;
}

/** Limits of a {@link RequestParser}; each has a named default. */
export interface RequestParserOptions {
  /**
   * The longest request line, not counting its CRLF; longer is rejected with 414.
   * @defaultValue {@link DEFAULT_MAX_REQUEST_LINE_LENGTH} (8192)
   */
  maxRequestLineLength?: number;
  /**
   * The largest header section after the request line, counting every line's CRLF and the
   * final empty line; larger is rejected with 431. The trailer section has the same limit.
   * @defaultValue {@link DEFAULT_MAX_HEADER_SIZE} (16384)
   */
  maxHeaderSize?: number;
  /**
   * The most header fields (and, separately, trailer fields); more is rejected with 431.
   * @defaultValue {@link DEFAULT_MAX_HEADER_COUNT} (100)
   */
  maxHeaderCount?: number;
  /**
   * The largest body: a `Content-Length`, or the running sum of chunk sizes; larger is rejected
   * with 413 as soon as it is announced, before the bytes arrive.
   * @defaultValue {@link DEFAULT_MAX_BODY_SIZE} (1048576)
   */
  maxBodySize?: number;
  /**
   * The longest chunk-size line (size and ignored extensions), not counting its CRLF; longer
   * is rejected with 400.
   * @defaultValue {@link DEFAULT_MAX_CHUNK_LINE_LENGTH} (4096)
   */
  maxChunkLineLength?: number;
  /**
   * The most bytes `execute()` may be handed while the parser is paused (beyond the rest of
   * the chunk it was parsing when it paused); more fails with 503. A server that pauses the
   * parser must pause its transport too, and then never comes near this.
   * @defaultValue {@link DEFAULT_MAX_BUFFERED_BYTES} (262144)
   */
  maxBufferedBytes?: number;
}

// States. The order matters: everything from S_CLOSED on takes no more input.
const S_REQUEST_LINE = 0;
const S_HEADER_LINE = 1;
const S_BODY_LENGTH = 2;
const S_CHUNK_SIZE = 3;
const S_CHUNK_DATA = 4;
const S_CHUNK_CR = 5;
const S_CHUNK_LF = 6;
const S_TRAILER_LINE = 7;
const S_COMPLETE = 8;
const S_CLOSED = 9;
const S_DEAD = 10;

// readLine results other than a position.
const NEED_MORE = -1;
const OVER_LIMIT = -2;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const EQUALS = 0x3d;
const SLASH = 0x2f;
const STAR = 0x2a;

const CONN_CLOSE = 1;
const CONN_KEEP_ALIVE = 2;
const CONN_UPGRADE = 4;


/** tchar (RFC 9110 §5.6.2): what methods, field names and chunk-extension names are made of. */
const TOKEN = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") TOKEN[ch.charCodeAt(0)] = 1;

/** field-value bytes: HTAB, SP, VCHAR and obs-text; no other control character, no DEL. */
const VALUE = new Uint8Array(256);
VALUE[HTAB] = 1;
for (let c = 0x20; c <= 0x7e; c++) VALUE[c] = 1;
for (let c = 0x80; c <= 0xff; c++) VALUE[c] = 1;

/** request-target bytes: VCHAR only (no obs-text, no control, no space). */
const TARGET = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) TARGET[c] = 1;

/** qdtext (RFC 9110 §5.6.4) in a quoted chunk-extension value. */
const QDTEXT = new Uint8Array(256);
QDTEXT[HTAB] = 1;
QDTEXT[SP] = 1;
QDTEXT[0x21] = 1;
for (let c = 0x23; c <= 0x5b; c++) QDTEXT[c] = 1;
for (let c = 0x5d; c <= 0x7e; c++) QDTEXT[c] = 1;
for (let c = 0x80; c <= 0xff; c++) QDTEXT[c] = 1;

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c <= 9; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

// Names interned without decoding them: a common field name costs no string at all. Every
// name here is lowercase [a-z0-9-], which makes the `| 0x20` comparison in internName exact.
const COMMON_NAMES = [
  "host", "user-agent", "accept", "accept-encoding", "accept-language", "accept-charset",
  "connection", "content-length", "content-type", "transfer-encoding", "cookie", "authorization",
  "cache-control", "pragma", "referer", "origin", "upgrade", "expect", "if-modified-since",
  "if-none-match", "if-match", "if-unmodified-since", "if-range", "range", "te", "trailer",
  "keep-alive", "content-encoding", "content-language", "date", "via", "forwarded", "priority",
  "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "x-requested-with",
  "x-request-id", "traceparent", "dnt", "upgrade-insecure-requests", "sec-websocket-key",
  "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol",
  "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "sec-fetch-user", "sec-ch-ua",
  "sec-ch-ua-mobile", "sec-ch-ua-platform", "proxy-authorization", "max-forwards",
];
const NAMES_BY_LENGTH: (readonly (readonly [Uint8Array, string])[] | undefined)[] = [];
for (const name of COMMON_NAMES) {
  const list = (NAMES_BY_LENGTH[name.length] ??= []) as (readonly [Uint8Array, string])[];
  list.push([Buffer.from(name, "latin1"), name]);
}

const COMMON_METHODS = ["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "CONNECT"].map(
  (m) => [Buffer.from(m, "latin1"), m] as const,
);

const CLOSE_BYTES = Buffer.from("close", "latin1");
const KEEP_ALIVE_BYTES = Buffer.from("keep-alive", "latin1");
const UPGRADE_BYTES = Buffer.from("upgrade", "latin1");
const CONTINUE_BYTES = Buffer.from("100-continue", "latin1");
const EMPTY = Buffer.alloc(0);

/** Node's Buffer has had a latin1 decoder without argument checks since forever; types omit it. */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

function latin1(b: Buffer, start: number, end: number): string {
  return (b as Latin1Buffer).latin1Slice(start, end);
}

// A keep-alive client sends the same values request after request (Host, User-Agent, Accept):
// the parser remembers the last short value seen at each field position and reuses its string
// when the bytes are equal, which is cheaper than decoding them again. At most
// VALUE_CACHE_SLOTS x VALUE_CACHE_MAX_LENGTH bytes per parser.
const VALUE_CACHE_SLOTS = 16;
const VALUE_CACHE_MAX_LENGTH = 64;
const TARGET_CACHE_MAX_LENGTH = 128;

interface CachedString {
  readonly bytes: Buffer;
  readonly text: string;
}

/** Decodes b[start, end), or reuses `cached.text` when it was decoded from the same bytes. */
function decodeCached(b: Buffer, start: number, end: number, cached: CachedString | undefined): string | null {
  if (cached === undefined) return null;
  const bytes = cached.bytes;
  if (bytes.length !== end - start) return null;
  for (let i = 0; i < bytes.length; i++) {
    if (b[start + i] !== bytes[i]) return null;
  }
  return cached.text;
}

function remember(b: Buffer, start: number, end: number, text: string): CachedString {
  return { bytes: Buffer.from(b.subarray(start, end)), text };
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function findLF(b: Buffer, from: number, to: number): number {
  // Buffer's native indexOf measured a little faster than a JS loop even on ~25-byte lines.
  const i = b.indexOf(LF, from);
  return i < 0 || i >= to ? -1 : i;
}

/** Case-insensitive equality with lowercase [a-z0-9-] bytes, on bytes already validated. */
function equalsLower(b: Buffer, start: number, end: number, lower: Uint8Array): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if ((b[start + i]! | 0x20) !== lower[i]) return false;
  }
  return true;
}

function internName(b: Buffer, start: number, end: number): string {
  const list = NAMES_BY_LENGTH[end - start];
  if (list !== undefined) {
    for (const [bytes, name] of list) {
      if (equalsLower(b, start, end, bytes)) return name;
    }
  }
  return latin1(b, start, end).toLowerCase();
}

function internMethod(b: Buffer, start: number, end: number): string {
  const n = end - start;
  outer: for (const [bytes, name] of COMMON_METHODS) {
    if (bytes.length !== n) continue;
    for (let i = 0; i < n; i++) {
      if (b[start + i] !== bytes[i]) continue outer;
    }
    return name;
  }
  return latin1(b, start, end);
}

/** The `close`, `keep-alive` and `upgrade` options of a Connection field value. */
function connectionFlags(b: Buffer, start: number, end: number): number {
  let flags = 0;
  let i = start;
  while (i < end) {
    while (i < end && (b[i] === SP || b[i] === HTAB || b[i] === COMMA)) i++;
    const s = i;
    while (i < end && b[i] !== COMMA) i++;
    let e = i;
    while (e > s && (b[e - 1] === SP || b[e - 1] === HTAB)) e--;
    if (equalsLower(b, s, e, CLOSE_BYTES)) flags |= CONN_CLOSE;
    else if (equalsLower(b, s, e, KEEP_ALIVE_BYTES)) flags |= CONN_KEEP_ALIVE;
    else if (equalsLower(b, s, e, UPGRADE_BYTES)) flags |= CONN_UPGRADE;
  }
  return flags;
}

/** Checks `*( ";" token [ "=" ( *token / quoted-string ) ] )` from `i` to `end`, no whitespace. */
function validChunkExtensions(b: Buffer, i: number, end: number): boolean {
  while (i < end) {
    if (b[i] !== SEMICOLON) return false;
    i++;
    const nameStart = i;
    while (i < end && TOKEN[b[i]!] === 1) i++;
    if (i === nameStart) return false;
    if (i === end || b[i] !== EQUALS) continue;
    i++;
    if (i < end && b[i] === DQUOTE) {
      i++;
      for (;;) {
        if (i >= end) return false;
        const c = b[i]!;
        if (c === DQUOTE) break;
        if (c === BACKSLASH) {
          i++;
          if (i >= end || (QDTEXT[b[i]!] !== 1 && b[i] !== DQUOTE && b[i] !== BACKSLASH)) return false;
        } else if (QDTEXT[c] !== 1) {
          return false;
        }
        i++;
      }
      i++;
    } else {
      while (i < end && TOKEN[b[i]!] === 1) i++;
    }
  }
  return true;
}

function trimOws(s: string): string {
  let a = 0;
  let z = s.length;
  while (a < z && (s.charCodeAt(a) === SP || s.charCodeAt(a) === HTAB)) a++;
  while (z > a && (s.charCodeAt(z - 1) === SP || s.charCodeAt(z - 1) === HTAB)) z--;
  return s.slice(a, z);
}

function positiveInteger(options: RequestParserOptions, key: keyof RequestParserOptions, fallback: number): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(key, `must be a positive safe integer, got ${String(value)}`);
  }
  return value;
}

function parseError(status: number, reason: string, message: string): HttpParseError {
  return new HttpParseError(status, reason, message);
}

/**
 * Parses a stream of HTTP/1.1 requests, fed in chunks of any size, and reports each request as
 * events: `onRequestHead`, `onBody` (zero or more times), `onRequestComplete`; or `onError` once,
 * after which it ignores all input.
 *
 * Pipelining: after a request completes the parser goes on with the next bytes of the same
 * chunk. A server that must answer in order calls {@link RequestParser.pause} (typically from
 * `onRequestComplete`, while its handler is still running) and {@link RequestParser.resume}
 * once it has answered; the parser then holds the unparsed bytes (views, not copies) and emits
 * nothing meanwhile. Pausing from `onBody` is backpressure on the body.
 *
 * Memory: the only bytes ever copied are those of an incomplete line (request line, header or
 * trailer line, chunk-size line), bounded by that line's limit; everything else is a view.
 *
 * @example
 * ```ts
 * const parser = new RequestParser({
 *   onRequestHead: (head) => { current = startRequest(head); },
 *   onBody: (chunk) => current.write(chunk),
 *   onRequestComplete: () => { if (!current.answered) parser.pause(); },
 *   onError: (err) => { transport.write(`HTTP/1.1 ${err.status} \r\n\r\n`); transport.loseConnection(); },
 * });
 * // in dataReceived: parser.execute(data);
 * ```
 */
export class RequestParser {
  private readonly callbacks: RequestParserCallbacks;
  private readonly maxRequestLineLength: number;
  private readonly maxHeaderSize: number;
  private readonly maxHeaderCount: number;
  private readonly maxBodySize: number;
  private readonly maxChunkLineLength: number;
  private readonly maxBufferedBytes: number;

  private state = S_REQUEST_LINE;
  private paused = false;
  private running = false;
  private eof = false;
  private closeOnResume = false;

  // Input not yet parsed: the chunk being parsed and where, then chunks handed in meanwhile.
  private cur: Buffer | null = null;
  private curPos = 0;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;

  // An incomplete line, copied; and where readLine left the complete line it found.
  private stash: Buffer = EMPTY;
  private stashLen = 0;
  private lineBuf: Buffer = EMPTY;
  private lineStart = 0;
  private lineEnd = 0;

  // The request being parsed.
  private method = "";
  private target = "";
  private versionMinor = 1;
  private fields: string[] = [];
  private sectionBytes = 0;
  private contentLength = -1;
  private transferEncoding: string[] | null = null;
  private connection = 0;
  private expect = false;
  private upgradeField = false;
  private keepAlive = true;
  private upgrade = false;
  private remaining = 0;
  private bodyTotal = 0;
  private trailers: string[] | null = null;
  private readonly valueCache: (CachedString | undefined)[] = [];
  private targetCache: CachedString | undefined = undefined;

  /**
   * @param callbacks - where events go.
   * @param options - limits; see {@link RequestParserOptions}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when a limit is not a positive integer.
   */
  constructor(callbacks: RequestParserCallbacks, options: RequestParserOptions = {}) {
    this.callbacks = callbacks;
    this.maxRequestLineLength = positiveInteger(options, "maxRequestLineLength", DEFAULT_MAX_REQUEST_LINE_LENGTH);
    this.maxHeaderSize = positiveInteger(options, "maxHeaderSize", DEFAULT_MAX_HEADER_SIZE);
    this.maxHeaderCount = positiveInteger(options, "maxHeaderCount", DEFAULT_MAX_HEADER_COUNT);
    this.maxBodySize = positiveInteger(options, "maxBodySize", DEFAULT_MAX_BODY_SIZE);
    this.maxChunkLineLength = positiveInteger(options, "maxChunkLineLength", DEFAULT_MAX_CHUNK_LINE_LENGTH);
    this.maxBufferedBytes = positiveInteger(options, "maxBufferedBytes", DEFAULT_MAX_BUFFERED_BYTES);
  }

  /** Whether the parser is paused (by `pause()`, or after an upgrade request). */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Whether the parser has stopped for good: after an error, `detach()`, or a closing request. */
  get isStopped(): boolean {
    return this.state >= S_CLOSED;
  }

  /** Bytes handed to `execute()` and not parsed yet (held as views while paused). */
  get bufferedBytes(): number {
    return (this.cur === null ? 0 : this.cur.length - this.curPos) + this.queuedBytes;
  }

  /** Bytes of an incomplete line copied inside the parser; never more than that line's limit. */
  get stashedBytes(): number {
    return this.stashLen;
  }

  /**
   * Parses a chunk of the stream, emitting events synchronously. While the parser is paused, or
   * when called from one of its own callbacks, the chunk is queued (not copied) and parsed later,
   * in order. After the parser has stopped, input is ignored. A callback that throws leaves the
   * parser stopped and the exception propagates from here.
   * @param data - the next bytes; the parser may keep a view of them while paused.
   */
  execute(data: Uint8Array): void {
    if (this.state >= S_CLOSED) return;
    const buf = toBuffer(data);
    if (this.paused || this.running || this.cur !== null) {
      if (buf.length === 0) return;
      this.queuedBytes += buf.length;
      this.queue.push(buf);
      if (this.queuedBytes > this.maxBufferedBytes) this.fail(new HttpBufferOverflowError(this.maxBufferedBytes));
      return;
    }
    this.cur = buf;
    this.curPos = 0;
    this.drain();
  }

  /**
   * Stops emitting events after the current one; unparsed bytes are kept. Calling it from a
   * callback takes effect as soon as that callback returns.
   */
  pause(): void {
    if (this.state < S_CLOSED) this.paused = true;
  }

  /**
   * Resumes parsing: the bytes held while paused are parsed now, synchronously, and may emit
   * events (and pause again). After an upgrade request, resuming means the upgrade was declined
   * and the stream goes on as HTTP.
   */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.closeOnResume) {
      this.closeOnResume = false;
      this.state = S_CLOSED;
      this.dropInput();
      return;
    }
    if (!this.running && this.state < S_CLOSED) this.drain();
  }

  /**
   * Stops the parser for good and hands back the bytes it had not parsed: after an accepted
   * upgrade (WebSocket, CONNECT) they belong to the new protocol.
   * @returns the unparsed bytes, a view when they are one piece, otherwise a copy.
   */
  detach(): Uint8Array {
    const pieces: Buffer[] = [];
    if (this.cur !== null && this.curPos < this.cur.length) pieces.push(this.cur.subarray(this.curPos));
    pieces.push(...this.queue);
    this.kill();
    if (pieces.length === 1) return pieces[0]!;
    return Buffer.concat(pieces);
  }

  /**
   * Tells the parser the stream has ended. Ending between requests is clean; ending inside one
   * is an error (400, reason `incomplete-request`). While paused, the check waits until the held
   * bytes are parsed.
   */
  finish(): void {
    if (this.state >= S_CLOSED || this.eof) return;
    this.eof = true;
    if (!this.paused && !this.running) this.checkEof();
  }

  // -------------------------------------------------------------------------------------------

  private drain(): void {
    this.running = true;
    try {
      while (!this.paused && this.state < S_CLOSED) {
        let buf = this.cur;
        if (buf === null) {
          const next = this.queue.shift();
          if (next === undefined) {
            // No bytes left, but a zero-byte step (a pending completion) may still be due.
            this.parse(EMPTY, 0);
            break;
          }
          this.queuedBytes -= next.length;
          buf = next;
          this.cur = next;
          this.curPos = 0;
        }
        const pos = this.parse(buf, this.curPos);
        if (pos >= buf.length) this.cur = null;
        else this.curPos = pos;
      }
    } catch (err) {
      this.kill();
      throw err;
    } finally {
      this.running = false;
    }
    if (this.state >= S_CLOSED) this.dropInput();
    else if (this.eof && !this.paused) this.checkEof();
  }

  private checkEof(): void {
    const idle = this.state === S_REQUEST_LINE && this.stashLen === 0 && this.bufferedBytes === 0;
    if (idle) {
      this.state = S_CLOSED;
      this.dropInput();
      return;
    }
    this.fail(parseError(400, "incomplete-request", "the stream ended inside a request"));
  }

  /** Runs the state machine over `buf` from `pos`; returns where it stopped. */
  private parse(buf: Buffer, pos: number): number {
    const len = buf.length;
    for (;;) {
      if (this.paused) return pos;
      switch (this.state) {
        case S_REQUEST_LINE: {
          if (pos >= len) return pos;
          const next = this.readLine(buf, pos, this.maxRequestLineLength + 2);
          if (next < 0) {
            // Judge the method first, so every cut of the same bytes fails the same way.
            if (!methodPrefixValid(this.stash, 0, this.stashLen, buf, pos, len)) this.fail(invalidMethod());
            else if (next === OVER_LIMIT) this.fail(new HttpUriTooLongError(this.maxRequestLineLength));
            return len;
          }
          pos = next;
          this.curPos = pos;
          if (!methodPrefixValid(this.lineBuf, this.lineStart, this.lineEnd, this.lineBuf, 0, 0)) {
            this.fail(invalidMethod());
            return len;
          }
          const end = this.lineContentEnd();
          if (end < 0) return len;
          // A server should ignore empty lines before a request line (RFC 9112 §2.2).
          if (end > this.lineStart && !this.requestLine(this.lineBuf, this.lineStart, end)) return len;
          break;
        }
        case S_HEADER_LINE:
        case S_TRAILER_LINE: {
          if (pos >= len) return pos;
          const next = this.readLine(buf, pos, this.maxHeaderSize - this.sectionBytes);
          if (next < 0) {
            if (next === OVER_LIMIT) this.fail(new HttpHeadersTooLargeError("header-section-too-large", this.maxHeaderSize));
            return len;
          }
          pos = next;
          // Callbacks (the head's, errors) may call detach(), which must see where we are.
          this.curPos = pos;
          this.sectionBytes += this.lineEnd - this.lineStart + 1;
          const end = this.lineContentEnd();
          if (end < 0) return len;
          if (end === this.lineStart) {
            if (this.state === S_HEADER_LINE) this.headComplete();
            else this.state = S_COMPLETE;
          } else if (!this.field(this.lineBuf, this.lineStart, end, this.state === S_TRAILER_LINE)) {
            return len;
          }
          break;
        }
        case S_BODY_LENGTH:
        case S_CHUNK_DATA: {
          if (pos >= len) return pos;
          const n = Math.min(len - pos, this.remaining);
          const chunk = buf.subarray(pos, pos + n);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = this.state === S_BODY_LENGTH ? S_COMPLETE : S_CHUNK_CR;
          this.curPos = pos;
          this.callbacks.onBody(chunk);
          break;
        }
        case S_CHUNK_SIZE: {
          if (pos >= len) return pos;
          const next = this.readLine(buf, pos, this.maxChunkLineLength + 2);
          if (next < 0) {
            if (next === OVER_LIMIT) {
              this.fail(parseError(400, "chunk-line-too-long", `chunk-size line is longer than ${this.maxChunkLineLength} bytes`));
            }
            return len;
          }
          pos = next;
          const end = this.lineContentEnd();
          if (end < 0 || !this.chunkSize(this.lineBuf, this.lineStart, end)) return len;
          break;
        }
        case S_CHUNK_CR:
        case S_CHUNK_LF: {
          if (pos >= len) return pos;
          const expected = this.state === S_CHUNK_CR ? CR : LF;
          if (buf[pos] !== expected) {
            this.fail(parseError(400, "missing-chunk-crlf", "chunk data is not followed by CRLF"));
            return len;
          }
          pos++;
          this.state = this.state === S_CHUNK_CR ? S_CHUNK_LF : S_CHUNK_SIZE;
          break;
        }
        case S_COMPLETE: {
          const trailers = this.trailers === null ? EMPTY_HEADERS : new HttpHeaders(this.trailers);
          if (this.upgrade) {
            // Only the server knows whether it switches protocols: wait for resume() or detach().
            this.paused = true;
            this.state = S_REQUEST_LINE;
            this.closeOnResume = !this.keepAlive;
          } else {
            this.state = this.keepAlive ? S_REQUEST_LINE : S_CLOSED;
          }
          this.curPos = pos;
          this.callbacks.onRequestComplete(trailers);
          break;
        }
        default:
          return len;
      }
    }
  }

  /**
   * Finds the end of the line starting at `pos`, copying an incomplete line into the stash.
   * @returns the position after the LF (the line is then at lineBuf[lineStart, lineEnd), the LF
   *   at lineEnd), NEED_MORE when the chunk ended first, or OVER_LIMIT when the line (LF
   *   included) would be longer than `limit`.
   */
  private readLine(buf: Buffer, pos: number, limit: number): number {
    const len = buf.length;
    const room = limit - this.stashLen;
    const lf = findLF(buf, pos, Math.min(len, pos + room));
    if (lf < 0) {
      if (len - pos >= room) return OVER_LIMIT;
      this.stashAppend(buf, pos, len);
      return NEED_MORE;
    }
    if (this.stashLen === 0) {
      this.lineBuf = buf;
      this.lineStart = pos;
      this.lineEnd = lf;
    } else {
      this.stashAppend(buf, pos, lf);
      this.lineBuf = this.stash;
      this.lineStart = 0;
      this.lineEnd = this.stashLen;
      // The stash is only written again by the next incomplete line, after this one is parsed.
      this.stashLen = 0;
    }
    return lf + 1;
  }

  /** The end of the current line's content (before CRLF), or -1 after failing on a bare LF. */
  private lineContentEnd(): number {
    const end = this.lineEnd;
    if (end === this.lineStart || this.lineBuf[end - 1] !== CR) {
      this.fail(parseError(400, "bare-lf", "a line ends with LF without CR"));
      return -1;
    }
    return end - 1;
  }

  private stashAppend(buf: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    const needed = this.stashLen + n;
    if (needed > this.stash.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.stash.length * 2, 256));
      this.stash.copy(grown, 0, 0, this.stashLen);
      this.stash = grown;
    }
    buf.copy(this.stash, this.stashLen, start, end);
    this.stashLen = needed;
  }

  /** Parses `method SP request-target SP HTTP-version` in b[s, e). */
  private requestLine(b: Buffer, s: number, e: number): boolean {
    let i = s;
    while (i < e && TOKEN[b[i]!] === 1) i++;
    if (i === s || i === e || b[i] !== SP) {
      return this.fail(parseError(400, "invalid-method", "the method is not a token followed by one space"));
    }
    const method = internMethod(b, s, i);
    const targetStart = ++i;
    while (i < e && TARGET[b[i]!] === 1) i++;
    const targetEnd = i;
    if (targetEnd === targetStart && b[i] === SP) {
      return this.fail(parseError(400, "extra-whitespace", "the request line has more than one space between its parts"));
    }
    if (targetEnd === targetStart || (i < e && b[i] !== SP)) {
      return this.fail(parseError(400, "invalid-target", "the request-target is empty or has a byte outside VCHAR"));
    }
    if (i === e) {
      return this.fail(parseError(400, "missing-version", "the request line has no HTTP version"));
    }
    i++;
    if (b[i] === SP) {
      return this.fail(parseError(400, "extra-whitespace", "the request line has more than one space between its parts"));
    }
    const isHttp = b[i] === 0x48 && b[i + 1] === 0x54 && b[i + 2] === 0x54 && b[i + 3] === 0x50 && b[i + 4] === SLASH;
    if (e - i !== 8 || !isHttp || b[i + 6] !== 0x2e) {
      return this.fail(parseError(400, "invalid-version", "the HTTP version is not HTTP/DIGIT.DIGIT"));
    }
    const major = b[i + 5]! - 0x30;
    const minor = b[i + 7]! - 0x30;
    if (major < 0 || major > 9 || minor < 0 || minor > 9) {
      return this.fail(parseError(400, "invalid-version", "the HTTP version is not HTTP/DIGIT.DIGIT"));
    }
    if (major !== 1) {
      return this.fail(parseError(505, "unsupported-version", `HTTP/${major}.${minor} is not supported`));
    }
    if (minor > 1) {
      return this.fail(parseError(400, "invalid-version", `HTTP/1.${minor} does not exist`));
    }
    if (!this.validTargetForm(b, targetStart, targetEnd, method)) {
      return this.fail(parseError(400, "invalid-target", "the request-target is in none of the four forms"));
    }
    this.method = method;
    this.target = this.decodeTarget(b, targetStart, targetEnd);
    this.versionMinor = minor;
    this.fields = [];
    this.sectionBytes = 0;
    this.contentLength = -1;
    this.transferEncoding = null;
    this.connection = 0;
    this.expect = false;
    this.upgradeField = false;
    this.trailers = null;
    this.bodyTotal = 0;
    this.state = S_HEADER_LINE;
    return true;
  }

  private decodeTarget(b: Buffer, s: number, e: number): string {
    if (e - s === 1 && b[s] === SLASH) return "/";
    const cached = decodeCached(b, s, e, this.targetCache);
    if (cached !== null) return cached;
    const text = latin1(b, s, e);
    if (e - s <= TARGET_CACHE_MAX_LENGTH) this.targetCache = remember(b, s, e, text);
    return text;
  }

  private decodeValue(b: Buffer, s: number, e: number, slot: number): string {
    if (s === e) return "";
    if (slot >= VALUE_CACHE_SLOTS || e - s > VALUE_CACHE_MAX_LENGTH) return latin1(b, s, e);
    const cached = decodeCached(b, s, e, this.valueCache[slot]);
    if (cached !== null) return cached;
    const text = latin1(b, s, e);
    this.valueCache[slot] = remember(b, s, e, text);
    return text;
  }

  /** origin-form (`/...`), asterisk-form (`*`), absolute-form (`scheme://...`), authority-form (CONNECT). */
  private validTargetForm(b: Buffer, s: number, e: number, method: string): boolean {
    const first = b[s];
    if (first === SLASH) return true;
    if (method === "CONNECT") return true;
    if (first === STAR) return e - s === 1;
    let i = s;
    while (i < e && ((b[i]! | 0x20) >= 0x61 && (b[i]! | 0x20) <= 0x7a)) i++;
    return i > s && e - i > 3 && b[i] === COLON && b[i + 1] === SLASH && b[i + 2] === SLASH;
  }

  /** Parses one `name: value` line in b[s, e) into the header (or trailer) list. */
  private field(b: Buffer, s: number, e: number, trailer: boolean): boolean {
    const first = b[s];
    if (first === SP || first === HTAB) {
      const firstLine = (trailer ? this.trailers === null : this.fields.length === 0);
      return this.fail(
        firstLine
          ? parseError(400, "leading-whitespace", "a field line starts with whitespace")
          : parseError(400, "obsolete-line-folding", "obsolete line folding is not accepted"),
      );
    }
    let i = s;
    while (i < e && TOKEN[b[i]!] === 1) i++;
    if (i === e) return this.fail(parseError(400, "missing-colon", "a field line has no colon"));
    const stop = b[i];
    if (stop !== COLON) {
      return this.fail(
        stop === SP || stop === HTAB
          ? parseError(400, "whitespace-before-colon", "whitespace between a field name and its colon")
          : parseError(400, "invalid-field-name", "a field name has a byte that is not a token character"),
      );
    }
    if (i === s) return this.fail(parseError(400, "invalid-field-name", "a field name is empty"));
    const nameEnd = i;
    i++;
    while (i < e && (b[i] === SP || b[i] === HTAB)) i++;
    const valueStart = i;
    let valueEnd = i;
    for (; i < e; i++) {
      const c = b[i]!;
      if (VALUE[c] !== 1) {
        return this.fail(parseError(400, "invalid-field-value", "a field value has a control character"));
      }
      if (c !== SP && c !== HTAB) valueEnd = i + 1;
    }
    const name = internName(b, s, nameEnd);
    const value = trailer ? latin1(b, valueStart, valueEnd) : this.decodeValue(b, valueStart, valueEnd, this.fields.length >>> 1);
    let list: string[];
    if (trailer) {
      if (name === "content-length" || name === "transfer-encoding") {
        return this.fail(parseError(400, "framing-field-in-trailer", `${name} is not allowed in a trailer`));
      }
      list = this.trailers ??= [];
    } else {
      list = this.fields;
      if (!this.framingField(name, value, b, valueStart, valueEnd)) return false;
    }
    if (list.length >= this.maxHeaderCount * 2) {
      return this.fail(new HttpHeadersTooLargeError("too-many-headers", this.maxHeaderCount));
    }
    list.push(name, value);
    return true;
  }

  /** Records what the fields that frame or steer the request say. */
  private framingField(name: string, value: string, b: Buffer, s: number, e: number): boolean {
    switch (name) {
      case "content-length": {
        if (this.contentLength !== -1) {
          return this.fail(parseError(400, "duplicate-content-length", "more than one Content-Length field"));
        }
        if (s === e) return this.fail(parseError(400, "invalid-content-length", "Content-Length is empty"));
        let n = 0;
        for (let i = s; i < e; i++) {
          const d = b[i]! - 0x30;
          if (d < 0 || d > 9) {
            return this.fail(parseError(400, "invalid-content-length", "Content-Length is not a decimal number"));
          }
          n = n * 10 + d;
          if (n > Number.MAX_SAFE_INTEGER) {
            return this.fail(parseError(400, "content-length-overflow", "Content-Length is too large to represent"));
          }
        }
        this.contentLength = n;
        return true;
      }
      case "transfer-encoding":
        (this.transferEncoding ??= []).push(value);
        return true;
      case "connection":
        this.connection |= connectionFlags(b, s, e);
        return true;
      case "expect":
        if (equalsLower(b, s, e, CONTINUE_BYTES)) this.expect = true;
        return true;
      case "upgrade":
        this.upgradeField = true;
        return true;
      default:
        return true;
    }
  }

  /** Decides the framing at the end of the header section, then emits the head. */
  private headComplete(): void {
    const http11 = this.versionMinor === 1;
    let bodyKind: BodyKind = "none";
    let contentLength: number | null = 0;
    let keepAlive = http11
      ? (this.connection & CONN_CLOSE) === 0
      : (this.connection & (CONN_KEEP_ALIVE | CONN_CLOSE)) === CONN_KEEP_ALIVE;
    if (this.transferEncoding !== null && this.contentLength !== -1) {
      this.fail(parseError(400, "content-length-with-transfer-encoding", "both Content-Length and Transfer-Encoding"));
      return;
    }
    if (this.method === "CONNECT") {
      // A CONNECT request has no content (RFC 9110 §9.3.6): every byte after its head belongs
      // to the tunnel, whatever Content-Length or Transfer-Encoding say (as node:http does).
      // Framing that could never be valid is still refused, as for any request.
      const failure = this.transferEncoding === null ? null : misplacedChunked(transferCodings(this.transferEncoding));
      if (failure !== null) {
        this.fail(failure);
        return;
      }
      this.state = S_COMPLETE;
    } else if (this.transferEncoding !== null) {
      const failure = checkTransferEncoding(this.transferEncoding);
      if (failure !== null) {
        this.fail(failure);
        return;
      }
      bodyKind = "chunked";
      contentLength = null;
      // An HTTP/1.0 message with Transfer-Encoding has faulty framing: answer it, then close
      // (RFC 9112 §6.1).
      if (!http11) keepAlive = false;
      this.state = S_CHUNK_SIZE;
    } else if (this.contentLength !== -1) {
      if (this.contentLength > this.maxBodySize) {
        this.fail(new HttpBodyTooLargeError(this.maxBodySize));
        return;
      }
      bodyKind = "length";
      contentLength = this.contentLength;
      this.remaining = this.contentLength;
      this.state = this.contentLength === 0 ? S_COMPLETE : S_BODY_LENGTH;
    } else {
      this.state = S_COMPLETE;
    }
    const upgrade =
      this.method === "CONNECT" || (http11 && this.upgradeField && (this.connection & CONN_UPGRADE) !== 0);
    this.keepAlive = keepAlive;
    this.upgrade = upgrade;
    this.sectionBytes = 0;
    this.callbacks.onRequestHead({
      method: this.method,
      target: this.target,
      versionMajor: 1,
      versionMinor: this.versionMinor,
      headers: new HttpHeaders(this.fields),
      keepAlive,
      expectContinue: http11 && this.expect,
      upgrade,
      bodyKind,
      contentLength,
    });
  }

  /** Parses `chunk-size [ chunk-ext ]` in b[s, e). */
  private chunkSize(b: Buffer, s: number, e: number): boolean {
    let i = s;
    let size = 0;
    while (i < e) {
      const d = HEX[b[i]!]!;
      if (d < 0) break;
      size = size * 16 + d;
      if (size > Number.MAX_SAFE_INTEGER) {
        return this.fail(parseError(400, "chunk-size-overflow", "a chunk size is too large to represent"));
      }
      i++;
    }
    if (i === s || (i < e && b[i] !== SEMICOLON)) {
      return this.fail(parseError(400, "invalid-chunk-size", "a chunk size is not hexadecimal"));
    }
    if (i < e && !validChunkExtensions(b, i, e)) {
      return this.fail(parseError(400, "invalid-chunk-extension", "a chunk extension is malformed"));
    }
    this.bodyTotal += size;
    if (this.bodyTotal > this.maxBodySize) return this.fail(new HttpBodyTooLargeError(this.maxBodySize));
    if (size === 0) {
      this.state = S_TRAILER_LINE;
      this.sectionBytes = 0;
    } else {
      this.remaining = size;
      this.state = S_CHUNK_DATA;
    }
    return true;
  }

  /** Stops for good and reports; returns false so that parse steps can `return this.fail(...)`. */
  private fail(error: HttpParseError): false {
    this.kill();
    this.callbacks.onError(error);
    return false;
  }

  private kill(): void {
    this.state = S_DEAD;
    this.paused = false;
    this.dropInput();
  }

  private dropInput(): void {
    this.cur = null;
    this.curPos = 0;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.stashLen = 0;
  }
}

/**
 * Accepts exactly one `chunked` as the final (and only) transfer coding. Empty list elements
 * are ignored (RFC 9110 §5.6.1).
 */
function checkTransferEncoding(values: readonly string[]): HttpParseError | null {
  if (values.length === 1 && values[0]!.length === 7 && values[0]!.toLowerCase() === "chunked") return null;
  const codings = transferCodings(values);
  if (codings.length === 0 || codings[codings.length - 1] !== "chunked") {
    return parseError(400, "transfer-encoding-not-chunked", "Transfer-Encoding does not end with chunked");
  }
  const misplaced = misplacedChunked(codings);
  if (misplaced !== null) return misplaced;
  if (codings.length > 1) {
    return parseError(501, "transfer-coding-not-implemented", `transfer coding ${codings[0]} is not implemented`);
  }
  return null;
}

/** The transfer codings of the `Transfer-Encoding` field lines, lowercased; empty elements dropped (RFC 9110 §5.6.1). */
function transferCodings(values: readonly string[]): string[] {
  const codings: string[] = [];
  for (const value of values) {
    for (const element of value.split(",")) {
      const coding = trimOws(element).toLowerCase();
      if (coding !== "") codings.push(coding);
    }
  }
  return codings;
}

/**
 * `chunked` applied before another coding, or twice: a message framed that way cannot be
 * delimited, whatever the method (a CONNECT, whose framing is otherwise ignored, included).
 */
function misplacedChunked(codings: readonly string[]): HttpParseError | null {
  const first = codings.indexOf("chunked");
  if (first === -1 || first === codings.length - 1) return null;
  if (codings[codings.length - 1] === "chunked") return parseError(400, "chunked-twice", "chunked is applied more than once");
  return parseError(400, "transfer-encoding-not-chunked", "Transfer-Encoding does not end with chunked");
}

/** How many bytes at the start of a request line are checked for a method as they arrive. */
const METHOD_PREFIX_CHECKED = 32;

/**
 * Whether the first bytes of a request line (`a[aFrom..aTo]` then `b[bFrom..bTo]`) can still be
 * a method: tchars up to the first space. Bytes that are not HTTP at all (a TLS ClientHello on
 * the plain port, binary garbage) are then rejected as they arrive, not at the request-line
 * limit or the header timeout. Only {@link METHOD_PREFIX_CHECKED} bytes are looked at, so a
 * trickled line costs O(1) per chunk; a leading CR or LF is left to the line rules.
 */
function methodPrefixValid(a: Uint8Array, aFrom: number, aTo: number, b: Uint8Array, bFrom: number, bTo: number): boolean {
  const seen = scanMethod(a, aFrom, aTo, 0);
  if (seen === METHOD_INVALID) return false;
  if (seen === METHOD_VALID) return true;
  return scanMethod(b, bFrom, bTo, seen) !== METHOD_INVALID;
}

const METHOD_INVALID = -1;
const METHOD_VALID = -2;

/** Scans `bytes[from..to]` after `seen` method bytes: decided (valid/invalid), or the new count. */
function scanMethod(bytes: Uint8Array, from: number, to: number, seen: number): number {
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    if (seen === 0 && (c === CR || c === LF)) return METHOD_VALID;
    if (c === SP) return seen > 0 ? METHOD_VALID : METHOD_INVALID;
    if (TOKEN[c] === 0) return METHOD_INVALID;
    if (++seen === METHOD_PREFIX_CHECKED) return METHOD_VALID;
  }
  return seen;
}

function invalidMethod(): HttpParseError {
  return parseError(400, "invalid-method", "the method is not a token followed by one space");
}
