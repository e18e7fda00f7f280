/**
 * The benchmark runner: runs scenarios × styles × connection counts × repeats, each server in
 * its own child process and the load in worker processes, and builds the results file.
 *
 * Each style's server runs in its own child process, started once per scenario; for each
 * connection count and repeat the styles take turns (interleaved, so that outside disturbances
 * spread over all styles), each with fresh load connections, a warm-up of `warmupMs` and a
 * measured window of `durationMs`. idle-hold (kind `idle`) starts a fresh server per repeat, so
 * that its memory before the connections is a clean baseline.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import * as os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { performance } from "node:perf_hooks";
import { encodeHistogram, createLatencyHistogram } from "./load/histogram.js";
import { LoadPool } from "./load/load-pool.js";
import type { SeriesLoad } from "./load/load-pool.js";
import { sourceAddressesFor } from "./load/source-addresses.js";
import { assemblePoint } from "./point.js";
import type { Environment, ResultPoint, Results } from "./results.js";
import { RESULTS_SCHEMA_VERSION } from "./results.js";
import type { Scenario, StyleName } from "./scenario.js";
import { peerUnavailable, peerVersion, ServerUnderTest } from "./server-under-test.js";

/** Default connection counts of a sweep. */
export const DEFAULT_CONNECTIONS: readonly number[] = [1, 10, 100, 1000];
/** Default measured window per point, ms. */
export const DEFAULT_DURATION_MS = 5000;
/** Default warm-up before each measured window, ms. */
export const DEFAULT_WARMUP_MS = 1000;
/** Default repeats per point. */
export const DEFAULT_REPEAT = 3;
/** Default operation timeout, ms. */
export const DEFAULT_OPERATION_TIMEOUT_MS = 10_000;
/** The address servers listen on. */
export const DEFAULT_HOST = "127.0.0.1";
/** Connections per sim point at most (the sim is a correctness check, not a load). */
export const SIM_MAX_CONNECTIONS = 100;
/** Operations per connection in a sim point. */
export const SIM_OPERATIONS = 20;
/** Settling time after idle-hold connects, before memory is read, ms. */
export const IDLE_SETTLE_MS = 500;

/**
 * Default load workers: every core but the server's, at least one, so that neither the
 * server nor a worker has to share a core when the machine is otherwise idle.
 * @returns the count.
 */
export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism() - 1);
}

/** Which load generator makes the load. */
export type LoadGeneratorName = "wirelab" | "autocannon";

/** A sweep, as the CLI parsed it. */
export interface BenchOptions {
  /** The scenarios, in order. */
  readonly scenarios: readonly Scenario[];
  /** The styles to run; null runs every style each scenario has. */
  readonly styles: readonly StyleName[] | null;
  /** Connection counts per scenario name; `*` for the rest; a scenario's own default otherwise. */
  readonly connections: ReadonlyMap<string, readonly number[]>;
  /** @defaultValue DEFAULT_DURATION_MS */
  readonly durationMs: number;
  /** @defaultValue DEFAULT_WARMUP_MS */
  readonly warmupMs: number;
  /** @defaultValue DEFAULT_REPEAT */
  readonly repeat: number;
  /** Open-loop rate in operations per second over all connections; absent: closed loop. */
  readonly rate?: number;
  /** Run the sim checks instead of real sockets. */
  readonly sim: boolean;
  /** @defaultValue defaultWorkers() */
  readonly workers: number;
  /** @defaultValue "wirelab" */
  readonly load: LoadGeneratorName;
  /** @defaultValue DEFAULT_HOST */
  readonly host: string;
  /** @defaultValue DEFAULT_OPERATION_TIMEOUT_MS */
  readonly timeoutMs: number;
  /** Extra Node flags for server children (profiling). */
  readonly serverNodeFlags: readonly string[];
  /** Extra Node flags for load workers (profiling). */
  readonly loadNodeFlags: readonly string[];
  /**
   * Pin the server to CPU 0 and the load workers to the other CPUs (`taskset`), so that the
   * scheduler cannot put both on one core while the other idles: on a 2-core machine that was
   * seen to halve a point's throughput with both sides at ~50%. Ignored on one core.
   * @defaultValue true
   */
  readonly pin: boolean;
  /** The seed of sim runs. */
  readonly seed: number;
  /** The command line, for the provenance. */
  readonly command: string;
}

/** What the runner tells its caller as it goes. */
export interface BenchProgress {
  /** The sweep has `total` points. */
  begin(total: number): void;
  /** A point is done. */
  point(point: ResultPoint): void;
  /** Something the user should see (a skipped style, a failure). */
  note(text: string): void;
}

/**
 * The connection counts of `scenario` in this sweep.
 * @param options - the sweep.
 * @param scenario - the scenario.
 * @returns its counts.
 */
export function connectionsFor(options: Pick<BenchOptions, "connections">, scenario: Scenario): readonly number[] {
  return options.connections.get(scenario.name) ?? options.connections.get("*") ?? scenario.defaultConnections ?? DEFAULT_CONNECTIONS;
}

/**
 * The styles of `scenario` in this sweep, in the order asked for (or the scenario's).
 * @param options - the sweep.
 * @param scenario - the scenario.
 * @returns the style names it has among those asked for.
 */
export function stylesFor(options: Pick<BenchOptions, "styles" | "sim">, scenario: Scenario): StyleName[] {
  const all = Object.keys(scenario.styles) as StyleName[];
  const wanted = options.styles === null ? all : options.styles.filter((s) => all.includes(s));
  return options.sim ? wanted.filter((s) => s === "callback" || s === "async") : wanted;
}

function gitCommit(): string {
  try {
    const cwd = new URL("..", import.meta.url);
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return dirty === "" ? head : `${head}-dirty`;
  } catch {
    return "unknown";
  }
}

function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/**
 * Describes the machine and the run.
 * @param command - the command line.
 * @param peers - versions of the peers that ran.
 * @returns the environment.
 */
export function describeEnvironment(command: string, peers: Readonly<Record<string, string>>): Environment {
  const cpus = os.cpus();
  return {
    nodeVersion: process.version,
    cpuModel: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
    commit: gitCommit(),
    command,
    startedAt: new Date().toISOString(),
    peers,
  };
}

const EMPTY_HISTOGRAM = encodeHistogram(createLatencyHistogram());

function failedPoint(scenario: string, style: string, connections: number, repeat: number, options: BenchOptions, failure: string): ResultPoint {
  return {
    scenario,
    style,
    mode: options.sim ? "sim" : "real",
    loadGenerator: options.sim ? "sim" : options.load,
    connections,
    repeat,
    durationMs: 0,
    ...(options.rate === undefined ? {} : { rate: options.rate }),
    throughput: 0,
    operations: 0,
    latencyUs: { p50: 0, p90: 0, p99: 0, p999: 0, max: 0 },
    errors: 0,
    timeouts: 0,
    mismatches: 0,
    serverRssBytes: 0,
    serverCpuPercent: 0,
    serverCpuUsPerOp: 0,
    clientCpuPercent: 0,
    clientWorkers: 0,
    generatorSaturated: false,
    histogram: EMPTY_HISTOGRAM,
    failure,
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs a sweep.
 * @param options - the sweep.
 * @param progress - told of each point and of anything skipped.
 * @returns the results.
 */
export async function runBench(options: BenchOptions, progress: BenchProgress): Promise<Results> {
  const peers: Record<string, string> = {};
  const plan: { scenario: Scenario; styles: StyleName[]; connections: readonly number[] }[] = [];
  for (const scenario of options.scenarios) {
    const styles: StyleName[] = [];
    for (const style of stylesFor(options, scenario)) {
      const spec = scenario.styles[style]!;
      if (!options.sim && spec.kind === "peer") {
        const why = peerUnavailable(spec);
        if (why !== null) {
          progress.note(`skipping ${scenario.name}/${style}: ${why}`);
          continue;
        }
        peers[style] ??= peerVersion(spec);
      }
      if (!options.sim && options.load === "autocannon" && scenario.autocannon === undefined) {
        progress.note(`skipping ${scenario.name}/${style}: autocannon loads HTTP scenarios only`);
        continue;
      }
      styles.push(style);
    }
    if (options.styles !== null) {
      const missing = options.styles.filter((s) => scenario.styles[s] === undefined);
      if (missing.length > 0) progress.note(`${scenario.name} has no style ${missing.join(", ")}`);
    }
    plan.push({ scenario, styles, connections: connectionsFor(options, scenario) });
  }
  if (!options.sim && options.load === "autocannon") peers["autocannon"] = packageVersion("autocannon");
  const environment = describeEnvironment(options.command, peers);
  progress.begin(plan.reduce((n, p) => n + p.styles.length * p.connections.length * options.repeat, 0));

  const points: ResultPoint[] = [];
  const emit = (point: ResultPoint): void => {
    points.push(point);
    progress.point(point);
  };
  if (options.sim) {
    for (const { scenario, connections } of plan) await runSim(scenario, connections, options, emit);
  } else {
    const pool = new LoadPool(options.workers, options.loadNodeFlags, pinning(options)?.load);
    try {
      for (const { scenario, styles, connections } of plan) {
        if (scenario.kind === "idle") {
          for (const style of styles) await runIdleStyle(scenario, style, connections, options, pool, emit, progress);
        } else await runThroughputScenario(scenario, styles, connections, options, pool, emit, progress);
      }
    } finally {
      await pool.shutdown();
    }
  }
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    environment,
    parameters: {
      scenarios: options.scenarios.map((s) => s.name),
      styles: options.styles ?? [...new Set(plan.flatMap((p) => p.styles))],
      connections: [...new Set(plan.flatMap((p) => p.connections))],
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
      repeat: options.repeat,
      ...(options.rate === undefined ? {} : { rate: options.rate }),
      sim: options.sim,
    },
    points,
  };
}

/**
 * The CPU sets of a pinned run.
 * @param options - the sweep.
 * @returns the server's and the load's CPUs (`taskset -c` syntax), or undefined when not pinned.
 */
export function pinning(options: Pick<BenchOptions, "pin">): { server: string; load: string } | undefined {
  const cores = os.availableParallelism();
  if (!options.pin || cores < 2) return undefined;
  return { server: "0", load: cores === 2 ? "1" : `1-${cores - 1}` };
}

function serverOptions(options: BenchOptions): { host: string; nodeFlags: readonly string[]; cpus?: string } {
  const cpus = pinning(options)?.server;
  return { host: options.host, nodeFlags: options.serverNodeFlags, ...(cpus === undefined ? {} : { cpus }) };
}

function seriesLoad(scenario: Scenario, options: BenchOptions, port: number, connections: number): SeriesLoad {
  const autocannon = options.load === "autocannon" && scenario.autocannon !== undefined ? scenario.autocannon : undefined;
  return {
    workload: autocannon === undefined ? scenario.workload : null,
    ...(autocannon === undefined ? {} : { autocannon }),
    host: options.host,
    port,
    connections,
    ...(options.rate === undefined ? {} : { rate: options.rate }),
    timeoutMs: options.timeoutMs,
    sourceAddresses: sourceAddressesFor(connections, options.host),
  };
}

async function measureWindow(
  server: ServerUnderTest,
  pool: LoadPool,
  durationMs: number,
): Promise<{ windowMs: number; start: Awaited<ReturnType<ServerUnderTest["sample"]>>; end: Awaited<ReturnType<ServerUnderTest["sample"]>>; workers: Awaited<ReturnType<LoadPool["stop"]>> }> {
  pool.measure();
  const t0 = performance.now();
  const start = await server.sample();
  await sleep(Math.max(0, durationMs - (performance.now() - t0)));
  const end = await server.sample();
  const windowMs = performance.now() - t0;
  const workers = await pool.stop();
  return { windowMs, start, end, workers };
}

/**
 * Runs a throughput scenario. Every style's server starts first and stays up (an idle server
 * costs nothing); then, for each connection count and repeat, the styles take turns, each with
 * fresh connections, a warm-up and a window. Interleaving the styles spreads any disturbance
 * from outside (a shared machine) over all of them instead of one style's every repeat, which
 * keeps the style-to-style ratios of one run honest.
 */
async function runThroughputScenario(
  scenario: Scenario,
  styles: readonly StyleName[],
  connectionCounts: readonly number[],
  options: BenchOptions,
  pool: LoadPool,
  emit: (point: ResultPoint) => void,
  progress: BenchProgress,
): Promise<void> {
  const servers = new Map<StyleName, ServerUnderTest>();
  try {
    for (const style of styles) {
      const name = `${scenario.name}/${style}`;
      try {
        servers.set(style, await ServerUnderTest.start(name, scenario.styles[style]!, serverOptions(options)));
      } catch (error) {
        progress.note(`${name}: the server did not start: ${message(error)}`);
        for (const c of connectionCounts) for (let r = 0; r < options.repeat; r++) emit(failedPoint(scenario.name, style, c, r, options, `server did not start: ${message(error)}`));
      }
    }
    for (const connections of connectionCounts) {
      for (let repeat = 0; repeat < options.repeat; repeat++) {
        for (const [style, server] of servers) {
          try {
            const open = await pool.init(seriesLoad(scenario, options, server.port, connections));
            await pool.start();
            await sleep(options.warmupMs);
            const w = await measureWindow(server, pool, options.durationMs);
            emit(
              assemblePoint({
                scenario: scenario.name,
                style,
                loadGenerator: options.load,
                connections,
                repeat,
                windowMs: w.windowMs,
                ...(options.rate === undefined ? {} : { rate: options.rate }),
                workers: w.workers,
                connectFailures: connections - open,
                serverStart: w.start,
                serverEnd: w.end,
              }),
            );
          } catch (error) {
            progress.note(`${scenario.name}/${style} at ${connections} connections failed: ${message(error)}`);
            emit(failedPoint(scenario.name, style, connections, repeat, options, message(error)));
          } finally {
            await pool.close().catch((error: unknown) => {
              progress.note(`${scenario.name}/${style}: closing the load failed: ${message(error)}`);
            });
          }
        }
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  }
}

async function runIdleStyle(
  scenario: Scenario,
  style: StyleName,
  connectionCounts: readonly number[],
  options: BenchOptions,
  pool: LoadPool,
  emit: (point: ResultPoint) => void,
  progress: BenchProgress,
): Promise<void> {
  const name = `${scenario.name}/${style}`;
  for (const connections of connectionCounts) {
    for (let repeat = 0; repeat < options.repeat; repeat++) {
      let server: ServerUnderTest | null = null;
      try {
        server = await ServerUnderTest.start(name, scenario.styles[style]!, serverOptions(options));
        const before = await server.memoryAfterGc();
        const open = await pool.init(seriesLoad(scenario, options, server.port, connections));
        await sleep(IDLE_SETTLE_MS);
        const after = await server.memoryAfterGc();
        await pool.start();
        await sleep(options.warmupMs);
        const w = await measureWindow(server, pool, options.durationMs);
        const extra: Record<string, number> = {
          heldConnections: open,
          rssBeforeBytes: before.rssBytes,
          rssAfterBytes: after.rssBytes,
          bytesPerConnection: open > 0 ? (after.rssBytes - before.rssBytes) / open : 0,
        };
        if (server.isNode) extra["heapBytesPerConnection"] = open > 0 ? (after.heapUsedBytes - before.heapUsedBytes) / open : 0;
        const point = assemblePoint({
          scenario: scenario.name,
          style,
          loadGenerator: options.load,
          connections,
          repeat,
          windowMs: w.windowMs,
          workers: w.workers,
          connectFailures: connections - open,
          serverStart: w.start,
          serverEnd: w.end,
          extra,
        });
        // Held means answered the liveness probe at the end, not just connected once. The probes
        // come after the window, so a rate means nothing here; CPU is per held connection.
        const held = point.operations;
        const serverCpuUs = w.end.cpuUs - w.start.cpuUs;
        emit({
          ...point,
          throughput: 0,
          serverCpuUsPerOp: held > 0 ? serverCpuUs / held : 0,
          extra: { ...point.extra, heldConnections: held, serverCpuUsPerConnectionSecond: held > 0 ? serverCpuUs / held / (w.windowMs / 1000) : 0 },
        });
      } catch (error) {
        progress.note(`${name} at ${connections} connections failed: ${message(error)}`);
        emit(failedPoint(scenario.name, style, connections, repeat, options, message(error)));
      } finally {
        await pool.close().catch(() => {});
        await server?.stop();
      }
    }
  }
}

async function runSim(scenario: Scenario, connectionCounts: readonly number[], options: BenchOptions, emit: (point: ResultPoint) => void): Promise<void> {
  for (const requested of connectionCounts) {
    const connections = Math.min(requested, SIM_MAX_CONNECTIONS);
    for (let repeat = 0; repeat < options.repeat; repeat++) {
      const results = await scenario.sim({ seed: options.seed + repeat, connections, operations: SIM_OPERATIONS, faults: true });
      for (const r of results) {
        if (options.styles !== null && !options.styles.includes(r.style)) continue;
        const base = failedPoint(scenario.name, r.style, connections, repeat, options, "");
        const { failure: _none, ...rest } = base;
        emit({
          ...rest,
          durationMs: r.virtualMs,
          operations: r.operations,
          throughput: r.virtualMs > 0 ? (r.operations * 1000) / r.virtualMs : 0,
          mismatches: r.violations.length,
          extra: { lostToFaults: r.lostToFaults, violations: r.violations.length, seed: options.seed + repeat },
          ...(r.violations.length === 0 ? {} : { failure: `invariant violated: ${r.violations.join("; ")}` }),
        });
      }
    }
  }
}
