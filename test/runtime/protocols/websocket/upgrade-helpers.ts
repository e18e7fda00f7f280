/**
 * Test helpers: the smallest HTTP glue that runs a WebSocket opening handshake with the pure
 * functions of `handshake.ts` and then hands the transport to a `WebSocketProtocol`. The real
 * glue belongs to the HTTP application layer; these exist so that interop tests can talk to
 * the `ws` package over real sockets.
 */

import { WebSocketHandshakeError } from "../../../../runtime/errors.js";
import { Protocol } from "../../../../runtime/protocol.js";
import { RequestParser } from "../../../../runtime/protocols/http/request-parser.js";
import type { RequestHead } from "../../../../runtime/protocols/http/request-parser.js";
import {
  acceptUpgradeRequest,
  buildClientRequest,
  formatHandshakeRejection,
  formatServerResponse,
  parseHandshakeResponse,
  validateServerResponse,
} from "../../../../runtime/protocols/websocket/handshake.js";
import type { ClientHandshakeOptions, ClientHandshakeRequest, ClientHandshakeResult, ServerHandshake, ServerHandshakeOptions } from "../../../../runtime/protocols/websocket/handshake.js";
import type { WebSocketProtocol } from "../../../../runtime/protocols/websocket/websocket-protocol.js";

/** Server side: reads one upgrade request with the HTTP request parser, answers 101, switches. */
export class ServerUpgrade extends Protocol {
  ws: WebSocketProtocol | null = null;
  #parser: RequestParser | null = null;
  #head: RequestHead | null = null;
  #complete = false;

  constructor(
    private readonly make: (handshake: ServerHandshake, head: RequestHead) => WebSocketProtocol,
    private readonly options: ServerHandshakeOptions = {},
  ) {
    super();
  }

  override connectionMade(): void {
    this.#parser = new RequestParser({
      onRequestHead: (head) => {
        this.#head = head;
      },
      onBody: () => {},
      onRequestComplete: () => {
        this.#complete = true;
      },
      onError: (error) => {
        this.transport.write(`HTTP/1.1 ${error.status} Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        this.transport.loseConnection();
      },
    });
  }

  override dataReceived(data: Uint8Array): void {
    if (this.ws !== null) {
      this.ws.dataReceived(data);
      return;
    }
    const parser = this.#parser;
    if (parser === null) return;
    parser.execute(data);
    const head = this.#head;
    if (head === null || !this.#complete) return;
    const rest = parser.detach();
    let handshake: ServerHandshake;
    try {
      handshake = acceptUpgradeRequest(head, this.options);
    } catch (error) {
      if (!(error instanceof WebSocketHandshakeError)) throw error;
      this.transport.write(formatHandshakeRejection(error));
      this.transport.loseConnection();
      return;
    }
    this.transport.write(formatServerResponse(handshake));
    const ws = this.make(handshake, head);
    this.ws = ws;
    ws.makeConnection(this.transport);
    if (rest.length > 0) ws.dataReceived(rest);
  }

  override connectionLost(reason: Error): void {
    this.ws?.connectionLost(reason);
  }
}

/** Client side: writes the upgrade request, checks the 101 response, switches. */
export class ClientUpgrade extends Protocol {
  ws: WebSocketProtocol | null = null;
  /** Resolves with the WebSocket once the handshake succeeded; rejects if it failed. */
  readonly ready: Promise<WebSocketProtocol>;
  #resolve!: (ws: WebSocketProtocol) => void;
  #reject!: (error: unknown) => void;
  #buffer: Buffer = Buffer.alloc(0);
  #request: ClientHandshakeRequest | null = null;

  constructor(
    private readonly options: ClientHandshakeOptions,
    private readonly make: (result: ClientHandshakeResult) => WebSocketProtocol,
  ) {
    super();
    this.ready = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  override connectionMade(): void {
    this.#request = buildClientRequest(this.options);
    this.transport.write(this.#request.request);
  }

  override dataReceived(data: Uint8Array): void {
    if (this.ws !== null) {
      this.ws.dataReceived(data);
      return;
    }
    const request = this.#request;
    if (request === null) return;
    this.#buffer = Buffer.concat([this.#buffer, data]);
    let ws: WebSocketProtocol;
    let rest: Uint8Array;
    try {
      const head = parseHandshakeResponse(this.#buffer);
      if (head === null) return;
      const result = validateServerResponse(head, request);
      ws = this.make(result);
      rest = this.#buffer.subarray(head.headLength);
    } catch (error) {
      this.#reject(error);
      this.transport.abortConnection();
      return;
    }
    this.ws = ws;
    ws.makeConnection(this.transport);
    this.#resolve(ws);
    if (rest.length > 0) ws.dataReceived(rest);
  }

  override connectionLost(reason: Error): void {
    if (this.ws !== null) this.ws.connectionLost(reason);
    else this.#reject(reason);
  }
}
