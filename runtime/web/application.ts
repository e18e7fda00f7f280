/**
 * `Application`: routes requests to `RequestHandler` classes, holds the settings they share,
 * and plugs into wirelab's HTTP server (`factory(clock)`, `listen(reactor, endpoint)`).
 *
 * @module
 */

import { randomBytes as cryptoRandomBytes } from "node:crypto";

import type { Deferred } from "../deferred.js";
import type { ServerEndpoint } from "../endpoints.js";
import { InvalidOptionError } from "../errors.js";
import { HttpServerFactory } from "../protocols/http/http-server-factory.js";
import type { HttpServerOptions } from "../protocols/http/http-server-factory.js";
import type { HttpRequest } from "../protocols/http/http-request.js";
import type { HttpResponse } from "../protocols/http/http-response.js";
import type { PerMessageDeflateOptions } from "../protocols/websocket/permessage-deflate.js";
import type { Clock, ListeningPort, Reactor } from "../reactor.js";
import type { CookieOptions } from "./cookies.js";
import { ErrorHandler } from "./error-handler.js";
import type { RequestHandlerClass } from "./request-handler.js";
import { Router } from "./routing.js";
import type { HandlerOptions, RouteMatch, RouteSpec } from "./routing.js";
import { DEFAULT_SIGNED_VALUE_MAX_AGE_DAYS } from "./signed-cookie.js";
import type { CookieSecret } from "./signed-cookie.js";
import { DEFAULT_XSRF_COOKIE_NAME } from "./xsrf.js";

/** The default `Server` header. */
export const DEFAULT_SERVER_HEADER = "wirelab";

/** Settings shared by every handler of an {@link Application}. */
export interface ApplicationSettings {
  /** The secret for signed cookies, or secrets by key version (for rotation). */
  cookieSecret?: CookieSecret;
  /**
   * The key version new signed cookies are signed with, when `cookieSecret` is a map.
   * @defaultValue 0
   */
  keyVersion?: number;
  /**
   * The oldest signed cookie `getSignedCookie` accepts, in days.
   * @defaultValue {@link DEFAULT_SIGNED_VALUE_MAX_AGE_DAYS} (31)
   */
  signedCookieMaxAgeDays?: number;
  /**
   * Check an XSRF token on every request whose method is not GET, HEAD or OPTIONS.
   * @defaultValue false
   */
  xsrfCookies?: boolean;
  /**
   * The XSRF cookie's (and form field's) name.
   * @defaultValue {@link DEFAULT_XSRF_COOKIE_NAME} ("_xsrf")
   */
  xsrfCookieName?: string;
  /** Attributes of the XSRF cookie (`secure`, `sameSite`, ...). @defaultValue {} */
  xsrfCookieOptions?: CookieOptions;
  /**
   * The `Server` header of every response.
   * @defaultValue {@link DEFAULT_SERVER_HEADER} ("wirelab")
   */
  serverHeader?: string;
  /** The handler for paths no route matches. @defaultValue `ErrorHandler` (404) */
  defaultHandlerClass?: RequestHandlerClass;
  /** Options for the default handler's `initialize()`. @defaultValue {} */
  defaultHandlerOptions?: HandlerOptions;
  /**
   * WebSocket keepalive: a ping every this many milliseconds (0: none).
   * @defaultValue 0
   */
  websocketPingIntervalMs?: number;
  /**
   * WebSocket keepalive: close when no pong came within this many milliseconds of a ping.
   * @defaultValue the WebSocket protocol's `DEFAULT_PING_TIMEOUT_MS` (30 s)
   */
  websocketPingTimeoutMs?: number;
  /**
   * The largest WebSocket message accepted, in bytes (larger closes with 1009).
   * @defaultValue the WebSocket protocol's `DEFAULT_MAX_PAYLOAD` (16 MiB)
   */
  websocketMaxMessageSize?: number;
  /**
   * Bytes a WebSocket may have waiting unsent when a message is written to it; past it the
   * message is dropped and the connection closed with 1013 (a subscriber that does not read).
   * `Infinity` for no limit.
   * @defaultValue the WebSocket protocol's `DEFAULT_MAX_BUFFERED_AMOUNT` (1 MiB)
   */
  websocketMaxBufferedAmount?: number;
  /**
   * permessage-deflate for WebSocket handlers that do not override `getCompressionOptions`:
   * options to enable it, false to never negotiate it.
   * @defaultValue false
   */
  websocketCompression?: PerMessageDeflateOptions | false;
  /** Options of the HTTP server (limits, timeouts) built by `factory()` and `listen()`. @defaultValue {} */
  server?: Omit<HttpServerOptions, "onError">;
  /**
   * Receives exceptions from handlers (500s, errors in hooks) and from the server.
   * @defaultValue writes them to `console.error`
   */
  onError?: (error: unknown) => void;
  /**
   * The source of random bytes for XSRF tokens: must be cryptographically strong in production;
   * tests may inject a seeded one.
   * @defaultValue node:crypto's `randomBytes`
   */
  randomBytes?: (size: number) => Uint8Array;
}

const defaultOnError = (error: unknown): void => {
  console.error(error);
};

/**
 * A web application: a list of routes `[pattern, Handler, options]` (patterns are regular
 * expressions matched against the whole path, first match wins; their groups become the
 * handler methods' arguments) and settings.
 *
 * @example
 * ```ts
 * class Hello extends RequestHandler {
 *   override get(name: string): void {
 *     this.write(`hello ${name}`);
 *   }
 * }
 * const app = new Application([["/hello/(\\w+)", Hello]], { cookieSecret: "..." });
 * await app.listen(reactor, "tcp:8888:interface=127.0.0.1");
 * // in tests, on the fakes: await requestApp(app, "GET", "/hello/you")   (wirelab/fakes)
 * ```
 */
export class Application {
  /** The settings. */
  readonly settings: Readonly<ApplicationSettings>;
  /** The routes, compiled. */
  readonly router: Router;

  /**
   * @param routes - the routing rules, in order.
   * @param settings - see {@link ApplicationSettings}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad pattern or setting.
   */
  constructor(routes: readonly RouteSpec[], settings: ApplicationSettings = {}) {
    this.router = new Router(routes);
    this.settings = { ...settings };
    const maxAge = settings.signedCookieMaxAgeDays;
    if (maxAge !== undefined && !(maxAge > 0)) throw new InvalidOptionError("signedCookieMaxAgeDays", `must be positive, got ${maxAge}`);
    const secret = settings.cookieSecret;
    if (secret !== undefined && typeof secret === "object" && secret[settings.keyVersion ?? 0] === undefined) {
      throw new InvalidOptionError("keyVersion", `cookieSecret has no key version ${settings.keyVersion ?? 0}`);
    }
  }

  /** The `Server` header. */
  get serverHeader(): string {
    return this.settings.serverHeader ?? DEFAULT_SERVER_HEADER;
  }

  /** The XSRF cookie and field name. */
  get xsrfCookieName(): string {
    return this.settings.xsrfCookieName ?? DEFAULT_XSRF_COOKIE_NAME;
  }

  /** The default maximum age of signed cookies, in days. */
  get signedCookieMaxAgeDays(): number {
    return this.settings.signedCookieMaxAgeDays ?? DEFAULT_SIGNED_VALUE_MAX_AGE_DAYS;
  }

  /**
   * Random bytes from the `randomBytes` setting.
   * @param size - how many.
   * @returns the bytes.
   */
  randomBytes(size: number): Uint8Array {
    return (this.settings.randomBytes ?? cryptoRandomBytes)(size);
  }

  /**
   * Reports an error to the `onError` setting (never throws).
   * @param error - the error.
   */
  reportError(error: unknown): void {
    try {
      (this.settings.onError ?? defaultOnError)(error);
    } catch {
      // An error hook that throws has nowhere left to report to.
    }
  }

  /**
   * An HTTP server factory that serves this application, timed by `clock`.
   * @param clock - the reactor (or a fake clock): every time handlers use comes from it.
   * @param options - server options overriding the `server` setting.
   * @returns the factory, to `listen` with on any reactor.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad server option.
   */
  factory(clock: Clock, options: Omit<HttpServerOptions, "onError"> = {}): HttpServerFactory {
    return new HttpServerFactory(clock, (request, response) => this.handle(clock, request, response), {
      ...this.settings.server,
      ...options,
      onError: (error) => this.reportError(error),
    });
  }

  /**
   * Listens on `endpoint` with a server for this application.
   * @param reactor - the reactor (NodeReactor, or a fake).
   * @param endpoint - where, such as `"tcp:8888:interface=127.0.0.1"`.
   * @returns a Deferred of the listening port.
   * @throws (through the Deferred) CannotListenError (`WL_ERR_CANNOT_LISTEN`) or
   *   InvalidEndpointError (`WL_ERR_INVALID_ENDPOINT`).
   */
  listen(reactor: Reactor, endpoint: string | ServerEndpoint): Deferred<ListeningPort> {
    return reactor.listen(endpoint, this.factory(reactor));
  }

  /**
   * Finds the handler for a path.
   * @param path - the request path.
   * @returns the handler class, its options and the match (null for the default handler).
   */
  route(path: string): { handler: RequestHandlerClass; options: HandlerOptions; match: RouteMatch | null } {
    const match = this.router.find(path);
    if (match !== null) return { handler: match.route.handler, options: match.route.options, match };
    return { handler: this.settings.defaultHandlerClass ?? ErrorHandler, options: this.settings.defaultHandlerOptions ?? {}, match: null };
  }

  /**
   * Serves one request: the `HttpHandler` of the factories this application builds.
   * @param clock - the server's clock.
   * @param request - the request.
   * @param response - its response.
   * @returns a Promise that settles once the handler's method has returned.
   */
  async handle(clock: Clock, request: HttpRequest, response: HttpResponse): Promise<void> {
    const { handler: Handler, options, match } = this.route(request.path);
    let handler;
    try {
      handler = new Handler({ application: this, request, response, clock, match });
      handler.initialize(options);
    } catch (error) {
      this.reportError(error);
      if (!response.headersSent) response.writeHead(500, { "Content-Type": "text/plain; charset=UTF-8" }).end("500: Internal Server Error");
      return;
    }
    await handler.execute();
  }
}
