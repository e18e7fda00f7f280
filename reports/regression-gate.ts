/**
 * The regression gate of `wirelab report NEW.json --baseline OLD.json --fail-on-regression 5%`:
 * which figures of a new run got worse than the baseline run's, beyond a threshold, with
 * significance; and the lines a CI log shows for them.
 *
 * One figure per point, the one that answers for the server on any machine:
 * - server CPU per operation, open or closed loop (what the server spent, which a busy machine
 *   or a saturated load generator moves far less than throughput); where the server's CPU is
 *   unknown, throughput in closed loop and p99 latency in open loop;
 * - memory per connection in a `hold` scenario.
 *
 * A figure regressed when, over runs, the ratio new / baseline of geometric means is worse than 1
 * with significance (paired by repeat index when both runs have the same repeats, which removes
 * what the two runs' repeat i shared, such as a cold first repeat; else Welch's), Holm-corrected over every figure
 * checked (so an unchanged build fails a whole sweep in at most `significance` of runs, not that
 * much per figure), and its 95% interval reaches the threshold: a regression of the threshold's
 * size is among what the runs allow. A change surely smaller than the threshold does not fail
 * the gate; a planted slowdown of exactly the threshold does (half its estimates fall short of
 * it, but its interval reaches it).
 *
 * @module
 */

import type { RatioEstimate } from "./statistics.js";
import { pointId, seriesLabel, type PointSummary } from "./summarize-points.js";
import { FIGURES, judgePoints, type Figure } from "./verdicts.js";

/** One figure the gate checked. */
export interface GateCheck {
  /** The point's id (`tcp-echo|real|closed|callback|c=100`). */
  readonly point: string;
  /** The point for people: `tcp-echo / callback / 100 conn`. */
  readonly label: string;
  readonly figure: Figure;
  /** new / baseline; absent when either side had fewer than 2 runs or a figure below noise. */
  readonly ratio?: RatioEstimate;
  /** Whether the change is worse, significant after Holm's correction, and reaches the threshold. */
  readonly regressed: boolean;
}

/** What the gate decided. */
export interface GateResult {
  /** The threshold, as a fraction (0.05 for 5%). */
  readonly threshold: number;
  readonly significance: number;
  readonly checks: readonly GateCheck[];
  readonly regressions: readonly GateCheck[];
}

/**
 * The figure the gate checks at a point.
 *
 * @param p - The new run's point.
 * @param kind - Its scenario's kind (`throughput`, `hold`).
 * @param baseline - The baseline's point.
 * @returns The figure.
 */
export function gateFigure(p: PointSummary, kind: string, baseline: PointSummary): Figure {
  if (kind === "hold") return "memoryPerConnection";
  if (p.cpuUsPerOp !== undefined && baseline.cpuUsPerOp !== undefined) return "cpuUsPerOp";
  return p.rate !== undefined ? "p99" : "throughput";
}

/**
 * Holm's step-down correction: which of m p-values are significant at family-wise level `alpha`.
 *
 * @param ps - The p-values.
 * @param alpha - The family-wise level.
 * @returns One flag per p-value, in input order.
 */
export function holm(ps: readonly number[], alpha: number): boolean[] {
  const order = ps.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const out = ps.map(() => false);
  for (const [rank, { p, i }] of order.entries()) {
    if (!(p < alpha / (ps.length - rank))) break;
    out[i] = true;
  }
  return out;
}

/**
 * Whether a ratio new / baseline is a regression of at least `threshold`'s size within its
 * interval, in the figure's bad direction (up for a cost, down for throughput).
 *
 * @param figure - The figure.
 * @param r - The ratio.
 * @param threshold - E.g. 0.05.
 * @returns Whether the change is worse and its interval reaches the threshold.
 */
export function reachesThreshold(figure: Figure, r: RatioEstimate, threshold: number): boolean {
  return FIGURES[figure].higherIsBetter ? r.estimate < 1 && r.low <= 1 - threshold : r.estimate > 1 && r.high >= 1 + threshold;
}

/**
 * Runs the gate over the points both runs have.
 *
 * @param points - The new run's points.
 * @param baseline - The baseline run's points.
 * @param kinds - Scenario name → kind.
 * @param threshold - The smallest regression that fails the gate, as a fraction (0.05).
 * @param significance - Family-wise significance level. @defaultValue 0.05
 * @returns The checks and the regressions among them.
 * @throws RangeError when the threshold or the level is out of range.
 */
export function regressionGate(points: readonly PointSummary[], baseline: readonly PointSummary[], kinds: ReadonlyMap<string, string>, threshold: number, significance = 0.05): GateResult {
  if (!(threshold > 0 && threshold < 1)) throw new RangeError(`the regression threshold must be in (0, 1), got ${threshold}`);
  if (!(significance > 0 && significance < 1)) throw new RangeError(`significance must be in (0, 1), got ${significance}`);
  const before = new Map(baseline.map((p) => [pointId(p), p]));
  const judged: { point: string; label: string; figure: Figure; ratio?: RatioEstimate }[] = [];
  for (const p of points) {
    const b = before.get(pointId(p));
    if (b === undefined || p.ok.length === 0 || b.ok.length === 0) continue;
    const figure = gateFigure(p, kinds.get(p.scenario) ?? "throughput", b);
    const j = judgePoints(figure, p, b, significance);
    judged.push({ point: pointId(p), label: `${seriesLabel(p)} / ${p.style} / ${p.connections.toLocaleString("en-US")} conn`, figure, ...(j.ratio === undefined ? {} : { ratio: j.ratio }) });
  }
  const withRatio = judged.filter((j) => j.ratio !== undefined);
  const significant = holm(withRatio.map((j) => (j.ratio as RatioEstimate).p), significance);
  const checks: GateCheck[] = judged.map((j) => {
    const k = withRatio.indexOf(j);
    const regressed = j.ratio !== undefined && significant[k] === true && reachesThreshold(j.figure, j.ratio, threshold);
    return { ...j, regressed };
  });
  return { threshold, significance, checks, regressions: checks.filter((c) => c.regressed) };
}

function percent(r: number): string {
  const pct = (r - 1) * 100;
  return `${pct < 0 ? "−" : "+"}${Math.abs(pct).toFixed(1)}%`;
}

/**
 * The change of a check in words: `server CPU per operation +5.3% [+3.1%, +7.6%] (p = 0.001)`.
 *
 * @param c - A check with a ratio.
 * @returns The text.
 */
export function describeCheck(c: GateCheck): string {
  const r = c.ratio;
  if (r === undefined) return `${FIGURES[c.figure].label}: not comparable`;
  const p = r.p < 0.001 ? "p < 0.001" : `p = ${r.p.toFixed(3)}`;
  return `${FIGURES[c.figure].label} ${percent(r.estimate)} [${percent(r.low)}, ${percent(r.high)}] (${p})`;
}

/**
 * The lines a CI log shows: one GitHub Actions `::error` annotation per regression, then a plain
 * one-line summary (which is all a log that is not GitHub's needs).
 *
 * @param gate - The gate's result.
 * @returns The lines.
 */
export function gateLines(gate: GateResult): string[] {
  const threshold = `${+(gate.threshold * 100).toFixed(2)}%`;
  const lines = gate.regressions.map((c) => `::error title=wirelab regression::${c.label}: ${describeCheck(c)}, beyond the ${threshold} threshold`);
  // A figure without a ratio (too few runs on a side, or below noise) was not tested: it must not read as passed.
  const compared = gate.checks.filter((c) => c.ratio !== undefined).length;
  const untested = gate.checks.length - compared;
  if (compared === 0) lines.push("::warning title=wirelab regression gate::no figure could be compared with the baseline (too few runs, figures below noise, or no point in common): the gate tested nothing");
  const counted = `${compared} figure${compared === 1 ? "" : "s"} checked${untested === 0 ? "" : `, ${untested} not comparable (too few runs, or below noise)`}`;
  lines.push(
    gate.regressions.length === 0
      ? `wirelab report: no regression beyond ${threshold} (${counted} against the baseline)`
      : `wirelab report: ${gate.regressions.length} regression${gate.regressions.length === 1 ? "" : "s"} beyond ${threshold} of ${counted}: ${gate.regressions.map((c) => `${c.label} ${FIGURES[c.figure].label} ${percent((c.ratio as RatioEstimate).estimate)}`).join("; ")}`,
  );
  return lines;
}
