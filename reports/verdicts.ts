/**
 * The answer a report leads with: for each scenario and each comparison it declares, one verdict
 * on the figure that means something for that run.
 *
 * - Throughput, where the server was the limit: the load generator had headroom and the server
 *   was busy (≥ 90% of a core), so the rate is the server's.
 * - Server CPU per operation otherwise: where the generator saturated (a worker at ≥ 90% of a
 *   core) throughput measures the client against itself; where the server had headroom too (a
 *   publisher at a fixed rate, a light load) the load set the rate; either way what still tells
 *   the servers apart is what each spent per operation.
 * - p99 latency in open loop (a fixed rate), memory per connection in a `hold` scenario.
 *
 * A verdict is a ratio of geometric means over runs with its t interval on the logs: paired
 * round by round where the runs pair (the styles of one sweep take turns, so what disturbed a
 * round disturbed both; {@link pairedGeometricMeanRatio}), else Welch's
 * ({@link geometricMeanRatio}). It is the same interval `wirelab bench --precision` narrows and
 * the regression gate tests, so the three never disagree about one set of runs.
 *
 * @module
 */

import type { ResultPoint } from "./results.js";
import { geometricMeanRatio, pairedGeometricMeanRatio, type RatioEstimate } from "./statistics.js";
import type { PointSummary } from "./summarize-points.js";

/** A figure a verdict can rest on. */
export type Figure = "throughput" | "cpuUsPerOp" | "p99" | "memoryPerConnection";

/** How each figure reads. */
export const FIGURES: Readonly<Record<Figure, { readonly label: string; readonly higherIsBetter: boolean; readonly better: string; readonly worse: string }>> = {
  throughput: { label: "throughput", higherIsBetter: true, better: "faster", worse: "slower" },
  cpuUsPerOp: { label: "server CPU per operation", higherIsBetter: false, better: "cheaper", worse: "costlier" },
  p99: { label: "p99 latency", higherIsBetter: false, better: "faster", worse: "slower" },
  memoryPerConnection: { label: "memory per connection", higherIsBetter: false, better: "smaller", worse: "larger" },
};

/** A verdict's outcome. */
export type VerdictOutcome = "better" | "worse" | "no significant difference" | "too few runs" | "below noise";

/** What decides which figure a comparison rests on. */
export interface FigureContext {
  /** The scenario's kind: `throughput` or `hold`. */
  readonly kind: string;
  /** Open-loop rate, if any. */
  readonly rate?: number;
  /** Runs (of both sides) whose load generator saturated. */
  readonly saturatedRuns: number;
  /** Runs (of both sides) whose server used at least {@link SERVER_BUSY_PERCENT} of a core; absent: unknown. */
  readonly serverBusyRuns?: number;
  /** Runs of both sides. */
  readonly runs: number;
  /** Whether the server's CPU per operation was measured on both sides. */
  readonly cpuKnown: boolean;
}

/**
 * Picks the figure that is meaningful for a run, and says why.
 *
 * @param ctx - The scenario's kind and what the runs saw.
 * @returns The figure and the reason, for the reader.
 */
export function chooseFigure(ctx: FigureContext): { readonly figure: Figure; readonly why: string } {
  if (ctx.kind === "hold") return { figure: "memoryPerConnection", why: "a hold scenario: what a held connection costs" };
  if (ctx.rate !== undefined) return { figure: "p99", why: `open loop at ${ctx.rate} ops/s: the rate is fixed, latency is what varies` };
  if (ctx.saturatedRuns > 0 && ctx.cpuKnown) {
    return { figure: "cpuUsPerOp", why: `the load generator saturated in ${ctx.saturatedRuns} of ${ctx.runs} runs, so throughput measures the client` };
  }
  if (ctx.cpuKnown && ctx.serverBusyRuns !== undefined && ctx.serverBusyRuns < ctx.runs) {
    return { figure: "cpuUsPerOp", why: `the server had headroom in ${ctx.runs - ctx.serverBusyRuns} of ${ctx.runs} runs, so the load set the rate` };
  }
  if (ctx.saturatedRuns > 0) return { figure: "throughput", why: `the load generator saturated in ${ctx.saturatedRuns} of ${ctx.runs} runs and the server's CPU is unknown` };
  return { figure: "throughput", why: "the load generator had headroom: the server was the limit" };
}

/** A server at or above this share of one core (in %) was the limit of its run. */
export const SERVER_BUSY_PERCENT = 90;

/** One comparison judged on one figure. */
export interface FigureJudgement {
  readonly figure: Figure;
  /** Whether the runs were paired (round by round) or taken as two independent samples. */
  readonly paired?: boolean;
  /** subject / reference; absent when there are too few runs or a figure is below noise. */
  readonly ratio?: RatioEstimate;
  readonly outcome: VerdictOutcome;
}

/**
 * Judges subject against reference on one figure: the ratio of geometric means, its interval,
 * and better or worse when the Welch test on the logs gives p < `significance`.
 *
 * @param figure - The figure.
 * @param subject - The subject's runs.
 * @param reference - The reference's runs.
 * @param significance - The level; the interval's confidence is 1 − significance.
 * @param paired - Whether `subject[i]` and `reference[i]` were measured side by side (see
 *   {@link pairedGeometricMeanRatio}). @defaultValue false
 * @returns The judgement.
 */
export function judgeFigure(figure: Figure, subject: readonly number[], reference: readonly number[], significance: number, paired = false): FigureJudgement {
  if (subject.length < 2 || reference.length < 2) return { figure, outcome: "too few runs" };
  // A memory increment lost in RSS noise can be 0 or negative: no ratio of it means anything.
  if ([...subject, ...reference].some((v) => !(v > 0))) return { figure, outcome: "below noise" };
  const ratio = paired ? pairedGeometricMeanRatio(subject, reference, 1 - significance) : geometricMeanRatio(subject, reference, 1 - significance);
  const base = { figure, ratio, ...(paired ? { paired } : {}) };
  if (!(ratio.p < significance)) return { ...base, outcome: "no significant difference" };
  const up = ratio.estimate > 1;
  return { ...base, outcome: up === FIGURES[figure].higherIsBetter ? "better" : "worse" };
}

/**
 * The runs of two points paired by repeat index, when each repeat index occurs once on each side
 * and both sides have the same ones (the styles of one sweep take turns round by round; two
 * sweeps of the same plan have the same repeats), for a figure each run measured directly.
 *
 * @param a - One point.
 * @param b - The other.
 * @param figure - The figure (memory per connection derived from RSS is not per run: never paired).
 * @returns The aligned values, or undefined when the runs do not pair.
 */
export function pairedRuns(a: PointSummary, b: PointSummary, figure: Figure): { readonly a: number[]; readonly b: number[] } | undefined {
  if (figure === "memoryPerConnection") return undefined;
  const byRepeat = (p: PointSummary): Map<number, number> | undefined => {
    const m = new Map<number, number>();
    for (const r of p.ok) {
      const [v] = figureValues([r], figure);
      if (v === undefined || m.has(r.repeat)) return undefined;
      m.set(r.repeat, v);
    }
    return m;
  };
  const ma = byRepeat(a);
  const mb = byRepeat(b);
  if (ma === undefined || mb === undefined || ma.size !== mb.size || ma.size < 2) return undefined;
  const keys = [...ma.keys()].sort((x, y) => x - y);
  if (keys.some((k) => !mb.has(k))) return undefined;
  return { a: keys.map((k) => ma.get(k) as number), b: keys.map((k) => mb.get(k) as number) };
}

/**
 * Judges point `a` against point `b` on a figure, paired by round when the runs pair.
 *
 * @param figure - The figure.
 * @param a - The subject (or the new run's point).
 * @param b - The reference (or the baseline's point).
 * @param significance - The level.
 * @returns The judgement.
 */
export function judgePoints(figure: Figure, a: PointSummary, b: PointSummary, significance: number): FigureJudgement {
  const pairs = pairedRuns(a, b, figure);
  return pairs === undefined ? judgeFigure(figure, summaryValues(a, figure), summaryValues(b, figure), significance) : judgeFigure(figure, pairs.a, pairs.b, significance, true);
}

/**
 * The values of a figure over successful runs (null, unknown, left out).
 *
 * @param runs - The runs.
 * @param figure - The figure; `memoryPerConnection` reads `extra.bytesPerConnection`.
 * @returns One value per run that has it.
 */
export function figureValues(runs: readonly ResultPoint[], figure: Figure): number[] {
  return runs.flatMap((r) => {
    if (r.failure !== undefined) return [];
    const v = figure === "throughput" ? r.throughput : figure === "cpuUsPerOp" ? r.serverCpuUsPerOp : figure === "p99" ? (r.latencyUs.max > 0 ? r.latencyUs.p99 : null) : (r.extra?.["bytesPerConnection"] ?? null);
    return v === null ? [] : [v];
  });
}

/** The verdict of one declared comparison of one series. */
export interface Verdict {
  readonly series: string;
  readonly scenario: string;
  readonly subject: string;
  readonly reference: string;
  /** The connection count judged: the largest at which both styles have runs. */
  readonly connections: number;
  /** Why this figure. */
  readonly why: string;
  readonly judgement: FigureJudgement;
  /** The same comparison at every connection count both styles have, for the chart. */
  readonly byConnections: readonly { readonly connections: number; readonly judgement: FigureJudgement }[];
}

/**
 * How many runs had a busy server, when every run knows its server's CPU.
 *
 * @param runs - Successful runs.
 * @returns `{ serverBusyRuns }`, or nothing when some server CPU is unknown.
 */
export function busyRuns(runs: readonly ResultPoint[]): { readonly serverBusyRuns?: number } {
  if (runs.some((r) => r.serverCpuPercent === null)) return {};
  return { serverBusyRuns: runs.filter((r) => (r.serverCpuPercent as number) >= SERVER_BUSY_PERCENT).length };
}

/** The values of a figure of a summarised point. */
export function summaryValues(p: PointSummary, figure: Figure): readonly number[] {
  return p[figure]?.values ?? [];
}

/**
 * The verdicts of a report: one per series and declared comparison, at the largest connection
 * count where both styles have successful runs; the figure is chosen there (see
 * {@link chooseFigure}) and kept for the other counts, so the chart compares like with like.
 *
 * @param points - The summarised points.
 * @param declared - Scenario → its comparisons, and its kind.
 * @param significance - The level.
 * @returns The verdicts, by series, in declared order.
 */
export function verdictsOf(
  points: readonly PointSummary[],
  declared: ReadonlyMap<string, { readonly kind: string; readonly comparisons: readonly { readonly subject: string; readonly reference: string }[] }>,
  seriesIdOf: (p: PointSummary) => string,
  significance: number,
): Verdict[] {
  const out: Verdict[] = [];
  const series = [...new Set(points.map(seriesIdOf))];
  for (const id of series) {
    const mine = points.filter((p) => seriesIdOf(p) === id);
    const first = mine[0] as PointSummary;
    const info = declared.get(first.scenario);
    if (info === undefined) continue;
    for (const { subject, reference } of info.comparisons) {
      const pairs = [...new Set(mine.map((p) => p.connections))]
        .sort((a, b) => a - b)
        .flatMap((c) => {
          const s = mine.find((p) => p.style === subject && p.connections === c);
          const r = mine.find((p) => p.style === reference && p.connections === c);
          return s !== undefined && r !== undefined && s.ok.length > 0 && r.ok.length > 0 ? [{ c, s, r }] : [];
        });
      const last = pairs.at(-1);
      if (last === undefined) continue;
      const { figure, why } = chooseFigure({
        kind: info.kind,
        ...(first.rate === undefined ? {} : { rate: first.rate }),
        saturatedRuns: last.s.saturatedRuns + last.r.saturatedRuns,
        ...busyRuns([...last.s.ok, ...last.r.ok]),
        runs: last.s.ok.length + last.r.ok.length,
        cpuKnown: last.s.cpuUsPerOp !== undefined && last.r.cpuUsPerOp !== undefined,
      });
      const byConnections = pairs.map(({ c, s, r }) => ({ connections: c, judgement: judgePoints(figure, s, r, significance) }));
      out.push({ series: id, scenario: first.scenario, subject, reference, connections: last.c, why, judgement: (byConnections.at(-1) as { judgement: FigureJudgement }).judgement, byConnections });
    }
  }
  return out;
}
