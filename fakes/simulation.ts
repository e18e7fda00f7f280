/**
 * `SimNetwork`: a whole seeded simulated network. Each host is a full `Reactor`, so code that
 * runs on `NodeReactor` runs on a host unchanged; all hosts share one virtual clock and one
 * seeded generator, from which every choice comes (the order of events due at the same time
 * when ties are shuffled, how writes are cut into reads, latency jitter, UDP loss, which
 * connection a fault picks), so a seed replays a run exactly, and the trace proves it.
 *
 * Map of the simulation:
 * - `simulation.ts` (here): the network, its run loops, faults, the trace's wording, and
 *   {@link checkDeterminism}.
 * - `sim-host.ts`: a host (`Reactor`), its listening and UDP ports.
 * - `sim-connection.ts`: a TCP connection (two `MemoryTransport`s) and a connect attempt.
 * - `sim-pipe.ts`: one direction of a connection: latency, chunking, FIN and RST delivery.
 * - `sim-link.ts`, `sim-latency.ts`: links between hosts, their latency, partitions, holds.
 * - `sim-scheduler.ts`, `sim-timer.ts`, `sim-packet.ts`: the one event queue and its events.
 * - `sim-trace.ts`: the trace and its incremental hash.
 * - `sim-faults.ts`: faults as data, for hand-written or generated fault plans.
 * - `sim-nondeterminism.ts`: catches real time and randomness used inside a run.
 *
 * @example
 * ```ts
 * const net = new SimNetwork({ seed: 42 });
 * const server = net.host("10.0.0.1", { boot: (r) => r.listen("tcp:7:interface=10.0.0.1", Factory.forProtocol(() => new Echo())) });
 * const client = net.host("10.0.0.2");
 * const done = dial(client, "tcp:10.0.0.1:7:timeout=5").then(async (conn) => { await conn.write("hi"); return conn.readExactly(2); });
 * await net.runUntilIdle();
 * console.log(await done, net.traceHash());
 * ```
 *
 * @module
 */

import type { Address } from "../runtime/protocol.js";
import {
  ConnectionRefusedError,
  ConnectionResetError,
  DNSLookupError,
  InvalidOptionError,
  NondeterminismError,
  ReactorStalledError,
  ReactorStateError,
  UnhandledReactorError,
} from "../runtime/errors.js";
import { randomChunks, toBytes } from "./chunking.js";
import type { ChunkingPolicy } from "./chunking.js";
import { EphemeralPorts, FIRST_EPHEMERAL_PORT } from "./ephemeral-ports.js";
import { SeededRandom } from "./random.js";
import type { RandomSource } from "./random.js";
import { REASON_NAMES, SimConnection } from "./sim-connection.js";
import type { SimConnectAttempt } from "./sim-connection.js";
import { describeFault } from "./sim-faults.js";
import type { FaultPlan, SimFault } from "./sim-faults.js";
import { LOOPBACK_ADDRESS, SimHost } from "./sim-host.js";
import type { SimHostOptions, SimUDPPort } from "./sim-host.js";
import { DEFAULT_LATENCY, validateLatency } from "./sim-latency.js";
import type { LatencyModel } from "./sim-latency.js";
import { SimLink } from "./sim-link.js";
import {
  enterSync,
  exitSync,
  installGuard,
  realSetImmediate,
  runGuarded,
  takeMicrotaskActivity,
  uninstallGuard,
} from "./sim-nondeterminism.js";
import type { NondeterminismListener } from "./sim-nondeterminism.js";
import { SimPacket } from "./sim-packet.js";
import type { SimPacketBody } from "./sim-packet.js";
import { SimPipe } from "./sim-pipe.js";
import { SimScheduler } from "./sim-scheduler.js";
import type { SimEvent } from "./sim-scheduler.js";
import { SimTimer } from "./sim-timer.js";
import { DEFAULT_MAX_TRACE_LINES, SimTrace, TraceKind } from "./sim-trace.js";
import type { TraceMode, TraceRecord } from "./sim-trace.js";

/** The seed of a network when none is given. */
export const DEFAULT_SIM_SEED = 1;
/** The default bound on the events one run may process before `ReactorStalledError`. */
export const DEFAULT_SIM_MAX_STEPS = 1_000_000;
/** The default chance that a UDP datagram is lost: none. */
export const DEFAULT_UDP_LOSS_PROBABILITY = 0;

/** What a run does when simulated code uses real time or randomness. */
export type NondeterminismMode = "throw" | "warn" | "off";

/**
 * When a run lets microtasks run between events: `"always"` after every event (one macrotask
 * boundary each), `"auto"` only after events during which a promise was created or settled, or
 * `queueMicrotask`/`process.nextTick` was called.
 */
export type DrainMode = "auto" | "always";

/** One use of real time or randomness seen inside a run. */
export interface NondeterminismRecord {
  /** The global used, such as `Math.random`. */
  readonly api: string;
  /** The caller's stack frame. */
  readonly where: string;
  /** The virtual time it happened at. */
  readonly time: number;
}

/** A per-link latency override. */
export interface LinkLatency {
  /** One host's address. */
  readonly a: string;
  /** The other host's address (the same for a host's loopback). */
  readonly b: string;
  /** The model for traffic between them, both ways. */
  readonly latency: LatencyModel;
}

/** Options for {@link SimNetwork}. */
export interface SimNetworkOptions {
  /**
   * The seed of the one generator every choice comes from.
   * @defaultValue {@link DEFAULT_SIM_SEED}
   */
  seed?: number;
  /**
   * One-way latency of every link without an override.
   * @defaultValue {@link DEFAULT_LATENCY} (fixed 1 ms)
   */
  latency?: LatencyModel;
  /**
   * Latency overrides for particular host pairs.
   * @defaultValue none
   */
  links?: readonly LinkLatency[];
  /**
   * How bytes in flight are cut into reads: a policy, or a function building one from the
   * network's generator (so the cuts come from the seed).
   * @defaultValue `(random) => randomChunks(random)`: seeded splits and merges
   */
  chunking?: ChunkingPolicy | ((random: RandomSource) => ChunkingPolicy);
  /**
   * Run events due at the same time in an order drawn from the seed instead of insertion
   * order. Bytes of one connection stay in order either way.
   * @defaultValue false
   */
  shuffleTies?: boolean;
  /**
   * `"lines"` keeps readable records (`trace()`), `"hash"` only hashes (`traceHash()`, for
   * speed), `"off"` neither.
   * @defaultValue "lines"
   */
  trace?: TraceMode;
  /**
   * Most trace records kept in `"lines"` mode; the hash covers all.
   * @defaultValue {@link DEFAULT_MAX_TRACE_LINES}
   */
  maxTraceLines?: number;
  /**
   * What to do when code inside a run uses `setTimeout`, `setInterval`, `setImmediate`,
   * `Date.now`, `performance.now` or `Math.random`: `"throw"` a NondeterminismError at the
   * call (and fail the run), `"warn"` (record it, call `onNondeterminism`, let the call
   * through), or `"off"`.
   * @defaultValue "throw"
   */
  nondeterminism?: NondeterminismMode;
  /**
   * Told of each use in `"warn"` mode.
   * @defaultValue prints a warning with `console.warn`
   */
  onNondeterminism?: (record: NondeterminismRecord) => void;
  /**
   * When `run()` lets microtasks run between events; see {@link DrainMode}.
   * @defaultValue "auto"
   */
  drain?: DrainMode;
  /**
   * The default step bound of `run`, `runUntilIdle` and `runSync`.
   * @defaultValue {@link DEFAULT_SIM_MAX_STEPS}
   */
  maxSteps?: number;
  /**
   * Chance that a UDP datagram is lost, in [0, 1].
   * @defaultValue {@link DEFAULT_UDP_LOSS_PROBABILITY}
   */
  udpLossProbability?: number;
  /**
   * The first ephemeral port of every host.
   * @defaultValue {@link FIRST_EPHEMERAL_PORT} (49152)
   */
  firstEphemeralPort?: number;
  /**
   * Bytes in flight on a connection past which the writer's push producer is paused.
   * @defaultValue the MemoryTransport default (64 KiB)
   */
  highWaterMark?: number;
  /**
   * The virtual time at start, in milliseconds.
   * @defaultValue 0
   */
  start?: number;
}

/** Options for one run. */
export interface SimRunOptions {
  /**
   * Run events due at or before this virtual time, then set the clock to it.
   * @defaultValue until no event is pending
   */
  until?: number;
  /**
   * Most events this run may process.
   * @defaultValue the network's `maxSteps`
   */
  maxSteps?: number;
}

/** Counters of what a network did. */
export interface SimStats {
  /** Every event processed. */
  events: number;
  /** Timed calls that ran. */
  timersFired: number;
  /** Reads delivered to protocols (`dataReceived` calls). */
  chunksDelivered: number;
  /** Bytes delivered to protocols. */
  bytesDelivered: number;
  /** UDP datagrams delivered. */
  datagramsDelivered: number;
  /** UDP datagrams lost, dropped by a partition, or sent nowhere. */
  datagramsDropped: number;
  /** Connections accepted. */
  connectionsAccepted: number;
  /** Faults that struck. */
  faults: number;
}

/** The outcome of {@link checkDeterminism}. */
export interface DeterminismReport {
  /** True when both runs left the same trace. */
  readonly ok: boolean;
  /** The seed. */
  readonly seed: number;
  /** Both runs' trace hashes. */
  readonly hashes: readonly [string, string];
  /** Records in the first run's trace. */
  readonly records: number;
  /** Where the traces first differ, when they do. */
  readonly divergence?: {
    readonly index: number;
    readonly first: string | undefined;
    readonly second: string | undefined;
  };
}

const LOOPBACK_NAMES = new Set([LOOPBACK_ADDRESS, "localhost", "::1"]);
const IP_LIKE = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+:[0-9a-fA-F:]*)$/;

function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => {
    realSetImmediate(resolve);
  });
}

/**
 * A seeded simulated network of hosts that are full reactors. A test helper.
 *
 * @example
 * ```ts
 * const net = new SimNetwork({ seed: 7 });
 * const a = net.host("10.0.0.1");
 * const b = net.host("10.0.0.2");
 * await b.listen("tcp:8080", factory);
 * const d = a.connect("tcp:10.0.0.2:8080:timeout=5", clientFactory);
 * net.at(50, { kind: "partition", a: ["10.0.0.1"], b: ["10.0.0.2"] });
 * await net.runUntilIdle();
 * ```
 */
export class SimNetwork implements NondeterminismListener {
  /** The seed. */
  readonly seed: number;
  /** The one generator every choice comes from. */
  readonly random: SeededRandom;
  /** @internal */ readonly scheduler: SimScheduler;
  /** @internal */ readonly tracer: SimTrace;
  /** @internal */ readonly chunking: ChunkingPolicy;
  /** @internal The virtual time. */ current: number;
  /** @internal */ readonly firstEphemeralPort: number;
  /** What the network did so far. */
  readonly stats: SimStats = {
    events: 0,
    timersFired: 0,
    chunksDelivered: 0,
    bytesDelivered: 0,
    datagramsDelivered: 0,
    datagramsDropped: 0,
    connectionsAccepted: 0,
    faults: 0,
  };
  private readonly hosts: SimHost[] = [];
  private readonly byAddress = new Map<string, SimHost>();
  private readonly links = new Map<number, SimLink>();
  private readonly linkOverrides = new Map<string, LatencyModel>();
  private readonly defaultLatency: LatencyModel;
  private readonly conns = new Map<number, SimConnection>();
  private readonly labels: string[][] = [];
  private readonly violations: NondeterminismRecord[] = [];
  private readonly nondeterminismMode: NondeterminismMode;
  private readonly onNondeterminismHook: (record: NondeterminismRecord) => void;
  private readonly drainMode: DrainMode;
  private readonly maxSteps: number;
  private readonly udpLoss: number;
  private readonly highWaterMark: number | undefined;
  private failure: Error | null = null;
  private connectionIds = 0;
  private timerIds = 0;
  private running = false;

  /**
   * @param options - see {@link SimNetworkOptions}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming an option out of bounds.
   */
  constructor(options: SimNetworkOptions = {}) {
    this.seed = options.seed ?? DEFAULT_SIM_SEED;
    this.random = new SeededRandom(this.seed);
    const random = this.random;
    this.scheduler = new SimScheduler(options.shuffleTies === true ? () => random.next() : null);
    this.tracer = new SimTrace(options.trace ?? "lines", options.maxTraceLines ?? DEFAULT_MAX_TRACE_LINES, (r) => this.formatRecord(r));
    const chunking = options.chunking ?? ((r: RandomSource) => randomChunks(r));
    this.chunking = typeof chunking === "function" ? chunking(random) : chunking;
    this.current = options.start ?? 0;
    if (!Number.isFinite(this.current)) throw new InvalidOptionError("start", `must be a finite number, got ${this.current}`);
    // Checked now, not when the first host is made.
    this.firstEphemeralPort = new EphemeralPorts(options.firstEphemeralPort ?? FIRST_EPHEMERAL_PORT).first;
    this.defaultLatency = options.latency ?? DEFAULT_LATENCY;
    validateLatency(this.defaultLatency);
    for (const link of options.links ?? []) {
      validateLatency(link.latency, `links[${link.a},${link.b}].latency`);
      this.linkOverrides.set(pairKey(link.a, link.b), link.latency);
    }
    this.nondeterminismMode = options.nondeterminism ?? "throw";
    this.onNondeterminismHook =
      options.onNondeterminism ??
      ((record) => {
        console.warn(`wirelab SimNetwork: ${record.api} used at ${record.where} (virtual time ${record.time} ms)`);
      });
    this.drainMode = options.drain ?? "auto";
    this.maxSteps = options.maxSteps ?? DEFAULT_SIM_MAX_STEPS;
    checkSteps(this.maxSteps, "maxSteps");
    this.udpLoss = options.udpLossProbability ?? DEFAULT_UDP_LOSS_PROBABILITY;
    if (!(this.udpLoss >= 0 && this.udpLoss <= 1)) throw new InvalidOptionError("udpLossProbability", `must be in [0, 1], got ${this.udpLoss}`);
    this.highWaterMark = options.highWaterMark;
  }

  /** The virtual time in milliseconds. */
  now(): number {
    return this.current;
  }

  /**
   * Adds a host. Its boot function (and, with `autoRun`, its reactor's start) runs as an event
   * at the current time, inside the next run.
   *
   * @param address - its address, such as `"10.0.0.1"`; connect to it by this string.
   * @param options - its boot function and start mode.
   * @returns the host, a `Reactor`.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when the address is taken, a
   *   wildcard, or a loopback name.
   */
  host(address: string, options: SimHostOptions = {}): SimHost {
    if (this.byAddress.has(address)) throw new InvalidOptionError("address", `host ${address} already exists`);
    if (address === "" || address === "0.0.0.0" || address === "::" || LOOPBACK_NAMES.has(address)) {
      throw new InvalidOptionError("address", `${JSON.stringify(address)} cannot be a host's address`);
    }
    const host = new SimHost(this, this.hosts.length, address, options);
    this.hosts.push(host);
    this.byAddress.set(address, host);
    this.schedulePacket({ kind: "boot", host, incarnation: host.incarnation }, null, this.current);
    return host;
  }

  /** @returns every host, in the order they were added. */
  hostList(): SimHost[] {
    return this.hosts.slice();
  }

  /** @returns the host with `address`, if any. */
  hostByAddress(address: string): SimHost | undefined {
    return this.byAddress.get(address);
  }

  /** Events waiting to run. */
  get pending(): number {
    return this.scheduler.size;
  }

  /**
   * True when no event is pending. Bytes may still be in flight then, but only ones that
   * cannot move until the test acts: on a held or partitioned link, or to a paused reader.
   */
  get idle(): boolean {
    return this.scheduler.size === 0;
  }

  /** @returns the virtual time of the next pending event, or undefined when none is. */
  nextEventTime(): number | undefined {
    return this.scheduler.peek()?.time;
  }

  /** @returns bytes written on open connections and not yet delivered. */
  bytesInFlight(): number {
    let n = 0;
    for (const conn of this.conns.values()) n += conn.up.inFlight + conn.down.inFlight;
    return n;
  }

  /** @returns the open connections, oldest first. */
  connections(): SimConnection[] {
    return [...this.conns.values()];
  }

  /** Uses of real time or randomness seen during runs (in any mode but `"off"`). */
  nondeterminism(): readonly NondeterminismRecord[] {
    return this.violations;
  }

  // -------------------------------------------------------------------------------------------
  // Running

  /**
   * Runs events in due order until none is left or the next is past `until`, letting
   * microtasks run between events (see {@link DrainMode}), so `await` continuations happen
   * at the virtual time they belong to. Real time and randomness are guarded meanwhile.
   *
   * @throws ReactorStalledError (`WL_ERR_REACTOR_STALLED`) past `maxSteps` events, saying
   *   where it stopped; the first error a host's error hook received (by default, any error
   *   thrown by simulated code); NondeterminismError (`WL_ERR_NONDETERMINISM`) in `"throw"` mode.
   */
  async run(options: SimRunOptions = {}): Promise<void> {
    const until = options.until ?? Infinity;
    const maxSteps = options.maxSteps ?? this.maxSteps;
    this.beginRun(until, maxSteps);
    installGuard();
    try {
      await runGuarded(this, () => this.loop(until, maxSteps));
    } finally {
      uninstallGuard();
      this.running = false;
    }
  }

  /**
   * Runs until no event is pending.
   *
   * @throws as {@link SimNetwork.run}.
   */
  runUntilIdle(options: { maxSteps?: number } = {}): Promise<void> {
    return this.run(options.maxSteps === undefined ? {} : { maxSteps: options.maxSteps });
  }

  /**
   * The synchronous run, for purely callback-style code: no microtask drains, so it is the
   * fastest. Promise activity during it means async code is involved, whose continuations
   * would run late, so it throws.
   *
   * @throws as {@link SimNetwork.run}; ReactorStateError (`WL_ERR_REACTOR_STATE`) when a
   *   promise was created or settled during an event.
   */
  runSync(options: SimRunOptions = {}): void {
    const until = options.until ?? Infinity;
    const maxSteps = options.maxSteps ?? this.maxSteps;
    this.beginRun(until, maxSteps);
    installGuard();
    const previous = enterSync(this);
    try {
      takeMicrotaskActivity();
      let steps = 0;
      for (;;) {
        this.throwFailure();
        const next = this.scheduler.peek();
        if (next === undefined || next.time > until) break;
        if (++steps > maxSteps) throw this.stalled(steps - 1);
        this.step(next);
        if (takeMicrotaskActivity()) {
          throw new ReactorStateError(`runSync(): ${next.describe()} created or settled a promise; async code needs run() or runUntilIdle()`);
        }
      }
      this.throwFailure();
      if (until !== Infinity && until > this.current) this.current = until;
    } finally {
      exitSync(previous);
      uninstallGuard();
      this.running = false;
    }
  }

  private beginRun(until: number, maxSteps: number): void {
    if (this.running) throw new ReactorStateError("the simulation is already running");
    if (Number.isNaN(until)) throw new InvalidOptionError("until", "is NaN");
    checkSteps(maxSteps, "maxSteps");
    this.running = true;
  }

  private async loop(until: number, maxSteps: number): Promise<void> {
    await drainMicrotasks();
    takeMicrotaskActivity();
    const always = this.drainMode === "always";
    let steps = 0;
    for (;;) {
      this.throwFailure();
      const next = this.scheduler.peek();
      if (next === undefined || next.time > until) break;
      if (++steps > maxSteps) throw this.stalled(steps - 1);
      this.step(next);
      if (always || takeMicrotaskActivity()) {
        await drainMicrotasks();
        takeMicrotaskActivity();
      }
    }
    this.throwFailure();
    if (until !== Infinity && until > this.current) this.current = until;
  }

  private step(event: SimEvent): void {
    this.scheduler.pop();
    if (event.time > this.current) this.current = event.time;
    this.stats.events++;
    try {
      event.fire();
    } catch (error) {
      this.eventFailed(event, error);
    }
  }

  private eventFailed(event: SimEvent, error: unknown): void {
    if (error instanceof NondeterminismError) {
      this.fail(error);
      return;
    }
    let host: SimHost | null = null;
    let where = "a simulated network event";
    if (event instanceof SimTimer) {
      host = event.host;
      where = "a timed call";
    } else if (event instanceof SimPipe) {
      host = event.dstHost;
      where = `a protocol of connection c${event.connection.id}`;
    } else if (event instanceof SimPacket) {
      const body = event.body;
      switch (body.kind) {
        case "syn":
          host = body.attempt.target;
          where = "accepting a connection";
          break;
        case "refuse":
        case "dnsFail":
          host = body.attempt.host;
          where = "a failed connection attempt";
          break;
        case "peerReset":
        case "datagram":
          host = body.to;
          where = body.kind === "datagram" ? "datagramReceived" : "connectionLost";
          break;
        case "boot":
          host = body.host;
          where = `the boot function of ${body.host.address}`;
          break;
        case "fault":
          break;
      }
    }
    const wrapped = error instanceof UnhandledReactorError ? error : new UnhandledReactorError(where, error);
    if (host === null) this.fail(wrapped);
    else host.report(wrapped);
  }

  /**
   * @internal Makes the current (or next) run fail with `error`; the first error wins. This
   * is what a host's default error hook does.
   */
  fail(error: Error): void {
    if (this.failure === null) this.failure = error;
  }

  private throwFailure(): void {
    const failure = this.failure;
    if (failure === null) return;
    this.failure = null;
    throw failure;
  }

  private stalled(steps: number): ReactorStalledError {
    const next = this.scheduler.peek();
    const what = next === undefined ? "nothing" : `${next.describe()} due at ${next.time} ms`;
    return new ReactorStalledError(steps, `virtual time ${this.current} ms, ${this.scheduler.size} events pending, next: ${what}`);
  }

  /** The nondeterminism guard caught a real-time or random call (see `NondeterminismListener`). */
  onNondeterminism(api: string, where: string): void {
    if (this.nondeterminismMode === "off") return;
    const record: NondeterminismRecord = { api, where, time: this.current };
    this.violations.push(record);
    if (this.nondeterminismMode === "warn") {
      this.onNondeterminismHook(record);
      return;
    }
    const error = new NondeterminismError(api, where);
    this.fail(error);
    throw error;
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  /**
   * Schedules `fault` at virtual time `ms` (absolute).
   *
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `ms` is in the past or not finite.
   */
  at(ms: number, fault: SimFault): void {
    if (!Number.isFinite(ms) || ms < this.current) throw new InvalidOptionError("at", `must be a finite time >= now (${this.current} ms), got ${ms}`);
    this.schedulePacket({ kind: "fault", fault }, null, ms);
  }

  /** Schedules every fault of a plan (see {@link SimNetwork.at}). */
  plan(plan: FaultPlan): void {
    for (const { at, fault } of plan) this.at(at, fault);
  }

  /**
   * Strikes with `fault` now.
   *
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when it names an unknown host.
   */
  inject(fault: SimFault): void {
    this.stats.faults++;
    this.tracer.note(this.current, TraceKind.fault, describeFault(fault));
    switch (fault.kind) {
      case "reset": {
        const conn = this.pickConnection(fault.host, fault.pick);
        if (conn === undefined) return;
        for (const t of [conn.client, conn.server]) {
          if (!t.lost) {
            this.tracer.record(this.current, TraceKind.rst, conn.id, t === conn.client ? 1 : 0);
            t.finish(new ConnectionResetError("the network reset the connection"));
          }
        }
        return;
      }
      case "halfClose": {
        const conn = this.pickConnection(fault.host, fault.pick);
        if (conn === undefined) return;
        (fault.side === "server" ? conn.server : conn.client).loseWriteConnection();
        return;
      }
      case "partition":
        for (const a of fault.a) for (const b of fault.b) if (a !== b) this.linkBetween(this.requireHost(a), this.requireHost(b)).partitioned = true;
        return;
      case "heal":
        if (fault.a === undefined && fault.b === undefined) {
          for (const link of this.links.values()) {
            if (!link.partitioned) continue;
            link.partitioned = false;
            this.opened(link);
          }
          return;
        }
        for (const a of fault.a ?? []) {
          for (const b of fault.b ?? []) {
            if (a === b) continue;
            const link = this.linkBetween(this.requireHost(a), this.requireHost(b));
            link.partitioned = false;
            this.opened(link);
          }
        }
        return;
      case "hold":
        this.linkBetween(this.requireHost(fault.a), this.requireHost(fault.b)).held = true;
        return;
      case "release": {
        const link = this.linkBetween(this.requireHost(fault.a), this.requireHost(fault.b));
        link.held = false;
        this.opened(link);
        return;
      }
      case "crash":
        this.crashHost(this.requireHost(fault.host), fault.restartAfter);
        return;
      case "restart":
        this.restartHost(this.requireHost(fault.host));
        return;
    }
  }

  /** Cuts every host in `a` off from every host in `b` (see {@link SimFault}). */
  partition(a: readonly string[], b: readonly string[]): void {
    this.inject({ kind: "partition", a, b });
  }

  /** Ends the partitions between `a` and `b`, or all of them. */
  heal(a?: readonly string[], b?: readonly string[]): void {
    this.inject(a === undefined && b === undefined ? { kind: "heal" } : { kind: "heal", a: a ?? [], b: b ?? [] });
  }

  /** Holds all traffic between `a` and `b` until {@link SimNetwork.release}. */
  hold(a: string, b: string): void {
    this.inject({ kind: "hold", a, b });
  }

  /** Lets held traffic between `a` and `b` go. */
  release(a: string, b: string): void {
    this.inject({ kind: "release", a, b });
  }

  /** Crashes a host (see {@link SimFault}); with `restartAfter`, it restarts that much later. */
  crash(address: string, restartAfter?: number): void {
    this.inject(restartAfter === undefined ? { kind: "crash", host: address } : { kind: "crash", host: address, restartAfter });
  }

  /** Restarts a crashed host: its boot function runs again. */
  restart(address: string): void {
    this.inject({ kind: "restart", host: address });
  }

  /** Resets one open connection (see {@link SimFault}). */
  resetConnection(host?: string, pick?: number): void {
    const fault: { kind: "reset"; host?: string; pick?: number } = { kind: "reset" };
    if (host !== undefined) fault.host = host;
    if (pick !== undefined) fault.pick = pick;
    this.inject(fault);
  }

  /**
   * Sets the latency model of the link between `a` and `b`.
   *
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad model;
   *   ReactorStateError (`WL_ERR_REACTOR_STATE`) for an unknown host.
   */
  setLatency(a: string, b: string, model: LatencyModel): void {
    validateLatency(model);
    this.linkOverrides.set(pairKey(a, b), model);
    this.linkBetween(this.requireHost(a), this.requireHost(b)).model = model;
  }

  private requireHost(address: string): SimHost {
    const host = this.byAddress.get(address);
    if (host === undefined) throw new ReactorStateError(`no host has address ${address}`);
    return host;
  }

  private pickConnection(host: string | undefined, pick: number | undefined): SimConnection | undefined {
    const list: SimConnection[] = [];
    for (const c of this.conns.values()) {
      if (host === undefined || c.clientHost.address === host || c.serverHost.address === host) list.push(c);
    }
    const n = list.length;
    if (n === 0) return undefined;
    const i = pick === undefined ? this.random.int(0, n - 1) : ((Math.trunc(pick) % n) + n) % n;
    return list[i];
  }

  private opened(link: SimLink): void {
    if (link.blocked || link.parked.length === 0) return;
    const parked = link.parked;
    link.parked = [];
    for (const event of parked) {
      if (event instanceof SimPipe) event.unpark();
      else if (!event.scheduled) this.scheduler.push(event, this.current);
    }
  }

  private crashHost(host: SimHost, restartAfter: number | undefined): void {
    if (!host.up) return;
    const now = this.current;
    this.tracer.record(now, TraceKind.crash, host.id, host.incarnation);
    host.crashed();
    for (const conn of [...host.connections]) {
      const clientHere = conn.clientHost === host;
      const serverHere = conn.serverHost === host;
      if (clientHere) conn.silence(0);
      if (serverHere) conn.silence(1);
      if (clientHere && serverHere) continue;
      const peer = clientHere ? conn.server : conn.client;
      if (peer.lost) continue;
      const to = clientHere ? conn.serverHost : conn.clientHost;
      this.schedulePacket({ kind: "peerReset", transport: peer, connectionId: conn.id, side: clientHere ? 1 : 0, to }, conn.link, now + this.latency(conn.link));
    }
    this.cancelTimersOf(host);
    if (restartAfter !== undefined) this.at(now + Math.max(0, restartAfter), { kind: "restart", host: host.address });
  }

  private restartHost(host: SimHost): void {
    if (host.up) return;
    this.tracer.record(this.current, TraceKind.restart, host.id, host.incarnation);
    host.restarted();
    this.schedulePacket({ kind: "boot", host, incarnation: host.incarnation }, null, this.current);
  }

  // -------------------------------------------------------------------------------------------
  // Trace

  /** @returns the trace as readable lines (needs `trace: "lines"`, the default). */
  trace(): string[] {
    return this.tracer.lines();
  }

  /** @returns the trace as one text, a line per record. */
  traceText(): string {
    return this.tracer.lines().join("\n");
  }

  /** @returns a hash of everything the run did; equal seeds and scenarios give equal hashes. */
  traceHash(): string {
    return this.tracer.hash();
  }

  private formatRecord(r: TraceRecord): string {
    const t = `${r.time.toFixed(3)}ms`;
    const host = (id: number): string => this.hosts[id]?.address ?? "?";
    const label = (id: number, direction: number): string => {
      const l = this.labels[id];
      if (l === undefined) return "";
      return direction === 0 ? `${l[0]} -> ${l[1]}` : `${l[1]} -> ${l[0]}`;
    };
    switch (r.kind) {
      case TraceKind.syn:
        return `${t} SYN c${r.a} ${label(r.a, 0)}`;
      case TraceKind.synLost:
        return `${t} SYN c${r.a} ${label(r.a, 0)} goes nowhere`;
      case TraceKind.accept:
        return `${t} accept c${r.a} ${label(r.a, 0)}`;
      case TraceKind.connected:
        return `${t} connected c${r.a} ${label(r.a, 0)}`;
      case TraceKind.connectFailed:
        return `${t} connect c${r.a} ${label(r.a, 0)} failed: ${REASON_NAMES[r.b] ?? "?"}`;
      case TraceKind.deliver:
        return `${t} deliver c${r.a} ${label(r.a, r.b)} ${r.c} bytes`;
      case TraceKind.fin:
        return `${t} FIN c${r.a} ${label(r.a, r.b)}`;
      case TraceKind.rst:
        return `${t} RST c${r.a} ${label(r.a, r.b)}`;
      case TraceKind.lost:
        return `${t} lost c${r.a} ${r.b === 0 ? "client" : "server"} side: ${REASON_NAMES[r.c] ?? "?"}`;
      case TraceKind.timer:
        return `${t} timer #${r.b} fired on ${host(r.a)}`;
      case TraceKind.udpSend:
        return `${t} udp send ${host(r.a)}:${r.b} -> ${r.c < 0 ? "nowhere" : host(r.c)}:${r.d} ${r.e} bytes`;
      case TraceKind.udpDeliver:
        return `${t} udp deliver ${host(r.a)}:${r.b} -> ${host(r.c)}:${r.d} ${r.e} bytes`;
      case TraceKind.udpDrop:
        return `${t} udp drop ${host(r.a)}:${r.b} -> ${r.c < 0 ? "nowhere" : host(r.c)}:${r.d} ${r.e} bytes`;
      case TraceKind.fault:
        return `${t} fault ${r.text ?? ""}`;
      case TraceKind.crash:
        return `${t} crash ${host(r.a)}`;
      case TraceKind.restart:
        return `${t} restart ${host(r.a)}`;
      case TraceKind.boot:
        return `${t} boot ${host(r.a)} (life ${r.b})`;
      default:
        return `${t} record ${r.kind} ${r.a} ${r.b} ${r.c} ${r.d} ${r.e}`;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Internals for hosts, connections and pipes

  /** @internal */
  nextConnectionId(): number {
    return this.connectionIds++;
  }

  /** @internal One draw of the link's latency. */
  latency(link: SimLink): number {
    const m = link.model;
    return m.kind === "fixed" ? m.ms : m.min + this.random.next() * (m.max - m.min);
  }

  /** @internal The link between two hosts, made on first use. */
  linkBetween(a: SimHost, b: SimHost): SimLink {
    const key = a.id < b.id ? a.id * 1_048_576 + b.id : b.id * 1_048_576 + a.id;
    let link = this.links.get(key);
    if (link === undefined) {
      link = new SimLink(a, b, this.linkOverrides.get(pairKey(a.address, b.address)) ?? this.defaultLatency);
      this.links.set(key, link);
    }
    return link;
  }

  /** @internal */
  addTimer(host: SimHost, ms: number, fn: (...args: unknown[]) => void, args: unknown[]): SimTimer {
    const timer = new SimTimer(host, this.timerIds++, fn, args);
    if (host.up) this.scheduler.push(timer, this.current + ms);
    else timer.time = this.current + ms;
    return timer;
  }

  /** @internal Cancels every queued timed call of `host`. */
  cancelTimersOf(host: SimHost): void {
    for (const event of this.scheduler.entries().slice()) {
      if (event instanceof SimTimer && event.host === host) {
        event.state = "cancelled";
        this.scheduler.remove(event);
      }
    }
  }

  /** @internal */
  timerFired(timer: SimTimer): void {
    this.stats.timersFired++;
    this.tracer.record(this.current, TraceKind.timer, timer.host.id, timer.id);
  }

  /** @internal */
  chunkDelivered(pipe: SimPipe, n: number): void {
    this.stats.chunksDelivered++;
    this.stats.bytesDelivered += n;
    this.tracer.record(this.current, TraceKind.deliver, pipe.connection.id, pipe.direction, n);
  }

  /** @internal Both ends of `conn` are lost. */
  connectionClosed(conn: SimConnection): void {
    this.conns.delete(conn.id);
    const client = conn.clientHost;
    client.connections.delete(conn);
    conn.serverHost.connections.delete(conn);
    if (conn.attempt.incarnation === client.incarnation) client.clientPorts.delete(conn.attempt.hostAddress.port);
  }

  private schedulePacket(body: SimPacketBody, link: SimLink | null, time: number): void {
    this.scheduler.push(new SimPacket(this, body, link), time);
  }

  /** @internal The client sends its SYN. */
  sendSyn(attempt: SimConnectAttempt): void {
    const now = this.current;
    const target = attempt.target;
    const local = attempt.hostAddress;
    this.labels[attempt.id] = [`${local.host}:${local.port}`, `${attempt.endpoint.host}:${attempt.endpoint.port}`];
    if (target === null) {
      if (IP_LIKE.test(attempt.endpoint.host)) {
        this.tracer.record(now, TraceKind.synLost, attempt.id);
      } else {
        this.schedulePacket({ kind: "dnsFail", attempt }, null, now);
      }
      return;
    }
    const link = this.linkBetween(attempt.host, target);
    this.tracer.record(now, TraceKind.syn, attempt.id, attempt.host.id, target.id, attempt.endpoint.port);
    this.schedulePacket({ kind: "syn", attempt }, link, now + this.latency(link));
  }

  /** @internal A packet's time has come. */
  packetArrived(packet: SimPacket): void {
    const body = packet.body;
    const link = packet.link;
    const now = this.current;
    if (link !== null && link.blocked) {
      if (body.kind === "datagram" && link.partitioned) {
        this.datagramDropped(body.from, body.to, body.port, body.data.length);
        return;
      }
      link.parked.push(packet);
      return;
    }
    switch (body.kind) {
      case "syn":
        this.synArrived(body.attempt, link!);
        return;
      case "refuse":
        body.attempt.fail(new ConnectionRefusedError(`connection to ${body.attempt.endpoint.host}:${body.attempt.endpoint.port} was refused`));
        return;
      case "dnsFail":
        body.attempt.fail(new DNSLookupError(`no simulated host is called ${JSON.stringify(body.attempt.endpoint.host)}`));
        return;
      case "peerReset":
        if (!body.transport.lost) {
          this.tracer.record(now, TraceKind.rst, body.connectionId, body.side === 0 ? 1 : 0);
          body.transport.finish(new ConnectionResetError());
        }
        return;
      case "datagram": {
        const to = body.to;
        const port = to.up ? to.findUDPPort(body.port, body.toAddress) : undefined;
        const from = body.from;
        if (port === undefined || !port.deliver(body.data, { host: body.fromAddress, port: from.address.port })) {
          this.datagramDropped(from, to, body.port, body.data.length);
          return;
        }
        this.stats.datagramsDelivered++;
        this.tracer.record(now, TraceKind.udpDeliver, from.host.id, from.address.port, to.id, body.port, body.data.length);
        return;
      }
      case "fault":
        this.inject(body.fault);
        return;
      case "boot":
        if (!body.host.up || body.host.incarnation !== body.incarnation) return;
        this.tracer.record(now, TraceKind.boot, body.host.id, body.incarnation);
        body.host.boot();
        return;
    }
  }

  private synArrived(attempt: SimConnectAttempt, link: SimLink): void {
    const now = this.current;
    const target = attempt.target!;
    if (!target.up) {
      this.tracer.record(now, TraceKind.synLost, attempt.id);
      return;
    }
    const dialled = attempt.endpoint.host;
    const loopback = LOOPBACK_NAMES.has(dialled);
    const listener = target.findListener(attempt.endpoint.port, loopback ? LOOPBACK_ADDRESS : target.address);
    if (listener === undefined) {
      this.schedulePacket({ kind: "refuse", attempt }, link, now + this.latency(link));
      return;
    }
    const serverAddress: Address = { type: "tcp", host: loopback ? LOOPBACK_ADDRESS : target.address, port: attempt.endpoint.port };
    const water = this.highWaterMark === undefined ? {} : { highWaterMark: this.highWaterMark };
    const conn = new SimConnection(this, attempt.id, attempt, target, link, serverAddress, water);
    attempt.connection = conn;
    this.conns.set(conn.id, conn);
    attempt.host.connections.add(conn);
    target.connections.add(conn);
    this.stats.connectionsAccepted++;
    this.tracer.record(now, TraceKind.accept, conn.id);
    // The SYN-ACK goes first: whatever the server writes in connectionMade queues behind it.
    conn.down.holdUntil(now + this.latency(link));
    const protocol = listener.factory.buildProtocol(attempt.hostAddress);
    if (protocol === null) conn.server.loseConnection();
    else conn.server.attach(protocol);
  }

  /** @internal A UDP port sends a datagram. */
  sendDatagram(port: SimUDPPort, data: Uint8Array | string, addr: { host: string; port: number }): void {
    const host = port.host;
    if (!host.up) return;
    const now = this.current;
    const bytes = toBytes(data).slice();
    const loopback = LOOPBACK_NAMES.has(addr.host);
    const to = loopback ? host : this.byAddress.get(addr.host);
    this.tracer.record(now, TraceKind.udpSend, host.id, port.address.port, to === undefined ? -1 : to.id, addr.port, bytes.length);
    if (to === undefined) {
      this.datagramDropped(port, null, addr.port, bytes.length);
      return;
    }
    const link = this.linkBetween(host, to);
    if (link.partitioned || (this.udpLoss > 0 && this.random.next() < this.udpLoss)) {
      this.datagramDropped(port, to, addr.port, bytes.length);
      return;
    }
    this.schedulePacket(
      {
        kind: "datagram",
        from: port,
        fromAddress: loopback ? LOOPBACK_ADDRESS : host.address,
        to,
        toAddress: loopback ? LOOPBACK_ADDRESS : to.address,
        port: addr.port,
        data: bytes,
      },
      link,
      now + this.latency(link),
    );
  }

  private datagramDropped(from: SimUDPPort, to: SimHost | null, port: number, length: number): void {
    this.stats.datagramsDropped++;
    this.tracer.record(this.current, TraceKind.udpDrop, from.host.id, from.address.port, to === null ? -1 : to.id, port, length);
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

function checkSteps(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1) throw new InvalidOptionError(name, `must be a positive integer, got ${value}`);
}

/**
 * Runs `scenario` twice on fresh networks with the same seed and compares their traces: the
 * self-check that a simulation (and the code under test) is deterministic. The scenario sets
 * up hosts and may run the network itself; whatever is left runs to idle afterwards.
 *
 * @param seed - the seed both runs use.
 * @param scenario - builds and drives one run.
 * @param options - the networks' other options (the trace is kept as lines to compare).
 * @returns ok, or the first record where the two traces differ.
 * @throws whatever a run throws.
 *
 * @example
 * ```ts
 * const report = await checkDeterminism(7, async (net) => { ... });
 * expect(report.ok).toBe(true);
 * ```
 */
export async function checkDeterminism(
  seed: number,
  scenario: (net: SimNetwork) => unknown,
  options: Omit<SimNetworkOptions, "seed"> = {},
): Promise<DeterminismReport> {
  const once = async (): Promise<SimNetwork> => {
    const net = new SimNetwork({ ...options, seed, trace: "lines" });
    await scenario(net);
    await net.runUntilIdle();
    return net;
  };
  const first = await once();
  const second = await once();
  const hashes: [string, string] = [first.traceHash(), second.traceHash()];
  const a = first.trace();
  const b = second.trace();
  const base = { seed, hashes, records: first.tracer.count };
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return { ...base, ok: false, divergence: { index: i, first: a[i], second: b[i] } };
  }
  if (hashes[0] !== hashes[1]) return { ...base, ok: false, divergence: { index: a.length, first: undefined, second: undefined } };
  return { ...base, ok: true };
}
