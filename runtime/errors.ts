/**
 * Every error wirelab raises. Each class has a stable `code` that programs may match on; the
 * message is for people and may change. The table of codes is in README.md ("Error codes").
 *
 * Errors that mirror an operating-system failure (a refused or reset connection, a broken pipe)
 * also carry the POSIX name in `errno`, so the fakes can fail exactly as real sockets do.
 */

/** Options accepted by every wirelab error constructor. */
export interface WirelabErrorOptions {
  /** The lower-level error that led to this one. */
  cause?: unknown;
}

/** The root of every error wirelab raises. */
export class WirelabError extends Error {
  /** A stable identifier, such as `WL_ERR_TIMEOUT`. */
  readonly code: string;

  constructor(code: string, message: string, options?: WirelabErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

// ---------------------------------------------------------------------------------------------
// Deferreds and timed calls

/** A Deferred was fired twice. */
export class AlreadyCalledError extends WirelabError {
  constructor(message = "Deferred has already been fired") {
    super("WL_ERR_ALREADY_CALLED", message);
  }
}

/** A Deferred was cancelled, and its canceller did not fire it with anything else. */
export class CancelledError extends WirelabError {
  constructor(message = "Deferred was cancelled", options?: WirelabErrorOptions) {
    super("WL_ERR_CANCELLED", message, options);
  }
}

/**
 * A canceller threw while a `DeferredList`, `gatherResults` or `race` was cancelling the
 * Deferreds it waits on. The other Deferreds are still cancelled; this error is reported as an
 * unhandled Deferred error, with the canceller's own error as `cause`.
 */
export class CancellerFailedError extends WirelabError {
  constructor(cause: unknown) {
    super("WL_ERR_CANCELLER_FAILED", `a canceller threw: ${describe(cause)}`, { cause });
  }
}

/** An operation did not finish within its time limit. */
export class TimeoutError extends WirelabError {
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, message = `timed out after ${timeoutMs} ms`) {
    super("WL_ERR_TIMEOUT", message);
    this.timeoutMs = timeoutMs;
  }
}

/** `cancel()`, `reset()` or `delay()` was called on a timed call that has already run. */
export class DelayedCallRanError extends WirelabError {
  constructor() {
    super("WL_ERR_DELAYED_CALL_RAN", "the delayed call has already run");
  }
}

/** `cancel()`, `reset()` or `delay()` was called on a timed call that was cancelled. */
export class DelayedCallCancelledError extends WirelabError {
  constructor() {
    super("WL_ERR_DELAYED_CALL_CANCELLED", "the delayed call was already cancelled");
  }
}

/** A Deferred failed and nothing handled the failure before it was garbage or was reported. */
export class UnhandledErrorInDeferred extends WirelabError {
  constructor(cause: unknown) {
    super("WL_ERR_UNHANDLED_DEFERRED", `Unhandled error in Deferred: ${describe(cause)}`, { cause });
  }
}

/** A function run by the reactor (a timed call, a trigger) threw; reported, never propagated. */
export class UnhandledReactorError extends WirelabError {
  constructor(where: string, cause: unknown) {
    super("WL_ERR_UNHANDLED_IN_REACTOR", `Unhandled error in ${where}: ${describe(cause)}`, { cause });
  }
}

/** The first error of a `DeferredList` or `gatherResults`; the original is in `cause`. */
export class FirstError extends WirelabError {
  /** The position, in the list given, of the Deferred that failed. */
  readonly index: number;

  constructor(cause: unknown, index: number) {
    super("WL_ERR_FIRST_ERROR", `Deferred #${index} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.index = index;
  }
}

/** Every Deferred given to `race` failed; their errors are in `errors`, in order. */
export class AllFailedError extends WirelabError {
  /** The errors, in the order of the Deferreds given. */
  readonly errors: readonly unknown[];

  constructor(errors: unknown[]) {
    super("WL_ERR_ALL_FAILED", `all ${errors.length} Deferreds failed`);
    this.errors = errors;
  }
}

/** `DeferredQueue.put` was called on a full queue. */
export class QueueOverflowError extends WirelabError {
  constructor(size: number) {
    super("WL_ERR_QUEUE_OVERFLOW", `queue is full (${size} items)`);
  }
}

/** `DeferredQueue.get` was called with the backlog of waiting getters full. */
export class QueueUnderflowError extends WirelabError {
  constructor(backlog: number) {
    super("WL_ERR_QUEUE_UNDERFLOW", `too many pending gets (${backlog})`);
  }
}

/** `release()` was called on a `DeferredLock` or `DeferredSemaphore` that nobody holds. */
export class NotHeldError extends WirelabError {
  constructor(message: string) {
    super("WL_ERR_NOT_HELD", message);
  }
}

// ---------------------------------------------------------------------------------------------
// Options, endpoints and the reactor's life

/** An option had a value outside its documented bounds; the message names the option. */
export class InvalidOptionError extends WirelabError {
  /** The name of the offending option. */
  readonly option: string;

  constructor(option: string, message: string) {
    super("WL_ERR_INVALID_OPTION", `invalid option ${option}: ${message}`);
    this.option = option;
  }
}

/** An endpoint description string could not be parsed. */
export class InvalidEndpointError extends WirelabError {
  constructor(description: string, message: string) {
    super("WL_ERR_INVALID_ENDPOINT", `invalid endpoint ${JSON.stringify(description)}: ${message}`);
  }
}

/** The reactor was asked to do something that needs it running, or not running. */
export class ReactorStateError extends WirelabError {
  constructor(message: string) {
    super("WL_ERR_REACTOR_STATE", message);
  }
}

/** A fake run loop hit its step bound: something keeps scheduling work without end. */
export class ReactorStalledError extends WirelabError {
  /** How many steps ran before the loop gave up. */
  readonly steps: number;

  constructor(steps: number, detail = "") {
    super(
      "WL_ERR_REACTOR_STALLED",
      `gave up after ${steps} steps: work is still pending${detail === "" ? "" : ` (${detail})`}`,
    );
    this.steps = steps;
  }
}

/** One use of real time or randomness by code under test, as {@link NondeterminismError} lists it. */
export interface NondeterminismViolation {
  /** What was used, such as `Math.random`, `new Date()` or `crypto.randomUUID`. */
  readonly api: string;
  /** The first stack frame of the caller. */
  readonly where: string;
  /** The caller's stack, from that frame on. */
  readonly stack: string;
  /** The virtual time it happened at, when a fake clock was running; null otherwise. */
  readonly time: number | null;
}

/** The most uses a {@link NondeterminismError} message names; the error's `violations` holds them all. */
const NAMED_VIOLATIONS = 5;

/**
 * Code under test on the fakes (a simulation run, a Clock's timed call, a Pump's delivery)
 * reached for real time or randomness (`Date.now`, `new Date()`, `performance.now`,
 * `process.hrtime`, `Math.random`, `crypto.randomInt`, `setTimeout`, ...), which would make the
 * run impossible to replay from its seed. The uses were let through and recorded; this error
 * fails the run at its end and lists them.
 */
export class NondeterminismError extends WirelabError {
  /** Every use recorded, in order. */
  readonly violations: readonly NondeterminismViolation[];
  /** Uses seen past the guard's record bound: counted, not recorded. */
  readonly omitted: number;
  /** The first use's API (as `violations[0].api`). */
  readonly api: string;
  /** The first use's caller (as `violations[0].where`). */
  readonly where: string;

  constructor(violations: readonly NondeterminismViolation[], omitted = 0) {
    const first = violations[0];
    const total = violations.length + omitted;
    const named = violations
      .slice(0, NAMED_VIOLATIONS)
      .map((v) => `${v.api} at ${v.where}${v.time === null ? "" : ` (virtual time ${v.time} ms)`}`)
      .join("; ");
    const rest = total > NAMED_VIOLATIONS ? `; ... and ${total - Math.min(NAMED_VIOLATIONS, violations.length)} more` : "";
    super(
      "WL_ERR_NONDETERMINISM",
      `real time or randomness was used by code under test ${total} time${total === 1 ? "" : "s"}: ${named}${rest}; use the reactor's clock and random() instead`,
    );
    this.violations = violations;
    this.omitted = omitted;
    this.api = first?.api ?? "";
    this.where = first?.where ?? "";
  }
}

/**
 * A test left work behind on a fake reactor (`assertClean`): pending timed calls, open
 * connections, listening ports, or unhandled Deferred errors. `leftovers` names each one.
 */
export class UncleanReactorError extends WirelabError {
  /** One readable line per kind of leftover, such as `1 listening port tcp:8080`. */
  readonly leftovers: readonly string[];

  constructor(what: string, leftovers: readonly string[]) {
    super("WL_ERR_UNCLEAN_REACTOR", `${what} was left unclean: ${leftovers.join("; ")}`);
    this.leftovers = leftovers;
  }
}

/** What a failed property over the fakes found, as {@link PropertyFailedError} carries it. */
export interface PropertyFailure {
  /** The property's name. */
  readonly property: string;
  /** fast-check's seed (with `path`, it reruns the failure through fast-check). */
  readonly seed: number;
  /** fast-check's counterexample path, or null when it stopped without one. */
  readonly path: string | null;
  /** Cases run, the failing one included. */
  readonly numRuns: number;
  /** Shrink steps that kept the case failing. */
  readonly numShrinks: number;
  /** The shrunk inputs, by name, or null when there is none. */
  readonly counterexample: Readonly<Record<string, unknown>> | null;
  /** The workload features the case had on (swarm testing), or null when all were. */
  readonly features: readonly string[] | null;
  /** Where the replay file was written, or null when none was. */
  readonly replayFile: string | null;
  /** The end of the shrunk case's trace, as printed in the report. */
  readonly traceExcerpt: readonly string[];
}

/**
 * A fast-check property over the fakes failed. The message is the report (seed, path, shrunk
 * inputs, trace, replay file); the fields hold the same as data, and `cause` the body's error.
 */
export class PropertyFailedError extends WirelabError implements PropertyFailure {
  readonly property: string;
  readonly seed: number;
  readonly path: string | null;
  readonly numRuns: number;
  readonly numShrinks: number;
  readonly counterexample: Readonly<Record<string, unknown>> | null;
  readonly features: readonly string[] | null;
  readonly replayFile: string | null;
  readonly traceExcerpt: readonly string[];

  constructor(report: string, failure: PropertyFailure, options?: WirelabErrorOptions) {
    super("WL_ERR_PROPERTY_FAILED", report, options);
    this.property = failure.property;
    this.seed = failure.seed;
    this.path = failure.path;
    this.numRuns = failure.numRuns;
    this.numShrinks = failure.numShrinks;
    this.counterexample = failure.counterexample;
    this.features = failure.features;
    this.replayFile = failure.replayFile;
    this.traceExcerpt = failure.traceExcerpt;
  }
}

/** Where a replayed run first did something else than the recorded one. */
export interface TraceDivergence {
  /** Which network, counting from 0 in the order the case made them. */
  readonly network: number;
  /** The index of the first differing trace line. */
  readonly index: number;
  /** The recorded line there, or null when the recorded trace ended before. */
  readonly recorded: string | null;
  /** The replayed line there, or null when the replayed trace ended before. */
  readonly replayed: string | null;
}

/**
 * A strict replay did not do what its replay file recorded: its trace hash differs. The error
 * says where the runs first diverged, when the file's trace lines show it.
 */
export class ReplayMismatchError extends WirelabError {
  /** The file's trace hash. */
  readonly expected: string | null;
  /** The replayed run's trace hash. */
  readonly actual: string | null;
  /** The first differing trace line, or null when the recorded lines do not show it. */
  readonly divergence: TraceDivergence | null;

  constructor(file: string, expected: string | null, actual: string | null, divergence: TraceDivergence | null = null) {
    const where =
      divergence === null
        ? "the recorded trace lines do not show where"
        : `first at network ${divergence.network + 1}, line ${divergence.index + 1}: recorded ${JSON.stringify(divergence.recorded)}, replayed ${JSON.stringify(divergence.replayed)}`;
    super("WL_ERR_REPLAY_MISMATCH", `replay of ${file} diverged: trace hash ${actual ?? "none"}, the file recorded ${expected ?? "none"}; ${where}`);
    this.expected = expected;
    this.actual = actual;
    this.divergence = divergence;
  }
}

// ---------------------------------------------------------------------------------------------
// Connections

/** The connection was closed cleanly (the normal `connectionLost` reason). */
export class ConnectionDone extends WirelabError {
  constructor(message = "Connection was closed cleanly.") {
    super("WL_ERR_CONNECTION_DONE", message);
  }
}

/** The connection was lost in a non-clean fashion. */
export class ConnectionLost extends WirelabError {
  constructor(message = "Connection to the other side was lost in a non-clean fashion.", options?: WirelabErrorOptions) {
    super("WL_ERR_CONNECTION_LOST", message, options);
  }
}

/** This side aborted the connection with `abortConnection()`. */
export class ConnectionAborted extends WirelabError {
  constructor(message = "Connection was aborted locally.") {
    super("WL_ERR_CONNECTION_ABORTED", message);
  }
}

/** A socket-level failure that carries a POSIX error name in `errno`. */
export class SocketError extends WirelabError {
  /** The POSIX error name, such as `ECONNREFUSED`. */
  readonly errno: string;

  constructor(code: string, errno: string, message: string, options?: WirelabErrorOptions) {
    super(code, message, options);
    this.errno = errno;
  }
}

/** Nothing listens at the address dialled (`ECONNREFUSED`). */
export class ConnectionRefusedError extends SocketError {
  constructor(message = "Connection was refused by other side.", options?: WirelabErrorOptions) {
    super("WL_ERR_CONNECTION_REFUSED", "ECONNREFUSED", message, options);
  }
}

/** The peer reset the connection (`ECONNRESET`). */
export class ConnectionResetError extends SocketError {
  constructor(message = "Connection was reset by the other side.", options?: WirelabErrorOptions) {
    super("WL_ERR_CONNECTION_RESET", "ECONNRESET", message, options);
  }
}

/** A write went to a connection the peer had closed (`EPIPE`). */
export class BrokenPipeError extends SocketError {
  constructor(message = "Write to a connection closed by the other side.", options?: WirelabErrorOptions) {
    super("WL_ERR_BROKEN_PIPE", "EPIPE", message, options);
  }
}

/** Connecting took longer than the endpoint's timeout (`ETIMEDOUT`). */
export class ConnectTimeoutError extends SocketError {
  constructor(message = "Connecting timed out.", options?: WirelabErrorOptions) {
    super("WL_ERR_CONNECT_TIMEOUT", "ETIMEDOUT", message, options);
  }
}

/** A host name could not be resolved (`ENOTFOUND`). */
export class DNSLookupError extends SocketError {
  constructor(message = "DNS lookup failed.", options?: WirelabErrorOptions) {
    super("WL_ERR_DNS_LOOKUP", "ENOTFOUND", message, options);
  }
}

/** The address to listen on is taken (`EADDRINUSE`) or otherwise cannot be bound. */
export class CannotListenError extends SocketError {
  constructor(errno: string, message: string, options?: WirelabErrorOptions) {
    super("WL_ERR_CANNOT_LISTEN", errno, message, options);
  }
}

/** Any other socket failure; `errno` says which. */
export class SystemSocketError extends SocketError {
  constructor(errno: string, message: string, options?: WirelabErrorOptions) {
    super("WL_ERR_SOCKET", errno, message, options);
  }
}

/** A second producer was registered on a transport that already has one. */
export class ProducerRegisteredError extends WirelabError {
  constructor() {
    super("WL_ERR_PRODUCER_REGISTERED", "Cannot register two producers on one transport");
  }
}

/**
 * A write left more than `maxWriteBufferSize` bytes buffered on a connection (its peer does not
 * read what this side writes): the transport aborted the connection, and this is the reason its
 * protocol's `connectionLost` gets. See `runtime/write-buffer.ts`.
 */
export class WriteBufferOverflowError extends WirelabError {
  declare readonly code: "WL_ERR_WRITE_BUFFER_OVERFLOW";
  /** Bytes buffered after the write that went past the limit. */
  readonly bufferedBytes: number;
  /** The `maxWriteBufferSize` in force. */
  readonly limit: number;

  constructor(bufferedBytes: number, limit: number) {
    super("WL_ERR_WRITE_BUFFER_OVERFLOW", `the write buffer reached ${bufferedBytes} bytes, past maxWriteBufferSize (${limit}): the peer does not read`);
    this.bufferedBytes = bufferedBytes;
    this.limit = limit;
  }
}

/** The connection factory refused the connection (`buildProtocol` returned null). */
export class ConnectionRefusedByFactoryError extends WirelabError {
  constructor() {
    super("WL_ERR_REFUSED_BY_FACTORY", "the factory refused to build a protocol for this connection");
  }
}

// ---------------------------------------------------------------------------------------------
// Framing

/** A line grew past `MAX_LENGTH` before its delimiter arrived. */
export class LineLengthExceededError extends WirelabError {
  constructor(maxLength: number) {
    super("WL_ERR_LINE_TOO_LONG", `line is longer than MAX_LENGTH (${maxLength} bytes)`);
  }
}

/** A length-prefixed string announced a length past `MAX_LENGTH`. */
export class LengthLimitExceededError extends WirelabError {
  constructor(length: number, maxLength: number) {
    super("WL_ERR_LENGTH_LIMIT", `announced length ${length} is over MAX_LENGTH (${maxLength} bytes)`);
  }
}

/** A string too long for the prefix size (or for `MAX_LENGTH`) was given to `sendString`. */
export class StringTooLongError extends WirelabError {
  constructor(length: number, limit: number) {
    super("WL_ERR_STRING_TOO_LONG", `cannot send a string of ${length} bytes: the limit is ${limit}`);
  }
}

/**
 * A framing protocol's event handler (`lineReceived`, `stringReceived`, ...) threw. The receiver
 * stops for good and aborts the connection; the thrown value is in `cause`.
 */
export class HandlerFailedError extends WirelabError {
  constructor(handler: string, cause: unknown) {
    super("WL_ERR_HANDLER_FAILED", `${handler} threw: ${describe(cause)}`, { cause });
  }
}

/** A netstring was malformed: a bad length, a leading zero, or a missing comma. */
export class NetstringParseError extends WirelabError {
  constructor(message: string) {
    super("WL_ERR_NETSTRING_PARSE", message);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

/**
 * An HTTP/1.1 request could not be parsed, or was framed ambiguously; `status` is the response
 * a server should send before closing (400, 501 or 505). The parser that raised it stops for good.
 */
export class HttpParseError extends WirelabError {
  /** The HTTP status code that answers this error. */
  readonly status: number;
  /** A stable, machine-readable reason, such as `duplicate-content-length`. */
  readonly reason: string;

  constructor(status: number, reason: string, message: string, code = "WL_ERR_HTTP_PARSE") {
    super(code, message);
    this.status = status;
    this.reason = reason;
  }
}

/** A request line was longer than its limit (status 414 URI Too Long). */
export class HttpUriTooLongError extends HttpParseError {
  constructor(limit: number) {
    super(414, "request-line-too-long", `request line is longer than ${limit} bytes`, "WL_ERR_HTTP_URI_TOO_LONG");
  }
}

/** A header (or trailer) section was too big or had too many fields (status 431). */
export class HttpHeadersTooLargeError extends HttpParseError {
  constructor(reason: "header-section-too-large" | "too-many-headers", limit: number) {
    super(
      431,
      reason,
      reason === "too-many-headers" ? `more than ${limit} header fields` : `header section is longer than ${limit} bytes`,
      "WL_ERR_HTTP_HEADERS_TOO_LARGE",
    );
  }
}

/** A request body was, or announced it would be, larger than its limit (status 413). */
export class HttpBodyTooLargeError extends HttpParseError {
  constructor(limit: number) {
    super(413, "body-too-large", `request body is larger than ${limit} bytes`, "WL_ERR_HTTP_BODY_TOO_LARGE");
  }
}

/**
 * A paused HTTP parser was handed more bytes than it may hold: the caller kept reading from a
 * peer it should have paused (status 503).
 */
export class HttpBufferOverflowError extends HttpParseError {
  constructor(limit: number) {
    super(503, "buffer-overflow", `more than ${limit} bytes arrived while the parser was paused`, "WL_ERR_HTTP_BUFFER_OVERFLOW");
  }
}

/**
 * A header field given to an HTTP response or request is not safe to send: its name is not a
 * token, or its value holds CR, LF or NUL (header injection, response splitting) or a character
 * that does not fit in one byte.
 */
export class HttpHeaderValueError extends WirelabError {
  /** The field name as given. */
  readonly field: string;

  constructor(field: string, message: string) {
    super("WL_ERR_HTTP_HEADER", `header ${JSON.stringify(field)}: ${message}`);
    this.field = field;
  }
}

/**
 * An HTTP response was used out of order: headers changed after they were sent, a body written
 * after `end()`, or more (or fewer) body bytes than its `Content-Length` announced.
 */
export class HttpResponseStateError extends WirelabError {
  constructor(message: string) {
    super("WL_ERR_HTTP_RESPONSE_STATE", message);
  }
}

/**
 * An HTTP response (seen by a client) could not be parsed, or the connection ended inside it;
 * `reason` is stable and machine-readable, such as `invalid-status-line` or `incomplete-response`.
 */
export class HttpResponseParseError extends WirelabError {
  /** A stable, machine-readable reason. */
  readonly reason: string;

  constructor(reason: string, message: string, code = "WL_ERR_HTTP_RESPONSE_PARSE") {
    super(code, message);
    this.reason = reason;
  }
}

/** An HTTP response's status line, header section or body was larger than the client's limit. */
export class HttpResponseTooLargeError extends HttpResponseParseError {
  /** The limit that was exceeded, in bytes (or fields, for `too-many-headers`). */
  readonly limit: number;

  constructor(reason: "status-line-too-long" | "header-section-too-large" | "too-many-headers" | "body-too-large", limit: number) {
    super(reason, `response ${reason.replace(/-/g, " ")} (limit ${limit})`, "WL_ERR_HTTP_RESPONSE_TOO_LARGE");
    this.limit = limit;
  }
}

// ---------------------------------------------------------------------------------------------
// WebSocket

/**
 * The peer broke RFC 6455 (or RFC 7692), or a limit was passed: the connection is failed with
 * the close code in `closeCode` (1002 protocol error unless a subclass says otherwise). The
 * parser that raised it stops for good.
 */
export class WebSocketProtocolError extends WirelabError {
  /** The close code sent to the peer: 1002, 1007, 1008, 1009, 1011 or 1013. */
  readonly closeCode: number;
  /** A stable, machine-readable reason, such as `unmasked-frame`; also the close frame's reason. */
  readonly reason: string;

  constructor(closeCode: number, reason: string, message: string, code = "WL_ERR_WS_PROTOCOL", options?: WirelabErrorOptions) {
    super(code, message, options);
    this.closeCode = closeCode;
    this.reason = reason;
  }
}

/** A text message or a close reason was not valid UTF-8 (close code 1007). */
export class WebSocketInvalidUtf8Error extends WebSocketProtocolError {
  constructor(where: "text-message" | "close-reason") {
    super(1007, `invalid-utf8-${where === "text-message" ? "text" : "reason"}`, `invalid UTF-8 in a ${where.replace("-", " ")}`, "WL_ERR_WS_INVALID_UTF8");
  }
}

/** A message was, or announced it would be, larger than `maxPayload` (close code 1009). */
export class WebSocketMessageTooBigError extends WebSocketProtocolError {
  /** The limit that was passed, in bytes. */
  readonly limit: number;

  constructor(limit: number, what = "message") {
    super(1009, "message-too-big", `${what} is larger than maxPayload (${limit} bytes)`, "WL_ERR_WS_MESSAGE_TOO_BIG");
    this.limit = limit;
  }
}

/** The peer broke this endpoint's policy (close code 1008). */
export class WebSocketPolicyError extends WebSocketProtocolError {
  constructor(reason: string, message: string) {
    super(1008, reason, message, "WL_ERR_WS_POLICY");
  }
}

/**
 * This side sent a message while more than `maxBufferedAmount` bytes still waited unsent: the
 * peer does not read what it is sent (a subscriber that stopped reading a broadcast). The
 * message is dropped and the connection closed with 1013 (Try Again Later).
 */
export class WebSocketBufferFullError extends WebSocketProtocolError {
  declare readonly code: "WL_ERR_WS_BUFFER_FULL";
  /** Bytes waiting unsent when the message was given. */
  readonly bufferedAmount: number;
  /** The `maxBufferedAmount` in force. */
  readonly limit: number;

  constructor(bufferedAmount: number, limit: number) {
    super(1013, "buffer-full", `${bufferedAmount} bytes wait unsent, past maxBufferedAmount (${limit}): the peer does not read`, "WL_ERR_WS_BUFFER_FULL");
    this.bufferedAmount = bufferedAmount;
    this.limit = limit;
  }
}

/** A WebSocket event handler (`onMessage`, ...) threw (close code 1011); the thrown value is in `cause`. */
export class WebSocketHandlerError extends WebSocketProtocolError {
  constructor(handler: string, cause: unknown) {
    super(1011, "internal-error", `${handler} threw: ${describe(cause)}`, "WL_ERR_WS_HANDLER_FAILED", { cause });
  }
}

/**
 * The WebSocket is closed (or closing): a read cannot be satisfied, or a send cannot be made.
 * `closeCode` and `closeReason` are what the connection closed with (1006 when no close frame
 * was received).
 */
export class WebSocketClosedError extends WirelabError {
  /** The close code: the peer's, the one this side failed with, or 1006. */
  readonly closeCode: number;
  /** The close reason that came with `closeCode`. */
  readonly closeReason: string;
  /** True when both close frames were exchanged before the TCP connection closed. */
  readonly wasClean: boolean;

  constructor(closeCode: number, closeReason = "", wasClean = false, message = `WebSocket is closed (code ${closeCode})`) {
    super("WL_ERR_WS_CLOSED", message);
    this.closeCode = closeCode;
    this.closeReason = closeReason;
    this.wasClean = wasClean;
  }
}

/**
 * A WebSocket opening handshake was refused: a bad upgrade request (server side; `status` is
 * the HTTP response to send, 400 or 426) or a bad server response (client side; `status` is 0).
 */
export class WebSocketHandshakeError extends WirelabError {
  /** The HTTP status a server should answer with, or 0 on the client side. */
  readonly status: number;
  /** A stable, machine-readable reason, such as `bad-accept-key`. */
  readonly reason: string;

  constructor(status: number, reason: string, message: string) {
    super("WL_ERR_WS_HANDSHAKE", message);
    this.status = status;
    this.reason = reason;
  }
}

// ---------------------------------------------------------------------------------------------
// The web application layer (runtime/web)

/**
 * Raised by a request handler to answer with an HTTP error status (as Tornado's `HTTPError`):
 * the application turns it into `sendError(status)`. `logMessage` is for the log, never sent.
 */
export class HttpError extends WirelabError {
  /** The HTTP status to answer with. */
  readonly status: number;
  /** A reason phrase to send instead of the registered one, or undefined. */
  readonly reason: string | undefined;
  /** What to log (not sent to the client). */
  readonly logMessage: string;

  constructor(status: number, logMessage = "", options?: WirelabErrorOptions & { reason?: string }) {
    super("WL_ERR_HTTP_ERROR", logMessage === "" ? `HTTP ${status}` : `HTTP ${status}: ${logMessage}`, options);
    this.status = status;
    this.reason = options?.reason;
    this.logMessage = logMessage;
  }
}

/**
 * A request handler was used out of order or with a value it cannot send: a write after
 * `finish()`, a header change after the head was flushed, an array given to `write()`, a cookie
 * value with forbidden characters. `reason` is stable: `finished`, `headers-sent`,
 * `invalid-write`, `invalid-cookie`, `no-cookie-secret`.
 */
export class RequestHandlerUsageError extends WirelabError {
  /** A stable, machine-readable reason. */
  readonly reason: string;

  constructor(reason: string, message: string) {
    super("WL_ERR_WEB_USAGE", message);
    this.reason = reason;
  }
}

// ---------------------------------------------------------------------------------------------
// The async/await face

/** A read on a `Connection` went past its byte limit; the connection is closed. */
export class ReadLimitExceededError extends WirelabError {
  constructor(limit: number) {
    super("WL_ERR_READ_LIMIT", `read exceeded its limit of ${limit} bytes`);
  }
}

/** A second read was started while one was still pending. */
export class ReadPendingError extends WirelabError {
  constructor() {
    super("WL_ERR_READ_PENDING", "another read is already pending on this connection");
  }
}

/** The stream is closed: the read cannot be satisfied, or the write cannot be made. */
export class StreamClosedError extends WirelabError {
  /** Bytes received but not consumed when the stream closed. */
  readonly partial: Uint8Array;

  constructor(message = "stream is closed", options?: WirelabErrorOptions & { partial?: Uint8Array }) {
    super("WL_ERR_STREAM_CLOSED", message, options);
    this.partial = options?.partial ?? new Uint8Array(0);
  }
}

// ---------------------------------------------------------------------------------------------
// Tasks

/** A task (such as a `LoopingCall`) was started while running, or stopped while not running. */
export class TaskStateError extends WirelabError {
  constructor(message: string) {
    super("WL_ERR_TASK_STATE", message);
  }
}

// ---------------------------------------------------------------------------------------------
// Threads and processes

/** Work sent to a worker thread threw; the worker's error is in `cause`. */
export class WorkerTaskError extends WirelabError {
  constructor(message: string, options?: WirelabErrorOptions) {
    super("WL_ERR_WORKER_TASK", message, options);
  }
}

/** A worker thread or process exited while it had work to do. */
export class WorkerExitedError extends WirelabError {
  constructor(message: string, options?: WirelabErrorOptions) {
    super("WL_ERR_WORKER_EXITED", message, options);
  }
}

/** Work was offered to a thread pool whose queue of waiting tasks is full (`maxQueue`). */
export class WorkerQueueFullError extends WirelabError {
  /** The limit that was reached. */
  readonly maxQueue: number;

  constructor(maxQueue: number) {
    super("WL_ERR_WORKER_QUEUE_FULL", `thread pool queue is full (maxQueue ${maxQueue})`);
    this.maxQueue = maxQueue;
  }
}

/** Work was offered to a thread pool that is closing or closed, or was dropped by `terminate()`. */
export class WorkerPoolClosedError extends WirelabError {
  constructor(message = "thread pool is closed") {
    super("WL_ERR_WORKER_POOL_CLOSED", message);
  }
}

/** Child processes crashed more often than `maxRestarts` allows; the primary gave up. */
export class TooManyRestartsError extends WirelabError {
  /** The limit that was exceeded. */
  readonly maxRestarts: number;

  constructor(maxRestarts: number, options?: WirelabErrorOptions) {
    super("WL_ERR_TOO_MANY_RESTARTS", `too many child restarts (more than ${maxRestarts}), giving up`, options);
    this.maxRestarts = maxRestarts;
  }
}

/** `forkProcesses()` was called where it cannot work: twice, or in a process it did not fork. */
export class ForkStateError extends WirelabError {
  constructor(message: string) {
    super("WL_ERR_FORK_STATE", message);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario benchmarks (scenarios/)

/** A benchmark child (server under test or load worker) failed, exited early or would not start. */
export class BenchChildError extends WirelabError {
  /** Which child, e.g. `server tcp-echo/callback` or `load worker 0`. */
  readonly child: string;

  constructor(child: string, message: string) {
    super("WL_ERR_BENCH_CHILD", `${child}: ${message}`);
    this.child = child;
  }
}

/**
 * A benchmark workload got an answer it did not expect (a wrong echo, a wrong body): thrown by a
 * scenario's client operation, it counts as a mismatch rather than an error.
 */
export class MismatchError extends WirelabError {
  constructor(message: string) {
    super("WL_ERR_MISMATCH", message);
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return String(value);
}
