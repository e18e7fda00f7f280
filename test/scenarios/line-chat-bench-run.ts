/**
 * Test helper for the line-chat and ws-broadcast end-to-end tests: runs `wirelab bench` as a child under the
 * machine's benchmark lock (one benchmark at a time on the shared machine) and reads the
 * results file it wrote.
 */

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "vitest";
import { WIRELAB_COMMAND } from "./wirelab-cli.js";
import { decodeHistogram } from "../../scenarios/harness/load/histogram.js";
import type { ResultPoint, Results } from "../../reports/results.js";

/** The lock every benchmark run on this machine takes. */
export const BENCH_LOCK = "/tmp/wirelab-bench.lock";
/** How long a test waits for the lock, then for its run, in seconds. */
export const LOCK_WAIT_S = 300;

/**
 * Runs `wirelab bench ARGS --no-report --out TMP` under the lock.
 * @param args - the bench arguments.
 * @returns the exit code, stderr and the parsed results (null when none were written).
 */
export function benchRun(args: readonly string[]): Promise<{ code: number; stderr: string; results: Results | null }> {
  const out = mkdtempSync(path.join(os.tmpdir(), "wirelab-scenario-"));
  return new Promise((resolve) => {
    execFile("flock", ["-w", String(LOCK_WAIT_S), BENCH_LOCK, ...WIRELAB_COMMAND, "bench", ...args, "--no-report", "--out", out], { timeout: (LOCK_WAIT_S + 60) * 1000 }, (error, _stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      let results: Results | null = null;
      try {
        results = JSON.parse(readFileSync(path.join(out, "results.json"), "utf8")) as Results;
      } catch {
        results = null;
      }
      rmSync(out, { recursive: true, force: true });
      resolve({ code, stderr, results });
    });
  });
}

/**
 * The checks every throughput point of a clean run passes: no failure, no error of any kind,
 * ordered percentiles, a histogram holding exactly the operations.
 * @param p - the point.
 */
export function expectCleanPoint(p: ResultPoint): void {
  expect(p.failure).toBeUndefined();
  expect(p.mode).toBe("real");
  expect(p.operations).toBeGreaterThan(0);
  expect(p.throughput).toBeGreaterThan(0);
  expect([p.errors, p.timeouts, p.mismatches]).toEqual([0, 0, 0]);
  const l = p.latencyUs;
  expect(l.p50).toBeGreaterThan(0);
  expect(l.p50).toBeLessThanOrEqual(l.p90);
  expect(l.p90).toBeLessThanOrEqual(l.p99);
  expect(l.p99).toBeLessThanOrEqual(l.p999);
  expect(l.p999).toBeLessThanOrEqual(l.max);
  expect(decodeHistogram(p.histogram).totalCount).toBe(p.operations);
  // /proc counts CPU in 10 ms ticks: a light 300 ms window may read 0.
  expect(p.serverCpuPercent).toBeGreaterThanOrEqual(0);
}
