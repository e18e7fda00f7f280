/**
 * `monotonicNowMs`: a clock every process of the machine shares, so that a publish time
 * written by one load worker can be subtracted from a receive time read in another.
 *
 * `performance.now()` counts from each process's own start; `process.hrtime` reads the
 * system's monotonic clock (`CLOCK_MONOTONIC` on Linux), the same in every process. The offset
 * between them is measured once per process (the best of a few readings, within about a
 * microsecond), and from then on a reading costs one `performance.now()`.
 *
 * @module
 */

import { performance } from "node:perf_hooks";

/** Readings taken to measure the offset; the tightest pair wins. */
export const OFFSET_SAMPLES = 9;

function measureOffset(): number {
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < OFFSET_SAMPLES; i++) {
    const before = performance.now();
    const ns = process.hrtime.bigint();
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      offset = Number(ns) / 1e6 - (before + after) / 2;
    }
  }
  return offset;
}

const OFFSET_MS = measureOffset();

/**
 * The system's monotonic clock, in ms (with sub-µs resolution), comparable across processes.
 * @returns the time.
 */
export function monotonicNowMs(): number {
  return performance.now() + OFFSET_MS;
}
