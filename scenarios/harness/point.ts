/**
 * The "assemble" stage of a point: one results point from what the load workers and the server
 * sampling measured in one window. Pure, so that it can be tested from fixture samples.
 *
 * @module
 */

import type { ResultPoint } from "../../reports/results.js";
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

/** The server's counters at one end of the window; null where they could not be read. */
export interface ServerWindowEnd {
  /** Cumulative CPU time, µs (pidusage: /proc on Linux); null: unknown. */
  readonly cpuUs: number | null;
  /** RSS, bytes; null: unknown. */
  readonly rssBytes: number | null;
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
  const { serverStart: s0, serverEnd: s1 } = input;
  // Unknown stays unknown (a --target server without --server-pid): never a 0.
  const serverCpuUs = s0.cpuUs === null || s1.cpuUs === null ? null : Math.max(0, s1.cpuUs - s0.cpuUs);
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
    serverCpuPercent: serverCpuUs === null ? null : windowUs > 0 ? (serverCpuUs / windowUs) * 100 : 0,
    serverCpuUsPerOp: serverCpuUs === null ? null : operations > 0 ? serverCpuUs / operations : 0,
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

/** The failure a point carries when its server would not start: the CLI exits 2 for those (a bad scenario). */
export const SERVER_DID_NOT_START = "server did not start: ";

const EMPTY_HISTOGRAM = encodeHistogram(mergeHistograms([]));

/** What identifies a point. */
export interface PointKey {
  readonly scenario: string;
  readonly style: string;
  readonly mode: "real" | "sim";
  readonly loadGenerator: string;
  readonly connections: number;
  readonly repeat: number;
  readonly rate?: number;
}

/**
 * A point that failed as a whole: no figure of it is a measurement.
 * @param key - which point.
 * @param failure - why, in words.
 * @returns the point.
 */
export function failedPoint(key: PointKey, failure: string): ResultPoint {
  return {
    ...key,
    durationMs: 0,
    throughput: 0,
    operations: 0,
    latencyUs: { p50: 0, p90: 0, p99: 0, p999: 0, max: 0 },
    errors: 0,
    timeouts: 0,
    mismatches: 0,
    serverRssBytes: null,
    serverCpuPercent: null,
    serverCpuUsPerOp: null,
    clientCpuPercent: 0,
    clientWorkers: 0,
    generatorSaturated: false,
    histogram: EMPTY_HISTOGRAM,
    failure,
  };
}

/**
 * A `hold` point's figures from its window: held connections are those that answered the probe
 * after the window; memory per connection is the RSS growth after a GC per opened connection;
 * the probes come after the window, so a rate means nothing here and CPU is per held connection.
 * @param point - the point as `assemblePoint` made it.
 * @param memory - server memory before and after the connections opened.
 * @param memory.before - before.
 * @param memory.after - after.
 * @param open - connections opened.
 * @returns the point.
 */
export function holdPoint(point: ResultPoint, memory: { readonly before: { rssBytes: number | null; heapUsedBytes: number | null }; readonly after: { rssBytes: number | null; heapUsedBytes: number | null } }, open: number): ResultPoint {
  const held = point.operations;
  const { before, after } = memory;
  const extra: Record<string, number> = { ...point.extra, heldConnections: held };
  if (before.rssBytes !== null && after.rssBytes !== null) {
    extra["rssBeforeBytes"] = before.rssBytes;
    extra["rssAfterBytes"] = after.rssBytes;
    extra["bytesPerConnection"] = open > 0 ? (after.rssBytes - before.rssBytes) / open : 0;
  }
  if (before.heapUsedBytes !== null && after.heapUsedBytes !== null) extra["heapBytesPerConnection"] = open > 0 ? (after.heapUsedBytes - before.heapUsedBytes) / open : 0;
  const cpuPercent = point.serverCpuPercent;
  if (cpuPercent !== null && held > 0) extra["serverCpuUsPerConnectionSecond"] = (cpuPercent / 100) * 1e6 / held;
  const cpuUs = cpuPercent === null ? null : (cpuPercent / 100) * point.durationMs * 1000;
  return { ...point, throughput: 0, serverCpuUsPerOp: cpuUs === null ? null : held > 0 ? cpuUs / held : 0, extra };
}
