/**
 * wirelab/report: benchmark results in, a report out. `report(results, { out })` writes
 * `report.md` (for a pull request), `report.html` (self-contained, inline SVG charts) and
 * `charts/*.svg`; the results types here are the one definition of the results format that
 * `wirelab bench` writes and `bench()` returns.
 *
 * Charts need the optional packages `vega` and `vega-lite`, loaded only while a report is drawn;
 * without them the report has its tables and says why it has no charts.
 *
 * @example
 * ```ts
 * import { bench } from "wirelab/bench";
 * import { report } from "wirelab/report";
 *
 * const results = await bench({ scenarios: ["./kv-scenario.ts"], connections: [1, 10], duration: "1s" });
 * const { html } = await report(results, { out: "bench-report" });
 * ```
 *
 * @module
 */

import type { ResultsInput, WriteReportOptions, WrittenReport } from "./write-report.js";
import { writeReport } from "./write-report.js";

export { RESULTS_SCHEMA_VERSION } from "./results.js";
export type { Comparison, Environment, LatencySummary, Parameters, PrecisionResult, ResultPoint, Results, ScenarioInfo, StyleInfo, StyleRunsOn } from "./results.js";
export type { GateCheck, GateResult } from "./regression-gate.js";
export type { Figure, FigureJudgement, Verdict, VerdictOutcome } from "./verdicts.js";
export type { RatioEstimate } from "./statistics.js";
export { parseResults, readResults, SUPPORTED_SCHEMA_VERSIONS } from "./read-results.js";
export {
  artilleryResults,
  artilleryMetricName,
  parseArtilleryMetricName,
  isArtilleryOutput,
  ARTILLERY_METRICS,
  ARTILLERY_LIMITS,
  ARTILLERY_DEFAULT_STYLE,
  ARTILLERY_LOAD_GENERATOR,
} from "./artillery-results.js";
export type { ArtilleryMetric } from "./artillery-results.js";
export type { RunResults } from "./read-results.js";
export { ReportError, ResultsFormatError, ReportUsageError } from "./errors.js";
export type { ResultsInput, WrittenReport } from "./write-report.js";
export type { AnalyzeOptions } from "./analyze.js";
export { DEFAULT_CV_WARNING } from "./analyze.js";
export { DEFAULT_SIGNIFICANCE, DEFAULT_NOISE_THRESHOLD } from "./compare.js";
export type { CompareOptions } from "./compare.js";
export type { BootstrapOptions } from "./statistics.js";

/** What {@link report} takes besides the results. */
export type ReportOptions = Omit<WriteReportOptions, "results">;

/**
 * Writes the report of one or more results (objects, such as `bench()` returns, or paths of
 * `results.json` files; runs of the same point in several are pooled as repeats). Paths may
 * also name Artillery's `--output` files of runs with the wirelab engine: they are merged into
 * one run (as from several machines at once).
 *
 * @param results - The results.
 * @param options - `out` (the folder, created if missing), and optionally a `baseline` run to
 *   compare against, `sloP99Ms`, significance and noise thresholds.
 * @returns The paths written.
 * @throws ResultsFormatError (`WL_ERR_RESULTS_FORMAT`) for malformed results; RangeError for a
 *   threshold out of range; the file system's errors.
 */
export function report(results: ResultsInput | readonly ResultsInput[], options: ReportOptions): Promise<WrittenReport> {
  return writeReport({ ...options, results });
}
