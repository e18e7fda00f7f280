import { describe, expect, it } from "vitest";
import { createLatencyHistogram, decodeHistogram, encodeHistogram, recordLatency } from "../../scenarios/harness/load/histogram.js";
import type { WorkerWindow } from "../../scenarios/harness/point.js";
import { assemblePoint, GENERATOR_SATURATION_THRESHOLD } from "../../scenarios/harness/point.js";

function worker(latencies: number[], cpuUs: number, extra: Record<string, number> = {}, uncorrected?: number[]): WorkerWindow {
  const h = createLatencyHistogram();
  for (const v of latencies) recordLatency(h, v);
  const u = createLatencyHistogram();
  for (const v of uncorrected ?? []) recordLatency(u, v);
  return {
    operations: latencies.length,
    errors: 1,
    timeouts: 2,
    mismatches: 3,
    histogram: encodeHistogram(h),
    ...(uncorrected === undefined ? {} : { uncorrectedHistogram: encodeHistogram(u) }),
    cpuUs,
    wallMs: 1000,
    extra,
  };
}

const base = {
  scenario: "tcp-echo",
  style: "callback",
  loadGenerator: "wirelab",
  connections: 100,
  repeat: 2,
  windowMs: 2000,
  connectFailures: 4,
  serverStart: { cpuUs: 1_000_000, rssBytes: 10, elu: { idle: 100, active: 50 } },
  serverEnd: { cpuUs: 2_500_000, rssBytes: 50_000_000, elu: { idle: 600, active: 1550 } },
};

describe("assemblePoint", () => {
  it("sums workers, merges histograms and derives rates from the runner's window", () => {
    const a = worker([100, 200, 300], 500_000, { heldConnections: 5 });
    const b = worker([400, 500], 1_900_000, { heldConnections: 7 });
    const p = assemblePoint({ ...base, workers: [a, b] });
    expect(p.mode).toBe("real");
    expect(p.operations).toBe(5);
    expect(p.throughput).toBeCloseTo(2.5); // 5 operations in 2 s
    expect(p.errors).toBe(1 + 1 + 4); // each worker's plus the connect failures
    expect(p.timeouts).toBe(4);
    expect(p.mismatches).toBe(6);
    expect(p.latencyUs.p50).toBe(300);
    expect(p.latencyUs.max).toBe(500);
    expect(p.latencyUs.p999).toBe(500);
    expect(decodeHistogram(p.histogram).totalCount).toBe(5);
    // Server: 1.5 s of CPU in a 2 s window.
    expect(p.serverCpuPercent).toBeCloseTo(75);
    expect(p.serverCpuUsPerOp).toBeCloseTo(300_000);
    expect(p.serverRssBytes).toBe(50_000_000);
    expect(p.serverEventLoopUtilization).toBeCloseTo(1500 / 2000);
    // Client: 2.4 s of CPU over 2 s; worker b used 1.9 s in its 1 s: saturated.
    expect(p.clientCpuPercent).toBeCloseTo(120);
    expect(p.clientWorkers).toBe(2);
    expect(p.generatorSaturated).toBe(true);
    expect(p.extra).toEqual({ heldConnections: 12 });
    expect(p.rate).toBeUndefined();
    expect(p.uncorrectedLatencyUs).toBeUndefined();
    expect(p.failure).toBeUndefined();
  });

  it("flags saturation only at the threshold", () => {
    const just = worker([1], GENERATOR_SATURATION_THRESHOLD * 1_000_000);
    const below = worker([1], GENERATOR_SATURATION_THRESHOLD * 1_000_000 - 1000);
    expect(assemblePoint({ ...base, workers: [just] }).generatorSaturated).toBe(true);
    expect(assemblePoint({ ...base, workers: [below] }).generatorSaturated).toBe(false);
  });

  it("carries the open-loop rate and the uncorrected latency", () => {
    const p = assemblePoint({ ...base, rate: 1000, workers: [worker([5000, 9000], 1, {}, [100, 200])] });
    expect(p.rate).toBe(1000);
    // Merged histograms report a bucket's highest equivalent value: within 0.1%.
    expect(Math.abs(p.latencyUs.max - 9000)).toBeLessThanOrEqual(9);
    expect(p.uncorrectedLatencyUs?.max).toBe(200);
    expect(decodeHistogram(p.uncorrectedHistogram!).totalCount).toBe(2);
  });

  it("omits event-loop utilization for servers that do not report it (peers), and per-op CPU with no operations", () => {
    const p = assemblePoint({ ...base, serverStart: { cpuUs: 0, rssBytes: 1 }, serverEnd: { cpuUs: 10, rssBytes: 2 }, workers: [worker([], 0)] });
    expect(p.serverEventLoopUtilization).toBeUndefined();
    expect(p.serverCpuUsPerOp).toBe(0);
    expect(p.throughput).toBe(0);
    expect(p.latencyUs).toEqual({ p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
  });
});
