/**
 * A virtual clock for tests: time moves only when the test says so.
 *
 * @module
 */

import type { Clock as ClockInterface, DelayedCall } from "../runtime/reactor.js";
import {
  DelayedCallCancelledError,
  DelayedCallRanError,
  ReactorStalledError,
  UnhandledReactorError,
} from "../runtime/errors.js";
import { drainMicrotasks } from "./microtask-activity.js";
import { runAsTestedCode } from "./nondeterminism-guard.js";

export { drainMicrotasks };

/** Options for {@link Clock}. */
export interface ClockOptions {
  /**
   * The time the clock starts at, in milliseconds.
   * @defaultValue 0
   */
  start?: number;
  /**
   * Most calls one `advance`/`runUntilIdle` may run before it throws `ReactorStalledError`.
   * @defaultValue 1_000_000
   */
  maxSteps?: number;
  /**
   * Receives errors thrown by timed calls. The default rethrows them from `advance`, so a
   * test sees them where they happened.
   */
  onError?: (error: Error) => void;
}

/** A call scheduled on the fake clock. Exposed for `pendingCalls()`. */
export class FakeDelayedCall implements DelayedCall {
  /** @internal */ state: "pending" | "ran" | "cancelled" = "pending";
  /** @internal */ seq: number;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    private readonly clock: Clock,
    public time: number,
    readonly fn: () => void,
    seq: number,
    /** The scheduled function's name, for leftover reports; "" when it has none. */
    readonly label = "",
  ) {
    this.seq = seq;
  }

  active(): boolean {
    return this.state === "pending";
  }

  cancel(): void {
    this.check();
    this.state = "cancelled";
    this.clock.remove(this);
  }

  reset(ms: number): void {
    this.check();
    if (Number.isNaN(ms)) throw new RangeError("reset() delay is NaN");
    this.clock.reschedule(this, this.clock.now() + ms);
  }

  delay(ms: number): void {
    this.check();
    if (Number.isNaN(ms)) throw new RangeError("delay() delay is NaN");
    this.clock.reschedule(this, this.time + ms);
  }

  private check(): void {
    if (this.state === "ran") throw new DelayedCallRanError();
    if (this.state === "cancelled") throw new DelayedCallCancelledError();
  }
}

/**
 * A deterministic clock implementing the time part of `Reactor`.
 *
 * Calls due at the same time run in the order they were scheduled. Nothing runs until the test
 * calls `advance`, `advanceAsync`, `stepToNext` or `runUntilIdle`.
 *
 * @example
 * ```ts
 * const clock = new Clock();
 * const d = deferLater(clock, 1000, () => "done");
 * clock.advance(1000); // d has fired
 * ```
 */
export class Clock implements ClockInterface {
  private current: number;
  private calls: FakeDelayedCall[] = [];
  private seq = 0;
  private readonly maxSteps: number;
  private readonly onError: (error: Error) => void;
  private readonly stamp = (): number => this.current;

  constructor(options: ClockOptions = {}) {
    this.current = options.start ?? 0;
    this.maxSteps = options.maxSteps ?? 1_000_000;
    this.onError =
      options.onError ??
      ((error) => {
        throw error;
      });
  }

  now(): number {
    return this.current;
  }

  /**
   * Schedules `fn(...args)` at `now() + ms` (a negative delay counts as 0).
   *
   * @throws RangeError when `ms` is NaN: such a call could never be ordered.
   */
  callLater<A extends unknown[]>(ms: number, fn: (...args: A) => void, ...args: A): DelayedCall {
    if (Number.isNaN(ms)) throw new RangeError("callLater() delay is NaN");
    const call = new FakeDelayedCall(this, this.current + Math.max(0, ms), () => fn(...args), this.seq++, fn.name);
    this.insert(call);
    return call;
  }

  /** Calls not yet run, earliest first. */
  pendingCalls(): readonly FakeDelayedCall[] {
    return this.calls.slice();
  }

  /**
   * Moves time forward by `ms` (setting it first), then runs every call due at or before the
   * new time, in time order, including calls scheduled meanwhile that are already due.
   *
   * @throws ReactorStalledError (`WL_ERR_REACTOR_STALLED`) past `maxSteps` calls.
   */
  advance(ms = 0): void {
    if (!(ms >= 0)) throw new RangeError("cannot advance the clock backwards");
    this.current += ms;
    this.runDue(this.current);
  }

  /**
   * Like `advance`, but steps from deadline to deadline and lets every pending microtask run
   * between calls, so `await` continuations happen at the virtual time they belong to.
   */
  async advanceAsync(ms = 0): Promise<void> {
    if (!(ms >= 0)) throw new RangeError("cannot advance the clock backwards");
    const target = this.current + ms;
    await drainMicrotasks();
    let steps = 0;
    for (;;) {
      const next = this.calls[0];
      if (next === undefined || next.time > target) break;
      if (++steps > this.maxSteps) throw new ReactorStalledError(steps - 1, `next call due at ${next.time} ms`);
      this.current = Math.max(this.current, next.time);
      this.runOne(next);
      await drainMicrotasks();
    }
    this.current = target;
  }

  /** Jumps to the next due call and runs everything due then. Returns false when none. */
  stepToNext(): boolean {
    const next = this.calls[0];
    if (next === undefined) return false;
    this.current = Math.max(this.current, next.time);
    this.runDue(this.current);
    return true;
  }

  /**
   * Runs calls until none is left, moving time as it goes.
   *
   * @throws ReactorStalledError (`WL_ERR_REACTOR_STALLED`) past `maxSteps` calls.
   */
  runUntilIdle(): void {
    let steps = 0;
    for (;;) {
      const next = this.calls[0];
      if (next === undefined) return;
      if (++steps > this.maxSteps) throw new ReactorStalledError(steps - 1, `next call due at ${next.time} ms`);
      this.current = Math.max(this.current, next.time);
      this.runOne(next);
    }
  }

  /** @internal */
  remove(call: FakeDelayedCall): void {
    const i = this.calls.indexOf(call);
    if (i >= 0) this.calls.splice(i, 1);
  }

  /** @internal */
  reschedule(call: FakeDelayedCall, time: number): void {
    this.remove(call);
    call.time = time;
    call.seq = this.seq++;
    this.insert(call);
  }

  private runDue(until: number): void {
    let steps = 0;
    for (;;) {
      const next = this.calls[0];
      if (next === undefined || next.time > until) return;
      if (++steps > this.maxSteps) throw new ReactorStalledError(steps - 1, `next call due at ${next.time} ms`);
      this.runOne(next);
    }
  }

  private runOne(call: FakeDelayedCall): void {
    this.calls.shift();
    call.state = "ran";
    try {
      // Under the active nondeterminism guard, if any: a timed call is code under test.
      runAsTestedCode(call.fn, this.stamp);
    } catch (error) {
      this.onError(new UnhandledReactorError("a timed call", error));
    }
  }

  /** Keeps `calls` sorted by time, then by scheduling order. */
  private insert(call: FakeDelayedCall): void {
    let lo = 0;
    let hi = this.calls.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.calls[mid]!;
      if (other.time < call.time || (other.time === call.time && other.seq < call.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.calls.splice(lo, 0, call);
  }
}
