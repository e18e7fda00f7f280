/**
 * wirelab: an event-driven networking runtime. This entry point is what a protocol author
 * imports; the deterministic doubles live in `wirelab/fakes`.
 *
 * Map of the code:
 * - `reactor.ts`: the `Reactor`, `Clock` and `DelayedCall` interfaces.
 * - `reactor-life-cycle.ts`: `ReactorLifeCycle`, the one life cycle every reactor runs.
 * - `deferred.ts`: `Deferred` and its helpers.
 * - `protocol.ts`: `Protocol`, `Factory`, `ClientFactory`, `Transport`, producers.
 * - `write-buffer.ts`: how every transport bounds its write buffer (defaults, options).
 * - `endpoints.ts`: endpoint description strings.
 * - `errors.ts`: every error class, each with a stable `code`.
 * - `stream.ts`: the async/await face: `Connection`, `serve`, `dial`.
 * - `looping-call.ts`, `tasks.ts`: `LoopingCall`, `deferLater`.
 * - `protocol-wrapper.ts`, `policies.ts`: wrapping factories; idle timeout, connection limit.
 * - `reconnecting-client-factory.ts`: `ReconnectingClientFactory`.
 * - `protocols/`: framing protocols (`LineReceiver`, `NetstringReceiver`, `Int32StringReceiver`, ...).
 * - `protocols/http/`: `RequestParser` (HTTP/1.1 requests as events) and `HttpHeaders`;
 *   `HttpServerFactory` (server: `HttpRequest`, `HttpResponse`); `HttpClientProtocol`,
 *   `httpRequest` and `ResponseParser` (client).
 * - `protocols/websocket/`: `WebSocketProtocol` (RFC 6455 connection, both roles),
 *   `FrameParser`, `FrameWriter`, handshake functions, `PerMessageDeflate`, `CloseCode`.
 * - `web/`: the Tornado-style application layer: `Application`, `RequestHandler`, signed
 *   cookies, XSRF, `WebSocketHandler`, `websocketConnect`.
 * - `node/`: `NodeReactor`, the only code that touches real sockets and timers.
 *
 * @module
 */

export type { Clock, DelayedCall, Reactor, ListeningPort, DatagramTransport, UDPOptions, TriggerPhase, SystemEvent, TriggerHandle, ReactorErrorHook } from "./reactor.js";
export { DEFAULT_MAX_PACKET_SIZE } from "./reactor.js";
export { ReactorLifeCycle, DormantDelayedCall } from "./reactor-life-cycle.js";
export type { LifeCycleOwner, LifeCycleState } from "./reactor-life-cycle.js";
export {
  Deferred,
  succeed,
  fail,
  maybeDeferred,
  DeferredList,
  gatherResults,
  race,
  DeferredLock,
  DeferredSemaphore,
  DeferredQueue,
  setUnhandledErrorHook,
  trackUnhandledErrors,
  flushUnhandledErrors,
} from "./deferred.js";
export type { Awaitable, Canceller, DeferredListEntry, DeferredListOptions, DeferredQueueOptions, UnhandledErrorHook } from "./deferred.js";
export { Protocol, Factory, ClientFactory, DatagramProtocol, connectionDone } from "./protocol.js";
export type { Address, Transport, Producer, PushProducer, PullProducer, Connector } from "./protocol.js";
export { parseServerEndpoint, parseClientEndpoint, DEFAULT_BACKLOG, DEFAULT_CONNECT_TIMEOUT_S } from "./endpoints.js";
export type { ServerEndpoint, ClientEndpoint, TcpServerEndpoint, UnixServerEndpoint, TlsServerEndpoint, TcpClientEndpoint, UnixClientEndpoint, TlsClientEndpoint, PemSource } from "./endpoints.js";
export { ThreadPool, deferToThread, defaultThreadPool, transfer, DEFAULT_THREAD_POOL_MAX_QUEUE, DEFAULT_FUNCTION_CACHE_SIZE } from "./node/thread-pool.js";
export type { ThreadPoolOptions, ThreadPoolStats, Transferring, TransferArgs, WorkerResult, WorkerFunctionName, AnyWorkerModule } from "./node/thread-pool.js";
export { forkProcesses, taskId, TASK_ID_ENV, DEFAULT_MAX_RESTARTS } from "./node/fork-processes.js";
export type { ForkProcessesOptions, ChildRestart } from "./node/fork-processes.js";
export {
  FramingReceiver,
  SEND_COPY_THRESHOLD,
  LineReceiver,
  LineOnlyReceiver,
  NetstringReceiver,
  IntNStringReceiver,
  Int8StringReceiver,
  Int16StringReceiver,
  Int32StringReceiver,
  DEFAULT_LINE_DELIMITER,
  DEFAULT_LINE_MAX_LENGTH,
  DEFAULT_NETSTRING_MAX_LENGTH,
  DEFAULT_INT_STRING_MAX_LENGTH,
} from "./protocols/index.js";
export type { PrefixLength } from "./protocols/index.js";
export {
  RequestParser,
  DEFAULT_MAX_REQUEST_LINE_LENGTH,
  DEFAULT_MAX_HEADER_SIZE,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_BODY_SIZE,
  DEFAULT_MAX_CHUNK_LINE_LENGTH,
  DEFAULT_MAX_BUFFERED_BYTES,
} from "./protocols/http/request-parser.js";
export type { RequestHead, RequestParserCallbacks, RequestParserOptions, BodyKind } from "./protocols/http/request-parser.js";
export { HttpHeaders, EMPTY_HEADERS } from "./protocols/http/http-headers.js";
export { HttpServerFactory, DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_BODY_TIMEOUT_MS, DEFAULT_KEEP_ALIVE_TIMEOUT_MS, DEFAULT_MAX_PENDING_RESPONSE_BYTES, DEFAULT_SHUTDOWN_TIMEOUT_MS } from "./protocols/http/http-server-factory.js";
export type { HttpHandler, HttpServerOptions } from "./protocols/http/http-server-factory.js";
export { HttpServerProtocol } from "./protocols/http/http-server-protocol.js";
export { HttpRequest } from "./protocols/http/http-request.js";
export type { HttpRequestOwner } from "./protocols/http/http-request.js";
export { HttpResponse } from "./protocols/http/http-response.js";
export type { HttpHeaderInput, HttpResponseChannel } from "./protocols/http/http-response.js";
export { formatHttpDate, HttpDateCache } from "./protocols/http/http-date.js";
export { STATUS_REASONS, statusLine } from "./protocols/http/http-status.js";
export { checkHeaderName, checkHeaderValue } from "./protocols/http/check-header-field.js";
export {
  ResponseParser,
  DEFAULT_MAX_STATUS_LINE_LENGTH,
  DEFAULT_MAX_RESPONSE_HEADER_SIZE,
  DEFAULT_MAX_RESPONSE_HEADER_COUNT,
  DEFAULT_MAX_RESPONSE_BODY_SIZE,
  DEFAULT_MAX_RESPONSE_CHUNK_LINE_LENGTH,
} from "./protocols/http/response-parser.js";
export type { ResponseHead, ResponseBodyKind, ResponseParserCallbacks, ResponseParserOptions } from "./protocols/http/response-parser.js";
export { HttpClientProtocol, httpRequest, formatRequest, DEFAULT_PIPELINING } from "./protocols/http/http-client.js";
export type { HttpClientRequest, HttpClientResponse, HttpClientOptions, HttpRequestOptions } from "./protocols/http/http-client.js";
export { Connection, StreamProtocol, serve, dial, streamFactory, DEFAULT_READ_HIGH_WATER_MARK, DEFAULT_MAX_READ_SIZE } from "./stream.js";
export type { ConnectionOptions, ConnectionHandler, ServeOptions } from "./stream.js";
export { LoopingCall } from "./looping-call.js";
export { deferLater } from "./tasks.js";
export { ProtocolWrapper, WrappingFactory } from "./protocol-wrapper.js";
export { IdleTimeoutProtocol, IdleTimeoutFactory, withIdleTimeout, LimitConnectionsFactory, limitConnections } from "./policies.js";
export type { IdleTimeoutOptions, LimitConnectionsOptions } from "./policies.js";
export {
  ReconnectingClientFactory,
  DEFAULT_INITIAL_DELAY_MS,
  DEFAULT_MAX_DELAY_MS,
  DEFAULT_BACKOFF_FACTOR,
  DEFAULT_JITTER,
} from "./reconnecting-client-factory.js";
export type { RandomClock, ReconnectingClientFactoryOptions } from "./reconnecting-client-factory.js";
// The WebSocket entry point lists its exports by name.
export * from "./protocols/websocket/index.js";
// The web application layer lists its exports by name.
export * from "./web/index.js";
export { NodeReactor } from "./node/node-reactor.js";
export { DEFAULT_HIGH_WATER_MARK, DEFAULT_MAX_WRITE_BUFFER_SIZE, DEFAULT_PAUSE_READS_ON_FULL_BUFFER, writeBufferPolicy, transportWriteLimits } from "./write-buffer.js";
export type { ReadPausePolicy, TransportWriteLimits, WriteBufferOptions } from "./write-buffer.js";
export type { NodeReactorOptions } from "./node/node-reactor.js";
export * from "./errors.js";
