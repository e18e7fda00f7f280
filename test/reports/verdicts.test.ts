import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { analyze } from "../../reports/analyze.js";
import { readResults } from "../../reports/read-results.js";
import type { ResultPoint, Results } from "../../reports/results.js";
import { geometricMeanRatio, studentTQuantile } from "../../reports/statistics.js";
import { chooseFigure, judgeFigure } from "../../reports/verdicts.js";
import { writeReport } from "../../reports/write-report.js";

const fixtures = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe("the Welch interval of a ratio of geometric means", () => {
  it("matches Student's t quantiles", () => {
    // qt(0.975, df) in R.
    expect(studentTQuantile(0.95, 1)).toBeCloseTo(12.7062, 3);
    expect(studentTQuantile(0.95, 9)).toBeCloseTo(2.262157, 5);
    expect(studentTQuantile(0.95, 30)).toBeCloseTo(2.042272, 5);
    expect(studentTQuantile(0.9, 4.5)).toBeCloseTo(2.06, 1);
  });

  it("matches R's t.test(log(a), log(b)) on a known sample", () => {
    // R: a <- c(10.2, 10.5, 9.9, 10.1); b <- c(9.1, 9.4, 9.0, 9.3)
    //    t <- t.test(log(a), log(b)); exp(t$estimate[1] - t$estimate[2]); exp(t$conf.int); t$p.value
    const r = geometricMeanRatio([10.2, 10.5, 9.9, 10.1], [9.1, 9.4, 9.0, 9.3]);
    const la = [10.2, 10.5, 9.9, 10.1].map(Math.log);
    const lb = [9.1, 9.4, 9.0, 9.3].map(Math.log);
    const m = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    const v = (xs: number[]): number => xs.reduce((s, x) => s + (x - m(xs)) ** 2, 0) / (xs.length - 1);
    const se = Math.sqrt(v(la) / 4 + v(lb) / 4);
    const df = (v(la) / 4 + v(lb) / 4) ** 2 / ((v(la) / 4) ** 2 / 3 + (v(lb) / 4) ** 2 / 3);
    expect(r.estimate).toBeCloseTo(Math.exp(m(la) - m(lb)), 12);
    expect(r.df).toBeCloseTo(df, 10);
    expect(Math.log(r.high / r.estimate)).toBeCloseTo(studentTQuantile(0.95, df) * se, 10);
    expect(r.estimate).toBeCloseTo(1.1059, 3);
    expect(r.p).toBeLessThan(0.001);
    expect(r.low).toBeGreaterThan(1);
  });

  it("excludes 1 exactly when p < 0.05", () => {
    for (const shift of [1, 1.01, 1.02, 1.03, 1.05]) {
      const a = [100, 103, 98, 101, 99].map((x) => x * shift);
      const r = geometricMeanRatio(a, [100, 102, 97, 101, 100]);
      expect(r.low > 1 || r.high < 1).toBe(r.p < 0.05);
    }
  });

  it("is zero-width for identical constant samples", () => {
    const r = geometricMeanRatio([2, 2, 2], [1, 1, 1]);
    expect([r.estimate, r.low, r.high, r.relativeHalfWidth]).toEqual([2, 2, 2, 0]);
  });
});

describe("the figure a verdict rests on", () => {
  it("throughput with headroom, server CPU per operation when the generator saturated", () => {
    expect(chooseFigure({ kind: "throughput", saturatedRuns: 0, runs: 6, cpuKnown: true }).figure).toBe("throughput");
    const saturated = chooseFigure({ kind: "throughput", saturatedRuns: 2, runs: 6, cpuKnown: true });
    expect(saturated.figure).toBe("cpuUsPerOp");
    expect(saturated.why).toContain("2 of 6");
    expect(chooseFigure({ kind: "throughput", saturatedRuns: 2, runs: 6, cpuKnown: false }).figure).toBe("throughput");
    // A server with headroom (a publisher at a fixed rate): the load set the rate, not the server.
    const idle = chooseFigure({ kind: "throughput", saturatedRuns: 0, serverBusyRuns: 0, runs: 6, cpuKnown: true });
    expect(idle).toEqual({ figure: "cpuUsPerOp", why: "the server had headroom in 6 of 6 runs, so the load set the rate" });
    expect(chooseFigure({ kind: "throughput", saturatedRuns: 0, serverBusyRuns: 6, runs: 6, cpuKnown: true }).figure).toBe("throughput");
    expect(chooseFigure({ kind: "throughput", rate: 1000, saturatedRuns: 6, runs: 6, cpuKnown: true }).figure).toBe("p99");
    expect(chooseFigure({ kind: "hold", saturatedRuns: 0, runs: 6, cpuKnown: true }).figure).toBe("memoryPerConnection");
  });

  it("judges direction by the figure: less CPU is better, more throughput is better", () => {
    expect(judgeFigure("cpuUsPerOp", [11, 11.1, 10.9], [10, 10.1, 9.9], 0.05).outcome).toBe("worse");
    expect(judgeFigure("throughput", [11, 11.1, 10.9], [10, 10.1, 9.9], 0.05).outcome).toBe("better");
    expect(judgeFigure("throughput", [10, 12, 9], [10, 11, 9.5], 0.05).outcome).toBe("no significant difference");
    expect(judgeFigure("throughput", [10], [10, 11], 0.05).outcome).toBe("too few runs");
    expect(judgeFigure("memoryPerConnection", [-300, 200, 100], [1000, 1100, 900], 0.05)).toEqual({ figure: "memoryPerConnection", outcome: "below noise" });
  });

  it("the fixture's tcp-echo, whose generator saturated, is judged on server CPU per operation; http-hello on throughput", async () => {
    const m = analyze([await readResults(fixtures("results.json"))]);
    const v = (scenario: string, subject: string, reference: string) => m.verdicts.find((x) => x.scenario === scenario && x.subject === subject && x.reference === reference);
    expect(v("tcp-echo", "callback", "baseline")?.judgement.figure).toBe("cpuUsPerOp");
    expect(v("http-hello", "async", "callback")?.judgement.figure).toBe("throughput");
    expect(v("idle-hold", "async", "callback")?.judgement.figure).toBe("memoryPerConnection");
    // One verdict per series and declared comparison.
    const keys = m.verdicts.map((x) => `${x.series}|${x.subject}|${x.reference}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("a memory figure within the noise", () => {
  it("shows as below noise, never as a negative number", async () => {
    const r = (await readResults(fixtures("results.json"))) as Results;
    // RSS noise: the 1,000-connection runs of tcp-echo/callback end below the 1-connection floor.
    const points: ResultPoint[] = r.points.map((p) =>
      p.scenario === "tcp-echo" && p.style === "callback" && p.connections === 1000 && p.serverRssBytes !== null ? { ...p, serverRssBytes: 1000 } : p,
    );
    const out = mkdtempSync(join(tmpdir(), "wirelab-below-noise-"));
    const written = await writeReport({ results: { ...r, points }, out });
    const md = readFileSync(written.markdown, "utf8");
    const html = readFileSync(written.html, "utf8");
    const section = md.slice(md.indexOf("\n## tcp-echo\n"));
    const row = section.split("\n").find((l) => l.startsWith("| 1,000 | callback |"));
    expect(row).toContain("below noise");
    for (const text of [md, html]) expect(text.match(/[-−]\d[\d.,]*\s*(B|KiB|MiB)\b/g) ?? []).toEqual([]);
  });
});
