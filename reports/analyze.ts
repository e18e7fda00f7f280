/**
 * Turns results files into everything a report shows: summarised points grouped into series,
 * style comparisons, the change against a baseline run, the SLO capacity, how cost grows with
 * connections, and the warnings a reader must see before trusting any of it.
 *
 * @module
 */

import { ARTILLERY_LIMITS, ARTILLERY_LOAD_GENERATOR } from "./artillery-results.js";
import type { RunResults } from "./read-results.js";
import { compareStyles, compareWithBaseline, declaredComparisons, type BaselineChange, type CompareOptions, type StyleComparison } from "./compare.js";
import { fitPowerLaw, type BootstrapOptions, type PowerLawFit } from "./statistics.js";
import { pointId, seriesId, seriesLabel, summarizePoints, type PointSummary, type SeriesKey } from "./summarize-points.js";
import { verdictsOf, type Verdict } from "./verdicts.js";
import { regressionGate, type GateResult } from "./regression-gate.js";

/** Options of {@link analyze}. */
export interface AnalyzeOptions extends CompareOptions {
  /** p99 threshold in ms for the capacity table; no table when absent. */
  readonly sloP99Ms?: number;
  /**
   * Coefficient of variation above which repeats are said to disagree widely.
   * @defaultValue {@link DEFAULT_CV_WARNING}
   */
  readonly cvWarning?: number;
  /**
   * Run the regression gate against the baseline with this threshold (0.05: fail on a 5%
   * regression); no gate when absent or without a baseline.
   */
  readonly failOnRegression?: number;
}

/** Default CV warning threshold: 10%. */
export const DEFAULT_CV_WARNING = 0.1;

/** One scenario measured one way, with its points. */
export interface Series extends SeriesKey {
  readonly id: string;
  readonly label: string;
  readonly styles: readonly string[];
  readonly connections: readonly number[];
  readonly points: readonly PointSummary[];
}

/** The largest connection count at which a style keeps p99 under the threshold. */
export interface SloCapacity {
  readonly series: string;
  readonly style: string;
  /** Undefined when even the smallest measured count misses the threshold or failed. */
  readonly maxConnections?: number;
  /** The first measured count that missed (or failed), if any. */
  readonly firstMiss?: number;
  /** True when the largest measured count still meets the threshold: capacity may be higher. */
  readonly censored: boolean;
}

/** How cost grows with connections for one style. */
export interface Scaling {
  readonly series: string;
  readonly style: string;
  /** Fit of median p99 latency against connections. */
  readonly latency?: PowerLawFit;
  /** Fit of median memory per connection against connections. */
  readonly memory?: PowerLawFit;
}

/** A thing the reader must know. */
export interface Warning {
  readonly kind: "failed" | "errors" | "saturated" | "noisy" | "outlier" | "environment" | "sim" | "artillery";
  readonly message: string;
  /** The point concerned, when it is about one. */
  readonly point?: string;
  /** That point for people (`tcp-echo / async / 100 conn`), for grouped lists. */
  readonly where?: string;
}

/** Everything a report renders. */
export interface ReportModel {
  readonly results: readonly RunResults[];
  readonly baseline?: readonly RunResults[];
  readonly series: readonly Series[];
  /** The answer: one verdict per series and declared comparison (see verdicts.ts). */
  readonly verdicts: readonly Verdict[];
  readonly comparisons: readonly StyleComparison[];
  readonly baselineChanges?: readonly BaselineChange[];
  /** The regression gate's decision, when a threshold and a baseline were given. */
  readonly gate?: GateResult;
  /** Points of this run that the baseline run lacks, and the other way round. */
  readonly baselineUnmatched?: { readonly onlyNew: readonly string[]; readonly onlyBaseline: readonly string[] };
  readonly slo?: { readonly thresholdMs: number; readonly capacities: readonly SloCapacity[] };
  readonly scaling: readonly Scaling[];
  readonly warnings: readonly Warning[];
  readonly options: { readonly significance: number; readonly noiseThreshold: number; readonly cvWarning: number; readonly bootstrap: Required<BootstrapOptions> };
}

function groupSeries(points: readonly PointSummary[]): Series[] {
  const map = new Map<string, PointSummary[]>();
  for (const p of points) {
    const list = map.get(seriesId(p)) ?? [];
    list.push(p);
    map.set(seriesId(p), list);
  }
  return [...map.entries()].map(([id, list]) => {
    const first = list[0] as PointSummary;
    const key: SeriesKey = { scenario: first.scenario, mode: first.mode, ...(first.rate === undefined ? {} : { rate: first.rate }) };
    return {
      ...key,
      id,
      label: seriesLabel(key),
      styles: [...new Set(list.map((p) => p.style))],
      connections: [...new Set(list.map((p) => p.connections))].sort((a, b) => a - b),
      points: list,
    };
  });
}

function sloCapacities(series: readonly Series[], thresholdMs: number): SloCapacity[] {
  const out: SloCapacity[] = [];
  const limitUs = thresholdMs * 1000;
  for (const s of series) {
    for (const style of s.styles) {
      const pts = s.points.filter((p) => p.style === style).sort((a, b) => a.connections - b.connections);
      let best: number | undefined;
      let miss: number | undefined;
      for (const p of pts) {
        // "Stays under": capacity ends at the first count that misses, even if a larger one
        // happens to pass again.
        if (p.p99 === undefined || p.p99.median.estimate >= limitUs) {
          miss = p.connections;
          break;
        }
        best = p.connections;
      }
      out.push({
        series: s.id,
        style,
        ...(best === undefined ? {} : { maxConnections: best }),
        ...(miss === undefined ? {} : { firstMiss: miss }),
        censored: miss === undefined && best !== undefined,
      });
    }
  }
  return out;
}

function scalings(series: readonly Series[]): Scaling[] {
  const out: Scaling[] = [];
  for (const s of series) {
    for (const style of s.styles) {
      const pts = s.points.filter((p) => p.style === style);
      const fit = (get: (p: PointSummary) => number | undefined): PowerLawFit | undefined => {
        const xy = pts.flatMap((p) => {
          const y = get(p);
          return y !== undefined && y > 0 ? [[p.connections, y] as const] : [];
        });
        return xy.length < 2 ? undefined : fitPowerLaw(xy.map((v) => v[0]), xy.map((v) => v[1]));
      };
      const latency = fit((p) => p.p99?.median.estimate);
      const memory = fit((p) => p.memoryPerConnection?.median.estimate);
      out.push({ series: s.id, style, ...(latency ? { latency } : {}), ...(memory ? { memory } : {}) });
    }
  }
  return out;
}

function label(p: PointSummary): string {
  return `${seriesLabel(p)} / ${p.style} / ${p.connections} conn`;
}

function pointWarnings(points: readonly PointSummary[], cvWarning: number): Warning[] {
  const out: Warning[] = [];
  for (const p of points) {
    const id = pointId(p);
    for (const run of p.failed) {
      out.push({ kind: "failed", point: id,
        where: label(p), message: `${label(p)}: run ${run.repeat} failed: ${run.failure ?? ""}` });
    }
    if (p.errors + p.timeouts + p.mismatches > 0) {
      out.push({ kind: "errors", point: id,
        where: label(p), message: `${label(p)}: ${p.errors} errors, ${p.timeouts} timeouts, ${p.mismatches} mismatches over ${p.ok.length} runs` });
    }
    if (p.saturatedRuns > 0) {
      out.push({
        kind: "saturated",
        point: id,
        where: label(p),
        message: `${label(p)}: the load generator was saturated in ${p.saturatedRuns} of ${p.ok.length} runs; the figures measure the client, not the server`,
      });
    }
    for (const [name, m] of [["throughput", p.throughput], ["p99", p.p99]] as const) {
      if (m === undefined) continue;
      if (m.values.length > 1 && m.cv > cvWarning) {
        out.push({ kind: "noisy", point: id,
        where: label(p), message: `${label(p)}: repeats disagree on ${name} (CV ${(m.cv * 100).toFixed(1)}% > ${(cvWarning * 100).toFixed(0)}%)` });
      }
      for (const i of m.fences.outliers) {
        const run = p.ok[i];
        out.push({
          kind: "outlier",
          point: id,
        where: label(p),
          message: `${label(p)}: run ${run?.repeat ?? i} is an outlier on ${name} (${m.values[i]} outside Tukey fences [${m.fences.lower.toFixed(1)}, ${m.fences.upper.toFixed(1)}]); kept in every statistic`,
        });
      }
    }
  }
  return out;
}

function environmentWarnings(files: readonly RunResults[], what: string, fields: readonly ("cpuModel" | "nodeVersion" | "commit" | "os")[]): Warning[] {
  if (files.length < 2) return [];
  const out: Warning[] = [];
  const first = files[0] as RunResults;
  for (const f of files.slice(1)) {
    for (const field of fields) {
      if (f.environment[field] !== first.environment[field]) {
        out.push({
          kind: "environment",
          message: `${what} pooled from files with different ${field}: ${first.source} has ${first.environment[field]}, ${f.source} has ${f.environment[field]}`,
        });
      }
    }
  }
  return out;
}

/**
 * Analyses results files (and optionally a baseline run) into a report model.
 *
 * @param results - One or more results files; runs of the same point are pooled as repeats and
 *   their HDR histograms merged.
 * @param baseline - Results files of a baseline run to compare against.
 * @param options - Thresholds and bootstrap settings.
 * @returns The report model.
 * @throws RangeError when `results` is empty or an option is out of range.
 */
export function analyze(results: readonly RunResults[], baseline?: readonly RunResults[], options: AnalyzeOptions = {}): ReportModel {
  if (results.length === 0) throw new RangeError("analyze needs at least one results file");
  const significance = options.significance ?? 0.05;
  const noiseThreshold = options.noiseThreshold ?? 0.05;
  const cvWarning = options.cvWarning ?? DEFAULT_CV_WARNING;
  if (!(significance > 0 && significance < 1)) throw new RangeError(`significance must be in (0, 1), got ${significance}`);
  if (!(noiseThreshold >= 0)) throw new RangeError(`noiseThreshold must be ≥ 0, got ${noiseThreshold}`);
  if (options.sloP99Ms !== undefined && !(options.sloP99Ms > 0)) throw new RangeError(`sloP99Ms must be > 0, got ${options.sloP99Ms}`);
  const bootstrap: Required<BootstrapOptions> = {
    resamples: options.bootstrap?.resamples ?? 4000,
    confidence: options.bootstrap?.confidence ?? 0.95,
    seed: options.bootstrap?.seed ?? 0x5eed,
  };
  const compareOptions: CompareOptions = { significance, noiseThreshold, bootstrap };
  const points = summarizePoints(results, bootstrap);
  const series = groupSeries(points);
  // Artillery's output says nothing of its machines: there is no environment to compare.
  const described = results.filter((r) => r.parameters.load !== ARTILLERY_LOAD_GENERATOR);
  const warnings: Warning[] = [...environmentWarnings(described, "results", ["cpuModel", "nodeVersion", "commit", "os"]), ...pointWarnings(points, cvWarning)];
  if (points.some((p) => p.mode === "sim")) {
    warnings.push({ kind: "sim", message: "some points ran on the simulated network (sim): their figures are not real-socket measurements" });
  }
  if (points.some((p) => p.runs.some((r) => r.loadGenerator === ARTILLERY_LOAD_GENERATOR))) {
    warnings.push({ kind: "artillery", message: `the points measured by Artillery (load: artillery) were ${ARTILLERY_LIMITS}` });
  }
  let baselinePart: Pick<ReportModel, "baseline" | "baselineChanges" | "baselineUnmatched" | "gate"> = {};
  if (baseline !== undefined && baseline.length > 0) {
    const before = summarizePoints(baseline, bootstrap);
    const ids = new Set(points.map(pointId));
    const beforeIds = new Set(before.map(pointId));
    baselinePart = {
      baseline,
      baselineChanges: compareWithBaseline(points, before, compareOptions),
      baselineUnmatched: { onlyNew: [...ids].filter((i) => !beforeIds.has(i)), onlyBaseline: [...beforeIds].filter((i) => !ids.has(i)) },
      ...(options.failOnRegression === undefined
        ? {}
        : { gate: regressionGate(points, before, new Map(results.flatMap((r) => r.scenarios.map((s) => [s.name, s.kind] as const))), options.failOnRegression, significance) }),
    };
    warnings.push(...environmentWarnings([results[0] as RunResults, ...baseline], "this run and its baseline are", ["cpuModel", "nodeVersion", "os"]));
  }
  const declared = new Map<string, { kind: string; comparisons: readonly { subject: string; reference: string }[] }>();
  for (const r of results) for (const s of r.scenarios) if (!declared.has(s.name)) declared.set(s.name, { kind: s.kind, comparisons: s.comparisons });
  return {
    results,
    series,
    verdicts: verdictsOf(points, declared, seriesId, significance),
    comparisons: compareStyles(points, declaredComparisons(results.flatMap((r) => r.scenarios)), compareOptions),
    ...baselinePart,
    ...(options.sloP99Ms === undefined ? {} : { slo: { thresholdMs: options.sloP99Ms, capacities: sloCapacities(series, options.sloP99Ms) } }),
    scaling: scalings(series),
    warnings,
    options: { significance, noiseThreshold, cvWarning, bootstrap },
  };
}
