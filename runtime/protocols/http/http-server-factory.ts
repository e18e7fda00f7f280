/**
 * `HttpServerFactory`: an HTTP/1.1 server as a wirelab `Factory`: listen with it on any reactor
 * (`NodeReactor`, or the fakes), and every connection gets an `HttpServerProtocol` that calls
 * your handler once per request.
 *
 * @module
 */

import { Deferred } from "../../deferred.js";
import { InvalidOptionError } from "../../errors.js";
import type { Address } from "../../protocol.js";
import { Factory } from "../../protocol.js";
import type { Clock, DelayedCall, Reactor, TriggerHandle } from "../../reactor.js";
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
 * Default of {@link HttpServerOptions.shutdownTimeout}: 10 s, time for a slow response or a
 * WebSocket closing handshake (whose own timeout is 5 s) to finish, short enough for a deploy.
 */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

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
   * How long {@link HttpServerFactory.shutdown} lets requests in flight and WebSocket closing
   * handshakes finish before it aborts the connections still open; 0 aborts them at once.
   * @defaultValue {@link DEFAULT_SHUTDOWN_TIMEOUT_MS} (10000)
   */
  shutdownTimeout?: number;
  /**
   * Receives the errors the server survives: a handler that threw (wrapped in
   * `HandlerFailedError`, `WL_ERR_HANDLER_FAILED`), a response used out of order.
   * @defaultValue writes the error to `console.error`
   */
  onError?: (error: Error) => void;
}

function timeoutOption(options: HttpServerOptions, key: "headersTimeout" | "bodyTimeout" | "keepAliveTimeout" | "shutdownTimeout", fallback: number): number {
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
 * both ways, `Expect: 100-continue`, limits and timeouts, protocol upgrades, and a graceful
 * shutdown ({@link HttpServerFactory.shutdown}) that `reactor.stop()` runs by itself when the
 * clock given is the reactor.
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
  /** See {@link HttpServerOptions.shutdownTimeout}. */
  readonly shutdownTimeout: number;
  /**
   * When true, each connection closes after its current response (`Connection: close`) and
   * idle ones close at their next timer. `shutdown()` sets it (and closes idle ones at once).
   */
  closing = false;
  private readonly onError: (error: Error) => void;
  /** The open connections, upgraded ones included. */
  private readonly open = new Set<HttpServerProtocol>();
  /** Set by `shutdown()`: whoever waits for the last connection to close. */
  private drainWaiters: Deferred<void>[] | null = null;
  private deadline: DelayedCall | null = null;
  private shutdownTrigger: TriggerHandle | null = null;

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
    this.shutdownTimeout = timeoutOption(options, "shutdownTimeout", DEFAULT_SHUTDOWN_TIMEOUT_MS);
    const parserOptions: RequestParserOptions = {};
    for (const key of ["maxRequestLineLength", "maxHeaderSize", "maxHeaderCount", "maxBodySize", "maxChunkLineLength", "maxBufferedBytes"] as const) {
      const value = options[key];
      if (value !== undefined) parserOptions[key] = value;
    }
    this.parserOptions = parserOptions;
    this.dateCache = new HttpDateCache(clock);
    this.onError = options.onError ?? defaultOnError;
  }

  /** A protocol for a new connection (which closes at once while the server shuts down). */
  override buildProtocol(_addr: Address): HttpServerProtocol {
    return new HttpServerProtocol(this);
  }

  /** True from `shutdown()` on: new connections are closed at once. */
  get shuttingDown(): boolean {
    return this.drainWaiters !== null;
  }

  /**
   * Shuts the server down gracefully, as Node's `server.close()` with
   * `closeIdleConnections()`, or Tornado's `stop()` with `close_all_connections()`: no new
   * connection is served (one offered is closed at once; stop the port's listening to refuse it
   * at the socket), idle keep-alive connections close now, a request in flight is answered
   * (with `Connection: close` if its head has not gone yet) and its connection closed after it,
   * a connection upgraded to a WebSocket gets a close frame with 1001 (Going Away); whatever is
   * still open after `timeoutMs` is aborted. A request never starts after this: pipelined ones
   * behind the current response are not read.
   *
   * When the factory's clock is a reactor, listening with it registers this as a `before
   * shutdown` trigger, so `reactor.stop()` drains the server before it closes the connections.
   *
   * @param timeoutMs - the deadline, in milliseconds on the factory's clock.
   * @defaultValue timeoutMs the `shutdownTimeout` option
   * @returns a Deferred that fires once every connection is closed.
   */
  shutdown(timeoutMs: number = this.shutdownTimeout): Deferred<void> {
    const done = new Deferred<void>();
    if (this.drainWaiters !== null) {
      this.drainWaiters.push(done);
      this.drainedMaybe();
      return done;
    }
    this.drainWaiters = [done];
    this.closing = true;
    for (const connection of [...this.open]) connection.shutDown();
    if (this.open.size > 0 && this.deadline === null) {
      this.deadline = this.clock.callLater(Math.max(0, timeoutMs), () => {
        this.deadline = null;
        for (const connection of [...this.open]) connection.transport.abortConnection();
      });
    }
    this.drainedMaybe();
    return done;
  }

  /** How many connections are open (upgraded ones included). */
  get connectionCount(): number {
    return this.open.size;
  }

  /** Registers the graceful shutdown with the reactor, when the clock is one. */
  override startFactory(): void {
    const reactor = this.clock as Partial<Reactor>;
    if (this.shutdownTrigger === null && typeof reactor.addSystemEventTrigger === "function") {
      this.shutdownTrigger = reactor.addSystemEventTrigger("before", "shutdown", () => this.shutdown());
    }
  }

  /** No port left: the shutdown trigger goes once no connection is left either. */
  override stopFactory(): void {
    this.releaseTrigger();
  }

  /** @internal */
  connectionOpened(connection: HttpServerProtocol): void {
    this.open.add(connection);
  }

  /** @internal */
  connectionClosed(connection: HttpServerProtocol): void {
    this.open.delete(connection);
    this.drainedMaybe();
    this.releaseTrigger();
  }

  private drainedMaybe(): void {
    const waiters = this.drainWaiters;
    if (waiters === null || this.open.size > 0 || waiters.length === 0) return;
    if (this.deadline !== null) {
      if (this.deadline.active()) this.deadline.cancel();
      this.deadline = null;
    }
    this.drainWaiters = [];
    for (const waiter of waiters) waiter.callback(undefined);
  }

  private releaseTrigger(): void {
    if (this.shutdownTrigger === null || this.numPorts > 0 || this.open.size > 0) return;
    (this.clock as Reactor).removeSystemEventTrigger(this.shutdownTrigger);
    this.shutdownTrigger = null;
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
