import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { analyze } from "../../reports/analyze.js";
import { readResults } from "../../reports/read-results.js";
import { RESULTS_SCHEMA_VERSION } from "../../reports/results.js";
import type { PlannedScenario } from "../../scenarios/harness/plan.js";
import { assemblePoint, failedPoint, SERVER_DID_NOT_START } from "../../scenarios/harness/point.js";
import { assembleResults, describeEnvironment, writeResultsFile } from "../../scenarios/harness/results-writer.js";
import { createLatencyHistogram, encodeHistogram, recordLatency } from "../../scenarios/harness/load/histogram.js";
import { defineScenario } from "wirelab/bench";

const dir = mkdtempSync(join(tmpdir(), "wirelab-results-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function histogram(values: number[]): string {
  const h = createLatencyHistogram();
  for (const v of values) recordLatency(h, v);
  return encodeHistogram(h);
}

const scenario = defineScenario({
  name: "kv",
  operation: "one GET",
  styles: [
    { name: "mine", description: "on wirelab", listen: () => Promise.reject(new Error("not run")) },
    { name: "theirs", node: () => Promise.reject(new Error("not run")) },
    { name: "gone", node: () => Promise.reject(new Error("not run")) },
  ],
  client: { operation: () => Promise.resolve() },
  compare: [
    ["mine", "theirs"],
    ["mine", "gone"],
  ],
});

describe("the results format: written by the harness, read by the reports", () => {
  it("round-trips: what the writer writes, the reader reads back the same, unknowns as null", async () => {
    const planned: PlannedScenario = {
      loaded: { url: "file:///kv.js", scenario },
      // "gone" did not run: its comparison is left out of the file.
      styles: [
        { name: "mine", run: "child", style: scenario.styles[0]! },
        { name: "theirs", run: "target", target: { name: "theirs", host: "127.0.0.1", port: 6379 } },
      ],
      connections: [1],
      load: "client",
    };
    const worker = { operations: 100, errors: 1, timeouts: 0, mismatches: 2, histogram: histogram([50, 60, 70]), cpuUs: 20_000, wallMs: 100, extra: { hits: 3 } };
    const points = [
      assemblePoint({
        scenario: "kv", style: "mine", loadGenerator: "client", connections: 1, repeat: 0, windowMs: 100, workers: [worker], connectFailures: 0,
        serverStart: { cpuUs: 1000, rssBytes: 1e6, elu: { idle: 10, active: 5 } }, serverEnd: { cpuUs: 3000, rssBytes: 2e6, elu: { idle: 60, active: 55 } },
      }),
      // A --target server without --server-pid: its CPU and memory are unknown.
      assemblePoint({
        scenario: "kv", style: "theirs", loadGenerator: "client", connections: 1, repeat: 0, windowMs: 100, workers: [worker], connectFailures: 0,
        serverStart: { cpuUs: null, rssBytes: null }, serverEnd: { cpuUs: null, rssBytes: null },
      }),
      failedPoint({ scenario: "kv", style: "mine", mode: "real", loadGenerator: "client", connections: 1, repeat: 1 }, `${SERVER_DID_NOT_START}boom`),
    ];
    const results = assembleResults(describeEnvironment("wirelab bench kv.js", {}), { scenarios: ["kv"], styles: ["mine", "theirs"], connections: [1], durationMs: 100, warmupMs: 0, repeat: 2, sim: false, load: "client" }, [planned], points);
    const file = writeResultsFile(results, join(dir, "run"));
    const read = await readResults(file);
    const { source, ...rest } = read;
    expect(source).toBe(file);
    expect(rest).toEqual(JSON.parse(JSON.stringify(results)));
    expect(read.schemaVersion).toBe(RESULTS_SCHEMA_VERSION);
    expect(read.scenarios[0]!.comparisons).toEqual([{ subject: "mine", reference: "theirs" }]);
    expect(read.scenarios[0]!.styles).toEqual([
      { name: "mine", description: "on wirelab", runsOn: "wirelab" },
      { name: "theirs", description: "127.0.0.1:6379", runsOn: "target" },
    ]);
    const theirs = read.points[1]!;
    expect([theirs.serverCpuPercent, theirs.serverCpuUsPerOp, theirs.serverRssBytes]).toEqual([null, null, null]);
    expect(read.points[0]!.serverCpuUsPerOp).toBeCloseTo(20);
  });

  it("the reports know no style by name: they compare what a file declares, whatever the names", async () => {
    const read = await readResults(join(dir, "run", "results.json"));
    const model = analyze([read]);
    expect(model.comparisons.map((c) => `${c.subject}/${c.reference}`)).toEqual(["mine/theirs"]);
    const sources = readdirSync(new URL("../../reports/", import.meta.url)).filter((f) => f.endsWith(".ts"));
    for (const f of sources) {
      const text = readFileSync(new URL(`../../reports/${f}`, import.meta.url), "utf8");
      // ("baseline" is also the baseline run a report compares against, a model key, not a style.)
      for (const style of ["callback", "async", "raw", "twisted", "tornado"]) expect(text, `${f} names "${style}"`).not.toMatch(new RegExp(`["'\`]${style}["'\`]`));
      expect(text, `${f} compares a style with "baseline"`).not.toMatch(/style\s*[!=]==\s*["']baseline|["']baseline["'],\s*["']raw/);
    }
  });
});
