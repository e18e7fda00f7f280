/**
 * `HttpRequest`: one request as a server handler sees it: the parsed head, and the body either
 * buffered (`await request.body()`) or streamed (`onData`/`onEnd`, or `for await`).
 *
 * @module
 */

import { Buffer } from "node:buffer";

import { Deferred } from "../../deferred.js";
import type { Address } from "../../protocol.js";
import { EMPTY_HEADERS } from "./http-headers.js";
import type { HttpHeaders } from "./http-headers.js";
import type { BodyKind, RequestHead } from "./request-parser.js";

/**
 * What a request needs from the connection that carries it. Implemented by
 * `HttpServerProtocol`; a test or an adapter may implement it to build requests by hand.
 */
export interface HttpRequestOwner {
  /** A consumer started reading the body: time to send `100 Continue` if it is expected. */
  bodyWanted(request: HttpRequest): void;
  /** Stop reading this request's body from the network (backpressure). */
  pauseBody(request: HttpRequest): void;
  /** Read this request's body again. */
  resumeBody(request: HttpRequest): void;
  /** The peer's address. */
  peerAddress(): Address;
}

/** Bytes of body queued for an async iterator before the request pauses its body. */
const ITERATOR_HIGH_WATER_MARK = 64 * 1024;

const EMPTY_BODY = new Uint8Array(0);

// Body states.
const B_OPEN = 0;
const B_DONE = 1;
const B_FAILED = 2;

/**
 * An HTTP request received by a server, handed to the handler as soon as its head is parsed;
 * the body, if any, follows.
 *
 * The body is read in one of three ways, chosen by the handler (pick one per request):
 * - buffered: `await request.body()` (a Deferred, so `request.body().addCallback(...)` works
 *   too): the whole body as one `Uint8Array`;
 * - callbacks: `request.onData(chunk => ...)`, `request.onEnd(trailers => ...)`,
 *   `request.onError(err => ...)`, with `pause()`/`resume()` for backpressure;
 * - iteration: `for await (const chunk of request)`, with backpressure built in.
 *
 * Body chunks that arrive before a reader is attached are kept (up to the server's
 * `maxBodySize`) and handed over when it is. Chunks are views into the received buffers, not
 * copies. When the request carries `Expect: 100-continue`, the server sends `100 Continue` the
 * moment a reader is attached, and not before: a handler that answers without reading the body
 * (a 401, a 413) never invites the client to send it.
 */
export class HttpRequest implements AsyncIterable<Uint8Array> {
  /** The method, case kept: `GET`, `POST`, ... */
  readonly method: string;
  /** The request-target exactly as sent (usually origin form: `/path?query`). */
  readonly target: string;
  /** The minor HTTP version: 0 or 1. */
  readonly versionMinor: number;
  /** The header fields in arrival order, names lowercased. */
  readonly headers: HttpHeaders;
  /** Whether the client allows another request on this connection after this one. */
  readonly keepAlive: boolean;
  /** The client sent `Expect: 100-continue` and waits before sending the body. */
  readonly expectContinue: boolean;
  /** The client asks to switch protocols (WebSocket handshake, or CONNECT). */
  readonly upgrade: boolean;
  /** How the body is framed: `none`, `length` or `chunked`. */
  readonly bodyKind: BodyKind;
  /** The `Content-Length`; 0 without a body; null for a chunked body. */
  readonly contentLength: number | null;
  /** Trailer fields of a chunked body, once the body is complete; empty otherwise. */
  trailers: HttpHeaders = EMPTY_HEADERS;

  private readonly owner: HttpRequestOwner;
  private pathEnd = -2;
  private state: number;
  private error: Error | null = null;
  /** Chunks received before a reader was attached. */
  private held: Uint8Array[] | null = null;
  private dataFn: ((chunk: Uint8Array) => void) | null = null;
  private endFn: ((trailers: HttpHeaders) => void) | null = null;
  private errorFn: ((error: Error) => void) | null = null;
  private buffered: Deferred<Uint8Array> | null = null;
  private reading = false;
  private endFired = false;
  private pausedByReader = false;
  private iterator: BodyIterator | null = null;

  /**
   * @param head - the parsed head.
   * @param owner - the connection it came on.
   */
  constructor(head: RequestHead, owner: HttpRequestOwner) {
    this.method = head.method;
    this.target = head.target;
    this.versionMinor = head.versionMinor;
    this.headers = head.headers;
    this.keepAlive = head.keepAlive;
    this.expectContinue = head.expectContinue;
    this.upgrade = head.upgrade;
    this.bodyKind = head.bodyKind;
    this.contentLength = head.contentLength;
    this.owner = owner;
    this.state = head.bodyKind === "none" ? B_DONE : B_OPEN;
  }

  /** `HTTP/1.0` or `HTTP/1.1`. */
  get version(): string {
    return this.versionMinor === 1 ? "HTTP/1.1" : "HTTP/1.0";
  }

  /** The target up to `?` (or `#`): `/a/b` for `/a/b?x=1`. Not percent-decoded. */
  get path(): string {
    return this.target.slice(0, this.findPathEnd());
  }

  /** The query after `?`, without it (and without a `#` fragment); empty when there is none. */
  get query(): string {
    const end = this.findPathEnd();
    if (this.target.charCodeAt(end) !== 0x3f) return "";
    const hash = this.target.indexOf("#", end);
    return this.target.slice(end + 1, hash < 0 ? undefined : hash);
  }

  /** The client's address. */
  get remoteAddress(): Address {
    return this.owner.peerAddress();
  }

  /** True once the whole body has arrived (at once for a request without a body). */
  get complete(): boolean {
    return this.state === B_DONE;
  }

  /**
   * The whole body, once it has arrived.
   * @returns a Deferred (awaitable) of the body's bytes; an empty array without a body.
   * @throws (through the Deferred) the reason the body could not be read: an `HttpParseError`
   *   for a malformed or oversized body (the server answers it), `TimeoutError`
   *   (`WL_ERR_TIMEOUT`) when the body stalled, or the connection's loss.
   */
  body(): Deferred<Uint8Array> {
    if (this.buffered !== null) return this.buffered;
    const d = new Deferred<Uint8Array>();
    this.buffered = d;
    const chunks: Uint8Array[] = [];
    this.consume(
      (chunk) => chunks.push(chunk),
      () => d.callback(chunks.length === 0 ? EMPTY_BODY : chunks.length === 1 ? Buffer.from(chunks[0]!) : Buffer.concat(chunks)),
      (error) => d.errback(error),
    );
    return d;
  }

  /**
   * Streams the body to `fn`, one chunk at a time (views, not copies), starting with the
   * chunks that arrived before. Register it before `onEnd`.
   * @param fn - called for each chunk.
   * @returns this request.
   */
  onData(fn: (chunk: Uint8Array) => void): this {
    this.consume(fn, this.endFn, this.errorFn);
    return this;
  }

  /**
   * Calls `fn` once the body is complete (at once if it already is). Without `onData`, the
   * body's bytes are dropped.
   * @param fn - receives the trailers (empty unless a chunked body sent some).
   * @returns this request.
   */
  onEnd(fn: (trailers: HttpHeaders) => void): this {
    this.consume(this.dataFn, fn, this.errorFn);
    return this;
  }

  /**
   * Calls `fn` if the body cannot be read to its end (malformed, too large, stalled, or the
   * connection lost); at once if that already happened.
   * @param fn - receives the reason.
   * @returns this request.
   */
  onError(fn: (error: Error) => void): this {
    this.errorFn = fn;
    if (this.state === B_FAILED && this.error !== null) fn(this.error);
    return this;
  }

  /** Stops reading the body from the network until `resume()`: backpressure for a slow reader. */
  pause(): void {
    if (this.pausedByReader || this.state !== B_OPEN) return;
    this.pausedByReader = true;
    this.owner.pauseBody(this);
  }

  /** Reads the body again after `pause()`. */
  resume(): void {
    if (!this.pausedByReader) return;
    this.pausedByReader = false;
    if (this.state === B_OPEN) this.owner.resumeBody(this);
  }

  /**
   * Iterates over the body's chunks; the body is paused while more than 64 KiB wait unread.
   * @returns an async iterator; it throws the reason if the body cannot be read to its end.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.iterator === null) {
      const it = new BodyIterator(this);
      this.iterator = it;
      this.consume(
        (chunk) => it.push(chunk),
        () => it.end(),
        (error) => it.fail(error),
      );
    }
    return this.iterator;
  }

  // -- For the server ---------------------------------------------------------------------------

  /** @internal A piece of the body arrived. */
  receiveBody(chunk: Uint8Array): void {
    if (this.state !== B_OPEN) return;
    const fn = this.dataFn;
    if (fn !== null) fn(chunk);
    else if (this.endFn === null) (this.held ??= []).push(chunk);
  }

  /** @internal The body is complete. */
  receiveEnd(trailers: HttpHeaders): void {
    if (this.state !== B_OPEN) return;
    this.state = B_DONE;
    this.trailers = trailers;
    this.maybeEnd();
  }

  /** @internal The body cannot be completed. */
  receiveError(error: Error): void {
    if (this.state !== B_OPEN) return;
    this.state = B_FAILED;
    this.error = error;
    this.held = null;
    this.errorFn?.(error);
  }

  /** @internal Whether a reader is attached (the server then keeps the body flowing). */
  get hasReader(): boolean {
    return this.reading;
  }

  /** @internal Whether a reader paused the body. */
  get bodyPaused(): boolean {
    return this.pausedByReader;
  }

  // -------------------------------------------------------------------------------------------

  /** Sets the reader's callbacks, hands over held chunks, and tells the server to read on. */
  private consume(
    data: ((chunk: Uint8Array) => void) | null,
    end: ((trailers: HttpHeaders) => void) | null,
    error: ((error: Error) => void) | null,
  ): void {
    this.dataFn = data;
    this.endFn = end;
    this.errorFn = error;
    if (this.state === B_FAILED) {
      if (error !== null && this.error !== null && !this.reading) error(this.error);
      this.reading = true;
      return;
    }
    const held = this.held;
    if (held !== null && data !== null) {
      this.held = null;
      for (const chunk of held) data(chunk);
    }
    this.maybeEnd();
    if (this.reading) return;
    this.reading = true;
    if (this.state === B_OPEN) this.owner.bodyWanted(this);
  }

  /** Fires the end callback once the body is complete and every held chunk was handed over. */
  private maybeEnd(): void {
    const end = this.endFn;
    if (this.state !== B_DONE || this.endFired || end === null || (this.held !== null && this.dataFn !== null)) return;
    this.endFired = true;
    this.held = null;
    end(this.trailers);
  }

  private findPathEnd(): number {
    if (this.pathEnd === -2) {
      const t = this.target;
      let i = 0;
      while (i < t.length) {
        const c = t.charCodeAt(i);
        if (c === 0x3f || c === 0x23) break;
        i++;
      }
      this.pathEnd = i;
    }
    return this.pathEnd;
  }
}

/** The async iterator over a request body. */
class BodyIterator implements AsyncIterator<Uint8Array> {
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private done = false;
  private error: Error | null = null;
  private waiter: { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (e: unknown) => void } | null = null;

  constructor(private readonly request: HttpRequest) {}

  push(chunk: Uint8Array): void {
    if (this.done) return;
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w.resolve({ value: chunk, done: false });
      return;
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= ITERATOR_HIGH_WATER_MARK) this.request.pause();
  }

  end(): void {
    this.done = true;
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w.resolve({ value: undefined, done: true });
    }
  }

  fail(error: Error): void {
    this.error = error;
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w.reject(error);
    }
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const chunk = this.queue.shift();
    if (chunk !== undefined) {
      this.queued -= chunk.length;
      if (this.queued < ITERATOR_HIGH_WATER_MARK) this.request.resume();
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.error !== null) return Promise.reject(this.error);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    this.request.resume();
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    // Leaving the loop early: the rest of the body is discarded as it arrives.
    this.queue.length = 0;
    this.queued = 0;
    this.done = true;
    this.request.resume();
    return Promise.resolve({ value: undefined, done: true });
  }
}
