/**
 * `SimNetwork`: a whole seeded simulated network. Each host is a full `Reactor`, so code that
 * runs on `NodeReactor` runs on a host unchanged; all hosts share one virtual clock and one
 * seeded generator, from which every choice comes (the order of events due at the same time
 * when ties are shuffled, how writes are cut into reads, latency jitter, UDP loss, which
 * connection a fault picks), so a seed replays a run exactly, and the trace proves it.
 *
 * Map of the simulation, each file depending only on those below it:
 * - `simulation.ts` (here): the public front: hosts, faults, run, trace, and
 *   {@link checkDeterminism}.
 * - `sim-world.ts`: the state and the engine: the clock, the event queue, hosts, links and
 *   connections, and the routing of SYNs, resets, datagrams, faults and boots.
 * - `sim-host.ts`: a host (`Reactor`), its listening and UDP ports.
 * - `sim-packet.ts`, `sim-timer.ts`: one-off events (SYN, refusal, datagram, fault, boot) and
 *   timed calls.
 * - `sim-connection.ts`: a TCP connection (two `MemoryTransport`s) and a connect attempt.
 * - `sim-pipe.ts`: one direction of a connection: latency, chunking, FIN and RST delivery.
 * - `sim-link.ts`, `sim-latency.ts`: links between hosts, their latency, partitions, holds.
 * - `sim-scheduler.ts`: the one event queue.
 * - `sim-trace.ts`: the trace and its incremental hash.
 * - `sim-faults.ts`: faults as data, for hand-written or generated fault plans.
 * - `nondeterminism-guard.ts`, `microtask-activity.ts` (shared with the other fakes): catch
 *   real time and randomness used inside a run; tell when microtasks must run.
 *
 * @example
 * ```ts
 * const net = new SimNetwork({ seed: 42 });
 * net.host("10.0.0.1", { boot: (r) => r.listen("tcp:7:interface=10.0.0.1", Factory.forProtocol(() => new Echo())) });
 * const client = net.host("10.0.0.2");
 * // Dial once the server has booted: at time 0 the two boots may run in either order.
 * const done = deferLater(client, 1, () => dial(client, "tcp:10.0.0.1:7:timeout=5")).then(async (conn) => {
 *   await conn.write("hi");
 *   return conn.readExactly(2);
 * });
 * await net.runUntilIdle();
 * console.log(await done, net.traceHash());
 * ```
 *
 * @module
 */

import { InvalidOptionError, ReactorStateError } from "../runtime/errors.js";
import { DEFAULT_HIGH_WATER_MARK, writeBufferPolicy } from "../runtime/write-buffer.js";
import type { ReadPausePolicy } from "../runtime/write-buffer.js";
import { randomChunks } from "./chunking.js";
import type { ChunkingPolicy } from "./chunking.js";
import { EphemeralPorts, FIRST_EPHEMERAL_PORT } from "./ephemeral-ports.js";
import type { PairBufferOptions } from "./loopback.js";
import { SeededRandom } from "./random.js";
import type { RandomSource } from "./random.js";
import type { SimConnection } from "./sim-connection.js";
import type { FaultPlan, SimFault } from "./sim-faults.js";
import { isLoopbackName } from "./sim-host.js";
import type { SimHost, SimHostOptions } from "./sim-host.js";
import { DEFAULT_LATENCY, validateLatency } from "./sim-latency.js";
import type { LatencyModel } from "./sim-latency.js";
import { drainMicrotasks, takeMicrotaskActivity, unwatchMicrotasks, watchMicrotasks } from "./microtask-activity.js";
import { NondeterminismGuard } from "./nondeterminism-guard.js";
import type { NondeterminismMode, NondeterminismRecord } from "./nondeterminism-guard.js";
import { DEFAULT_MAX_TRACE_LINES } from "./sim-trace.js";
import type { TraceMode } from "./sim-trace.js";
import { SimWorld, pairKey } from "./sim-world.js";
import type { LeakedTimer, SimStats } from "./sim-world.js";

/** The seed of a network when none is given. */
export const DEFAULT_SIM_SEED = 1;
/** The default bound on the events one run may process before `ReactorStalledError`. */
export const DEFAULT_SIM_MAX_STEPS = 1_000_000;
/** The default chance that a UDP datagram is lost: none. */
export const DEFAULT_UDP_LOSS_PROBABILITY = 0;
/** The default number of payload bytes a trace line shows per delivery. */
export const DEFAULT_PAYLOAD_PREVIEW = 48;

/**
 * When a run lets microtasks run between events: `"always"` after every event (one macrotask
 * boundary each), `"auto"` only after events during which a promise was created or settled, or
 * `queueMicrotask`/`process.nextTick` was called.
 */
export type DrainMode = "auto" | "always";

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
   * How bytes in flight are cut into reads: a policy (a policy with state of its own, such as a
   * `ScriptedChunking`, is copied at its start, so the same object gives the same cuts in every
   * network), or a function building one from the network's generator (so the cuts come from
   * the seed).
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
   * Payload bytes shown (escaped) on each delivery's trace line; 0 shows none. Payloads are
   * hashed whatever this is.
   * @defaultValue {@link DEFAULT_PAYLOAD_PREVIEW}
   */
  payloadPreview?: number;
  /**
   * What to do when code inside a run reads real time or randomness (`Date.now`, `new Date()`,
   * `performance.now`, `process.hrtime`, `Math.random`, `crypto.randomInt`, real timers, ...;
   * the list is in `nondeterminism-guard.ts`): `"fail"` lets the call through, records it with
   * its stack, and fails the run at its end with one `NondeterminismError` listing every use;
   * `"warn"` records and tells `onNondeterminism` without failing; `"off"` ignores it.
   * @defaultValue "fail"
   */
  nondeterminism?: NondeterminismMode;
  /**
   * Told of each use as it happens.
   * @defaultValue none in `"fail"` mode; a `console.warn` line in `"warn"` mode
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
   * Bytes in flight on a connection past which the writer's push producer is paused, or,
   * with no producer, the writer stops reading if `pauseReadsOnFullBuffer` says so.
   * @defaultValue {@link DEFAULT_HIGH_WATER_MARK} (64 KiB)
   */
  highWaterMark?: number;
  /**
   * Bytes in flight past which a write aborts the writer's side with `WriteBufferOverflowError`.
   * @defaultValue {@link DEFAULT_MAX_WRITE_BUFFER_SIZE} (64 MiB)
   */
  maxWriteBufferSize?: number;
  /**
   * Which sides stop reading while their bytes in flight are past `highWaterMark` and no
   * producer is registered: as on `NodeReactor` (see `runtime/write-buffer.ts`).
   * @defaultValue {@link DEFAULT_PAUSE_READS_ON_FULL_BUFFER} ("accepted")
   */
  pauseReadsOnFullBuffer?: ReadPausePolicy;
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
export class SimNetwork {
  /** The seed. */
  readonly seed: number;
  /** @internal The state and the engine. */
  readonly world: SimWorld;
  private readonly guard: NondeterminismGuard;
  private readonly clock = (): number => this.world.current;
  private readonly drainMode: DrainMode;
  private readonly maxSteps: number;
  private running = false;

  /**
   * @param options - see {@link SimNetworkOptions}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming an option out of bounds.
   */
  constructor(options: SimNetworkOptions = {}) {
    this.seed = options.seed ?? DEFAULT_SIM_SEED;
    const random = new SeededRandom(this.seed);
    const start = options.start ?? 0;
    if (!Number.isFinite(start)) throw new InvalidOptionError("start", `must be a finite number, got ${start}`);
    // Checked now, not when the first host is made.
    const firstEphemeralPort = new EphemeralPorts(options.firstEphemeralPort ?? FIRST_EPHEMERAL_PORT).first;
    const latency = options.latency ?? DEFAULT_LATENCY;
    validateLatency(latency);
    const linkOverrides = new Map<string, LatencyModel>();
    for (const link of options.links ?? []) {
      validateLatency(link.latency, `links[${link.a},${link.b}].latency`);
      linkOverrides.set(pairKey(link.a, link.b), link.latency);
    }
    const guardOptions: ConstructorParameters<typeof NondeterminismGuard>[0] = { mode: options.nondeterminism ?? "fail" };
    if (options.onNondeterminism !== undefined) guardOptions.onNondeterminism = options.onNondeterminism;
    this.guard = new NondeterminismGuard(guardOptions);
    this.drainMode = options.drain ?? "auto";
    this.maxSteps = options.maxSteps ?? DEFAULT_SIM_MAX_STEPS;
    checkSteps(this.maxSteps, "maxSteps");
    const udpLossProbability = options.udpLossProbability ?? DEFAULT_UDP_LOSS_PROBABILITY;
    if (!(udpLossProbability >= 0 && udpLossProbability <= 1)) throw new InvalidOptionError("udpLossProbability", `must be in [0, 1], got ${udpLossProbability}`);
    const payloadPreview = options.payloadPreview ?? DEFAULT_PAYLOAD_PREVIEW;
    if (!Number.isInteger(payloadPreview) || payloadPreview < 0) throw new InvalidOptionError("payloadPreview", `must be an integer >= 0, got ${payloadPreview}`);
    const buffers: PairBufferOptions = {};
    if (options.highWaterMark !== undefined) buffers.highWaterMark = options.highWaterMark;
    if (options.maxWriteBufferSize !== undefined) buffers.maxWriteBufferSize = options.maxWriteBufferSize;
    if (options.pauseReadsOnFullBuffer !== undefined) buffers.pauseReadsOnFullBuffer = options.pauseReadsOnFullBuffer;
    writeBufferPolicy(buffers, buffers.highWaterMark ?? DEFAULT_HIGH_WATER_MARK);
    const chunking = options.chunking ?? ((r: RandomSource) => randomChunks(r));
    const policy = typeof chunking === "function" ? chunking(random) : chunking;
    this.world = new SimWorld({
      random,
      shuffleTies: options.shuffleTies === true,
      trace: options.trace ?? "lines",
      maxTraceLines: options.maxTraceLines ?? DEFAULT_MAX_TRACE_LINES,
      chunking: policy.fresh?.() ?? policy,
      start,
      firstEphemeralPort,
      latency,
      linkOverrides,
      udpLossProbability,
      buffers,
      payloadPreview,
    });
  }

  /** The one generator every choice comes from. */
  get random(): SeededRandom {
    return this.world.random;
  }

  /** What the network did so far. */
  get stats(): SimStats {
    return this.world.stats;
  }

  /** The virtual time in milliseconds. */
  now(): number {
    return this.world.current;
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
    if (this.world.hostByAddress(address) !== undefined) throw new InvalidOptionError("address", `host ${address} already exists`);
    if (address === "" || address === "0.0.0.0" || address === "::" || isLoopbackName(address)) {
      throw new InvalidOptionError("address", `${JSON.stringify(address)} cannot be a host's address`);
    }
    return this.world.addHost(address, options);
  }

  /** @returns every host, in the order they were added. */
  hostList(): SimHost[] {
    return this.world.hosts.slice();
  }

  /** @returns the host with `address`, if any. */
  hostByAddress(address: string): SimHost | undefined {
    return this.world.hostByAddress(address);
  }

  /** Events waiting to run. */
  get pending(): number {
    return this.world.scheduler.size;
  }

  /**
   * True when no event is pending. Bytes may still be in flight then, but only ones that
   * cannot move until the test acts: on a held or partitioned link, or to a paused reader.
   */
  get idle(): boolean {
    return this.world.scheduler.size === 0;
  }

  /** @returns the virtual time of the next pending event, or undefined when none is. */
  nextEventTime(): number | undefined {
    return this.world.scheduler.peek()?.time;
  }

  /** @returns bytes written on open connections and not yet delivered. */
  bytesInFlight(): number {
    let n = 0;
    for (const conn of this.world.conns.values()) n += conn.up.inFlight + conn.down.inFlight;
    return n;
  }

  /** @returns the open connections, oldest first. */
  connections(): SimConnection[] {
    return [...this.world.conns.values()];
  }

  /**
   * Timed calls that outlived the connection whose code set them (a timer set by a protocol
   * while its connection was open, still there once the connection was lost): those that
   * fired, then those still pending. A protocol that forgets to cancel its idle timeout on
   * close shows here, though the timer fires harmlessly once the network is idle.
   * `simProperty` fails a case that leaves any.
   */
  leakedTimers(): LeakedTimer[] {
    return this.world.leakedTimers();
  }

  /** Uses of real time or randomness seen during runs (in any mode but `"off"`), oldest first. */
  nondeterminism(): readonly NondeterminismRecord[] {
    return this.guard.violations();
  }
  // -------------------------------------------------------------------------------------------
  // Running

  /**
   * Runs events in due order until none is left or the next is past `until`, letting
   * microtasks run between events (see {@link DrainMode}), so `await` continuations happen
   * at the virtual time they belong to. Real time and randomness are guarded meanwhile (see
   * {@link SimNetworkOptions.nondeterminism}).
   *
   * @throws ReactorStalledError (`WL_ERR_REACTOR_STALLED`) past `maxSteps` events, saying
   *   where it stopped; the first error a host's error hook received (by default, any error
   *   thrown by simulated code); at the end of a run that was otherwise fine,
   *   NondeterminismError (`WL_ERR_NONDETERMINISM`) listing each use of real time or
   *   randomness, in `"fail"` mode.
   */
  async run(options: SimRunOptions = {}): Promise<void> {
    const until = options.until ?? Infinity;
    const maxSteps = options.maxSteps ?? this.maxSteps;
    this.beginRun(until, maxSteps);
    watchMicrotasks();
    try {
      await this.guard.run(() => this.loop(until, maxSteps), this.clock);
    } finally {
      unwatchMicrotasks();
      this.running = false;
    }
    this.guard.check();
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
    watchMicrotasks();
    try {
      this.guard.runSync(() => {
        this.loopSync(until, maxSteps);
      }, this.clock);
    } finally {
      unwatchMicrotasks();
      this.running = false;
    }
    this.guard.check();
  }

  private loopSync(until: number, maxSteps: number): void {
    takeMicrotaskActivity();
    let steps = 0;
    const world = this.world;
    for (;;) {
      this.throwFailure();
      const next = world.scheduler.peek();
      if (next === undefined || next.time > until) break;
      if (++steps > maxSteps) throw world.stalled(steps - 1);
      world.step(next);
      if (takeMicrotaskActivity()) {
        throw new ReactorStateError(`runSync(): ${next.describe()} created or settled a promise; async code needs run() or runUntilIdle()`);
      }
    }
    this.throwFailure();
    if (until !== Infinity && until > world.current) world.current = until;
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
    const world = this.world;
    let steps = 0;
    for (;;) {
      this.throwFailure();
      const next = world.scheduler.peek();
      if (next === undefined || next.time > until) break;
      if (++steps > maxSteps) throw world.stalled(steps - 1);
      world.step(next);
      if (always || takeMicrotaskActivity()) {
        await drainMicrotasks();
        takeMicrotaskActivity();
      }
    }
    this.throwFailure();
    if (until !== Infinity && until > world.current) world.current = until;
  }

  private throwFailure(): void {
    const failure = this.world.takeFailure();
    if (failure !== null) throw failure;
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  /**
   * Schedules `fault` at virtual time `ms` (absolute).
   *
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `ms` is in the past or not finite.
   */
  at(ms: number, fault: SimFault): void {
    const now = this.world.current;
    if (!Number.isFinite(ms) || ms < now) throw new InvalidOptionError("at", `must be a finite time >= now (${now} ms), got ${ms}`);
    this.world.scheduleFault(ms, fault);
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
    this.world.inject(fault);
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
    this.world.setLatency(a, b, model);
  }

  // -------------------------------------------------------------------------------------------
  // Trace

  /** @returns the trace as readable lines (needs `trace: "lines"`, the default). */
  trace(): string[] {
    return this.world.tracer.lines();
  }

  /** @returns the trace as one text, a line per record. */
  traceText(): string {
    return this.world.tracer.lines().join("\n");
  }

  /** @returns a hash of everything the run did; equal seeds and scenarios give equal hashes. */
  traceHash(): string {
    return this.world.tracer.hash();
  }

  /**
   * Adds a line to the trace, stamped with the virtual time (`note: the client dials`): an
   * event of the test or the application worth seeing next to the network's. Hosts have their
   * own `note`. Notes are part of the trace hash.
   */
  note(text: string): void {
    this.world.note(text, null);
  }
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
  const base = { seed, hashes, records: first.world.tracer.count };
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return { ...base, ok: false, divergence: { index: i, first: a[i], second: b[i] } };
  }
  if (hashes[0] !== hashes[1]) return { ...base, ok: false, divergence: { index: a.length, first: undefined, second: undefined } };
  return { ...base, ok: true };
}
