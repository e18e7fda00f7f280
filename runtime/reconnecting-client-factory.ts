/**
 * `ReconnectingClientFactory`: a client factory that reconnects after a failed attempt or a
 * lost connection, with Twisted's exponential backoff and jitter.
 *
 * @module
 */

import { InvalidOptionError } from "./errors.js";
import { ClientFactory } from "./protocol.js";
import type { Address, Connector, Protocol } from "./protocol.js";
import type { Clock, DelayedCall } from "./reactor.js";

/** Twisted's first delay: 1 second. */
export const DEFAULT_INITIAL_DELAY_MS = 1000;
/** Twisted's longest delay: one hour. */
export const DEFAULT_MAX_DELAY_MS = 3_600_000;
/** Twisted's growth factor per retry: e. */
export const DEFAULT_BACKOFF_FACTOR = 2.7182818284590451;
/** Twisted's jitter: the standard deviation of a delay, as a fraction of it. */
export const DEFAULT_JITTER = 0.11962656472;

/** A clock with a random source: the reactor, or a fake clock plus a seeded generator. */
export type RandomClock = Clock & { random(): number };

/** Options for {@link ReconnectingClientFactory}. */
export interface ReconnectingClientFactoryOptions {
  /**
   * The delay the backoff starts from, in milliseconds. The first retry waits about
   * `initialDelay * factor`, as in Twisted.
   * @defaultValue {@link DEFAULT_INITIAL_DELAY_MS} (1 s)
   */
  initialDelay?: number;
  /**
   * The longest delay between attempts, before jitter, in milliseconds.
   * @defaultValue {@link DEFAULT_MAX_DELAY_MS} (1 hour)
   */
  maxDelay?: number;
  /**
   * What the delay is multiplied by after each failure; at least 1.
   * @defaultValue {@link DEFAULT_BACKOFF_FACTOR} (e)
   */
  factor?: number;
  /**
   * The standard deviation of each delay as a fraction of it (normal jitter, drawn from the
   * clock's `random()`); 0 for none.
   * @defaultValue {@link DEFAULT_JITTER}
   */
  jitter?: number;
  /**
   * Most retries before giving up; retries are counted from the last successful connection.
   * @defaultValue null (no limit)
   */
  maxRetries?: number | null;
}

/**
 * A client factory that keeps reconnecting, with Twisted's semantics: after each failed
 * attempt or lost connection it waits, then calls `connector.connect()` again. The delay grows
 * by `factor` each time (up to `maxDelay`), with normal jitter, and goes back to
 * `initialDelay` when a connection succeeds (`buildProtocol` calls `resetDelay()`).
 * `stopTrying()` ends it.
 *
 * @example
 * ```ts
 * const factory = new ReconnectingClientFactory(reactor, MyClient);
 * reactor.connect("tcp:127.0.0.1:8080", factory);
 * // ... later, to give up for good:
 * factory.stopTrying();
 * ```
 */
export class ReconnectingClientFactory<P extends Protocol = Protocol> extends ClientFactory<P> {
  /** The starting delay, in milliseconds. */
  initialDelay: number;
  /** The cap on the delay, in milliseconds. */
  maxDelay: number;
  /** The growth factor of the delay. */
  factor: number;
  /** The jitter, as a fraction of the delay. */
  jitter: number;
  /** Most retries before giving up, or null for no limit. */
  maxRetries: number | null;
  /** The delay used for the latest retry, in milliseconds. */
  delay: number;
  /** Retries since the last successful connection. */
  retries = 0;
  /** False once `stopTrying()` was called (until `resetDelay()`). */
  continueTrying = true;
  /** The connector of the latest failure, used by `retry()` without an argument. */
  connector: Connector | null = null;
  /** The pending reconnection, if one is scheduled. */
  callId: DelayedCall | null = null;

  /**
   * @param clock - the clock that schedules retries and draws the jitter (the reactor).
   * @param protocol - the protocol class `buildProtocol` instantiates, if not overridden.
   * @param options - the backoff parameters.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming a negative delay, a factor
   *   below 1, a negative jitter or a bad `maxRetries`.
   */
  constructor(
    readonly clock: RandomClock,
    protocol?: new () => P,
    options: ReconnectingClientFactoryOptions = {},
  ) {
    super(protocol);
    this.initialDelay = options.initialDelay ?? DEFAULT_INITIAL_DELAY_MS;
    this.maxDelay = options.maxDelay ?? DEFAULT_MAX_DELAY_MS;
    this.factor = options.factor ?? DEFAULT_BACKOFF_FACTOR;
    this.jitter = options.jitter ?? DEFAULT_JITTER;
    this.maxRetries = options.maxRetries ?? null;
    check("initialDelay", this.initialDelay >= 0 && Number.isFinite(this.initialDelay), "a finite number of milliseconds >= 0");
    check("maxDelay", this.maxDelay >= 0 && Number.isFinite(this.maxDelay), "a finite number of milliseconds >= 0");
    check("factor", this.factor >= 1 && Number.isFinite(this.factor), "a finite number >= 1");
    check("jitter", this.jitter >= 0 && Number.isFinite(this.jitter), "a finite number >= 0");
    if (this.maxRetries !== null) check("maxRetries", Number.isInteger(this.maxRetries) && this.maxRetries >= 0, "an integer >= 0 or null");
    this.delay = this.initialDelay;
  }

  /** Builds the protocol and, since the connection succeeded, resets the backoff. */
  override buildProtocol(addr: Address): P | null {
    const protocol = super.buildProtocol(addr);
    if (protocol !== null) this.resetDelay();
    return protocol;
  }

  /** An attempt failed: retry, unless stopped. */
  override clientConnectionFailed(connector: Connector, _reason: Error): void {
    if (!this.continueTrying) return;
    this.connector = connector;
    this.retry();
  }

  /** The connection was lost: reconnect, unless stopped. */
  override clientConnectionLost(connector: Connector, _reason: Error): void {
    if (!this.continueTrying) return;
    this.connector = connector;
    this.retry();
  }

  /**
   * Schedules another attempt after the next backoff delay, unless stopped or out of retries.
   *
   * @param connector - what to connect with; the latest failed connector by default.
   * @throws TypeError when there is no connector to retry with.
   */
  retry(connector: Connector | null = this.connector): void {
    if (!this.continueTrying) return;
    if (connector === null) throw new TypeError("ReconnectingClientFactory.retry: no connector to retry");
    this.retries++;
    if (this.maxRetries !== null && this.retries > this.maxRetries) return;
    this.delay = Math.min(this.delay * this.factor, this.maxDelay);
    if (this.jitter > 0) this.delay = Math.max(0, this.delay + this.delay * this.jitter * this.normal());
    if (this.callId?.active() === true) this.callId.cancel();
    this.callId = this.clock.callLater(this.delay, () => {
      this.callId = null;
      connector.connect();
    });
  }

  /** Gives up: cancels the pending retry, stops the attempt in progress, and retries no more. */
  stopTrying(): void {
    if (this.callId?.active() === true) this.callId.cancel();
    this.callId = null;
    this.continueTrying = false;
    this.connector?.stopConnecting();
  }

  /** Resets the backoff to `initialDelay` and allows retrying again. */
  resetDelay(): void {
    this.delay = this.initialDelay;
    this.retries = 0;
    this.callId = null;
    this.continueTrying = true;
  }

  /** A standard normal draw from the clock's random source (Box-Muller). */
  private normal(): number {
    // 1 - random() is in (0, 1], so the logarithm is finite.
    const u1 = 1 - this.clock.random();
    const u2 = this.clock.random();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

function check(option: string, ok: boolean, expected: string): void {
  if (!ok) throw new InvalidOptionError(option, `must be ${expected}`);
}
