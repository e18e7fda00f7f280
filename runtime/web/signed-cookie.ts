/**
 * Signed values (for signed cookies): a value, its cookie name and a timestamp, signed with
 * HMAC-SHA256 under a secret that may have several versions (key rotation).
 *
 * Wire format (version 2), fields separated by `|`, every field but the first and the
 * signature prefixed by its length in characters and a colon:
 *
 * ```
 * 2|<len>:<key version>|<len>:<timestamp, seconds>|<len>:<name>|<len>:<base64 of the value>|<hex signature>
 * 2|1:0|10:1300000000|3:foo|8:YmFyYmF6|<64 hex digits>
 * ```
 *
 * The signature is HMAC-SHA256, under the secret of that key version, of everything before it
 * (the trailing `|` included). The length prefixes make every field unambiguous, so no field
 * can be shifted into its neighbour; the name is signed so a value cannot be replayed under
 * another cookie name. Signatures are compared with `crypto.timingSafeEqual`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

import { InvalidOptionError } from "../errors.js";

/** The default maximum age of a signed value when read: 31 days (Tornado's). */
export const DEFAULT_SIGNED_VALUE_MAX_AGE_DAYS = 31;
/** The format version written by {@link createSignedValue}. */
export const SIGNED_VALUE_VERSION = 2;

/** A secret, or secrets by key version (for rotation: sign with one, accept all). */
export type CookieSecret = string | Readonly<Record<number, string>>;

const DAY_S = 86_400;
/** How far in the future a timestamp may be before the value is refused (clock skew). */
const FUTURE_TOLERANCE_S = DAY_S;

function secretFor(secret: CookieSecret, keyVersion: number | undefined): string | undefined {
  if (typeof secret === "string") return keyVersion === undefined || keyVersion === 0 ? secret : undefined;
  return secret[keyVersion ?? 0];
}

function field(text: string): string {
  return `${text.length}:${text}|`;
}

function sign(secret: string, text: string): string {
  return createHmac("sha256", secret).update(text, "utf8").digest("hex");
}

/**
 * Signs a value for a cookie.
 * @param secret - the secret, or secrets by key version.
 * @param name - the cookie name (signed too).
 * @param value - the value (any text or bytes; it is base64-encoded).
 * @param nowMs - the current time in milliseconds, from the injected clock.
 * @param keyVersion - which secret to sign with when `secret` is a map.
 * @returns the signed value, safe to put in a cookie as is.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when no secret has that key version.
 */
export function createSignedValue(secret: CookieSecret, name: string, value: string | Uint8Array, nowMs: number, keyVersion?: number): string {
  const version = keyVersion ?? 0;
  const key = secretFor(secret, keyVersion);
  if (key === undefined || key === "") throw new InvalidOptionError("keyVersion", `no cookie secret for key version ${version}`);
  const timestamp = String(Math.floor(nowMs / 1000));
  const encoded = (typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value)).toString("base64");
  const body = `${SIGNED_VALUE_VERSION}|${field(String(version))}${field(timestamp)}${field(name)}${field(encoded)}`;
  return body + sign(key, body);
}

/** Reads one `<len>:<text>|` field at `at`; returns the text and where the next field starts. */
function readField(s: string, at: number): [string, number] | null {
  const colon = s.indexOf(":", at);
  if (colon < 0 || colon === at || colon - at > 6) return null;
  const lengthText = s.slice(at, colon);
  if (!/^\d+$/.test(lengthText)) return null;
  const start = colon + 1;
  const end = start + Number(lengthText);
  if (end >= s.length || s[end] !== "|") return null;
  return [s.slice(start, end), end + 1];
}

/**
 * Checks and decodes a signed value.
 * @param secret - the secret, or secrets by key version (any known version is accepted).
 * @param name - the cookie name the value must have been signed for.
 * @param signed - the signed value, as read from the cookie.
 * @param nowMs - the current time in milliseconds, from the injected clock.
 * @param maxAgeDays - the oldest timestamp accepted, in days.
 * @returns the value's bytes, or null when the value is malformed, signed for another name or
 *   with an unknown key, tampered with, too old, or stamped more than a day in the future.
 */
export function decodeSignedValue(
  secret: CookieSecret,
  name: string,
  signed: string | undefined | null,
  nowMs: number,
  maxAgeDays: number = DEFAULT_SIGNED_VALUE_MAX_AGE_DAYS,
): Buffer | null {
  if (signed === undefined || signed === null || !signed.startsWith(`${SIGNED_VALUE_VERSION}|`)) return null;
  let at = 2;
  const parts: string[] = [];
  for (let i = 0; i < 4; i++) {
    const f = readField(signed, at);
    if (f === null) return null;
    parts.push(f[0]);
    at = f[1];
  }
  const [versionText, timestampText, signedName, encoded] = parts as [string, string, string, string];
  const signature = signed.slice(at);
  if (!/^\d{1,9}$/.test(versionText) || !/^\d{1,15}$/.test(timestampText) || !/^[0-9a-f]{64}$/.test(signature)) return null;
  const key = secretFor(secret, Number(versionText));
  if (key === undefined || key === "") return null;
  const expected = Buffer.from(sign(key, signed.slice(0, at)), "hex");
  if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) return null;
  if (signedName !== name) return null;
  const timestamp = Number(timestampText);
  const nowS = nowMs / 1000;
  if (timestamp < nowS - maxAgeDays * DAY_S || timestamp > nowS + FUTURE_TOLERANCE_S) return null;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) return null;
  return Buffer.from(encoded, "base64");
}

/**
 * The key version a signed value was signed with, without checking it.
 * @param signed - the signed value.
 * @returns the key version, or null when the value is not in this format.
 */
export function signedValueKeyVersion(signed: string): number | null {
  if (!signed.startsWith(`${SIGNED_VALUE_VERSION}|`)) return null;
  const f = readField(signed, 2);
  if (f === null || !/^\d{1,9}$/.test(f[0])) return null;
  return Number(f[0]);
}
