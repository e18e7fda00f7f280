/**
 * A small seeded pseudo-random generator for the fakes: every choice a fake makes (how a write
 * is cut into reads, which ready event runs next, latency) comes from one of these, so a seed
 * replays a run exactly.
 *
 * @module
 */

import { InvalidOptionError } from "../runtime/errors.js";

/** Anything that yields numbers in [0, 1): a {@link SeededRandom}, or `reactor.random`. */
export interface RandomSource {
  /** A number in [0, 1). */
  next(): number;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), seeded through splitmix32.
 *
 * It is not cryptographic; it is small, fast, passes PractRand at the sizes tests use, and its
 * whole state is four 32-bit words, so a run is reproducible from its seed alone.
 *
 * @example
 * ```ts
 * const rng = new SeededRandom(42);
 * rng.int(1, 6); // the same die roll on every run
 * ```
 */
export class SeededRandom implements RandomSource {
  /** The seed this generator started from. */
  readonly seed: number;
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * @param seed - any integer in the safe range; equal seeds give equal sequences.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `seed` is not a safe integer.
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new InvalidOptionError("seed", `must be a safe integer, got ${seed}`);
    this.seed = seed;
    // splitmix32 spreads a small or patterned seed over all four words.
    let s = (seed ^ Math.floor(seed / 0x1_0000_0000)) >>> 0;
    const mix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    // The first outputs of a freshly seeded sfc32 are correlated with the seed; discard them.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** @returns the next 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** @returns a number in [0, 1), with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /**
   * @param min - the smallest result.
   * @param max - the largest result (inclusive).
   * @returns an integer in [min, max].
   * @throws RangeError when `max < min` or either is not an integer.
   */
  int(min: number, max: number): number {
    if (!Number.isInteger(min) || !Number.isInteger(max) || max < min) {
      throw new RangeError(`int(${min}, ${max}): need integers with min <= max`);
    }
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /**
   * @param probability - the chance of `true`, in [0, 1].
   * @returns true with the given probability.
   */
  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /**
   * @param items - a non-empty list.
   * @returns one of `items`, uniformly.
   * @throws RangeError when `items` is empty.
   */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick() from an empty list");
    return items[this.int(0, items.length - 1)]!;
  }

  /** @returns a new generator seeded from this one, for an independent stream of choices. */
  fork(): SeededRandom {
    return new SeededRandom(this.nextUint32());
  }
}
