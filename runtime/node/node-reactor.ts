/**
 * `NodeReactor`: the `Reactor` over Node's real sockets and timers.
 *
 * @module
 */

import { performance } from "node:perf_hooks";

import { Deferred, fail } from "../deferred.js";
import type { ClientEndpoint, ServerEndpoint } from "../endpoints.js";
import { parseClientEndpoint, parseServerEndpoint } from "../endpoints.js";
import { ConnectionLost, InvalidOptionError, ReactorStateError, UnhandledReactorError } from "../errors.js";
import { DormantDelayedCall, ReactorLifeCycle } from "../reactor-life-cycle.js";
import type { ClientFactory, DatagramProtocol, Factory, Protocol } from "../protocol.js";
import type {
  DatagramTransport,
  DelayedCall,
  ListeningPort,
  Reactor,
  ReactorErrorHook,
  SystemEvent,
  TriggerHandle,
  TriggerPhase,
  UDPOptions,
} from "../reactor.js";
import { NodeDelayedCall } from "./node-delayed-call.js";
import type { TimerHost } from "./node-delayed-call.js";
import { TcpConnector } from "./tcp-connector.js";
import { TcpPort } from "./tcp-port.js";
import type { ConnectionRegistry, TcpTransport } from "./tcp-transport.js";
import { DEFAULT_HIGH_WATER_MARK, transportWriteLimits, writeBufferPolicy } from "../write-buffer.js";
import type { TransportWriteLimits, WriteBufferOptions } from "../write-buffer.js";
import { UdpPort } from "./udp-port.js";

export { DEFAULT_HIGH_WATER_MARK } from "../write-buffer.js";

/**
 * Options for {@link NodeReactor}. The write-buffer bounds (`maxWriteBufferSize`,
 * `pauseReadsOnFullBuffer`) are described in `runtime/write-buffer.ts`.
 */
export interface NodeReactorOptions extends WriteBufferOptions {
  /**
   * Bytes a connection may buffer for sending before its push producer is paused, or, with no
   * producer, before it stops reading (see `pauseReadsOnFullBuffer`): Node's
   * `writableHighWaterMark` for every socket the reactor makes (TLS server sockets keep Node's
   * own default, which Node does not let a server set). A positive integer.
   * @defaultValue DEFAULT_HIGH_WATER_MARK (65536)
   */
  highWaterMark?: number;
  /**
   * Receives errors thrown by timed calls, triggers and protocol callbacks, wrapped in
   * `UnhandledReactorError`.
   * @defaultValue a hook that writes the error to `console.error`
   */
  errorHook?: ReactorErrorHook;
}

const defaultErrorHook: ReactorErrorHook = (error) => {
  console.error(error);
};

/**
 * The reactor for real networking: TCP, TLS and unix-domain streams, UDP, and timers, on
 * Node's event loop.
 *
 * Node's loop runs whether or not `run()` was called, so sockets and timers work from the
 * moment they are made; `run()` and `stop()` drive the life cycle (system event triggers,
 * `callWhenRunning`; see `ReactorLifeCycle`), and `stop()` closes everything the reactor made,
 * so that the process can exit. A reactor runs once. Time is in milliseconds: `now()` is
 * monotonic, counted from the Unix epoch.
 *
 * @example
 * ```ts
 * const reactor = new NodeReactor();
 * const port = await reactor.listen("tcp:8080:interface=127.0.0.1", new Factory(Echo));
 * reactor.addSystemEventTrigger("before", "shutdown", () => port.stopListening());
 * process.once("SIGINT", () => reactor.stop());
 * await reactor.run();
 * ```
 */
export class NodeReactor implements Reactor, TimerHost, ConnectionRegistry {
  /** Buffered outgoing bytes past which a connection's push producer is paused. */
  readonly highWaterMark: number;
  /** @internal The write-buffer limits of connections the reactor's ports accept. */
  readonly acceptedLimits: TransportWriteLimits;
  /** @internal The write-buffer limits of connections the reactor opens. */
  readonly outgoingLimits: TransportWriteLimits;
  private errorHook: ReactorErrorHook;
  private readonly life = new ReactorLifeCycle({
    shutDown: () => this.shutDownEverything(),
    reportError: (where, error) => {
      this.reportError(where, error);
    },
  });
  /** Head of the intrusive list of open connections (no per-connection allocation). */
  private connections: TcpTransport | null = null;
  private readonly ports = new Set<TcpPort>();
  private readonly udpPorts = new Set<UdpPort>();
  private readonly connectors = new Set<TcpConnector<Protocol>>();
  private readonly calls = new Set<NodeDelayedCall>();

  /**
   * @param options - see {@link NodeReactorOptions}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a `highWaterMark` that is not a
   *   positive integer, or a write-buffer option out of bounds.
   */
  constructor(options: NodeReactorOptions = {}) {
    const hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    if (!Number.isInteger(hwm) || hwm < 1) throw new InvalidOptionError("highWaterMark", `must be a positive integer, got ${hwm}`);
    this.highWaterMark = hwm;
    const policy = writeBufferPolicy(options, hwm);
    this.acceptedLimits = transportWriteLimits(policy, true);
    this.outgoingLimits = transportWriteLimits(policy, false);
    this.errorHook = options.errorHook ?? defaultErrorHook;
  }

  get running(): boolean {
    return this.life.running;
  }

  // -- Time -----------------------------------------------------------------------------------

  now(): number {
    return performance.timeOrigin + performance.now();
  }

  /** Schedules `fn(...args)`; from the `during shutdown` phase on, the call never runs. */
  callLater<A extends unknown[]>(ms: number, fn: (...args: A) => void, ...args: A): DelayedCall {
    if (!this.life.acceptingWork) return new DormantDelayedCall(this, ms);
    const call = new NodeDelayedCall(this, ms > 0 ? ms : 0, fn as unknown as (...args: readonly unknown[]) => void, args);
    this.calls.add(call);
    return call;
  }

  random(): number {
    return Math.random();
  }

  setErrorHook(hook: ReactorErrorHook): void {
    this.errorHook = hook;
  }

  // -- Network --------------------------------------------------------------------------------

  listen(endpoint: string | ServerEndpoint, factory: Factory): Deferred<ListeningPort> {
    let parsed: ServerEndpoint;
    try {
      parsed = parseServerEndpoint(endpoint);
    } catch (error) {
      return fail(error);
    }
    if (!this.life.acceptingWork) return fail(closedError("listen"));
    return TcpPort.open(this, parsed, factory);
  }

  connect<P extends Protocol>(endpoint: string | ClientEndpoint, factory: Factory<P> | ClientFactory<P>): Deferred<P> {
    let parsed: ClientEndpoint;
    try {
      parsed = parseClientEndpoint(endpoint);
    } catch (error) {
      return fail(error);
    }
    if (!this.life.acceptingWork) return fail(closedError("connect"));
    let connector: TcpConnector<P> | null = null;
    const d = new Deferred<P>(() => {
      connector?.stopConnecting();
    });
    connector = new TcpConnector<P>(this, parsed, factory, d);
    connector.connect();
    return d;
  }

  listenUDP(port: number, protocol: DatagramProtocol, options: UDPOptions = {}): Deferred<DatagramTransport> {
    if (!this.life.acceptingWork) return fail(closedError("listen"));
    return UdpPort.open(this, port, protocol, options);
  }

  // -- Life cycle -----------------------------------------------------------------------------

  callWhenRunning(fn: () => void): void {
    this.life.callWhenRunning(fn);
  }

  addSystemEventTrigger(phase: TriggerPhase, event: SystemEvent, fn: () => unknown): TriggerHandle {
    return this.life.addTrigger(phase, event, fn);
  }

  /** Removes a trigger that has not run; a handle that ran or was removed is ignored. */
  removeSystemEventTrigger(handle: TriggerHandle): void {
    this.life.removeTrigger(handle);
  }

  run(): Deferred<void> {
    return this.life.run();
  }

  stop(): Deferred<void> {
    return this.life.stop();
  }

  // -- Internal bookkeeping -------------------------------------------------------------------

  /** @internal False from the `during shutdown` phase on: new connection attempts are refused. */
  get acceptingConnections(): boolean {
    return this.life.acceptingWork;
  }

  reportError(where: string, error: unknown): void {
    const wrapped = new UnhandledReactorError(where, error);
    try {
      this.errorHook(wrapped);
    } catch (hookError) {
      console.error(wrapped, hookError);
    }
  }

  /** @internal */
  forgetCall(call: NodeDelayedCall): void {
    this.calls.delete(call);
  }

  /** @internal */
  addConnection(transport: TcpTransport): void {
    const head = this.connections;
    transport.prevConnection = null;
    transport.nextConnection = head;
    if (head !== null) head.prevConnection = transport;
    this.connections = transport;
  }

  /** @internal */
  removeConnection(transport: TcpTransport): void {
    const prev = transport.prevConnection;
    const next = transport.nextConnection;
    if (prev !== null) prev.nextConnection = next;
    else if (this.connections === transport) this.connections = next;
    if (next !== null) next.prevConnection = prev;
    transport.prevConnection = null;
    transport.nextConnection = null;
  }

  /** @internal */
  addPort(port: TcpPort): void {
    this.ports.add(port);
  }

  /** @internal */
  removePort(port: TcpPort): void {
    this.ports.delete(port);
  }

  /** @internal */
  addUdpPort(port: UdpPort): void {
    this.udpPorts.add(port);
  }

  /** @internal */
  removeUdpPort(port: UdpPort): void {
    this.udpPorts.delete(port);
  }

  /** @internal */
  addConnector(connector: TcpConnector<Protocol>): void {
    this.connectors.add(connector);
  }

  /** @internal */
  removeConnector(connector: TcpConnector<Protocol>): void {
    this.connectors.delete(connector);
  }

  /** How many connections are open; for tests and monitoring. */
  get connectionCount(): number {
    let n = 0;
    for (let t = this.connections; t !== null; t = t.nextConnection) n++;
    return n;
  }

  // -------------------------------------------------------------------------------------------

  /**
   * The reactor's own part of shutdown: stops listening, abandons connection attempts, closes
   * every connection (its protocol gets `ConnectionLost`), cancels every timed call, and
   * fires once the UDP ports are closed.
   */
  private shutDownEverything(): Deferred<void> {
    // Connections first: a TLS port's shutdown destroys the raw sockets under its connections,
    // which would end them with a clean close instead of the shutdown's ConnectionLost.
    const open: TcpTransport[] = [];
    for (let t = this.connections; t !== null; t = t.nextConnection) open.push(t);
    const reason = new ConnectionLost("Connection was closed because the reactor is shutting down.");
    for (const t of open) t.forceClose(reason);
    for (const connector of [...this.connectors]) connector.stopConnecting();
    for (const port of [...this.ports]) port.shutDown();
    const udpClosed: Deferred<void>[] = [];
    for (const udp of [...this.udpPorts]) udpClosed.push(udp.stopListening());
    for (const call of this.calls) call.cancelQuietly();
    this.calls.clear();
    const done = new Deferred<void>();
    let pending = udpClosed.length + 1;
    const one = (): void => {
      if (--pending === 0) done.callback(undefined);
    };
    for (const d of udpClosed) d.addBoth(one);
    one();
    return done;
  }
}

/** Why a port or connection cannot be opened from the `during shutdown` phase on. */
function closedError(what: "listen" | "connect"): ReactorStateError {
  return new ReactorStateError(`cannot ${what}: the reactor is shutting down, or has stopped`);
}
