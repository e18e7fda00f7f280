/**
 * Groups the runs of one or more results files into points (scenario × style × mode × rate ×
 * connections) and summarises each point over its repeats: median with a bootstrap interval,
 * spread (MAD and IQR), coefficient of variation and Tukey outliers, plus the merged latency
 * histograms. Failed runs are kept aside, never averaged in.
 *
 * @module
 */

import type { RunResults } from "./read-results.js";
import type { ResultPoint } from "./results.js";
import { mergeHistograms, type LatencySpectrum } from "./latency-spectrum.js";
import {
  bootstrapInterval,
  coefficientOfVariation,
  interquartileRange,
  median,
  medianAbsoluteDeviation,
  tukeyFences,
  type BootstrapOptions,
  type Interval,
  type TukeyFences,
} from "./statistics.js";

/** One figure of a point, summarised over its successful runs. */
export interface MetricSummary {
  /** One value per successful run, in run order. */
  readonly values: readonly number[];
  /** The median and its bootstrap confidence interval. */
  readonly median: Interval;
  readonly mad: number;
  readonly iqr: number;
  /** Coefficient of variation (0.1 is 10%). */
  readonly cv: number;
  readonly fences: TukeyFences;
}

/** Which curve a point belongs to: a scenario measured one way (mode, open or closed loop). */
export interface SeriesKey {
  readonly scenario: string;
  readonly mode: "real" | "sim";
  /** Open-loop target rate; absent for closed loop. */
  readonly rate?: number;
}

/** One point, summarised over its repeats. */
export interface PointSummary extends SeriesKey {
  readonly style: string;
  readonly connections: number;
  /** Every run of the point, in input order (successful and failed). */
  readonly runs: readonly ResultPoint[];
  /** The runs that did not fail. */
  readonly ok: readonly ResultPoint[];
  /** The runs that failed as a whole. */
  readonly failed: readonly ResultPoint[];
  readonly throughput?: MetricSummary;
  readonly p50?: MetricSummary;
  readonly p99?: MetricSummary;
  /**
   * Bytes of server memory per connection: `extra.bytesPerConnection` if the scenario measured
   * it, else (RSS − median RSS at the style's smallest connection count) / (extra connections),
   * so the process's fixed cost is not spread over the connections. Absent at the smallest count.
   */
  readonly memoryPerConnection?: MetricSummary;
  readonly cpuUsPerOp?: MetricSummary;
  /** Merged latency histograms of the successful runs (corrected, for open-loop runs). */
  readonly spectrum?: LatencySpectrum;
  /** Open-loop only: merged uncorrected histograms. */
  readonly uncorrectedSpectrum?: LatencySpectrum;
  readonly errors: number;
  readonly timeouts: number;
  readonly mismatches: number;
  /** Runs whose load generator was saturated. */
  readonly saturatedRuns: number;
}

/**
 * A stable identity for a series.
 *
 * @param key - The series.
 * @returns A string such as `tcp-echo|real|closed`.
 */
export function seriesId(key: SeriesKey): string {
  return `${key.scenario}|${key.mode}|${key.rate === undefined ? "closed" : `rate=${key.rate}`}`;
}

/**
 * A stable identity for a point.
 *
 * @param point - The point (or run).
 * @returns A string such as `tcp-echo|real|closed|async|c=100`.
 */
export function pointId(point: SeriesKey & { readonly style: string; readonly connections: number }): string {
  return `${seriesId(point)}|${point.style}|c=${point.connections}`;
}

/**
 * A label for people: the scenario, and how it was measured when that is not the default.
 *
 * @param key - The series.
 * @returns E.g. `http-hello`, `http-hello (open loop, 5,000 ops/s)`, `tcp-echo (sim)`.
 */
export function seriesLabel(key: SeriesKey): string {
  const notes: string[] = [];
  if (key.rate !== undefined) notes.push(`open loop, ${key.rate.toLocaleString("en-US")} ops/s`);
  if (key.mode === "sim") notes.push("sim");
  return notes.length === 0 ? key.scenario : `${key.scenario} (${notes.join(", ")})`;
}

/**
 * Summarises one figure over runs.
 *
 * @param values - One value per run.
 * @param bootstrap - Bootstrap settings (seed, resamples, confidence).
 * @returns The summary, or `undefined` when there are no values.
 */
export function summarizeMetric(values: readonly number[], bootstrap: BootstrapOptions): MetricSummary | undefined {
  if (values.length === 0) return undefined;
  return {
    values,
    median: bootstrapInterval(values, undefined, bootstrap),
    mad: medianAbsoluteDeviation(values),
    iqr: interquartileRange(values),
    cv: coefficientOfVariation(values),
    fences: tukeyFences(values),
  };
}

/** The RSS floor of each series × style: median RSS of its smallest connection count with data. */
function rssFloors(groups: Iterable<ResultPoint[]>): Map<string, { connections: number; rss: number }> {
  const floors = new Map<string, { connections: number; rss: number }>();
  for (const runs of groups) {
    const ok = runs.filter((r) => r.failure === undefined && r.serverRssBytes !== null);
    const first = ok[0];
    if (first === undefined) continue;
    const key = `${seriesId(first)}|${first.style}`;
    const known = floors.get(key);
    if (known === undefined || first.connections < known.connections) {
      floors.set(key, { connections: first.connections, rss: median(ok.map((r) => r.serverRssBytes ?? 0)) });
    }
  }
  return floors;
}

function memoryPerConnection(run: ResultPoint, floor: { connections: number; rss: number } | undefined): number | undefined {
  const measured = run.extra?.["bytesPerConnection"];
  if (measured !== undefined) return measured;
  // RSS null or 0 means not measured (a --target server without --server-pid; a simulated run).
  if (floor === undefined || run.serverRssBytes === null || run.serverRssBytes === 0 || floor.rss === 0 || run.connections <= floor.connections) return undefined;
  return (run.serverRssBytes - floor.rss) / (run.connections - floor.connections);
}

/**
 * Groups the runs of several results files into summarised points, in a stable order (scenario,
 * mode, rate, style as first seen, connections ascending).
 *
 * @param files - Results files; runs of the same point in several files are pooled as repeats.
 * @param bootstrap - Bootstrap settings.
 * @returns The points.
 */
export function summarizePoints(files: readonly RunResults[], bootstrap: BootstrapOptions): PointSummary[] {
  const groups = new Map<string, ResultPoint[]>();
  for (const file of files) {
    for (const run of file.points) {
      const id = pointId(run);
      const list = groups.get(id);
      if (list === undefined) groups.set(id, [run]);
      else list.push(run);
    }
  }
  // Styles in the order the scenarios declared them, then any the declarations lack.
  const styleOrder = new Map<string, number>();
  for (const file of files) for (const s of file.scenarios) for (const style of s.styles) if (!styleOrder.has(style.name)) styleOrder.set(style.name, styleOrder.size);
  for (const file of files) for (const run of file.points) if (!styleOrder.has(run.style)) styleOrder.set(run.style, styleOrder.size);
  const summaries: PointSummary[] = [];
  const floors = rssFloors(groups.values());
  for (const runs of groups.values()) {
    const first = runs[0] as ResultPoint;
    const ok = runs.filter((r) => r.failure === undefined);
    const failed = runs.filter((r) => r.failure !== undefined);
    // A point read from Artillery's output has no histogram (""): only its summary.
    const spectrum = mergeHistograms(ok.flatMap((r) => (r.histogram === "" ? [] : [r.histogram])));
    const uncorrected = mergeHistograms(ok.flatMap((r) => (r.uncorrectedHistogram === undefined ? [] : [r.uncorrectedHistogram])));
    // A figure a run did not measure (null: unknown, such as the CPU of a --target server without
    // --server-pid) is left out, never counted as 0.
    const metric = (f: (r: ResultPoint) => number | null): MetricSummary | undefined =>
      summarizeMetric(ok.flatMap((r) => {
        const v = f(r);
        return v === null ? [] : [v];
      }), bootstrap);
    const summary: PointSummary = {
      scenario: first.scenario,
      mode: first.mode,
      ...(first.rate === undefined ? {} : { rate: first.rate }),
      style: first.style,
      connections: first.connections,
      runs,
      ok,
      failed,
      ...optional("throughput", metric((r) => r.throughput)),
      // A run whose latency is all zeros measured none (a simulated run counts virtual time);
      // summarising its zeros would claim a latency of 0.
      ...optional("p50", summarizeMetric(ok.filter((r) => r.latencyUs.max > 0).map((r) => r.latencyUs.p50), bootstrap)),
      ...optional("p99", summarizeMetric(ok.filter((r) => r.latencyUs.max > 0).map((r) => r.latencyUs.p99), bootstrap)),
      ...optional(
        "memoryPerConnection",
        summarizeMetric(
          ok.flatMap((r) => {
            const m = memoryPerConnection(r, floors.get(`${seriesId(r)}|${r.style}`));
            return m === undefined ? [] : [m];
          }),
          bootstrap,
        ),
      ),
      ...optional("cpuUsPerOp", metric((r) => r.serverCpuUsPerOp)),
      ...optional("spectrum", spectrum),
      ...optional("uncorrectedSpectrum", uncorrected),
      errors: sum(ok.map((r) => r.errors)),
      timeouts: sum(ok.map((r) => r.timeouts)),
      mismatches: sum(ok.map((r) => r.mismatches)),
      saturatedRuns: ok.filter((r) => r.generatorSaturated).length,
    };
    summaries.push(summary);
  }
  return summaries.sort(
    (a, b) =>
      compareText(seriesId(a), seriesId(b)) ||
      (styleOrder.get(a.style) ?? 0) - (styleOrder.get(b.style) ?? 0) ||
      a.connections - b.connections,
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
