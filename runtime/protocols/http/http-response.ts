/**
 * `HttpResponse`: how a server handler answers one request: status and headers, then a body
 * written whole (`end(body)`, sent with `Content-Length` in one write) or streamed (`write()`,
 * chunked on HTTP/1.1) with backpressure.
 *
 * @module
 */

import { Buffer } from "node:buffer";

import { HttpResponseStateError } from "../../errors.js";
import type { Protocol, PushProducer } from "../../protocol.js";
import { checkHeaderName, checkHeaderValue } from "./check-header-field.js";
import type { HttpRequest } from "./http-request.js";
import { statusLine } from "./http-status.js";

/** Header fields for `writeHead`: an object, or a flat `[name0, value0, name1, value1, ...]` list. */
export type HttpHeaderInput = Readonly<Record<string, string | number | readonly string[]>> | readonly string[];

/**
 * What a response needs from the connection that carries it. Implemented by
 * `HttpServerProtocol`.
 */
export interface HttpResponseChannel {
  /** Queues bytes for the peer, in order; two or three pieces go out as one write. */
  send(a: string | Uint8Array, b?: string | Uint8Array, c?: string | Uint8Array): void;
  /** The `Date: ...\r\n` line for now. */
  dateLine(): string;
  /** Whether the connection can carry another request after this response. */
  keepAliveFor(response: HttpResponse): boolean;
  /** True while the transport's buffer is over its high-water mark. */
  readonly writePaused: boolean;
  /** The response is complete: every byte has been queued. */
  responseDone(response: HttpResponse): void;
  /** The connection switches to `protocol` after `head` is sent. */
  switchProtocols(response: HttpResponse, protocol: Protocol, head: string): void;
  /** Ends the connection now, discarding what is queued; the response is beyond repair. */
  abort(response: HttpResponse, error: Error): void;
}

// Response states.
const R_NEW = 0;
const R_STREAMING = 1;
const R_DONE = 2;
const R_CLOSED = 3;

// Body framings, chosen when the head is sent.
const F_NONE = 0;
const F_LENGTH = 1;
const F_CHUNKED = 2;
const F_CLOSE = 3;

// What the handler's own header fields already say.
const H_DATE = 1;
const H_LENGTH = 2;
const H_CHUNKED = 4;
const H_CONNECTION = 8;
const H_NON_ASCII = 16;
const H_CLOSE = 32;

/** Above this size a body Buffer is written after the head rather than copied next to it. */
const COPY_BODY_LIMIT = 16 * 1024;

const LAST_CHUNK = "0\r\n\r\n";
const CRLF = "\r\n";

function byteLength(chunk: string | Uint8Array): number {
  return typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
}

function lower(name: string): string {
  // Most names are already lowercase or title case; one toLowerCase is cheaper than checking.
  return name.toLowerCase();
}

/**
 * The response to one {@link HttpRequest}. Handed to the handler with the request.
 *
 * Life: set `status` and headers (`setHeader`, or `writeHead`), then either `end(body)` (the
 * fast path: `Content-Length`, head and body in one write) or `write(chunk)` repeatedly and
 * `end()` (chunked on HTTP/1.1; on HTTP/1.0 the body runs until the connection closes, unless
 * the handler set `Content-Length`). The server adds `Date` (from its clock, unless the handler
 * set one) and the `Connection` field when it needs one. HEAD responses and 204/304 never carry
 * a body: what is written is dropped (for HEAD, `end(body)` still announces its
 * `Content-Length`).
 *
 * Backpressure: `write()` returns false while the connection's buffer is over its high-water
 * mark; wait for `onDrain` / `drained()`, or register a push producer, which is paused and
 * resumed for you and stopped if the client goes away.
 *
 * Once the client is gone (`closed`), `write` and `end` do nothing, so a handler racing a
 * disconnect needs no checks; `onClose` tells it to stop.
 */
export class HttpResponse {
  /** The status code sent with the head (when `writeHead` does not give one). */
  status = 200;
  /** A reason phrase to send instead of the registered one. */
  statusMessage: string | undefined = undefined;
  /** The request this answers. */
  readonly request: HttpRequest;

  /** @internal Whether the connection closes after this response. */
  closeAfter = false;
  /** @internal The handler's producer, paused and resumed with the connection's buffer. */
  producer: PushProducer | null = null;

  private readonly channel: HttpResponseChannel;
  private state = R_NEW;
  private framing = F_NONE;
  private flags = 0;
  private names: string[] | null = null;
  private values: string[] | null = null;
  private declaredLength = -1;
  private remaining = 0;
  private closeFn: ((reason: Error) => void) | null = null;
  private finishFn: (() => void) | null = null;
  private drainFns: (() => void)[] | null = null;

  /**
   * @param request - the request being answered.
   * @param channel - the connection it goes out on.
   */
  constructor(request: HttpRequest, channel: HttpResponseChannel) {
    this.request = request;
    this.channel = channel;
  }

  /** True once the head has been sent (headers can no longer change). */
  get headersSent(): boolean {
    return this.state !== R_NEW;
  }

  /** True once `end()` has queued the whole response. */
  get finished(): boolean {
    return this.state === R_DONE;
  }

  /** True when the connection was lost (or given up) before the response was finished. */
  get closed(): boolean {
    return this.state === R_CLOSED;
  }

  /**
   * Sets a header field, replacing any field of that name set before.
   * @param name - the field name (any case; sent as given).
   * @param value - the value; an array sends one field per element.
   * @returns this response.
   * @throws HttpHeaderValueError (`WL_ERR_HTTP_HEADER`) for a name that is not a token or a
   *   value with CR, LF or NUL.
   * @throws HttpResponseStateError (`WL_ERR_HTTP_RESPONSE_STATE`) once the head was sent.
   */
  setHeader(name: string, value: string | number | readonly string[]): this {
    this.checkNew("setHeader");
    this.removeHeader(name);
    this.addHeader(name, value);
    return this;
  }

  /**
   * Adds a header field, keeping fields of that name set before.
   * @param name - the field name.
   * @param value - the value; an array adds one field per element.
   * @returns this response.
   * @throws as `setHeader`.
   */
  appendHeader(name: string, value: string | number | readonly string[]): this {
    this.checkNew("appendHeader");
    this.addHeader(name, value);
    return this;
  }

  /**
   * The value of a header field set on this response.
   * @param name - the field name, any case.
   * @returns the first value set under that name, or undefined.
   */
  getHeader(name: string): string | undefined {
    const names = this.names;
    if (names === null) return undefined;
    const wanted = lower(name);
    for (let i = 0; i < names.length; i++) if (lower(names[i]!) === wanted) return this.values![i];
    return undefined;
  }

  /**
   * Removes every header field of that name.
   * @param name - the field name, any case.
   * @returns this response.
   * @throws HttpResponseStateError (`WL_ERR_HTTP_RESPONSE_STATE`) once the head was sent.
   */
  removeHeader(name: string): this {
    this.checkNew("removeHeader");
    const names = this.names;
    if (names === null) return this;
    const wanted = lower(name);
    const values = this.values!;
    let j = 0;
    for (let i = 0; i < names.length; i++) {
      if (lower(names[i]!) === wanted) continue;
      names[j] = names[i]!;
      values[j] = values[i]!;
      j++;
    }
    if (j !== names.length) {
      names.length = j;
      values.length = j;
      this.recomputeFlags();
    }
    return this;
  }

  /**
   * Sets the status and adds header fields; the head itself goes out with the first `write` or
   * with `end` (so that `end(body)` can still add `Content-Length`).
   * @param status - a final status, 200 to 999 (1xx are the server's: see `upgrade`).
   * @param headers - fields to add.
   * @returns this response.
   * @throws RangeError for a status outside 200-999.
   * @throws as `setHeader`.
   */
  writeHead(status: number, headers?: HttpHeaderInput): this {
    this.checkNew("writeHead");
    if (!Number.isInteger(status) || status < 200 || status > 999) throw new RangeError(`invalid response status ${status}`);
    this.status = status;
    if (headers !== undefined) this.addHeaders(headers);
    return this;
  }

  /**
   * Writes a piece of the body, sending the head first if it has not been sent.
   * @param chunk - bytes, or a string sent as UTF-8; empty pieces are skipped.
   * @returns false when the connection's buffer is over its high-water mark: wait for
   *   `onDrain` before writing more. Always false once the connection is closed.
   * @throws HttpResponseStateError (`WL_ERR_HTTP_RESPONSE_STATE`) after `end()`, or past the
   *   `Content-Length` the handler set.
   */
  write(chunk: string | Uint8Array): boolean {
    const state = this.state;
    if (state === R_CLOSED) return false;
    if (state === R_DONE) throw new HttpResponseStateError("write() after end()");
    if (state === R_NEW) this.startStreaming();
    this.writeBody(chunk);
    return !this.channel.writePaused;
  }

  /**
   * Finishes the response. When the head has not been sent, the body is `chunk` (if any) and
   * goes out with `Content-Length`, head and body in one write. A second `end()` does nothing.
   * @param chunk - the last piece of the body (or the whole body).
   * @throws HttpResponseStateError (`WL_ERR_HTTP_RESPONSE_STATE`) when the body does not match
   *   the `Content-Length` the handler set (for a streamed body that fell short, the connection
   *   is aborted too, since the client could not tell where the response ends).
   */
  end(chunk?: string | Uint8Array): void {
    const state = this.state;
    if (state === R_CLOSED || state === R_DONE) return;
    if (state === R_NEW) {
      this.endWhole(chunk);
      return;
    }
    if (chunk !== undefined) this.writeBody(chunk);
    const framing = this.framing;
    if (framing === F_CHUNKED) {
      this.channel.send(LAST_CHUNK);
    } else if (framing === F_LENGTH && this.remaining !== 0) {
      const error = new HttpResponseStateError(`body ended ${this.remaining} bytes short of its Content-Length`);
      this.channel.abort(this, error);
      throw error;
    }
    this.finish();
  }

  /**
   * Calls `fn` once if the connection is lost (or given up, such as after a handler error)
   * before the response is finished: stop producing.
   * @param fn - receives the reason.
   * @returns this response.
   */
  onClose(fn: (reason: Error) => void): this {
    this.closeFn = fn;
    return this;
  }

  /**
   * Calls `fn` once the whole response has been handed to the connection.
   * @param fn - the callback.
   * @returns this response.
   */
  onFinish(fn: () => void): this {
    this.finishFn = fn;
    return this;
  }

  /**
   * Calls `fn` once the connection's buffer has drained below its high-water mark (at once,
   * synchronously, if it is not over it), or when the response is finished or its connection
   * closed.
   * @param fn - the callback.
   */
  onDrain(fn: () => void): void {
    if (!this.channel.writePaused || this.state >= R_DONE) {
      fn();
      return;
    }
    (this.drainFns ??= []).push(fn);
  }

  /**
   * The Promise form of `onDrain`.
   * @returns a Promise that resolves once writing may go on (or the connection is closed: check
   *   `closed`).
   */
  drained(): Promise<void> {
    if (!this.channel.writePaused || this.state >= R_DONE) return Promise.resolve();
    return new Promise((resolve) => (this.drainFns ??= []).push(resolve));
  }

  /**
   * Attaches the handler's push producer: paused while the connection's buffer is over its
   * high-water mark, resumed when it drains, stopped if the connection is lost. Detached by `end()`.
   * @param producer - the producer.
   * @throws HttpResponseStateError (`WL_ERR_HTTP_RESPONSE_STATE`) when one is attached already.
   */
  registerProducer(producer: PushProducer): void {
    if (this.producer !== null) throw new HttpResponseStateError("a producer is already registered on this response");
    if (this.state === R_CLOSED) {
      producer.stopProducing();
      return;
    }
    this.producer = producer;
    if (this.channel.writePaused) producer.pauseProducing();
  }

  /** Detaches the producer. */
  unregisterProducer(): void {
    this.producer = null;
  }

  /**
   * Accepts the client's request to switch protocols: sends `101 Switching Protocols` (or
   * `status`) with `headers`, then hands the connection to `protocol`, whose `makeConnection` gets
   * the raw transport and whose `dataReceived` gets any bytes that followed the request.
   * @param protocol - the protocol that takes over (a WebSocket protocol, say).
   * @param headers - fields for the 101 response, such as `Upgrade` and `Sec-WebSocket-Accept`.
   * @param status - the status to send: 101, or 200 for CONNECT.
   * @throws HttpResponseStateError (`WL_ERR_HTTP_RESPONSE_STATE`) when the request did not ask
   *   to upgrade, its body has not arrived, or the head was sent.
   * @throws HttpHeaderValueError (`WL_ERR_HTTP_HEADER`) for an unsafe header field.
   */
  upgrade(protocol: Protocol, headers?: HttpHeaderInput, status = 101): void {
    this.checkNew("upgrade");
    if (!this.request.upgrade) throw new HttpResponseStateError("upgrade() on a request that did not ask to upgrade");
    if (!this.request.complete) throw new HttpResponseStateError("upgrade() before the request body has arrived");
    this.status = status;
    if (headers !== undefined) this.addHeaders(headers);
    let head = statusLine(status, this.statusMessage);
    head += this.fieldLines();
    head += CRLF;
    this.state = R_DONE;
    this.producer = null;
    this.channel.switchProtocols(this, protocol, head);
  }

  // -- For the server ---------------------------------------------------------------------------

  /** @internal The connection was lost or given up before the response was finished. */
  abandon(reason: Error): void {
    if (this.state === R_DONE || this.state === R_CLOSED) return;
    this.state = R_CLOSED;
    const producer = this.producer;
    this.producer = null;
    producer?.stopProducing();
    this.fireDrain();
    const fn = this.closeFn;
    this.closeFn = null;
    fn?.(reason);
  }

  /** @internal The connection's buffer drained. */
  fireDrain(): void {
    const fns = this.drainFns;
    if (fns === null) return;
    this.drainFns = null;
    for (const fn of fns) fn();
  }

  /** @internal Whether this response still has a state the server must wait on. */
  get inProgress(): boolean {
    return this.state < R_DONE;
  }

  // -------------------------------------------------------------------------------------------

  private checkNew(what: string): void {
    if (this.state !== R_NEW) {
      throw new HttpResponseStateError(
        this.state === R_CLOSED ? `${what}() on a closed response` : `${what}() after the head was sent`,
      );
    }
  }

  private addHeaders(headers: HttpHeaderInput): void {
    if (isFlatList(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) this.addHeader(headers[i]!, headers[i + 1]!);
    } else {
      for (const name of Object.keys(headers)) this.addHeader(name, headers[name]!);
    }
  }

  private addHeader(name: string, value: string | number | readonly string[]): void {
    if (typeof value === "object") {
      for (const v of value) this.addHeader(name, v);
      return;
    }
    checkHeaderName(name);
    const text = typeof value === "number" ? String(value) : value;
    if (!checkHeaderValue(name, text)) this.flags |= H_NON_ASCII;
    (this.names ??= []).push(name);
    (this.values ??= []).push(text);
    this.noteSpecial(name, text);
  }

  private noteSpecial(name: string, value: string): void {
    // Only names of these lengths matter; most fields skip the lowercasing.
    const n = name.length;
    if (n !== 4 && n !== 10 && n !== 14 && n !== 17) return;
    switch (lower(name)) {
      case "date":
        this.flags |= H_DATE;
        break;
      case "connection":
        this.flags |= H_CONNECTION;
        if (/(^|,)\s*close\s*(,|$)/i.test(value)) this.flags |= H_CLOSE;
        break;
      case "content-length": {
        if (!/^\d+$/.test(value)) throw new HttpResponseStateError(`Content-Length ${JSON.stringify(value)} is not a number`);
        this.flags |= H_LENGTH;
        this.declaredLength = Number(value);
        break;
      }
      case "transfer-encoding":
        if (/chunked\s*$/i.test(value)) this.flags |= H_CHUNKED;
        else throw new HttpResponseStateError("the server encodes response bodies as chunked or not at all");
        break;
      default:
        break;
    }
  }

  private recomputeFlags(): void {
    this.flags = 0;
    this.declaredLength = -1;
    const names = this.names!;
    const values = this.values!;
    for (let i = 0; i < names.length; i++) {
      if (!checkHeaderValue(names[i]!, values[i]!)) this.flags |= H_NON_ASCII;
      this.noteSpecial(names[i]!, values[i]!);
    }
  }

  private fieldLines(): string {
    const names = this.names;
    if (names === null) return "";
    const values = this.values!;
    let s = "";
    for (let i = 0; i < names.length; i++) s += names[i]! + ": " + values[i]! + CRLF;
    return s;
  }

  /** No body may follow this head: HEAD requests, 204 and 304. */
  private bodyless(): boolean {
    const status = this.status;
    return status === 204 || status === 304 || this.request.method === "HEAD";
  }

  /** The head up to (not including) its final CRLF, minus the framing field. */
  private headStart(): string {
    let head = statusLine(this.status, this.statusMessage);
    if ((this.flags & H_DATE) === 0) head += this.channel.dateLine();
    if (this.names !== null) head += this.fieldLines();
    return head;
  }

  /** The Connection field (if any) and the final CRLF. */
  private headEnd(): string {
    const keepAlive = this.channel.keepAliveFor(this) && (this.flags & H_CLOSE) === 0 && this.framing !== F_CLOSE;
    this.closeAfter = !keepAlive;
    if ((this.flags & H_CONNECTION) !== 0) return CRLF;
    if (!keepAlive) return "Connection: close\r\n\r\n";
    return this.request.versionMinor === 0 ? "Connection: keep-alive\r\n\r\n" : CRLF;
  }

  /** end() before the head was sent: the whole body is known. */
  private endWhole(chunk: string | Uint8Array | undefined): void {
    const length = chunk === undefined ? 0 : byteLength(chunk);
    const status = this.status;
    let head = this.headStart();
    let withBody = chunk !== undefined && length > 0;
    if (status === 204 || status === 304) {
      withBody = false;
    } else if ((this.flags & H_LENGTH) !== 0) {
      if (this.declaredLength !== length && this.request.method !== "HEAD") {
        throw new HttpResponseStateError(`body of ${length} bytes does not match Content-Length ${this.declaredLength}`);
      }
    } else if ((this.flags & H_CHUNKED) !== 0) {
      // The handler asked for chunked: one chunk and the last chunk.
      this.framing = F_CHUNKED;
    } else {
      head += "Content-Length: " + length + CRLF;
    }
    head += this.headEnd();
    this.state = R_STREAMING;
    if (this.request.method === "HEAD") withBody = false;
    const channel = this.channel;
    if (!withBody) {
      channel.send(this.headBytes(head));
    } else if (this.framing === F_CHUNKED) {
      this.framing = F_NONE;
      const headOut = this.headBytes(head);
      if (typeof chunk === "string") {
        channel.send(headOut, length.toString(16) + CRLF + chunk + CRLF + LAST_CHUNK);
      } else {
        channel.send(headOut, length.toString(16) + CRLF, chunk);
        channel.send(CRLF + LAST_CHUNK);
      }
    } else if (typeof chunk === "string") {
      if ((this.flags & H_NON_ASCII) === 0) channel.send(head + chunk);
      else channel.send(Buffer.from(head, "latin1"), chunk);
    } else if (length <= COPY_BODY_LIMIT) {
      const headLength = head.length;
      const out = Buffer.allocUnsafe(headLength + length);
      out.write(head, 0, headLength, "latin1");
      out.set(chunk!, headLength);
      channel.send(out);
    } else {
      channel.send(this.headBytes(head), chunk);
    }
    this.finish();
  }

  private headBytes(head: string): string | Uint8Array {
    return (this.flags & H_NON_ASCII) === 0 ? head : Buffer.from(head, "latin1");
  }

  /** write() before the head was sent: choose a framing for a body of unknown length. */
  private startStreaming(): void {
    let head = this.headStart();
    if (this.bodyless()) {
      this.framing = F_NONE;
    } else if ((this.flags & H_LENGTH) !== 0) {
      this.framing = F_LENGTH;
      this.remaining = this.declaredLength;
    } else if ((this.flags & H_CHUNKED) !== 0) {
      this.framing = F_CHUNKED;
    } else if (this.request.versionMinor === 1) {
      this.framing = F_CHUNKED;
      head += "Transfer-Encoding: chunked\r\n";
    } else {
      // HTTP/1.0 has no chunked coding: the body ends when the connection does.
      this.framing = F_CLOSE;
    }
    head += this.headEnd();
    this.state = R_STREAMING;
    this.channel.send(this.headBytes(head));
  }

  private writeBody(chunk: string | Uint8Array): void {
    const framing = this.framing;
    if (framing === F_NONE) return;
    const channel = this.channel;
    if (framing === F_CHUNKED) {
      const length = byteLength(chunk);
      if (length === 0) return;
      if (typeof chunk === "string") channel.send(length.toString(16) + CRLF + chunk + CRLF);
      else channel.send(length.toString(16) + CRLF, chunk, CRLF);
      return;
    }
    if (framing === F_LENGTH) {
      const length = byteLength(chunk);
      if (length > this.remaining) {
        throw new HttpResponseStateError(`body is longer than its Content-Length (${this.declaredLength})`);
      }
      this.remaining -= length;
      if (length === 0) return;
    }
    channel.send(chunk);
  }

  private finish(): void {
    this.state = R_DONE;
    this.producer = null;
    // Whoever waits to write more learns it is over (`finished`) rather than waiting forever.
    this.fireDrain();
    const fn = this.finishFn;
    this.finishFn = null;
    this.closeFn = null;
    fn?.();
    this.channel.responseDone(this);
  }
}

function isFlatList(headers: HttpHeaderInput): headers is readonly string[] {
  return Array.isArray(headers);
}
