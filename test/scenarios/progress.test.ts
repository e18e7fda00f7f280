import { describe, expect, it } from "vitest";
import { describePoint } from "../../scenarios/harness/progress.js";
import type { ResultPoint } from "../../reports/results.js";

const base: ResultPoint = {
  scenario: "tcp-echo",
  style: "callback",
  mode: "real",
  loadGenerator: "wirelab",
  connections: 100,
  repeat: 0,
  durationMs: 5000,
  throughput: 41_200,
  operations: 206_000,
  latencyUs: { p50: 2000, p90: 2500, p99: 3100, p999: 4000, max: 9000 },
  errors: 0,
  timeouts: 0,
  mismatches: 0,
  serverRssBytes: 80e6,
  serverCpuPercent: 97,
  serverCpuUsPerOp: 23.54,
  clientCpuPercent: 88,
  clientWorkers: 1,
  generatorSaturated: false,
  histogram: "",
};

describe("describePoint", () => {
  it("gives throughput, p99, server CPU per operation and the client's CPU", () => {
    expect(describePoint(base)).toBe("tcp-echo/callback c=100 #0: 41,200 ops/s, p99 3,100 µs, server 97% cpu, 23.5 µs/op, client 88%");
  });

  it("says so when a window had no operations instead of printing 0 µs per operation", () => {
    expect(describePoint({ ...base, throughput: 0, operations: 0, serverCpuUsPerOp: 0 })).toContain("server 97% cpu, no operations");
  });

  it("describes an idle-hold window by what it held and its memory, not by operations", () => {
    const idle = { ...base, scenario: "idle-hold", connections: 10_000, throughput: 0, operations: 0, serverCpuPercent: 0, extra: { bytesPerConnection: 2814.7, heapBytesPerConnection: 994.5, heldConnections: 10_000 } };
    expect(describePoint(idle)).toBe("idle-hold/callback c=10000 #0: held 10,000, 2,815 B/conn (heap 995 B), server 0% cpu");
  });

  it("marks failures and a saturated generator", () => {
    expect(describePoint({ ...base, failure: "server exited with code 1" })).toBe("tcp-echo/callback c=100 #0: FAILED server exited with code 1");
    expect(describePoint({ ...base, generatorSaturated: true })).toMatch(/GENERATOR SATURATED$/);
  });
});
