import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createLatencyHistogram, decodeHistogram, encodeHistogram, mergeHistograms, recordLatency, summarize } from "../../scenarios/harness/load/histogram.js";
import { findContentLength } from "../../scenarios/harness/load/http-load-client.js";
import { LoadRecorder } from "../../scenarios/harness/load/load-recorder.js";
import { splitEvenly } from "../../scenarios/harness/load/load-pool.js";
import { OpenLoopSchedule } from "../../scenarios/harness/load/open-loop-schedule.js";
import { globalConnectionIndex } from "../../scenarios/harness/load/request-workload.js";
import { sourceAddressesFor, targetFor } from "../../scenarios/harness/load/source-addresses.js";
import { readFileSync } from "node:fs";
import { forgetProcesses, sampleProcess } from "../../scenarios/harness/proc-stats.js";
import type { WorkloadContext } from "../../scenarios/harness/scenario.js";
import { InvalidOptionError } from "../../runtime/errors.js";

describe("latency histograms", () => {
  it("summarises percentiles in µs within HDR's 3-digit precision", () => {
    const h = createLatencyHistogram();
    for (let v = 1; v <= 10_000; v++) recordLatency(h, v);
    const s = summarize(h);
    const near = (x: number, want: number): void => {
      expect(Math.abs(x - want) / want).toBeLessThan(0.001 + 1e-9);
    };
    near(s.p50, 5000);
    near(s.p90, 9000);
    near(s.p99, 9900);
    near(s.p999, 9990);
    near(s.max, 10_000);
  });

  it("rounds to whole µs and clamps below 1 µs", () => {
    const h = createLatencyHistogram();
    recordLatency(h, 0.2);
    recordLatency(h, 2.6);
    expect(h.minNonZeroValue).toBe(1);
    expect(h.maxValue).toBe(3);
  });

  it("an empty histogram summarises to zeros", () => {
    expect(summarize(createLatencyHistogram())).toEqual({ p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
  });

  it("encodes and decodes losslessly, and merges by adding counts (no averaged percentiles)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50_000_000 }), { minLength: 1, maxLength: 200 }), fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 50 }), (a, b) => {
        const ha = createLatencyHistogram();
        const hb = createLatencyHistogram();
        for (const v of a) recordLatency(ha, v);
        for (const v of b) recordLatency(hb, v);
        const back = decodeHistogram(encodeHistogram(ha));
        expect(back.totalCount).toBe(a.length);
        const [x, y] = [summarize(back), summarize(ha)];
        expect([x.p50, x.p90, x.p99, x.p999]).toEqual([y.p50, y.p90, y.p99, y.p999]);
        // The decoded max is its bucket's highest equivalent value: equal within 0.1%.
        expect(Math.abs(x.max - y.max) / y.max).toBeLessThanOrEqual(0.001);
        const merged = mergeHistograms([encodeHistogram(ha), encodeHistogram(hb)]);
        expect(merged.totalCount).toBe(a.length + b.length);
        const max = Math.max(ha.maxValue, hb.totalCount === 0 ? 0 : hb.maxValue);
        expect(Math.abs(merged.maxValue - max) / max).toBeLessThanOrEqual(0.001);
      }),
      { seed: 42, numRuns: 50 },
    );
  });
});

describe("OpenLoopSchedule", () => {
  it("spaces operations 1/rate apart and deals them round-robin over connections", () => {
    const s = new OpenLoopSchedule(1000, 500, 4); // one every 2 ms
    expect([0, 1, 2, 3, 4].map((n) => s.intendedTime(n))).toEqual([1000, 1002, 1004, 1006, 1008]);
    // Connection 1 sends operations 1, 5, 9: every 8 ms from 1002.
    expect([0, 1, 2].map((k) => s.intendedTimeOf(1, k))).toEqual([1002, 1010, 1018]);
  });

  it("counts due operations: none before the start, operation n due at its intended time", () => {
    const s = new OpenLoopSchedule(100, 1000, 3);
    expect(s.dueCount(99.9)).toBe(0);
    expect(s.dueCount(100)).toBe(1);
    expect(s.dueCount(100.999)).toBe(1);
    expect(s.dueCount(101)).toBe(2);
    expect(s.dueCount(1100)).toBe(1001);
  });

  it("every operation counted due is due, and the next one is not (property)", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 1e6, noNaN: true }), fc.integer({ min: 1, max: 1000 }), fc.double({ min: 0, max: 1e5, noNaN: true }), (rate, conns, dt) => {
        const s = new OpenLoopSchedule(10, rate, conns);
        const due = s.dueCount(10 + dt);
        expect(s.intendedTime(due - 1)).toBeLessThanOrEqual(10 + dt + 1e-6);
        expect(s.intendedTime(due)).toBeGreaterThan(10 + dt - 1e-6);
      }),
      { seed: 7, numRuns: 200 },
    );
  });

  it("rejects a bad rate or connection count by name", () => {
    expect(() => new OpenLoopSchedule(0, 0, 1)).toThrow(InvalidOptionError);
    expect(() => new OpenLoopSchedule(0, Infinity, 1)).toThrow(/rate/);
    expect(() => new OpenLoopSchedule(0, 10, 0)).toThrow(/connections/);
  });
});

describe("LoadRecorder", () => {
  it("counts only inside the window, and finalCheck's resume keeps the window's counts", () => {
    const r = new LoadRecorder();
    r.success(5);
    r.error();
    r.begin();
    r.success(10, 4);
    r.success(20, 8);
    r.timeout();
    r.mismatch();
    r.end();
    r.success(1000);
    r.error();
    r.resume();
    r.error();
    r.end();
    const c = r.counts();
    expect([c.operations, c.errors, c.timeouts, c.mismatches]).toEqual([2, 1, 1, 1]);
    expect(summarize(decodeHistogram(c.histogram)).max).toBe(20);
    expect(summarize(decodeHistogram(c.uncorrectedHistogram!)).max).toBe(8);
  });

  it("leaves the uncorrected histogram out of closed-loop counts", () => {
    const r = new LoadRecorder();
    r.begin();
    r.success(3);
    expect(r.counts().uncorrectedHistogram).toBeUndefined();
  });
});

describe("splitting load", () => {
  it("splits evenly, larger shares first", () => {
    expect(splitEvenly(10, 3)).toEqual([4, 3, 3]);
    expect(splitEvenly(1, 2)).toEqual([1, 0]);
  });

  it("numbers connections over all workers without gaps or overlaps", () => {
    const total = 11;
    const shares = splitEvenly(total, 3);
    const seen: number[] = [];
    shares.forEach((share, w) => {
      const ctx = { totalConnections: total, workerCount: 3, workerIndex: w } as WorkloadContext;
      for (let i = 0; i < share; i++) seen.push(globalConnectionIndex(ctx, i));
    });
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it("spreads big runs over loopback source addresses, round-robin", () => {
    expect(sourceAddressesFor(20_000, "127.0.0.1")).toEqual([]);
    expect(sourceAddressesFor(60_000, "127.0.0.1")).toEqual(["127.0.0.2", "127.0.0.3", "127.0.0.4"]);
    expect(sourceAddressesFor(20_000, "127.0.0.1", 5000)).toEqual(["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]);
    expect(sourceAddressesFor(60_000, "192.168.1.1")).toEqual([]);
    const addresses = sourceAddressesFor(20_000, "127.0.0.1", 5000);
    expect(targetFor("127.0.0.1", 80, addresses, 5)).toEqual({ host: "127.0.0.1", port: 80, localAddress: "127.0.0.3" });
    expect(targetFor("127.0.0.1", 80, [], 5)).toEqual({ host: "127.0.0.1", port: 80 });
  });
});

describe("findContentLength", () => {
  const head = (text: string): [Buffer, number] => {
    const b = Buffer.from(text, "latin1");
    return [b, b.length];
  };

  it("finds the field whatever its case and spacing", () => {
    expect(findContentLength(...head("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n"))).toBe(12);
    expect(findContentLength(...head("HTTP/1.1 200 OK\r\ncontent-length:0\r\n\r\n"))).toBe(0);
    expect(findContentLength(...head("HTTP/1.1 200 OK\r\nCONTENT-LENGTH:   345\r\n\r\n"))).toBe(345);
  });

  it("returns -1 when absent or not a number", () => {
    expect(findContentLength(...head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))).toBe(-1);
    expect(findContentLength(...head("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"))).toBe(-1);
    expect(findContentLength(...head("HTTP/1.1 200 OK\r\nX-Content-Length: 5\r\n\r\n"))).toBe(-1);
  });
});

describe("process sampling (pidusage)", () => {
  it("reads this process's CPU time and RSS, as /proc says them", async () => {
    const before = await sampleProcess(process.pid);
    // Burn some CPU so the counter moves by more than a clock tick.
    const until = performance.now() + 60;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    const after = await sampleProcess(process.pid);
    expect(x).toBeGreaterThan(0);
    expect(before).not.toBeNull();
    expect(after!.cpuUs).toBeGreaterThan(before!.cpuUs);
    const vmRss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    expect(Math.abs(after!.rssBytes - Number(vmRss) * 1024)).toBeLessThan(16 * 1024 * 1024);
    forgetProcesses();
  });

  it("gives null, not zeros, for a process it cannot read", async () => {
    expect(await sampleProcess(2 ** 22 + 12345)).toBeNull();
  });
});
