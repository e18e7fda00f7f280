import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteQueue, byteByByte, coalesceAll, fixedChunks, randomChunks, wholeWrites } from "../../fakes/chunking.js";
import type { ChunkingPolicy } from "../../fakes/chunking.js";
import { SeededRandom } from "../../fakes/random.js";
import { InvalidOptionError } from "../../runtime/errors.js";

/** Pushes `writes`, then drains the queue with `policy`, returning the read sizes. */
function cut(policy: ChunkingPolicy, writes: readonly Uint8Array[]): { reads: Uint8Array[]; sizes: number[] } {
  const q = new ByteQueue();
  for (const w of writes) q.push(w);
  const reads: Uint8Array[] = [];
  while (q.length > 0) {
    const n = policy.nextReadSize(q);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(q.length);
    reads.push(q.take(n));
  }
  return { reads, sizes: reads.map((r) => r.length) };
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

describe("ByteQueue", () => {
  it("takes across segment boundaries and tracks segments", () => {
    const q = new ByteQueue();
    q.push(new Uint8Array([1, 2, 3]));
    q.push(new Uint8Array(0));
    q.push(new Uint8Array([4, 5]));
    expect(q.length).toBe(5);
    expect(q.segmentCount).toBe(2);
    expect(Array.from(q.take(2))).toEqual([1, 2]);
    expect(q.segmentLength(0)).toBe(1);
    expect(q.segmentLength(1)).toBe(2);
    expect(q.segmentLength(2)).toBe(0);
    expect(Array.from(q.take(3))).toEqual([3, 4, 5]);
    expect(q.length).toBe(0);
    expect(() => q.take(1)).toThrow(RangeError);
    q.push(new Uint8Array([7]));
    q.clear();
    expect(q.length).toBe(0);
    expect(q.segmentCount).toBe(0);
  });
});

describe("chunking policies", () => {
  const w = (s: string): Uint8Array => new TextEncoder().encode(s);

  it("whole writes, byte by byte, coalesce all, fixed chunks cut as named", () => {
    const writes = [w("abc"), w("de"), w("f")];
    expect(cut(wholeWrites(), writes).sizes).toEqual([3, 2, 1]);
    expect(cut(byteByByte(), writes).sizes).toEqual([1, 1, 1, 1, 1, 1]);
    expect(cut(coalesceAll(), writes).sizes).toEqual([6]);
    expect(cut(fixedChunks(4), writes).sizes).toEqual([4, 2]);
    expect(() => fixedChunks(0)).toThrow(InvalidOptionError);
    expect(() => randomChunks(1, { mergeProbability: 2 })).toThrow(InvalidOptionError);
    expect(() => randomChunks(1, { maxMerge: 1 })).toThrow(InvalidOptionError);
  });

  it("property: every policy, any writes, any seed: the reads concatenate to the writes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 30 }),
        fc.integer(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (writes, seed, mergeProbability) => {
          const expected = concat(writes);
          for (const policy of [wholeWrites(), byteByByte(), coalesceAll(), fixedChunks(7), randomChunks(seed, { mergeProbability })]) {
            expect(concat(cut(policy, writes).reads)).toEqual(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("property: the same seed gives the same chunk boundaries; the name carries the seed", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 30 }), fc.integer(), (writes, seed) => {
        const a = randomChunks(seed);
        expect(cut(a, writes).sizes).toEqual(cut(randomChunks(seed), writes).sizes);
        expect(a.name).toBe(`random-${seed}`);
      }),
      { numRuns: 200 },
    );
  });

  it("different seeds give different boundaries (on a long enough stream)", () => {
    const writes = Array.from({ length: 100 }, () => new Uint8Array(50));
    expect(cut(randomChunks(1), writes).sizes).not.toEqual(cut(randomChunks(2), writes).sizes);
  });

  it("can draw from a shared generator", () => {
    const writes = Array.from({ length: 20 }, () => new Uint8Array(10));
    const a = cut(randomChunks(new SeededRandom(9)), writes).sizes;
    const b = cut(randomChunks(new SeededRandom(9)), writes).sizes;
    expect(a).toEqual(b);
  });
});
