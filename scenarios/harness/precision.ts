/**
 * `wirelab bench --precision 3%`: the stopping rule of auto-sampling. After each interleaved round
 * of a scenario's styles at one connection count, every comparison the scenario declares (between
 * styles that run) is judged the way the report judges it (reports/verdicts.ts: the meaningful
 * figure, the ratio of geometric means paired by round, its 95% interval); the rounds stop when
 * each interval is within ±target of its ratio, or when the time budget runs out, and the run
 * says which. tachometer's auto-sampling is the model: a minimum of samples, then until the
 * intervals are narrow enough or the time is up.
 *
 * @module
 */

import type { Comparison, ResultPoint } from "../../reports/results.js";
import { pairedGeometricMeanRatio, type RatioEstimate } from "../../reports/statistics.js";
import { busyRuns, chooseFigure, figureValues, type Figure } from "../../reports/verdicts.js";

/** Default time budget of auto-sampling per scenario and connection count, ms: 3 minutes (tachometer's default). */
export const DEFAULT_PRECISION_MAX_TIME_MS = 180_000;
/** The fewest rounds before the rule may stop (an interval from fewer is not to be trusted). */
export const MIN_PRECISION_ROUNDS = 4;
/** The most rounds auto-sampling makes, whatever the budget. */
export const MAX_PRECISION_ROUNDS = 1000;

/** One comparison's state after a round. */
export interface ComparisonPrecision extends Comparison {
  readonly figure: Figure;
  /** Absent while there are too few paired rounds (or a figure is not positive). */
  readonly ratio?: RatioEstimate;
  /** Whether its interval is within ±target of its ratio. */
  readonly met: boolean;
}

/** How auto-sampling ended for one scenario at one connection count. */
export interface PrecisionOutcome {
  readonly scenario: string;
  readonly connections: number;
  readonly rounds: number;
  readonly elapsedMs: number;
  /** `met`: every interval within the target; `time`: the budget ran out; `rounds`: MAX_PRECISION_ROUNDS. */
  readonly stoppedBy: "met" | "time" | "rounds" | "nothing to compare";
  readonly comparisons: readonly ComparisonPrecision[];
}

/**
 * Judges each comparison on the runs so far.
 *
 * @param runs - Every run of the scenario at this connection count, all styles, all rounds so far.
 * @param comparisons - The declared comparisons whose styles both run.
 * @param kind - The scenario's kind (`throughput`, `hold`).
 * @param target - The half-width wanted, relative to the ratio (0.03 for ±3%).
 * @param rate - The open-loop rate, if any.
 * @returns One state per comparison.
 */
export function comparisonPrecision(runs: readonly ResultPoint[], comparisons: readonly Comparison[], kind: string, target: number, rate?: number): ComparisonPrecision[] {
  return comparisons.map(({ subject, reference }) => {
    const mine = runs.filter((r) => (r.style === subject || r.style === reference) && r.failure === undefined);
    const saturatedRuns = mine.filter((r) => r.generatorSaturated).length;
    const cpuKnown = mine.length > 0 && mine.every((r) => r.serverCpuUsPerOp !== null);
    const { figure } = chooseFigure({ kind, ...(rate === undefined ? {} : { rate }), saturatedRuns, ...busyRuns(mine), runs: mine.length, cpuKnown });
    // Rounds where both styles measured the figure, paired by round.
    const a = new Map<number, number>();
    const b = new Map<number, number>();
    for (const r of mine) {
      const [v] = figureValues([r], figure);
      if (v !== undefined) (r.style === subject ? a : b).set(r.repeat, v);
    }
    const rounds = [...a.keys()].filter((k) => b.has(k)).sort((x, y) => x - y);
    const xs = rounds.map((k) => a.get(k) as number);
    const ys = rounds.map((k) => b.get(k) as number);
    if (rounds.length < 2 || [...xs, ...ys].some((v) => !(v > 0))) return { subject, reference, figure, met: false };
    const ratio = pairedGeometricMeanRatio(xs, ys, 0.95);
    return { subject, reference, figure, ratio, met: ratio.relativeHalfWidth <= target };
  });
}

/**
 * The stopping rule: stop after a round when every comparison is within the target (and at
 * least `minRounds` rounds ran), or the budget is spent, or the round limit is reached.
 *
 * @param state - What the rounds so far gave.
 * @param state.rounds - Rounds done.
 * @param state.elapsedMs - Time spent on them.
 * @param state.comparisons - Each comparison's state after the last round.
 * @param minRounds - Rounds to make before stopping for precision (`--repeat`, at least MIN_PRECISION_ROUNDS).
 * @param maxTimeMs - The budget.
 * @returns Why to stop, or null to go on.
 */
export function shouldStop(
  state: { readonly rounds: number; readonly elapsedMs: number; readonly comparisons: readonly ComparisonPrecision[] },
  minRounds: number,
  maxTimeMs: number,
): PrecisionOutcome["stoppedBy"] | null {
  if (state.comparisons.length === 0) return state.rounds >= minRounds ? "nothing to compare" : null;
  if (state.rounds >= Math.max(minRounds, MIN_PRECISION_ROUNDS) && state.comparisons.every((c) => c.met)) return "met";
  if (state.elapsedMs >= maxTimeMs && state.rounds >= Math.min(minRounds, 2)) return "time";
  if (state.rounds >= MAX_PRECISION_ROUNDS) return "rounds";
  return null;
}

/**
 * One line for the user: how auto-sampling ended.
 *
 * @param o - The outcome.
 * @param target - The half-width asked for.
 * @returns E.g. `tcp-echo at 100 connections: every comparison within ±3% after 14 rounds (52 s)`.
 */
export function describePrecision(o: PrecisionOutcome, target: number): string {
  const pct = (x: number): string => `±${(x * 100).toFixed(1)}%`;
  const where = `${o.scenario} at ${o.connections.toLocaleString("en-US")} connections`;
  const took = `${o.rounds} rounds (${(o.elapsedMs / 1000).toFixed(0)} s)`;
  const each = o.comparisons.map((c) => `${c.subject}/${c.reference} ${c.figure === "cpuUsPerOp" ? "CPU/op" : c.figure} ${c.ratio === undefined ? "n/a" : `${c.ratio.estimate.toFixed(3)}× ${pct(c.ratio.relativeHalfWidth)}`}`).join("; ");
  switch (o.stoppedBy) {
    case "met":
      return `${where}: every comparison within ${pct(target)} after ${took}: ${each}`;
    case "time":
      return `${where}: the time budget ran out after ${took} before every comparison was within ${pct(target)}: ${each}`;
    case "rounds":
      return `${where}: stopped at the round limit, ${took}, before every comparison was within ${pct(target)}: ${each}`;
    case "nothing to compare":
      return `${where}: no declared comparison between styles that ran; ${took} as asked`;
  }
}
