/**
 * Turns Node's socket errors (`err.code` such as `ECONNREFUSED`) into wirelab's typed errors,
 * so that protocols and factories match on the same classes on real sockets and on the fakes.
 *
 * @module
 */

import {
  BrokenPipeError,
  ConnectTimeoutError,
  ConnectionLost,
  ConnectionRefusedError,
  ConnectionResetError,
  DNSLookupError,
  SystemSocketError,
} from "../errors.js";

/** The error codes a failed name lookup comes back with (getaddrinfo's EAI_* included). */
const DNS_CODES: ReadonlySet<string> = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME", "EAI_NODATA"]);

/**
 * The POSIX-style code of a Node error, such as `ECONNREFUSED`, or `"EUNKNOWN"` when it has none.
 *
 * @param error - anything thrown or emitted by Node.
 * @returns the code.
 */
export function errnoOf(error: unknown): string {
  if (typeof error === "object" && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") return code;
  }
  return "EUNKNOWN";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Maps an error from a connection attempt (before the connection was made).
 *
 * @param error - the error Node emitted.
 * @returns ConnectionRefusedError, ConnectTimeoutError, DNSLookupError, ConnectionResetError,
 *   BrokenPipeError, or SystemSocketError carrying the original code in `errno` (TLS handshake
 *   failures such as `DEPTH_ZERO_SELF_SIGNED_CERT` come out this way).
 */
export function mapConnectError(error: unknown): Error {
  const errno = errnoOf(error);
  const options = { cause: error };
  switch (errno) {
    case "ECONNREFUSED":
      return new ConnectionRefusedError(undefined, options);
    case "ETIMEDOUT":
      return new ConnectTimeoutError(undefined, options);
    case "ECONNRESET":
      return new ConnectionResetError(undefined, options);
    case "EPIPE":
      return new BrokenPipeError(undefined, options);
    default:
      if (DNS_CODES.has(errno)) return new DNSLookupError(`DNS lookup failed: ${messageOf(error)}`, options);
      return new SystemSocketError(errno, messageOf(error), options);
  }
}

/**
 * Maps an error that ended an established connection to the reason given to
 * `connectionLost`.
 *
 * @param error - the error Node emitted.
 * @returns ConnectionResetError for `ECONNRESET`, BrokenPipeError for `EPIPE`, otherwise
 *   ConnectionLost with the original error as `cause`.
 */
export function mapConnectionLostError(error: unknown): Error {
  const errno = errnoOf(error);
  if (errno === "ECONNRESET") return new ConnectionResetError(undefined, { cause: error });
  if (errno === "EPIPE") return new BrokenPipeError(undefined, { cause: error });
  return new ConnectionLost(`Connection to the other side was lost in a non-clean fashion: ${messageOf(error)}`, { cause: error });
}
