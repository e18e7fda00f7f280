/**
 * `WebRequest`: the request as a `RequestHandler` sees it: method, path, query, headers, the
 * body (once read), the query and form arguments, and the cookies.
 *
 * @module
 */

import { Buffer } from "node:buffer";

import type { Address } from "../protocol.js";
import type { HttpHeaders } from "../protocols/http/http-headers.js";
import type { HttpRequest } from "../protocols/http/http-request.js";
import { parseCookies } from "./cookies.js";

const EMPTY = new Uint8Array(0);

/** Arguments by name, each with its values in order. */
export type Arguments = ReadonlyMap<string, readonly string[]>;

function parseQueryString(text: string, into: Map<string, string[]>): void {
  if (text === "") return;
  for (const [name, value] of new URLSearchParams(text)) {
    const list = into.get(name);
    if (list === undefined) into.set(name, [value]);
    else list.push(value);
  }
}

/**
 * One HTTP request, as handed to a `RequestHandler` (`this.request`).
 *
 * The body is read before `prepare()` unless the handler class streams it
 * (`static streamRequestBody = true`): then `body` stays empty and `dataReceived` gets the
 * chunks. Form arguments come from an `application/x-www-form-urlencoded` body.
 */
export class WebRequest {
  /** The connection-level request (headers, body stream, address). */
  readonly http: HttpRequest;
  /** The request body, once read; empty for streamed bodies. */
  body: Uint8Array = EMPTY;

  private queryArgs: Map<string, string[]> | null = null;
  private bodyArgs: Map<string, string[]> = new Map();
  private cookieMap: Map<string, string> | null = null;

  /** @param http - the parsed request. */
  constructor(http: HttpRequest) {
    this.http = http;
  }

  /** The method, such as `GET`. */
  get method(): string {
    return this.http.method;
  }

  /** The request-target as sent, path and query: `/a/b?x=1`. */
  get uri(): string {
    return this.http.target;
  }

  /** The path, without the query, as sent (percent-encoded). */
  get path(): string {
    return this.http.path;
  }

  /** The query string without `?`; empty when there is none. */
  get query(): string {
    return this.http.query;
  }

  /** The header fields (names lowercased; `get` takes any case). */
  get headers(): HttpHeaders {
    return this.http.headers;
  }

  /** `HTTP/1.0` or `HTTP/1.1`. */
  get version(): string {
    return this.http.version;
  }

  /** The `Host` field, or empty. */
  get host(): string {
    return this.http.headers.get("host") ?? "";
  }

  /** The client's address. */
  get remoteAddress(): Address {
    return this.http.remoteAddress;
  }

  /** The body decoded as UTF-8. */
  text(): string {
    return Buffer.from(this.body.buffer, this.body.byteOffset, this.body.byteLength).toString("utf8");
  }

  /** The query arguments, parsed once. */
  get queryArguments(): Arguments {
    if (this.queryArgs === null) {
      this.queryArgs = new Map();
      parseQueryString(this.query, this.queryArgs);
    }
    return this.queryArgs;
  }

  /** The form arguments of the body (empty until the body is read, and for other body types). */
  get bodyArguments(): Arguments {
    return this.bodyArgs;
  }

  /**
   * Every value of an argument, query first and then body.
   * @param name - the argument name.
   * @returns its values, in order; empty when absent.
   */
  argumentValues(name: string): string[] {
    return [...(this.queryArguments.get(name) ?? []), ...(this.bodyArgs.get(name) ?? [])];
  }

  /** The request's cookies, by name. */
  get cookies(): ReadonlyMap<string, string> {
    this.cookieMap ??= parseCookies(this.http.headers.getAll("cookie"));
    return this.cookieMap;
  }

  /** @internal Keeps the body read before the handler ran, and parses its form arguments. */
  setBody(body: Uint8Array): void {
    this.body = body;
    const type = (this.http.headers.get("content-type") ?? "").toLowerCase();
    if (body.length > 0 && type.split(";")[0]?.trim() === "application/x-www-form-urlencoded") {
      const map = new Map<string, string[]>();
      // Browsers percent-encode every non-ASCII byte; raw UTF-8 is accepted too.
      parseQueryString(this.text(), map);
      this.bodyArgs = map;
    }
  }
}
