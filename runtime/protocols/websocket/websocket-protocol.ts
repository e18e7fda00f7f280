/**
 * `WebSocketProtocol`: one WebSocket connection after its opening handshake, for either role,
 * in both styles: override the events (`onMessage`, `onClose`, ...) or `await readMessage()`.
 *
 * @module
 */

import {
  ConnectionDone,
  InvalidOptionError,
  ProducerRegisteredError,
  ReadPendingError,
  TimeoutError,
  WebSocketBufferFullError,
  WebSocketClosedError,
  WebSocketHandlerError,
  WebSocketProtocolError,
} from "../../errors.js";
import { Protocol } from "../../protocol.js";
import type { PushProducer } from "../../protocol.js";
import type { Clock, DelayedCall } from "../../reactor.js";
import { CloseCode } from "./close-codes.js";
import { FrameParser } from "./frame-parser.js";
import { closePayload, FrameWriter } from "./frame-writer.js";
import type { PreparedMessage } from "./frame-writer.js";
import { PerMessageDeflate } from "./permessage-deflate.js";
import type { PerMessageDeflateOptions, PerMessageDeflateParams } from "./permessage-deflate.js";

// Returned by every `drained()` that need not wait: one shared promise, nothing allocated.
const RESOLVED: Promise<void> = Promise.resolve();

/** The default `pingIntervalMs`: 0, no keepalive pings (as in Tornado and `ws`). */
export const DEFAULT_PING_INTERVAL_MS = 0;
/** The default `pingTimeoutMs`: 30 s without a pong after a keepalive ping closes the connection. */
export const DEFAULT_PING_TIMEOUT_MS = 30_000;
/** The default `closeTimeoutMs`: 5 s to finish the closing handshake before the TCP connection is dropped. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;
/** The default `maxQueuedMessages`: 64 messages wait for `readMessage()` before reading pauses. */
export const DEFAULT_MAX_QUEUED_MESSAGES = 64;
/**
 * The default `maxBufferedAmount`: 1 MiB unsent when a message is sent fails the connection
 * with 1013. A sender that waits for `drained()` never comes near it (it stays within the
 * transport's high-water mark, 64 KiB by default, plus one message); a backlog this deep means
 * the peer does not read: 16 s of a 64 KiB/s feed, or 16,000 small broadcast messages. `ws`
 * and Tornado leave it unbounded, and `ws` users commonly check `bufferedAmount` against about
 * this much by hand. What a stuck connection costs is more than its bytes (each queued write
 * carries its own bookkeeping), which argues for a low default; a program that sends bursts
 * larger than this without waiting for `drained()` must raise it.
 */
export const DEFAULT_MAX_BUFFERED_AMOUNT = 1024 * 1024;

// Why reading is paused, as bits: the queue for readMessage() is full, the write buffer is
// full, or the application (a subclass) asked. The first two hold the parser too, mid-chunk.
const HOLD_QUEUE = 1;
const HOLD_WRITE = 2;
const HOLD_APP = 4;
const HOLD_PARSER = HOLD_QUEUE | HOLD_WRITE;

/** Options for {@link WebSocketProtocol}. */
export interface WebSocketProtocolOptions {
  /** Which side of the connection this is. A server requires masked frames, a client masks its own. */
  role: "server" | "client";
  /** The clock for keepalive pings and closing timeouts: the reactor. */
  clock: Clock;
  /**
   * Random numbers in [0, 1) for the client's masking keys: the reactor's `random()`.
   * Required for a client; a server never uses it.
   */
  random?: () => number;
  /**
   * The largest incoming message in bytes (see `FrameParserOptions.maxPayload`); a bigger one
   * fails the connection with 1009.
   * @defaultValue {@link DEFAULT_MAX_PAYLOAD} (16 MiB)
   */
  maxPayload?: number;
  /**
   * The permessage-deflate parameters negotiated by the handshake, or null for none.
   * @defaultValue null
   */
  perMessageDeflate?: PerMessageDeflateParams | null;
  /**
   * permessage-deflate tuning: `threshold`, `level`, `memLevel`.
   * @defaultValue {} (the defaults of `PerMessageDeflateOptions`)
   */
  deflateOptions?: PerMessageDeflateOptions;
  /**
   * Outgoing messages longer than this are fragmented (0: never).
   * @defaultValue {@link DEFAULT_FRAGMENT_SIZE} (0)
   */
  fragmentSize?: number;
  /**
   * Send a ping every this many milliseconds while open; 0 turns keepalive off.
   * @defaultValue {@link DEFAULT_PING_INTERVAL_MS} (0)
   */
  pingIntervalMs?: number;
  /**
   * After a keepalive ping, the connection is dropped (code 1006) when no pong arrives within this
   * many milliseconds.
   * @defaultValue {@link DEFAULT_PING_TIMEOUT_MS} (30 s)
   */
  pingTimeoutMs?: number;
  /**
   * How long to wait for the peer's close frame after sending one (then the connection is
   * aborted), and, on a client, for the server to close the TCP connection after the closing
   * handshake (then the client closes it).
   * @defaultValue {@link DEFAULT_CLOSE_TIMEOUT_MS} (5 s)
   */
  closeTimeoutMs?: number;
  /**
   * How many received messages may wait for `readMessage()` (when `onMessage` is not
   * overridden) before reading from the transport pauses; it resumes as they are read.
   * @defaultValue {@link DEFAULT_MAX_QUEUED_MESSAGES} (64)
   */
  maxQueuedMessages?: number;
  /**
   * When a message (or a ping) is sent while more than this many bytes wait unsent in the
   * transport (`bufferedAmount`), the peer is taken not to read: the message is dropped and
   * the connection fails with 1013 ({@link WebSocketBufferFullError}). A positive integer, or
   * `Infinity` for no limit. The check comes before the write, so one message larger than the
   * limit still goes out whole.
   * @defaultValue {@link DEFAULT_MAX_BUFFERED_AMOUNT} (1 MiB)
   */
  maxBufferedAmount?: number;
  /**
   * Stop reading (frames included, mid-chunk) while the transport's write buffer is past its
   * high-water mark, and go on when it drains. It bounds what a peer that writes without
   * reading can make this side answer (pongs to a ping flood, an echo). A server does it; a
   * client does not by default, since two peers that both did could wait on each other.
   * @defaultValue true for a server, false for a client
   */
  pauseReadsWhenFull?: boolean;
  /** The subprotocol the handshake chose, kept for the application. */
  protocol?: string | null;
}

/** One received message. */
export interface WebSocketMessage {
  /** A text message's string, or a binary message's bytes. */
  readonly data: string | Uint8Array;
  /** Whether it was a binary message. */
  readonly isBinary: boolean;
}

/** How a WebSocket connection ended. */
export interface WebSocketCloseInfo {
  /** The close code: the peer's (1005 when its close frame had none), the one this side failed with, or 1006. */
  readonly code: number;
  /** The reason that came with the code. */
  readonly reason: string;
  /** True when close frames went both ways before the TCP connection closed. */
  readonly wasClean: boolean;
}

/** The life of the connection, as in the browser API. */
export type WebSocketReadyState = "connecting" | "open" | "closing" | "closed";

interface PendingRead {
  resolve(message: WebSocketMessage): void;
  reject(error: Error): void;
}

/**
 * A WebSocket connection, attached to a transport once the opening handshake is done (the
 * first byte it reads is a frame). Subclass it and override the events, or use the async face:
 *
 * - **Events**: `onOpen`, `onMessage(data, isBinary)`, `onPing`, `onPong`,
 *   `onClose(code, reason, wasClean)`, `onDrain`. An event handler that throws fails the
 *   connection with 1011 ({@link WebSocketHandlerError}).
 * - **Sending**: `send(data)` (a string is a text message, bytes a binary one), `ping(data)`,
 *   `close(code, reason)`. Pings are answered with pongs automatically.
 * - **Async**: when `onMessage` is not overridden, messages queue for `readMessage()` (or
 *   `for await`), which rejects with {@link WebSocketClosedError} once the connection is closed
 *   and the queue is empty. The queue is bounded by `maxQueuedMessages`: past it, reading pauses.
 * - **Backpressure**: `bufferedAmount`, `writable`, `drained()`, `onDrain()`; the protocol
 *   registers a push producer on its transport to hear when the write buffer passes its
 *   high-water mark and when it drains. A server stops reading meanwhile
 *   (`pauseReadsWhenFull`), so a peer that sends without reading (a ping flood) is bounded; a
 *   message sent while more than `maxBufferedAmount` waits unsent fails the connection with
 *   1013 (a peer that does not read what it is sent).
 * - **Closing**: a received close frame is answered with the same code (and reason), then the
 *   server closes the TCP connection (the client waits `closeTimeoutMs` for it to). A close this
 *   side starts waits `closeTimeoutMs` for the reply. A protocol error sends its close code
 *   (1002, 1007, 1009, 1011, 1013) and closes. `onClose` runs once, when the TCP connection is gone.
 *
 * @example
 * ```ts
 * class Echo extends WebSocketProtocol {
 *   override onMessage(data: string | Uint8Array): void {
 *     this.send(data);
 *   }
 * }
 * const ws = new Echo({ role: "server", clock: reactor });
 * ```
 */
export class WebSocketProtocol extends Protocol {
  /** The connection's state. */
  readyState: WebSocketReadyState = "connecting";
  /** Which side this is. */
  readonly role: "server" | "client";
  /** The subprotocol the handshake chose, or null. */
  readonly protocol: string | null;
  /** The negotiated permessage-deflate parameters, or null. */
  readonly perMessageDeflate: PerMessageDeflateParams | null;
  /**
   * The error that failed the connection, or null: a `WebSocketProtocolError` from the parser
   * or a handler, or a `TimeoutError` when a pong or the closing handshake did not come in time.
   */
  failure: Error | null = null;

  readonly #clock: Clock;
  readonly #options: WebSocketProtocolOptions;
  readonly #pingIntervalMs: number;
  readonly #pingTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #maxQueued: number;
  readonly #maxBufferedAmount: number;
  readonly #pauseReadsWhenFull: boolean;
  #parser: FrameParser | null = null;
  #writer: FrameWriter | null = null;

  #closeSent = false;
  #closeReceived: { code: number; reason: string } | null = null;
  #closeInfo: WebSocketCloseInfo | null = null;
  #closeWaiters: ((info: WebSocketCloseInfo) => void)[] = [];

  #pingTimer: DelayedCall | null = null;
  #pongTimer: DelayedCall | null = null;
  #closeTimer: DelayedCall | null = null;

  #queue: WebSocketMessage[] = [];
  #queueHead = 0;
  #pendingRead: PendingRead | null = null;
  #hold = 0;

  #producerRegistered = false;
  #writePaused = false;
  #checkEverySend = true;
  #drainWaiters: { resolve(): void; reject(error: Error): void }[] = [];

  /**
   * @param options - see {@link WebSocketProtocolOptions}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for an option out of bounds, or a
   *   client without `random`.
   */
  constructor(options: WebSocketProtocolOptions) {
    super();
    if (options.role !== "server" && options.role !== "client") throw new InvalidOptionError("role", `must be "server" or "client", got ${String(options.role)}`);
    if (options.role === "client" && options.random === undefined) throw new InvalidOptionError("random", "a client needs a random source for its masking keys");
    const nonNegative = (name: string, v: number | undefined, dflt: number): number => {
      const value = v ?? dflt;
      if (!Number.isFinite(value) || value < 0) throw new InvalidOptionError(name, `must be a non-negative number, got ${value}`);
      return value;
    };
    this.#pingIntervalMs = nonNegative("pingIntervalMs", options.pingIntervalMs, DEFAULT_PING_INTERVAL_MS);
    this.#pingTimeoutMs = nonNegative("pingTimeoutMs", options.pingTimeoutMs, DEFAULT_PING_TIMEOUT_MS);
    this.#closeTimeoutMs = nonNegative("closeTimeoutMs", options.closeTimeoutMs, DEFAULT_CLOSE_TIMEOUT_MS);
    const maxQueued = options.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES;
    if (!Number.isInteger(maxQueued) || maxQueued < 1) throw new InvalidOptionError("maxQueuedMessages", `must be a positive integer, got ${maxQueued}`);
    this.#maxQueued = maxQueued;
    const maxBuffered = options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT;
    if (!(maxBuffered === Infinity || (Number.isSafeInteger(maxBuffered) && maxBuffered >= 1))) {
      throw new InvalidOptionError("maxBufferedAmount", `must be a positive integer or Infinity, got ${maxBuffered}`);
    }
    this.#maxBufferedAmount = maxBuffered;
    this.#pauseReadsWhenFull = options.pauseReadsWhenFull ?? options.role === "server";
    this.role = options.role;
    this.protocol = options.protocol ?? null;
    this.perMessageDeflate = options.perMessageDeflate ?? null;
    this.#clock = options.clock;
    this.#options = options;
    // Built here so that bad options fail at construction.
    this.#build();
  }

  // -------------------------------------------------------------------------------------------
  // Events: override these.

  /** The connection is open: messages may be sent. */
  onOpen(): void {}

  /**
   * A message arrived. The default queues it for {@link readMessage}; override it to take
   * messages as events instead.
   *
   * @param data - a text message's string, or a binary message's bytes.
   * @param isBinary - whether it was a binary message.
   */
  onMessage(data: string | Uint8Array, isBinary: boolean): void {
    this.#enqueue({ data, isBinary });
  }

  /** A ping arrived (it has already been answered). @param _data - its application data. */
  onPing(_data: Uint8Array): void {}

  /** A pong arrived. @param _data - its application data. */
  onPong(_data: Uint8Array): void {}

  /**
   * The connection is closed, TCP included. Runs once.
   *
   * @param _code - the close code (see {@link WebSocketCloseInfo.code}).
   * @param _reason - the close reason.
   * @param _wasClean - whether the closing handshake completed.
   */
  onClose(_code: number, _reason: string, _wasClean: boolean): void {}

  /** The transport's write buffer drained below its low-water mark after having filled up. */
  onDrain(): void {}

  // -------------------------------------------------------------------------------------------
  // Sending

  /**
   * Sends a message: a string as text, bytes as binary. When more than `maxBufferedAmount`
   * bytes already wait unsent, the message is dropped and the connection fails with 1013
   * instead (`failure` is then a {@link WebSocketBufferFullError}; `onClose` follows).
   *
   * @param data - the message.
   * @throws WebSocketClosedError (`WL_ERR_WS_CLOSED`) when the connection is not open (closing
   *   or closed).
   */
  send(data: string | Uint8Array): void {
    this.#messageWriter()?.sendMessage(data);
  }

  /**
   * Sends a message framed once with `FrameWriter.prepare` (server side), to many connections;
   * `maxBufferedAmount` applies as in `send`.
   *
   * @param message - the prepared message.
   * @throws WebSocketClosedError (`WL_ERR_WS_CLOSED`) when the connection is not open.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) on a client.
   */
  sendPrepared(message: PreparedMessage): void {
    this.#messageWriter()?.sendPrepared(message);
  }

  /**
   * Sends a ping; `maxBufferedAmount` applies as in `send`.
   *
   * @param data - application data, at most 125 bytes.
   * @throws WebSocketClosedError (`WL_ERR_WS_CLOSED`) when the connection is not open.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `data` is too long.
   */
  ping(data: string | Uint8Array = new Uint8Array(0)): void {
    this.#messageWriter()?.ping(data);
  }

  /**
   * Starts the closing handshake: sends a close frame and waits `closeTimeoutMs` for the
   * peer's. Does nothing when closing already started.
   *
   * @param code - the close code, 1000 to 1003, 1007 to 1014 or 3000 to 4999.
   * @param reason - the reason, at most 123 UTF-8 bytes.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a code or reason that may not be sent.
   */
  close(code: number = CloseCode.NORMAL, reason = ""): void {
    closePayload(code, reason);
    if (this.#closeSent || this.readyState !== "open") return;
    this.#sendClose(code, reason);
    this.#stopKeepalive();
    this.#cancelCloseTimer();
    this.#closeTimer = this.#clock.callLater(this.#closeTimeoutMs, () => {
      this.#closeTimer = null;
      this.failure ??= new TimeoutError(this.#closeTimeoutMs, `no close frame within ${this.#closeTimeoutMs} ms`);
      this.transport.abortConnection();
    });
  }

  /** Its server is shutting down: starts the closing handshake with 1001 (Going Away). */
  override goingAway(): void {
    this.close(CloseCode.GOING_AWAY, "server shutting down");
  }

  // -------------------------------------------------------------------------------------------
  // The async face

  /**
   * The next message (only while `onMessage` is not overridden).
   *
   * @returns a Promise of the message.
   * @throws (rejects) WebSocketClosedError (`WL_ERR_WS_CLOSED`) when the connection is closed
   *   and no message is left; ReadPendingError (`WL_ERR_READ_PENDING`) when a read is pending.
   */
  readMessage(): Promise<WebSocketMessage> {
    if (this.#pendingRead !== null) return Promise.reject(new ReadPendingError());
    const next = this.#dequeue();
    if (next !== null) return Promise.resolve(next);
    if (this.#closeInfo !== null) return Promise.reject(this.#closedError());
    return new Promise<WebSocketMessage>((resolve, reject) => {
      this.#pendingRead = { resolve, reject };
    });
  }

  /** Iterates over messages until the connection closes (then the loop ends). */
  async *[Symbol.asyncIterator](): AsyncIterator<WebSocketMessage> {
    for (;;) {
      let message: WebSocketMessage;
      try {
        message = await this.readMessage();
      } catch (error) {
        if (error instanceof WebSocketClosedError) return;
        throw error;
      }
      yield message;
    }
  }

  /**
   * @returns a Promise that resolves (never rejects) once the connection is closed, with how.
   */
  whenClosed(): Promise<WebSocketCloseInfo> {
    if (this.#closeInfo !== null) return Promise.resolve(this.#closeInfo);
    return new Promise((resolve) => {
      this.#closeWaiters.push(resolve);
    });
  }

  /** Bytes written to the transport and not yet sent. */
  get bufferedAmount(): number {
    return this.connected ? this.transport.writeBufferSize : 0;
  }

  /** True while reading is paused: the queue for `readMessage()` or the write buffer is full, or a subclass paused it. */
  get readingPaused(): boolean {
    return this.#hold !== 0;
  }

  /** True while open and the transport's write buffer is under its high-water mark. */
  get writable(): boolean {
    return this.readyState === "open" && !this.#writePaused;
  }

  /**
   * @returns a Promise that resolves once the transport's write buffer is under its
   *   high-water mark (when it already is, one shared resolved promise).
   * @throws (rejects) WebSocketClosedError (`WL_ERR_WS_CLOSED`) when the connection closes first.
   */
  drained(): Promise<void> {
    if (this.#closeInfo !== null) return Promise.reject(this.#closedError());
    if (!this.#writePaused) return RESOLVED;
    return new Promise<void>((resolve, reject) => {
      this.#drainWaiters.push({ resolve, reject });
    });
  }

  /**
   * Stops reading from the transport until {@link resumeReading}, for subclasses that queue
   * messages themselves; frames already received are still parsed and delivered.
   */
  protected pauseReading(): void {
    this.#holdReading(HOLD_APP);
  }

  /** Undoes {@link pauseReading} (reading stays paused while another reason holds it). */
  protected resumeReading(): void {
    this.#releaseReading(HOLD_APP);
  }

  // -------------------------------------------------------------------------------------------
  // Protocol

  override connectionMade(): void {
    try {
      this.transport.registerProducer(this.#producer, true);
      this.#producerRegistered = true;
    } catch (error) {
      // Someone else owns the producer slot: no write backpressure signal.
      if (!(error instanceof ProducerRegisteredError)) throw error;
    }
    // Below the mark the producer is not paused, so the buffer is under maxBufferedAmount
    // unless that is smaller than the mark: then (or with no signal) every send looks.
    this.#checkEverySend = !this.#producerRegistered || this.#maxBufferedAmount < this.transport.highWaterMark;
    this.readyState = "open";
    this.#scheduleKeepalive();
    try {
      this.onOpen();
    } catch (error) {
      this.#fail(new WebSocketHandlerError("onOpen", error));
    }
  }

  override dataReceived(data: Uint8Array): void {
    this.#parser?.feed(data);
  }

  override connectionLost(reason: Error): void {
    if (this.readyState === "closed") return;
    // Set here too: a handshake protocol that hands its transport over stays the transport's protocol.
    this.connected = false;
    this.readyState = "closed";
    this.#stopKeepalive();
    this.#cancelCloseTimer();
    if (this.#producerRegistered) {
      this.#producerRegistered = false;
      this.transport.unregisterProducer();
    }
    const received = this.#closeReceived;
    let info: WebSocketCloseInfo;
    if (received !== null) {
      info = { code: received.code, reason: received.reason, wasClean: this.#closeSent };
    } else if (this.failure instanceof WebSocketProtocolError) {
      info = { code: this.failure.closeCode, reason: this.failure.reason, wasClean: false };
    } else {
      info = { code: CloseCode.ABNORMAL, reason: "", wasClean: false };
      if (this.failure === null && !(reason instanceof ConnectionDone)) this.failure = reason;
    }
    this.#closeInfo = info;
    const read = this.#pendingRead;
    this.#pendingRead = null;
    read?.reject(this.#closedError());
    const drains = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const d of drains) d.reject(this.#closedError());
    const waiters = this.#closeWaiters;
    this.#closeWaiters = [];
    for (const w of waiters) w(info);
    this.onClose(info.code, info.reason, info.wasClean);
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  readonly #producer: PushProducer = {
    pauseProducing: () => {
      this.#writePaused = true;
      if (this.#pauseReadsWhenFull) this.#holdReading(HOLD_WRITE);
    },
    resumeProducing: () => {
      if (!this.#writePaused) return;
      this.#writePaused = false;
      const drains = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const d of drains) d.resolve();
      if (this.readyState === "open") {
        try {
          this.onDrain();
        } catch (error) {
          this.#fail(new WebSocketHandlerError("onDrain", error));
        }
      }
      // Unless onDrain filled the buffer again, frames held while it was full are parsed now.
      if (!this.#writePaused) this.#releaseReading(HOLD_WRITE);
    },
    stopProducing: () => {},
  };

  #holdReading(reason: number): void {
    const before = this.#hold;
    this.#hold = before | reason;
    if ((reason & HOLD_PARSER) !== 0) this.#parser?.pause();
    if (before === 0 && this.readyState !== "closed") this.transport.pauseProducing();
  }

  #releaseReading(reason: number): void {
    const before = this.#hold;
    if ((before & reason) === 0) return;
    const after = before & ~reason;
    this.#hold = after;
    if (after === 0 && this.readyState !== "closed") this.transport.resumeProducing();
    if ((after & HOLD_PARSER) === 0 && (before & HOLD_PARSER) !== 0) this.#parser?.resume();
  }

  #build(): void {
    const o = this.#options;
    const deflate = this.perMessageDeflate === null ? null : new PerMessageDeflate(this.role, this.perMessageDeflate, o.deflateOptions ?? {});
    this.#parser = new FrameParser(
      { role: this.role, perMessageDeflate: deflate, ...(o.maxPayload === undefined ? {} : { maxPayload: o.maxPayload }) },
      {
        onMessage: (data, isBinary) => {
          this.onMessage(data, isBinary);
        },
        onPing: (data) => {
          if (!this.#closeSent) this.#writer?.pong(data);
          this.onPing(data);
        },
        onPong: (data) => {
          if (this.#pongTimer !== null) {
            this.#pongTimer.cancel();
            this.#pongTimer = null;
          }
          this.onPong(data);
        },
        onClose: (code, reason) => {
          this.#closeFrameReceived(code, reason);
        },
        onError: (error) => {
          this.#fail(error);
        },
      },
    );
    this.#writer = new FrameWriter(
      // The transport is set later, by makeConnection; the writer only uses it once open.
      { write: (data) => this.transport.write(data), writeSequence: (data) => this.transport.writeSequence(data) },
      {
        role: this.role,
        perMessageDeflate: deflate,
        ...(o.random === undefined ? {} : { random: o.random }),
        ...(o.fragmentSize === undefined ? {} : { fragmentSize: o.fragmentSize }),
      },
    );
  }

  /** The writer for a message or a ping, or null when the backlog failed the connection. */
  #messageWriter(): FrameWriter | null {
    const writer = this.#openWriter();
    if (!this.#writePaused && !this.#checkEverySend) return writer;
    const buffered = this.transport.writeBufferSize;
    if (buffered <= this.#maxBufferedAmount) return writer;
    this.#fail(new WebSocketBufferFullError(buffered, this.#maxBufferedAmount));
    return null;
  }

  #openWriter(): FrameWriter {
    if (this.readyState !== "open" || this.#closeSent || this.#writer === null) {
      const info = this.#closeInfo;
      throw info === null ? new WebSocketClosedError(CloseCode.ABNORMAL, "", false, `WebSocket is ${this.readyState}: cannot send`) : this.#closedError();
    }
    return this.#writer;
  }

  #sendClose(code: number | undefined, reason: string): void {
    this.#closeSent = true;
    this.readyState = "closing";
    this.#writer?.close(code, code === undefined ? "" : reason);
  }

  #closeFrameReceived(code: number, reason: string): void {
    this.#closeReceived = { code, reason };
    this.#stopKeepalive();
    this.#cancelCloseTimer();
    if (!this.#closeSent) this.#sendClose(code === CloseCode.NO_STATUS ? undefined : code, reason);
    this.readyState = "closing";
    if (this.role === "server") {
      this.transport.loseConnection();
    } else {
      // RFC 6455 section 7.1.1: the server closes the TCP connection first; a client waits a while.
      this.#closeTimer = this.#clock.callLater(this.#closeTimeoutMs, () => {
        this.#closeTimer = null;
        this.transport.loseConnection();
      });
    }
  }

  /** Fails the connection: sends the error's close code (once) and closes TCP. */
  #fail(error: WebSocketProtocolError): void {
    this.failure ??= error;
    if (this.readyState === "closed") return;
    if (!this.#closeSent) this.#sendClose(error.closeCode, error.reason);
    this.#stopKeepalive();
    this.transport.loseConnection();
    if (this.#closeTimer === null) {
      // A peer that stops reading could hold the flush forever.
      this.#closeTimer = this.#clock.callLater(this.#closeTimeoutMs, () => {
        this.#closeTimer = null;
        this.transport.abortConnection();
      });
    }
  }

  #scheduleKeepalive(): void {
    if (this.#pingIntervalMs <= 0) return;
    this.#pingTimer = this.#clock.callLater(this.#pingIntervalMs, () => {
      this.#pingTimer = null;
      if (this.readyState !== "open" || this.#closeSent) return;
      this.#writer?.ping();
      this.#pongTimer ??= this.#clock.callLater(this.#pingTimeoutMs, () => {
        this.#pongTimer = null;
        this.failure ??= new TimeoutError(this.#pingTimeoutMs, `no pong within ${this.#pingTimeoutMs} ms`);
        this.transport.abortConnection();
      });
      this.#scheduleKeepalive();
    });
  }

  #stopKeepalive(): void {
    if (this.#pingTimer !== null) {
      this.#pingTimer.cancel();
      this.#pingTimer = null;
    }
    if (this.#pongTimer !== null) {
      this.#pongTimer.cancel();
      this.#pongTimer = null;
    }
  }

  #cancelCloseTimer(): void {
    if (this.#closeTimer !== null) {
      this.#closeTimer.cancel();
      this.#closeTimer = null;
    }
  }

  #enqueue(message: WebSocketMessage): void {
    const read = this.#pendingRead;
    if (read !== null) {
      this.#pendingRead = null;
      read.resolve(message);
      return;
    }
    this.#queue.push(message);
    if (this.#queue.length - this.#queueHead >= this.#maxQueued) this.#holdReading(HOLD_QUEUE);
  }

  #dequeue(): WebSocketMessage | null {
    if (this.#queueHead >= this.#queue.length) return null;
    const message = this.#queue[this.#queueHead] ?? null;
    this.#queue[this.#queueHead++] = EMPTY_MESSAGE;
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    }
    if (this.#queue.length - this.#queueHead < this.#maxQueued) this.#releaseReading(HOLD_QUEUE);
    return message;
  }

  #closedError(): WebSocketClosedError {
    const info = this.#closeInfo;
    if (info === null) return new WebSocketClosedError(CloseCode.ABNORMAL);
    return new WebSocketClosedError(info.code, info.reason, info.wasClean);
  }
}

const EMPTY_MESSAGE: WebSocketMessage = { data: "", isBinary: false };
