/**
 * `OpenLoopSchedule`: when each operation of a constant-rate (open-loop) run is meant to be
 * sent, so that latency counts from the intended time and a slow server cannot hide its stalls
 * by slowing the load down (no coordinated omission).
 *
 * @module
 */

import { InvalidOptionError } from "../../../runtime/errors.js";

/**
 * A constant-rate schedule over `connections` connections: operation `n` of the whole run
 * (0-based) is due at `start + n / rate` seconds and goes to connection `n % connections`, so
 * each connection sends every `connections / rate` seconds, staggered evenly. Times are in ms.
 */
export class OpenLoopSchedule {
  private readonly intervalMs: number;

  /**
   * @param start - the time of operation 0, in ms (any monotonic origin).
   * @param rate - operations per second over all connections; positive and finite.
   * @param connections - how many connections share the rate; a positive integer.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad rate or connection count.
   */
  constructor(
    readonly start: number,
    readonly rate: number,
    readonly connections: number,
  ) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new InvalidOptionError("rate", `must be a positive number of operations per second, got ${rate}`);
    if (!Number.isInteger(connections) || connections < 1) {
      throw new InvalidOptionError("connections", `must be a positive integer, got ${connections}`);
    }
    this.intervalMs = 1000 / rate;
  }

  /**
   * How many operations of the whole run are due at `now` (the count, so operations
   * `0 .. dueCount(now) - 1` are due).
   * @param now - the current time, in ms.
   * @returns the count; 0 before `start`.
   */
  dueCount(now: number): number {
    if (now < this.start) return 0;
    return Math.floor((now - this.start) / this.intervalMs) + 1;
  }

  /**
   * The intended send time of operation `n` of the whole run.
   * @param n - the operation's index, 0-based.
   * @returns the time, in ms.
   */
  intendedTime(n: number): number {
    return this.start + n * this.intervalMs;
  }

  /**
   * The intended send time of connection `connection`'s `k`-th operation (both 0-based).
   * @param connection - the connection's index.
   * @param k - the operation's index on that connection.
   * @returns the time, in ms.
   */
  intendedTimeOf(connection: number, k: number): number {
    return this.intendedTime(connection + k * this.connections);
  }
}
