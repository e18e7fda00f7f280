/**
 * Artillery's results as wirelab results: the metric names the wirelab engine for Artillery
 * emits (their one definition: the engine in `scenarios/harness/artillery-engine.ts` names its
 * metrics with {@link artilleryMetricName}), and the reader that turns one or more `artillery run
 * --output` files into one results object the reports read like a `results.json`.
 *
 * What an Artillery output file keeps is less than a wirelab results file, and the report says
 * so ({@link ARTILLERY_LIMITS}):
 * - counters (operations, errors, timeouts, mismatches, connections, virtual users) are exact and
 *   add up over files: several runs at once (as from several machines) merge into one point;
 * - latency is a summary per run of a DDSketch (1% relative accuracy), in ms rounded to 0.1: no
 *   histogram, so no HDR spectrum, and percentiles of merged runs cannot be recomputed. A merged
 *   point's percentile is the largest of the runs' (an upper bound: a percentile of a mixture lies
 *   between its parts'); its count, min, mean and max are exact;
 * - nothing about the server (CPU, memory) or the load machines' CPU.
 *
 * @module
 */

import { ResultsFormatError } from "./errors.js";
import type { RunResults } from "./read-results.js";
import type { LatencySummary, ResultPoint, ScenarioInfo } from "./results.js";
import { RESULTS_SCHEMA_VERSION } from "./results.js";

/** The metrics the engine emits per wirelab scenario (and style label). */
export const ARTILLERY_METRICS = {
  /** Counter: operations that completed correctly. */
  operations: "operations",
  /** Histogram (Artillery's summary): the latency of each of those, in ms (Artillery's unit). */
  latency: "latency",
  /** Rate: completed operations per second. */
  rate: "operation_rate",
  /** Counter: operations that failed (a connect that failed counts as one, as in `wirelab bench`). */
  errors: "errors",
  /** Counter: operations unanswered within the timeout. */
  timeouts: "timeouts",
  /** Counter: answers that did not match. */
  mismatches: "mismatches",
  /** Counter: connections opened (one per virtual user that connected). */
  connections: "connections",
} as const;

/** One of {@link ARTILLERY_METRICS}. */
export type ArtilleryMetric = (typeof ARTILLERY_METRICS)[keyof typeof ARTILLERY_METRICS];

/** The style a point gets when the engine was given no `style` label. */
export const ARTILLERY_DEFAULT_STYLE = "artillery";

/** What the load generator of an Artillery point is called in the results. */
export const ARTILLERY_LOAD_GENERATOR = "artillery";

/** What a report says of points read from Artillery's output. */
export const ARTILLERY_LIMITS =
  "read from Artillery's --output: operations, errors, timeouts, mismatches and connections are exact counts (summed over the Artillery runs merged); " +
  "latency comes from Artillery's summaries, percentiles of a DDSketch (±1% relative) rounded to 0.1 ms, not HDR histograms, so these points have no latency spectrum, " +
  "and where several runs are merged each percentile is the largest of the runs' (an upper bound), with count, min, mean and max exact (in the point's extra figures); " +
  "throughput is operations over the span from the first to the last counter of all runs; the server's CPU and memory and the load's CPU are unknown";

/**
 * The name of an engine metric: `wirelab.SCENARIO.METRIC`, or `wirelab.SCENARIO/STYLE.METRIC`
 * with a style label (scenario and style names never hold a `/`).
 * @param scenario - the wirelab scenario's name.
 * @param style - the label of the server under test, if the script gave one.
 * @param metric - which metric.
 * @returns e.g. `wirelab.tcp-echo.latency`.
 */
export function artilleryMetricName(scenario: string, style: string | undefined, metric: ArtilleryMetric): string {
  return `wirelab.${scenario}${style === undefined ? "" : `/${style}`}.${metric}`;
}

const METRIC_NAME = new RegExp(`^wirelab\\.([^/]+?)(?:/([^/]+))?\\.(${Object.values(ARTILLERY_METRICS).join("|")})$`);

/**
 * Splits an engine metric name.
 * @param name - a metric name from an Artillery report.
 * @returns its scenario, style and metric, or undefined for a metric the engine did not name.
 */
export function parseArtilleryMetricName(name: string): { scenario: string; style: string | undefined; metric: ArtilleryMetric } | undefined {
  const m = METRIC_NAME.exec(name);
  if (m === null) return undefined;
  return { scenario: m[1] as string, style: m[2], metric: m[3] as ArtilleryMetric };
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Whether a parsed JSON file is Artillery's `--output` (an `aggregate` report and its
 * `intermediate` periods) rather than a wirelab results file.
 * @param json - the parsed file.
 * @returns true for Artillery's output.
 */
export function isArtilleryOutput(json: unknown): boolean {
  return isObject(json) && !("schemaVersion" in json) && isObject(json["aggregate"]) && Array.isArray(json["intermediate"]);
}

/** The parts of one latency summary a merge needs, in ms as Artillery writes them. */
interface Summary {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
}

/** One Artillery output file, checked. */
interface ArtilleryFile {
  readonly source: string;
  readonly counters: Readonly<Record<string, number>>;
  readonly summaries: Readonly<Record<string, Summary>>;
  readonly firstAt: number;
  readonly lastAt: number;
}

function fail(source: string, field: string, problem: string): never {
  throw new ResultsFormatError(source, field, problem);
}

function number(source: string, field: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(source, field, `expected a finite number, got ${v === undefined ? "nothing" : JSON.stringify(v)}`);
  return v;
}

function readFile(json: unknown, source: string): ArtilleryFile {
  if (!isArtilleryOutput(json)) fail(source, "$", "not Artillery's --output (an object with aggregate and intermediate)");
  const aggregate = (json as Json)["aggregate"] as Json;
  const counters: Record<string, number> = {};
  const rawCounters = aggregate["counters"] ?? {};
  if (!isObject(rawCounters)) fail(source, "aggregate.counters", "expected an object");
  for (const [k, v] of Object.entries(rawCounters)) counters[k] = number(source, `aggregate.counters.${k}`, v);
  const summaries: Record<string, Summary> = {};
  const rawSummaries = aggregate["summaries"] ?? {};
  if (!isObject(rawSummaries)) fail(source, "aggregate.summaries", "expected an object");
  for (const [k, v] of Object.entries(rawSummaries)) {
    if (parseArtilleryMetricName(k) === undefined) continue;
    if (!isObject(v)) fail(source, `aggregate.summaries.${k}`, "expected an object");
    const f = (key: string): number => number(source, `aggregate.summaries.${k}.${key}`, v[key]);
    summaries[k] = { count: f("count"), min: f("min"), max: f("max"), mean: f("mean"), p50: f("p50"), p90: f("p90"), p99: f("p99"), p999: f("p999") };
  }
  const at = (key: string): number => (aggregate[key] === undefined ? NaN : number(source, `aggregate.${key}`, aggregate[key]));
  return { source, counters, summaries, firstAt: at("firstCounterAt"), lastAt: at("lastCounterAt") };
}

/** The latency of a point from the runs' summaries (ms) in µs, percentiles never decreasing. */
function latencyOf(summaries: readonly Summary[]): { latencyUs: LatencySummary; extra: Record<string, number> } {
  const count = summaries.reduce((a, s) => a + s.count, 0);
  const max = Math.max(...summaries.map((s) => s.max));
  const min = Math.min(...summaries.map((s) => s.min));
  const mean = count === 0 ? 0 : summaries.reduce((a, s) => a + s.mean * s.count, 0) / count;
  // A sketch's percentile can land past the max the run recorded (1% relative error): clamp.
  let floor = 0;
  const pick = (key: "p50" | "p90" | "p99" | "p999"): number => {
    floor = Math.max(floor, Math.min(Math.max(...summaries.map((s) => s[key])), max));
    return Math.round(floor * 1000);
  };
  const latencyUs: LatencySummary = { p50: pick("p50"), p90: pick("p90"), p99: pick("p99"), p999: pick("p999"), max: Math.round(Math.max(max, floor) * 1000) };
  return { latencyUs, extra: { latencyCount: count, latencyMinUs: Math.round(min * 1000), latencyMeanUs: Math.round(mean * 1000) } };
}

/**
 * Merges one or more Artillery output files into one results object: one point per wirelab
 * scenario and style label the engine reported, its counts summed over the files (runs at once,
 * as from several machines, are one run of the whole).
 *
 * @param files - parsed Artillery output files with where each was read from.
 * @returns the results, `source` naming every file merged.
 * @throws {@link ResultsFormatError} `WL_ERR_RESULTS_FORMAT` for a file that is not Artillery's
 *   output, a bad field, or output without any wirelab engine metric.
 */
export function artilleryResults(files: readonly { readonly json: unknown; readonly source: string }[]): RunResults {
  if (files.length === 0) throw new RangeError("artilleryResults needs at least one file");
  const read = files.map((f) => readFile(f.json, f.source));
  const keys = new Map<string, { scenario: string; style: string | undefined }>();
  for (const file of read) {
    for (const name of [...Object.keys(file.counters), ...Object.keys(file.summaries)]) {
      const m = parseArtilleryMetricName(name);
      if (m !== undefined) keys.set(`${m.scenario}/${m.style ?? ""}`, { scenario: m.scenario, style: m.style });
    }
  }
  const source = read.map((f) => f.source).join(" + ");
  if (keys.size === 0) fail(source, "aggregate", "Artillery output without any wirelab.* metric: was the script's engine wirelab?");
  const firstAt = Math.min(...read.map((f) => f.firstAt).filter(Number.isFinite));
  const lastAt = Math.max(...read.map((f) => f.lastAt).filter(Number.isFinite));
  // A run with a single counter instant still took time: at least a second, as Artillery's rates do.
  const durationMs = Number.isFinite(firstAt) && Number.isFinite(lastAt) ? Math.max(lastAt - firstAt, 1000) : 1000;
  const points: ResultPoint[] = [];
  const scenarios = new Map<string, ScenarioInfo>();
  for (const { scenario, style } of [...keys.values()].sort((a, b) => (a.scenario + (a.style ?? "") < b.scenario + (b.style ?? "") ? -1 : 1))) {
    const total = (metric: ArtilleryMetric): number => read.reduce((a, f) => a + (f.counters[artilleryMetricName(scenario, style, metric)] ?? 0), 0);
    const summaries = read.flatMap((f) => {
      const s = f.summaries[artilleryMetricName(scenario, style, ARTILLERY_METRICS.latency)];
      return s === undefined ? [] : [s];
    });
    const operations = total(ARTILLERY_METRICS.operations);
    const connections = total(ARTILLERY_METRICS.connections);
    const latency = summaries.length === 0 ? undefined : latencyOf(summaries);
    const styleName = style ?? ARTILLERY_DEFAULT_STYLE;
    points.push({
      scenario,
      style: styleName,
      mode: "real",
      loadGenerator: ARTILLERY_LOAD_GENERATOR,
      connections: Math.max(connections, 1),
      repeat: 0,
      durationMs,
      throughput: operations / (durationMs / 1000),
      operations,
      latencyUs: latency?.latencyUs ?? { p50: 0, p90: 0, p99: 0, p999: 0, max: 0 },
      errors: total(ARTILLERY_METRICS.errors),
      timeouts: total(ARTILLERY_METRICS.timeouts),
      mismatches: total(ARTILLERY_METRICS.mismatches),
      serverRssBytes: null,
      serverCpuPercent: null,
      serverCpuUsPerOp: null,
      clientCpuPercent: 0,
      clientWorkers: read.length,
      generatorSaturated: false,
      extra: {
        ...(latency?.extra ?? {}),
        artilleryRuns: read.length,
        virtualUsers: read.reduce((a, f) => a + (f.counters["vusers.created"] ?? 0), 0),
        virtualUsersFailed: read.reduce((a, f) => a + (f.counters["vusers.failed"] ?? 0), 0),
      },
      histogram: "",
      ...(connections === 0 ? { failure: "no virtual user connected" } : {}),
    });
    const info = scenarios.get(scenario);
    const styleInfo = { name: styleName, description: "measured by Artillery", runsOn: "target" as const };
    if (info === undefined) scenarios.set(scenario, { name: scenario, summary: scenario, operation: "one operation", kind: "throughput", styles: [styleInfo], comparisons: [] });
    else scenarios.set(scenario, { ...info, styles: [...info.styles, styleInfo] });
  }
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    environment: {
      nodeVersion: "unknown",
      cpuModel: "unknown",
      cores: 0,
      memoryBytes: 0,
      os: "unknown",
      commit: "unknown",
      command: `artillery run --output (${read.length} file${read.length === 1 ? "" : "s"} merged)`,
      startedAt: Number.isFinite(firstAt) ? new Date(firstAt).toISOString() : "unknown",
      peers: { artillery: "unknown" },
    },
    parameters: {
      scenarios: [...scenarios.keys()],
      styles: [...new Set(points.map((p) => p.style))],
      connections: [...new Set(points.map((p) => p.connections))],
      durationMs,
      warmupMs: 0,
      repeat: 1,
      sim: false,
      load: ARTILLERY_LOAD_GENERATOR,
    },
    scenarios: [...scenarios.values()],
    points,
    source,
  };
}
