import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { WIRELAB_COMMAND } from "./wirelab-cli.js";
import { afterAll, describe, expect, it } from "vitest";
import { decodeHistogram } from "../../scenarios/harness/load/histogram.js";
import type { ResultPoint, Results } from "../../reports/results.js";
import { RESULTS_SCHEMA_VERSION } from "../../reports/results.js";

const out = mkdtempSync(path.join(os.tmpdir(), "wirelab-bench-"));

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(WIRELAB_COMMAND[0]!, [...WIRELAB_COMMAND.slice(1), ...args], { timeout: 25_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

function checkLatency(l: unknown): void {
  expect(Object.keys(l as object).sort()).toEqual(["max", "p50", "p90", "p99", "p999"]);
  const v = l as ResultPoint["latencyUs"];
  expect(v.p50).toBeGreaterThan(0);
  expect(v.p50).toBeLessThanOrEqual(v.p90);
  expect(v.p90).toBeLessThanOrEqual(v.p99);
  expect(v.p99).toBeLessThanOrEqual(v.p999);
  expect(v.p999).toBeLessThanOrEqual(v.max);
}

describe("wirelab bench, end to end", () => {
  it("runs a tiny tcp-echo sweep and writes results.json in the documented format", async () => {
    const { code, stdout, stderr } = await run([
      "bench",
      "tcp-echo",
      "--styles",
      "callback,baseline",
      "--connections",
      "1,10",
      "--duration",
      "300ms",
      "--repeat",
      "1",
      "--warmup",
      "100ms",
      "--no-report",
      "--out",
      out,
    ]);
    expect(stderr).toMatch(/4 points/);
    expect(code).toBe(0);
    const file = path.join(out, "results.json");
    expect(stdout.trim()).toBe(file);
    const results = JSON.parse(readFileSync(file, "utf8")) as Results;
    expect(results.schemaVersion).toBe(RESULTS_SCHEMA_VERSION);
    const env = results.environment;
    expect(env.nodeVersion).toBe(process.version);
    expect(env.cores).toBe(os.cpus().length);
    expect(env.cpuModel.length).toBeGreaterThan(0);
    expect(env.memoryBytes).toBeGreaterThan(0);
    expect(env.os).toContain(os.platform());
    expect(env.commit).toMatch(/^([0-9a-f]{40}(-dirty)?|wirelab@.+)$/);
    expect(env.command).toBe("wirelab bench tcp-echo --styles callback,baseline --connections 1,10 --duration 300ms --repeat 1 --warmup 100ms --no-report --out " + out);
    expect(Number.isNaN(Date.parse(env.startedAt))).toBe(false);
    expect(env.peers).toEqual({});
    expect(results.parameters).toEqual({ scenarios: ["tcp-echo"], styles: ["callback", "baseline"], connections: [1, 10], durationMs: 300, warmupMs: 100, repeat: 1, sim: false, load: "default" });
    expect(results.scenarios).toEqual([
      {
        name: "tcp-echo",
        summary: "64-byte ping-pong per connection",
        operation: "one 64-byte round trip",
        kind: "throughput",
        styles: [
          { name: "callback", description: "wirelab Protocol (dataReceived → transport.write)", runsOn: "wirelab" },
          { name: "baseline", description: "raw node:net", runsOn: "node" },
        ],
        comparisons: [{ subject: "callback", reference: "baseline" }],
      },
    ]);
    expect(results.points.map((p) => `${p.style}/${p.connections}/${p.repeat}`)).toEqual(["callback/1/0", "baseline/1/0", "callback/10/0", "baseline/10/0"]);
    for (const p of results.points) {
      expect(p.failure).toBeUndefined();
      expect(p.scenario).toBe("tcp-echo");
      expect(p.mode).toBe("real");
      expect(p.loadGenerator).toBe("generator");
      expect(p.durationMs).toBeGreaterThanOrEqual(290);
      expect(p.durationMs).toBeLessThan(2000);
      expect(p.operations).toBeGreaterThan(10);
      expect(p.throughput).toBeCloseTo(p.operations / (p.durationMs / 1000), 6);
      checkLatency(p.latencyUs);
      expect(decodeHistogram(p.histogram).totalCount).toBe(p.operations);
      expect([p.errors, p.timeouts, p.mismatches]).toEqual([0, 0, 0]);
      expect(p.serverRssBytes).toBeGreaterThan(10 * 1024 * 1024);
      expect(p.serverCpuPercent).toBeGreaterThan(0);
      expect(p.serverCpuUsPerOp).toBeGreaterThan(0);
      expect(p.serverEventLoopUtilization).toBeGreaterThan(0);
      expect(p.serverEventLoopUtilization).toBeLessThanOrEqual(1);
      expect(p.clientCpuPercent).toBeGreaterThan(0);
      expect(p.clientWorkers).toBe(1);
      expect(typeof p.generatorSaturated).toBe("boolean");
      expect(p.rate).toBeUndefined();
      expect(p.uncorrectedLatencyUs).toBeUndefined();
    }
  }, 30_000);

  it("exits 2 and names the option on a bad command line, before running anything", async () => {
    const { code, stderr } = await run(["bench", "tcp-echo", "--connections", "1,ten"]);
    expect(code).toBe(2);
    expect(stderr).toContain('invalid option --connections: expected a positive integer, got "ten"');
  });
});
