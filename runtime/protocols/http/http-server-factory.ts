/**
 * `HttpServerFactory`: an HTTP/1.1 server as a wirelab `Factory`: listen with it on any reactor
 * (`NodeReactor`, or the fakes), and every connection gets an `HttpServerProtocol` that calls
 * your handler once per request.
 *
 * @module
 */

import { InvalidOptionError } from "../../errors.js";
import type { Address } from "../../protocol.js";
import { Factory } from "../../protocol.js";
import type { Clock } from "../../reactor.js";
import { HttpDateCache } from "./http-date.js";
import type { HttpRequest } from "./http-request.js";
import type { HttpResponse } from "./http-response.js";
import { HttpServerProtocol } from "./http-server-protocol.js";
import type { RequestParserOptions } from "./request-parser.js";

/** Default of {@link HttpServerOptions.headersTimeout}: 10 s. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Default of {@link HttpServerOptions.bodyTimeout}: 30 s. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;
/** Default of {@link HttpServerOptions.keepAliveTimeout}: 5 s. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/**
 * Default of {@link HttpServerOptions.maxPendingResponseBytes}: 64 KiB, the reactors' default
 * high-water mark, so the server stops taking requests as soon as its transport reports a full
 * buffer, as `node:http` does.
 */
export const DEFAULT_MAX_PENDING_RESPONSE_BYTES = 64 * 1024;

/**
 * Handles one request. Called as soon as the request's head is parsed; answer through
 * `response` now or later. It may return a Promise (an `async` handler): a rejection is handled
 * like a throw. A handler that throws (or rejects) gets a 500 sent for it if nothing was sent
 * yet; otherwise the connection is aborted. Either way the error goes to `onError`.
 */
export type HttpHandler = (request: HttpRequest, response: HttpResponse) => void | PromiseLike<unknown>;

/**
 * Options of an {@link HttpServerFactory}. The parser limits are passed to each connection's
 * `RequestParser` (see its README for what they measure); timeouts are in milliseconds on the
 * factory's clock, 0 to disable.
 */
export interface HttpServerOptions extends RequestParserOptions {
  /**
   * Longest time from a connection's start, or from the previous response's end, to a complete
   * request head (slowloris defence). Past it the server answers 408 and closes.
   * @defaultValue {@link DEFAULT_HEADERS_TIMEOUT_MS} (10000)
   */
  headersTimeout?: number;
  /**
   * Longest wait between two bytes of a request body while the server reads it (not while
   * the handler holds the body paused). Past it: 408 and close if no response was sent,
   * otherwise the connection is aborted.
   * @defaultValue {@link DEFAULT_BODY_TIMEOUT_MS} (30000)
   */
  bodyTimeout?: number;
  /**
   * Longest wait for the first byte of a next request (and of a connection's first request);
   * past it the connection is closed quietly.
   * @defaultValue {@link DEFAULT_KEEP_ALIVE_TIMEOUT_MS} (5000)
   */
  keepAliveTimeout?: number;
  /**
   * Bytes of answered responses that may wait unsent (in the transport's write buffer) before
   * the server stops reading and parsing the connection's next pipelined requests; it goes on
   * once the transport has drained. Requests are handled one at a time in any case (the next
   * one stays unparsed until the current response is finished), so this bounds what a client
   * that pipelines without reading can make the server hold. The signal to go on is the
   * transport's drain, which comes only after its buffer passed its `highWaterMark`, so the
   * bound in effect is the larger of the two. A single response larger than this is not cut:
   * it is the handler's to stream with backpressure (`write()` returning false, `drained()`).
   * @defaultValue {@link DEFAULT_MAX_PENDING_RESPONSE_BYTES} (65536)
   */
  maxPendingResponseBytes?: number;
  /**
   * Receives the errors the server survives: a handler that threw (wrapped in
   * `HandlerFailedError`, `WL_ERR_HANDLER_FAILED`), a response used out of order.
   * @defaultValue writes the error to `console.error`
   */
  onError?: (error: Error) => void;
}

function timeoutOption(options: HttpServerOptions, key: "headersTimeout" | "bodyTimeout" | "keepAliveTimeout", fallback: number): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new InvalidOptionError(key, `must be a non-negative number of milliseconds (0 disables it), got ${String(value)}`);
  }
  return value;
}

const defaultOnError = (error: Error): void => {
  console.error(error);
};

/**
 * Serves HTTP/1.1 with a handler: keep-alive, pipelining (answered in order), chunked bodies
 * both ways, `Expect: 100-continue`, limits and timeouts, protocol upgrades.
 *
 * @example
 * ```ts
 * const reactor = new NodeReactor();
 * const server = new HttpServerFactory(reactor, (request, response) => {
 *   response.setHeader("Content-Type", "text/plain");
 *   response.end("hello world");
 * });
 * await reactor.listen("tcp:8080:interface=127.0.0.1", server);
 *
 * // async handlers work the same way:
 * new HttpServerFactory(reactor, async (request, response) => {
 *   const body = await request.body();
 *   response.end(body);
 * });
 * ```
 */
export class HttpServerFactory extends Factory<HttpServerProtocol> {
  /** The clock that times requests and dates responses. */
  readonly clock: Clock;
  /** The request handler. */
  readonly handler: HttpHandler;
  /** See {@link HttpServerOptions.headersTimeout}. */
  readonly headersTimeout: number;
  /** See {@link HttpServerOptions.bodyTimeout}. */
  readonly bodyTimeout: number;
  /** See {@link HttpServerOptions.keepAliveTimeout}. */
  readonly keepAliveTimeout: number;
  /** See {@link HttpServerOptions.maxPendingResponseBytes}. */
  readonly maxPendingResponseBytes: number;
  /** @internal The parser limits, shared by every connection. */
  readonly parserOptions: RequestParserOptions;
  /** @internal The `Date` line, formatted once per second for all connections. */
  readonly dateCache: HttpDateCache;
  /**
   * When true, each connection closes after its current response (`Connection: close`) and
   * idle ones close at their next timer: set it to drain the server before stopping.
   */
  closing = false;
  private readonly onError: (error: Error) => void;

  /**
   * @param clock - the reactor (or a fake clock): time for timeouts and `Date`.
   * @param handler - called once per request.
   * @param options - limits, timeouts and the error hook; see {@link HttpServerOptions}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for an option out of bounds (the
   *   message names it).
   */
  constructor(clock: Clock, handler: HttpHandler, options: HttpServerOptions = {}) {
    super();
    this.clock = clock;
    this.handler = handler;
    this.headersTimeout = timeoutOption(options, "headersTimeout", DEFAULT_HEADERS_TIMEOUT_MS);
    this.bodyTimeout = timeoutOption(options, "bodyTimeout", DEFAULT_BODY_TIMEOUT_MS);
    this.keepAliveTimeout = timeoutOption(options, "keepAliveTimeout", DEFAULT_KEEP_ALIVE_TIMEOUT_MS);
    const pending = options.maxPendingResponseBytes ?? DEFAULT_MAX_PENDING_RESPONSE_BYTES;
    if (!Number.isSafeInteger(pending) || pending < 0) {
      throw new InvalidOptionError("maxPendingResponseBytes", `must be an integer >= 0, got ${String(pending)}`);
    }
    this.maxPendingResponseBytes = pending;
    const parserOptions: RequestParserOptions = {};
    for (const key of ["maxRequestLineLength", "maxHeaderSize", "maxHeaderCount", "maxBodySize", "maxChunkLineLength", "maxBufferedBytes"] as const) {
      const value = options[key];
      if (value !== undefined) parserOptions[key] = value;
    }
    this.parserOptions = parserOptions;
    this.dateCache = new HttpDateCache(clock);
    this.onError = options.onError ?? defaultOnError;
  }

  override buildProtocol(_addr: Address): HttpServerProtocol {
    return new HttpServerProtocol(this);
  }

  /**
   * Hands an error the server survived to the `onError` option.
   * @param error - the error.
   */
  reportError(error: Error): void {
    try {
      this.onError(error);
    } catch {
      // An error hook that throws has nowhere left to report to.
    }
  }
}
