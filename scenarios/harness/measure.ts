/**
 * The "open load" and "measure" stages of a point: the load workers connect and warm up, then a
 * window is measured on both sides (the workers count operations, the server is sampled at each
 * end); for a `hold` scenario, server memory is read after a GC before and after the connections
 * open, and the probes follow the window.
 *
 * @module
 */

import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { LoadPool, SeriesLoad } from "./load/load-pool.js";
import type { ServerWindowEnd, WorkerWindow } from "./point.js";
import type { MemorySample, ServerUnderTest } from "./server-under-test.js";

/** Settling time after a `hold` scenario connects, before memory is read, ms. */
export const HOLD_SETTLE_MS = 500;

/** What one measured window saw. */
export interface MeasuredWindow {
  /** Connections the workers opened. */
  readonly open: number;
  /** The window's length as the runner timed it, ms. */
  readonly windowMs: number;
  readonly serverStart: ServerWindowEnd;
  readonly serverEnd: ServerWindowEnd;
  readonly workers: readonly WorkerWindow[];
  /** `hold` scenarios: server memory after a GC before connecting and once connected. */
  readonly memory?: { readonly before: MemorySample; readonly after: MemorySample };
}

/** The durations of a point. */
export interface WindowTimes {
  readonly warmupMs: number;
  readonly durationMs: number;
}

async function window(server: ServerUnderTest, pool: LoadPool, durationMs: number): Promise<Omit<MeasuredWindow, "open">> {
  pool.measure();
  const t0 = performance.now();
  const serverStart = await server.sample();
  await sleep(Math.max(0, durationMs - (performance.now() - t0)));
  const serverEnd = await server.sample();
  const windowMs = performance.now() - t0;
  const workers = await pool.stop();
  return { windowMs, serverStart, serverEnd, workers };
}

/**
 * Opens the load, warms up and measures one window. The caller closes the load.
 * @param server - the server under test.
 * @param pool - the load workers.
 * @param load - what they load.
 * @param times - warm-up and window.
 * @returns what the window saw.
 */
export async function measureThroughput(server: ServerUnderTest, pool: LoadPool, load: SeriesLoad, times: WindowTimes): Promise<MeasuredWindow> {
  const open = await pool.init(load);
  await pool.start();
  await sleep(times.warmupMs);
  return { open, ...(await window(server, pool, times.durationMs)) };
}

/**
 * Reads the server's memory, opens and holds the connections, measures one window of silence;
 * the workers' probes follow it (counted in the window's figures). The caller closes the load.
 * @param server - a fresh server (its memory before the connections is the baseline).
 * @param pool - the load workers.
 * @param load - what they load.
 * @param times - warm-up and window.
 * @returns what the window saw, with the memory figures.
 */
export async function measureHold(server: ServerUnderTest, pool: LoadPool, load: SeriesLoad, times: WindowTimes): Promise<MeasuredWindow> {
  const before = await server.memoryAfterGc();
  const open = await pool.init(load);
  await sleep(HOLD_SETTLE_MS);
  const after = await server.memoryAfterGc();
  await pool.start();
  await sleep(times.warmupMs);
  return { open, memory: { before, after }, ...(await window(server, pool, times.durationMs)) };
}
