/**
 * `HttpClientProtocol`: an HTTP/1.1 client connection: requests out (sequentially on one
 * keep-alive connection, or pipelined), responses in through a `ResponseParser`. Lean enough
 * for a load generator: a request may be preformatted bytes, and bodies can be counted instead
 * of kept. `httpRequest(reactor, url)` is the one-shot convenience.
 *
 * @module
 */

import { Buffer } from "node:buffer";

import { Deferred } from "../../deferred.js";
import type { ClientEndpoint } from "../../endpoints.js";
import { ConnectionDone, HttpResponseParseError, InvalidOptionError } from "../../errors.js";
import { Factory, Protocol } from "../../protocol.js";
import type { Reactor } from "../../reactor.js";
import { checkHeaderName, checkHeaderValue } from "./check-header-field.js";
import type { HttpHeaders } from "./http-headers.js";
import type { HttpHeaderInput } from "./http-response.js";
import { ResponseParser } from "./response-parser.js";
import type { ResponseHead, ResponseParserCallbacks, ResponseParserOptions } from "./response-parser.js";

/** Default of {@link HttpClientOptions.pipelining}: one request at a time. */
export const DEFAULT_PIPELINING = 1;

/** One request for {@link HttpClientProtocol.request}. */
export interface HttpClientRequest {
  /**
   * The method.
   * @defaultValue "GET"
   */
  method?: string;
  /**
   * The request-target.
   * @defaultValue "/"
   */
  target?: string;
  /** Header fields; `Host` comes from the client's `host` option when not given here. */
  headers?: HttpHeaderInput;
  /** The body, sent with `Content-Length`. */
  body?: string | Uint8Array;
  /**
   * A whole preformatted request (head and body), sent as is: `method`, `target`, `headers`
   * and `body` are then ignored, except that `method: "HEAD"` still tells the parser not to
   * expect a body.
   */
  raw?: string | Uint8Array;
  /**
   * Count the response body's bytes (`bodyLength`) without keeping them (`body` is empty).
   * @defaultValue the client's `discardBodies` option
   */
  discardBody?: boolean;
}

/** A response, as a client receives it. */
export interface HttpClientResponse {
  /** The status code. */
  readonly status: number;
  /** The reason phrase. */
  readonly reason: string;
  /** The minor HTTP version: 0 or 1. */
  readonly versionMinor: number;
  /** The header fields, names lowercased. */
  readonly headers: HttpHeaders;
  /** The body (empty when it was discarded). */
  readonly body: Uint8Array;
  /** The body's length in bytes, discarded or not. */
  readonly bodyLength: number;
  /** Trailer fields of a chunked body. */
  readonly trailers: HttpHeaders;
  /** Whether the server lets the connection carry another request. */
  readonly keepAlive: boolean;
}

/** Options of an {@link HttpClientProtocol}: parser limits and request handling. */
export interface HttpClientOptions extends ResponseParserOptions {
  /**
   * Most requests written ahead of their responses. 1 sends each request once the previous
   * response is complete; more pipelines them.
   * @defaultValue {@link DEFAULT_PIPELINING} (1)
   */
  pipelining?: number;
  /**
   * Count response bodies instead of keeping them, unless a request says otherwise.
   * @defaultValue false
   */
  discardBodies?: boolean;
  /** The `Host` field added to requests that have none (not to `raw` ones). */
  host?: string;
}

interface Pending {
  readonly bytes: readonly (string | Uint8Array)[];
  readonly head: boolean;
  readonly discard: boolean;
  readonly deferred: Deferred<HttpClientResponse>;
  response: ResponseHead | null;
  chunks: Uint8Array[] | null;
  length: number;
}

const EMPTY_BODY = new Uint8Array(0);
const NON_ASCII_RE = /[\u0080-\uffff]/;

/**
 * Formats a request head and body.
 * @param request - what to send.
 * @param host - a `Host` value to add when the request has none.
 * @returns the pieces to write, in order.
 * @throws HttpHeaderValueError (`WL_ERR_HTTP_HEADER`) for an unsafe header field, method or target.
 */
export function formatRequest(request: HttpClientRequest, host?: string): (string | Uint8Array)[] {
  if (request.raw !== undefined) return [request.raw];
  const method = request.method ?? "GET";
  const target = request.target ?? "/";
  checkHeaderName(method);
  if (!/^[\x21-\x7e]+$/.test(target)) throw new InvalidOptionError("target", `not a valid request-target: ${JSON.stringify(target)}`);
  let head = `${method} ${target} HTTP/1.1\r\n`;
  let hasHost = false;
  let hasFraming = false;
  const add = (name: string, value: string | number | readonly string[]): void => {
    if (typeof value === "object") {
      for (const v of value) add(name, v);
      return;
    }
    const text = String(value);
    checkHeaderName(name);
    checkHeaderValue(name, text);
    const lower = name.toLowerCase();
    if (lower === "host") hasHost = true;
    else if (lower === "content-length" || lower === "transfer-encoding") hasFraming = true;
    head += `${name}: ${text}\r\n`;
  };
  const headers = request.headers;
  if (headers !== undefined) {
    if (Array.isArray(headers)) {
      const flat = headers as readonly string[];
      for (let i = 0; i + 1 < flat.length; i += 2) add(flat[i]!, flat[i + 1]!);
    } else {
      const record = headers as Readonly<Record<string, string | number | readonly string[]>>;
      for (const name of Object.keys(record)) add(name, record[name]!);
    }
  }
  if (!hasHost && host !== undefined) add("Host", host);
  const body = request.body;
  if (!hasFraming) {
    if (body !== undefined) head += `Content-Length: ${typeof body === "string" ? Buffer.byteLength(body) : body.length}\r\n`;
    else if (method === "POST" || method === "PUT" || method === "PATCH") head += "Content-Length: 0\r\n";
  }
  head += "\r\n";
  const headOut = NON_ASCII_RE.test(head) ? Buffer.from(head, "latin1") : head;
  if (body === undefined) return [headOut];
  if (typeof body === "string" && typeof headOut === "string") return [head + body];
  return [headOut, body];
}

/**
 * An HTTP/1.1 client connection. Queue requests with `request()`; each gets a Deferred of its
 * response. Requests go out in order, at most `pipelining` ahead of their responses.
 *
 * When the server closes the connection, or a response cannot be parsed, the response in
 * progress fails with the reason (`HttpResponseParseError` with reason `incomplete-response`
 * when it was cut short, `HttpResponseTooLargeError` for a limit) and the requests behind it
 * with `ConnectionDone` or the connection's error. After a response that does not keep the
 * connection alive, the client closes it and fails what was queued behind it.
 *
 * @example
 * ```ts
 * const client = await reactor.connect("tcp:127.0.0.1:8080", Factory.forProtocol(() => new HttpClientProtocol({ host: "localhost" })));
 * const response = await client.request({ method: "GET", target: "/" });
 * console.log(response.status, new TextDecoder().decode(response.body));
 * ```
 */
export class HttpClientProtocol extends Protocol implements ResponseParserCallbacks {
  private readonly parser: ResponseParser;
  private readonly pipelining: number;
  private readonly discardBodies: boolean;
  private readonly host: string | undefined;
  private readonly waiting: Pending[] = [];
  private readonly inFlight: Pending[] = [];
  private closed = false;
  private failure: Error | null = null;

  /**
   * @param options - see {@link HttpClientOptions}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for an option out of bounds.
   */
  constructor(options: HttpClientOptions = {}) {
    super();
    this.parser = new ResponseParser(this, options);
    const pipelining = options.pipelining ?? DEFAULT_PIPELINING;
    if (!Number.isInteger(pipelining) || pipelining < 1) {
      throw new InvalidOptionError("pipelining", `must be a positive integer, got ${pipelining}`);
    }
    this.pipelining = pipelining;
    this.discardBodies = options.discardBodies ?? false;
    this.host = options.host;
  }

  /** Requests sent or queued that have no response yet. */
  get pending(): number {
    return this.waiting.length + this.inFlight.length;
  }

  /**
   * Sends a request (now, or once the pipeline has room).
   * @param request - what to send.
   * @returns a Deferred of the response; cancelling it aborts the connection.
   * @throws (through the Deferred) `HttpResponseParseError` / `HttpResponseTooLargeError`
   *   (`WL_ERR_HTTP_RESPONSE_PARSE`, `WL_ERR_HTTP_RESPONSE_TOO_LARGE`), or the connection's loss.
   * @throws HttpHeaderValueError (`WL_ERR_HTTP_HEADER`) at once for an unsafe header field.
   */
  request(request: HttpClientRequest): Deferred<HttpClientResponse> {
    const bytes = formatRequest(request, this.host);
    const deferred = new Deferred<HttpClientResponse>(() => {
      if (this.connected) this.transport.abortConnection();
    });
    if (this.closed) {
      deferred.errback(this.failure ?? new ConnectionDone("the connection is closed"));
      return deferred;
    }
    const method = request.method ?? "GET";
    this.waiting.push({
      bytes,
      head: method === "HEAD",
      discard: request.discardBody ?? this.discardBodies,
      deferred,
      response: null,
      chunks: null,
      length: 0,
    });
    this.sendMore();
    return deferred;
  }

  /** Closes the connection once what was written is sent; requests still pending fail. */
  close(): void {
    if (this.connected) this.transport.loseConnection();
  }

  // -- Protocol ---------------------------------------------------------------------------------

  override connectionMade(): void {
    this.sendMore();
  }

  override dataReceived(data: Uint8Array): void {
    this.parser.execute(data);
  }

  override connectionLost(reason: Error): void {
    this.parser.finish();
    this.closed = true;
    this.failAll(this.failure ?? reason);
  }

  // -- ResponseParserCallbacks --------------------------------------------------------------------

  onResponseHead(head: ResponseHead): boolean {
    const current = this.inFlight[0];
    if (current === undefined) {
      this.onError(new HttpResponseParseError("unsolicited-response", "a response arrived with no request outstanding"));
      return true;
    }
    current.response = head;
    return current.head;
  }

  onBody(chunk: Uint8Array): void {
    const current = this.inFlight[0];
    if (current === undefined) return;
    current.length += chunk.length;
    if (!current.discard) (current.chunks ??= []).push(chunk);
  }

  onResponseComplete(trailers: HttpHeaders): void {
    const current = this.inFlight.shift();
    if (current === undefined || current.response === null) return;
    const head = current.response;
    const chunks = current.chunks;
    const body = chunks === null ? EMPTY_BODY : chunks.length === 1 ? Buffer.from(chunks[0]!) : Buffer.concat(chunks);
    current.deferred.callback({
      status: head.status,
      reason: head.reason,
      versionMinor: head.versionMinor,
      headers: head.headers,
      body,
      bodyLength: current.length,
      trailers,
      keepAlive: head.keepAlive,
    });
    if (!head.keepAlive || head.status === 101) {
      this.closed = true;
      this.failAll(new ConnectionDone("the server closes the connection after an earlier response"));
      if (this.connected && head.status !== 101) this.transport.loseConnection();
      return;
    }
    this.sendMore();
  }

  onError(error: HttpResponseParseError): void {
    this.failure = error;
    this.closed = true;
    this.failAll(error);
    if (this.connected) this.transport.abortConnection();
  }

  // -------------------------------------------------------------------------------------------

  private sendMore(): void {
    if (!this.connected || this.closed) return;
    const waiting = this.waiting;
    let batch: (string | Uint8Array)[] | null = null;
    while (waiting.length > 0 && this.inFlight.length < this.pipelining) {
      const next = waiting.shift()!;
      this.inFlight.push(next);
      if (batch === null && waiting.length === 0 && next.bytes.length === 1) {
        this.transport.write(next.bytes[0]!);
        return;
      }
      (batch ??= []).push(...next.bytes);
    }
    if (batch !== null) this.transport.writeSequence(batch);
  }

  private failAll(reason: Error): void {
    const all = this.inFlight.splice(0).concat(this.waiting.splice(0));
    for (const p of all) {
      if (!p.deferred.called) p.deferred.errback(reason);
    }
  }
}

/** Options of {@link httpRequest}. */
export interface HttpRequestOptions extends HttpClientOptions, Omit<HttpClientRequest, "target" | "raw"> {
  /** Where to connect instead of the URL's host and port. */
  endpoint?: string | ClientEndpoint;
  /** Milliseconds (on the reactor's clock) for the whole exchange; fails with `TimeoutError`. */
  timeout?: number;
}

/**
 * Makes one request on a new connection and closes it.
 * @param reactor - the reactor to connect with.
 * @param url - an `http:` (or `https:`) URL.
 * @param options - the request, client limits, and where to connect.
 * @returns a Deferred (awaitable) of the response.
 * @throws (through the Deferred) connection errors (`ConnectionRefusedError`, ...), the
 *   response errors of {@link HttpClientProtocol.request}, or `TimeoutError` (`WL_ERR_TIMEOUT`).
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a URL that is not http(s).
 *
 * @example
 * ```ts
 * const response = await httpRequest(reactor, "http://127.0.0.1:8080/hello");
 * ```
 */
export function httpRequest(reactor: Reactor, url: string | URL, options: HttpRequestOptions = {}): Deferred<HttpClientResponse> {
  const u = typeof url === "string" ? new URL(url) : url;
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new InvalidOptionError("url", `not an http(s) URL: ${u.href}`);
  const tls = u.protocol === "https:";
  const hostname = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === "" ? (tls ? 443 : 80) : Number(u.port);
  const endpoint: string | ClientEndpoint =
    options.endpoint ?? (tls ? { kind: "tls", host: hostname, port, timeout: 30, verify: true } : { kind: "tcp", host: hostname, port, timeout: 30 });
  const clientOptions: HttpClientOptions = { ...options, host: u.host };
  const request: HttpClientRequest = { target: `${u.pathname}${u.search}` };
  if (options.method !== undefined) request.method = options.method;
  if (options.headers !== undefined) request.headers = options.headers;
  if (options.body !== undefined) request.body = options.body;
  if (options.discardBody !== undefined) request.discardBody = options.discardBody;
  let client: HttpClientProtocol | null = null;
  const d = reactor
    .connect(endpoint, Factory.forProtocol(() => new HttpClientProtocol(clientOptions)))
    .addCallback((protocol) => {
      client = protocol;
      return protocol.request(request);
    })
    .addCallbacks(
      (response) => {
        client?.close();
        return response;
      },
      (error: unknown) => {
        if (client?.connected === true) client.transport.abortConnection();
        throw error;
      },
    );
  return options.timeout === undefined ? d : d.addTimeout(options.timeout, reactor);
}
