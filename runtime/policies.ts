/**
 * Policies that wrap any factory, in the style of Twisted's `twisted.protocols.policies`: an
 * idle timeout (`withIdleTimeout`) and a cap on concurrent connections (`limitConnections`).
 * Both are `WrappingFactory`s, so the wrapped protocols see an ordinary transport.
 *
 * @module
 */

import { InvalidOptionError } from "./errors.js";
import type { Factory, Protocol } from "./protocol.js";
import { ProtocolWrapper, WrappingFactory } from "./protocol-wrapper.js";
import type { Clock, DelayedCall } from "./reactor.js";

// ---------------------------------------------------------------------------------------------
// Idle timeout

/** Options for {@link withIdleTimeout}. */
export interface IdleTimeoutOptions {
  /** The clock that measures idleness (the reactor, or a fake `Clock`). */
  clock: Clock;
  /**
   * Milliseconds without traffic, in either direction, after which a connection times out.
   * Must be a finite number above 0.
   */
  timeoutMs: number;
}

/**
 * A wrapper that times its connection out after `timeoutMs` with no traffic: no bytes received
 * and nothing written by the protocol. It then calls `timeoutConnection()`.
 *
 * The timer is lazy: traffic only records the time, and the timer, when it fires early,
 * re-arms itself for the remainder, so busy connections cost no timer rescheduling.
 */
export class IdleTimeoutProtocol extends ProtocolWrapper {
  /** The current timeout in milliseconds, or null when timing out is off. */
  timeoutMs: number | null;
  private lastActivity = 0;
  private timer: DelayedCall | null = null;

  /**
   * @param factory - the factory that built this wrapper.
   * @param wrapped - the protocol to time out.
   * @param clock - the clock that measures idleness.
   * @param timeoutMs - the timeout, or null to start with none.
   */
  constructor(
    factory: WrappingFactory,
    wrapped: Protocol,
    readonly clock: Clock,
    timeoutMs: number | null,
  ) {
    super(factory, wrapped);
    this.timeoutMs = timeoutMs;
  }

  override makeConnection(transport: Parameters<ProtocolWrapper["makeConnection"]>[0]): void {
    this.resetTimeout();
    super.makeConnection(transport);
  }

  override dataReceived(data: Uint8Array): void {
    this.lastActivity = this.clock.now();
    super.dataReceived(data);
  }

  override write(data: Uint8Array | string): void {
    this.lastActivity = this.clock.now();
    super.write(data);
  }

  override writeSequence(data: Iterable<Uint8Array | string>): void {
    this.lastActivity = this.clock.now();
    super.writeSequence(data);
  }

  override connectionLost(reason: Error): void {
    this.cancelTimeout();
    super.connectionLost(reason);
  }

  /**
   * Changes the timeout and restarts the idle period from now.
   *
   * @param ms - the new timeout in milliseconds, or null to stop timing out.
   * @returns the previous timeout.
   */
  setTimeout(ms: number | null): number | null {
    const previous = this.timeoutMs;
    this.timeoutMs = ms;
    // The armed timer may be due later than the new timeout allows.
    this.cancelTimeout();
    this.resetTimeout();
    return previous;
  }

  /** Restarts the idle period from now, as traffic would. */
  resetTimeout(): void {
    this.lastActivity = this.clock.now();
    if (this.timeoutMs === null) {
      this.cancelTimeout();
    } else if (this.timer === null) {
      this.timer = this.clock.callLater(this.timeoutMs, IdleTimeoutProtocol.check, this);
    }
  }

  /** Stops timing out; `setTimeout(ms)` turns it back on. */
  cancelTimeout(): void {
    if (this.timer?.active() === true) this.timer.cancel();
    this.timer = null;
  }

  /**
   * The connection was idle for `timeoutMs`. The default closes it with `loseConnection()`,
   * which waits for queued bytes to be sent; override to send a goodbye, or to abort.
   */
  timeoutConnection(): void {
    this.transport.loseConnection();
  }

  private static check(this: void, self: IdleTimeoutProtocol): void {
    self.timer = null;
    if (self.timeoutMs === null || !self.connected) return;
    const idle = self.clock.now() - self.lastActivity;
    if (idle < self.timeoutMs) {
      self.timer = self.clock.callLater(self.timeoutMs - idle, IdleTimeoutProtocol.check, self);
      return;
    }
    self.timeoutConnection();
  }
}

/**
 * A factory whose connections time out when idle; see {@link withIdleTimeout}. Override
 * `wrapProtocol` to use an `IdleTimeoutProtocol` subclass (for another `timeoutConnection`).
 */
export class IdleTimeoutFactory extends WrappingFactory<IdleTimeoutProtocol> {
  /** The clock that measures idleness. */
  readonly clock: Clock;
  /** The timeout given to each new connection, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * @param wrappedFactory - the factory whose connections are timed out.
   * @param options - the clock and the timeout.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `timeoutMs` is not a finite
   *   number above 0.
   */
  constructor(wrappedFactory: Factory, options: IdleTimeoutOptions) {
    super(wrappedFactory);
    if (!(options.timeoutMs > 0) || !Number.isFinite(options.timeoutMs)) {
      throw new InvalidOptionError("timeoutMs", `must be a finite number of milliseconds above 0, got ${options.timeoutMs}`);
    }
    this.clock = options.clock;
    this.timeoutMs = options.timeoutMs;
  }

  override wrapProtocol(wrapped: Protocol): IdleTimeoutProtocol {
    return new IdleTimeoutProtocol(this, wrapped, this.clock, this.timeoutMs);
  }
}

/**
 * Wraps a factory so that each of its connections is closed after `timeoutMs` with no traffic
 * in either direction (received bytes and the protocol's writes both count).
 *
 * @param factory - the factory to wrap (server or client).
 * @param options - the clock and the timeout.
 * @returns the wrapping factory, to give to `listen` or `connect`.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `timeoutMs` is not above 0.
 *
 * @example
 * ```ts
 * await reactor.listen("tcp:8080", withIdleTimeout(factory, { clock: reactor, timeoutMs: 60_000 }));
 * ```
 */
export function withIdleTimeout(factory: Factory, options: IdleTimeoutOptions): IdleTimeoutFactory {
  return new IdleTimeoutFactory(factory, options);
}

// ---------------------------------------------------------------------------------------------
// Connection limit

/** Options for {@link limitConnections}. */
export interface LimitConnectionsOptions {
  /**
   * Builds the protocol for a connection over the limit (one that writes "busy" and closes,
   * say). Without it, `buildProtocol` returns null and the reactor refuses the connection
   * (closes it at once).
   * @defaultValue undefined (refuse)
   */
  overflowProtocol?: () => Protocol;
}

/**
 * A factory that allows at most `maxConnections` connections at once; see
 * {@link limitConnections}.
 *
 * A connection counts from its `makeConnection` to its `connectionLost`. Overflow protocols
 * do not count.
 */
export class LimitConnectionsFactory extends WrappingFactory {
  /** The most connections allowed at once. */
  readonly maxConnections: number;
  private readonly overflowProtocol: (() => Protocol) | undefined;
  private readonly overflow = new WeakSet<ProtocolWrapper>();

  /**
   * @param wrappedFactory - the factory whose connections are limited.
   * @param maxConnections - the limit, an integer of at least 1.
   * @param options - what to do with connections over the limit.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `maxConnections` is not an
   *   integer of at least 1.
   */
  constructor(wrappedFactory: Factory, maxConnections: number, options: LimitConnectionsOptions = {}) {
    super(wrappedFactory);
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new InvalidOptionError("maxConnections", `must be an integer of at least 1, got ${maxConnections}`);
    }
    this.maxConnections = maxConnections;
    this.overflowProtocol = options.overflowProtocol;
  }

  /** Connections open now (overflow ones excluded). */
  get connectionCount(): number {
    return this.protocols.size;
  }

  override buildProtocol(addr: Parameters<WrappingFactory["buildProtocol"]>[0]): ProtocolWrapper | null {
    if (this.protocols.size < this.maxConnections) return super.buildProtocol(addr);
    if (this.overflowProtocol === undefined) return null;
    const wrapper = new ProtocolWrapper(this, this.overflowProtocol());
    this.overflow.add(wrapper);
    return wrapper;
  }

  override registerProtocol(protocol: ProtocolWrapper): void {
    if (!this.overflow.has(protocol)) super.registerProtocol(protocol);
  }
}

/**
 * Wraps a factory so that at most `maxConnections` of its connections are open at once.
 * Over the limit, the connection is refused (`buildProtocol` returns null, and the reactor
 * closes it), or handed to `options.overflowProtocol` when given.
 *
 * @param factory - the factory to wrap.
 * @param maxConnections - the limit, an integer of at least 1.
 * @param options - what to do with connections over the limit.
 * @returns the wrapping factory.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `maxConnections` is not an
 *   integer of at least 1.
 */
export function limitConnections(factory: Factory, maxConnections: number, options: LimitConnectionsOptions = {}): LimitConnectionsFactory {
  return new LimitConnectionsFactory(factory, maxConnections, options);
}
