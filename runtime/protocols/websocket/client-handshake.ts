/**
 * `WebSocketClientHandshake`: the client side of the opening handshake as a protocol, the
 * counterpart of the server's `upgradeWebSocket`: it writes the upgrade request, checks the 101
 * response, then hands the transport to the `WebSocketProtocol` it builds. `websocketConnect`
 * (runtime/web) is built on it; a protocol author connects with it directly.
 *
 * @module
 */

import { Buffer } from "node:buffer";

import { Deferred } from "../../deferred.js";
import { ConnectionLost } from "../../errors.js";
import { Protocol } from "../../protocol.js";
import { buildClientRequest, DEFAULT_MAX_HANDSHAKE_HEAD_SIZE, parseHandshakeResponse, validateServerResponse } from "./handshake.js";
import type { ClientHandshakeOptions, ClientHandshakeRequest } from "./handshake.js";
import { WebSocketProtocol } from "./websocket-protocol.js";
import type { WebSocketProtocolOptions } from "./websocket-protocol.js";

/**
 * The client side of the opening handshake. A response that is not a valid 101 for this
 * request, or a head past `maxHeadSize`, fails `ready` with `WebSocketHandshakeError`
 * (`WL_ERR_WS_HANDSHAKE`) and aborts the connection; nothing escapes `dataReceived`.
 *
 * @example
 * ```ts
 * const handshake = await reactor.connect("tcp:127.0.0.1:8888", Factory.forProtocol(() =>
 *   new WebSocketClientHandshake({ host: "127.0.0.1:8888", path: "/echo", random: () => reactor.random() },
 *     { role: "client", clock: reactor, random: () => reactor.random() })));
 * const ws = await handshake.ready; // an open WebSocketProtocol
 * ```
 */
export class WebSocketClientHandshake<P extends WebSocketProtocol = WebSocketProtocol> extends Protocol {
  /** Fires with the open WebSocket, or fails with the handshake's or the connection's error. */
  readonly ready = new Deferred<P>();
  #ws: P | null = null;
  private received: Buffer = Buffer.alloc(0);
  private request: ClientHandshakeRequest | null = null;

  /**
   * @param handshake - the upgrade request's options.
   * @param protocolOptions - the WebSocket's options (role client); the negotiated extension
   *   and subprotocol are added to them.
   * @param make - builds the WebSocket from its options.
   * @defaultValue make a plain `WebSocketProtocol`
   * @param maxHeadSize - the largest response head accepted.
   * @defaultValue maxHeadSize {@link DEFAULT_MAX_HANDSHAKE_HEAD_SIZE}
   */
  /** The WebSocket, once the 101 arrived; null before. */
  get socket(): P | null {
    return this.#ws;
  }

  constructor(
    private readonly handshake: ClientHandshakeOptions,
    private readonly protocolOptions: WebSocketProtocolOptions,
    private readonly make: (options: WebSocketProtocolOptions) => P = (options) => new WebSocketProtocol(options) as P,
    private readonly maxHeadSize = DEFAULT_MAX_HANDSHAKE_HEAD_SIZE,
  ) {
    super();
  }

  override connectionMade(): void {
    try {
      this.request = buildClientRequest(this.handshake);
    } catch (error) {
      this.ready.errback(error);
      this.transport.abortConnection();
      return;
    }
    this.transport.write(this.request.request);
  }

  override dataReceived(data: Uint8Array): void {
    const ws = this.#ws;
    if (ws !== null) {
      ws.dataReceived(data);
      return;
    }
    const request = this.request;
    if (request === null || this.ready.called) return;
    this.received = this.received.length === 0 ? Buffer.from(data) : Buffer.concat([this.received, data]);
    let opened: P;
    let rest: Uint8Array;
    try {
      const head = parseHandshakeResponse(this.received, this.maxHeadSize);
      if (head === null) return;
      const result = validateServerResponse(head, request);
      opened = this.make({ ...this.protocolOptions, perMessageDeflate: result.perMessageDeflate, protocol: result.protocol });
      rest = this.received.subarray(head.headLength);
    } catch (error) {
      this.ready.errback(error);
      this.transport.abortConnection();
      return;
    }
    this.received = Buffer.alloc(0);
    this.#ws = opened;
    opened.makeConnection(this.transport);
    this.ready.callback(opened);
    if (rest.length > 0) opened.dataReceived(rest);
  }

  override connectionLost(reason: Error): void {
    const ws = this.#ws;
    if (ws !== null) {
      ws.connected = false;
      ws.connectionLost(reason);
      return;
    }
    if (!this.ready.called) this.ready.errback(new ConnectionLost("the connection closed during the WebSocket handshake", { cause: reason }));
  }
}
