import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { artilleryMetricName, artilleryResults, isArtilleryOutput, parseArtilleryMetricName } from "../../reports/artillery-results.js";
import { ResultsFormatError } from "../../reports/errors.js";
import { loadResults, writeReport } from "../../reports/write-report.js";

/** A real `artillery run --output` of tcp-echo with the wirelab engine (10 virtual users, 2 s each). */
const fixture = fileURLToPath(new URL("./fixtures/artillery-output.json", import.meta.url));
const results = fileURLToPath(new URL("./fixtures/results.json", import.meta.url));

type Output = { aggregate: { counters: Record<string, number>; summaries: Record<string, Record<string, number>>; firstCounterAt: number; lastCounterAt: number } };

function load(): Output {
  return JSON.parse(readFileSync(fixture, "utf8")) as Output;
}

/** A second machine's run: other counts, other percentiles, half a second later. */
function another(): Output {
  const o = load();
  const a = o.aggregate;
  a.counters["wirelab.tcp-echo.operations"] = 1000;
  a.counters["wirelab.tcp-echo.connections"] = 5;
  a.counters["wirelab.tcp-echo.errors"] = 2;
  a.counters["vusers.created"] = 5;
  a.counters["vusers.failed"] = 2;
  a.summaries["wirelab.tcp-echo.latency"] = { min: 0.1, max: 30, count: 1000, mean: 2, p50: 0.1, median: 0.1, p75: 0.5, p90: 3, p95: 4, p99: 9.5, p999: 31.2 };
  a.firstCounterAt += 500;
  a.lastCounterAt += 500;
  return o;
}

describe("Artillery's output as results", () => {
  it("names and parses the engine's metrics, style labels included", () => {
    expect(artilleryMetricName("tcp-echo", undefined, "latency")).toBe("wirelab.tcp-echo.latency");
    expect(artilleryMetricName("v1.2-echo", "callback", "operation_rate")).toBe("wirelab.v1.2-echo/callback.operation_rate");
    expect(parseArtilleryMetricName("wirelab.v1.2-echo/callback.operation_rate")).toEqual({ scenario: "v1.2-echo", style: "callback", metric: "operation_rate" });
    expect(parseArtilleryMetricName("wirelab.tcp-echo.errors")).toEqual({ scenario: "tcp-echo", style: undefined, metric: "errors" });
    expect(parseArtilleryMetricName("http.response_time")).toBeUndefined();
    expect(parseArtilleryMetricName("wirelab.tcp-echo.bytes")).toBeUndefined();
  });

  it("tells Artillery's output from a wirelab results file", () => {
    expect(isArtilleryOutput(load())).toBe(true);
    expect(isArtilleryOutput(JSON.parse(readFileSync(results, "utf8")))).toBe(false);
    expect(isArtilleryOutput({ aggregate: {} })).toBe(false);
  });

  it("reads one run: exact counts, latency from the summary in µs, throughput over the counters' span", () => {
    const r = artilleryResults([{ json: load(), source: "a.json" }]);
    expect(r.points).toHaveLength(1);
    const p = r.points[0]!;
    const span = 1796279034572 - 1796279030771;
    expect(p).toMatchObject({ scenario: "tcp-echo", style: "artillery", loadGenerator: "artillery", mode: "real", connections: 10, operations: 88376, errors: 0, durationMs: span, histogram: "" });
    expect(p.throughput).toBeCloseTo(88376 / (span / 1000), 6);
    expect(p.latencyUs).toEqual({ p50: 200, p90: 400, p99: 800, p999: 5000, max: 19800 });
    expect([p.serverCpuPercent, p.serverCpuUsPerOp, p.serverRssBytes]).toEqual([null, null, null]);
    expect(p.extra).toMatchObject({ artilleryRuns: 1, virtualUsers: 10, virtualUsersFailed: 0, latencyCount: 88376 });
    expect(r.scenarios).toEqual([{ name: "tcp-echo", summary: "tcp-echo", operation: "one operation", kind: "throughput", styles: [{ name: "artillery", description: "measured by Artillery", runsOn: "target" }], comparisons: [] }]);
  });

  it("merges runs at once into one point: counts add up, percentiles are the runs' largest, the mean is weighted, the span covers all", () => {
    const r = artilleryResults([
      { json: load(), source: "a.json" },
      { json: another(), source: "b.json" },
    ]);
    const p = r.points[0]!;
    expect(p).toMatchObject({ connections: 15, operations: 89376, errors: 2, clientWorkers: 2, durationMs: 1796279035072 - 1796279030771 });
    expect(p.latencyUs).toEqual({ p50: 200, p90: 3000, p99: 9500, p999: 30000, max: 30000 });
    expect(p.extra).toMatchObject({ artilleryRuns: 2, virtualUsers: 15, virtualUsersFailed: 2, latencyCount: 89376, latencyMinUs: 0, latencyMeanUs: Math.round(((88376 * 0.2 + 1000 * 2) / 89376) * 1000) });
    expect(r.source).toBe("a.json + b.json");
  });

  it("keeps style labels apart", () => {
    const o = load();
    const c = o.aggregate.counters;
    c["wirelab.tcp-echo/callback.operations"] = 7;
    c["wirelab.tcp-echo/callback.connections"] = 1;
    const r = artilleryResults([{ json: o, source: "a.json" }]);
    expect(r.points.map((p) => [p.style, p.operations])).toEqual([
      ["artillery", 88376],
      ["callback", 7],
    ]);
    expect(r.scenarios[0]!.styles.map((s) => s.name)).toEqual(["artillery", "callback"]);
  });

  it("marks a point whose virtual users never connected as failed", () => {
    const o = load();
    delete o.aggregate.counters["wirelab.tcp-echo.connections"];
    o.aggregate.counters["wirelab.tcp-echo.operations"] = 0;
    o.aggregate.counters["wirelab.tcp-echo.errors"] = 10;
    const p = artilleryResults([{ json: o, source: "a.json" }]).points[0]!;
    expect(p.failure).toBe("no virtual user connected");
    expect(p.errors).toBe(10);
  });

  it("rejects output without engine metrics, and bad fields, naming them", () => {
    const o = load();
    o.aggregate.counters = { "vusers.created": 1 };
    o.aggregate.summaries = {};
    expect(() => artilleryResults([{ json: o, source: "x.json" }])).toThrow(/x.json.*without any wirelab\.\* metric/);
    const bad = load();
    bad.aggregate.summaries["wirelab.tcp-echo.latency"]!["p99"] = Number.NaN;
    expect(() => artilleryResults([{ json: JSON.parse(JSON.stringify(bad)) as unknown, source: "y.json" }])).toThrow(ResultsFormatError);
  });

  it("loads Artillery files beside wirelab results: one results object for all the Artillery files, and the report says what they lack", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "wirelab-artillery-report-"));
    try {
      const b = path.join(dir, "b.json");
      writeFileSync(b, JSON.stringify(another()));
      const loaded = await loadResults([fixture, results, b]);
      expect(loaded.map((r) => r.source)).toEqual([results, `${fixture} + ${b}`]);
      const written = await writeReport({ results: [results, fixture, b], out: dir });
      const md = readFileSync(written.markdown, "utf8");
      expect(md).toContain("**artillery**: the points measured by Artillery");
      expect(md).toContain("not HDR histograms");
      // The wirelab results' environment is not compared with Artillery's, which has none.
      expect(md).not.toMatch(/pooled from files with different/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
