/**
 * The web application layer, in Tornado's shape, over wirelab's HTTP server:
 *
 * - `application.ts`: `Application` (routes, settings, `factory(clock)`, `listen(reactor, endpoint)`).
 * - `routing.ts`: `Router`, `Route`: `[pattern, Handler, options]` rules, first match wins.
 * - `request-handler.ts`: `RequestHandler` (methods, output, errors, cookies, signed cookies, XSRF).
 * - `error-handler.ts`: `ErrorHandler`, the default 404 handler.
 * - `web-request.ts`: `WebRequest`, the request as a handler sees it (arguments, cookies, body).
 * - `cookies.ts`: `Cookie` parsing and `Set-Cookie` formatting.
 * - `signed-cookie.ts`: signed values (HMAC-SHA256, key versions, maximum age).
 * - `xsrf.ts`: masked XSRF tokens.
 * - `websocket-handler.ts`: `WebSocketHandler`, a handler that upgrades to a WebSocket.
 * - `websocket-connect.ts`: `websocketConnect(reactor, url)`, the client.
 *
 * The in-memory entry point, `requestApp(app, method, path)`, is in `wirelab/fakes`.
 *
 * @module
 */

export { Application, DEFAULT_SERVER_HEADER } from "./application.js";
export type { ApplicationSettings } from "./application.js";
export { Route, Router } from "./routing.js";
export type { HandlerOptions, RouteMatch, RouteSpec } from "./routing.js";
export { RequestHandler, DEFAULT_SUPPORTED_METHODS, DEFAULT_SIGNED_COOKIE_EXPIRES_DAYS, escapeHtml } from "./request-handler.js";
export type { ErrorInfo, GetSignedCookieOptions, HandlerContext, RequestHandlerClass, SignedCookieOptions } from "./request-handler.js";
export { ErrorHandler, DEFAULT_ERROR_HANDLER_STATUS } from "./error-handler.js";
export { WebRequest } from "./web-request.js";
export type { Arguments } from "./web-request.js";
export { parseCookies, formatSetCookie } from "./cookies.js";
export type { CookieOptions } from "./cookies.js";
export { createSignedValue, decodeSignedValue, signedValueKeyVersion, DEFAULT_SIGNED_VALUE_MAX_AGE_DAYS, SIGNED_VALUE_VERSION } from "./signed-cookie.js";
export type { CookieSecret } from "./signed-cookie.js";
export { encodeXsrfToken, decodeXsrfToken, xsrfTokensEqual, XSRF_TOKEN_BYTES, DEFAULT_XSRF_COOKIE_NAME } from "./xsrf.js";
export type { XsrfToken } from "./xsrf.js";
export { WebSocketHandler } from "./websocket-handler.js";
export { websocketConnect, WebSocketClientConnection, DEFAULT_WEBSOCKET_CONNECT_TIMEOUT_MS } from "./websocket-connect.js";
export type { WebSocketConnectOptions } from "./websocket-connect.js";
