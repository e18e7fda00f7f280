import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { analyze, type ReportModel } from "../../reports/analyze.js";
import { chartSpecs } from "../../reports/charts.js";
import { main } from "../../reports/cli.js";
import { readResults, type RunResults } from "../../reports/read-results.js";
import { writeReport } from "../../reports/write-report.js";

const fixtures = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

let results: RunResults;
let extra: RunResults;
let baseline: RunResults;
let model: ReportModel;

beforeAll(async () => {
  results = await readResults(fixtures("results.json"));
  extra = await readResults(fixtures("results-extra.json"));
  baseline = await readResults(fixtures("baseline.json"));
  model = analyze([results, extra], [baseline], { sloP99Ms: 5 });
});

describe("analyze", () => {
  it("pools runs of several files and merges their histograms", () => {
    const s = model.series.find((x) => x.id === "tcp-echo|real|closed");
    const cb = s?.points.find((p) => p.style === "callback" && p.connections === 1000);
    expect(cb?.ok).toHaveLength(6);
    expect(cb?.spectrum?.runs).toBe(6);
    const only = analyze([results]).series.find((x) => x.id === "tcp-echo|real|closed")?.points.find((p) => p.style === "callback" && p.connections === 1000);
    expect(cb?.spectrum?.count).toBe(2 * (only?.spectrum?.count ?? 0));
  });

  it("flags the planted outlier, errors, saturation, noise and failure, and keeps the outlier", () => {
    const kinds = (k: string): string[] => model.warnings.filter((w) => w.kind === k).map((w) => w.point ?? "");
    expect(kinds("outlier")).toContain("tcp-echo|real|closed|callback|c=1000");
    expect(kinds("errors")).toEqual(["tcp-echo|real|closed|async|c=1000"]);
    expect(kinds("saturated")).toEqual(["tcp-echo|real|closed|baseline|c=1000"]);
    expect(kinds("noisy")).toContain("ws-broadcast|real|closed|async|c=100");
    expect(kinds("failed")).toContain("http-hello|real|closed|twisted|c=1000");
    const cb = model.series.flatMap((s) => s.points).find((p) => p.scenario === "tcp-echo" && p.style === "callback" && p.connections === 1000);
    expect(cb?.throughput?.values).toHaveLength(6);
  });

  it("a failed point has no figure at all", () => {
    const failed = model.series.flatMap((s) => s.points).find((p) => p.scenario === "http-hello" && p.style === "twisted" && p.connections === 1000 && p.rate === undefined);
    expect(failed?.ok).toHaveLength(0);
    expect(failed?.throughput).toBeUndefined();
    expect(failed?.p99).toBeUndefined();
    expect(failed?.spectrum).toBeUndefined();
  });

  it("finds the regression planted in the baseline and nothing on unchanged styles", () => {
    const regressed = (model.baselineChanges ?? []).filter((c) => c.verdict === "regressed").map((c) => `${c.point.scenario}/${c.point.style}`);
    expect(new Set(regressed)).toEqual(new Set(["tcp-echo/callback"]));
    const baselineStyle = (model.baselineChanges ?? []).filter((c) => c.point.style === "baseline");
    expect(baselineStyle.every((c) => c.verdict !== "regressed" && c.verdict !== "improved")).toBe(true);
  });

  it("makes the comparisons each scenario declared in its results file, and no others", () => {
    const http = model.comparisons.filter((c) => c.series === "http-hello|real|closed" && c.connections === 100);
    expect(http.find((c) => c.subject === "async" && c.reference === "callback")?.verdict).toBe("slower");
    expect(http.filter((c) => c.reference === "raw").map((c) => c.subject)).toEqual(["callback", "async", "twisted", "tornado"]);
    expect(http.find((c) => c.subject === "tornado" && c.reference === "baseline")?.verdict).toBe("slower");
    // Neither idle-hold style is faster: they do the same pings.
    expect(model.comparisons.filter((c) => c.series === "idle-hold|real|closed" && c.subject === "async" && c.reference === "callback").every((c) => c.throughputRatio !== undefined)).toBe(true);
    // Exactly the declared pairs: tcp-echo declares none against its peers, say, beyond baseline.
    const tcp = new Set(model.comparisons.filter((c) => c.series === "tcp-echo|real|closed").map((c) => `${c.subject}/${c.reference}`));
    expect(tcp).toEqual(new Set(["async/callback", "callback/baseline", "async/baseline", "twisted/baseline", "tornado/baseline"]));
  });

  it("makes the comparison a scenario declares with a new style (Node's own async) and no other", () => {
    // The fixture's tcp-echo baseline runs, relabelled as a slower baseline-async style, and
    // the scenario's declaration extended with async vs baseline-async.
    const nodeAsync = results.points
      .filter((p) => p.scenario === "tcp-echo" && p.style === "baseline")
      .map((p) => ({ ...p, style: "baseline-async", throughput: p.throughput * 0.7 }));
    const scenarios = (results.scenarios ?? []).map((s) =>
      s.name === "tcp-echo" ? { ...s, comparisons: [...s.comparisons, { subject: "async", reference: "baseline-async" }] } : s,
    );
    const withNodeAsync = analyze([{ ...results, scenarios, points: [...results.points, ...nodeAsync] }]);
    const at100 = withNodeAsync.comparisons.filter((c) => c.series === "tcp-echo|real|closed" && c.connections === 100 && c.reference === "baseline-async");
    expect(at100.map((c) => c.subject)).toEqual(["async"]);
    expect(at100[0]?.throughputRatio?.estimate).toBeGreaterThan(1);
    // Only what was declared: baseline-async is nobody's subject.
    expect(withNodeAsync.comparisons.some((c) => c.subject === "baseline-async")).toBe(false);
  });

  it("reports SLO capacity and scaling exponents", () => {
    const cap = model.slo?.capacities.find((c) => c.series === "tcp-echo|real|closed" && c.style === "callback");
    expect(cap).toMatchObject({ maxConnections: 100, firstMiss: 1000, censored: false });
    expect(model.slo?.capacities.find((c) => c.series === "idle-hold|real|closed" && c.style === "baseline")?.censored).toBe(true);
    const idle = model.scaling.find((s) => s.series === "idle-hold|real|closed" && s.style === "callback");
    expect(Math.abs(idle?.memory?.exponent ?? 9)).toBeLessThan(0.05);
    const echo = model.scaling.find((s) => s.series === "tcp-echo|real|closed" && s.style === "baseline");
    expect(echo?.latency?.exponent).toBeGreaterThan(0.5);
    expect(echo?.latency?.exponent).toBeLessThan(1);
  });

  it("is reproducible", () => {
    const again = analyze([results, extra], [baseline], { sloP99Ms: 5 });
    expect(again.comparisons).toEqual(model.comparisons);
    expect(again.series[0]?.points[0]?.throughput).toEqual(model.series[0]?.points[0]?.throughput);
  });

  it("plans every chart kind, with corrected beside uncorrected for the open-loop series", () => {
    const specs = chartSpecs(model);
    for (const s of model.series) {
      const kinds = specs.filter((c) => c.series === s.id).map((c) => c.kind);
      expect(kinds).toEqual(expect.arrayContaining(["throughput", "p99", "memory", "spectrum"]));
      expect(kinds.includes("open-loop")).toBe(s.rate !== undefined);
    }
    expect(new Set(specs.map((c) => c.id)).size).toBe(specs.length);
  });
});

describe("simulated runs", () => {
  it("claim no latency or memory they did not measure, and are flagged", async () => {
    const sim = {
      ...results,
      points: results.points
        .filter((p) => p.scenario === "tcp-echo" && p.rate === undefined)
        .map((p) => ({ ...p, mode: "sim" as const, latencyUs: { p50: 0, p90: 0, p99: 0, p999: 0, max: 0 }, serverRssBytes: 0, failure: undefined }))
        .map(({ failure: _f, ...rest }) => rest),
    };
    const m = analyze([sim]);
    const pts = m.series.flatMap((s) => s.points);
    expect(pts.length).toBeGreaterThan(0);
    expect(pts.every((p) => p.mode === "sim" && p.p99 === undefined && p.memoryPerConnection === undefined && p.throughput !== undefined)).toBe(true);
    expect(m.warnings.some((w) => w.kind === "sim")).toBe(true);
    expect(chartSpecs(m).map((c) => c.kind)).not.toContain("p99");
    const out = mkdtempSync(join(tmpdir(), "wirelab-report-sim-"));
    const written = await writeReport({ results: sim, out });
    expect(readFileSync(written.markdown, "utf8")).toContain("## tcp-echo (sim)");
  });
});

describe("writeReport", () => {
  let out: string;
  let md: string;
  let html: string;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), "wirelab-report-"));
    const written = await writeReport({ results: [fixtures("results.json"), fixtures("results-extra.json")], baseline: fixtures("baseline.json"), out, sloP99Ms: 5 });
    md = readFileSync(written.markdown, "utf8");
    html = readFileSync(written.html, "utf8");
  });

  it("Markdown fits a pull request: the answer first and short, the details folded, the whole under GitHub's 65,536 characters", () => {
    const head = md.slice(0, md.indexOf("<details>"));
    expect(head.indexOf("## Verdicts")).toBeLessThan(head.indexOf("## Warnings"));
    expect(head.length).toBeLessThan(8000);
    expect(md.length).toBeLessThan(65_536);
    expect(md.trimEnd().endsWith("</details>")).toBe(true);
  });

  it("writes Markdown with provenance, warnings and every table", () => {
    for (const heading of ["## Provenance", "## Baseline run", "## Warnings", "## Verdicts", "## Warnings in full", "## Change against the baseline run", "## Capacity at p99 < 5 ms", "## How cost grows with connections", "## Method"]) {
      expect(md).toContain(heading);
    }
    expect(md).toContain("`0ef1646`");
    expect(md).toContain("wirelab bench --connections 1,10,100,1000");
    expect(md).toContain("| Conns | Style | Throughput ops/s [95% CI] |");
    expect(md).toContain("### tcp-echo: async vs callback");
    expect(md).toContain("### http-hello: twisted vs raw");
    expect(md).toContain("| 1,000 | twisted | **failed** (3/3 runs): server exited with code 1: [Errno 24] Too many open files | — |");
    expect(md).toMatch(/\| tcp-echo \/ callback \/ 1,000 \| \[−[\d.]+% \*\*−[\d.]+%\*\* −[\d.]+%\] .* \*\*⚠ regressed\*\* \|/);
    expect(md).toContain("⚠ generator saturated");
    expect(md).toContain("p99.99");
    // No number in place of a failed point: the failed row has only dashes after the reason.
    const failedRow = md.split("\n").find((l) => l.startsWith("| 1,000 | twisted | **failed**"));
    expect(failedRow?.split("|").slice(4, 10).every((c) => c.trim() === "—")).toBe(true);
  });

  it("writes every chart as SVG, linked from the Markdown and inlined in the HTML", () => {
    const files = readdirSync(join(out, "charts"));
    const specs = chartSpecs(model);
    expect(files.sort()).toEqual(specs.map((c) => `${c.id}.svg`).sort());
    for (const c of specs) {
      expect(md).toContain(`](charts/${c.id}.svg)`);
      expect(html).toContain(`<figure class="chart" id="${c.id}"`);
    }
    expect(html.match(/<svg /g)?.length).toBe(specs.length);
  });

  it("HTML is self-contained: no script, no external reference", () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)="https?:/i);
    expect(html).not.toMatch(/@import|url\(http/i);
    expect(html).toContain("<style>");
  });

  it("the same input gives the same report", async () => {
    const again = mkdtempSync(join(tmpdir(), "wirelab-report-"));
    const written = await writeReport({ results: [fixtures("results.json"), fixtures("results-extra.json")], baseline: fixtures("baseline.json"), out: again, sloP99Ms: 5 });
    expect(readFileSync(written.markdown, "utf8")).toBe(md);
    expect(readFileSync(written.html, "utf8")).toBe(html);
  });
});

describe("wirelab report (main)", () => {
  function io(): { lines: string[]; errors: string[]; log: (l: string) => void; error: (l: string) => void } {
    const lines: string[] = [];
    const errors: string[] = [];
    return { lines, errors, log: (l) => lines.push(l), error: (l) => errors.push(l) };
  }

  it("writes both reports and prints their paths", async () => {
    const out = mkdtempSync(join(tmpdir(), "wirelab-report-cli-"));
    const c = io();
    expect(await main([fixtures("results.json"), "--slo-p99=2", "--out", out], c)).toBe(0);
    expect(c.lines).toEqual([join(out, "report.md"), join(out, "report.html")]);
    expect(readFileSync(join(out, "report.md"), "utf8")).toContain("## Capacity at p99 < 2 ms");
  });

  it("usage errors exit 2 and name the problem", async () => {
    const c = io();
    expect(await main([fixtures("results.json")], c)).toBe(2);
    expect(c.errors[0]).toContain("--out DIR is required");
    expect(await main(["--out", "x"], c)).toBe(2);
    expect(c.errors[1]).toContain("no results file given");
    expect(await main([fixtures("results.json"), "--slo-p99", "-3", "--out", "x"], c)).toBe(2);
    expect(c.errors[2]).toContain("--slo-p99 must be a positive number");
    expect(await main([fixtures("results.json"), "--frobnicate", "--out", "x"], c)).toBe(2);
    expect(c.errors[3]).toContain("unknown option --frobnicate");
  });

  it("a malformed results file exits 1 with the field and code", async () => {
    const c = io();
    const out = mkdtempSync(join(tmpdir(), "wirelab-report-cli-"));
    expect(await main([fixtures("generate-fixtures.ts"), "--out", out], c)).toBe(1);
    expect(c.errors[0]).toContain("not valid JSON");
    expect(c.errors[0]).toContain("[WL_ERR_RESULTS_FORMAT]");
  });
});
