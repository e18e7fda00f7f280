/**
 * The reactor: the one object through which a protocol reaches time, the network and the
 * process's life. `NodeReactor` (in `runtime/node/`) implements it over real sockets and
 * timers; the fakes (`wirelab/fakes`) implement it over a virtual clock and in-memory
 * transports. Protocols depend on these interfaces only.
 *
 * Time is in milliseconds throughout.
 *
 * @module
 */

import type { Deferred } from "./deferred.js";
import type { ClientEndpoint, ServerEndpoint } from "./endpoints.js";
import type { Address, ClientFactory, DatagramProtocol, Factory, Protocol } from "./protocol.js";

/** A call scheduled with `callLater`. */
export interface DelayedCall {
  /** The absolute time, on the clock that scheduled it, at which the call is due. */
  readonly time: number;
  /** True until the call has run or been cancelled. */
  active(): boolean;
  /**
   * Cancels the call.
   * @throws DelayedCallRanError (`WL_ERR_DELAYED_CALL_RAN`) or DelayedCallCancelledError
   *   (`WL_ERR_DELAYED_CALL_CANCELLED`) when it is no longer active.
   */
  cancel(): void;
  /**
   * Reschedules the call to run `ms` from now.
   * @throws as `cancel()` when it is no longer active.
   */
  reset(ms: number): void;
  /**
   * Pushes the call back by `ms` from its current due time.
   * @throws as `cancel()` when it is no longer active.
   */
  delay(ms: number): void;
}

/** The time part of a reactor. The fake `Clock` implements exactly this. */
export interface Clock {
  /** The current time in milliseconds. */
  now(): number;
  /**
   * Runs `fn(...args)` after `ms` milliseconds. An exception it throws is reported through
   * the reactor's error hook, never propagated into the loop.
   */
  callLater<A extends unknown[]>(ms: number, fn: (...args: A) => void, ...args: A): DelayedCall;
}

/** A port accepting connections, as returned by `listen`. */
export interface ListeningPort {
  /** The local address, with the real port when port 0 was asked for. */
  getHost(): Address;
  /** Stops accepting new connections; fires once the port is closed. Open ones stay open. */
  stopListening(): Deferred<void>;
}

/** The transport of a datagram (UDP) protocol. */
export interface DatagramTransport {
  /** Sends one datagram to `addr`. */
  write(data: Uint8Array | string, addr: { host: string; port: number }): void;
  /** The local address, with the real port when port 0 was asked for. */
  getHost(): Address;
  /** Closes the port; fires once it is closed. */
  stopListening(): Deferred<void>;
}

/** The default `highWaterMark` of every transport, real or fake: see `write-buffer.ts`. */
export { DEFAULT_HIGH_WATER_MARK } from "./write-buffer.js";

/** The largest UDP payload over IPv4 (65,535 minus the IP and UDP headers): the default `maxPacketSize`. */
export const DEFAULT_MAX_PACKET_SIZE = 65_507;

/** Options for `listenUDP`. */
export interface UDPOptions {
  /**
   * The local address to bind.
   * @defaultValue "0.0.0.0"
   */
  interface?: string;
  /**
   * Largest datagram accepted; longer ones are dropped, since UDP delivers whole or nothing.
   * @defaultValue {@link DEFAULT_MAX_PACKET_SIZE} (65507)
   */
  maxPacketSize?: number;
}

/** When a system event trigger runs, relative to the event. */
export type TriggerPhase = "before" | "during" | "after";

/** The reactor's system events. */
export type SystemEvent = "startup" | "shutdown";

/** The handle returned by `addSystemEventTrigger`, for `removeSystemEventTrigger`. */
export interface TriggerHandle {
  readonly phase: TriggerPhase;
  readonly event: SystemEvent;
}

/** Receives errors that nothing else could: a timed call or a trigger that threw. */
export type ReactorErrorHook = (error: Error) => void;

/**
 * The whole reactor: time, TCP/TLS/unix listening and connecting, UDP, and the life cycle.
 */
export interface Reactor extends Clock {
  /**
   * True from the `during startup` phase of `run()` until the `during shutdown` phase of
   * `stop()`, as in Twisted (see runtime/README.md, "The reactor's life cycle").
   */
  readonly running: boolean;

  /**
   * Starts accepting connections on `endpoint` (such as `"tcp:0:interface=127.0.0.1"`),
   * building a protocol for each with `factory.buildProtocol`.
   *
   * @returns a Deferred of the listening port.
   * @throws (through the Deferred) CannotListenError (`WL_ERR_CANNOT_LISTEN`) or
   *   InvalidEndpointError (`WL_ERR_INVALID_ENDPOINT`).
   */
  listen(endpoint: string | ServerEndpoint, factory: Factory): Deferred<ListeningPort>;

  /**
   * Connects to `endpoint` (such as `"tcp:127.0.0.1:8080:timeout=5"`) and builds the client
   * protocol with `factory`. A `ClientFactory` also hears `startedConnecting`,
   * `clientConnectionFailed` and `clientConnectionLost`, with a connector it can use to
   * connect again.
   *
   * @returns a Deferred of the connected protocol, fired after its `connectionMade`.
   * @throws (through the Deferred) ConnectionRefusedError (`WL_ERR_CONNECTION_REFUSED`),
   *   ConnectTimeoutError, DNSLookupError or another SocketError.
   */
  connect<P extends Protocol>(endpoint: string | ClientEndpoint, factory: Factory<P> | ClientFactory<P>): Deferred<P>;

  /**
   * Binds a UDP port (0 for an ephemeral one) and starts delivering datagrams to `protocol`.
   *
   * @returns a Deferred of the port's transport, also set as `protocol.transport`.
   */
  listenUDP(port: number, protocol: DatagramProtocol, options?: UDPOptions): Deferred<DatagramTransport>;

  /**
   * Runs `fn` at once (synchronously) when the reactor is running; otherwise it becomes an
   * `after startup` trigger, run when the reactor starts, in the order triggers were added.
   */
  callWhenRunning(fn: () => void): void;

  /**
   * Runs `fn` once, at a phase of a system event. A `before` trigger may return a Deferred or
   * Promise, which the event waits for. A trigger that throws or fails is reported through the
   * error hook, and the event goes on.
   */
  addSystemEventTrigger(phase: TriggerPhase, event: SystemEvent, fn: () => unknown): TriggerHandle;

  /** Removes a trigger that has not run yet; a handle that ran or was removed is ignored. */
  removeSystemEventTrigger(handle: TriggerHandle): void;

  /**
   * Starts the reactor: fires the startup triggers (the `callWhenRunning` calls among them).
   * A reactor runs once.
   *
   * @returns a Deferred that fires once the reactor has stopped.
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when it is running, or has run.
   */
  run(): Deferred<void>;

  /**
   * Shuts down: runs the `before shutdown` triggers and waits for them; then `running` turns
   * false and the reactor stops listening, abandons connection attempts, closes every
   * connection at once (its protocol gets `ConnectionLost`) and cancels every timed call,
   * before the `during` triggers; then the `after` triggers. From the `during` phase on, new
   * ports and connections are refused and new timed calls never run. A second `stop()` while
   * shutting down waits for the same shutdown.
   *
   * @returns a Deferred that fires once shutdown is complete.
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when it never ran, or has stopped.
   */
  stop(): Deferred<void>;

  /**
   * A number in [0, 1) from the reactor's random source: seeded and replayable on the fakes.
   * Protocols use this, never `Math.random`.
   */
  random(): number;

  /** Replaces the hook that receives errors thrown by timed calls and triggers. */
  setErrorHook(hook: ReactorErrorHook): void;

  /**
   * Hands an error that nothing else can handle to the error hook, wrapped in an
   * `UnhandledReactorError` that names `where` it happened. Library code (a server's failed
   * handler, a protocol callback that threw) reports through this instead of throwing into
   * the loop.
   */
  reportError(where: string, error: unknown): void;
}
