/**
 * Cookies: reading a request's `Cookie` fields and formatting `Set-Cookie` fields (RFC 6265).
 *
 * @module
 */

import { RequestHandlerUsageError } from "../errors.js";
import { formatHttpDate } from "../protocols/http/http-date.js";

/** Attributes of a cookie set with `setCookie`. */
export interface CookieOptions {
  /** The `Domain` attribute. */
  domain?: string;
  /**
   * The `Path` attribute.
   * @defaultValue "/"
   */
  path?: string;
  /** When the cookie expires, in milliseconds since the epoch (a `Date` works too). */
  expires?: number | Date;
  /** Days from now (the injected clock's now) until it expires; overrides `expires`. */
  expiresDays?: number;
  /** The `Max-Age` attribute, in seconds. */
  maxAge?: number;
  /** The `Secure` attribute. */
  secure?: boolean;
  /** The `HttpOnly` attribute. */
  httpOnly?: boolean;
  /** The `SameSite` attribute. */
  sameSite?: "Strict" | "Lax" | "None";
}

const NAME_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// cookie-octet of RFC 6265: printable ASCII but for space, DQUOTE, comma, semicolon, backslash.
const VALUE_RE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
const ATTRIBUTE_RE = /^[\x20-\x3a\x3c-\x7e]*$/;
const DAY_MS = 86_400_000;

/**
 * Parses the `Cookie` fields of a request.
 * @param values - every `Cookie` field value, in order.
 * @returns the cookies by name; of two cookies with one name the first is kept (browsers send
 *   the most specific path first). Double quotes around a value are removed.
 */
export function parseCookies(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const value of values) {
    for (const part of value.split(";")) {
      const eq = part.indexOf("=");
      if (eq < 0) continue;
      const name = part.slice(0, eq).trim();
      if (name === "" || out.has(name)) continue;
      let v = part.slice(eq + 1).trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      out.set(name, v);
    }
  }
  return out;
}

/**
 * Formats one `Set-Cookie` field value.
 * @param name - the cookie name (a token).
 * @param value - the value: cookie-octets only (no spaces, quotes, commas, semicolons or backslashes).
 * @param options - the attributes.
 * @param now - the current time in milliseconds (from the injected clock), for `expiresDays`.
 * @returns the field value.
 * @throws RequestHandlerUsageError (`WL_ERR_WEB_USAGE`, reason `invalid-cookie`) for a name, value
 *   or attribute that cannot be sent safely.
 */
export function formatSetCookie(name: string, value: string, options: CookieOptions, now: number): string {
  if (!NAME_RE.test(name)) throw new RequestHandlerUsageError("invalid-cookie", `invalid cookie name ${JSON.stringify(name)}`);
  if (!VALUE_RE.test(value)) throw new RequestHandlerUsageError("invalid-cookie", `invalid cookie value for ${name}: encode it first`);
  let out = `${name}=${value}`;
  const attribute = (key: string, v: string): void => {
    if (!ATTRIBUTE_RE.test(v)) throw new RequestHandlerUsageError("invalid-cookie", `invalid cookie ${key} ${JSON.stringify(v)}`);
    out += `; ${key}=${v}`;
  };
  if (options.domain !== undefined) attribute("Domain", options.domain);
  let expires: number | undefined = options.expires instanceof Date ? options.expires.getTime() : options.expires;
  if (options.expiresDays !== undefined) expires = now + options.expiresDays * DAY_MS;
  if (expires !== undefined) out += `; Expires=${formatHttpDate(expires)}`;
  if (options.maxAge !== undefined) out += `; Max-Age=${Math.floor(options.maxAge)}`;
  attribute("Path", options.path ?? "/");
  if (options.secure === true) out += "; Secure";
  if (options.httpOnly === true) out += "; HttpOnly";
  if (options.sameSite !== undefined) attribute("SameSite", options.sameSite);
  return out;
}
