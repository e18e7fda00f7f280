/**
 * The `DelayedCall` of `NodeReactor`: one Node timer per call.
 *
 * @module
 */

import { DelayedCallCancelledError, DelayedCallRanError } from "../errors.js";
import type { DelayedCall } from "../reactor.js";

/**
 * The longest delay Node's `setTimeout` accepts (2^31 - 1 ms, about 24.8 days); a longer one
 * would fire after 1 ms, so longer calls are armed in steps of at most this much.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** What a delayed call needs from the reactor that scheduled it. */
export interface TimerHost {
  now(): number;
  /** @internal The call ran or was cancelled: stop tracking it. */
  forgetCall(call: NodeDelayedCall): void;
  /** @internal Reports an exception thrown by the call. */
  reportError(where: string, error: unknown): void;
}

const PENDING = 0;
const RAN = 1;
const CANCELLED = 2;

/**
 * A call scheduled with `NodeReactor.callLater`.
 *
 * `reset(ms)` with the same delay as last armed reuses the timer (`timeout.refresh()`), so an
 * idle timeout pushed back on every message costs no allocation.
 */
export class NodeDelayedCall implements DelayedCall {
  /** The absolute due time, on the reactor's clock. */
  time: number;
  private state = PENDING;
  private timer: NodeJS.Timeout | null = null;
  /** The delay `timer` was armed with, which is what `refresh()` re-arms it with. */
  private armedMs = -1;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    private readonly host: TimerHost,
    ms: number,
    private readonly fn: (...args: readonly unknown[]) => void,
    private readonly args: readonly unknown[],
  ) {
    this.time = host.now() + ms;
    this.arm(ms);
  }

  active(): boolean {
    return this.state === PENDING;
  }

  cancel(): void {
    this.check();
    this.state = CANCELLED;
    this.disarm();
    this.host.forgetCall(this);
  }

  reset(ms: number): void {
    this.check();
    const delay = Math.max(0, ms);
    this.time = this.host.now() + delay;
    this.arm(delay);
  }

  delay(ms: number): void {
    this.check();
    this.time += ms;
    this.arm(this.time - this.host.now());
  }

  /** @internal Cancels without the checks, for the reactor's shutdown. */
  cancelQuietly(): void {
    if (this.state !== PENDING) return;
    this.state = CANCELLED;
    this.disarm();
  }

  /** @internal Called by the Node timer. */
  fire(): void {
    this.timer = null;
    if (this.state !== PENDING) return;
    // Node measures timers from the loop's cached time, so a timer can fire a little before
    // `time` as read from the clock; re-arm only for a whole millisecond or more (which also
    // covers delays past MAX_TIMER_MS, armed in steps).
    const remaining = this.time - this.host.now();
    if (remaining >= 1) {
      this.arm(remaining);
      return;
    }
    this.state = RAN;
    this.host.forgetCall(this);
    try {
      this.fn(...this.args);
    } catch (error) {
      this.host.reportError("a timed call", error);
    }
  }

  private arm(delay: number): void {
    const ms = Math.min(Math.max(0, Math.ceil(delay)), MAX_TIMER_MS);
    if (this.timer !== null && ms === this.armedMs) {
      this.timer.refresh();
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.armedMs = ms;
    this.timer = setTimeout(fireCall, ms, this);
  }

  private disarm(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private check(): void {
    if (this.state === RAN) throw new DelayedCallRanError();
    if (this.state === CANCELLED) throw new DelayedCallCancelledError();
  }
}

/** One shared timer callback for every call: the call itself is the timer's argument. */
function fireCall(call: NodeDelayedCall): void {
  call.fire();
}
