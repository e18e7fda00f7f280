/**
 * End to end, as CI runs it: a short real `wirelab bench` of two scenarios (three styles, two
 * connection counts, two repeats) that writes its report next to results.json, then
 * `wirelab report` on those results as a separate process. Kept to a few hundred milliseconds
 * per point so the whole file stays well under half a minute on a 2-core machine.
 */

import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { WIRELAB_COMMAND } from "../scenarios/wirelab-cli.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Results } from "../../reports/results.js";

const SCENARIOS = ["http-hello", "tcp-echo"] as const;
const STYLES = ["callback", "async", "baseline"] as const;
const CONNECTIONS = [1, 4] as const;
const REPEATS = 2;
/** The only absolute URLs a self-contained page may hold: SVG's XML namespaces, never fetched. */
const NAMESPACES = new Set(["http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"]);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(WIRELAB_COMMAND[0]!, [...WIRELAB_COMMAND.slice(1), ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The body of the `## scenario` section of a report, up to the next top-level heading. */
function section(markdown: string, scenario: string): string {
  const start = markdown.indexOf(`\n## ${scenario}\n`);
  expect(start, `section for ${scenario}`).toBeGreaterThanOrEqual(0);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Checks report.md against the sweep: one row per scenario × style × count, and the comparisons. */
function checkMarkdown(markdown: string): string[] {
  for (const scenario of SCENARIOS) {
    const body = section(markdown, scenario);
    for (const conns of CONNECTIONS) {
      for (const style of STYLES) {
        // The per-point summary table: `| conns | style | throughput ... |`, with a real number.
        expect(body, `${scenario} ${style} c=${conns} row`).toMatch(new RegExp(`^\\| ${conns} \\| ${style} \\| [0-9][0-9,.]* \\[`, "m"));
      }
    }
    // The comparisons the scenario declares (among the styles that ran), in its order.
    const pairs = [
      ["async", "callback"],
      ["callback", "baseline"],
      ["async", "baseline"],
    ];
    let at = 0;
    for (const [subject, reference] of pairs) {
      const heading = body.indexOf(`### ${scenario}: ${subject} vs ${reference}`);
      expect(heading, `${scenario}: ${subject} vs ${reference} section`).toBeGreaterThan(at);
      at = heading;
      const table = body.slice(heading, body.indexOf("\n### ", heading + 1));
      for (const conns of CONNECTIONS) expect(table).toMatch(new RegExp(`^\\| ${conns} \\| ${subject} / ${reference} \\| [0-9.]+×`, "m"));
    }
  }
  return [...new Set([...markdown.matchAll(/\]\(charts\/([^)\s]+)\.svg\)/g)].map((m) => m[1] as string))];
}

/** Checks report.html is self-contained and holds an inline SVG for each chart report.md links. */
function checkHtml(html: string, chartIds: readonly string[]): void {
  expect(html).not.toMatch(/<script[^>]*\ssrc\s*=/i);
  expect(html).not.toMatch(/<link\b/i);
  expect(html).not.toMatch(/\ssrc\s*=/i);
  const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
  expect(urls.filter((u) => !NAMESPACES.has(u))).toEqual([]);
  expect(chartIds.length).toBeGreaterThanOrEqual(SCENARIOS.length * 3);
  for (const id of chartIds) {
    const figure = new RegExp(`<figure class="chart" id="${escapeRegExp(id)}"[^>]*>\\s*<svg[\\s>][\\s\\S]*?</svg>\\s*<figcaption>`);
    expect(html, `inline svg for ${id}`).toMatch(figure);
  }
  expect((html.match(/<svg[\s>]/g) ?? []).length).toBeGreaterThanOrEqual(chartIds.length);
}

describe("wirelab bench then wirelab report, end to end", () => {
  let out: string;
  let resultsFile: string;
  let bench: Run;

  beforeAll(async () => {
    out = mkdtempSync(path.join(os.tmpdir(), "wirelab-bench-report-"));
    resultsFile = path.join(out, "results.json");
    bench = await run(
      ["bench", ...SCENARIOS, "--styles", STYLES.join(","), "--connections", CONNECTIONS.join(","), "--duration", "300ms", "--warmup", "100ms", "--repeat", String(REPEATS), "--out", out],
      45_000,
    );
  }, 50_000);

  afterAll(() => {
    // Unset if mkdtemp itself failed.
    if (out !== undefined) rmSync(out, { recursive: true, force: true });
  });

  it("bench measures every scenario × style × connection count × repeat, none failed", () => {
    expect(bench.code, bench.stderr).toBe(0);
    const results = JSON.parse(readFileSync(resultsFile, "utf8")) as Results;
    const expected: string[] = [];
    for (const scenario of SCENARIOS) for (const style of STYLES) for (const conns of CONNECTIONS) for (let r = 0; r < REPEATS; r++) expected.push(`${scenario}/${style}/${conns}/${r}`);
    expect(results.points.map((p) => `${p.scenario}/${p.style}/${p.connections}/${p.repeat}`).sort()).toEqual(expected.sort());
    for (const p of results.points) {
      const label = `${p.scenario}/${p.style}/${p.connections}/${p.repeat}`;
      expect(p.failure, label).toBeUndefined();
      expect(p.mode, label).toBe("real");
      expect(p.operations, label).toBeGreaterThan(0);
      expect(p.throughput, label).toBeGreaterThan(0);
      expect([p.errors, p.timeouts, p.mismatches], label).toEqual([0, 0, 0]);
    }
  });

  it("bench without --no-report writes report.md and report.html next to results.json", () => {
    expect(bench.code, bench.stderr).toBe(0);
    const md = path.join(out, "report.md");
    const html = path.join(out, "report.html");
    expect(bench.stdout.trim().split("\n")).toEqual([resultsFile, md, html]);
    const chartIds = checkMarkdown(readFileSync(md, "utf8"));
    checkHtml(readFileSync(html, "utf8"), chartIds);
    for (const id of chartIds) expect(existsSync(path.join(out, "charts", `${id}.svg`)), id).toBe(true);
  });

  it("wirelab report, as its own process, writes a complete self-contained report", async () => {
    expect(bench.code, bench.stderr).toBe(0);
    const reportDir = path.join(out, "report");
    const report = await run(["report", resultsFile, "--out", reportDir], 20_000);
    expect(report.code, report.stderr).toBe(0);
    const md = path.join(reportDir, "report.md");
    const html = path.join(reportDir, "report.html");
    expect(report.stdout.trim().split("\n")).toEqual([md, html]);
    const markdown = readFileSync(md, "utf8");
    expect(markdown).toContain(`| File | \`${resultsFile}\` |`);
    const chartIds = checkMarkdown(markdown);
    checkHtml(readFileSync(html, "utf8"), chartIds);
    for (const id of chartIds) expect(existsSync(path.join(reportDir, "charts", `${id}.svg`)), id).toBe(true);
  }, 25_000);
});
