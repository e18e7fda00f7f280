import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../../reports/cli.js";
import { readResults } from "../../reports/read-results.js";
import { gateLines, holm, reachesThreshold, regressionGate } from "../../reports/regression-gate.js";
import type { ResultPoint, Results } from "../../reports/results.js";
import { geometricMeanRatio } from "../../reports/statistics.js";
import { summarizeMetric, type PointSummary } from "../../reports/summarize-points.js";

const fixtures = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A closed-loop tcp-echo point whose runs measured these server CPU figures (µs per op). */
function point(style: string, cpu: readonly number[], connections = 100): PointSummary {
  const m = summarizeMetric(cpu, { resamples: 200 });
  return {
    scenario: "tcp-echo",
    mode: "real",
    style,
    connections,
    runs: [],
    ok: cpu.map(() => ({}) as ResultPoint),
    failed: [],
    ...(m === undefined ? {} : { cpuUsPerOp: m, throughput: summarizeMetric(cpu.map(() => 50_000), { resamples: 200 })! }),
    errors: 0,
    timeouts: 0,
    mismatches: 0,
    saturatedRuns: cpu.length,
  };
}

const kinds = new Map([["tcp-echo", "throughput"]]);
const base = [20.1, 19.8, 20.3, 20.0, 19.9, 20.2, 20.0, 19.7];

describe("Holm's correction", () => {
  it("matches p.adjust(method = 'holm') decisions", () => {
    // p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02: significant at 5% are the 1st and 4th.
    expect(holm([0.01, 0.04, 0.03, 0.005], 0.05)).toEqual([true, false, false, true]);
    expect(holm([0.049], 0.05)).toEqual([true]);
    expect(holm([0.049, 0.049], 0.05)).toEqual([false, false]);
  });
});

describe("the threshold", () => {
  it("is reached when the interval reaches it in the bad direction", () => {
    const r = (estimate: number, low: number, high: number) => ({ estimate, low, high, confidence: 0.95, p: 0.001, df: 10, relativeHalfWidth: 0 });
    expect(reachesThreshold("cpuUsPerOp", r(1.04, 1.02, 1.06), 0.05)).toBe(true);
    expect(reachesThreshold("cpuUsPerOp", r(1.02, 1.01, 1.03), 0.05)).toBe(false);
    expect(reachesThreshold("cpuUsPerOp", r(0.9, 0.85, 0.95), 0.05)).toBe(false);
    expect(reachesThreshold("throughput", r(0.96, 0.94, 0.98), 0.05)).toBe(true);
    expect(reachesThreshold("throughput", r(1.1, 1.05, 1.15), 0.05)).toBe(false);
  });
});

describe("the gate's decision", () => {
  it("flags a planted 5% rise of server CPU per operation and names it", () => {
    const gate = regressionGate([point("callback", base.map((x) => x * 1.05))], [point("callback", base)], kinds, 0.05);
    expect(gate.regressions.map((c) => [c.label, c.figure])).toEqual([["tcp-echo / callback / 100 conn", "cpuUsPerOp"]]);
    expect(gate.regressions[0]!.ratio!.estimate).toBeCloseTo(1.05, 10);
    const lines = gateLines(gate);
    expect(lines[0]).toMatch(/^::error title=wirelab regression::tcp-echo \/ callback \/ 100 conn: server CPU per operation \+5\.0% \[\+\d\.\d%, \+\d\.\d%\] \(p < 0\.001\), beyond the 5% threshold$/);
    expect(lines.at(-1)).toBe("wirelab report: 1 regression beyond 5% of 1 figure checked: tcp-echo / callback / 100 conn server CPU per operation +5.0%");
  });

  it("passes the same runs (A/A), an improvement, and a significant change surely below the threshold", () => {
    expect(regressionGate([point("callback", base)], [point("callback", base)], kinds, 0.05).regressions).toEqual([]);
    expect(regressionGate([point("callback", base.map((x) => x * 0.9))], [point("callback", base)], kinds, 0.05).regressions).toEqual([]);
    const tight = [20.0, 20.02, 19.98, 20.01, 19.99, 20.0, 20.02, 19.98];
    const small = regressionGate([point("callback", tight.map((x) => x * 1.01))], [point("callback", tight)], kinds, 0.05);
    // Significant (the runs are tight) but its interval stops short of +5%.
    expect(small.checks[0]!.ratio!.p).toBeLessThan(0.05);
    expect(small.regressions).toEqual([]);
    expect(gateLines(small)).toEqual(["wirelab report: no regression beyond 5% (1 figure checked against the baseline)"]);
  });

  it("does not pass a run it could not test: figures without enough runs are counted apart, and none at all is a warning", () => {
    const once = regressionGate([point("callback", [20])], [point("callback", base)], kinds, 0.05);
    expect(once.checks).toHaveLength(1);
    expect(once.checks[0]!.ratio).toBeUndefined();
    expect(gateLines(once)).toEqual([
      "::warning title=wirelab regression gate::no figure could be compared with the baseline (too few runs, figures below noise, or no point in common): the gate tested nothing",
      "wirelab report: no regression beyond 5% (0 figures checked, 1 not comparable (too few runs, or below noise) against the baseline)",
    ]);
    const both = regressionGate([point("callback", base), point("async", [20])], [point("callback", base), point("async", base)], kinds, 0.05);
    expect(gateLines(both)).toEqual(["wirelab report: no regression beyond 5% (1 figure checked, 1 not comparable (too few runs, or below noise) against the baseline)"]);
  });

  it("does not flag noise: a 5% shift inside runs that scatter by 10% is not significant", () => {
    const noisy = [20, 23, 18, 21, 17, 22, 19, 24];
    const r = geometricMeanRatio(noisy.map((x) => x * 1.05), noisy);
    expect(r.p).toBeGreaterThan(0.05);
    expect(regressionGate([point("callback", noisy.map((x) => x * 1.05))], [point("callback", noisy)], kinds, 0.05).regressions).toEqual([]);
  });

  it("corrects for the number of figures checked (Holm)", () => {
    // p ≈ 0.02 alone passes 5%; the same figure among ten unchanged ones does not.
    const a = [20, 21, 19, 20.5, 19.5];
    const b = a.map((x) => x * 1.06);
    const alone = regressionGate([point("callback", b)], [point("callback", a)], kinds, 0.05);
    const p = alone.checks[0]!.ratio!.p;
    expect(p).toBeLessThan(0.05);
    expect(p).toBeGreaterThan(0.005);
    expect(alone.regressions).toHaveLength(1);
    const many = regressionGate(
      [point("callback", b), ...Array.from({ length: 9 }, (_, i) => point("callback", a, 1000 + i))],
      [point("callback", a), ...Array.from({ length: 9 }, (_, i) => point("callback", a, 1000 + i))],
      kinds,
      0.05,
    );
    expect(many.checks).toHaveLength(10);
    expect(many.regressions).toEqual([]);
  });
});

describe("wirelab report --fail-on-regression", () => {
  it("exits 3 and prints an ::error line naming the regressed figure; 0 against itself", async () => {
    const r = (await readResults(fixtures("results.json"))) as Results;
    const slower: Results = { ...r, points: r.points.map((p) => (p.scenario === "tcp-echo" && p.style === "async" && p.connections === 100 && p.serverCpuUsPerOp !== null ? { ...p, serverCpuUsPerOp: p.serverCpuUsPerOp * 1.5 } : p)) };
    const dir = mkdtempSync(join(tmpdir(), "wirelab-gate-"));
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(dir, "new.json"), JSON.stringify(slower));
    const logs: string[] = [];
    const io = { log: (l: string) => logs.push(l), error: (l: string) => logs.push(l) };
    const code = await main([join(dir, "new.json"), "--baseline", fixtures("results.json"), "--fail-on-regression", "5%", "--out", join(dir, "out")], io);
    expect(code).toBe(3);
    const errors = logs.filter((l) => l.startsWith("::error"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("tcp-echo / async / 100 conn: server CPU per operation +50.0%");
    expect(logs.at(-1)).toMatch(/^wirelab report: 1 regression beyond 5% of \d+ figures checked: tcp-echo \/ async \/ 100 conn/);
    expect(readFileSync(join(dir, "out", "report.md"), "utf8")).toContain("**Regression gate (5%): failed**");

    const same: string[] = [];
    expect(await main([fixtures("results.json"), "--baseline", fixtures("results.json"), "--fail-on-regression", "5", "--out", join(dir, "same")], { log: (l) => same.push(l), error: (l) => same.push(l) })).toBe(0);
    expect(same.at(-1)).toMatch(/^wirelab report: no regression beyond 5% \(\d+ figures checked against the baseline\)$/);
  });

  it("names a bad threshold and a missing baseline", async () => {
    const errors: string[] = [];
    const io = { log: () => {}, error: (l: string) => errors.push(l) };
    expect(await main([fixtures("results.json"), "--baseline", fixtures("results.json"), "--fail-on-regression", "five", "--out", "x"], io)).toBe(2);
    expect(await main([fixtures("results.json"), "--fail-on-regression", "5%", "--out", "x"], io)).toBe(2);
    expect(errors[0]).toContain("--fail-on-regression must be a percentage");
    expect(errors[1]).toContain("--fail-on-regression needs a --baseline");
  });
});

describe("the gate pairs runs by repeat", () => {
  it("divides out what repeat i of both runs shared: a 6% rise under ±20% round-to-round swings is found", async () => {
    const { failedPoint } = await import("../../scenarios/harness/point.js");
    const { summarizePoints } = await import("../../reports/summarize-points.js");
    const r = (await readResults(fixtures("results.json"))) as Results;
    const swings = [1, 1.2, 0.8, 1.1, 0.9, 1.15, 0.85, 1.05];
    const runs = (factor: number): Results => ({
      ...r,
      points: swings.map((k, repeat) => {
        const { failure: _none, ...p } = failedPoint({ scenario: "tcp-echo", style: "callback", mode: "real", loadGenerator: "generator", connections: 100, repeat }, "");
        return { ...p, durationMs: 500, throughput: 10_000, operations: 5_000, serverCpuUsPerOp: 10 * k * factor, serverCpuPercent: 50, generatorSaturated: true };
      }),
    });
    const s = (x: Results) => summarizePoints([{ ...x, source: "x" }], { resamples: 100 });
    const gate = regressionGate(s(runs(1.06)), s(runs(1)), kinds, 0.05);
    expect(gate.checks[0]?.ratio?.df).toBe(7);
    expect(gate.checks[0]?.ratio?.estimate).toBeCloseTo(1.06, 10);
    expect(gate.regressions).toHaveLength(1);
    // Unpaired, the same runs cannot tell.
    expect(geometricMeanRatio(swings.map((k) => k * 1.06), swings).p).toBeGreaterThan(0.05);
  });
});
