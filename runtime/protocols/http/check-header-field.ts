/**
 * Checks a header field before it is written to the wire, so that no caller can split a
 * message (CR, LF) or truncate it (NUL) through a header name or value.
 *
 * @module
 */

import { HttpHeaderValueError } from "../../errors.js";

// tchar (RFC 9110 §5.6.2).
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// The one test run on every value: any byte that needs a closer look.
const SUSPECT_RE = /[\r\n\0\u0080-\uffff]/;

/**
 * Checks a field name: a non-empty token.
 * @param name - the name as given.
 * @throws HttpHeaderValueError (`WL_ERR_HTTP_HEADER`) when it is not a token.
 */
export function checkHeaderName(name: string): void {
  if (!TOKEN_RE.test(name)) throw new HttpHeaderValueError(name, "the name is not a token");
}

/**
 * Checks a field value: no CR, LF or NUL, and every character in one byte (latin1), since the
 * head is sent as latin1.
 * @param name - the field's name, for the error message.
 * @param value - the value as given.
 * @returns true when the value is plain ASCII, false when it has bytes 0x80-0xFF.
 * @throws HttpHeaderValueError (`WL_ERR_HTTP_HEADER`) for CR, LF, NUL or a character above 0xFF.
 */
export function checkHeaderValue(name: string, value: string): boolean {
  if (!SUSPECT_RE.test(value)) return true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a) throw new HttpHeaderValueError(name, "the value contains CR or LF");
    if (c === 0) throw new HttpHeaderValueError(name, "the value contains NUL");
    if (c > 0xff) throw new HttpHeaderValueError(name, "the value has a character that does not fit in one byte");
  }
  return false;
}
