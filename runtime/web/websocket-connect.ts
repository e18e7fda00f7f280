/**
 * `websocketConnect(reactor, url)`: a WebSocket client in Tornado's shape: connect, then
 * `await readMessage()` (null once closed), `writeMessage`, `close`.
 *
 * @module
 */

import { Buffer } from "node:buffer";

import type { ClientEndpoint } from "../endpoints.js";
import { InvalidOptionError, WebSocketClosedError } from "../errors.js";
import { Factory } from "../protocol.js";
import type { Reactor } from "../reactor.js";
import { WebSocketClientHandshake } from "../protocols/websocket/client-handshake.js";
import type { ClientHandshakeOptions } from "../protocols/websocket/handshake.js";
import type { PerMessageDeflateOptions } from "../protocols/websocket/permessage-deflate.js";
import { CloseCode } from "../protocols/websocket/close-codes.js";
import type { WebSocketCloseInfo, WebSocketProtocol, WebSocketProtocolOptions } from "../protocols/websocket/websocket-protocol.js";

/** The default time for connecting and the opening handshake together: 30 s. */
export const DEFAULT_WEBSOCKET_CONNECT_TIMEOUT_MS = 30_000;

/** Options of {@link websocketConnect}. */
export interface WebSocketConnectOptions {
  /** Subprotocols to offer, in order of preference. @defaultValue [] */
  subprotocols?: readonly string[];
  /** Extra request header fields, in order. @defaultValue [] */
  headers?: readonly (readonly [string, string])[];
  /** The `Origin` field. @defaultValue none */
  origin?: string;
  /** permessage-deflate options to offer, or false not to. @defaultValue false */
  compression?: PerMessageDeflateOptions | false;
  /** The largest incoming message, in bytes. @defaultValue the protocol's `DEFAULT_MAX_PAYLOAD` (16 MiB) */
  maxMessageSize?: number;
  /** Keepalive ping interval in ms (0: none). @defaultValue 0 */
  pingIntervalMs?: number;
  /** Pong timeout in ms. @defaultValue the protocol's `DEFAULT_PING_TIMEOUT_MS` (30 s) */
  pingTimeoutMs?: number;
  /**
   * Milliseconds (on the reactor's clock) for connecting and the handshake together; past it
   * the attempt fails with `TimeoutError`.
   * @defaultValue {@link DEFAULT_WEBSOCKET_CONNECT_TIMEOUT_MS} (30 s)
   */
  connectTimeoutMs?: number;
  /** Where to connect instead of the URL's host and port (the URL still gives `Host` and the path). */
  endpoint?: string | ClientEndpoint;
  /** The largest handshake response head, in bytes. @defaultValue `DEFAULT_MAX_HANDSHAKE_HEAD_SIZE` (16 KiB) */
  maxHandshakeHeadSize?: number;
}

/** A client WebSocket connection, as returned by {@link websocketConnect}. */
export class WebSocketClientConnection {
  /** The underlying protocol (events, `bufferedAmount`, `whenClosed`). */
  readonly protocol: WebSocketProtocol;

  /** @param protocol - the open WebSocket. */
  constructor(protocol: WebSocketProtocol) {
    this.protocol = protocol;
  }

  /** The subprotocol the server chose, or null. */
  get selectedSubprotocol(): string | null {
    return this.protocol.protocol;
  }

  /** The close code, once closed (1005: a close frame without one; 1006: none), else null. */
  get closeCode(): number | null {
    return this.info?.code ?? null;
  }

  /** The close reason, once closed, else null. */
  get closeReason(): string | null {
    return this.info?.reason ?? null;
  }

  private info: WebSocketCloseInfo | null = null;

  /**
   * The next message.
   * @returns a Promise of a string (text) or bytes (binary), or null once the connection is
   *   closed and no message is left (as Tornado's `read_message`).
   * @throws (rejects) ReadPendingError (`WL_ERR_READ_PENDING`) when a read is pending already.
   */
  async readMessage(): Promise<string | Uint8Array | null> {
    try {
      const message = await this.protocol.readMessage();
      return message.data;
    } catch (error) {
      if (error instanceof WebSocketClosedError) return null;
      throw error;
    }
  }

  /**
   * Sends a message.
   * @param message - a string (text unless `binary`) or bytes (binary).
   * @param binary - send a string as a binary message.
   * @returns a Promise that resolves once the transport's buffer is under its high-water mark.
   * @throws WebSocketClosedError (`WL_ERR_WS_CLOSED`) when the connection is not open.
   */
  writeMessage(message: string | Uint8Array, binary = false): Promise<void> {
    this.protocol.send(typeof message === "string" && binary ? Buffer.from(message, "utf8") : message);
    const p = this.protocol.drained();
    p.catch(() => {});
    return p;
  }

  /**
   * Sends a ping.
   * @param data - at most 125 bytes.
   * @throws WebSocketClosedError (`WL_ERR_WS_CLOSED`) when the connection is not open.
   */
  ping(data: string | Uint8Array = new Uint8Array(0)): void {
    this.protocol.ping(data);
  }

  /**
   * Starts the closing handshake.
   * @param code - the close code.
   * @param reason - the reason.
   */
  close(code: number = CloseCode.NORMAL, reason = ""): void {
    this.protocol.close(code, reason);
  }

  /** @returns a Promise of how the connection closed, once it has. */
  whenClosed(): Promise<WebSocketCloseInfo> {
    return this.protocol.whenClosed();
  }

  /** @internal */
  setCloseInfo(info: WebSocketCloseInfo): void {
    this.info = info;
  }
}

/**
 * Opens a WebSocket connection.
 * @param reactor - the reactor to connect with (NodeReactor, or a fake).
 * @param url - a `ws:` or `wss:` URL.
 * @param options - see {@link WebSocketConnectOptions}.
 * @returns a Promise of the open connection.
 * @throws (rejects) connection errors (`ConnectionRefusedError`, ...), `WebSocketHandshakeError`
 *   (`WL_ERR_WS_HANDSHAKE`) when the server refuses or answers wrongly, `TimeoutError`
 *   (`WL_ERR_TIMEOUT`) past `connectTimeoutMs`.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a URL that is not ws(s).
 *
 * @example
 * ```ts
 * const conn = await websocketConnect(reactor, "ws://127.0.0.1:8888/echo");
 * await conn.writeMessage("hello");
 * console.log(await conn.readMessage()); // "hello", or null once closed
 * conn.close();
 * ```
 */
export async function websocketConnect(reactor: Reactor, url: string | URL, options: WebSocketConnectOptions = {}): Promise<WebSocketClientConnection> {
  const u = typeof url === "string" ? new URL(url) : url;
  if (u.protocol !== "ws:" && u.protocol !== "wss:") throw new InvalidOptionError("url", `not a ws(s) URL: ${u.href}`);
  const tls = u.protocol === "wss:";
  const host = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === "" ? (tls ? 443 : 80) : Number(u.port);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_WEBSOCKET_CONNECT_TIMEOUT_MS;
  const timeoutS = Math.max(1, Math.ceil(timeoutMs / 1000));
  const endpoint: string | ClientEndpoint =
    options.endpoint ?? (tls ? { kind: "tls", host, port, timeout: timeoutS, verify: true } : { kind: "tcp", host, port, timeout: timeoutS });
  const handshake: ClientHandshakeOptions = {
    host: u.host,
    path: `${u.pathname === "" ? "/" : u.pathname}${u.search}`,
    random: () => reactor.random(),
  };
  if (options.origin !== undefined) handshake.origin = options.origin;
  if (options.subprotocols !== undefined) handshake.protocols = options.subprotocols;
  if (options.compression !== undefined) handshake.perMessageDeflate = options.compression;
  if (options.headers !== undefined) handshake.headers = options.headers;
  const protocolOptions: WebSocketProtocolOptions = { role: "client", clock: reactor, random: () => reactor.random() };
  if (options.maxMessageSize !== undefined) protocolOptions.maxPayload = options.maxMessageSize;
  if (options.pingIntervalMs !== undefined) protocolOptions.pingIntervalMs = options.pingIntervalMs;
  if (options.pingTimeoutMs !== undefined) protocolOptions.pingTimeoutMs = options.pingTimeoutMs;
  if (options.compression !== undefined && options.compression !== false) protocolOptions.deflateOptions = options.compression;
  const attempt: { client: WebSocketClientHandshake | null } = { client: null };
  const d = reactor
    .connect(
      endpoint,
      Factory.forProtocol(() => {
        const client = new WebSocketClientHandshake(handshake, protocolOptions, undefined, options.maxHandshakeHeadSize);
        attempt.client = client;
        return client;
      }),
    )
    .addCallback((protocol) => protocol.ready)
    .addCallback((ws) => {
      const connection = new WebSocketClientConnection(ws);
      void ws.whenClosed().then((info) => connection.setCloseInfo(info));
      return connection;
    })
    .addTimeout(timeoutMs, reactor)
    .addErrback((error: unknown) => {
      const client = attempt.client;
      if (client?.connected === true) client.transport.abortConnection();
      throw error;
    });
  return await d;
}
