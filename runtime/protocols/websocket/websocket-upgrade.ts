/**
 * The server side of a WebSocket upgrade in an HTTP server: `negotiateWebSocket` decides
 * (accept, with the protocol's options and the 101's fields; or refuse, with the status and
 * fields to answer), and `upgradeWebSocket` does the whole upgrade for a callback-style server
 * (`HttpServerFactory`). `WebSocketHandler` answers through the same decision, so both give the
 * same answers: 400 for a request that is not a WebSocket upgrade, 403 for a refused origin, 426
 * with `Sec-WebSocket-Version: 13` for another protocol version (RFC 6455 §4.4).
 *
 * @module
 */

import type { HttpHeaderInput, HttpResponse } from "../http/http-response.js";
import type { HttpRequest } from "../http/http-request.js";
import { WebSocketHandshakeError } from "../../errors.js";
import type { Clock } from "../../reactor.js";
import { acceptUpgradeRequest, handshakeRejectionHeaders } from "./handshake.js";
import type { ServerHandshakeOptions } from "./handshake.js";
import type { WebSocketProtocol, WebSocketProtocolOptions } from "./websocket-protocol.js";

/** Options of {@link negotiateWebSocket} and {@link upgradeWebSocket}. */
export interface WebSocketUpgradeOptions {
  /** The subprotocols spoken, or a function choosing among the client's offers (see `acceptUpgradeRequest`). @defaultValue none */
  protocols?: ServerHandshakeOptions["protocols"];
  /** permessage-deflate configuration, or false to never negotiate it. @defaultValue false */
  perMessageDeflate?: ServerHandshakeOptions["perMessageDeflate"];
  /**
   * Accepts or refuses the request's `Origin` (asked only when it has one); a refused request
   * gets 403.
   * @defaultValue every origin is accepted
   */
  checkOrigin?: (origin: string) => boolean;
  /** The rest of the protocol's options (`maxPayload`, pings, close timeout). @defaultValue the protocol's defaults */
  socket?: Omit<WebSocketProtocolOptions, "role" | "clock" | "perMessageDeflate" | "protocol">;
}

/** An upgrade accepted: the options to build the protocol with, and the 101's fields. */
export interface WebSocketAcceptance {
  readonly accepted: true;
  /** Role server, the clock, the negotiated extension and subprotocol, and `socket`'s options. */
  readonly options: WebSocketProtocolOptions;
  /** Upgrade, Connection, Sec-WebSocket-Accept, and the negotiated ones, in order. */
  readonly responseHeaders: readonly (readonly [string, string])[];
}

/** An upgrade refused: what to answer instead. */
export interface WebSocketRefusal {
  readonly accepted: false;
  /** 400, 403 or 426. */
  readonly status: number;
  /** Fields the answer must carry (`Sec-WebSocket-Version: 13` with a 426). */
  readonly headers: readonly (readonly [string, string])[];
  /** Why, for the answer's body. */
  readonly message: string;
}

/**
 * Decides a WebSocket upgrade request: RFC 6455 §4.2.1 (with the messages Tornado answers for a
 * request that is not an upgrade), the origin, the subprotocol and permessage-deflate.
 *
 * @param request - the request (its head is what counts).
 * @param clock - the clock the WebSocket will time pings and closes on.
 * @param options - see {@link WebSocketUpgradeOptions}.
 * @returns the acceptance or the refusal.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad option (a subprotocol the
 *   client did not offer, bad permessage-deflate options).
 */
export function negotiateWebSocket(request: HttpRequest, clock: Clock, options: WebSocketUpgradeOptions = {}): WebSocketAcceptance | WebSocketRefusal {
  const headers = request.headers;
  const refuse = (status: number, message: string): WebSocketRefusal => ({ accepted: false, status, headers: handshakeRejectionHeaders(status), message });
  const upgrade = headers.getAll("upgrade").join(",").toLowerCase();
  if (!upgrade.split(",").some((t) => t.trim() === "websocket")) return refuse(400, 'Can "Upgrade" only to "WebSocket".');
  if (!request.upgrade) return refuse(400, '"Connection" must be "Upgrade".');
  const origin = headers.get("origin");
  if (origin !== undefined && options.checkOrigin !== undefined && !options.checkOrigin(origin)) return refuse(403, "Cross origin websockets not allowed");
  let handshake;
  try {
    handshake = acceptUpgradeRequest(
      { method: request.method, versionMajor: 1, versionMinor: request.versionMinor, headers },
      { ...(options.protocols === undefined ? {} : { protocols: options.protocols }), perMessageDeflate: options.perMessageDeflate ?? false },
    );
  } catch (error) {
    if (!(error instanceof WebSocketHandshakeError)) throw error;
    return refuse(error.status === 0 ? 400 : error.status, error.message);
  }
  return {
    accepted: true,
    options: { ...options.socket, role: "server", clock, perMessageDeflate: handshake.perMessageDeflate, protocol: handshake.protocol },
    responseHeaders: handshake.responseHeaders,
  };
}

/**
 * Upgrades a request of a callback-style HTTP server to a WebSocket: decides it with
 * {@link negotiateWebSocket}, then either answers the refusal (its status, its fields, the
 * message as the body) or builds the protocol with `make` and switches to it (101).
 *
 * @example
 * ```ts
 * new HttpServerFactory(reactor, (request, response) => {
 *   upgradeWebSocket(request, response, reactor, (options) => new Echo(options));
 * });
 * ```
 *
 * @param request - the request.
 * @param response - its response, untouched so far.
 * @param clock - the clock the WebSocket times pings and closes on.
 * @param make - builds the WebSocket from its options.
 * @param options - see {@link WebSocketUpgradeOptions}.
 * @returns the WebSocket, now attached to the connection; null when the request was refused
 *   (and answered).
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) as `negotiateWebSocket`.
 */
export function upgradeWebSocket<P extends WebSocketProtocol>(
  request: HttpRequest,
  response: HttpResponse,
  clock: Clock,
  make: (options: WebSocketProtocolOptions) => P,
  options: WebSocketUpgradeOptions = {},
): P | null {
  const decision = negotiateWebSocket(request, clock, options);
  if (!decision.accepted) {
    response.writeHead(decision.status, flat([["Content-Type", "text/plain; charset=utf-8"], ...decision.headers]));
    response.end(decision.message);
    return null;
  }
  const ws = make(decision.options);
  response.upgrade(ws, flat(decision.responseHeaders));
  return ws;
}

/** Name-value pairs as the flat list `HttpResponse` takes. */
function flat(pairs: readonly (readonly [string, string])[]): HttpHeaderInput {
  return pairs.flatMap(([name, value]) => [name, value]);
}
