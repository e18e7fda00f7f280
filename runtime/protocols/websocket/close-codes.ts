/**
 * WebSocket close codes (RFC 6455 section 7.4 and the IANA registry), and which of them may
 * appear in a close frame on the wire.
 *
 * @module
 */

/** The registered close codes, by name. */
export const CloseCode = {
  /** The purpose of the connection was fulfilled. */
  NORMAL: 1000,
  /** The endpoint is going away (server shutdown, page navigated away). */
  GOING_AWAY: 1001,
  /** The peer broke the protocol. */
  PROTOCOL_ERROR: 1002,
  /** The peer sent a kind of data this endpoint cannot accept. */
  UNSUPPORTED_DATA: 1003,
  /** No status code was present in the close frame. Never sent on the wire. */
  NO_STATUS: 1005,
  /** The connection closed without a close frame. Never sent on the wire. */
  ABNORMAL: 1006,
  /** A message was not consistent with its type (invalid UTF-8 in a text message). */
  INVALID_PAYLOAD: 1007,
  /** A message broke this endpoint's policy. */
  POLICY_VIOLATION: 1008,
  /** A message was too big to process. */
  MESSAGE_TOO_BIG: 1009,
  /** The client expected the server to negotiate an extension it did not. */
  MANDATORY_EXTENSION: 1010,
  /** The server met an unexpected condition. */
  INTERNAL_ERROR: 1011,
  /** The server is restarting. */
  SERVICE_RESTART: 1012,
  /** The server is overloaded: try again later. */
  TRY_AGAIN_LATER: 1013,
  /** A gateway got an invalid response upstream. */
  BAD_GATEWAY: 1014,
  /** The TLS handshake failed. Never sent on the wire. */
  TLS_HANDSHAKE: 1015,
} as const;

/**
 * Whether `code` may be carried by a close frame: 1000-1003, 1007-1014 and the application
 * range 3000-4999. 1004 is reserved, 1005/1006/1015 are for reporting only, and other codes
 * below 3000 are unassigned; receiving any of them is a protocol error (1002).
 *
 * @param code - a close code read from, or about to be written to, a close frame.
 * @returns true when it is valid on the wire.
 */
export function isValidCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

/** The largest close reason, in UTF-8 bytes: a control frame carries at most 125 bytes, 2 of them the code. */
export const MAX_CLOSE_REASON_BYTES = 123;
