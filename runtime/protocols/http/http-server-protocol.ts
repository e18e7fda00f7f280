/**
 * `HttpServerProtocol`: one HTTP/1.1 server connection: it feeds the bytes to a
 * `RequestParser`, calls the handler once per request with an `HttpRequest` and an
 * `HttpResponse`, answers pipelined requests in order, and enforces the timeouts on the
 * injected clock. Built by `HttpServerFactory`; see its documentation for the options.
 *
 * Decisions worth knowing (see also `README.md` next to this file):
 * - The handler is called as soon as a request's head is parsed; the body follows. While a
 *   response is unfinished after its request is complete, the parser and the transport are
 *   paused, so pipelined requests wait (unread) and are answered in order.
 * - Answered responses that the client does not read back up in the transport. Between two
 *   requests, once the transport has reported its buffer full and more than
 *   `maxPendingResponseBytes` wait unsent, the parser and the transport are paused until the
 *   transport drains: a client that pipelines requests without reading holds at most that
 *   much (plus one output batch) and one read of unparsed requests.
 * - `Expect: 100-continue`: `100 Continue` is sent when the handler starts reading the body,
 *   never before. If it answers without reading, the connection is closed after the response.
 * - A response that ends inside the dispatch of received bytes (any synchronous handler) is
 *   queued and leaves with the other responses of that read in one transport write.
 * - Timeouts, one lazily re-armed timer per connection: keep-alive idle (no byte of a next
 *   request; closes quietly; also applies before a connection's first request), headers (from
 *   the connection or the previous response to a complete head; 408 and close), body (between
 *   two body bytes while the server reads; 408 if nothing was sent, else abort).
 *
 * @module
 */

import type { HttpParseError} from "../../errors.js";
import { HandlerFailedError, TimeoutError } from "../../errors.js";
import type { Address, PushProducer } from "../../protocol.js";
import { Protocol } from "../../protocol.js";
import type { DelayedCall } from "../../reactor.js";
import type { HttpHeaders } from "./http-headers.js";
import { HttpRequest } from "./http-request.js";
import type { HttpRequestOwner } from "./http-request.js";
import { HttpResponse } from "./http-response.js";
import type { HttpResponseChannel } from "./http-response.js";
import type { HttpServerFactory } from "./http-server-factory.js";
import { statusLine } from "./http-status.js";
import { RequestParser } from "./request-parser.js";
import type { RequestHead, RequestParserCallbacks } from "./request-parser.js";

// Connection phases: which timeout runs.
/** Between requests, no byte of the next one yet: the keep-alive timeout. */
const P_IDLE = 0;
/** Bytes of a head arrived, the head is not complete: the headers timeout. */
const P_HEAD = 1;
/** Reading a body: the body timeout, from the last body byte. */
const P_BODY = 2;
/** The handler has the floor (or the client waits for 100 Continue): no timeout. */
const P_WAIT = 3;
/** Closing or closed, or handed over to another protocol. */
const P_DONE = 4;

const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";

/** Output queued during one dispatch of received bytes is written once it reaches this size. */
const MAX_BATCH_BYTES = 16 * 1024;

/**
 * One server connection. Implements the channels its requests and responses talk to, and is
 * the push producer registered on its transport (so it hears when the client stops reading).
 */
export class HttpServerProtocol extends Protocol implements RequestParserCallbacks, HttpRequestOwner, HttpResponseChannel, PushProducer {
  /** True while the transport's buffer is over its high-water mark. */
  writePaused = false;

  private readonly server: HttpServerFactory;
  private readonly parser: RequestParser;
  private phase = P_IDLE;
  private request: HttpRequest | null = null;
  private response: HttpResponse | null = null;
  private requestComplete = false;
  private continueSent = false;
  private readPaused = false;
  private drainWait = false;
  private peerEnded = false;
  /** Closed for writing during the server's shutdown; waiting for the client's FIN. */
  private lingering = false;
  private upgraded: Protocol | null = null;

  // Output queued during one dispatch of received bytes, written at its end.
  private batching = false;
  private readonly out: (string | Uint8Array)[] = [];
  private outBytes = 0;

  // Timeouts: `base` is the connection's start or the previous response's end.
  private base = 0;
  private bodyStamp = 0;
  private timer: DelayedCall | null = null;
  private readonly onTimer = (): void => {
    this.timerFired();
  };

  /** @param server - the factory holding the handler, options and shared caches. */
  constructor(server: HttpServerFactory) {
    super();
    this.server = server;
    this.factory = server;
    this.parser = new RequestParser(this, server.parserOptions);
  }

  /**
   * Bytes of responses not yet sent: the transport's write buffer plus output queued during the
   * current dispatch. What `maxPendingResponseBytes` bounds between requests.
   */
  get pendingResponseBytes(): number {
    return this.connected ? this.transport.writeBufferSize + this.outBytes : 0;
  }

  /** True while the next request waits for the transport to drain (see `maxPendingResponseBytes`). */
  get waitingForDrain(): boolean {
    return this.drainWait;
  }

  /** Bytes received and not parsed yet: pipelined requests held while the server cannot take them. */
  get unparsedBytes(): number {
    return this.parser.bufferedBytes;
  }

  // -- Protocol ---------------------------------------------------------------------------------

  override connectionMade(): void {
    if (this.server.shuttingDown) {
      // The server no longer serves: no request starts on this connection.
      this.phase = P_DONE;
      this.transport.loseConnection();
      return;
    }
    this.server.connectionOpened(this);
    this.transport.registerProducer(this, true);
    this.base = this.server.clock.now();
    this.schedule();
  }

  override dataReceived(data: Uint8Array): void {
    const upgraded = this.upgraded;
    if (upgraded !== null) {
      upgraded.dataReceived(data);
      return;
    }
    if (this.phase === P_DONE) return;
    if (this.phase === P_IDLE) {
      this.phase = P_HEAD;
      if (this.server.headersTimeout < this.server.keepAliveTimeout) this.schedule();
    }
    if (this.batching) {
      this.parser.execute(data);
      return;
    }
    this.batching = true;
    try {
      this.parser.execute(data);
    } finally {
      this.batching = false;
    }
    if (this.out.length !== 0) this.flush();
  }

  /** The client half-closed: answer what was asked, then close. */
  override readConnectionLost(): void {
    const upgraded = this.upgraded;
    if (upgraded !== null) {
      if (upgraded.readConnectionLost !== undefined) upgraded.readConnectionLost();
      else this.transport.loseConnection();
      return;
    }
    if (this.phase === P_DONE) {
      // The end of a lingering close: the client has closed its side too.
      if (this.lingering) this.transport.loseConnection();
      return;
    }
    this.peerEnded = true;
    this.parser.finish();
    if (this.phase !== P_DONE && this.request === null && this.parser.bufferedBytes === 0) this.close();
  }

  override connectionLost(reason: Error): void {
    this.server.connectionClosed(this);
    const upgraded = this.upgraded;
    if (upgraded !== null) {
      upgraded.connected = false;
      upgraded.connectionLost(reason);
      return;
    }
    this.phase = P_DONE;
    this.cancelTimer();
    this.out.length = 0;
    this.outBytes = 0;
    const request = this.request;
    if (request !== null && !request.complete) request.receiveError(reason);
    const response = this.response;
    if (response !== null) response.abandon(reason);
  }

  /**
   * @internal The server shuts down (`server.closing` is set): an idle connection, or one with
   * only part of a next request, closes now (that request never started); one with a request in
   * flight closes after its response; an upgraded one hears `goingAway()`.
   */
  shutDown(): void {
    const upgraded = this.upgraded;
    if (upgraded !== null) {
      try {
        upgraded.goingAway?.();
      } catch (error) {
        this.server.reportError(new HandlerFailedError("goingAway", error));
      }
      return;
    }
    if (this.phase === P_DONE || this.request !== null) return;
    this.close();
  }

  // -- PushProducer (the transport tells us about its buffer) ------------------------------------

  pauseProducing(): void {
    this.writePaused = true;
    this.response?.producer?.pauseProducing();
  }

  resumeProducing(): void {
    this.writePaused = false;
    if (this.drainWait) {
      this.drainWait = false;
      this.startNextRequest();
      return;
    }
    const response = this.response;
    if (response === null) return;
    response.producer?.resumeProducing();
    response.fireDrain();
  }

  stopProducing(): void {
    // connectionLost follows and stops the handler's producer with the reason.
  }

  // -- RequestParserCallbacks ---------------------------------------------------------------------

  onRequestHead(head: RequestHead): void {
    if (this.phase === P_DONE) return;
    const request = new HttpRequest(head, this);
    const response = new HttpResponse(request, this);
    this.request = request;
    this.response = response;
    this.requestComplete = false;
    this.continueSent = false;
    if (head.bodyKind === "none" || head.expectContinue) {
      this.phase = P_WAIT;
    } else {
      this.startBodyTimer();
    }
    this.callHandler(request, response);
  }

  onBody(chunk: Uint8Array): void {
    const request = this.request;
    if (request === null) return;
    if (this.phase === P_BODY && this.server.bodyTimeout > 0) this.bodyStamp = this.server.clock.now();
    // Answered already and nobody reads: drop the rest of the body rather than hold it.
    if (!request.hasReader && this.response?.inProgress === false) return;
    request.receiveBody(chunk);
  }

  onRequestComplete(trailers: HttpHeaders): void {
    const request = this.request;
    const response = this.response;
    if (request === null || response === null || this.phase === P_DONE) return;
    this.requestComplete = true;
    request.receiveEnd(trailers);
    if (this.phase === P_DONE) return;
    if (!response.inProgress) {
      this.nextRequest();
    } else {
      // The handler still has the floor: hold the next requests, unread.
      this.phase = P_WAIT;
      this.parser.pause();
      this.pauseReading();
    }
  }

  onError(error: HttpParseError): void {
    if (this.phase === P_DONE) return;
    const request = this.request;
    const response = this.response;
    if (request !== null && !request.complete) request.receiveError(error);
    if (response === null || !response.headersSent) {
      response?.abandon(error);
      this.sendError(error.status);
    } else if (response.inProgress) {
      this.abortWith(response, error);
    } else {
      // The response went out already; the rest of its request is garbage.
      this.close();
    }
  }

  // -- HttpRequestOwner ---------------------------------------------------------------------------

  bodyWanted(request: HttpRequest): void {
    if (request !== this.request || this.phase === P_DONE) return;
    if (request.expectContinue && !this.continueSent && this.response?.headersSent === false) {
      this.continueSent = true;
      this.send(CONTINUE);
      if (!request.bodyPaused) this.startBodyTimer();
    }
  }

  pauseBody(request: HttpRequest): void {
    if (request !== this.request || this.phase === P_DONE || this.requestComplete) return;
    this.phase = P_WAIT;
    this.parser.pause();
    this.pauseReading();
  }

  resumeBody(request: HttpRequest): void {
    if (request !== this.request || this.phase === P_DONE || this.requestComplete) return;
    if (request.expectContinue && !this.continueSent) return;
    this.startBodyTimer();
    this.resumeParsing();
  }

  peerAddress(): Address {
    return this.transport.getPeer();
  }

  // -- HttpResponseChannel ------------------------------------------------------------------------

  send(a: string | Uint8Array, b?: string | Uint8Array, c?: string | Uint8Array): void {
    if (this.phase === P_DONE && this.upgraded === null && this.transport.disconnecting) return;
    if (!this.batching) {
      if (b === undefined) this.transport.write(a);
      else this.transport.writeSequence(c === undefined ? [a, b] : [a, b, c]);
      return;
    }
    const out = this.out;
    const n = out.length;
    const last = n === 0 ? undefined : out[n - 1];
    if (typeof a === "string" && typeof last === "string") out[n - 1] = last + a;
    else out.push(a);
    let bytes = a.length;
    if (b !== undefined) {
      out.push(b);
      bytes += b.length;
    }
    if (c !== undefined) {
      out.push(c);
      bytes += c.length;
    }
    // Past this, batching saves nothing, and the transport must see the bytes to apply
    // backpressure (it pauses us, synchronously, on the write that crosses its mark).
    if ((this.outBytes += bytes) >= MAX_BATCH_BYTES) this.flush();
  }

  dateLine(): string {
    return this.server.dateCache.line();
  }

  keepAliveFor(response: HttpResponse): boolean {
    const request = response.request;
    if (!request.keepAlive || this.peerEnded || this.server.closing) return false;
    // The client waits for 100 Continue that will not come: it may never send the body.
    if (request.expectContinue && !this.continueSent && !request.complete) return false;
    return true;
  }

  responseDone(response: HttpResponse): void {
    if (response !== this.response || this.phase === P_DONE) return;
    if (response.closeAfter) {
      this.close();
      return;
    }
    if (!this.requestComplete) {
      // Answered before the body arrived: read the rest of it and drop it. (Without a body,
      // the request completes as soon as the handler returns.)
      if (response.request.bodyKind !== "none") {
        this.startBodyTimer();
        this.resumeParsing();
      }
      return;
    }
    this.nextRequest();
  }

  switchProtocols(response: HttpResponse, protocol: Protocol, head: string): void {
    if (response !== this.response || this.phase === P_DONE) return;
    this.send(head);
    this.flush();
    this.phase = P_DONE;
    this.cancelTimer();
    const rest = this.parser.detach();
    this.transport.unregisterProducer();
    if (this.readPaused) {
      this.readPaused = false;
      this.transport.resumeProducing();
    }
    this.upgraded = protocol;
    this.request = null;
    this.response = null;
    protocol.makeConnection(this.transport);
    if (rest.length > 0) protocol.dataReceived(rest);
  }

  abort(response: HttpResponse, error: Error): void {
    this.abortWith(response, error);
  }

  // -------------------------------------------------------------------------------------------

  private callHandler(request: HttpRequest, response: HttpResponse): void {
    let result: unknown;
    try {
      result = this.server.handler(request, response);
    } catch (error) {
      this.handlerFailed(response, error);
      return;
    }
    if (result !== undefined && result !== null && typeof (result as PromiseLike<unknown>).then === "function") {
      void (result as PromiseLike<unknown>).then(undefined, (error: unknown) => {
        this.handlerFailed(response, error);
      });
    }
  }

  private handlerFailed(response: HttpResponse, error: unknown): void {
    this.server.reportError(new HandlerFailedError("HTTP handler", error));
    if (response !== this.response || this.phase === P_DONE) return;
    if (!response.headersSent) {
      response.abandon(error instanceof Error ? error : new Error(String(error)));
      this.sendError(500);
    } else if (response.inProgress) {
      this.abortWith(response, error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** The request and its response are both done: go on with the next request, if any. */
  private nextRequest(): void {
    this.request = null;
    this.response = null;
    this.requestComplete = false;
    if (this.server.closing) {
      this.close();
      return;
    }
    if (this.writePaused && this.pendingResponseBytes > this.server.maxPendingResponseBytes) {
      // The client does not read what it asked for: take no new request until it does. No
      // timeout runs meanwhile; the wait is for the client, and what it costs is bounded.
      this.drainWait = true;
      this.phase = P_WAIT;
      this.parser.pause();
      this.pauseReading();
      return;
    }
    this.startNextRequest();
  }

  /** Parses the next request, if one is buffered, or waits for it. */
  private startNextRequest(): void {
    if (this.phase === P_DONE) return;
    this.base = this.server.clock.now();
    this.phase = this.parser.bufferedBytes > 0 || this.parser.stashedBytes > 0 ? P_HEAD : P_IDLE;
    this.schedule();
    if (this.parser.isPaused) this.resumeParsing();
    if (this.peerEnded && this.request === null && this.phase !== P_DONE && this.parser.bufferedBytes === 0) {
      this.close();
    }
  }

  private resumeParsing(): void {
    if (this.readPaused) {
      this.readPaused = false;
      this.transport.resumeProducing();
    }
    if (!this.parser.isPaused) return;
    if (this.batching) {
      this.parser.resume();
      return;
    }
    this.batching = true;
    try {
      this.parser.resume();
    } finally {
      this.batching = false;
    }
    if (this.out.length !== 0) this.flush();
  }

  private pauseReading(): void {
    if (this.readPaused) return;
    this.readPaused = true;
    this.transport.pauseProducing();
  }

  private flush(): void {
    const out = this.out;
    const n = out.length;
    if (n === 0) return;
    this.outBytes = 0;
    if (n === 1) {
      const data = out[0]!;
      out.length = 0;
      this.transport.write(data);
    } else {
      const pieces = out.slice();
      out.length = 0;
      this.transport.writeSequence(pieces);
    }
    if (!this.writePaused) this.response?.fireDrain();
  }

  /**
   * Closes after flushing; nothing more is parsed. While the server shuts down, the close
   * lingers: FIN now, then reading (and dropping) goes on until the client closes too, so a
   * request it sent meanwhile does not meet a reset; the shutdown deadline bounds the wait.
   */
  private close(): void {
    if (this.phase === P_DONE && (this.transport.disconnecting || this.lingering)) return;
    this.phase = P_DONE;
    this.cancelTimer();
    this.parser.pause();
    this.flush();
    if (this.server.shuttingDown && !this.peerEnded) {
      this.lingering = true;
      this.transport.loseWriteConnection();
      if (this.readPaused) {
        this.readPaused = false;
        this.transport.resumeProducing();
      }
      return;
    }
    this.transport.loseConnection();
  }

  /** A minimal error response with `Connection: close`, then close. */
  private sendError(status: number): void {
    this.send(`${statusLine(status)}${this.dateLine()}Content-Length: 0\r\nConnection: close\r\n\r\n`);
    this.close();
  }

  private abortWith(response: HttpResponse, error: Error): void {
    this.phase = P_DONE;
    this.cancelTimer();
    this.parser.pause();
    this.out.length = 0;
    this.outBytes = 0;
    response.abandon(error);
    this.transport.abortConnection();
  }

  // -- Timeouts -------------------------------------------------------------------------------------

  private startBodyTimer(): void {
    this.phase = P_BODY;
    if (this.server.bodyTimeout <= 0) return;
    this.bodyStamp = this.server.clock.now();
    this.schedule();
  }

  private deadline(): number {
    const server = this.server;
    switch (this.phase) {
      case P_IDLE:
        return server.keepAliveTimeout > 0 ? this.base + server.keepAliveTimeout : Infinity;
      case P_HEAD:
        return server.headersTimeout > 0 ? this.base + server.headersTimeout : Infinity;
      case P_BODY:
        return server.bodyTimeout > 0 ? this.bodyStamp + server.bodyTimeout : Infinity;
      default:
        return Infinity;
    }
  }

  /**
   * Makes sure a timer fires no later than the current deadline. A timer due earlier is left
   * alone: when it fires it re-arms for what remains, so a busy connection touches its timer
   * about once per timeout period rather than once per request.
   */
  private schedule(): void {
    const deadline = this.deadline();
    if (deadline === Infinity) return;
    const timer = this.timer;
    if (timer !== null && timer.time <= deadline) return;
    const clock = this.server.clock;
    const delay = Math.max(0, deadline - clock.now());
    if (timer !== null) timer.reset(delay);
    else this.timer = clock.callLater(delay, this.onTimer);
  }

  private cancelTimer(): void {
    const timer = this.timer;
    this.timer = null;
    if (timer !== null && timer.active()) timer.cancel();
  }

  private timerFired(): void {
    this.timer = null;
    if (this.phase === P_DONE) return;
    const deadline = this.deadline();
    if (deadline === Infinity) return;
    const now = this.server.clock.now();
    if (now < deadline) {
      this.timer = this.server.clock.callLater(deadline - now, this.onTimer);
      return;
    }
    switch (this.phase) {
      case P_IDLE:
        this.close();
        return;
      case P_HEAD:
        this.sendError(408);
        return;
      case P_BODY: {
        const error = new TimeoutError(this.server.bodyTimeout, `no request body byte for ${this.server.bodyTimeout} ms`);
        this.request?.receiveError(error);
        const response = this.response;
        if (response === null || !response.headersSent) {
          response?.abandon(error);
          this.sendError(408);
        } else if (response.inProgress) {
          this.abortWith(response, error);
        } else {
          this.close();
        }
        return;
      }
      default:
        return;
    }
  }
}
