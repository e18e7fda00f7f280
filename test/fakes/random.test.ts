import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../fakes/random.js";
import { InvalidOptionError } from "../../runtime/errors.js";

describe("SeededRandom", () => {
  it("is reproducible from its seed and differs between seeds", () => {
    const a = new SeededRandom(123);
    const b = new SeededRandom(123);
    const c = new SeededRandom(124);
    const sa = Array.from({ length: 50 }, () => a.nextUint32());
    const sb = Array.from({ length: 50 }, () => b.nextUint32());
    const sc = Array.from({ length: 50 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    expect(a.seed).toBe(123);
  });

  it("next() is in [0, 1) and roughly uniform; int() stays in its bounds and reaches both ends", () => {
    const r = new SeededRandom(0);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const x = r.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      buckets[Math.floor(x * 10)]!++;
    }
    for (const n of buckets) expect(n).toBeGreaterThan(850);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(r.int(-2, 2));
    expect([...seen].sort((x, y) => x - y)).toEqual([-2, -1, 0, 1, 2]);
    expect(() => r.int(3, 2)).toThrow(RangeError);
    expect(() => r.pick([])).toThrow(RangeError);
    expect(["a", "b"]).toContain(r.pick(["a", "b"]));
  });

  it("fork() gives a reproducible independent stream; bad seeds are rejected", () => {
    const f1 = new SeededRandom(5).fork();
    const f2 = new SeededRandom(5).fork();
    expect(f1.next()).toBe(f2.next());
    expect(() => new SeededRandom(1.5)).toThrow(InvalidOptionError);
  });

  it("chance() follows its probability", () => {
    const r = new SeededRandom(77);
    let hits = 0;
    for (let i = 0; i < 10_000; i++) if (r.chance(0.25)) hits++;
    expect(hits).toBeGreaterThan(2300);
    expect(hits).toBeLessThan(2700);
    expect(r.chance(0)).toBe(false);
  });
});
