import { describe, expect, it } from "vitest";
import { benchRun, expectCleanPoint, LOCK_WAIT_S } from "./line-chat-bench-run.js";

describe("wirelab bench ws-broadcast, end to end", () => {
  it(
    "runs the three styles at 2 and 10 subscribers, two repeats on the same connections: every message delivered to every subscriber at the publish rate",
    async () => {
      const { code, stderr, results } = await benchRun(["ws-broadcast", "--styles", "callback,async,baseline", "--connections", "2,10", "--duration", "300ms", "--repeat", "2", "--warmup", "100ms"]);
      expect(stderr).toMatch(/12 points/);
      expect(code).toBe(0);
      const points = results!.points;
      // The runner interleaves styles within a repeat; the set of points is what matters.
      expect(points.map((p) => `${p.style}/${p.connections}/${p.repeat}`).sort()).toEqual(
        ["callback/2/0", "callback/2/1", "callback/10/0", "callback/10/1", "async/2/0", "async/2/1", "async/10/0", "async/10/1", "baseline/2/0", "baseline/2/1", "baseline/10/0", "baseline/10/1"].sort(),
      );
      for (const p of points) {
        expectCleanPoint(p);
        const published = p.extra?.["published"] ?? 0;
        // 100 messages/s by default over a 300 ms window.
        expect(published).toBeGreaterThanOrEqual(25);
        expect(published).toBeLessThanOrEqual(35);
        // One operation per message per subscriber (give or take the window's edges).
        expect(Math.abs(p.operations - published * p.connections)).toBeLessThanOrEqual(2 * p.connections);
        expect(p.uncorrectedLatencyUs).toBeDefined();
        expect(p.latencyUs.max).toBeLessThan(100_000);
      }
    },
    (LOCK_WAIT_S + 60) * 1000,
  );

  it(
    "with two load workers, subscribers in the worker without the publisher time it on the shared clock",
    async () => {
      const { code, results } = await benchRun(["ws-broadcast", "--styles", "callback", "--connections", "10", "--workers", "2", "--rate", "200", "--duration", "300ms", "--repeat", "1", "--warmup", "100ms"]);
      expect(code).toBe(0);
      const [p] = results!.points;
      expectCleanPoint(p!);
      expect(p!.clientWorkers).toBe(2);
      expect(p!.extra?.["published"] ?? 0).toBeGreaterThanOrEqual(50);
      expect(Math.abs(p!.operations - (p!.extra?.["published"] ?? 0) * 10)).toBeLessThanOrEqual(20);
      // A wrong clock offset between the processes would show as latencies of seconds (or 0).
      expect(p!.latencyUs.p50).toBeGreaterThan(10);
      expect(p!.latencyUs.max).toBeLessThan(100_000);
    },
    (LOCK_WAIT_S + 60) * 1000,
  );
});
