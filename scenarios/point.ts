/**
 * `assemblePoint`: one results point from what the load workers and the server sampling
 * measured in one window. Pure, so that it can be tested from fixture samples.
 *
 * @module
 */

import type { ResultPoint } from "./results.js";
import { encodeHistogram, mergeHistograms, summarize } from "./load/histogram.js";
import type { WorkerCounts } from "./load/load-recorder.js";

/** A load worker at or above this share of one core was the limit, not the server. */
export const GENERATOR_SATURATION_THRESHOLD = 0.9;

/** One worker's figures for a window (the `sample` message, without its type). */
export interface WorkerWindow extends WorkerCounts {
  /** CPU the worker used in the window, µs. */
  readonly cpuUs: number;
  /** The window's wall time as the worker saw it, ms. */
  readonly wallMs: number;
  /** The workload's extra figures. */
  readonly extra: Readonly<Record<string, number>>;
}

/** The server's counters at one end of the window. */
export interface ServerWindowEnd {
  /** Cumulative CPU time, µs (from /proc). */
  readonly cpuUs: number;
  /** RSS, bytes (from /proc). */
  readonly rssBytes: number;
  /** Cumulative event-loop idle and active ms (Node servers only). */
  readonly elu?: { readonly idle: number; readonly active: number };
}

/** Everything a point is made from. */
export interface PointInput {
  readonly scenario: string;
  readonly style: string;
  readonly loadGenerator: string;
  readonly connections: number;
  readonly repeat: number;
  /** The window's length as the runner timed it, ms. */
  readonly windowMs: number;
  readonly rate?: number;
  readonly workers: readonly WorkerWindow[];
  /** Connections that could not be opened (counted as errors). */
  readonly connectFailures: number;
  readonly serverStart: ServerWindowEnd;
  readonly serverEnd: ServerWindowEnd;
  /** Figures added to `extra` besides the workers' summed ones. */
  readonly extra?: Readonly<Record<string, number>>;
  readonly failure?: string;
}

/**
 * Builds a real-mode results point.
 * @param input - the window's measurements.
 * @returns the point.
 */
export function assemblePoint(input: PointInput): ResultPoint {
  const windowUs = input.windowMs * 1000;
  let operations = 0;
  let errors = input.connectFailures;
  let timeouts = 0;
  let mismatches = 0;
  let clientCpuUs = 0;
  let saturated = false;
  const extra: Record<string, number> = {};
  for (const w of input.workers) {
    operations += w.operations;
    errors += w.errors;
    timeouts += w.timeouts;
    mismatches += w.mismatches;
    clientCpuUs += w.cpuUs;
    if (w.wallMs > 0 && w.cpuUs / (w.wallMs * 1000) >= GENERATOR_SATURATION_THRESHOLD) saturated = true;
    for (const [k, v] of Object.entries(w.extra)) extra[k] = (extra[k] ?? 0) + v;
  }
  Object.assign(extra, input.extra ?? {});
  const histogram = mergeHistograms(input.workers.map((w) => w.histogram));
  const uncorrected = input.workers.flatMap((w) => (w.uncorrectedHistogram === undefined ? [] : [w.uncorrectedHistogram]));
  const serverCpuUs = Math.max(0, input.serverEnd.cpuUs - input.serverStart.cpuUs);
  const { serverStart: s0, serverEnd: s1 } = input;
  let elu: number | undefined;
  if (s0.elu !== undefined && s1.elu !== undefined) {
    const active = s1.elu.active - s0.elu.active;
    const total = active + (s1.elu.idle - s0.elu.idle);
    elu = total > 0 ? active / total : 0;
  }
  const point: ResultPoint = {
    scenario: input.scenario,
    style: input.style,
    mode: "real",
    loadGenerator: input.loadGenerator,
    connections: input.connections,
    repeat: input.repeat,
    durationMs: input.windowMs,
    ...(input.rate === undefined ? {} : { rate: input.rate }),
    throughput: windowUs > 0 ? (operations * 1e6) / windowUs : 0,
    operations,
    latencyUs: summarize(histogram),
    ...(uncorrected.length === 0 ? {} : { uncorrectedLatencyUs: summarize(mergeHistograms(uncorrected)) }),
    errors,
    timeouts,
    mismatches,
    serverRssBytes: s1.rssBytes,
    serverCpuPercent: windowUs > 0 ? (serverCpuUs / windowUs) * 100 : 0,
    serverCpuUsPerOp: operations > 0 ? serverCpuUs / operations : 0,
    ...(elu === undefined ? {} : { serverEventLoopUtilization: elu }),
    clientCpuPercent: windowUs > 0 ? (clientCpuUs / windowUs) * 100 : 0,
    clientWorkers: input.workers.length,
    generatorSaturated: saturated,
    ...(Object.keys(extra).length === 0 ? {} : { extra }),
    histogram: encodeHistogram(histogram),
    ...(uncorrected.length === 0 ? {} : { uncorrectedHistogram: encodeHistogram(mergeHistograms(uncorrected)) }),
    ...(input.failure === undefined ? {} : { failure: input.failure }),
  };
  return point;
}
