/**
 * WebSocket (RFC 6455) with permessage-deflate (RFC 7692), independent of HTTP: the opening
 * handshake as pure functions, and the connection as a protocol over any transport.
 *
 * - `frame-parser.ts`: `FrameParser`, the receiving state machine (bytes in, messages out).
 * - `frame-writer.ts`: `FrameWriter`, framing, masking, fragmentation, prepared messages.
 * - `websocket-protocol.ts`: `WebSocketProtocol`, one connection after the handshake, with
 *   events and an awaitable `readMessage()`, keepalive pings and the closing handshake.
 * - `handshake.ts`: upgrade request validation, `Sec-WebSocket-Accept`, the client request
 *   and response checks, `Sec-WebSocket-Extensions` parsing.
 * - `websocket-upgrade.ts`: the server's upgrade in an HTTP server (`negotiateWebSocket`,
 *   `upgradeWebSocket`), shared by callback-style servers and `WebSocketHandler`.
 * - `client-handshake.ts`: `WebSocketClientHandshake`, the client's side, as a protocol.
 * - `permessage-deflate.ts`: parameter negotiation and `PerMessageDeflate` (node:zlib).
 * - `close-codes.ts`: `CloseCode` and which codes may go on the wire.
 * - `mask.ts`: masking, shared by the parser and the writer (internal).
 *
 * @module
 */

export { FrameParser, Opcode, DEFAULT_MAX_PAYLOAD, MAX_CONTROL_PAYLOAD } from "./frame-parser.js";
export type { FrameParserHandlers, FrameParserOptions } from "./frame-parser.js";
export { FrameWriter, frameHeader, closePayload, DEFAULT_FRAGMENT_SIZE } from "./frame-writer.js";
export type { FrameSink, FrameWriterOptions, PreparedMessage } from "./frame-writer.js";
export {
  WebSocketProtocol,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_MAX_QUEUED_MESSAGES,
  DEFAULT_MAX_BUFFERED_AMOUNT,
} from "./websocket-protocol.js";
export type { WebSocketProtocolOptions, WebSocketMessage, WebSocketCloseInfo, WebSocketReadyState } from "./websocket-protocol.js";
export {
  acceptUpgradeRequest,
  buildClientRequest,
  computeAcceptKey,
  formatHandshakeRejection,
  formatServerResponse,
  generateKey,
  handshakeRejectionHeaders,
  parseExtensions,
  parseHandshakeResponse,
  validateServerResponse,
  WEBSOCKET_GUID,
  WEBSOCKET_VERSION,
  DEFAULT_MAX_HANDSHAKE_HEAD_SIZE,
} from "./handshake.js";
export type {
  ClientHandshakeOptions,
  ClientHandshakeRequest,
  ClientHandshakeResult,
  ExtensionOffer,
  HandshakeHeaders,
  HandshakeResponseHead,
  ServerHandshake,
  ServerHandshakeOptions,
  UpgradeRequestHead,
} from "./handshake.js";
export {
  PerMessageDeflate,
  negotiatePerMessageDeflate,
  perMessageDeflateOffer,
  acceptPerMessageDeflate,
  validatePerMessageDeflateOptions,
  PERMESSAGE_DEFLATE,
  DEFAULT_DEFLATE_THRESHOLD,
  DEFAULT_DEFLATE_LEVEL,
  DEFAULT_DEFLATE_MEM_LEVEL,
  MAX_WINDOW_BITS,
} from "./permessage-deflate.js";
export type { PerMessageDeflateOptions, PerMessageDeflateParams, PerMessageDeflateAgreement } from "./permessage-deflate.js";
export { CloseCode, isValidCloseCode, MAX_CLOSE_REASON_BYTES } from "./close-codes.js";
export { negotiateWebSocket, upgradeWebSocket } from "./websocket-upgrade.js";
export type { WebSocketAcceptance, WebSocketRefusal, WebSocketUpgradeOptions } from "./websocket-upgrade.js";
export { WebSocketClientHandshake } from "./client-handshake.js";
