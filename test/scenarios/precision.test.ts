import { describe, expect, it } from "vitest";
import type { ResultPoint } from "../../reports/results.js";
import { failedPoint } from "../../scenarios/harness/point.js";
import { comparisonPrecision, describePrecision, MAX_PRECISION_ROUNDS, shouldStop, type ComparisonPrecision } from "../../scenarios/harness/precision.js";
import { parsePrecision, validateBenchOptions } from "../../scenarios/harness/bench-options.js";
import { parseBenchArgs } from "../../scenarios/harness/cli-options.js";

/** One run of a style in round `repeat`, with this server CPU per operation and throughput. */
function run(style: string, repeat: number, cpu: number, throughput = 10_000, saturated = true): ResultPoint {
  const { failure: _none, ...p } = failedPoint({ scenario: "tcp-echo", style, mode: "real", loadGenerator: "generator", connections: 100, repeat }, "");
  return { ...p, durationMs: 500, throughput, operations: throughput / 2, serverCpuUsPerOp: cpu, serverCpuPercent: 95, generatorSaturated: saturated };
}

/** Rounds whose log ratios subject / reference are `d`, around a reference of 10 µs. */
function rounds(d: readonly number[], saturated = true): ResultPoint[] {
  return d.flatMap((x, i) => [run("callback", i, 10 * Math.exp(x), 10_000, saturated), run("baseline", i, 10, 10_000, saturated)]);
}

const compare = [{ subject: "callback", reference: "baseline" }];

describe("the precision of a comparison", () => {
  it("pairs rounds and gives the t interval of the mean log ratio: ±1.85% for ±1% alternating over 4 rounds", () => {
    // d = ±0.01: sd = 0.011547, se = 0.0057735, t(0.975, 3) = 3.182446, half = 0.018374 → e^half − 1.
    const [c] = comparisonPrecision(rounds([0.01, -0.01, 0.01, -0.01]), compare, "throughput", 0.03);
    expect(c?.figure).toBe("cpuUsPerOp");
    expect(c?.ratio?.estimate).toBeCloseTo(1, 12);
    expect(c?.ratio?.df).toBe(3);
    expect(c?.ratio?.relativeHalfWidth).toBeCloseTo(Math.exp(3.182446 * (0.011547005 / 2)) - 1, 5);
    expect(c?.met).toBe(true);
    const [wide] = comparisonPrecision(rounds([0.03, -0.03, 0.03, -0.03]), compare, "throughput", 0.03);
    expect(wide?.ratio?.relativeHalfWidth).toBeCloseTo(Math.exp(3.182446 * (0.034641016 / 2)) - 1, 5);
    expect(wide?.met).toBe(false);
  });

  it("judges throughput when the generator had headroom, and divides out what a round shared", () => {
    // Each round's two throughputs move together by up to ±30%; their ratio stays 0.9.
    const swings = [1, 1.3, 0.7, 1.1, 0.9, 1.25];
    const runs = swings.flatMap((k, i) => [run("callback", i, 10, 9_000 * k, false), run("baseline", i, 10, 10_000 * k, false)]);
    const [c] = comparisonPrecision(runs, compare, "throughput", 0.03);
    expect(c?.figure).toBe("throughput");
    expect(c?.ratio?.estimate).toBeCloseTo(0.9, 10);
    expect(c?.ratio?.relativeHalfWidth).toBeCloseTo(0, 10);
    expect(c?.met).toBe(true);
  });

  it("has no interval before two paired rounds, nor from a failed run", () => {
    expect(comparisonPrecision(rounds([0.01]), compare, "throughput", 0.03)[0]).toEqual({ subject: "callback", reference: "baseline", figure: "cpuUsPerOp", met: false });
    const withFailure = [...rounds([0.01]), { ...run("callback", 1, 10), failure: "reset" }, run("baseline", 1, 10)];
    expect(comparisonPrecision(withFailure, compare, "throughput", 0.03)[0]?.ratio).toBeUndefined();
  });
});

describe("the stopping rule", () => {
  const met: ComparisonPrecision = { subject: "a", reference: "b", figure: "cpuUsPerOp", met: true };
  const unmet: ComparisonPrecision = { ...met, met: false };
  it("stops when every comparison is within the target, but not before the minimum rounds", () => {
    expect(shouldStop({ rounds: 3, elapsedMs: 1000, comparisons: [met, met] }, 3, 60_000)).toBeNull();
    expect(shouldStop({ rounds: 4, elapsedMs: 1000, comparisons: [met, met] }, 3, 60_000)).toBe("met");
    expect(shouldStop({ rounds: 5, elapsedMs: 1000, comparisons: [met, met] }, 6, 60_000)).toBeNull();
    expect(shouldStop({ rounds: 40, elapsedMs: 1000, comparisons: [met, unmet] }, 3, 60_000)).toBeNull();
  });

  it("stops when the budget runs out, or at the round limit, and says which", () => {
    expect(shouldStop({ rounds: 40, elapsedMs: 60_000, comparisons: [met, unmet] }, 3, 60_000)).toBe("time");
    expect(shouldStop({ rounds: MAX_PRECISION_ROUNDS, elapsedMs: 1, comparisons: [unmet] }, 3, 60_000)).toBe("rounds");
    expect(shouldStop({ rounds: 3, elapsedMs: 0, comparisons: [] }, 3, 60_000)).toBe("nothing to compare");
  });

  it("runs to a known answer: rounds of ±2% noise reach ±3% at the round the t interval says", () => {
    // d alternates ±0.02: with n rounds (n even) sd ≈ 0.02·√(n/(n−1)), half = t(n−1)·sd/√n.
    const d = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 0.02 : -0.02));
    let stoppedAt = -1;
    for (let n = 3; n <= d.length; n++) {
      const comparisons = comparisonPrecision(rounds(d.slice(0, n)), compare, "throughput", 0.03);
      if (shouldStop({ rounds: n, elapsedMs: 0, comparisons }, 3, 60_000) === "met") {
        stoppedAt = n;
        break;
      }
    }
    // n = 4: t(3) = 3.182, sd = 0.02309, half = 0.0367 (> 3%); n = 5: t(4) = 2.776, sd = 0.02191, half = 0.0272 (≤ 3%).
    expect(stoppedAt).toBe(5);
  });

  it("describes how it ended", () => {
    const line = describePrecision({ scenario: "tcp-echo", connections: 100, rounds: 14, elapsedMs: 52_000, stoppedBy: "met", comparisons: comparisonPrecision(rounds([0.01, -0.01, 0.01, -0.01]), compare, "throughput", 0.03) }, 0.03);
    expect(line).toBe("tcp-echo at 100 connections: every comparison within ±3.0% after 14 rounds (52 s): callback/baseline CPU/op 1.000× ±1.9%");
    expect(describePrecision({ scenario: "tcp-echo", connections: 100, rounds: 90, elapsedMs: 180_000, stoppedBy: "time", comparisons: [] }, 0.03)).toContain("the time budget ran out after 90 rounds (180 s)");
  });
});

describe("--precision and --max-time", () => {
  it("parse percentages and fractions, and name bad values", () => {
    expect(parsePrecision("3%")).toBeCloseTo(0.03, 12);
    expect(parsePrecision("0.5%")).toBeCloseTo(0.005, 12);
    expect(parsePrecision(0.03)).toBe(0.03);
    expect(() => parsePrecision("0%")).toThrow(/--precision/);
    expect(() => parsePrecision("150%")).toThrow(/--precision/);
    expect(() => parsePrecision("three")).toThrow(/--precision/);
    const parsed = parseBenchArgs(["tcp-echo", "--precision", "3%", "--max-time", "90s"], "wirelab bench");
    expect(parsed === "help" ? undefined : validateBenchOptions(parsed.options)).toMatchObject({ precision: 0.03, maxTimeMs: 90_000 });
    expect(validateBenchOptions({}).precision).toBeNull();
    expect(validateBenchOptions({ precision: "3%" }).maxTimeMs).toBe(180_000);
    expect(() => validateBenchOptions({ maxTime: "1m" })).toThrow(/--max-time/);
    expect(() => validateBenchOptions({ precision: "3%", sim: true })).toThrow(/--precision/);
  });
});
