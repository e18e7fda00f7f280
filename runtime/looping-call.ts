/**
 * `LoopingCall`: call a function every N milliseconds on an injected clock, with Twisted's
 * semantics.
 *
 * @module
 */

import { Deferred, maybeDeferred } from "./deferred.js";
import type { Awaitable } from "./deferred.js";
import { InvalidOptionError, TaskStateError } from "./errors.js";
import type { Clock, DelayedCall } from "./reactor.js";

/**
 * Calls a function repeatedly, every `interval` milliseconds, on a clock.
 *
 * The schedule is anchored to the time `start()` was called: calls are due at
 * `start + k * interval`. When a call (or the Deferred/Promise it returns) takes longer than an
 * interval, the missed slots are skipped and the next call is at the next slot of the original
 * schedule, never in a burst. While a returned Deferred or Promise is pending, no other call
 * starts. An interval of 0 calls again as soon as the clock lets it.
 *
 * `start()` returns a Deferred that fires with this LoopingCall once `stop()` is called (after
 * any call in progress finishes), or fails with the first error the function throws or
 * returns, which also stops the loop.
 *
 * @example
 * ```ts
 * const heartbeat = new LoopingCall(reactor, () => transport.write("ping\n"));
 * heartbeat.start(30_000).addErrback((error) => console.error("heartbeat died", error));
 * // ...
 * heartbeat.stop();
 * ```
 */
export class LoopingCall {
  /** True between `start()` and `stop()` (or the function's first failure). */
  running = false;
  /** The interval given to `start()`, in milliseconds; null before the first start. */
  interval: number | null = null;
  /** The Deferred returned by `start()`, until it fires. */
  deferred: Deferred<LoopingCall> | null = null;
  /** The timed call of the next run, when one is scheduled. */
  call: DelayedCall | null = null;

  private startTime = 0;
  private runAtStart = false;
  private readonly fn: () => unknown;

  /**
   * @param clock - the clock that schedules the calls (the reactor, or a fake `Clock`).
   * @param fn - the function to call; it may return a Deferred or Promise to make the loop
   *   wait for it.
   */
  constructor(
    readonly clock: Clock,
    fn: () => Awaitable<unknown>,
  ) {
    this.fn = fn;
  }

  /**
   * Builds a LoopingCall whose function receives how many intervals have elapsed since its
   * previous call (1 when on schedule, more when slots were skipped), as Twisted's
   * `LoopingCall.withCount`. The first call counts from the start (1 when `now` is true).
   *
   * @param clock - the clock that schedules the calls.
   * @param fn - the function, given the count of elapsed intervals.
   * @returns the LoopingCall, not started.
   */
  static withCount(clock: Clock, fn: (count: number) => Awaitable<unknown>): LoopingCall {
    let lastTime: number | null = null;
    const loop: LoopingCall = new LoopingCall(clock, () => {
      const now = clock.now();
      const interval = loop.interval ?? 0;
      if (interval === 0) {
        lastTime = now;
        return fn(1);
      }
      const last = lastTime ?? (loop.runAtStart ? loop.startTime - interval : loop.startTime);
      const count = loop.intervalOf(now) - loop.intervalOf(last);
      // Only a call within the same slot as the previous one counts 0; Twisted skips it.
      if (count <= 0) return undefined;
      lastTime = now;
      return fn(count);
    });
    return loop;
  }

  /**
   * Starts calling the function every `intervalMs` milliseconds.
   *
   * @param intervalMs - the interval in milliseconds, 0 or more.
   * @param now - call the function at once (true) or only after the first interval.
   * @defaultValue now true
   * @returns a Deferred that fires with this LoopingCall when stopped, or fails with the
   *   function's error.
   * @throws TaskStateError (`WL_ERR_TASK_STATE`) when already running.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when the interval is negative or not
   *   a number.
   */
  start(intervalMs: number, now = true): Deferred<LoopingCall> {
    if (this.running) throw new TaskStateError("LoopingCall is already running");
    if (!(intervalMs >= 0) || !Number.isFinite(intervalMs)) {
      throw new InvalidOptionError("interval", `must be a finite number of milliseconds >= 0, got ${intervalMs}`);
    }
    this.running = true;
    this.interval = intervalMs;
    this.runAtStart = now;
    this.startTime = this.clock.now();
    const d = new Deferred<LoopingCall>();
    this.deferred = d;
    if (now) this.run();
    else this.scheduleFrom(this.startTime);
    return d;
  }

  /**
   * Stops the loop. The Deferred from `start()` fires at once, or, when a Deferred returned by
   * the function is still pending, as soon as it fires.
   *
   * @throws TaskStateError (`WL_ERR_TASK_STATE`) when not running.
   */
  stop(): void {
    if (!this.running) throw new TaskStateError("LoopingCall is not running");
    this.running = false;
    if (this.call !== null) {
      this.call.cancel();
      this.call = null;
      this.finish();
    }
  }

  /**
   * Restarts the schedule from now: the next call is one interval from now.
   *
   * @throws TaskStateError (`WL_ERR_TASK_STATE`) when not running.
   */
  reset(): void {
    if (!this.running) throw new TaskStateError("LoopingCall is not running");
    this.startTime = this.clock.now();
    if (this.call !== null) {
      this.call.cancel();
      this.scheduleFrom(this.startTime);
    }
  }

  private run(): void {
    this.call = null;
    maybeDeferred(this.fn).addCallbacks(
      () => {
        if (this.running) this.scheduleFrom(this.clock.now());
        else this.finish();
      },
      (error: unknown) => {
        this.running = false;
        const d = this.deferred;
        this.deferred = null;
        d?.errback(error);
      },
    );
  }

  private finish(): void {
    const d = this.deferred;
    this.deferred = null;
    d?.callback(this);
  }

  /** Schedules the next call at the next slot of the schedule after `when`. */
  private scheduleFrom(when: number): void {
    const interval = this.interval ?? 0;
    let wait = 0;
    if (interval > 0) {
      wait = interval - ((when - this.startTime) % interval);
      // When `when` is huge, the remainder can vanish in rounding: wait a whole interval.
      if (when + wait === when) wait = interval;
    }
    this.call = this.clock.callLater(wait, () => {
      this.run();
    });
  }

  private intervalOf(t: number): number {
    return Math.floor((t - this.startTime) / (this.interval ?? 1));
  }
}
