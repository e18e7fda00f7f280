/**
 * `bench()`: runs a sweep and returns its results. A sweep is a pipeline the options pass
 * through once: plan (`plan.ts`) → for each point: start the server (`server-under-test.ts`) →
 * open the load and measure a window (`measure.ts`, with the load workers of `load/`) →
 * assemble the point (`point.ts`) → results (`results-writer.ts`). `--sim` replaces the middle
 * with the scenario's sim check (`sim-check.ts`).
 *
 * Each style's server runs in its own child process, started once per scenario; for each
 * connection count and repeat the styles take turns (interleaved, so that outside disturbances
 * spread over all styles), each with fresh load connections, a warm-up and a measured window.
 * A `hold` scenario starts a fresh server per point, so that its memory before the connections
 * is a clean baseline.
 *
 * @module
 */

import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import type { ResultPoint, Results } from "../../reports/results.js";
import type { BenchOptions, SweepOptions } from "./bench-options.js";
import { validateBenchOptions } from "./bench-options.js";
import { BUILTIN_SCENARIOS, loadScenarios } from "./load-scenario.js";
import { LoadPool } from "./load/load-pool.js";
import type { SeriesLoad } from "./load/load-pool.js";
import type { LoadKind } from "./load/load-worker.js";
import { sourceAddressesFor } from "./load/source-addresses.js";
import { measureHold, measureThroughput } from "./measure.js";
import type { MeasuredWindow } from "./measure.js";
import type { Plan, PlannedScenario, PlannedStyle } from "./plan.js";
import { planSweep } from "./plan.js";
export { SIM_MAX_CONNECTIONS } from "./plan.js";
import type { PointKey } from "./point.js";
import { assemblePoint, failedPoint, holdPoint, SERVER_DID_NOT_START } from "./point.js";
import { createProgress } from "./progress.js";
import { assembleResults, describeEnvironment } from "./results-writer.js";
import type { ServerChildOptions, ServerUnderTest } from "./server-under-test.js";
import { attachTarget, probeTarget, startCommandServer, startServerChild } from "./server-under-test.js";
import { checkScenario } from "./sim-check.js";
import { comparisonPrecision, describePrecision, shouldStop, type PrecisionOutcome } from "./precision.js";

/** What the runner tells its caller as it goes. */
export interface BenchProgress {
  /** The sweep has `total` points. */
  begin(total: number): void;
  /** A point is done. */
  point(point: ResultPoint): void;
  /** Something the user should see (a skipped style, a failure). */
  note(text: string): void;
}

/** {@link bench}'s options: the sweep, and where progress goes. */
export interface BenchRunOptions extends BenchOptions {
  /** Told of each point and of anything skipped. @defaultValue lines on stderr */
  readonly progress?: BenchProgress;
}

/**
 * The CPU sets of a pinned run.
 * @param pin - whether to pin.
 * @returns the server's and the load's CPUs (`taskset -c` syntax), or undefined when not pinned.
 */
export function pinning(pin: boolean): { server: string; load: string } | undefined {
  const cores = os.availableParallelism();
  if (!pin || cores < 2) return undefined;
  return { server: "0", load: cores === 2 ? "1" : `1-${cores - 1}` };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs a sweep: real sockets (each server in its own process, the load in worker processes), or
 * `SimNetwork` with `sim: true`.
 *
 * @param options - the sweep.
 * @returns the results (write them with `wirelab bench --out`, report them with `report()`).
 * @throws (rejects) InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad option, a scenario that
 *   cannot be found or loaded, a `--target` where nothing listens. A point that fails does not
 *   throw: it is in the results with its `failure`.
 *
 * @example
 * ```ts
 * import { bench } from "wirelab/bench";
 * import { report } from "wirelab/report";
 *
 * const results = await bench({ scenarios: ["./kv-scenario.ts"], connections: [1, 10], duration: "1s", repeat: 3 });
 * await report(results, { out: "bench-report" });
 * ```
 */
export async function bench(options: BenchRunOptions = {}): Promise<Results> {
  const sweep = validateBenchOptions(options);
  const scenarios = await loadScenarios(sweep.scenarios ?? BUILTIN_SCENARIOS, sweep.cwd);
  for (const target of sweep.targets) await probeTarget(target);
  const plan = planSweep(sweep, scenarios);
  const progress = options.progress ?? createProgress(process.stderr);
  const environment = describeEnvironment(sweep.command, { ...plan.peers, ...(plan.scenarios.some((p) => p.load === "autocannon") ? { autocannon: autocannonVersion() } : {}) });
  for (const note of plan.notes) progress.note(note);
  if (sweep.precision !== null) {
    progress.note(`--precision ±${+(sweep.precision * 100).toFixed(2)}%: at least ${plan.total} points, then more rounds until every declared comparison is that precise or ${(sweep.maxTimeMs / 1000).toFixed(0)} s per scenario and connection count run out`);
  }
  progress.begin(plan.total);
  const points: ResultPoint[] = [];
  const emit = (point: ResultPoint): void => {
    points.push(point);
    progress.point(point);
  };
  const outcomes: PrecisionOutcome[] = [];
  if (sweep.sim) await runSim(plan, sweep, emit);
  else await runReal(plan, sweep, emit, progress, outcomes);
  const results = assembleResults(
    environment,
    {
      scenarios: plan.scenarios.map((p) => p.loaded.scenario.name),
      styles: sweep.styles ?? [...new Set(plan.scenarios.flatMap((p) => p.styles.map((s) => s.name)))],
      connections: [...new Set(plan.scenarios.flatMap((p) => p.connections))],
      durationMs: sweep.durationMs,
      warmupMs: sweep.warmupMs,
      repeat: sweep.repeat,
      ...(sweep.rate === undefined ? {} : { rate: sweep.rate }),
      sim: sweep.sim,
      load: sweep.sim ? "sim" : (sweep.load ?? "default"),
      ...(sweep.targets.length === 0 ? {} : { targets: sweep.targets.map((t) => `${t.name}=${t.host}:${t.port}`) }),
      ...(sweep.serverCpuProfile === null ? {} : { serverCpuProfile: sweep.serverCpuProfile }),
    },
    plan.scenarios,
    points,
  );
  if (sweep.precision === null) return results;
  return {
    ...results,
    precision: {
      target: sweep.precision,
      maxTimeMs: sweep.maxTimeMs,
      outcomes: outcomes.map((o) => ({
        scenario: o.scenario,
        connections: o.connections,
        rounds: o.rounds,
        elapsedMs: Math.round(o.elapsedMs),
        stoppedBy: o.stoppedBy,
        comparisons: o.comparisons.map((c) => ({ subject: c.subject, reference: c.reference, figure: c.figure, ratio: c.ratio?.estimate ?? null, halfWidth: c.ratio?.relativeHalfWidth ?? null })),
      })),
    },
  };
}

function autocannonVersion(): string {
  try {
    return (createRequire(import.meta.url)("autocannon/package.json") as { version: string }).version;
  } catch {
    return "unknown";
  }
}

function key(p: PlannedScenario, style: string, connections: number, repeat: number, sweep: SweepOptions): PointKey {
  return {
    scenario: p.loaded.scenario.name,
    style,
    mode: sweep.sim ? "sim" : "real",
    loadGenerator: p.load,
    connections,
    repeat,
    ...(sweep.rate === undefined || sweep.sim ? {} : { rate: sweep.rate }),
  };
}

async function runSim(plan: Plan, sweep: SweepOptions, emit: (point: ResultPoint) => void): Promise<void> {
  for (const p of plan.scenarios) {
    const styles = p.styles.map((s) => s.name);
    if (styles.length === 0) continue;
    for (const connections of p.connections) {
      for (let repeat = 0; repeat < sweep.repeat; repeat++) {
        const seed = sweep.seed + repeat;
        for (const r of await checkScenario(p.loaded.scenario, { seed, connections, styles })) {
          const base = failedPoint(key(p, r.style, connections, repeat, sweep), "");
          const { failure: _none, ...rest } = base;
          emit({
            ...rest,
            durationMs: r.virtualMs,
            operations: r.operations,
            throughput: r.virtualMs > 0 ? (r.operations * 1000) / r.virtualMs : 0,
            mismatches: r.violations.length,
            extra: { lostToFaults: r.lostToFaults, violations: r.violations.length, seed },
            ...(r.violations.length === 0 ? {} : { failure: `invariant violated: ${r.violations.join("; ")}` }),
          });
        }
      }
    }
  }
}

function childOptions(sweep: SweepOptions, scenario: string, style: string): ServerChildOptions {
  const cpus = pinning(sweep.pin)?.server;
  // Each style profiles into its own folder, so the report knows whose profile is whose.
  const profile = sweep.serverCpuProfile === null ? [] : ["--cpu-prof", `--cpu-prof-dir=${path.join(sweep.serverCpuProfile, scenario, style)}`];
  return { host: sweep.host, nodeFlags: [...sweep.serverNodeFlags, ...profile], ...(cpus === undefined ? {} : { cpus }) };
}

async function startServer(p: PlannedScenario, style: PlannedStyle, sweep: SweepOptions): Promise<ServerUnderTest> {
  const name = `${p.loaded.scenario.name}/${style.name}`;
  switch (style.run) {
    case "target":
      return attachTarget(style.target);
    case "command":
      return startCommandServer(name, style.style, childOptions(sweep, p.loaded.scenario.name, style.name));
    default:
      return startServerChild(name, p.loaded.url, p.loaded.scenario.name, style.name, childOptions(sweep, p.loaded.scenario.name, style.name));
  }
}

function seriesLoad(p: PlannedScenario, server: ServerUnderTest, connections: number, sweep: SweepOptions): SeriesLoad {
  return {
    scenarioUrl: p.loaded.url,
    scenario: p.loaded.scenario.name,
    load: p.load as LoadKind,
    host: server.host,
    port: server.port,
    connections,
    ...(sweep.rate === undefined ? {} : { rate: sweep.rate }),
    timeoutMs: sweep.timeoutMs,
    sourceAddresses: sourceAddressesFor(connections, server.host),
  };
}

function pointOf(p: PlannedScenario, style: string, connections: number, repeat: number, sweep: SweepOptions, w: MeasuredWindow): ResultPoint {
  const k = key(p, style, connections, repeat, sweep);
  const point = assemblePoint({
    scenario: k.scenario,
    style,
    loadGenerator: k.loadGenerator,
    connections,
    repeat,
    windowMs: w.windowMs,
    ...(k.rate === undefined ? {} : { rate: k.rate }),
    workers: w.workers,
    connectFailures: connections - w.open,
    serverStart: w.serverStart,
    serverEnd: w.serverEnd,
  });
  return w.memory === undefined ? point : holdPoint(point, w.memory, w.open);
}

async function runReal(plan: Plan, sweep: SweepOptions, emit: (point: ResultPoint) => void, progress: BenchProgress, outcomes: PrecisionOutcome[]): Promise<void> {
  const pool = new LoadPool(sweep.workers, sweep.loadNodeFlags, pinning(sweep.pin)?.load);
  try {
    for (const p of plan.scenarios) {
      if (p.loaded.scenario.kind === "hold") {
        if (sweep.precision !== null) progress.note(`${p.loaded.scenario.name}: --precision narrows throughput scenarios; a hold scenario runs --repeat ${sweep.repeat} times`);
        await runHold(p, sweep, pool, emit, progress);
      } else await runThroughput(p, sweep, pool, emit, progress, outcomes);
    }
  } finally {
    await pool.shutdown();
  }
}

/**
 * Every style's server starts first and stays up (an idle server costs nothing); then, for each
 * connection count and repeat, the styles take turns, each with fresh connections, a warm-up and
 * a window. Interleaving the styles spreads any disturbance from outside (a shared machine) over
 * all of them instead of one style's every repeat, which keeps the ratios of one run honest.
 */
async function runThroughput(p: PlannedScenario, sweep: SweepOptions, pool: LoadPool, emit: (point: ResultPoint) => void, progress: BenchProgress, outcomes: PrecisionOutcome[]): Promise<void> {
  const servers = new Map<string, ServerUnderTest>();
  const name = p.loaded.scenario.name;
  try {
    for (const style of p.styles) {
      try {
        servers.set(style.name, await startServer(p, style, sweep));
      } catch (error) {
        progress.note(`${name}/${style.name}: the server did not start: ${message(error)}`);
        for (const c of p.connections) for (let r = 0; r < sweep.repeat; r++) emit(failedPoint(key(p, style.name, c, r, sweep), `${SERVER_DID_NOT_START}${message(error)}`));
      }
    }
    // The comparisons auto-sampling narrows: those declared between styles whose servers run.
    const comparisons = p.loaded.scenario.compare.filter(([a, b]) => servers.has(a) && servers.has(b)).map(([subject, reference]) => ({ subject, reference }));
    for (const connections of p.connections) {
      const started = performance.now();
      const runs: ResultPoint[] = [];
      for (let repeat = 0; ; repeat++) {
        if (sweep.precision === null) {
          if (repeat >= sweep.repeat) break;
        } else {
          const state = { rounds: repeat, elapsedMs: performance.now() - started, comparisons: comparisonPrecision(runs, comparisons, p.loaded.scenario.kind, sweep.precision, sweep.rate) };
          const stop = repeat < sweep.repeat ? null : shouldStop(state, sweep.repeat, sweep.maxTimeMs);
          if (stop !== null) {
            const outcome: PrecisionOutcome = { scenario: name, connections, rounds: repeat, elapsedMs: state.elapsedMs, stoppedBy: stop, comparisons: state.comparisons };
            outcomes.push(outcome);
            progress.note(describePrecision(outcome, sweep.precision));
            break;
          }
        }
        // Every other round in reverse order, so that no style always goes first (the first window
        // after a pause, or after the load pool reconnects, can differ from the next one).
        const turns = repeat % 2 === 0 ? [...servers] : [...servers].reverse();
        for (const [style, server] of turns) {
          let point: ResultPoint;
          try {
            const w = await measureThroughput(server, pool, seriesLoad(p, server, connections, sweep), sweep);
            point = pointOf(p, style, connections, repeat, sweep, w);
          } catch (error) {
            progress.note(`${name}/${style} at ${connections} connections failed: ${message(error)}`);
            point = failedPoint(key(p, style, connections, repeat, sweep), message(error));
          } finally {
            await pool.close().catch((error: unknown) => {
              progress.note(`${name}/${style}: closing the load failed: ${message(error)}`);
            });
          }
          runs.push(point);
          emit(point);
        }
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  }
}

async function runHold(p: PlannedScenario, sweep: SweepOptions, pool: LoadPool, emit: (point: ResultPoint) => void, progress: BenchProgress): Promise<void> {
  for (const style of p.styles) {
    const name = `${p.loaded.scenario.name}/${style.name}`;
    for (const connections of p.connections) {
      for (let repeat = 0; repeat < sweep.repeat; repeat++) {
        let server: ServerUnderTest | null = null;
        try {
          try {
            server = await startServer(p, style, sweep);
          } catch (error) {
            throw new Error(`${SERVER_DID_NOT_START}${message(error)}`, { cause: error });
          }
          const w = await measureHold(server, pool, seriesLoad(p, server, connections, sweep), sweep);
          emit(pointOf(p, style.name, connections, repeat, sweep, w));
        } catch (error) {
          progress.note(`${name} at ${connections} connections failed: ${message(error)}`);
          emit(failedPoint(key(p, style.name, connections, repeat, sweep), message(error)));
        } finally {
          await pool.close().catch(() => {});
          await server?.stop();
        }
      }
    }
  }
}
