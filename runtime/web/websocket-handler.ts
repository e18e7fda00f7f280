/**
 * `WebSocketHandler`: a `RequestHandler` that upgrades its GET request to a WebSocket (RFC 6455,
 * with permessage-deflate when enabled), in Tornado's shape: `open`, `onMessage`, `onClose`,
 * `writeMessage`, `close`, `checkOrigin`, `selectSubprotocol`.
 *
 * @module
 */

import { Buffer } from "node:buffer";

import type { Awaitable } from "../deferred.js";
import { WebSocketClosedError } from "../errors.js";
import { negotiateWebSocket } from "../protocols/websocket/websocket-upgrade.js";
import type { WebSocketUpgradeOptions } from "../protocols/websocket/websocket-upgrade.js";
import type { PerMessageDeflateOptions } from "../protocols/websocket/permessage-deflate.js";
import { DEFAULT_MAX_QUEUED_MESSAGES, WebSocketProtocol } from "../protocols/websocket/websocket-protocol.js";
import type { WebSocketProtocolOptions } from "../protocols/websocket/websocket-protocol.js";
import { CloseCode } from "../protocols/websocket/close-codes.js";
import { RequestHandler } from "./request-handler.js";

function ignore(): void {}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === "object" && typeof (value as PromiseLike<unknown>).then === "function";
}

/**
 * A WebSocket endpoint. Route a path to a subclass; a GET that asks to upgrade is checked
 * (`checkOrigin`, the handshake), answered `101`, and the connection becomes a WebSocket:
 *
 * - `open(...pathArgs)` runs once it is open (may be async: messages wait for it);
 * - `onMessage(message)` gets each message, a string (text) or bytes (binary); if it returns a
 *   Promise, the next message waits for it;
 * - `onClose()` runs once the connection is closed (`closeCode`/`closeReason` hold the peer's
 *   close frame, when there was one);
 * - `writeMessage(message, binary)` sends (a plain object as JSON), `ping`, `close(code, reason)`.
 *
 * `prepare()` runs before the upgrade (throw an `HttpError` to refuse it). A refused origin is
 * 403; a request that is not a WebSocket upgrade is 400 (426 for another protocol version).
 * Keepalive, the message size limit, the bound on unsent bytes and compression come from the
 * application's settings (`websocketPingIntervalMs`, `websocketPingTimeoutMs`,
 * `websocketMaxMessageSize`, `websocketMaxBufferedAmount`, `websocketCompression`) unless
 * overridden here.
 *
 * @example
 * ```ts
 * class Echo extends WebSocketHandler {
 *   override onMessage(message: string | Uint8Array): void {
 *     void this.writeMessage(message, typeof message !== "string");
 *   }
 * }
 * new Application([["/ws", Echo]]);
 * ```
 */
export class WebSocketHandler extends RequestHandler {
  static override SUPPORTED_METHODS: readonly string[] = ["GET"];

  /** The close code the peer sent, once closed (1005 when its close frame had none, null without one). */
  closeCode: number | null = null;
  /** The close reason the peer sent, once closed (null without a close frame). */
  closeReason: string | null = null;

  private socket: HandlerWebSocket | null = null;

  // -- Events: override these --------------------------------------------------------------------

  /**
   * The WebSocket is open. May be async: messages are held until it settles.
   * @param _args - the path arguments.
   */
  open(..._args: string[]): Awaitable<void> {}

  /**
   * A message arrived. May be async: the next message waits until it settles.
   * @param _message - a string for a text message, bytes for a binary one.
   */
  onMessage(_message: string | Uint8Array): Awaitable<void> {}

  /** The connection is closed. */
  onClose(): void {}

  /** A ping arrived (already answered). @param _data - its payload. */
  onPing(_data: Uint8Array): void {}

  /** A pong arrived. @param _data - its payload. */
  onPong(_data: Uint8Array): void {}

  /**
   * Accepts or refuses the request's `Origin` (browsers always send one). The default, as
   * Tornado's, accepts only the request's own host.
   * @param origin - the `Origin` value.
   * @returns false to refuse the upgrade with 403.
   */
  checkOrigin(origin: string): boolean {
    let host: string;
    try {
      host = new URL(origin).host.toLowerCase();
    } catch {
      return false;
    }
    return host !== "" && host === this.request.host.toLowerCase();
  }

  /**
   * Chooses a subprotocol among the client's offers.
   * @param _subprotocols - the offered subprotocols, in the client's order.
   * @returns the chosen one (it must be one of them), or null for none.
   */
  selectSubprotocol(_subprotocols: readonly string[]): string | null {
    return null;
  }

  /**
   * permessage-deflate options, or null not to negotiate compression.
   * @returns the `websocketCompression` setting by default.
   */
  getCompressionOptions(): PerMessageDeflateOptions | null {
    const setting = this.application.settings.websocketCompression;
    return setting === undefined || setting === false ? null : setting;
  }

  /** The largest message accepted, in bytes; the `websocketMaxMessageSize` setting by default. */
  get maxMessageSize(): number | undefined {
    return this.application.settings.websocketMaxMessageSize;
  }

  /** The keepalive ping interval, in ms (0: none); the `websocketPingIntervalMs` setting by default. */
  get pingIntervalMs(): number | undefined {
    return this.application.settings.websocketPingIntervalMs;
  }

  /** The pong timeout, in ms; the `websocketPingTimeoutMs` setting by default. */
  get pingTimeoutMs(): number | undefined {
    return this.application.settings.websocketPingTimeoutMs;
  }

  /**
   * Bytes that may wait unsent when a message is written; past it the message is dropped and
   * the connection closed with 1013 (a client that does not read). The
   * `websocketMaxBufferedAmount` setting by default (itself 1 MiB by default).
   */
  get maxBufferedAmount(): number | undefined {
    return this.application.settings.websocketMaxBufferedAmount;
  }

  // -- Sending ----------------------------------------------------------------------------------

  /** The subprotocol chosen by the handshake, or null. */
  get selectedSubprotocol(): string | null {
    return this.socket?.protocol ?? null;
  }

  /** The WebSocket connection, once upgraded. */
  get webSocket(): WebSocketProtocol | null {
    return this.socket;
  }

  /**
   * Sends a message.
   * @param message - text, bytes, or a plain object (sent as JSON text).
   * @param binary - send a string as a binary message.
   * @returns a Promise that resolves once the connection's buffer is under its high-water
   *   mark (it need not be awaited; it rejects with `WebSocketClosedError` if the connection
   *   closes first).
   * @throws WebSocketClosedError (`WL_ERR_WS_CLOSED`) when the connection is not open.
   */
  writeMessage(message: string | Uint8Array | Readonly<Record<string, unknown>>, binary = false): Promise<void> {
    const ws = this.socket;
    if (ws === null || ws.readyState !== "open") throw new WebSocketClosedError(ws === null ? CloseCode.ABNORMAL : (this.closeCode ?? CloseCode.ABNORMAL), "", false, "writeMessage() on a WebSocket that is not open");
    let data: string | Uint8Array;
    if (typeof message === "string") data = binary ? Buffer.from(message, "utf8") : message;
    else if (message instanceof Uint8Array) data = message;
    else data = JSON.stringify(message);
    ws.send(data);
    const drained = ws.drained();
    // Only a write that has to wait can fail later; nobody need await it, so that is no crash.
    if (!ws.writable) drained.catch(ignore);
    return drained;
  }

  /**
   * Sends a ping.
   * @param data - its payload, at most 125 bytes.
   * @throws WebSocketClosedError (`WL_ERR_WS_CLOSED`) when the connection is not open.
   */
  ping(data: string | Uint8Array = new Uint8Array(0)): void {
    const ws = this.socket;
    if (ws === null) throw new WebSocketClosedError(CloseCode.ABNORMAL, "", false, "ping() before the WebSocket is open");
    ws.ping(data);
  }

  /**
   * Starts the closing handshake (does nothing when closing already started).
   * @param code - the close code.
   * @param reason - the reason, at most 123 UTF-8 bytes.
   */
  close(code: number = CloseCode.NORMAL, reason = ""): void {
    this.socket?.close(code, reason);
  }

  // -- The upgrade ------------------------------------------------------------------------------

  /**
   * Answers the upgrade request; not to be overridden (use `prepare`, `checkOrigin`, `open`).
   * @param args - the path arguments, for `open`.
   */
  override get(...args: string[]): void {
    const options: WebSocketUpgradeOptions = {
      protocols: (offered) => this.selectSubprotocol(offered),
      perMessageDeflate: this.getCompressionOptions() ?? false,
      checkOrigin: (origin) => this.checkOrigin(origin),
      socket: {},
    };
    if (this.maxMessageSize !== undefined) options.socket!.maxPayload = this.maxMessageSize;
    if (this.pingIntervalMs !== undefined) options.socket!.pingIntervalMs = this.pingIntervalMs;
    if (this.pingTimeoutMs !== undefined) options.socket!.pingTimeoutMs = this.pingTimeoutMs;
    if (this.maxBufferedAmount !== undefined) options.socket!.maxBufferedAmount = this.maxBufferedAmount;
    // The same decision as a callback-style server's (`upgradeWebSocket`), answered through
    // the handler so that its headers and cookies go out with the refusal.
    const decision = negotiateWebSocket(this.request.http, this.clock, options);
    if (!decision.accepted) {
      this.setStatus(decision.status);
      for (const [name, value] of decision.headers) this.setHeader(name, value);
      void this.finish(decision.message);
      return;
    }
    const socket = new HandlerWebSocket(this, args, decision.options);
    this.socket = socket;
    const fields: string[] = [];
    for (const [name, value] of decision.responseHeaders) fields.push(name, value);
    this.markUpgraded();
    this.httpResponse.upgrade(socket, fields);
  }

  /** @internal The connection closed: record the close frame and run `onClose`. */
  closed(code: number, reason: string, closeFrameReceived: boolean): void {
    if (closeFrameReceived) {
      this.closeCode = code;
      this.closeReason = reason;
    }
    try {
      this.onClose();
    } catch (error) {
      this.application.reportError(error);
    }
  }
}

/** The WebSocket protocol behind a handler: forwards events, one message at a time. */
class HandlerWebSocket extends WebSocketProtocol {
  private readonly queue: (string | Uint8Array)[] = [];
  private busy = true;
  private paused = false;

  constructor(
    private readonly handler: WebSocketHandler,
    private readonly args: readonly string[],
    options: WebSocketProtocolOptions,
  ) {
    super(options);
  }

  override onOpen(): void {
    // Small messages must not wait for Nagle's algorithm and the peer's delayed ACK (a 40 ms
    // floor on every message otherwise); WebSocket servers turn it off, as Tornado does.
    this.transport.setTcpNoDelay(true);
    // Busy until open() settles: messages wait in the queue.
    this.run(() => this.handler.open(...this.args));
  }

  override onMessage(data: string | Uint8Array, isBinary: boolean): void {
    // A binary message may be a view into the received chunk: copy it if it has to wait.
    this.queue.push(this.busy && isBinary ? Buffer.from(data as Uint8Array) : data);
    if (!this.paused && this.queue.length >= DEFAULT_MAX_QUEUED_MESSAGES) {
      this.paused = true;
      this.pauseReading();
    }
    if (!this.busy) this.next();
  }

  override onPing(data: Uint8Array): void {
    this.handler.onPing(data);
  }

  override onPong(data: Uint8Array): void {
    this.handler.onPong(data);
  }

  override onClose(code: number, reason: string): void {
    this.queue.length = 0;
    // A code other than 1006 with no failure of ours came in the peer's close frame.
    this.handler.closed(code, reason, code !== CloseCode.ABNORMAL && this.failure === null);
  }

  private next(): void {
    this.busy = false;
    const message = this.queue.shift();
    if (this.paused && this.queue.length < DEFAULT_MAX_QUEUED_MESSAGES && this.readyState !== "closed") {
      this.paused = false;
      this.resumeReading();
    }
    if (message === undefined || this.readyState === "closed") return;
    this.run(() => this.handler.onMessage(message));
  }

  /** Runs a handler event; a Promise holds the next message until it settles. */
  private run(fn: () => unknown): void {
    this.busy = true;
    let result: unknown;
    try {
      result = fn();
    } catch (error) {
      this.handlerFailed(error);
      return;
    }
    if (!isThenable(result)) {
      this.next();
      return;
    }
    result.then(
      () => this.next(),
      (error: unknown) => this.handlerFailed(error),
    );
  }

  private handlerFailed(error: unknown): void {
    this.handler.application.reportError(error);
    if (this.readyState === "open") this.close(CloseCode.INTERNAL_ERROR, "internal-error");
  }
}
