/**
 * Parsing and validating `wirelab` command lines: every bad option is named in an
 * `InvalidOptionError` (`WL_ERR_INVALID_OPTION`), which the CLI turns into exit code 2.
 *
 * @module
 */

import { InvalidOptionError } from "../runtime/errors.js";
import { SCENARIOS, findScenario } from "./registry.js";
import type { BenchOptions, LoadGeneratorName } from "./runner.js";
import { DEFAULT_DURATION_MS, DEFAULT_HOST, DEFAULT_OPERATION_TIMEOUT_MS, DEFAULT_REPEAT, DEFAULT_WARMUP_MS, defaultWorkers } from "./runner.js";
import type { Scenario, StyleName } from "./scenario.js";
import { STYLE_NAMES } from "./scenario.js";

/** The most connections a point may ask for (the descriptor cap is 20,000 per process). */
export const MAX_CONNECTIONS = 100_000;
/** The most load workers. */
export const MAX_WORKERS = 64;
/** The most repeats. */
export const MAX_REPEAT = 100;
/** The longest duration accepted for any time option, ms (one hour). */
export const MAX_DURATION_MS = 3_600_000;

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
  if ((!allowZero && ms <= 0) || ms > MAX_DURATION_MS) {
    throw new InvalidOptionError(option, `must be ${allowZero ? "at least 0" : "more than 0"} and at most 1 hour, got ${JSON.stringify(text)}`);
  }
  return Math.round(ms);
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
  const n = Number(text);
  if (n < 1 || n > max) throw new InvalidOptionError(option, `must be between 1 and ${max}, got ${n}`);
  return n;
}

/**
 * Parses one `--connections` value: `1,10,100` for every scenario, or `SCENARIO=1000,10000`
 * for one.
 * @param text - the value.
 * @returns the scenario name (`*` for all) and the counts.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad count or unknown scenario.
 */
export function parseConnections(text: string): { scenario: string; counts: number[] } {
  const eq = text.indexOf("=");
  const scenario = eq < 0 ? "*" : text.slice(0, eq);
  if (scenario !== "*" && findScenario(scenario) === undefined) {
    throw new InvalidOptionError("--connections", `unknown scenario ${JSON.stringify(scenario)} (known: ${SCENARIOS.map((s) => s.name).join(", ")})`);
  }
  const list = eq < 0 ? text : text.slice(eq + 1);
  const counts = list.split(",").map((c) => parseCount("--connections", c, MAX_CONNECTIONS));
  return { scenario, counts };
}

/**
 * Parses `--styles`.
 * @param text - e.g. `callback,async,baseline`.
 * @returns the style names.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming an unknown style.
 */
export function parseStyles(text: string): StyleName[] {
  const styles = text.split(",").map((s) => s.trim());
  for (const s of styles) {
    if (!(STYLE_NAMES as readonly string[]).includes(s)) throw new InvalidOptionError("--styles", `unknown style ${JSON.stringify(s)} (known: ${STYLE_NAMES.join(", ")})`);
  }
  return [...new Set(styles)] as StyleName[];
}

const BENCH_VALUED_FLAGS = [
  "--styles",
  "--connections",
  "--duration",
  "--warmup",
  "--timeout",
  "--repeat",
  "--rate",
  "--workers",
  "--load",
  "--host",
  "--out",
  "--seed",
  "--server-cpu-prof",
  "--load-cpu-prof",
];

/** `wirelab bench` as parsed. */
export interface BenchCommand {
  readonly options: BenchOptions;
  /** The output folder; null: `results/<timestamp>`. */
  readonly out: string | null;
  /** Whether to write the report after the results. */
  readonly report: boolean;
}

/**
 * Splits `--flag=value` and `--flag value` forms; flags without values are listed in
 * `booleans`; a flag in neither list comes out with no value, for the caller to reject.
 */
function* flags(argv: readonly string[], booleans: readonly string[], valued: readonly string[]): Generator<{ flag: string; value: string | null; positional: boolean }> {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      yield { flag: arg, value: null, positional: true };
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    if (booleans.includes(flag)) {
      if (eq >= 0) throw new InvalidOptionError(flag, "takes no value");
      yield { flag, value: null, positional: false };
      continue;
    }
    if (!valued.includes(flag)) {
      yield { flag, value: null, positional: false };
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "") throw new InvalidOptionError(flag, "needs a value");
    yield { flag, value, positional: false };
  }
}

/**
 * Parses `wirelab bench` arguments (after the word `bench`).
 * @param argv - the arguments.
 * @param command - the whole command line, for the provenance.
 * @returns the parsed command.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming the first bad option or scenario.
 */
export function parseBenchArgs(argv: readonly string[], command: string): BenchCommand {
  const scenarios: Scenario[] = [];
  let styles: StyleName[] | null = null;
  const connections = new Map<string, readonly number[]>();
  let durationMs = DEFAULT_DURATION_MS;
  let warmupMs = DEFAULT_WARMUP_MS;
  let repeat = DEFAULT_REPEAT;
  let rate: number | undefined;
  let sim = false;
  let workers = defaultWorkers();
  let load: LoadGeneratorName = "wirelab";
  let host = DEFAULT_HOST;
  let timeoutMs = DEFAULT_OPERATION_TIMEOUT_MS;
  let out: string | null = null;
  let report = true;
  let pin = true;
  let seed = 1;
  const serverNodeFlags: string[] = [];
  const loadNodeFlags: string[] = [];
  for (const { flag, value, positional } of flags(argv, ["--sim", "--no-report", "--no-pin"], BENCH_VALUED_FLAGS)) {
    if (positional) {
      const scenario = findScenario(flag);
      if (scenario === undefined) throw new InvalidOptionError("scenario", `unknown scenario ${JSON.stringify(flag)} (known: ${SCENARIOS.map((s) => s.name).join(", ")})`);
      if (!scenarios.includes(scenario)) scenarios.push(scenario);
      continue;
    }
    const v = value ?? "";
    switch (flag) {
      case "--styles":
        styles = parseStyles(v);
        break;
      case "--connections": {
        const { scenario, counts } = parseConnections(v);
        connections.set(scenario, counts);
        break;
      }
      case "--duration":
        durationMs = parseDuration(flag, v);
        break;
      case "--warmup":
        warmupMs = parseDuration(flag, v, true);
        break;
      case "--timeout":
        timeoutMs = parseDuration(flag, v);
        break;
      case "--repeat":
        repeat = parseCount(flag, v, MAX_REPEAT);
        break;
      case "--rate": {
        const n = Number(v);
        if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0)) throw new InvalidOptionError(flag, `expected a positive number of operations per second, got ${JSON.stringify(v)}`);
        rate = n;
        break;
      }
      case "--sim":
        sim = true;
        break;
      case "--no-report":
        report = false;
        break;
      case "--no-pin":
        pin = false;
        break;
      case "--workers":
        workers = parseCount(flag, v, MAX_WORKERS);
        break;
      case "--load":
        if (v !== "wirelab" && v !== "autocannon") throw new InvalidOptionError(flag, `expected wirelab or autocannon, got ${JSON.stringify(v)}`);
        load = v;
        break;
      case "--host":
        // Load targets loopback only: a benchmark must never load someone else's machine.
        if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v)) throw new InvalidOptionError(flag, `must be a loopback address (127.x.y.z), got ${JSON.stringify(v)}`);
        host = v;
        break;
      case "--out":
        out = v;
        break;
      case "--seed":
        seed = parseCount(flag, v, 2 ** 31 - 1);
        break;
      case "--server-cpu-prof":
        serverNodeFlags.push("--cpu-prof", `--cpu-prof-dir=${v}`);
        break;
      case "--load-cpu-prof":
        loadNodeFlags.push("--cpu-prof", `--cpu-prof-dir=${v}`);
        break;
      default:
        throw new InvalidOptionError(flag, "unknown option (see wirelab --help)");
    }
  }
  if (rate !== undefined && load === "autocannon") throw new InvalidOptionError("--rate", "open-loop runs use wirelab's load clients; drop --load autocannon");
  const options: BenchOptions = {
    scenarios: scenarios.length === 0 ? SCENARIOS : scenarios,
    styles,
    connections,
    durationMs,
    warmupMs,
    repeat,
    ...(rate === undefined ? {} : { rate }),
    sim,
    workers,
    load,
    host,
    timeoutMs,
    serverNodeFlags,
    loadNodeFlags,
    pin,
    seed,
    command,
  };
  return { options, out, report };
}

/** `wirelab serve` as parsed. */
export interface ServeCommand {
  readonly scenario: Scenario;
  readonly style: StyleName;
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `wirelab serve SCENARIO --style STYLE --port PORT [--host H]`.
 * @param argv - the arguments after `serve`.
 * @returns the parsed command.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming the bad option.
 */
export function parseServeArgs(argv: readonly string[]): ServeCommand {
  let scenario: Scenario | undefined;
  let style: StyleName | undefined;
  let host = DEFAULT_HOST;
  let port: number | undefined;
  for (const { flag, value, positional } of flags(argv, [], ["--style", "--port", "--host"])) {
    if (positional) {
      if (scenario !== undefined) throw new InvalidOptionError("scenario", `only one scenario can be served, got ${JSON.stringify(flag)} too`);
      scenario = findScenario(flag);
      if (scenario === undefined) throw new InvalidOptionError("scenario", `unknown scenario ${JSON.stringify(flag)} (known: ${SCENARIOS.map((s) => s.name).join(", ")})`);
      continue;
    }
    const v = value ?? "";
    switch (flag) {
      case "--style": {
        const [s] = parseStyles(v);
        style = s;
        break;
      }
      case "--port": {
        if (!/^\d+$/.test(v) || Number(v) > 65535) throw new InvalidOptionError(flag, `expected a port number 0..65535, got ${JSON.stringify(v)}`);
        port = Number(v);
        break;
      }
      case "--host":
        host = v;
        break;
      default:
        throw new InvalidOptionError(flag, "unknown option (see wirelab --help)");
    }
  }
  if (scenario === undefined) throw new InvalidOptionError("scenario", "missing: wirelab serve SCENARIO --style STYLE --port PORT");
  if (style === undefined) throw new InvalidOptionError("--style", "missing");
  if (scenario.styles[style] === undefined) {
    throw new InvalidOptionError("--style", `${scenario.name} has no style ${style} (it has ${Object.keys(scenario.styles).join(", ")})`);
  }
  if (port === undefined) throw new InvalidOptionError("--port", "missing");
  return { scenario, style, host, port };
}
