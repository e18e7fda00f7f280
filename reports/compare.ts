/**
 * Comparisons over runs: one style against another at the same point (async/await against
 * callback, each style against its baseline), and a run against an earlier baseline run. Each is
 * a ratio of medians with a bootstrap interval and a verdict from a two-sample test over the
 * runs (never over individual requests, which are not independent).
 *
 * @module
 */

import type { PointSummary } from "./summarize-points.js";
import { pointId, seriesId } from "./summarize-points.js";
import {
  bootstrapRatioInterval,
  mannWhitneyMinimumP,
  mannWhitneyU,
  welchTTest,
  type BootstrapOptions,
  type Interval,
  type TestResult,
} from "./statistics.js";

/** Options of the comparisons. */
export interface CompareOptions {
  /** Significance level of the tests. @defaultValue {@link DEFAULT_SIGNIFICANCE} */
  readonly significance?: number;
  /**
   * Relative change below which a baseline-run difference is called noise even when the test is
   * significant (criterion's noise threshold). @defaultValue {@link DEFAULT_NOISE_THRESHOLD}
   */
  readonly noiseThreshold?: number;
  readonly bootstrap?: BootstrapOptions;
}

/** Default significance level. */
export const DEFAULT_SIGNIFICANCE = 0.05;
/** Default noise threshold: 5%, since benchmark machines here are shared and noisy. */
export const DEFAULT_NOISE_THRESHOLD = 0.05;

/** A verdict between two styles. */
export type StyleVerdict = "faster" | "slower" | "no significant difference" | "too few runs";

/** A verdict of a run against a baseline run. */
export type ChangeVerdict = "improved" | "regressed" | "within noise" | "no change" | "too few runs";

/** The test chosen for a comparison and its outcome. */
export interface Decision {
  readonly test?: TestResult;
  readonly significant: boolean;
  /** Why that test, when it was not the default one. */
  readonly note?: string;
}

/** Which figure decides a verdict: throughput for closed loop, p99 latency for open loop (fixed rate). */
export type DecidingMetric = "throughput" | "p99";

/** One style against a reference style at one point. */
export interface StyleComparison {
  readonly kind: "async-vs-callback" | "vs-baseline";
  readonly series: string;
  readonly connections: number;
  readonly subject: string;
  readonly reference: string;
  readonly metric: DecidingMetric;
  /** subject / reference throughput medians. */
  readonly throughputRatio?: Interval;
  /** subject / reference p99 medians. */
  readonly p99Ratio?: Interval;
  readonly decision: Decision;
  readonly verdict: StyleVerdict;
}

/** One point against the same point in a baseline run. */
export interface BaselineChange {
  readonly point: PointSummary;
  readonly baseline: PointSummary;
  readonly metric: DecidingMetric;
  /** new / baseline throughput medians. */
  readonly throughputRatio?: Interval;
  /** new / baseline p99 medians. */
  readonly p99Ratio?: Interval;
  readonly decision: Decision;
  readonly verdict: ChangeVerdict;
}

/**
 * Picks and runs the test over runs: Mann–Whitney U when it can reach the significance level
 * with these run counts, else Welch's t-test (3 runs against 3 cannot reach 5% with a rank test).
 *
 * @param a - One side's runs.
 * @param b - The other side's runs.
 * @param significance - The level.
 * @returns The decision.
 */
export function decide(a: readonly number[], b: readonly number[], significance: number): Decision {
  if (a.length === 0 || b.length === 0) return { significant: false, note: "no successful runs on one side" };
  if (mannWhitneyMinimumP(a.length, b.length) <= significance) {
    const test = mannWhitneyU(a, b);
    return { test, significant: test.p < significance };
  }
  if (a.length < 2 || b.length < 2) return { significant: false, note: `${a.length} vs ${b.length} runs: too few for any test` };
  const test = welchTTest(a, b);
  return {
    test,
    significant: test.p < significance,
    note: `Welch t-test: ${a.length} vs ${b.length} runs cannot reach p < ${significance} with Mann–Whitney`,
  };
}

function metricOf(p: PointSummary): DecidingMetric {
  return p.rate === undefined ? "throughput" : "p99";
}

function ratio(a: PointSummary, b: PointSummary, metric: DecidingMetric, bootstrap: BootstrapOptions): Interval | undefined {
  const x = a[metric];
  const y = b[metric];
  if (x === undefined || y === undefined || y.median.estimate === 0 || y.values.some((v) => v === 0)) return undefined;
  return bootstrapRatioInterval(x.values, y.values, bootstrap);
}

/** Compares two points; `better` says whether the subject is better than the reference. */
function judge(
  subject: PointSummary,
  reference: PointSummary,
  options: CompareOptions,
): { metric: DecidingMetric; throughputRatio?: Interval; p99Ratio?: Interval; decision: Decision; better?: boolean } {
  const bootstrap = options.bootstrap ?? {};
  const metric = metricOf(subject);
  const throughputRatio = ratio(subject, reference, "throughput", bootstrap);
  const p99Ratio = ratio(subject, reference, "p99", bootstrap);
  const decision = decide(subject[metric]?.values ?? [], reference[metric]?.values ?? [], options.significance ?? DEFAULT_SIGNIFICANCE);
  const r = metric === "throughput" ? throughputRatio : p99Ratio;
  const better = r === undefined ? undefined : metric === "throughput" ? r.estimate > 1 : r.estimate < 1;
  return { metric, ...(throughputRatio ? { throughputRatio } : {}), ...(p99Ratio ? { p99Ratio } : {}), decision, ...(better === undefined ? {} : { better }) };
}

/**
 * The reference styles of a scenario: `baseline` (raw `node:net` / `node:http` / `ws`),
 * `baseline-async` (Node's own async: `node:net` with `for await`) and `raw` (http-hello's
 * hand-written responder), where the scenario has them.
 *
 * @param styles - The styles measured for the scenario.
 * @returns The baseline styles present, in that order.
 */
export function baselineStyles(styles: readonly string[]): string[] {
  return ["baseline", "baseline-async", "raw"].filter((s) => styles.includes(s));
}

/**
 * Compares styles within each series and connection count: async against callback, and every
 * non-baseline style against each baseline style.
 *
 * @param points - The summarised points.
 * @param options - Significance, bootstrap settings.
 * @returns The comparisons, in point order.
 */
export function compareStyles(points: readonly PointSummary[], options: CompareOptions = {}): StyleComparison[] {
  const byPoint = new Map(points.map((p) => [pointId(p), p]));
  const out: StyleComparison[] = [];
  const seriesStyles = new Map<string, string[]>();
  for (const p of points) {
    const list = seriesStyles.get(seriesId(p)) ?? [];
    if (!list.includes(p.style)) list.push(p.style);
    seriesStyles.set(seriesId(p), list);
  }
  const seen = new Set<string>();
  for (const p of points) {
    const key = `${seriesId(p)}|c=${p.connections}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const styles = seriesStyles.get(seriesId(p)) ?? [];
    const at = (style: string): PointSummary | undefined => byPoint.get(pointId({ ...p, style }));
    const pairs: [StyleComparison["kind"], string, string][] = [];
    if (styles.includes("async") && styles.includes("callback")) pairs.push(["async-vs-callback", "async", "callback"]);
    for (const base of baselineStyles(styles)) {
      for (const style of styles) if (!baselineStyles(styles).includes(style)) pairs.push(["vs-baseline", style, base]);
    }
    for (const [kind, subjectStyle, referenceStyle] of pairs) {
      const subject = at(subjectStyle);
      const reference = at(referenceStyle);
      if (subject === undefined || reference === undefined) continue;
      const j = judge(subject, reference, options);
      const verdict: StyleVerdict =
        j.decision.test === undefined ? "too few runs" : !j.decision.significant || j.better === undefined ? "no significant difference" : j.better ? "faster" : "slower";
      out.push({
        kind,
        series: seriesId(p),
        connections: p.connections,
        subject: subjectStyle,
        reference: referenceStyle,
        metric: j.metric,
        ...(j.throughputRatio ? { throughputRatio: j.throughputRatio } : {}),
        ...(j.p99Ratio ? { p99Ratio: j.p99Ratio } : {}),
        decision: j.decision,
        verdict,
      });
    }
  }
  return out;
}

/**
 * Compares each point with the same point of a baseline run. A change is a regression or an
 * improvement only when the test over runs is significant and the change is beyond the noise
 * threshold.
 *
 * @param points - This run's points.
 * @param baseline - The baseline run's points.
 * @param options - Significance, noise threshold, bootstrap settings.
 * @returns One change per point present in both runs, in this run's order.
 */
export function compareWithBaseline(points: readonly PointSummary[], baseline: readonly PointSummary[], options: CompareOptions = {}): BaselineChange[] {
  const before = new Map(baseline.map((p) => [pointId(p), p]));
  const noise = options.noiseThreshold ?? DEFAULT_NOISE_THRESHOLD;
  const out: BaselineChange[] = [];
  for (const p of points) {
    const b = before.get(pointId(p));
    if (b === undefined) continue;
    const j = judge(p, b, options);
    const r = j.metric === "throughput" ? j.throughputRatio : j.p99Ratio;
    let verdict: ChangeVerdict;
    if (j.decision.test === undefined || r === undefined) verdict = "too few runs";
    else if (!j.decision.significant) verdict = "no change";
    else if (Math.abs(r.estimate - 1) < noise) verdict = "within noise";
    else verdict = j.better === true ? "improved" : "regressed";
    out.push({
      point: p,
      baseline: b,
      metric: j.metric,
      ...(j.throughputRatio ? { throughputRatio: j.throughputRatio } : {}),
      ...(j.p99Ratio ? { p99Ratio: j.p99Ratio } : {}),
      decision: j.decision,
      verdict,
    });
  }
  return out;
}
