/**
 * `RequestHandler`: Tornado's request handler over wirelab's HTTP server. Subclass it and
 * define `get`, `post`, ...; the `Application` creates one instance per request.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";

import type { Awaitable } from "../deferred.js";
import { HttpError, RequestHandlerUsageError, StreamClosedError } from "../errors.js";
import type { HttpRequest } from "../protocols/http/http-request.js";
import type { HttpResponse } from "../protocols/http/http-response.js";
import { STATUS_REASONS } from "../protocols/http/http-status.js";
import type { Clock } from "../reactor.js";
import type { Application } from "./application.js";
import { formatSetCookie } from "./cookies.js";
import type { CookieOptions } from "./cookies.js";
import type { HandlerOptions, RouteMatch } from "./routing.js";
import { createSignedValue, decodeSignedValue } from "./signed-cookie.js";
import { WebRequest } from "./web-request.js";
import { decodeXsrfToken, encodeXsrfToken, XSRF_TOKEN_BYTES, xsrfTokensEqual } from "./xsrf.js";
import type { XsrfToken } from "./xsrf.js";

/** What the application hands a handler's constructor. */
export interface HandlerContext {
  /** The application. */
  readonly application: Application;
  /** The request, as the HTTP server parsed it. */
  readonly request: HttpRequest;
  /** The response the handler writes through. */
  readonly response: HttpResponse;
  /** The injected clock (the reactor): every time the handler needs comes from it. */
  readonly clock: Clock;
  /** The routing match (path arguments), or null for the default handler. */
  readonly match: RouteMatch | null;
}

/** A handler class, as listed in the routes. */
export type RequestHandlerClass = (new (context: HandlerContext) => RequestHandler) & {
  /** When true, the body is handed to `dataReceived` in chunks instead of being read whole first. */
  readonly streamRequestBody?: boolean;
  /** The methods this class answers at all; others are 405. */
  readonly SUPPORTED_METHODS?: readonly string[];
};

/** Information for `sendError`/`writeError`. */
export interface ErrorInfo {
  /** The exception that caused the error, if any. */
  readonly error?: unknown;
  /** A reason phrase to send instead of the registered one. */
  readonly reason?: string;
}

/** Options of `setSignedCookie`. */
export interface SignedCookieOptions extends CookieOptions {
  /**
   * Days until the cookie expires in the browser.
   * @defaultValue 30
   */
  expiresDays?: number;
  /** Which key version to sign with. @defaultValue the application's `keyVersion` setting */
  version?: number;
}

/** Options of `getSignedCookie`. */
export interface GetSignedCookieOptions {
  /** The oldest signature accepted, in days. @defaultValue the application's `signedCookieMaxAgeDays` (31) */
  maxAgeDays?: number;
}

/** The methods a plain `RequestHandler` understands, as in Tornado. */
export const DEFAULT_SUPPORTED_METHODS: readonly string[] = ["GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS"];

/** The default days until a signed cookie expires in the browser (Tornado's). */
export const DEFAULT_SIGNED_COOKIE_EXPIRES_DAYS = 30;

const METHOD_NAMES = ["get", "head", "post", "delete", "patch", "put", "options"] as const;
type MethodName = (typeof METHOD_NAMES)[number];

/** Methods that need no XSRF token: they must not change anything. */
const XSRF_SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const DEFAULT_CONTENT_TYPE = "text/html; charset=UTF-8";
const JSON_CONTENT_TYPE = "application/json; charset=UTF-8";

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as PromiseLike<unknown>).then === "function";
}

/** Escapes text for HTML (element content and quoted attributes). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Handles one request. Define the methods you answer (`get`, `post`, `put`, `delete`, `patch`,
 * `head`, `options`); each gets the route's path arguments as strings, may be synchronous or
 * return a Promise or a Deferred, and the response is finished for it when it returns (or its
 * Promise settles) unless it finished it already.
 *
 * Life of a request: `initialize(options)` (the route's options) → the body is read (unless
 * the class sets `static streamRequestBody = true`) → the XSRF check (with `xsrfCookies`) →
 * `await prepare()` → the method → `finish()` → `onFinish()`. A method the class does not define
 * is answered 405 with `Allow`. Throw an `HttpError` to answer with its status; any other
 * exception is a 500 (and is reported). Override `writeError` for your own error pages.
 *
 * Output: `write()` buffers (strings, bytes, or a plain object sent as JSON); `finish()` sends
 * the whole response with `Content-Length` (and an `Etag`, answering 304 to a matching
 * `If-None-Match`); `flush()` sends what was written so far (the body is then chunked) and
 * resolves once the connection's buffer has drained: `await this.flush()` in a loop streams
 * with backpressure. Once the client is gone, `flush()` rejects with `StreamClosedError` and
 * `onConnectionClose()` runs.
 *
 * @example
 * ```ts
 * class ItemHandler extends RequestHandler {
 *   override async get(id: string): Promise<void> {
 *     const item = await db.find(id);
 *     if (item === null) throw new HttpError(404);
 *     this.write({ id, name: item.name });
 *   }
 * }
 * new Application([[String.raw`/items/(\d+)`, ItemHandler]]);
 * ```
 */
export class RequestHandler {
  /** Whether the body is streamed to `dataReceived` (set it on the subclass). */
  static streamRequestBody = false;
  /** The methods this class answers at all; others are 405. */
  static SUPPORTED_METHODS: readonly string[] = DEFAULT_SUPPORTED_METHODS;

  /** The application. */
  readonly application: Application;
  /** The request. */
  readonly request: WebRequest;
  /** The injected clock. */
  readonly clock: Clock;
  /** The path arguments captured by the route's unnamed groups, percent-decoded. */
  readonly pathArgs: readonly string[];
  /** The path arguments captured by the route's named groups, percent-decoded. */
  readonly pathKwargs: Readonly<Record<string, string>>;
  /** The HTTP server's response object (for `upgrade` and other low-level needs). */
  protected readonly httpResponse: HttpResponse;

  private status = 200;
  private reason: string | undefined = undefined;
  private headers: [string, string][] = [];
  private buffer: Uint8Array[] = [];
  private headersFlushed = false;
  private finishedFlag = false;
  private connectionClosed: Error | null = null;
  private xsrfCache: string | null = null;
  /** True once the connection was handed to another protocol (a WebSocket). */
  private upgraded = false;
  private rawXsrf: XsrfToken | null | undefined = undefined;

  /** @param context - what the application hands every handler. */
  constructor(context: HandlerContext) {
    this.application = context.application;
    this.clock = context.clock;
    this.request = new WebRequest(context.request);
    this.httpResponse = context.response;
    this.pathArgs = context.match?.args ?? [];
    this.pathKwargs = context.match?.kwargs ?? {};
    this.clear();
    context.response.onClose((reason) => {
      this.connectionClosed = reason;
      try {
        this.onConnectionClose();
      } catch (error) {
        this.application.reportError(error);
      }
    });
  }

  // -- Hooks ------------------------------------------------------------------------------------

  /**
   * Receives the route's options; override to keep what you need.
   * @param _options - the third element of the route.
   */
  initialize(_options: HandlerOptions): void {}

  /** Runs before the method (after the body is read); may be async. Finishing here skips the method. */
  prepare(): Awaitable<void> {}

  /** Runs once the response is finished (sent to the connection). */
  onFinish(): void {}

  /** Runs when the client goes away before the response is finished: stop producing. */
  onConnectionClose(): void {}

  /**
   * Receives a chunk of the body, for classes with `static streamRequestBody = true`. Return a
   * Promise to hold further chunks (and reading from the network) until it settles.
   * @param _chunk - a piece of the body (a view: copy it to keep it past the call).
   */
  dataReceived(_chunk: Uint8Array): Awaitable<void> {}

  /**
   * Sets the headers every response starts with; override to add your own. It first runs from
   * the base constructor, before a subclass's own fields are set: read settings, not fields.
   */
  setDefaultHeaders(): void {}

  // -- Methods (override those you answer) -------------------------------------------------------

  /** Answers GET. @param _args - the path arguments. */
  get(..._args: string[]): Awaitable<unknown> {
    throw new HttpError(405);
  }
  /** Answers HEAD. @param _args - the path arguments. */
  head(..._args: string[]): Awaitable<unknown> {
    throw new HttpError(405);
  }
  /** Answers POST. @param _args - the path arguments. */
  post(..._args: string[]): Awaitable<unknown> {
    throw new HttpError(405);
  }
  /** Answers DELETE. @param _args - the path arguments. */
  delete(..._args: string[]): Awaitable<unknown> {
    throw new HttpError(405);
  }
  /** Answers PATCH. @param _args - the path arguments. */
  patch(..._args: string[]): Awaitable<unknown> {
    throw new HttpError(405);
  }
  /** Answers PUT. @param _args - the path arguments. */
  put(..._args: string[]): Awaitable<unknown> {
    throw new HttpError(405);
  }
  /** Answers OPTIONS. @param _args - the path arguments. */
  options(..._args: string[]): Awaitable<unknown> {
    throw new HttpError(405);
  }

  // -- Output -----------------------------------------------------------------------------------

  /** True once `finish()` was called. */
  get finished(): boolean {
    return this.finishedFlag;
  }

  /** The status that will be (or was) sent. */
  getStatus(): number {
    return this.status;
  }

  /**
   * Resets the status, headers and buffered body to their defaults (`Server`, `Content-Type:
   * text/html; charset=UTF-8`, then `setDefaultHeaders()`).
   * @throws RequestHandlerUsageError (`WL_ERR_WEB_USAGE`, `headers-sent`) after a flush.
   */
  clear(): void {
    this.checkHeaders("clear");
    this.headers = [
      ["Server", this.application.serverHeader],
      ["Content-Type", DEFAULT_CONTENT_TYPE],
    ];
    this.status = 200;
    this.reason = undefined;
    this.buffer = [];
    this.setDefaultHeaders();
  }

  /**
   * Sets the status.
   * @param status - 200 to 999.
   * @param reason - a reason phrase; required for a status without a registered one.
   * @throws RequestHandlerUsageError (`WL_ERR_WEB_USAGE`, `invalid-status` or `headers-sent`).
   */
  setStatus(status: number, reason?: string): void {
    this.checkHeaders("setStatus");
    if (!Number.isInteger(status) || status < 200 || status > 999) throw new RequestHandlerUsageError("invalid-status", `invalid status ${status}`);
    if (reason === undefined && STATUS_REASONS[status] === undefined) throw new RequestHandlerUsageError("invalid-status", `status ${status} has no registered reason: give one`);
    if (reason !== undefined && /[\r\n]/.test(reason)) throw new RequestHandlerUsageError("invalid-status", "the reason must not contain CR or LF");
    this.status = status;
    this.reason = reason;
  }

  /**
   * Sets a response header, replacing any of that name.
   * @param name - the name.
   * @param value - the value (a number is formatted).
   * @throws RequestHandlerUsageError (`WL_ERR_WEB_USAGE`, `headers-sent`) after a flush;
   *   HttpHeaderValueError (`WL_ERR_HTTP_HEADER`) at flush time for an unsafe field.
   */
  setHeader(name: string, value: string | number): void {
    this.clearHeader(name);
    this.addHeader(name, value);
  }

  /**
   * Adds a response header, keeping those of that name (such as `Set-Cookie`).
   * @param name - the name.
   * @param value - the value.
   * @throws RequestHandlerUsageError (`WL_ERR_WEB_USAGE`, `headers-sent`) after a flush.
   */
  addHeader(name: string, value: string | number): void {
    this.checkHeaders("addHeader");
    const text = String(value);
    if (/[\r\n\0]/.test(name + text)) throw new RequestHandlerUsageError("invalid-header", `unsafe header ${JSON.stringify(name)}`);
    this.headers.push([name, text]);
  }

  /**
   * Removes every response header of that name.
   * @param name - the name, any case.
   * @throws RequestHandlerUsageError (`WL_ERR_WEB_USAGE`, `headers-sent`) after a flush.
   */
  clearHeader(name: string): void {
    this.checkHeaders("clearHeader");
    const wanted = name.toLowerCase();
    this.headers = this.headers.filter(([n]) => n.toLowerCase() !== wanted);
  }

  /**
   * A response header set so far.
   * @param name - the name, any case.
   * @returns the first value, or undefined.
   */
  getHeader(name: string): string | undefined {
    const wanted = name.toLowerCase();
    return this.headers.find(([n]) => n.toLowerCase() === wanted)?.[1];
  }

  /**
   * Buffers output. A string is sent as UTF-8; a plain object is sent as JSON (and the
   * `Content-Type` becomes `application/json; charset=UTF-8`).
   * @param chunk - text, bytes or a plain object. Arrays are refused, as in Tornado: a JSON
   *   array at the top level is a cross-site leak in old browsers; wrap it in an object.
   * @throws RequestHandlerUsageError (`WL_ERR_WEB_USAGE`): `finished` after `finish()`,
   *   `invalid-write` for an array or another type.
   */
  write(chunk: string | Uint8Array | Readonly<Record<string, unknown>>): void {
    if (this.finishedFlag) throw new RequestHandlerUsageError("finished", "write() after finish()");
    if (typeof chunk === "string") {
      if (chunk.length > 0) this.buffer.push(Buffer.from(chunk, "utf8"));
    } else if (chunk instanceof Uint8Array) {
      if (chunk.length > 0) this.buffer.push(chunk);
    } else if (Array.isArray(chunk)) {
      throw new RequestHandlerUsageError("invalid-write", "write() does not take arrays (a top-level JSON array); wrap it in an object");
    } else if (typeof chunk === "object" && chunk !== null) {
      // "</" escaped so that JSON can be inlined in a <script> safely.
      this.buffer.push(Buffer.from(JSON.stringify(chunk).replace(/<\//g, "<\\/"), "utf8"));
      if (!this.headersFlushed) this.setHeader("Content-Type", JSON_CONTENT_TYPE);
    } else {
      throw new RequestHandlerUsageError("invalid-write", `write() takes a string, bytes or an object, not ${typeof chunk}`);
    }
  }

  /**
   * Sends the headers (the first time) and what was written so far; the body is then chunked
   * (HTTP/1.1). Await it to stream with backpressure.
   * @returns a Promise that resolves once the connection's buffer is under its high-water mark.
   * @throws RequestHandlerUsageError (`WL_ERR_WEB_USAGE`, `finished`) after `finish()`.
   * @throws (rejects) StreamClosedError (`WL_ERR_STREAM_CLOSED`) when the client is gone.
   */
  flush(): Promise<void> {
    if (this.finishedFlag) throw new RequestHandlerUsageError("finished", "flush() after finish()");
    const response = this.httpResponse;
    if (response.closed) {
      this.buffer = [];
      return this.drained();
    }
    if (!this.headersFlushed) {
      this.sendHead();
      // An empty write sends the head even when nothing was written yet.
      if (this.buffer.length === 0) response.write(EMPTY);
    }
    const chunks = this.buffer;
    this.buffer = [];
    for (const chunk of chunks) response.write(chunk);
    return this.drained();
  }

  /**
   * Finishes the response: sends what is buffered (with `Content-Length` and `Etag` when
   * nothing was flushed), then runs `onFinish()`.
   * @param chunk - a last piece to write first.
   * @returns a Promise that resolves once the connection's buffer has drained (it does not
   *   need to be awaited).
   * @throws RequestHandlerUsageError (`WL_ERR_WEB_USAGE`, `finished`) when called twice.
   */
  finish(chunk?: string | Uint8Array | Readonly<Record<string, unknown>>): Promise<void> {
    if (this.finishedFlag) throw new RequestHandlerUsageError("finished", "finish() called twice");
    if (chunk !== undefined) this.write(chunk);
    const response = this.httpResponse;
    if (response.closed) {
      // The client is gone: nothing to send, and onFinish is for finished responses.
      this.finishedFlag = true;
      this.buffer = [];
      return this.drained();
    }
    if (!this.headersFlushed) {
      if (this.status === 200 && (this.request.method === "GET" || this.request.method === "HEAD") && this.getHeader("Etag") === undefined) {
        const etag = this.computeEtag();
        if (etag !== null) {
          this.setHeader("Etag", etag);
          if (this.checkEtagHeader()) {
            this.buffer = [];
            this.setStatus(304);
          }
        }
      }
      if (this.status === 204 || this.status === 304) {
        // No body: so no headers that describe one.
        for (const name of ["Content-Type", "Content-Length", "Transfer-Encoding", "Content-Encoding"]) this.clearHeader(name);
        this.buffer = [];
      }
      const body = this.takeBuffer();
      this.sendHead();
      this.finishedFlag = true;
      response.end(body);
    } else {
      const chunks = this.buffer;
      this.buffer = [];
      this.finishedFlag = true;
      for (const c of chunks) response.write(c);
      response.end();
    }
    try {
      this.onFinish();
    } catch (error) {
      this.application.reportError(error);
    }
    return this.drained();
  }

  /**
   * Redirects to `url` and finishes.
   * @param url - the new location (relative or absolute).
   * @param permanent - 301 instead of 302.
   * @param status - a status to use instead (a 3xx).
   * @throws RequestHandlerUsageError (`WL_ERR_WEB_USAGE`) after a flush, or for a status that is not 3xx.
   */
  redirect(url: string, permanent = false, status?: number): void {
    this.checkHeaders("redirect");
    const code = status ?? (permanent ? 301 : 302);
    if (code < 300 || code > 399) throw new RequestHandlerUsageError("invalid-status", `redirect status must be 3xx, got ${code}`);
    this.setStatus(code);
    this.setHeader("Location", url);
    void this.finish();
  }

  /**
   * Answers with an error page: clears what was written, sets the status and calls
   * `writeError`. After a flush the status can no longer change: the response is just finished.
   * @param status - the status.
   * @param info - the exception and a reason phrase.
   * @returns a Promise that settles once the error page is written.
   */
  async sendError(status = 500, info: ErrorInfo = {}): Promise<void> {
    if (this.headersFlushed) {
      if (!this.finishedFlag) void this.finish();
      return;
    }
    this.clear();
    const reason = info.reason ?? (STATUS_REASONS[status] === undefined ? "Unknown" : undefined);
    this.setStatus(status, reason);
    try {
      await this.writeError(status, info);
    } catch (error) {
      this.application.reportError(error);
    }
    if (!this.finishedFlag) void this.finish();
  }

  /**
   * Writes the error page; override it for your own. The default is a small HTML page with the
   * status and its reason.
   * @param status - the status.
   * @param _info - the exception and reason, if any.
   * @returns nothing, or a Promise; the response is finished after it if it is not yet.
   */
  writeError(status: number, _info: ErrorInfo): Awaitable<void> {
    const reason = escapeHtml(this.reason ?? STATUS_REASONS[status] ?? "Unknown");
    void this.finish(`<html><title>${status}: ${reason}</title><body>${status}: ${reason}</body></html>`);
  }

  /**
   * The `Etag` for the buffered body; override to compute your own or return null for none.
   * @returns a quoted SHA-1 of the body.
   */
  computeEtag(): string | null {
    const hash = createHash("sha1");
    for (const chunk of this.buffer) hash.update(chunk);
    return `"${hash.digest("hex")}"`;
  }

  /**
   * Whether the request's `If-None-Match` matches the response's `Etag` (weak comparison).
   * @returns true when a 304 can answer.
   */
  checkEtagHeader(): boolean {
    const etag = this.getHeader("Etag");
    const header = this.request.headers.get("if-none-match");
    if (etag === undefined || header === undefined) return false;
    if (header.trim() === "*") return true;
    const strip = (tag: string): string => tag.trim().replace(/^W\//, "");
    return header.split(",").some((tag) => strip(tag) === strip(etag));
  }

  // -- Input ------------------------------------------------------------------------------------

  /**
   * The last value of an argument from the query or a form body, trimmed.
   * @param name - the argument name.
   * @param defaultValue - returned when absent; without it, absence is a 400.
   * @returns the value.
   * @throws HttpError (`WL_ERR_HTTP_ERROR`, 400) when absent and no default was given.
   */
  getArgument(name: string, defaultValue?: string): string;
  getArgument<D>(name: string, defaultValue: D): string | D;
  getArgument(name: string, ...rest: unknown[]): unknown {
    const values = this.request.argumentValues(name);
    const last = values[values.length - 1];
    if (last !== undefined) return last.trim();
    if (rest.length > 0) return rest[0];
    throw new HttpError(400, `Missing argument ${name}`, { reason: `Missing argument ${name}` });
  }

  /**
   * Every value of an argument, query first then body, trimmed.
   * @param name - the argument name.
   * @returns the values; empty when absent.
   */
  getArguments(name: string): string[] {
    return this.request.argumentValues(name).map((v) => v.trim());
  }

  // -- Cookies ----------------------------------------------------------------------------------

  /**
   * A cookie the request carried.
   * @param name - the name.
   * @param defaultValue - returned when absent.
   * @returns the value, or the default.
   */
  getCookie(name: string, defaultValue?: string): string | undefined {
    return this.request.cookies.get(name) ?? defaultValue;
  }

  /**
   * Sets a cookie (a `Set-Cookie` header).
   * @param name - the name (a token).
   * @param value - the value (cookie-octets: encode anything else first).
   * @param options - attributes; `path` defaults to `/`; `expiresDays` counts from the clock's now.
   * @throws RequestHandlerUsageError (`WL_ERR_WEB_USAGE`, `invalid-cookie` or `headers-sent`).
   */
  setCookie(name: string, value: string, options: CookieOptions = {}): void {
    this.addHeader("Set-Cookie", formatSetCookie(name, value, options, this.clock.now()));
  }

  /**
   * Deletes a cookie: sets it empty, expired a year ago.
   * @param name - the name.
   * @param options - the `path` and `domain` it was set with.
   * @throws as `setCookie`.
   */
  clearCookie(name: string, options: Pick<CookieOptions, "path" | "domain"> = {}): void {
    this.setCookie(name, "", { ...options, expires: this.clock.now() - 365 * 86_400_000, maxAge: 0 });
  }

  /**
   * Signs a value with the application's `cookieSecret` (see `signed-cookie.ts` for the format).
   * @param name - the cookie name it is for.
   * @param value - the value.
   * @param version - the key version to sign with.
   * @returns the signed value.
   * @throws RequestHandlerUsageError (`WL_ERR_WEB_USAGE`, `no-cookie-secret`) without a secret.
   */
  createSignedValue(name: string, value: string | Uint8Array, version?: number): string {
    const settings = this.application.settings;
    const secret = settings.cookieSecret;
    if (secret === undefined) throw new RequestHandlerUsageError("no-cookie-secret", "signed cookies need the cookieSecret setting");
    return createSignedValue(secret, name, value, this.clock.now(), version ?? settings.keyVersion);
  }

  /**
   * Sets a cookie signed with the application's `cookieSecret`, so it cannot be forged.
   * @param name - the name.
   * @param value - the value.
   * @param options - cookie attributes; `expiresDays` defaults to 30; `version` picks the key.
   * @throws RequestHandlerUsageError (`WL_ERR_WEB_USAGE`, `no-cookie-secret`) without a secret.
   */
  setSignedCookie(name: string, value: string | Uint8Array, options: SignedCookieOptions = {}): void {
    const { version, ...cookie } = options;
    cookie.expiresDays ??= DEFAULT_SIGNED_COOKIE_EXPIRES_DAYS;
    this.setCookie(name, this.createSignedValue(name, value, version), cookie);
  }

  /**
   * A signed cookie's value, if its signature holds and it is not too old.
   * @param name - the name.
   * @param options - `maxAgeDays`.
   * @returns the value as UTF-8 text, or null when absent, tampered with, signed with an
   *   unknown key, or too old (by the injected clock).
   * @throws RequestHandlerUsageError (`WL_ERR_WEB_USAGE`, `no-cookie-secret`) without a secret.
   */
  getSignedCookie(name: string, options: GetSignedCookieOptions = {}): string | null {
    const settings = this.application.settings;
    const secret = settings.cookieSecret;
    if (secret === undefined) throw new RequestHandlerUsageError("no-cookie-secret", "signed cookies need the cookieSecret setting");
    const value = decodeSignedValue(secret, name, this.getCookie(name), this.clock.now(), options.maxAgeDays ?? this.application.signedCookieMaxAgeDays);
    return value === null ? null : value.toString("utf8");
  }

  // -- XSRF -------------------------------------------------------------------------------------

  /**
   * The XSRF token for this page, masked afresh for each handler (so it differs on every
   * render) while the underlying token stays the browser's. Sets the `_xsrf` cookie when the
   * browser has none.
   */
  get xsrfToken(): string {
    if (this.xsrfCache !== null) return this.xsrfCache;
    const app = this.application;
    let current = this.rawXsrfToken();
    if (current === null) {
      current = { token: app.randomBytes(XSRF_TOKEN_BYTES), timestamp: Math.floor(this.clock.now() / 1000) };
      this.rawXsrf = current;
      this.setCookie(app.xsrfCookieName, encodeXsrfToken(current.token, current.timestamp, app.randomBytes(XSRF_TOKEN_BYTES)), app.settings.xsrfCookieOptions ?? {});
    }
    this.xsrfCache = encodeXsrfToken(current.token, current.timestamp, app.randomBytes(XSRF_TOKEN_BYTES));
    return this.xsrfCache;
  }

  /**
   * A hidden form field with the XSRF token, to put in every form that posts.
   * @returns `<input type="hidden" name="_xsrf" value="...">`.
   */
  xsrfFormHtml(): string {
    return `<input type="hidden" name="${escapeHtml(this.application.xsrfCookieName)}" value="${escapeHtml(this.xsrfToken)}"/>`;
  }

  /**
   * Checks the request's XSRF token (the `_xsrf` argument, or an `X-XSRFToken` or
   * `X-CSRFToken` header) against the cookie; called for methods other than GET, HEAD and
   * OPTIONS when the `xsrfCookies` setting is on.
   * @throws HttpError (`WL_ERR_HTTP_ERROR`, 403) when the token is missing, malformed or wrong.
   */
  checkXsrfCookie(): void {
    const name = this.application.xsrfCookieName;
    const given = this.getArgument(name, null) ?? this.request.headers.get("x-xsrftoken") ?? this.request.headers.get("x-csrftoken");
    if (given === null) throw new HttpError(403, `'${name}' argument missing from ${this.request.method}`);
    const submitted = decodeXsrfToken(given);
    const cookie = this.rawXsrfToken();
    if (submitted === null) throw new HttpError(403, `'${name}' argument has an invalid format`);
    if (cookie === null) throw new HttpError(403, `'${name}' cookie is missing or malformed`);
    if (!xsrfTokensEqual(submitted.token, cookie.token)) throw new HttpError(403, `XSRF cookie does not match ${this.request.method} argument`);
  }

  private rawXsrfToken(): XsrfToken | null {
    if (this.rawXsrf === undefined) this.rawXsrf = decodeXsrfToken(this.getCookie(this.application.xsrfCookieName));
    return this.rawXsrf;
  }

  // -- Running a request (called by the application) ---------------------------------------------

  /**
   * Runs the request through its life; the application calls it. Never rejects: errors become
   * error responses (and reports).
   * @returns a Promise that settles once the method has returned (or failed).
   */
  async execute(): Promise<void> {
    try {
      const method = this.request.method;
      const cls = this.constructor as RequestHandlerClass;
      const supported = cls.SUPPORTED_METHODS ?? DEFAULT_SUPPORTED_METHODS;
      const name = method.toLowerCase() as MethodName;
      if (!supported.includes(method) || !METHOD_NAMES.includes(name) || !this.defines(name)) throw new HttpError(405);
      const streaming = cls.streamRequestBody === true;
      const http = this.request.http;
      // A streamed body is not read until prepare() is done and dataReceived can take it;
      // otherwise the server would hold what arrives meanwhile (up to maxBodySize).
      if (streaming && http.bodyKind !== "none") http.pause();
      if (!streaming && http.bodyKind !== "none") this.request.setBody(await http.body());
      if (this.connectionClosed !== null) return;
      if (this.application.settings.xsrfCookies === true && !XSRF_SAFE_METHODS.has(method)) this.checkXsrfCookie();
      await this.prepare();
      if (this.finishedFlag || this.connectionClosed !== null) return;
      if (streaming && http.bodyKind !== "none") await this.streamBody();
      if (this.finishedFlag || this.connectionClosed !== null) return;
      const result: unknown = this[name](...this.pathArgs);
      if (isThenable(result)) await result;
      if (!this.finishedFlag && !this.upgraded && this.connectionClosed === null) await this.finish();
    } catch (error) {
      await this.handleException(error);
    }
  }

  /** Marks the request as taken over by another protocol: nothing more is written. */
  protected markUpgraded(): void {
    this.upgraded = true;
    this.finishedFlag = true;
  }

  /** The methods this class defines, for the `Allow` header of a 405. */
  allowedMethods(): string[] {
    const cls = this.constructor as RequestHandlerClass;
    const supported = cls.SUPPORTED_METHODS ?? DEFAULT_SUPPORTED_METHODS;
    return supported.filter((m) => {
      const n = m.toLowerCase() as MethodName;
      return METHOD_NAMES.includes(n) && this.defines(n);
    });
  }

  private defines(name: MethodName): boolean {
    return this[name] !== RequestHandler.prototype[name];
  }

  private async handleException(error: unknown): Promise<void> {
    if (this.connectionClosed !== null || this.httpResponse.closed) {
      // The client is gone: a StreamClosedError from flush() is how a handler learns it.
      if (!(error instanceof StreamClosedError)) this.application.reportError(error);
      return;
    }
    if (error instanceof HttpError) {
      if (error.status >= 500) this.application.reportError(error);
    } else {
      this.application.reportError(error);
    }
    if (this.finishedFlag) return;
    const status = error instanceof HttpError ? error.status : 500;
    const info: ErrorInfo = error instanceof HttpError && error.reason !== undefined ? { error, reason: error.reason } : { error };
    await this.sendError(status, info);
  }

  private async streamBody(): Promise<void> {
    const http = this.request.http;
    await new Promise<void>((resolve, reject) => {
      // Chunks held before the reader attached arrive in one synchronous burst, and a pending
      // dataReceived must finish before the next chunk: so the chunks go through a queue.
      const queue: Uint8Array[] = [];
      let running = false;
      let ended = false;
      let failed = false;
      const fail = (error: unknown): void => {
        if (failed) return;
        failed = true;
        reject(error);
      };
      const pump = (): void => {
        if (running || failed) return;
        running = true;
        for (;;) {
          const chunk = queue.shift();
          if (chunk === undefined) break;
          let result: unknown;
          try {
            result = this.dataReceived(chunk);
          } catch (error) {
            running = false;
            fail(error);
            return;
          }
          if (isThenable(result)) {
            http.pause();
            result.then(
              () => {
                running = false;
                http.resume();
                pump();
              },
              (error: unknown) => {
                running = false;
                fail(error);
              },
            );
            return;
          }
        }
        running = false;
        if (ended) resolve();
      };
      http.onError(fail);
      http.onData((chunk) => {
        // The chunk is a view of a buffer the server may not keep: copy what must wait.
        queue.push(running ? Buffer.from(chunk) : chunk);
        pump();
      });
      http.onEnd(() => {
        ended = true;
        if (!running && queue.length === 0) resolve();
      });
      if (!running) http.resume();
    });
  }

  private sendHead(): void {
    this.headersFlushed = true;
    const response = this.httpResponse;
    if (this.reason !== undefined) response.statusMessage = this.reason;
    const flat: string[] = [];
    for (const [n, v] of this.headers) flat.push(n, v);
    // RFC 9110 15.5.6: a 405 says which methods the resource answers.
    if (this.status === 405 && this.getHeader("Allow") === undefined) flat.push("Allow", this.allowedMethods().join(", "));
    response.writeHead(this.status, flat);
  }

  private takeBuffer(): Uint8Array | undefined {
    const chunks = this.buffer;
    this.buffer = [];
    if (chunks.length === 0) return undefined;
    if (chunks.length === 1) return chunks[0];
    return Buffer.concat(chunks);
  }

  private drained(): Promise<void> {
    const response = this.httpResponse;
    const p = response.drained().then(() => {
      if (response.closed) throw new StreamClosedError("the client closed the connection", { cause: this.connectionClosed ?? undefined });
    });
    // A caller may ignore the Promise: a closed client must not become an unhandled rejection.
    p.catch(() => {});
    return p;
  }

  private checkHeaders(what: string): void {
    if (this.headersFlushed) throw new RequestHandlerUsageError("headers-sent", `${what}() after the headers were sent`);
  }
}

const EMPTY = new Uint8Array(0);
