/**
 * fast-check arbitraries for the fakes: how a byte stream is cut into reads, which faults strike
 * a simulated network and when, and how the network is configured. Every choice is drawn by
 * fast-check, so a failing case shrinks: to fewer and earlier splits, fewer faults, seed 0,
 * fixed latency and insertion-ordered ties.
 *
 * Each value is plain data (or a {@link ScriptedChunking}, which is plain data with a cursor),
 * so a failing case can be printed, written to a replay file and read back (`fakes/replay.ts`).
 *
 * @module
 */

import fc from "fast-check";
import { InvalidOptionError } from "../runtime/errors.js";
import type { ByteQueue, ChunkingPolicy } from "./chunking.js";
import type { FaultPlan, PlannedFault } from "./sim-faults.js";
import type { LatencyModel } from "./sim-latency.js";
import type { SimNetworkOptions } from "./simulation.js";

/** What a {@link ScriptedChunking} does once its script is used up. */
export type ChunkingTail = "coalesce" | "whole";

/** The plain data of a {@link ScriptedChunking}, as a replay file stores it. */
export interface ScriptedChunkingData {
  /** The sizes of the first reads, in order. */
  readonly sizes: readonly number[];
  /** What the reads after them deliver. */
  readonly then: ChunkingTail;
}

/**
 * A chunking policy that follows a script: read `i` delivers `sizes[i]` bytes (or what is in
 * flight, if less); once the script is used up, each read delivers everything in flight
 * (`"coalesce"`: no more splits) or the rest of the first write (`"whole"`).
 *
 * Every read of a connection (both directions, and every connection of a simulated network)
 * takes the next size, in the order the reads happen, so the script keeps a cursor. It never
 * leaks from one run into another: `connectPair`, `MemoryReactor`'s pairs and `SimNetwork` cut
 * with a copy at its start ({@link ScriptedChunking.fresh}) and leave the drawn value alone, so
 * every run and every shrink step that fast-check hands the same instance to cuts the same
 * way, in `simProperty` as in a hand-written `fc.assert`. (Code that calls `nextReadSize` on a
 * drawn value itself should call `fresh()` first.)
 *
 * It deliberately has no `fc.cloneMethod`: fast-check 4.10 clones a tuple (hence a record) that
 * holds a cloneable value by copying only up to its last cloneable element, so the inputs after
 * it come back `undefined` in some shrink steps (`tupleMakeItCloneable` walks a holey array),
 * which fails a correct property.
 */
export class ScriptedChunking implements ChunkingPolicy {
  /** The sizes of the first reads. */
  readonly sizes: readonly number[];
  /** What the reads after the script deliver. */
  readonly then: ChunkingTail;
  private cursor = 0;

  /**
   * @param sizes - read sizes, each a positive integer.
   * @param then - what follows the script.
   * @defaultValue then "coalesce"
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a size that is not a positive
   *   integer.
   */
  constructor(sizes: readonly number[], then: ChunkingTail = "coalesce") {
    for (const s of sizes) if (!Number.isInteger(s) || s < 1) throw new InvalidOptionError("sizes", `must be positive integers, got ${s}`);
    this.sizes = sizes.slice();
    this.then = then;
  }

  /** A name for traces and reports, such as `scripted[1,3] then coalesce`. */
  get name(): string {
    return `scripted[${this.sizes.join(",")}] then ${this.then}`;
  }

  /** How many reads of the script were taken so far. */
  get used(): number {
    return this.cursor;
  }

  nextReadSize(queue: ByteQueue): number {
    const size = this.sizes[this.cursor];
    if (size !== undefined) {
      this.cursor++;
      return Math.min(size, queue.length);
    }
    return this.then === "coalesce" ? queue.length : queue.segmentLength(0);
  }

  /** @returns the same script with its cursor at the start, for another run. */
  fresh(): ScriptedChunking {
    return new ScriptedChunking(this.sizes, this.then);
  }

  /** @returns the plain data. */
  toJSON(): ScriptedChunkingData {
    return { sizes: this.sizes.slice(), then: this.then };
  }

  /** @returns the policy described by `data`, its cursor at the start. */
  static fromJSON(data: ScriptedChunkingData): ScriptedChunking {
    return new ScriptedChunking(data.sizes, data.then);
  }

  /** How fast-check prints it in a counterexample. */
  [fc.toStringMethod](): string {
    return this.name;
  }

  toString(): string {
    return this.name;
  }
}

/** Options for {@link chunkingArb}. */
export interface ChunkingArbOptions {
  /**
   * Most scripted reads (each is one split of the stream).
   * @defaultValue {@link DEFAULT_MAX_SPLITS}
   */
  maxSplits?: number;
  /**
   * The largest scripted read, in bytes.
   * @defaultValue {@link DEFAULT_MAX_READ_SIZE_ARB}
   */
  maxReadSize?: number;
  /**
   * What reads do after the script; fast-check picks when omitted (shrinking to "coalesce").
   * @defaultValue drawn
   */
  then?: ChunkingTail;
}

/** The default bound on scripted reads of {@link chunkingArb}. */
export const DEFAULT_MAX_SPLITS = 16;
/** The default largest scripted read of {@link chunkingArb}, in bytes. */
export const DEFAULT_MAX_READ_SIZE_ARB = 32;

/**
 * Chunkings drawn split by split: a list of read sizes, then everything coalesced. Shrinking
 * removes reads (fewer splits) and makes them smaller (splits nearer the start), so a bug that
 * needs a delimiter split in two shrinks to the one split that shows it.
 *
 * @param options - see {@link ChunkingArbOptions}.
 * @returns an arbitrary of fresh {@link ScriptedChunking}s.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bound that is not a positive
 *   integer (`maxSplits` may be 0).
 *
 * @example
 * ```ts
 * fc.assert(fc.property(chunkingArb(), (chunking) => {
 *   const pump = connectPair(server, client, { chunking });
 *   ...
 * }));
 * ```
 */
export function chunkingArb(options: ChunkingArbOptions = {}): fc.Arbitrary<ScriptedChunking> {
  const maxSplits = options.maxSplits ?? DEFAULT_MAX_SPLITS;
  const maxReadSize = options.maxReadSize ?? DEFAULT_MAX_READ_SIZE_ARB;
  if (!Number.isInteger(maxSplits) || maxSplits < 0) throw new InvalidOptionError("maxSplits", `must be an integer >= 0, got ${maxSplits}`);
  if (!Number.isInteger(maxReadSize) || maxReadSize < 1) throw new InvalidOptionError("maxReadSize", `must be a positive integer, got ${maxReadSize}`);
  const tail: fc.Arbitrary<ChunkingTail> = options.then === undefined ? fc.constantFrom<ChunkingTail>("coalesce", "whole") : fc.constant(options.then);
  return fc
    .tuple(fc.array(fc.integer({ min: 1, max: maxReadSize }), { maxLength: maxSplits }), tail)
    .map(([sizes, then]) => new ScriptedChunking(sizes, then));
}

/** The kinds of fault {@link faultPlanArb} draws. */
export type FaultKind = "reset" | "halfClose" | "partition" | "hold" | "crash";

/** Every kind of fault, the default of {@link FaultPlanArbOptions.kinds}. */
export const ALL_FAULT_KINDS: readonly FaultKind[] = ["reset", "halfClose", "partition", "hold", "crash"];

/** Options for {@link faultPlanArb}. */
export interface FaultPlanArbOptions {
  /** The addresses of the hosts faults may name; at least one. */
  hosts: readonly string[];
  /**
   * The kinds to draw from. `partition` comes with its `heal`, `hold` with its `release`, and
   * `crash` with a restart (or none); `partition` and `hold` need two hosts.
   * @defaultValue {@link ALL_FAULT_KINDS}
   */
  kinds?: readonly FaultKind[];
  /**
   * Most faults (a pair such as partition and heal counts once).
   * @defaultValue {@link DEFAULT_MAX_FAULTS}
   */
  maxFaults?: number;
  /**
   * The latest virtual time a fault strikes, in milliseconds.
   * @defaultValue {@link DEFAULT_FAULT_WINDOW}
   */
  maxTime?: number;
  /**
   * The longest partition, hold or crash, in milliseconds; each lasts at least 1 ms, so what
   * ends it comes strictly after what started it.
   * @defaultValue {@link DEFAULT_MAX_FAULT_DURATION}
   */
  maxDuration?: number;
  /**
   * The earliest virtual time a fault strikes (a network refuses faults in its past).
   * @defaultValue 0
   */
  minTime?: number;
  /**
   * Swarm testing (Groce et al., ISSTA 2012): each plan first draws which of `kinds` it may
   * use (a non-empty subset, shrinking toward the first kind alone), then draws its faults
   * from those only. Plans with few kinds pile more faults of each kind, so combinations that a
   * plan mixing every kind rarely gets (three resets in one exchange, a reset with no crash to
   * mask it) come up more often. Whether it finds a given bug sooner is measured, not assumed:
   * see `scenarios/swarm-bench.ts`.
   * @defaultValue false: every plan draws from every kind
   */
  swarm?: boolean;
}

/** The default bound on faults per plan. */
export const DEFAULT_MAX_FAULTS = 4;
/** The default window in which faults strike: the first second of virtual time. */
export const DEFAULT_FAULT_WINDOW = 1000;
/** The default longest partition, hold or crash. */
export const DEFAULT_MAX_FAULT_DURATION = 500;

/**
 * Fault plans for `SimNetwork.plan()`: lists of `{ at, fault }`, sorted by time. Each fault is
 * fully determined by the draw (a `reset` or `halfClose` names its connection with `pick`, never
 * leaving the choice to the network's seed), so shrinking one fault never moves another.
 * Shrinking removes faults first, then turns them into earlier kinds of `kinds` (a reset is the
 * simplest), brings them earlier, shortens them, and picks lower hosts and connections.
 *
 * A plan means what it says whatever order a network runs faults due at the same time in
 * (shuffled ties included): a hold ends strictly after it starts, and holds of one link that
 * overlap or touch are drawn as one longer hold; the same for the partitions of a pair of hosts
 * and the crashes of a host. So no release can run before its hold, and no link stays held for
 * good.
 *
 * @param options - see {@link FaultPlanArbOptions}.
 * @returns an arbitrary of fault plans.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for no hosts, no usable kind, or a bad
 *   bound.
 */
export function faultPlanArb(options: FaultPlanArbOptions): fc.Arbitrary<FaultPlan> {
  const hosts = options.hosts;
  if (hosts.length === 0) throw new InvalidOptionError("hosts", "must name at least one host");
  const kinds = (options.kinds ?? ALL_FAULT_KINDS).filter((k) => hosts.length > 1 || (k !== "partition" && k !== "hold"));
  if (kinds.length === 0) throw new InvalidOptionError("kinds", "no kind of fault can be drawn for these hosts");
  const maxFaults = options.maxFaults ?? DEFAULT_MAX_FAULTS;
  const minTime = options.minTime ?? 0;
  const maxTime = options.maxTime ?? DEFAULT_FAULT_WINDOW;
  const maxDuration = options.maxDuration ?? DEFAULT_MAX_FAULT_DURATION;
  if (!Number.isInteger(maxFaults) || maxFaults < 0) throw new InvalidOptionError("maxFaults", `must be an integer >= 0, got ${maxFaults}`);
  if (!Number.isInteger(minTime) || minTime < 0) throw new InvalidOptionError("minTime", `must be an integer >= 0, got ${minTime}`);
  if (!Number.isInteger(maxTime) || maxTime < minTime) throw new InvalidOptionError("maxTime", `must be an integer >= minTime, got ${maxTime}`);
  if (!Number.isInteger(maxDuration) || maxDuration < 1) throw new InvalidOptionError("maxDuration", `must be an integer >= 1, got ${maxDuration}`);

  const at = fc.integer({ min: minTime, max: maxTime });
  const duration = fc.integer({ min: 1, max: maxDuration });
  const host = fc.constantFrom(...hosts);
  const pick = fc.nat({ max: 7 });
  // Two distinct hosts (only drawn when there are two).
  const pair = (): fc.Arbitrary<readonly [string, string]> =>
    fc.tuple(fc.nat({ max: hosts.length - 1 }), fc.nat({ max: hosts.length - 2 })).map(([i, j]) => [hosts[i]!, hosts[j >= i ? j + 1 : j]!] as const);

  const episode = (kind: FaultKind): fc.Arbitrary<Episode> => {
    switch (kind) {
      case "reset":
        return fc.tuple(at, host, pick).map(([t, h, p]): Episode => ({ at: t, fault: { kind: "reset", host: h, pick: p } }));
      case "halfClose":
        return fc
          .tuple(at, host, pick, fc.constantFrom<"client" | "server">("client", "server"))
          .map(([t, h, p, side]): Episode => ({ at: t, fault: { kind: "halfClose", host: h, pick: p, side } }));
      case "partition":
      case "hold":
        return fc.tuple(at, duration, pair()).map(([t, d, [a, b]]): Episode => ({ span: kind, a, b, start: t, end: t + d }));
      case "crash":
        return fc
          .tuple(at, host, fc.option(duration, { nil: undefined }))
          .map(([t, h, d]): Episode => ({ span: "crash", a: h, b: "", start: t, end: d === undefined ? Infinity : t + d }));
    }
  };
  const plans = (from: readonly FaultKind[]): fc.Arbitrary<PlannedFault[]> =>
    fc.array(fc.oneof({ withCrossShrink: true }, ...from.map(episode)), { maxLength: maxFaults }).map((episodes) => planOf(episodes));
  if (options.swarm !== true || kinds.length === 1) return plans(kinds);
  return fc.subarray(kinds, { minLength: 1 }).chain(plans);
}

/** A span of time during which a link is held or partitioned (between `a` and `b`), or host `a` is down. */
interface Span {
  readonly span: "hold" | "partition" | "crash";
  readonly a: string;
  readonly b: string;
  readonly start: number;
  /** Infinity for a crash with no restart. */
  end: number;
}

/** A drawn fault: one that strikes at a time, or a span. */
type Episode = PlannedFault | Span;

/**
 * Turns drawn episodes into a plan sorted by time. The spans of one link (or host) that
 * overlap or touch are merged into one, so their starts and ends cannot interleave whatever
 * order a network runs faults due at the same time in.
 */
function planOf(episodes: readonly Episode[]): PlannedFault[] {
  const plan: PlannedFault[] = [];
  const byKey = new Map<string, Span[]>();
  for (const e of episodes) {
    if ("fault" in e) {
      plan.push(e);
      continue;
    }
    const key = `${e.span} ${[e.a, e.b].sort().join(" ")}`;
    const list = byKey.get(key) ?? [];
    list.push({ ...e });
    byKey.set(key, list);
  }
  for (const list of byKey.values()) {
    list.sort((x, y) => x.start - y.start || x.end - y.end);
    const merged: Span[] = [];
    for (const span of list) {
      const last = merged[merged.length - 1];
      if (last !== undefined && span.start <= last.end) last.end = Math.max(last.end, span.end);
      else merged.push(span);
    }
    for (const { span, a, b, start, end } of merged) {
      switch (span) {
        case "crash":
          plan.push({ at: start, fault: end === Infinity ? { kind: "crash", host: a } : { kind: "crash", host: a, restartAfter: end - start } });
          break;
        case "hold":
          plan.push({ at: start, fault: { kind: "hold", a, b } }, { at: end, fault: { kind: "release", a, b } });
          break;
        case "partition":
          plan.push({ at: start, fault: { kind: "partition", a: [a], b: [b] } }, { at: end, fault: { kind: "heal", a: [a], b: [b] } });
          break;
      }
    }
  }
  return plan.sort((x, y) => x.at - y.at);
}

/** A simulated network's configuration, as drawn by {@link simConfigArb}. */
export interface SimConfig {
  /** The network's seed. */
  readonly seed: number;
  /** The one-way latency of every link. */
  readonly latency: LatencyModel;
  /** Whether events due at the same time run in a seeded order. */
  readonly shuffleTies: boolean;
}

/** Options for {@link simConfigArb}. */
export interface SimConfigArbOptions {
  /**
   * The largest latency drawn, in milliseconds.
   * @defaultValue {@link DEFAULT_MAX_LATENCY_ARB}
   */
  maxLatency?: number;
  /**
   * Allow uniform (jittered) latency besides fixed latency.
   * @defaultValue true
   */
  jitter?: boolean;
  /**
   * Allow shuffled ties.
   * @defaultValue true
   */
  shuffleTies?: boolean;
}

/** The default largest latency {@link simConfigArb} draws, in milliseconds. */
export const DEFAULT_MAX_LATENCY_ARB = 20;

/**
 * Simulation configurations: a seed (shrinking to 0), a latency model (shrinking to a fixed
 * delay, then to 0 ms) and tie shuffling (shrinking to off).
 *
 * @param options - see {@link SimConfigArbOptions}.
 * @returns an arbitrary of {@link SimConfig}.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a `maxLatency` that is not an
 *   integer >= 0.
 */
export function simConfigArb(options: SimConfigArbOptions = {}): fc.Arbitrary<SimConfig> {
  const maxLatency = options.maxLatency ?? DEFAULT_MAX_LATENCY_ARB;
  if (!Number.isInteger(maxLatency) || maxLatency < 0) throw new InvalidOptionError("maxLatency", `must be an integer >= 0, got ${maxLatency}`);
  const ms = fc.integer({ min: 0, max: maxLatency });
  const fixed: fc.Arbitrary<LatencyModel> = ms.map((v) => ({ kind: "fixed", ms: v }));
  const uniform: fc.Arbitrary<LatencyModel> = fc.tuple(ms, ms).map(([a, b]) => ({ kind: "uniform", min: Math.min(a, b), max: Math.max(a, b) }));
  return fc.record({
    seed: fc.nat({ max: 0x7fffffff }),
    latency: options.jitter === false ? fixed : fc.oneof({ withCrossShrink: true }, fixed, uniform),
    shuffleTies: options.shuffleTies === false ? fc.constant(false) : fc.boolean(),
  });
}

/**
 * Turns a drawn configuration (and, optionally, a drawn chunking) into `SimNetwork` options.
 *
 * @param config - from {@link simConfigArb}.
 * @param extra - further options, such as `chunking` or `highWaterMark`; they win.
 * @returns the options.
 */
export function simNetworkOptions(config: SimConfig, extra: SimNetworkOptions = {}): SimNetworkOptions {
  return { seed: config.seed, latency: config.latency, shuffleTies: config.shuffleTies, ...extra };
}
