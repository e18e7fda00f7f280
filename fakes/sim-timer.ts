/**
 * `SimTimer`: a call scheduled with a simulated host's `callLater`, queued in the network's one
 * scheduler and owned by its host (a crash cancels it).
 *
 * @module
 */

import { DelayedCallCancelledError, DelayedCallRanError } from "../runtime/errors.js";
import type { DelayedCall } from "../runtime/reactor.js";
import type { SimHost } from "./sim-host.js";
import { SimEvent } from "./sim-scheduler.js";
import type { ConnectionEnd, EventErrorSite, SimScheduler } from "./sim-scheduler.js";

/** What a timed call needs from the simulated network it runs in. */
export interface TimerWorld {
  /** The virtual time. */
  readonly current: number;
  readonly scheduler: SimScheduler;
  /** Counts and traces a timed call about to run. */
  timerFired(timer: SimTimer): void;
}

/** A timed call on a simulated host. */
export class SimTimer extends SimEvent implements DelayedCall {
  /** @internal */ state: "pending" | "ran" | "cancelled" = "pending";

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    private readonly world: TimerWorld,
    /** The host that scheduled it. */
    readonly host: SimHost,
    /** A number unique in its network, for the trace. */
    readonly id: number,
    private readonly fn: (...args: unknown[]) => void,
    private readonly args: unknown[],
    /** The connection end whose code set it, while that end was open. */
    readonly owner: ConnectionEnd | null,
  ) {
    super();
    this.tieGroup = host.id;
  }

  /** The scheduled function's name, for leftover reports; "" when it has none. */
  get label(): string {
    return this.fn.name;
  }

  active(): boolean {
    return this.state === "pending";
  }

  /** @throws DelayedCallRanError or DelayedCallCancelledError when no longer active. */
  cancel(): void {
    this.check();
    this.state = "cancelled";
    this.world.scheduler.remove(this);
  }

  /** @throws as `cancel()`; RangeError when `ms` is NaN. */
  reset(ms: number): void {
    this.check();
    if (Number.isNaN(ms)) throw new RangeError("reset() delay is NaN");
    this.move(this.world.current + Math.max(0, ms));
  }

  /** @throws as `cancel()`; RangeError when `ms` is NaN. */
  delay(ms: number): void {
    this.check();
    if (Number.isNaN(ms)) throw new RangeError("delay() delay is NaN");
    this.move(this.time + ms);
  }

  /** @internal */
  fire(): void {
    this.state = "ran";
    this.world.timerFired(this);
    this.fn(...this.args);
  }

  /** @internal */
  describe(): string {
    return `timer #${this.id} on ${this.host.address}`;
  }

  /** @internal */
  errorSite(): EventErrorSite {
    return { host: this.host, where: "a timed call" };
  }

  private move(time: number): void {
    // A call made while its host was down is never queued: it can only change its due time.
    if (this.scheduled) this.world.scheduler.reschedule(this, time);
    else this.time = time;
  }

  private check(): void {
    if (this.state === "ran") throw new DelayedCallRanError();
    if (this.state === "cancelled") throw new DelayedCallCancelledError();
  }
}
