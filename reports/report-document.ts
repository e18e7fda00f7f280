/**
 * The report as a document of blocks (headings, paragraphs, tables, lists, charts), built once
 * from the model and rendered twice, by markdown.ts for a pull request and by html.ts for a
 * person, so the two always say the same thing.
 *
 * Inline text uses a tiny Markdown subset both renderers understand: `code` and **bold**.
 *
 * @module
 */

import type { ReportModel, Series, Warning } from "./analyze.js";
import type { Chart } from "./charts.js";
import type { BaselineChange, StyleComparison } from "./compare.js";
import type { Interval } from "./statistics.js";
import { formatBytes, formatChange, formatCount, formatInterval, formatLatency, formatNumber, formatP, formatRatio } from "./format.js";
import type { RunResults } from "./read-results.js";
import type { Decision } from "./compare.js";
import { seriesLabel, type PointSummary } from "./summarize-points.js";
import { VERDICTS_CHART_ID } from "./charts.js";
import { FIGURES, type Verdict } from "./verdicts.js";
import { describeCheck } from "./regression-gate.js";
import { flameGraphSvg, topSelfTime, type StyleProfile } from "./cpu-profile.js";

/** How a cell or list item should stand out. */
export type Tone = "normal" | "good" | "bad" | "warn" | "failed" | "muted";

/** A table cell: inline text, optionally toned. */
export interface Cell {
  readonly text: string;
  readonly tone?: Tone;
}

/** One block of the report. */
export type Block =
  | { readonly type: "heading"; readonly level: 1 | 2 | 3; readonly text: string; readonly id: string }
  | { readonly type: "paragraph"; readonly text: string; readonly tone?: Tone }
  | { readonly type: "list"; readonly items: readonly Cell[] }
  | { readonly type: "table"; readonly header: readonly string[]; readonly align: readonly ("left" | "right")[]; readonly rows: readonly (readonly Cell[])[] }
  | { readonly type: "chart"; readonly chart: Chart }
  /** Blocks side by side where there is room (HTML); one after the other in Markdown. */
  | { readonly type: "row"; readonly blocks: readonly Block[] }
  /** A drawing that is not a vega chart (a flame graph): its own SVG, a file beside the Markdown. */
  | { readonly type: "figure"; readonly id: string; readonly title: string; readonly caption: string; readonly svg: string }
  /** Blocks a reader opens on demand in Markdown (`<details>`); shown open in HTML. */
  | { readonly type: "details"; readonly summary: string; readonly blocks: readonly Block[] };

/** Options of {@link buildDocument}. */
export interface DocumentOptions {
  /** The `wirelab report ...` command line that made this report, for provenance. */
  readonly reportCommand?: string;
  /** Why the report has no charts, when it has none for want of the chart libraries. */
  readonly chartsUnavailable?: string;
  /** The servers' CPU profiles, merged per style (`--server-cpu-prof`). */
  readonly profiles?: readonly StyleProfile[];
  /** Why the profiles the results name could not be shown. */
  readonly profilesUnavailable?: string;
}

const c = (text: string, tone?: Tone): Cell => (tone === undefined ? { text } : { text, tone });

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function provenance(files: readonly RunResults[], title: string, reportCommand: string | undefined): Block[] {
  const rows: Cell[][] = [];
  const col = (f: (r: RunResults) => string): Cell[] => files.map((r) => c(f(r)));
  const gib = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GiB`;
  rows.push([c("File"), ...col((r) => code(r.source))]);
  rows.push([c("Machine"), ...col((r) => `${r.environment.cpuModel}, ${r.environment.cores} cores, ${gib(r.environment.memoryBytes)}, ${r.environment.os}`)]);
  rows.push([c("Node"), ...col((r) => r.environment.nodeVersion)]);
  rows.push([c("Commit"), ...col((r) => code(r.environment.commit))]);
  rows.push([c("Command"), ...col((r) => code(r.environment.command))]);
  rows.push([c("Started"), ...col((r) => r.environment.startedAt)]);
  rows.push([
    c("Sweep"),
    ...col(
      (r) =>
        `${r.parameters.connections.join(", ")} connections × ${r.parameters.repeat} repeats, ${r.parameters.durationMs} ms measured after ${r.parameters.warmupMs} ms warm-up${r.parameters.rate === undefined ? "" : `, open loop at ${r.parameters.rate} ops/s`}${r.parameters.sim ? ", simulated network" : ""}`,
    ),
  ]);
  rows.push([
    c("Peers"),
    ...col((r) =>
      Object.keys(r.environment.peers).length === 0
        ? "none"
        : Object.entries(r.environment.peers)
            .map(([k, v]) => `${k} ${v}`)
            .join(", "),
    ),
  ]);
  const blocks: Block[] = [
    { type: "heading", level: 2, text: title, id: slug(title) },
    { type: "table", header: ["", ...files.map((_, i) => (files.length === 1 ? "" : `file ${i + 1}`))], align: ["left", ...files.map(() => "left" as const)], rows },
  ];
  if (reportCommand !== undefined) blocks.push({ type: "paragraph", text: `Report made with ${code(reportCommand)}.` });
  return blocks;
}

function noteCells(p: PointSummary, cvWarning: number): string {
  const notes: string[] = [];
  if (p.failed.length > 0 && p.ok.length > 0) notes.push(`${p.failed.length} of ${p.runs.length} runs failed`);
  if (p.errors + p.timeouts + p.mismatches > 0) notes.push(`⚠ ${p.errors} err / ${p.timeouts} timeout / ${p.mismatches} mismatch`);
  if (p.saturatedRuns > 0) notes.push(`⚠ generator saturated (${p.saturatedRuns}/${p.ok.length})`);
  for (const [name, m] of [["throughput", p.throughput], ["p99", p.p99]] as const) {
    if (m !== undefined && m.values.length > 1 && m.cv > cvWarning) notes.push(`⚠ ${name} CV ${(m.cv * 100).toFixed(0)}%`);
    if (m !== undefined && m.fences.outliers.length > 0) {
      notes.push(`outlier ${name}: run ${m.fences.outliers.map((i) => p.ok[i]?.repeat ?? i).join(", ")}`);
    }
  }
  return notes.join("; ");
}

/** The server's CPU and memory were not measured (a `--target` server without `--server-pid`). */
function serverUnknown(p: PointSummary): boolean {
  return p.ok.length > 0 && p.ok.every((r) => r.serverCpuUsPerOp === null);
}

function pointsTable(s: Series, model: ReportModel): Block {
  const rows: Cell[][] = [];
  for (const conn of s.connections) {
    const at = s.points.filter((p) => p.connections === conn);
    const best = Math.max(...at.map((p) => p.throughput?.median.estimate ?? 0));
    for (const p of at) {
      if (p.ok.length === 0) {
        const reason = p.failed[0]?.failure ?? "failed";
        rows.push([c(formatCount(conn)), c(p.style), c(`**failed** (${p.failed.length}/${p.runs.length} runs): ${reason}`, "failed"), c("—"), c("—"), c("—"), c("—"), c("—"), c("—"), c("—"), c("")]);
        continue;
      }
      const t = p.throughput;
      const rel = t !== undefined && t.median.estimate > 0 && best > 0 ? best / t.median.estimate : undefined;
      const notes = noteCells(p, model.options.cvWarning);
      rows.push([
        c(formatCount(conn)),
        c(p.style),
        c(t === undefined ? "—" : `${formatNumber(t.median.estimate)} ${formatInterval(t.median, formatNumber)}`),
        c(t === undefined ? "—" : `${formatNumber(t.iqr)} / ${formatNumber(t.mad)}`),
        c(rel === undefined ? "—" : rel < 1.0005 ? "**1.00**" : formatRatio(rel), rel !== undefined && rel < 1.0005 ? "good" : "normal"),
        c(p.p50 === undefined ? "—" : formatLatency(p.p50.median.estimate)),
        c(p.p99 === undefined ? "—" : `${formatLatency(p.p99.median.estimate)} ${formatInterval(p.p99.median, formatLatency)}`),
        c(p.memoryPerConnection === undefined ? (serverUnknown(p) ? "unknown" : "—") : memoryText(p.memoryPerConnection.median), p.memoryPerConnection !== undefined && belowNoise(p.memoryPerConnection.median) ? "muted" : "normal"),
        c(p.cpuUsPerOp === undefined ? (serverUnknown(p) ? "unknown" : "—") : `${formatNumber(p.cpuUsPerOp.median.estimate)} µs`),
        c(`${p.ok.length}`),
        c(notes, notes.includes("⚠") ? "warn" : "normal"),
      ]);
    }
  }
  return {
    type: "table",
    header: ["Conns", "Style", "Throughput ops/s [95% CI]", "IQR / MAD", "× slower than best", "p50", "p99 [95% CI]", "Mem/conn", "Server CPU/op", "Runs", "Notes"],
    align: ["right", "left", "right", "right", "right", "right", "right", "right", "right", "right", "left"],
    rows,
  };
}

/**
 * A memory figure whose interval reaches 0 is within the measurement's noise (RSS moves by pages
 * and by what the allocator keeps): it is shown as such, never as a number, least of all a
 * negative one.
 */
function belowNoise(i: Interval): boolean {
  return !(i.low > 0);
}

function memoryText(i: Interval): string {
  return belowNoise(i) ? "below noise" : formatBytes(i.estimate);
}

function testText(d: Decision): string {
  if (d.test === undefined) return d.note ?? "no test";
  const name = d.test.test === "Welch t" ? "Welch t" : `Mann–Whitney${d.test.exact === true ? " (exact)" : ""}`;
  return `${name}, ${formatP(d.test.p)}`;
}

function verdictTone(v: string): Tone {
  return v === "faster" || v === "improved" ? "good" : v === "slower" || v === "regressed" ? "bad" : "muted";
}

function comparisonTable(list: readonly StyleComparison[]): Block {
  return {
    type: "table",
    header: ["Conns", "Comparison", "Throughput ratio [95% CI]", "p99 ratio [95% CI]", "Test over runs", "Verdict"],
    align: ["right", "left", "right", "right", "left", "left"],
    rows: list.map((x) => [
      c(formatCount(x.connections)),
      c(`${x.subject} / ${x.reference}`),
      c(x.throughputRatio === undefined ? "—" : `${formatRatio(x.throughputRatio.estimate)} ${formatInterval(x.throughputRatio, formatRatio)}`),
      c(x.p99Ratio === undefined ? "—" : `${formatRatio(x.p99Ratio.estimate)} ${formatInterval(x.p99Ratio, formatRatio)}`),
      c(testText(x.decision)),
      c(
        x.verdict === "faster" || x.verdict === "slower" ? `**${x.subject} ${x.verdict}** (by ${x.metric === "throughput" ? "throughput" : "p99"})` : x.verdict,
        verdictTone(x.verdict),
      ),
    ]),
  };
}

function changeLine(ch: BaselineChange): Cell[] {
  const p = ch.point;
  const t = ch.throughputRatio;
  const l = ch.p99Ratio;
  return [
    c(`${seriesLabel(p)} / ${p.style} / ${formatCount(p.connections)}`),
    c(t === undefined ? "—" : `[${formatChange(t.low)} **${formatChange(t.estimate)}** ${formatChange(t.high)}]`),
    c(l === undefined ? "—" : `[${formatChange(l.low)} **${formatChange(l.estimate)}** ${formatChange(l.high)}]`),
    c(testText(ch.decision)),
    c(ch.verdict === "regressed" ? "**⚠ regressed**" : ch.verdict === "improved" ? "**improved**" : ch.verdict, verdictTone(ch.verdict)),
  ];
}

function mergedTable(s: Series): Block | undefined {
  const c0 = Math.max(...s.points.filter((p) => p.spectrum !== undefined).map((p) => p.connections));
  if (!Number.isFinite(c0)) return undefined;
  const at = s.points.filter((p) => p.connections === c0);
  const labels = at.find((p) => p.spectrum !== undefined)?.spectrum?.values.map((v) => v.label) ?? [];
  const rows: Cell[][] = [];
  for (const p of at) {
    for (const [kind, spec] of [["", p.spectrum], [" (uncorrected)", p.uncorrectedSpectrum]] as const) {
      if (spec === undefined) {
        if (kind === "" && p.ok.length === 0) rows.push([c(p.style), c("**failed**", "failed"), c("—"), ...labels.map(() => c("—"))]);
        continue;
      }
      rows.push([c(`${p.style}${kind}`), c(formatCount(spec.count)), c(`${spec.runs}`), ...spec.values.map((v) => c(formatLatency(v.valueUs)))]);
    }
  }
  return { type: "table", header: [`Style @ ${formatCount(c0)} conns`, "Requests", "Runs", ...labels], align: ["left", "right", "right", ...labels.map(() => "right" as const)], rows };
}

const FIGURE_SHORT: Readonly<Record<Verdict["judgement"]["figure"], string>> = {
  throughput: "throughput",
  cpuUsPerOp: "server CPU/op",
  p99: "p99 latency",
  memoryPerConnection: "memory/conn",
};

function figureCell(v: Verdict): string {
  const f = v.judgement.figure;
  const saturated = /saturated in (\d+ of \d+)/.exec(v.why)?.[1];
  const runs = saturated?.replace(" of ", "/");
  const headroom = /server had headroom in (\d+ of \d+)/.exec(v.why)?.[1]?.replace(" of ", "/");
  const note = f === "cpuUsPerOp" ? (headroom !== undefined ? `server had headroom ${headroom}` : `generator saturated ${runs ?? ""}`.trim()) : f === "throughput" ? (runs === undefined ? "server was the limit" : `generator saturated ${runs}, server CPU unknown`) : f === "p99" ? "open loop" : "hold";
  return `${FIGURE_SHORT[f]} (${note})`;
}

function verdictText(v: Verdict): Cell {
  const j = v.judgement;
  const p = j.ratio === undefined ? "" : ` (${formatP(j.ratio.p)})`;
  if (j.outcome === "better" || j.outcome === "worse") {
    const word = j.outcome === "better" ? FIGURES[j.figure].better : FIGURES[j.figure].worse;
    return c(`**${v.subject} ${word}**${p}`, j.outcome === "better" ? "good" : "bad");
  }
  return c(`${j.outcome}${p}`, "muted");
}

/** The verdict table: one row per series and declared comparison. */
function verdictTable(model: ReportModel): Block {
  return {
    type: "table",
    header: ["#", "Comparison", "Conns", "Figure (why)", "Ratio [95% CI]", "Verdict"],
    align: ["right", "left", "right", "left", "right", "left"],
    rows: model.verdicts.map((v, i) => {
      const r = v.judgement.ratio;
      const label = model.series.find((s) => s.id === v.series)?.label ?? v.scenario;
      return [
        c(`${i + 1}`, "muted"),
        c(`${label}: **${v.subject}** / ${v.reference}`),
        c(formatCount(v.connections)),
        c(figureCell(v)),
        c(r === undefined ? "—" : `**${formatRatio(r.estimate)}** ${formatInterval(r, formatRatio)}`),
        verdictText(v),
      ];
    }),
  };
}

/** How many functions the side-by-side self-time table lists per style. */
export const TOP_SELF_FUNCTIONS = 10;

/** Where the time goes: per scenario, the top self-time functions of each style side by side, and a flame graph per style. */
function profileBlocks(profiles: readonly StyleProfile[], unavailable: string | undefined): Block[] {
  if (profiles.length === 0 && unavailable === undefined) return [];
  const blocks: Block[] = [{ type: "heading", level: 2, text: "Where the time goes", id: "where-the-time-goes" }];
  if (unavailable !== undefined) blocks.push({ type: "paragraph", text: unavailable, tone: "muted" });
  for (const scenario of [...new Set(profiles.map((p) => p.scenario))]) {
    const mine = profiles.filter((p) => p.scenario === scenario);
    const tops = mine.map((p) => topSelfTime(p.tree, TOP_SELF_FUNCTIONS));
    blocks.push({ type: "heading", level: 3, text: `${scenario}: top self time, server CPU`, id: `profile-${slug(scenario)}` });
    blocks.push({
      type: "table",
      header: ["#", ...mine.map((p) => `${p.style} (${(p.tree.total / 1000).toFixed(0)} ms sampled)`)],
      align: ["right", ...mine.map(() => "left" as const)],
      rows: Array.from({ length: Math.max(0, ...tops.map((t) => t.length)) }, (_, i) => [
        c(`${i + 1}`, "muted"),
        ...tops.map((t) => {
          const f = t[i];
          return c(f === undefined ? "" : `**${(f.share * 100).toFixed(1)}%** ${code(f.name)}${f.where === "" ? "" : ` ${f.where}`}`);
        }),
      ]),
    });
    for (const p of mine) {
      const title = `${scenario} / ${p.style}: server CPU flame graph`;
      blocks.push({
        type: "figure",
        id: `flame-${slug(scenario)}-${slug(p.style)}`,
        title,
        caption: `${p.files} profile${p.files === 1 ? "" : "s"} merged, ${(p.tree.total / 1000).toFixed(0)} ms of CPU sampled (idle left out); width is CPU time, callers below callees; hover a frame for its name, place and share.`,
        svg: flameGraphSvg(p.tree, { title }),
      });
    }
  }
  return blocks;
}

/** How many points a kind of warning concerns, in words. */
const WARNING_GROUPS: Readonly<Record<Warning["kind"], string>> = {
  failed: "with failed runs",
  errors: "with errors, timeouts or mismatches",
  saturated: "where the load generator saturated (throughput there measures the client; verdicts rest on server CPU per operation)",
  noisy: "noisy",
  outlier: "with an outlier run (kept in every statistic)",
  environment: "",
  sim: "",
  artillery: "",
};

/** Warnings grouped by kind: one line each, naming the points (the first few). */
export function groupWarnings(warnings: readonly Warning[], totalPoints: number, cvWarning: number): Cell[] {
  const items: Cell[] = [];
  const kinds = [...new Set(warnings.map((w) => w.kind))];
  for (const kind of kinds) {
    const mine = warnings.filter((w) => w.kind === kind);
    const tone: Tone = kind === "failed" ? "failed" : kind === "outlier" ? "muted" : "warn";
    if (mine.every((w) => w.where === undefined)) {
      for (const w of mine) items.push(c(`**${kind}**: ${w.message}`, tone));
      continue;
    }
    const where = [...new Set(mine.flatMap((w) => (w.where === undefined ? [] : [w.where])))];
    const shown = where.slice(0, 6).join("; ");
    const more = where.length > 6 ? `; and ${where.length - 6} more` : "";
    const what = kind === "noisy" ? `noisy, CV > ${(cvWarning * 100).toFixed(0)}%` : WARNING_GROUPS[kind];
    items.push(c(`**${kind}**: ${where.length} of ${totalPoints} points ${what}: ${shown}${more}`, tone));
  }
  return items;
}

/**
 * Builds the report document.
 *
 * @param model - The analysed results.
 * @param charts - The rendered charts (placed with their series).
 * @param options - Provenance of the report command.
 * @returns The blocks, in reading order.
 */
export function buildDocument(model: ReportModel, charts: readonly Chart[], options: DocumentOptions = {}): Block[] {
  const blocks: Block[] = [{ type: "heading", level: 1, text: "wirelab benchmark report", id: "wirelab-benchmark-report" }];
  const env = model.results[0]?.environment;
  if (env !== undefined) {
    blocks.push({ type: "paragraph", text: `${code(env.commit)} on ${env.cpuModel} (${env.cores} cores), Node ${env.nodeVersion}, ${env.startedAt}. Details, provenance and method follow the verdicts.`, tone: "muted" });
  }
  const regressions = model.baselineChanges?.filter((ch) => ch.verdict === "regressed") ?? [];
  if (model.baselineChanges !== undefined) {
    blocks.push({
      type: "paragraph",
      text:
        regressions.length === 0
          ? "Against the baseline run: no regression beyond the noise."
          : `**⚠ ${regressions.length} regression${regressions.length === 1 ? "" : "s"} against the baseline run**: ${regressions.map((r) => `${seriesLabel(r.point)} / ${r.point.style} / ${formatCount(r.point.connections)}`).join("; ")}.`,
      tone: regressions.length === 0 ? "good" : "bad",
    });
  }

  if (model.gate !== undefined) {
    const g = model.gate;
    const threshold = `${+(g.threshold * 100).toFixed(2)}%`;
    blocks.push({
      type: "paragraph",
      text:
        g.regressions.length === 0
          ? `Regression gate (${threshold}): passed, ${g.checks.length} figure${g.checks.length === 1 ? "" : "s"} checked.`
          : `**Regression gate (${threshold}): failed**: ${g.regressions.map((r) => `${r.label}: ${describeCheck(r)}`).join("; ")}.`,
      tone: g.regressions.length === 0 ? "good" : "bad",
    });
  }
  blocks.push({ type: "heading", level: 2, text: "Verdicts", id: "verdicts" });
  const verdictChart = charts.find((ch) => ch.id === VERDICTS_CHART_ID);
  if (model.verdicts.length === 0) {
    blocks.push({ type: "paragraph", text: "No comparison to judge: the scenarios declared none, or no two of their styles ran at the same connection count.", tone: "muted" });
  } else {
    blocks.push({ type: "row", blocks: [verdictTable(model), ...(verdictChart === undefined ? [] : [{ type: "chart" as const, chart: verdictChart }])] });
    blocks.push({
      type: "paragraph",
      text: `Each row is a comparison its scenario declares, at the largest connection count both styles ran: the ratio subject / reference of geometric means over runs with a 95% t interval on the logs (paired round by round: the styles took turns, so what disturbed a round disturbed both; Welch's where runs do not pair), better or worse when p < ${model.options.significance}. The figure is throughput where the server was the limit (busy, and the load generator had headroom), server CPU per operation where the generator saturated or the server had headroom, p99 latency in open loop and memory per connection in a hold scenario.`,
      tone: "muted",
    });
  }
  for (const r of model.results) {
    const pr = r.precision;
    if (pr === undefined) continue;
    const pct = `±${+(pr.target * 100).toFixed(2)}%`;
    const items = pr.outcomes.map((o) => {
      const how = o.stoppedBy === "met" ? `every comparison within ${pct}` : o.stoppedBy === "time" ? `**time budget ran out** before ${pct}` : o.stoppedBy === "rounds" ? `**round limit** before ${pct}` : "nothing to compare";
      const widest = o.comparisons.reduce((w, c) => Math.max(w, c.halfWidth ?? Number.POSITIVE_INFINITY), 0);
      return c(`${o.scenario} at ${formatCount(o.connections)} connections: ${how} after ${o.rounds} rounds, ${(o.elapsedMs / 1000).toFixed(0)} s${o.comparisons.length === 0 ? "" : ` (widest interval ±${Number.isFinite(widest) ? (widest * 100).toFixed(1) : "∞"}%)`}`, o.stoppedBy === "met" ? "good" : o.stoppedBy === "nothing to compare" ? "muted" : "warn");
    });
    blocks.push({ type: "paragraph", text: `Auto-sampling (\`--precision\`, budget ${(pr.maxTimeMs / 1000).toFixed(0)} s per scenario and connection count):` });
    blocks.push({ type: "list", items });
  }
  if (options.chartsUnavailable !== undefined) blocks.push({ type: "paragraph", text: `No charts: ${options.chartsUnavailable}.`, tone: "muted" });

  blocks.push({ type: "heading", level: 2, text: "Warnings", id: "warnings" });
  const totalPoints = model.series.reduce((n, s) => n + s.points.length, 0);
  if (model.warnings.length === 0) {
    blocks.push({ type: "paragraph", text: "None: no errors, no failed runs, no saturated load generator, repeats agree (CV ≤ " + `${(model.options.cvWarning * 100).toFixed(0)}%).` });
  } else {
    blocks.push({ type: "list", items: groupWarnings(model.warnings, totalPoints, model.options.cvWarning) });
    blocks.push({ type: "paragraph", text: "Every warning in full is listed under “Warnings in full”, after the details.", tone: "muted" });
  }

  blocks.push(...profileBlocks(options.profiles ?? [], options.profilesUnavailable));

  const details: Block[] = [];
  details.push(...provenance(model.results, "Provenance", options.reportCommand));
  if (model.baseline !== undefined) details.push(...provenance(model.baseline, "Baseline run", undefined));
  if (model.baselineChanges !== undefined) {
    details.push({ type: "heading", level: 2, text: "Change against the baseline run", id: "change-against-baseline" });
    details.push({
      type: "paragraph",
      text:
        regressions.length === 0
          ? "No regression beyond the noise."
          : `**⚠ ${regressions.length} regression${regressions.length === 1 ? "" : "s"} beyond the noise**: ${regressions.map((r) => `${seriesLabel(r.point)} / ${r.point.style} / ${formatCount(r.point.connections)}`).join("; ")}.`,
      tone: regressions.length === 0 ? "good" : "bad",
    });
    details.push({
      type: "paragraph",
      text: `Change is new / baseline − 1 as [low **median** high] of a 95% bootstrap interval. A point regressed or improved when the test over runs gives p < ${model.options.significance} and the change is beyond the ${(model.options.noiseThreshold * 100).toFixed(0)}% noise threshold; the deciding figure is throughput in closed loop and p99 latency in open loop.`,
    });
    details.push({
      type: "table",
      header: ["Point", "Throughput change", "p99 change", "Test over runs", "Verdict"],
      align: ["left", "right", "right", "left", "left"],
      rows: (model.baselineChanges ?? []).map(changeLine),
    });
    const un = model.baselineUnmatched;
    if (un !== undefined && (un.onlyNew.length > 0 || un.onlyBaseline.length > 0)) {
      details.push({
        type: "paragraph",
        text: `Not compared: ${un.onlyNew.length} point(s) only in this run, ${un.onlyBaseline.length} only in the baseline${un.onlyBaseline.length > 0 ? ` (${un.onlyBaseline.slice(0, 8).map(code).join(", ")}${un.onlyBaseline.length > 8 ? ", …" : ""})` : ""}.`,
      });
    }
  }

  if (model.slo !== undefined) {
    const ms = model.slo.thresholdMs;
    details.push({ type: "heading", level: 2, text: `Capacity at p99 < ${ms} ms`, id: "capacity" });
    details.push({ type: "paragraph", text: `The largest connection count at which the median p99 over repeats stays under ${ms} ms at that count and every smaller one measured.` });
    details.push({
      type: "table",
      header: ["Scenario", "Style", `Max connections with p99 < ${ms} ms`, "First miss"],
      align: ["left", "left", "right", "right"],
      rows: model.slo.capacities.map((cap) => {
        const s = model.series.find((x) => x.id === cap.series);
        return [
          c(s?.label ?? cap.series),
          c(cap.style),
          cap.maxConnections === undefined ? c("none", "bad") : c(`${cap.censored ? "≥ " : ""}${formatCount(cap.maxConnections)}${cap.censored ? " (largest measured)" : ""}`, cap.censored ? "good" : "normal"),
          c(cap.firstMiss === undefined ? "—" : formatCount(cap.firstMiss)),
        ];
      }),
    });
  }

  details.push({ type: "heading", level: 2, text: "How cost grows with connections", id: "scaling" });
  details.push({
    type: "paragraph",
    text: "Exponent k of a least-squares power-law fit y ∝ connections^k on logs of the medians: k ≈ 0 is flat, 1 linear. Memory per connection is `extra.bytesPerConnection` where the scenario measures it, else the server's extra RSS over the smallest connection count divided by the extra connections (so the fixed cost of the process is not counted; no figure at the smallest count).",
  });
  details.push({
    type: "table",
    header: ["Scenario", "Style", "p99 latency k", "R²", "Memory/conn k", "R²"],
    align: ["left", "left", "right", "right", "right", "right"],
    rows: model.scaling.map((sc) => [
      c(model.series.find((x) => x.id === sc.series)?.label ?? sc.series),
      c(sc.style),
      c(sc.latency === undefined ? "—" : sc.latency.exponent.toFixed(2)),
      c(sc.latency === undefined ? "—" : sc.latency.rSquared.toFixed(2)),
      c(sc.memory === undefined ? "—" : sc.memory.exponent.toFixed(2)),
      c(sc.memory === undefined ? "—" : sc.memory.rSquared.toFixed(2)),
    ]),
  });

  for (const s of model.series) {
    details.push({ type: "heading", level: 2, text: s.label, id: `series-${slug(s.id)}` });
    details.push({ type: "paragraph", text: `Medians over repeats with 95% bootstrap intervals; spread as IQR / MAD of throughput. “× slower than best” is the best throughput at that connection count over this style's (hyperfine's relative column).` });
    details.push(pointsTable(s, model));
    // The comparisons the scenario declared, each pair's rows together, by connection count.
    const comps = model.comparisons.filter((x) => x.series === s.id);
    const pairs = [...new Set(comps.map((x) => `${x.subject} vs ${x.reference}`))];
    for (const pair of pairs) {
      details.push({ type: "heading", level: 3, text: `${s.label}: ${pair}`, id: `compare-${slug(s.id)}-${slug(pair)}` });
      details.push(comparisonTable(comps.filter((x) => `${x.subject} vs ${x.reference}` === pair)));
    }
    const merged = mergedTable(s);
    if (merged !== undefined) {
      details.push({ type: "heading", level: 3, text: `${s.label}: latency percentiles (merged HDR histograms)`, id: `spectrum-${slug(s.id)}` });
      details.push(merged);
    }
    const mine = charts.filter((ch) => ch.series === s.id);
    if (mine.length > 0) {
      details.push({ type: "heading", level: 3, text: `${s.label}: charts`, id: `charts-${slug(s.id)}` });
      for (const ch of mine) details.push({ type: "chart", chart: ch });
    }
  }

  if (model.warnings.length > 0) {
    details.push({ type: "heading", level: 2, text: "Warnings in full", id: "warnings-in-full" });
    details.push({
      type: "list",
      items: model.warnings.map((w) => c(`**${w.kind}**: ${w.message}`, w.kind === "failed" ? "failed" : w.kind === "outlier" ? "muted" : "warn")),
    });
  }

  const b = model.options.bootstrap;
  details.push({ type: "heading", level: 2, text: "Method", id: "method" });
  details.push({
    type: "list",
    items: [
      c(`Every figure is the median over repeated runs of a point (scenario × style × connections); intervals are 95% percentile-bootstrap intervals (${b.resamples} resamples, seed ${b.seed}, so the same results give the same report). With 3 runs the interval of a median is close to [min, max]: more repeats give tighter intervals.`),
      c(`Spread: IQR and MAD of the runs. Repeats disagree widely when their coefficient of variation exceeds ${(model.options.cvWarning * 100).toFixed(0)}%. Outliers are runs outside Tukey's fences (1.5 × IQR); they are flagged and kept, never dropped.`),
      c(`The verdicts (first table) are ratios of geometric means over runs with a t interval and test on the logs, paired by round where the runs pair, else Welch's (the interval excludes 1 exactly when p < ${model.options.significance}); that is the interval \`wirelab bench --precision\` narrows and \`wirelab report --fail-on-regression\` tests. Memory figures whose interval reaches 0 are shown as below noise.`),
      c(`In the detail tables, ratios are medians of one style over another measured in the same run, with bootstrap intervals; their verdicts come from a two-sided test over runs (not requests) at p < ${model.options.significance}: Mann–Whitney U when the run counts allow it to reach that level (4 or more runs each), else Welch's t-test. The deciding figure is throughput in closed loop and p99 latency in open loop (fixed rate).`),
      c("Latency percentiles of a point come from its runs' HDR histograms merged (all requests of all runs); open-loop latency is corrected for coordinated omission, and the uncorrected figures are shown beside it."),
      c("Failed runs are listed and never shown as numbers; a point whose runs all failed is shown as failed."),
    ],
  });
  blocks.push({ type: "details", summary: "Details: provenance, every point, every comparison, charts, warnings in full, method", blocks: details });
  return blocks;
}

