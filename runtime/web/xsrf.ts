/**
 * XSRF tokens: a random token kept in a cookie and echoed by forms (a hidden `_xsrf` field) or
 * scripts (an `X-XSRFToken` header). The token is masked afresh for each page: the rendered
 * value is `mask` and `mask XOR token`, so the bytes on the page change every time (a defence
 * against compression side channels such as BREACH) while the token itself stays the same for
 * the browser.
 *
 * Encoding (version 2): `2|<hex mask>|<hex mask XOR token>|<timestamp, seconds>`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { timingSafeEqual } from "node:crypto";

/** The length of a token, in bytes. */
export const XSRF_TOKEN_BYTES = 16;
/** The default cookie (and form field) name. */
export const DEFAULT_XSRF_COOKIE_NAME = "_xsrf";

/** A token and the time it was made. */
export interface XsrfToken {
  /** The unmasked token. */
  readonly token: Uint8Array;
  /** When it was made, in seconds since the epoch. */
  readonly timestamp: number;
}

/**
 * Masks a token with a fresh mask and encodes it.
 * @param token - the token.
 * @param timestamp - when it was made, in seconds.
 * @param mask - random bytes as long as the token.
 * @returns the encoded value for a cookie, a form field or a header.
 * @throws RangeError when the mask's length differs from the token's.
 */
export function encodeXsrfToken(token: Uint8Array, timestamp: number, mask: Uint8Array): string {
  if (mask.length !== token.length) throw new RangeError("the mask must be as long as the token");
  const masked = Buffer.alloc(token.length);
  for (let i = 0; i < token.length; i++) masked[i] = token[i]! ^ mask[i]!;
  return `2|${Buffer.from(mask).toString("hex")}|${masked.toString("hex")}|${Math.floor(timestamp)}`;
}

/**
 * Decodes (and unmasks) an encoded token.
 * @param value - what the cookie, field or header held.
 * @returns the token, or null when the value is not a well-formed token.
 */
export function decodeXsrfToken(value: string | undefined | null): XsrfToken | null {
  if (value === undefined || value === null) return null;
  const m = /^2\|([0-9a-f]+)\|([0-9a-f]+)\|(\d{1,15})$/.exec(value);
  if (m === null) return null;
  const mask = Buffer.from(m[1]!, "hex");
  const masked = Buffer.from(m[2]!, "hex");
  if (mask.length !== XSRF_TOKEN_BYTES || masked.length !== XSRF_TOKEN_BYTES) return null;
  const token = Buffer.alloc(XSRF_TOKEN_BYTES);
  for (let i = 0; i < XSRF_TOKEN_BYTES; i++) token[i] = mask[i]! ^ masked[i]!;
  return { token, timestamp: Number(m[3]) };
}

/**
 * Compares two tokens in constant time.
 * @param a - one token.
 * @param b - the other.
 * @returns true when they are equal.
 */
export function xsrfTokensEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
