/**
 * The wirelab engine for Artillery (2.x): an Artillery script with `engine: wirelab` runs a
 * wirelab scenario's client workload inside Artillery's virtual users. Artillery loads it with
 * `require("artillery-engine-wirelab")`, which the CommonJS folder
 * `scenarios/artillery/artillery-engine-wirelab/` answers (on `NODE_PATH`); that file imports
 * this module.
 *
 * - One virtual user is one long-lived connection: it connects, then runs the workload's
 *   operations back to back ({@link runConnection}, the same loop as `wirelab bench --load
 *   client`) until it has run `operations` or `duration` has passed, with `thinkTime` between
 *   them; a `hold` scenario's connection stays silent for `duration`, then runs its probe. The
 *   arrival phases of the script ramp the number of connections.
 * - Metrics (names from `reports/artillery-results.ts`, `wirelab.SCENARIO[/STYLE].METRIC`): each
 *   correct operation's latency as a histogram in ms (Artillery's unit), counters of operations,
 *   errors, timeouts and mismatches with `wirelab bench`'s meanings, and of connections opened.
 * - A virtual user fails (Artillery's `vusers.failed`, and `errors.CODE` once) when its
 *   connection could not be opened or was lost to an error or a timeout: `ECONNREFUSED` and the
 *   like for the socket's errors, `WL_ERR_TIMEOUT`, `WL_ERR_MISMATCH`, or the wirelab error code.
 *   A script that names no scenario, an unknown one or a module that does not load fails every
 *   virtual user with `WL_ERR_INVALID_OPTION` and prints why once per process: the run still
 *   ends, with its report.
 *
 * @module
 */

import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { threadId } from "node:worker_threads";
import { InvalidOptionError } from "../../runtime/errors.js";
import type { Reactor } from "../../runtime/reactor.js";
import { ARTILLERY_METRICS, artilleryMetricName, type ArtilleryMetric } from "../../reports/artillery-results.js";
import { DEFAULT_OPERATION_TIMEOUT_MS, parseDuration } from "./bench-options.js";
import { clientEndpoint, loadReactor } from "./client-load.js";
import { runConnection } from "./client-session.js";
import { loadScenarios } from "./load-scenario.js";
import type { Recorder, Scenario } from "./scenario.js";

/** What the engine needs of an Artillery event emitter (the runner's, or a scenario's). */
export interface ArtilleryEvents {
  emit(event: string, ...args: unknown[]): unknown;
}

/** The part of an Artillery script the engine reads. */
export interface ArtilleryScript {
  readonly config?: {
    readonly target?: string;
    readonly engines?: Readonly<Record<string, unknown>>;
  };
  /** The script's absolute path, set by Artillery: scenario modules are relative to its folder. */
  readonly _scriptPath?: string;
}

/** One `scenarios:` entry of the script; `wirelab:` in it overrides `config.engines.wirelab`. */
export interface ArtilleryScenarioSpec {
  readonly name?: string;
  readonly wirelab?: Readonly<Record<string, unknown>>;
}

/** A virtual user's context; `vars.target` is the script's target. */
export interface ArtilleryContext {
  readonly vars: Readonly<Record<string, unknown>>;
}

/** How a virtual user ends: an error fails it. */
export type ArtilleryCallback = (error: Error | null, context: ArtilleryContext) => void;

/** The engine's options (`config.engines.wirelab`, and a scenario's own `wirelab:`), resolved. */
export interface ArtilleryEngineOptions {
  /** A built-in scenario's name, or a scenario module's path (relative to the script's folder). */
  readonly scenario: string;
  /** Which scenario of a module that exports several. @defaultValue its first (the default export) */
  readonly name?: string;
  /** A label for the server under test, in the metric names and the report's style. */
  readonly style?: string;
  /**
   * Operations per virtual user. @defaultValue unbounded with a `duration` (throughput); 1 without
   * one, and 1 for a `hold` scenario (its probe)
   */
  readonly operations: number;
  /**
   * How long a virtual user runs operations (a `hold` scenario: how long it holds its connection
   * silent before the probe), ms; Artillery's form: a number of seconds or `"300ms"`, `"5s"`,
   * `"2m"`. @defaultValue none: `operations` bounds the loop (hold: 0)
   */
  readonly durationMs?: number;
  /** The pause between two operations of a virtual user, ms. @defaultValue 0 */
  readonly thinkTimeMs: number;
  /** An operation unanswered this long is a timeout and its connection closed, ms. @defaultValue 10 s */
  readonly timeoutMs: number;
  /** The index of this process's first virtual user (scenarios pick roles by it). @defaultValue 0 */
  readonly firstIndex: number;
  /**
   * This thread's group, for workloads whose connections share state (line-chat's room: it tells
   * its own lines from other groups'); 0 to 65,535. @defaultValue from the process and thread ids,
   * so that the Artillery processes and threads of one machine differ
   */
  readonly group: number;
}

/** The options the engine knows: any other key is a mistake worth naming. */
const OPTION_KEYS = ["scenario", "name", "style", "operations", "duration", "thinkTime", "timeout", "firstIndex", "group"];

/** The largest `group`. */
export const ARTILLERY_MAX_GROUP = 65_535;

/** The largest `operations` per virtual user. */
export const ARTILLERY_MAX_OPERATIONS = 1_000_000_000;

function durationOption(key: string, value: unknown, allowZero: boolean): number {
  // Artillery's own durations: a bare number is seconds.
  if (typeof value === "number") return parseDuration(key, String(value), allowZero);
  if (typeof value === "string") return parseDuration(key, value, allowZero);
  throw new InvalidOptionError(key, `expected a duration such as 300ms, 5s or 2m (a number is seconds), got ${JSON.stringify(value)}`);
}

function integerOption(key: string, value: unknown, min: number, max = ARTILLERY_MAX_OPERATIONS): number {
  const n = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw new InvalidOptionError(key, `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function nameOption(key: string, value: unknown): string {
  if (typeof value !== "string" || value === "" || value.includes("/")) throw new InvalidOptionError(key, `expected a name without "/", got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Reads the engine's options.
 * @param raw - `config.engines.wirelab` merged with the scenario's `wirelab:`.
 * @param kind - the scenario's kind, once known (the defaults of `operations` depend on it).
 * @returns the options.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming the bad option.
 */
export function resolveArtilleryOptions(raw: Readonly<Record<string, unknown>>, kind: Scenario["kind"] = "throughput"): ArtilleryEngineOptions {
  for (const key of Object.keys(raw)) {
    if (!OPTION_KEYS.includes(key)) throw new InvalidOptionError(key, `not an option of the wirelab engine (${OPTION_KEYS.join(", ")})`);
  }
  const scenario = raw["scenario"];
  if (typeof scenario !== "string" || scenario === "") {
    throw new InvalidOptionError("scenario", `the wirelab engine needs config.engines.wirelab.scenario: a built-in scenario's name or a scenario module's path, got ${JSON.stringify(scenario)}`);
  }
  const durationMs = raw["duration"] === undefined ? undefined : durationOption("duration", raw["duration"], kind === "hold");
  const operations = raw["operations"] === undefined ? (durationMs !== undefined && kind !== "hold" ? Infinity : 1) : integerOption("operations", raw["operations"], kind === "hold" ? 0 : 1);
  return {
    scenario,
    ...(raw["name"] === undefined ? {} : { name: nameOption("name", raw["name"]) }),
    ...(raw["style"] === undefined ? {} : { style: nameOption("style", raw["style"]) }),
    operations,
    ...(durationMs === undefined ? {} : { durationMs }),
    thinkTimeMs: raw["thinkTime"] === undefined ? 0 : durationOption("thinkTime", raw["thinkTime"], true),
    timeoutMs: raw["timeout"] === undefined ? DEFAULT_OPERATION_TIMEOUT_MS : durationOption("timeout", raw["timeout"], false),
    firstIndex: raw["firstIndex"] === undefined ? 0 : integerOption("firstIndex", raw["firstIndex"], 0),
    group: raw["group"] === undefined ? (process.pid * 64 + threadId) % (ARTILLERY_MAX_GROUP + 1) : integerOption("group", raw["group"], 0, ARTILLERY_MAX_GROUP),
  };
}

/** The ports a URL leaves out of its `port` for being its scheme's default. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = { "http:": 80, "ws:": 80, "https:": 443, "wss:": 443 };

/**
 * Reads Artillery's `target` as a host and port: `tcp://HOST:PORT`, `http://HOST:PORT`,
 * `ws://HOST:PORT` or `HOST:PORT` (`http://HOST` and `ws://HOST` mean port 80).
 * @param target - the script's target.
 * @returns where to connect.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for anything without a port.
 */
export function parseArtilleryTarget(target: unknown): { host: string; port: number } {
  if (typeof target !== "string") throw new InvalidOptionError("target", `expected config.target such as tcp://127.0.0.1:7000, got ${JSON.stringify(target)}`);
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target : `tcp://${target}`);
  } catch {
    throw new InvalidOptionError("target", `expected config.target such as tcp://127.0.0.1:7000, got ${JSON.stringify(target)}`);
  }
  // A URL drops its scheme's default port (http://h:80 has port ""): put it back.
  const port = url.port === "" ? (DEFAULT_PORTS[url.protocol] ?? NaN) : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidOptionError("target", `config.target needs a port, as in tcp://127.0.0.1:7000, got ${JSON.stringify(target)}`);
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port };
}

/** One `scenarios:` entry, ready: its wirelab scenario, options and shared state. */
interface Prepared {
  readonly scenario: Scenario;
  readonly options: ArtilleryEngineOptions;
  readonly shared: unknown;
  readonly names: Readonly<Record<ArtilleryMetric, string>>;
  nextIndex: number;
}

/** Why a virtual user failed: Artillery's error code, and what happened. */
interface VirtualUserFailure {
  readonly code: string;
  readonly detail: string;
}

/** The code Artillery counts a failure under (`errors.CODE`). */
function errorCode(error: unknown): string {
  if (typeof error === "object" && error !== null) {
    const e = error as { errno?: unknown; code?: unknown; name?: unknown };
    if (typeof e.errno === "string") return e.errno;
    if (typeof e.code === "string") return e.code;
    if (typeof e.name === "string") return e.name;
  }
  return "Error";
}

/** Artillery's recorder: each outcome as the engine's metrics. */
function artilleryRecorder(events: ArtilleryEvents, names: Readonly<Record<ArtilleryMetric, string>>): Recorder {
  return {
    measuring: true,
    success(latencyUs: number) {
      events.emit("histogram", names.latency, latencyUs / 1000);
      events.emit("counter", names.operations, 1);
      events.emit("rate", names.operation_rate);
    },
    error() {
      events.emit("counter", names.errors, 1);
    },
    timeout() {
      events.emit("counter", names.timeouts, 1);
    },
    mismatch() {
      events.emit("counter", names.mismatches, 1);
    },
  };
}

/**
 * The wirelab engine for Artillery: what `require("artillery-engine-wirelab")` constructs.
 *
 * @example
 * ```yaml
 * config:
 *   target: tcp://127.0.0.1:7000
 *   phases: [{ duration: 10, arrivalRate: 100 }]   # 1,000 connections over 10 s
 *   engines:
 *     wirelab: { scenario: tcp-echo, duration: 30s }
 * scenarios:
 *   - engine: wirelab
 * ```
 */
export class ArtilleryEngine {
  private readonly defaults: Readonly<Record<string, unknown>>;
  private readonly baseDir: string;
  private readonly reported = new Set<string>();

  /**
   * @param script - the script, as Artillery prepared it.
   * @param _runnerEvents - the runner's events (unused).
   * @param _helpers - Artillery's engine helpers (unused: the engine loops by itself).
   * @param reactorOverride - the reactor the connections run on. @defaultValue one per thread,
   *   made and started by the first virtual user (Artillery also constructs engines in threads
   *   that run none)
   */
  constructor(
    script: ArtilleryScript,
    _runnerEvents?: unknown,
    _helpers?: unknown,
    private readonly reactorOverride?: Reactor,
  ) {
    const raw = script.config?.engines?.["wirelab"];
    this.defaults = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
    this.baseDir = script._scriptPath === undefined ? process.cwd() : path.dirname(script._scriptPath);
  }

  /**
   * Artillery's entry: the function that runs one virtual user of a `scenarios:` entry.
   * @param spec - the entry.
   * @param events - its events (`started`, `counter`, `histogram`, `rate`, `error`).
   * @returns `(context, callback)`, which never throws: every failure goes to `callback`.
   */
  createScenario(spec: ArtilleryScenarioSpec, events: ArtilleryEvents): (context: ArtilleryContext, callback: ArtilleryCallback) => void {
    const prepared = this.prepare({ ...this.defaults, ...(spec.wirelab ?? {}) });
    // Handled by each virtual user; until the first arrives, an unhandled rejection would end
    // Artillery's worker thread.
    prepared.catch(() => {});
    return (context, callback) => {
      events.emit("started");
      this.runVirtualUser(prepared, context, events).then(
        (error) => callback(error, context),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), context),
      );
    };
  }

  private async prepare(raw: Readonly<Record<string, unknown>>): Promise<Prepared> {
    const first = resolveArtilleryOptions(raw);
    const ref = /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(first.scenario) && !/\.[cm]?[jt]s$/.test(first.scenario) ? first.scenario : pathToFileURL(path.resolve(this.baseDir, first.scenario)).href;
    const loaded = await loadScenarios([ref], this.baseDir);
    const found = first.name === undefined ? loaded[0] : loaded.find((l) => l.scenario.name === first.name);
    if (found === undefined) throw new InvalidOptionError("name", `${first.scenario} exports no scenario named ${JSON.stringify(first.name)} (it has ${loaded.map((l) => l.scenario.name).join(", ")})`);
    const { scenario } = found;
    const options = resolveArtilleryOptions(raw, scenario.kind);
    // Artillery does not say how many virtual users will come: a group of one is all it knows.
    const shared = scenario.client.shared?.({ connections: 1, totalConnections: 1, groupIndex: options.group, sim: false, faults: false });
    const names = Object.fromEntries(Object.values(ARTILLERY_METRICS).map((m) => [m, artilleryMetricName(scenario.name, options.style, m)])) as Record<ArtilleryMetric, string>;
    return { scenario, options, shared, names, nextIndex: options.firstIndex };
  }

  private get reactor(): Reactor {
    return this.reactorOverride ?? loadReactor();
  }

  /** Runs one virtual user; resolves with the error that fails it, or null. */
  private async runVirtualUser(preparing: Promise<Prepared>, context: ArtilleryContext, events: ArtilleryEvents): Promise<Error | null> {
    let prepared: Prepared;
    let target: { host: string; port: number };
    try {
      prepared = await preparing;
      target = parseArtilleryTarget(context.vars["target"]);
    } catch (error) {
      return this.fail(events, error);
    }
    const { scenario, options, names } = prepared;
    const hold = scenario.kind === "hold";
    const recorder = artilleryRecorder(events, names);
    // Zeros too, so that a clean run says "errors: 0" rather than nothing.
    for (const counter of [names.errors, names.timeouts, names.mismatches]) events.emit("counter", counter, 0);
    const seen: { lost: VirtualUserFailure | null; mismatch: VirtualUserFailure | null } = { lost: null, mismatch: null };
    const stop = new AbortController();
    const deadline = !hold && options.durationMs !== undefined ? this.reactor.callLater(options.durationMs, () => stop.abort()) : null;
    let started: number;
    try {
      started = await runConnection(scenario.client, {
        reactor: this.reactor,
        endpoint: clientEndpoint(target),
        recorder,
        index: prepared.nextIndex++,
        shared: prepared.shared,
        operations: options.operations,
        signal: stop.signal,
        timeoutMs: options.timeoutMs,
        thinkMs: options.thinkTimeMs,
        ...(hold ? { holdMs: options.durationMs ?? 0 } : {}),
        onConnect: () => events.emit("counter", names.connections, 1),
        onFailure: (outcome, _sequence, detail, cause) => {
          if (outcome === "error") seen.lost ??= { code: errorCode(cause), detail };
          else if (outcome === "timeout") seen.lost ??= { code: "WL_ERR_TIMEOUT", detail };
          else {
            seen.mismatch = { code: "WL_ERR_MISMATCH", detail };
            // A thrown mismatch closed the connection (`ctx.mismatch()` gives no cause and
            // does not): the virtual user failed, even on its last operation.
            if (cause !== undefined) seen.lost ??= seen.mismatch;
          }
        },
      });
    } finally {
      if (deadline?.active() === true) deadline.cancel();
    }
    // A connection that ended before its work was done ended on its last failure.
    const endedEarly = started < options.operations && !stop.signal.aborted;
    const failure = seen.lost ?? (endedEarly ? seen.mismatch : null);
    if (failure === null) return null;
    events.emit("error", failure.code);
    return new Error(`${scenario.name}: ${failure.detail}`);
  }

  /** A virtual user that could not start: counted under the error's code, said once per kind. */
  private fail(events: ArtilleryEvents, error: unknown): Error {
    const code = errorCode(error);
    const message = error instanceof Error ? error.message : String(error);
    if (!this.reported.has(message)) {
      this.reported.add(message);
      console.error(`wirelab engine: ${message}`);
    }
    events.emit("error", code);
    return error instanceof Error ? error : new Error(message);
  }
}
