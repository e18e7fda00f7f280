/**
 * The report's charts: vega-lite specifications built from the report model, compiled by
 * vega-lite and rendered to SVG strings by vega's headless `View` (renderer `none`, `toSVG()`),
 * in Node, with no browser and no native dependency. Without node-canvas, vega estimates text
 * widths, which is close enough for axis labels and legends.
 *
 * vega and vega-lite are optional peer dependencies of wirelab, loaded only here and only when a
 * report is drawn, so that a program that uses the runtime never loads (nor needs to install)
 * them; without them a report has its tables and no charts, and says so.
 *
 * @module
 */

import type * as Vega from "vega";
import type * as VegaLite from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import type { ReportModel, Series } from "./analyze.js";
import { SPECTRUM_PERCENTILES } from "./latency-spectrum.js";
import type { PointSummary } from "./summarize-points.js";
import { FIGURES } from "./verdicts.js";

/** What a chart shows. */
export type ChartKind = "verdicts" | "throughput" | "p99" | "memory" | "spectrum" | "open-loop";

/** A chart's specification, before rendering. */
export interface ChartSpec {
  /** Unique within a report, usable as an HTML id. */
  readonly id: string;
  readonly kind: ChartKind;
  readonly series: string;
  readonly title: string;
  /** What the chart shows and what is missing from it (failed points are left out, and named). */
  readonly caption: string;
  readonly spec: TopLevelSpec;
}

/** A rendered chart. */
export interface Chart extends ChartSpec {
  /** A standalone `<svg>` element. */
  readonly svg: string;
}

/** Chart size in CSS pixels. @defaultValue 520 × 260 */
export const CHART_SIZE = { width: 520, height: 260 } as const;

// A style keeps its colour in every chart of a report: colours go by the style's place in the
// report-wide order (the order the scenarios declared their styles in).
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#7f7f7f", "#9467bd", "#d62728", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];

/** The colour scale of one chart: only the styles it shows, each in its report-wide colour. */
function styleScale(order: readonly string[], shown: readonly string[]): { domain: string[]; range: string[] } {
  const domain = order.filter((s) => shown.includes(s));
  return { domain, range: domain.map((s) => PALETTE[order.indexOf(s) % PALETTE.length] as string) };
}

const CONFIG = {
  background: "white",
  font: "Helvetica, Arial, sans-serif",
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: "start" as const },
};

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

function missingNote(points: readonly PointSummary[], has: (p: PointSummary) => boolean): string {
  const missing = points.filter((p) => !has(p));
  if (missing.length === 0) return "";
  const names = missing.map((p) => `${p.style} at ${p.connections} (${p.ok.length === 0 ? "failed" : "not positive, cannot be shown on a log axis"})`);
  return ` Not plotted: ${names.join(", ")}.`;
}

function lineChart(
  s: Series,
  kind: "throughput" | "p99" | "memory",
  styles: readonly string[],
): ChartSpec | undefined {
  const metric = kind === "throughput" ? "throughput" : kind === "p99" ? "p99" : "memoryPerConnection";
  const logY = kind !== "throughput";
  const scale = kind === "throughput" ? 1 : kind === "p99" ? 1 / 1000 : 1 / 1024;
  const yTitle = kind === "throughput" ? "throughput (ops/s), median" : kind === "p99" ? "p99 latency (ms), median" : "server memory per connection (KiB), median";
  const rows = s.points.flatMap((p) => {
    const m = p[metric];
    // A log axis cannot show 0 or less (a memory increment lost in RSS noise); such points are
    // named in the caption instead.
    if (m === undefined || (logY && !(m.median.low > 0))) return [];
    return [{ style: p.style, connections: p.connections, value: m.median.estimate * scale, low: m.median.low * scale, high: m.median.high * scale, runs: m.values.length }];
  });
  if (rows.length === 0) return undefined;
  const plotted = new Set(rows.map((r) => `${r.style}|${r.connections}`));
  const title =
    kind === "throughput" ? `${s.label}: throughput vs connections` : kind === "p99" ? `${s.label}: p99 latency vs connections` : `${s.label}: memory per connection vs connections`;
  const spec: TopLevelSpec = {
    width: CHART_SIZE.width,
    height: CHART_SIZE.height,
    title,
    config: CONFIG,
    data: { values: rows },
    encoding: {
      x: {
        field: "connections",
        type: "quantitative",
        title: "concurrent connections (log scale)",
        scale: { type: "log" },
        axis: { values: [...s.connections], format: ",d" },
      },
      color: { field: "style", type: "nominal", title: "style", scale: styleScale(styles, [...new Set(rows.map((r) => r.style))]) },
    },
    layer: [
      {
        mark: { type: "rule", strokeWidth: 1.5, opacity: 0.6 },
        encoding: {
          y: { field: "low", type: "quantitative", title: yTitle, ...(logY ? { scale: { type: "log" } } : {}) },
          y2: { field: "high" },
        },
      },
      {
        mark: { type: "line", point: true, strokeWidth: 2 },
        encoding: { y: { field: "value", type: "quantitative", title: yTitle, ...(logY ? { scale: { type: "log" } } : {}) } },
      },
    ],
  };
  const what = kind === "throughput" ? "median throughput" : kind === "p99" ? "median p99 latency" : "median server memory per connection";
  return {
    id: `chart-${slug(s.id)}-${kind}`,
    kind,
    series: s.id,
    title,
    caption: `${what} over repeats, one line per style; vertical bars are 95% bootstrap intervals of the median.${kind === "memory" ? " Without a measured per-connection figure, memory per connection is the RSS increase over the smallest connection count per extra connection, so that count has none." : ""}${missingNote(
      s.points.filter((p) => p.ok.length === 0 || p[metric] !== undefined),
      (p) => plotted.has(`${p.style}|${p.connections}`),
    )}`,
    spec,
  };
}

function largestCount(s: Series, has: (p: PointSummary) => boolean): number | undefined {
  const counts = s.points.filter(has).map((p) => p.connections);
  return counts.length === 0 ? undefined : Math.max(...counts);
}

function spectrumChart(s: Series, styles: readonly string[]): ChartSpec | undefined {
  const c = largestCount(s, (p) => p.spectrum !== undefined);
  if (c === undefined) return undefined;
  const at = s.points.filter((p) => p.connections === c);
  const rows = at.flatMap((p) => spectrumRows(p.style, p.spectrum));
  const title = `${s.label}: latency spectrum at ${c.toLocaleString("en-US")} connections`;
  const spec: TopLevelSpec = {
    width: CHART_SIZE.width,
    height: CHART_SIZE.height,
    title,
    config: CONFIG,
    data: { values: rows },
    mark: { type: "line", point: true, strokeWidth: 2 },
    encoding: {
      ...spectrumAxes(),
      color: { field: "style", type: "nominal", title: "style", scale: styleScale(styles, [...new Set(rows.map((r) => r.style))]) },
    },
  };
  return {
    id: `chart-${slug(s.id)}-spectrum`,
    kind: "spectrum",
    series: s.id,
    title,
    caption: `percentiles of the HDR histograms of all successful runs, merged, at the largest connection count measured.${missingNote(at, (p) => p.spectrum !== undefined)}`,
    spec,
  };
}

/** One chart row per percentile of a spectrum, in ms (floored at 1 µs for the log scale). */
function spectrumRows(style: string, spectrum: { readonly values: readonly { readonly label: string; readonly valueUs: number }[] } | undefined): { style: string; percentile: string; value: number }[] {
  return (spectrum?.values ?? []).map((v) => ({ style, percentile: v.label, value: Math.max(v.valueUs, 1) / 1000 }));
}

/** The x (percentile) and y (log latency) encodings of the spectrum charts. */
function spectrumAxes() {
  return {
    x: { field: "percentile", type: "ordinal", sort: SPECTRUM_PERCENTILES.map((p) => p.label), title: "percentile", axis: { labelAngle: 0 } },
    y: { field: "value", type: "quantitative", title: "latency (ms, log scale)", scale: { type: "log" } },
  } as const;
}

// Legend symbols for a strokeDash-only channel have no stroke colour and would be invisible;
// vega-lite passes `encode` through to vega though its types omit it, hence a separate constant.
const DASH_LEGEND = { symbolType: "stroke", symbolStrokeWidth: 2, symbolSize: 400, encode: { symbols: { update: { stroke: { value: "#333" } } } } };

function openLoopChart(s: Series, styles: readonly string[]): ChartSpec | undefined {
  const c = largestCount(s, (p) => p.spectrum !== undefined && p.uncorrectedSpectrum !== undefined);
  if (c === undefined) return undefined;
  const at = s.points.filter((p) => p.connections === c);
  const rows = at.flatMap((p) => [
    ...spectrumRows(p.style, p.spectrum).map((r) => ({ ...r, latency: "corrected" })),
    ...spectrumRows(p.style, p.uncorrectedSpectrum).map((r) => ({ ...r, latency: "uncorrected" })),
  ]);
  const title = `${s.label}: corrected vs uncorrected latency at ${c.toLocaleString("en-US")} connections`;
  const spec: TopLevelSpec = {
    width: CHART_SIZE.width,
    height: CHART_SIZE.height,
    title,
    config: CONFIG,
    data: { values: rows },
    mark: { type: "line", point: true, strokeWidth: 2 },
    encoding: {
      ...spectrumAxes(),
      color: { field: "style", type: "nominal", title: "style", scale: styleScale(styles, [...new Set(rows.map((r) => r.style))]) },
      strokeDash: { field: "latency", type: "nominal", title: "latency", legend: DASH_LEGEND, scale: { domain: ["corrected", "uncorrected"], range: [[1, 0], [6, 4]] } },
    },
  };
  return {
    id: `chart-${slug(s.id)}-open-loop`,
    kind: "open-loop",
    series: s.id,
    title,
    caption:
      "corrected latency counts from when each request was due (coordinated omission corrected); uncorrected counts from when it was actually sent, and hides queueing behind slow answers.",
    spec,
  };
}

/** The id of the verdicts chart, the one beside the verdict table. */
export const VERDICTS_CHART_ID = "chart-verdicts";

/**
 * The chart beside the verdicts: one row per verdict, its ratio (subject / reference) on a log
 * axis with its 95% interval as a bar, coloured by the figure it rests on, and a rule at 1.
 */
function verdictsChart(model: ReportModel): ChartSpec | undefined {
  // Rows are numbered as in the verdict table beside the chart, which names them.
  const rows = model.verdicts.flatMap((v, i) => {
    const r = v.judgement.ratio;
    if (r === undefined) return [];
    return [{ label: `#${i + 1}`, figure: FIGURES[v.judgement.figure].label, value: r.estimate, low: r.low, high: r.high }];
  });
  if (rows.length === 0) return undefined;
  const title = "Verdicts: ratio and 95% interval";
  const y = { field: "label", type: "nominal" as const, title: "verdict (row of the table)", sort: null };
  const color = { field: "figure", type: "nominal" as const, title: "figure", legend: { orient: "bottom" as const, direction: "vertical" as const, labelLimit: 260 } };
  const spec: TopLevelSpec = {
    width: 240,
    height: { step: 22 },
    title,
    config: CONFIG,
    data: { values: rows },
    layer: [
      { mark: { type: "rule", strokeWidth: 2.5 }, encoding: { y, x: { field: "low", type: "quantitative", scale: { type: "log", nice: false }, title: "ratio (log scale)" }, x2: { field: "high" }, color } },
      { mark: { type: "point", filled: true, size: 60 }, encoding: { y, x: { field: "value", type: "quantitative" }, color } },
      { data: { values: [{ one: 1 }] }, mark: { type: "rule", strokeDash: [4, 3], color: "#444" }, encoding: { x: { field: "one", type: "quantitative" } } },
    ],
  };
  return {
    id: VERDICTS_CHART_ID,
    kind: "verdicts",
    series: "",
    title,
    caption: "each verdict's ratio of geometric means over runs with its 95% interval (rows numbered as in the table); the dashed line is 1 (no difference). Which side of 1 is better depends on the figure: above 1 is more throughput, or more CPU, latency or memory.",
    spec,
  };
}

/**
 * The chart specifications of a report, in display order: the verdicts chart first, then per series, throughput, p99 and memory
 * per connection against connections, the latency spectrum at the largest connection count, and
 * for open-loop series corrected beside uncorrected latency.
 *
 * @param model - The analysed report.
 * @returns The specifications (series with no data for a chart get no such chart).
 */
export function chartSpecs(model: ReportModel): ChartSpec[] {
  const styles = [...new Set(model.series.flatMap((s) => s.styles))];
  const out: ChartSpec[] = [];
  const verdicts = verdictsChart(model);
  if (verdicts !== undefined) out.push(verdicts);
  for (const s of model.series) {
    for (const c of [
      lineChart(s, "throughput", styles),
      lineChart(s, "p99", styles),
      lineChart(s, "memory", styles),
      spectrumChart(s, styles),
      s.rate === undefined ? undefined : openLoopChart(s, styles),
    ]) {
      if (c !== undefined) out.push(c);
    }
  }
  return out;
}

/** The two libraries that draw a chart, loaded on first use. */
export interface ChartRenderer {
  readonly vega: typeof Vega;
  readonly compile: typeof VegaLite.compile;
}

/** Why charts could not be drawn, for the report to say. */
export const CHARTS_UNAVAILABLE = "charts need the optional packages vega and vega-lite (npm install --save-dev vega vega-lite)";

/**
 * Loads vega and vega-lite.
 *
 * @returns The renderer, or null when either package is not installed.
 * @throws Whatever else importing them throws.
 */
export async function loadChartRenderer(): Promise<ChartRenderer | null> {
  try {
    const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
    return { vega, compile: vegaLite.compile };
  } catch (error) {
    if ((error as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND") return null;
    throw error;
  }
}

/**
 * Compiles a vega-lite specification and renders it to an SVG string, headless. Element ids in
 * the SVG (clip paths, gradients) are prefixed with `idPrefix` so several charts can be inlined
 * in one page without their ids colliding.
 *
 * @param renderer - vega and vega-lite (see {@link loadChartRenderer}).
 * @param spec - The vega-lite specification.
 * @param idPrefix - A prefix unique to this chart in its page.
 * @returns The `<svg>` markup.
 */
export async function renderSvg(renderer: ChartRenderer, spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const { vega, compile } = renderer;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    return svg.replace(/\bid="([^"]+)"/g, `id="${idPrefix}-$1"`).replace(/url\(#([^)]+)\)/g, `url(#${idPrefix}-$1)`);
  } finally {
    view.finalize();
  }
}

/**
 * Builds and renders every chart of a report.
 *
 * @param model - The analysed report.
 * @returns The rendered charts, in display order; none, with the reason, when vega and vega-lite
 *   are not installed.
 */
export async function renderCharts(model: ReportModel): Promise<{ readonly charts: Chart[]; readonly unavailable?: string }> {
  const renderer = await loadChartRenderer();
  if (renderer === null) return { charts: [], unavailable: CHARTS_UNAVAILABLE };
  const charts: Chart[] = [];
  // One at a time: vega views are cheap, but rendering dozens at once only adds memory.
  for (const c of chartSpecs(model)) charts.push({ ...c, svg: await renderSvg(renderer, c.spec, c.id) });
  return { charts };
}
