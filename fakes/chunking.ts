/**
 * Bytes in flight and how they are cut into reads.
 *
 * A `ByteQueue` holds what one side wrote and the other has not read yet, write by write; a
 * `ChunkingPolicy` decides how many of those bytes the next `dataReceived` gets. TCP is a
 * stream, so a protocol must cope with any policy: whole writes, one byte at a time, or seeded
 * random splits and merges.
 *
 * @module
 */

import { InvalidOptionError } from "../runtime/errors.js";
import { SeededRandom } from "./random.js";
import type { RandomSource } from "./random.js";

const encoder = new TextEncoder();

/** Encodes a write argument as bytes (strings as UTF-8). */
export function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/**
 * A FIFO of byte segments, one per write. Segments keep their write boundaries so a policy can
 * deliver whole writes, split them, or merge several into one read.
 */
export class ByteQueue {
  private segments: Uint8Array[] = [];
  private head = 0;
  private total = 0;

  /** Total bytes queued. */
  get length(): number {
    return this.total;
  }

  /** How many segments (writes, or what is left of the first one) are queued. */
  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * @param index - 0 for the oldest segment.
   * @returns the length of that segment, or 0 past the end.
   */
  segmentLength(index: number): number {
    const seg = this.segments[index];
    if (seg === undefined) return 0;
    return index === 0 ? seg.length - this.head : seg.length;
  }

  /**
   * Appends one write. Empty writes are dropped: they carry nothing to deliver. The bytes are
   * copied, because the writer may reuse its buffer after `write` returns.
   */
  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.segments.push(data.slice());
    this.total += data.length;
  }

  /**
   * Removes and returns the first `n` bytes, across segment boundaries.
   *
   * @throws RangeError when `n` is not in [1, length].
   */
  take(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 1 || n > this.total) {
      throw new RangeError(`take(${n}) from a queue of ${this.total} bytes`);
    }
    const first = this.segments[0]!;
    if (first.length - this.head >= n) {
      // A read within one write is handed out as a view, not a copy: segments are private
      // copies (see push) that nothing writes to, so the view stays valid for good.
      const view = this.head === 0 && n === first.length ? first : first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.segments.shift();
        this.head = 0;
      }
      this.total -= n;
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const seg = this.segments[0]!;
      const count = Math.min(n - filled, seg.length - this.head);
      out.set(seg.subarray(this.head, this.head + count), filled);
      filled += count;
      this.head += count;
      if (this.head === seg.length) {
        this.segments.shift();
        this.head = 0;
      }
    }
    this.total -= n;
    return out;
  }

  /**
   * Calls `fn` for the first `n` bytes, in order, with each segment they lie in and the range
   * of it that holds them (no copy, no view: what a tracer hashes before a read takes them).
   *
   * @throws RangeError when `n` is not in [0, length].
   */
  forEachRange(n: number, fn: (segment: Uint8Array, start: number, end: number) => void): void {
    if (!Number.isInteger(n) || n < 0 || n > this.total) throw new RangeError(`forEachRange(${n}) over a queue of ${this.total} bytes`);
    let left = n;
    for (let i = 0; left > 0; i++) {
      const seg = this.segments[i]!;
      const from = i === 0 ? this.head : 0;
      const count = Math.min(left, seg.length - from);
      fn(seg, from, from + count);
      left -= count;
    }
  }

  /** Drops everything queued (an aborted connection discards its unsent bytes). */
  clear(): void {
    this.segments = [];
    this.head = 0;
    this.total = 0;
  }
}

/** Decides how many queued bytes the next read delivers. */
export interface ChunkingPolicy {
  /** A name for traces and test titles. */
  readonly name: string;
  /**
   * @param queue - the bytes in flight; never empty when called.
   * @returns how many bytes the next read delivers, from 1 to `queue.length`.
   */
  nextReadSize(queue: ByteQueue): number;
  /**
   * For a policy with state of its own (a script's cursor, a generator it seeded itself): the
   * same policy at its start. The fakes that take a policy (`connectPair`, `SimNetwork`) call
   * it and cut with the copy, so the same policy object gives the same reads every time it is
   * handed over. A policy without it is used as it is.
   */
  fresh?(): ChunkingPolicy;
}

/** @returns a policy that delivers each write as one read, as an idle loopback socket does. */
export function wholeWrites(): ChunkingPolicy {
  return { name: "whole-writes", nextReadSize: (queue) => queue.segmentLength(0) };
}

/** @returns a policy that delivers one byte per read: the harshest split there is. */
export function byteByByte(): ChunkingPolicy {
  return { name: "byte-by-byte", nextReadSize: () => 1 };
}

/** @returns a policy that delivers everything in flight as one read: every write merged. */
export function coalesceAll(): ChunkingPolicy {
  return { name: "coalesce-all", nextReadSize: (queue) => queue.length };
}

/**
 * @param size - bytes per read (the last read of a burst may be shorter).
 * @returns a policy that cuts the stream into reads of `size` bytes, ignoring write boundaries.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `size` is not a positive integer.
 */
export function fixedChunks(size: number): ChunkingPolicy {
  if (!Number.isInteger(size) || size < 1) throw new InvalidOptionError("size", `must be a positive integer, got ${size}`);
  return { name: `fixed-${size}`, nextReadSize: (queue) => Math.min(size, queue.length) };
}

/** Options for {@link randomChunks}. */
export interface RandomChunksOptions {
  /**
   * Chance that a read merges several writes rather than splitting the first one.
   * @defaultValue 0.3
   */
  mergeProbability?: number;
  /**
   * Most writes one merged read spans.
   * @defaultValue 8
   */
  maxMerge?: number;
}

/** The default chance that a random read merges writes. */
export const DEFAULT_MERGE_PROBABILITY = 0.3;
/** The default bound on how many writes one random read spans. */
export const DEFAULT_MAX_MERGE = 8;

/**
 * Seeded random splits and merges: each read either cuts the first write at a random point, or
 * coalesces the first few writes (ending at a random point in the last of them). The same seed
 * and the same writes give the same reads.
 *
 * @param seed - a seed, or a generator to draw from (to share one stream of choices).
 * @param options - see {@link RandomChunksOptions}.
 * @returns the policy.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for an option out of bounds.
 */
export function randomChunks(seed: number | RandomSource, options: RandomChunksOptions = {}): ChunkingPolicy {
  const rng = typeof seed === "number" ? new SeededRandom(seed) : seed;
  const mergeProbability = options.mergeProbability ?? DEFAULT_MERGE_PROBABILITY;
  const maxMerge = options.maxMerge ?? DEFAULT_MAX_MERGE;
  if (!(mergeProbability >= 0 && mergeProbability <= 1)) {
    throw new InvalidOptionError("mergeProbability", `must be in [0, 1], got ${mergeProbability}`);
  }
  if (!Number.isInteger(maxMerge) || maxMerge < 2) throw new InvalidOptionError("maxMerge", `must be an integer >= 2, got ${maxMerge}`);
  const upTo = (n: number): number => 1 + Math.floor(rng.next() * n);
  const policy: ChunkingPolicy = {
    name: typeof seed === "number" ? `random-${seed}` : "random",
    nextReadSize(queue) {
      const count = queue.segmentCount;
      if (count > 1 && rng.next() < mergeProbability) {
        const spans = 1 + upTo(Math.min(count, maxMerge) - 1);
        let size = 0;
        for (let i = 0; i < spans - 1; i++) size += queue.segmentLength(i);
        return size + upTo(queue.segmentLength(spans - 1));
      }
      return upTo(queue.segmentLength(0));
    },
  };
  // Seeded from a number, the policy owns its generator and can start over; drawing from a
  // shared generator, it is part of that generator's one stream of choices.
  if (typeof seed === "number") policy.fresh = () => randomChunks(seed, options);
  return policy;
}
