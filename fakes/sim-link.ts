/**
 * `SimLink`: the path between two simulated hosts (or a host and itself): its latency model,
 * and whether a partition or a hold blocks it, with the events waiting for it to open.
 *
 * @module
 */

import type { LatencyModel } from "./sim-latency.js";
import type { SimEvent } from "./sim-scheduler.js";

/** The link between two hosts; one per unordered pair, made on first use. */
export class SimLink {
  /** True while a partition separates the two hosts. */
  partitioned = false;
  /** True while the link is held (all traffic waits). */
  held = false;
  /** Events that arrived while the link was blocked, in arrival order. */
  parked: SimEvent[] = [];

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    /** One end's address. */
    readonly a: string,
    /** The other end's address (the same for loopback). */
    readonly b: string,
    /** The one-way latency model. */
    public model: LatencyModel,
  ) {}

  /** True while nothing may cross. */
  get blocked(): boolean {
    return this.partitioned || this.held;
  }
}
