import { describe, expect, it } from "vitest";
import { benchRun, expectCleanPoint, LOCK_WAIT_S } from "./line-chat-bench-run.js";

describe("wirelab bench line-chat, end to end", () => {
  it(
    "runs the three styles at 2 and 10 connections: every line fanned out to every client, no errors",
    async () => {
      const { code, stderr, results } = await benchRun(["line-chat", "--styles", "callback,async,baseline", "--connections", "2,10", "--duration", "300ms", "--repeat", "1", "--warmup", "100ms"]);
      expect(stderr).toMatch(/6 points/);
      expect(code).toBe(0);
      expect(results).not.toBeNull();
      const points = results!.points;
      // The runner interleaves styles within a repeat; the set of points is what matters.
      expect(points.map((p) => `${p.scenario}/${p.style}/${p.connections}`).sort()).toEqual(
        ["line-chat/callback/2", "line-chat/callback/10", "line-chat/async/2", "line-chat/async/10", "line-chat/baseline/2", "line-chat/baseline/10"].sort(),
      );
      for (const p of points) {
        expectCleanPoint(p);
        // Every line is received by every client: deliveries ≈ lines × connections (the window's
        // edges cut a few fan-outs in half, hence the slack).
        const deliveries = p.extra?.["deliveries"] ?? 0;
        expect(deliveries).toBeGreaterThan(p.operations * p.connections * 0.8);
        expect(deliveries).toBeLessThan(p.operations * p.connections * 1.2 + p.connections * p.connections);
        // Fan-out to 10 takes longer than to 2, but not absurdly (loopback).
        expect(p.latencyUs.p50).toBeLessThan(50_000);
      }
    },
    (LOCK_WAIT_S + 60) * 1000,
  );

  it(
    "with two load workers and two repeats on the same connections, each worker times its own senders over its own receivers",
    async () => {
      const { code, results } = await benchRun(["line-chat", "--styles", "callback", "--connections", "10", "--workers", "2", "--duration", "300ms", "--repeat", "2", "--warmup", "100ms"]);
      expect(code).toBe(0);
      expect(results!.points.map((p) => p.repeat)).toEqual([0, 1]);
      for (const p of results!.points) {
        expectCleanPoint(p);
        expect(p.clientWorkers).toBe(2);
        // Each line still reaches all 10 clients, over both workers.
        expect(p.extra?.["deliveries"] ?? 0).toBeGreaterThan(p.operations * 10 * 0.8);
        expect(p.extra?.["deliveries"] ?? 0).toBeLessThan(p.operations * 10 * 1.2 + 100);
      }
    },
    (LOCK_WAIT_S + 60) * 1000,
  );
});
