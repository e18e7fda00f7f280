/**
 * What a sweep is asked to do, and the one validator of it: `bench(options)` and the `wirelab
 * bench` command line both come through {@link validateBenchOptions}, so a bad value gets the same
 * `InvalidOptionError` (`WL_ERR_INVALID_OPTION`) either way, named by its command-line flag.
 *
 * @module
 */

import * as os from "node:os";
import * as path from "node:path";
import { InvalidOptionError } from "../../runtime/errors.js";
import type { TargetSpec } from "./server-under-test.js";
import { DEFAULT_PRECISION_MAX_TIME_MS } from "./precision.js";

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
/** The first seed of `--sim` runs. */
export const DEFAULT_SEED = 1;
/** The most connections a point may ask for (the descriptor cap is 20,000 per process). */
export const MAX_CONNECTIONS = 100_000;
/** The most load workers. */
export const MAX_WORKERS = 64;
/** The most repeats. */
export const MAX_REPEAT = 100;
/** The longest duration accepted for any time option, ms (one hour). */
export const MAX_DURATION_MS = 3_600_000;

/**
 * Default load workers: every core but the server's, at least one, so that neither the
 * server nor a worker has to share a core when the machine is otherwise idle.
 * @returns the count.
 */
export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism() - 1);
}

/** Which load the workers make: the scenario's lean generator, its client workload, or autocannon. */
export type LoadChoice = "generator" | "client" | "autocannon";

/** A server that is already running, for `targets`. */
export interface TargetOption {
  /** The style name its points carry. @defaultValue "target" */
  readonly name?: string;
  readonly host: string;
  readonly port: number;
  /** Its process ID, to read CPU and memory from; without it they are reported as unknown. */
  readonly pid?: number;
}

/**
 * A sweep, for `bench()`. Durations are milliseconds or strings such as `"300ms"`, `"5s"`, `"2m"`.
 */
export interface BenchOptions {
  /**
   * The scenarios: built-in names (`tcp-echo`), module paths (relative to `cwd`) or `file:` URLs.
   * @defaultValue every built-in scenario
   */
  readonly scenarios?: readonly (string | URL)[];
  /** The styles to run; others are skipped. @defaultValue every style each scenario has */
  readonly styles?: readonly string[];
  /**
   * Connection counts: one list for every scenario, or lists by scenario name (`"*"` for the rest).
   * @defaultValue each scenario's `defaultConnections`, else DEFAULT_CONNECTIONS
   */
  readonly connections?: readonly number[] | Readonly<Record<string, readonly number[]>>;
  /** The measured window per point. @defaultValue DEFAULT_DURATION_MS */
  readonly duration?: number | string;
  /** Load before each window, not measured. @defaultValue DEFAULT_WARMUP_MS */
  readonly warmup?: number | string;
  /** Repeats per point. @defaultValue DEFAULT_REPEAT */
  readonly repeat?: number;
  /** Open loop: operations per second over all connections. @defaultValue closed loop */
  readonly rate?: number;
  /** Run each scenario's wirelab styles and client on `SimNetwork` instead of sockets. @defaultValue false */
  readonly sim?: boolean;
  /** Load worker processes. @defaultValue defaultWorkers() */
  readonly workers?: number;
  /** Which load. @defaultValue the scenario's generator when it has one, else its client */
  readonly load?: LoadChoice;
  /** The loopback address the servers listen on. @defaultValue DEFAULT_HOST */
  readonly host?: string;
  /** An operation unanswered this long is a timeout. @defaultValue DEFAULT_OPERATION_TIMEOUT_MS */
  readonly timeout?: number | string;
  /** Servers already running to load instead of the scenario's styles (`--target`). */
  readonly targets?: readonly TargetOption[];
  /** The first seed of sim runs. @defaultValue DEFAULT_SEED */
  readonly seed?: number;
  /** Pin the server to CPU 0 and the load workers to the others (`taskset`). @defaultValue true */
  readonly pin?: boolean;
  /** Extra Node flags for Node server children. @defaultValue [] */
  readonly serverNodeFlags?: readonly string[];
  /**
   * Profile every Node server with `--cpu-prof` into `DIR/<scenario>/<style>/` (relative to
   * `cwd`); the report then shows where each style's time goes. @defaultValue no profiling
   */
  readonly serverCpuProfile?: string;
  /** Extra Node flags for load workers (profiling). @defaultValue [] */
  readonly loadNodeFlags?: readonly string[];
  /**
   * Auto-sampling: keep making interleaved rounds of the styles, past `repeat`, until every
   * declared comparison's 95% interval is within ± this fraction of its ratio (0.03 for ±3%; or
   * a string such as `"3%"`), or `maxTime` runs out. @defaultValue off: `repeat` rounds
   */
  readonly precision?: number | string;
  /** Auto-sampling's time budget per scenario and connection count. @defaultValue DEFAULT_PRECISION_MAX_TIME_MS (3 minutes) */
  readonly maxTime?: number | string;
  /** What relative scenario paths are relative to. @defaultValue process.cwd() */
  readonly cwd?: string;
  /** The command line, for the provenance. @defaultValue "bench()" */
  readonly command?: string;
}

/** A sweep, validated and with every default filled in. */
export interface SweepOptions {
  readonly scenarios: readonly (string | URL)[] | null;
  readonly styles: readonly string[] | null;
  /** Connection counts by scenario name; `*` for the rest; a scenario's own default otherwise. */
  readonly connections: ReadonlyMap<string, readonly number[]>;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly repeat: number;
  readonly rate?: number;
  readonly sim: boolean;
  readonly workers: number;
  /** null: each scenario's default. */
  readonly load: LoadChoice | null;
  readonly host: string;
  readonly timeoutMs: number;
  readonly targets: readonly TargetSpec[];
  readonly seed: number;
  readonly pin: boolean;
  readonly serverNodeFlags: readonly string[];
  /** Absolute folder of the server CPU profiles, or null. */
  readonly serverCpuProfile: string | null;
  readonly loadNodeFlags: readonly string[];
  /** Auto-sampling's target half-width (0.03), or null: `repeat` rounds. */
  readonly precision: number | null;
  readonly maxTimeMs: number;
  readonly cwd: string;
  readonly command: string;
}

/**
 * Parses a duration: `300ms`, `5s`, `1.5s`, `2m`; a bare number is seconds (as in wrk).
 * @param option - the option's name, for the error.
 * @param text - the value.
 * @param allowZero - whether 0 is allowed.
 * @returns milliseconds.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for anything else.
 */
export function parseDuration(option: string, text: string, allowZero = false): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (m === null) throw new InvalidOptionError(option, `expected a duration such as 300ms, 5s or 2m, got ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  const ms = m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000;
  return checkDuration(option, ms, allowZero, text);
}

function checkDuration(option: string, ms: number, allowZero: boolean, shown: string | number = ms): number {
  if (!Number.isFinite(ms) || (!allowZero && ms <= 0) || ms < 0 || ms > MAX_DURATION_MS) {
    throw new InvalidOptionError(option, `must be ${allowZero ? "at least 0" : "more than 0"} and at most 1 hour, got ${JSON.stringify(shown)}`);
  }
  return Math.round(ms);
}

function duration(option: string, value: number | string | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  return typeof value === "number" ? checkDuration(option, value, allowZero) : parseDuration(option, value, allowZero);
}

/**
 * Parses a positive integer within bounds.
 * @param option - the option's name.
 * @param text - the value.
 * @param max - the largest allowed.
 * @returns the integer.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) otherwise.
 */
export function parseCount(option: string, text: string, max: number): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidOptionError(option, `expected a positive integer, got ${JSON.stringify(text)}`);
  return checkCount(option, Number(text), max);
}

function checkCount(option: string, n: number, max: number): number {
  if (!Number.isInteger(n)) throw new InvalidOptionError(option, `expected a positive integer, got ${n}`);
  if (n < 1 || n > max) throw new InvalidOptionError(option, `must be between 1 and ${max}, got ${n}`);
  return n;
}

/**
 * Parses one `--connections` value: `1,10,100` for every scenario, or `SCENARIO=1000,10000`
 * for one.
 * @param text - the value.
 * @returns the scenario name (`*` for all) and the counts.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad count.
 */
export function parseConnections(text: string): { scenario: string; counts: number[] } {
  const eq = text.indexOf("=");
  const scenario = eq < 0 ? "*" : text.slice(0, eq);
  const list = eq < 0 ? text : text.slice(eq + 1);
  const counts = list.split(",").map((c) => parseCount("--connections", c, MAX_CONNECTIONS));
  return { scenario, counts };
}

/**
 * Parses a list of style names (`--styles`): any names; each once.
 * @param text - e.g. `callback,async,baseline`.
 * @returns the names.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for an empty name.
 */
export function parseStyles(text: string): string[] {
  const styles = text.split(",").map((s) => s.trim());
  if (styles.some((s) => s === "")) throw new InvalidOptionError("--styles", `expected names separated by commas, got ${JSON.stringify(text)}`);
  return [...new Set(styles)];
}

/**
 * Parses a `--target`: `HOST:PORT` or `NAME=HOST:PORT` (`[::1]:PORT` for IPv6).
 * @param text - the value.
 * @returns the target, named `target` unless named.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming `--target`.
 */
export function parseTarget(text: string): TargetOption {
  const m = /^(?:([A-Za-z0-9][A-Za-z0-9._-]*)=)?(\[[0-9a-fA-F:.]+\]|[^:=[\]]+):(\d{1,5})$/.exec(text.trim());
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 1 && port <= 65535)) throw new InvalidOptionError("--target", `expected HOST:PORT or NAME=HOST:PORT, got ${JSON.stringify(text)}`);
  const host = m[2]!.startsWith("[") ? m[2]!.slice(1, -1) : m[2]!;
  return { ...(m[1] === undefined ? {} : { name: m[1] }), host, port };
}

/**
 * Parses a `--server-pid`: `PID`, or `NAME=PID` for the target of that name.
 * @param text - the value.
 * @returns the target's name (`*`: the only target) and the PID.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming `--server-pid`.
 */
export function parseServerPid(text: string): { target: string; pid: number } {
  const eq = text.indexOf("=");
  const pid = parseCount("--server-pid", eq < 0 ? text : text.slice(eq + 1), 2 ** 31 - 1);
  return { target: eq < 0 ? "*" : text.slice(0, eq), pid };
}

function targetSpecs(targets: readonly TargetOption[] | undefined): TargetSpec[] {
  const out: TargetSpec[] = [];
  for (const [i, t] of (targets ?? []).entries()) {
    const name = t.name ?? "target";
    if (out.some((o) => o.name === name)) throw new InvalidOptionError("--target", `two targets are named ${JSON.stringify(name)}; name them: NAME=HOST:PORT`);
    if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) throw new InvalidOptionError("--target", `targets[${i}].port must be 1..65535, got ${t.port}`);
    if (t.pid !== undefined) checkCount("--server-pid", t.pid, 2 ** 31 - 1);
    out.push({ name, host: t.host, port: t.port, ...(t.pid === undefined ? {} : { pid: t.pid }) });
  }
  return out;
}

/**
 * Parses a precision: `3%`, `0.5%`, or a fraction such as `0.03`; within (0, 100%).
 * @param value - the value.
 * @returns the fraction.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming `--precision`.
 */
export function parsePrecision(value: number | string): number {
  const text = String(value).trim();
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text);
  const f = m === null ? NaN : m[2] === "%" ? Number(m[1]) / 100 : Number(m[1]);
  if (!(f > 0 && f < 1)) throw new InvalidOptionError("--precision", `expected a percentage such as 3% (or a fraction such as 0.03) in (0, 100%), got ${JSON.stringify(value)}`);
  return f;
}

/**
 * Validates a sweep and fills in its defaults (everything but loading the scenarios and probing
 * the targets, which need I/O).
 * @param options - the sweep as asked.
 * @returns the sweep.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming the first bad option by its flag.
 */
export function validateBenchOptions(options: BenchOptions): SweepOptions {
  const connections = new Map<string, readonly number[]>();
  const given = options.connections;
  if (given !== undefined) {
    const entries: [string, readonly number[]][] = Array.isArray(given) ? [["*", given as readonly number[]]] : Object.entries(given as Readonly<Record<string, readonly number[]>>);
    for (const [scenario, counts] of entries) {
      if (counts.length === 0) throw new InvalidOptionError("--connections", `no count given${scenario === "*" ? "" : ` for ${scenario}`}`);
      connections.set(scenario, counts.map((n) => checkCount("--connections", n, MAX_CONNECTIONS)));
    }
  }
  const host = options.host ?? DEFAULT_HOST;
  // The harness starts servers on loopback only: a benchmark never listens for, or loads,
  // anybody else. (A `--target` elsewhere is the user's explicit choice.)
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) throw new InvalidOptionError("--host", `must be a loopback address (127.x.y.z), got ${JSON.stringify(host)}`);
  const rate = options.rate;
  if (rate !== undefined && (!Number.isFinite(rate) || !(rate > 0))) throw new InvalidOptionError("--rate", `expected a positive number of operations per second, got ${rate}`);
  const load = options.load ?? null;
  if (load !== null && load !== "generator" && load !== "client" && load !== "autocannon") {
    throw new InvalidOptionError("--load", `expected generator, client or autocannon, got ${JSON.stringify(load)}`);
  }
  if (rate !== undefined && load === "autocannon") throw new InvalidOptionError("--rate", "open-loop runs use wirelab's load; drop --load autocannon");
  const sim = options.sim ?? false;
  const targets = targetSpecs(options.targets);
  if (sim && targets.length > 0) throw new InvalidOptionError("--target", "a --sim run starts its own simulated servers; drop --target or --sim");
  if (targets.length > 0 && options.styles !== undefined) throw new InvalidOptionError("--styles", "with --target the targets are the styles; drop --styles");
  if (options.styles !== undefined && options.styles.length === 0) throw new InvalidOptionError("--styles", "no style given");
  const scenarios = options.scenarios === undefined ? null : options.scenarios;
  if (scenarios !== null && scenarios.length === 0) throw new InvalidOptionError("scenario", "no scenario given");
  if (targets.length > 0 && (scenarios === null || scenarios.length !== 1)) throw new InvalidOptionError("--target", "give exactly one scenario, whose client workload loads the target");
  if (options.precision !== undefined && sim) throw new InvalidOptionError("--precision", "a --sim run checks invariants and measures nothing to narrow; drop --precision or --sim");
  if (options.maxTime !== undefined && options.precision === undefined) throw new InvalidOptionError("--max-time", "is the budget of --precision; give --precision too");
  return {
    scenarios,
    styles: options.styles === undefined ? null : [...new Set(options.styles)],
    connections,
    durationMs: duration("--duration", options.duration, DEFAULT_DURATION_MS),
    warmupMs: duration("--warmup", options.warmup, DEFAULT_WARMUP_MS, true),
    repeat: options.repeat === undefined ? DEFAULT_REPEAT : checkCount("--repeat", options.repeat, MAX_REPEAT),
    ...(rate === undefined ? {} : { rate }),
    sim,
    workers: options.workers === undefined ? defaultWorkers() : checkCount("--workers", options.workers, MAX_WORKERS),
    load,
    host,
    timeoutMs: duration("--timeout", options.timeout, DEFAULT_OPERATION_TIMEOUT_MS),
    targets,
    seed: options.seed === undefined ? DEFAULT_SEED : checkCount("--seed", options.seed, 2 ** 31 - 1),
    pin: options.pin ?? true,
    serverNodeFlags: options.serverNodeFlags ?? [],
    serverCpuProfile: options.serverCpuProfile === undefined ? null : path.resolve(options.cwd ?? process.cwd(), options.serverCpuProfile),
    loadNodeFlags: options.loadNodeFlags ?? [],
    precision: options.precision === undefined ? null : parsePrecision(options.precision),
    maxTimeMs: duration("--max-time", options.maxTime, DEFAULT_PRECISION_MAX_TIME_MS),
    cwd: options.cwd ?? process.cwd(),
    command: options.command ?? "bench()",
  };
}

/**
 * The connection counts of a scenario in a sweep.
 * @param sweep - the sweep.
 * @param scenario - the scenario's name and its own default.
 * @param scenario.name - its name.
 * @param scenario.defaultConnections - its default counts.
 * @returns its counts.
 */
export function connectionsFor(sweep: Pick<SweepOptions, "connections">, scenario: { readonly name: string; readonly defaultConnections?: readonly number[] }): readonly number[] {
  return sweep.connections.get(scenario.name) ?? sweep.connections.get("*") ?? scenario.defaultConnections ?? DEFAULT_CONNECTIONS;
}
