/**
 * Writes a report: results files in, `report.md`, `report.html` and `charts/*.svg` out.
 *
 * @module
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { analyze, type AnalyzeOptions } from "./analyze.js";
import { artilleryResults, isArtilleryOutput } from "./artillery-results.js";
import { renderCharts } from "./charts.js";
import { renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import { parseResults, readJsonFile, type RunResults } from "./read-results.js";
import type { Results } from "./results.js";
import { buildDocument } from "./report-document.js";
import { readStyleProfiles, type StyleProfile } from "./cpu-profile.js";
import type { GateResult } from "./regression-gate.js";

/**
 * A results file given by path (`wirelab bench`'s `results.json`, or Artillery's `--output` of a
 * run with the wirelab engine), or a results object already in memory (such as what `bench()`
 * returns); either way it is validated before use.
 */
export type ResultsInput = string | Results;

/** What {@link writeReport} needs. */
export interface WriteReportOptions extends AnalyzeOptions {
  /** One or more results files; runs of the same point in several files are pooled as repeats. */
  readonly results: ResultsInput | readonly ResultsInput[];
  /** A baseline run (one or more files) to compare against. */
  readonly baseline?: ResultsInput | readonly ResultsInput[];
  /** The output folder; created if missing. */
  readonly out: string;
  /** The command line that made the report, shown with the provenance. */
  readonly reportCommand?: string;
}

/** The files a report wrote. */
export interface WrittenReport {
  readonly markdown: string;
  readonly html: string;
  readonly charts: readonly string[];
  /** Set when no chart was drawn, with why (vega and vega-lite are not installed). */
  readonly chartsUnavailable?: string;
  /** The regression gate's decision, when `failOnRegression` and a baseline were given. */
  readonly gate?: GateResult;
}

function isList(input: ResultsInput | readonly ResultsInput[]): input is readonly ResultsInput[] {
  return Array.isArray(input);
}

/**
 * Reads and validates results given by path or as objects. Artillery output files among the
 * paths are merged into one results object (runs at once, as from several machines), after the
 * others.
 *
 * @param input - Paths and/or objects.
 * @returns The validated results, in order.
 * @throws `ResultsFormatError` `WL_ERR_RESULTS_FORMAT` for a malformed file or object.
 */
export async function loadResults(input: ResultsInput | readonly ResultsInput[]): Promise<RunResults[]> {
  const list: readonly ResultsInput[] = isList(input) ? input : [input];
  const out: RunResults[] = [];
  const artillery: { json: unknown; source: string }[] = [];
  for (const [i, item] of list.entries()) {
    if (typeof item === "string") {
      const json = await readJsonFile(item);
      if (isArtilleryOutput(json)) artillery.push({ json, source: item });
      else out.push(parseResults(json, item));
    } else {
      const source = "source" in item && typeof item.source === "string" ? item.source : `results object ${i + 1}`;
      out.push(parseResults(item, source));
    }
  }
  if (artillery.length > 0) out.push(artilleryResults(artillery));
  return out;
}

/** The servers' CPU profiles the results name (`--server-cpu-prof`), merged per style. */
async function loadProfiles(results: readonly RunResults[]): Promise<{ profiles: StyleProfile[]; profilesUnavailable?: string }> {
  const profiles: StyleProfile[] = [];
  const missing: string[] = [];
  for (const r of results) {
    const dir = r.parameters.serverCpuProfile;
    if (dir === undefined) continue;
    const styles = [...new Map(r.points.map((p) => [`${p.scenario}|${p.style}`, { scenario: p.scenario, style: p.style }])).values()];
    const found = await readStyleProfiles(dir, styles);
    if (found.length === 0) missing.push(dir);
    profiles.push(...found);
  }
  return { profiles, ...(missing.length === 0 ? {} : { profilesUnavailable: `No CPU profile found under ${missing.join(", ")} (the results name it as their --server-cpu-prof folder; a command style, such as a Python peer, is not profiled).` }) };
}

/**
 * Analyses results and writes `report.md`, `report.html` (self-contained) and one SVG per chart
 * under `charts/` (which the Markdown links to).
 *
 * @param options - Results, baseline, output folder and analysis thresholds.
 * @returns The paths written.
 * @throws `ResultsFormatError` `WL_ERR_RESULTS_FORMAT` for malformed results; RangeError when
 *   no results are given or a threshold is out of range; file system errors when a file cannot be
 *   read or the folder cannot be written.
 * @example
 * ```ts
 * const { markdown, html } = await writeReport({ results: "results/results.json", out: "results", sloP99Ms: 10 });
 * ```
 */
export async function writeReport(options: WriteReportOptions): Promise<WrittenReport> {
  const results = await loadResults(options.results);
  const baseline = options.baseline === undefined ? undefined : await loadResults(options.baseline);
  const model = analyze(results, baseline, options);
  const { charts, unavailable } = await renderCharts(model);
  const { profiles, profilesUnavailable } = await loadProfiles(results);
  const blocks = buildDocument(model, charts, {
    ...(options.reportCommand === undefined ? {} : { reportCommand: options.reportCommand }),
    ...(unavailable === undefined ? {} : { chartsUnavailable: unavailable }),
    profiles,
    ...(profilesUnavailable === undefined ? {} : { profilesUnavailable }),
  });
  await mkdir(join(options.out, "charts"), { recursive: true });
  const markdown = join(options.out, "report.md");
  const html = join(options.out, "report.html");
  const chartPaths: string[] = [];
  for (const ch of charts) {
    const path = join(options.out, "charts", `${ch.id}.svg`);
    await writeFile(path, ch.svg);
    chartPaths.push(path);
  }
  for (const b of blocks) {
    if (b.type !== "figure") continue;
    const path = join(options.out, "charts", `${b.id}.svg`);
    await writeFile(path, b.svg);
    chartPaths.push(path);
  }
  await writeFile(markdown, renderMarkdown(blocks));
  await writeFile(html, renderHtml(blocks));
  return { markdown, html, charts: chartPaths, ...(unavailable === undefined ? {} : { chartsUnavailable: unavailable }), ...(model.gate === undefined ? {} : { gate: model.gate }) };
}
