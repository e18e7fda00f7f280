/**
 * Parsing `wirelab` command lines with `node:util`'s `parseArgs`; values are checked by the same
 * validator `bench()` uses (`bench-options.ts`). Every bad option is named in an
 * `InvalidOptionError` (`WL_ERR_INVALID_OPTION`), which the CLI turns into exit code 2.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { ParseArgsConfig } from "node:util";
import { InvalidOptionError } from "../../runtime/errors.js";
import type { BenchOptions, LoadChoice, TargetOption } from "./bench-options.js";
import { DEFAULT_HOST, parseConnections, parseCount, parseServerPid, parseStyles, parseTarget, validateBenchOptions } from "./bench-options.js";

/** `wirelab bench`'s usage. */
export const BENCH_USAGE = `usage: wirelab bench [SCENARIO|PATH ...] [options]

Runs scenarios (built-in names, or paths of scenario modules, .js or .ts) on real sockets (or on
SimNetwork with --sim), writes DIR/results.json and the report beside it.

  --styles LIST        styles to run, e.g. callback,async; default: every style of each scenario
  --connections LIST   connection counts, e.g. 1,10,100,1000; SCENARIO=LIST for one scenario
                       (repeatable); default: each scenario's own (1,10,100,1000 if it has none)
  --duration D         measured window per point (300ms, 5s, 2m; a bare number is seconds); default 5s
  --warmup D           warm-up before each window; default 1s
  --repeat N           repeats per point; default 3
  --precision PCT      auto-sampling: after --repeat rounds, keep making interleaved rounds until
                       every declared comparison's 95% interval is within ±PCT (e.g. 3%) of its
                       ratio, or --max-time runs out; says which (throughput scenarios)
  --max-time D         --precision's budget per scenario and connection count; default 3m
  --rate N             open loop: N operations/s over all connections (latency from intended send time)
  --sim                run each scenario's wirelab styles and client on SimNetwork (random chunking,
                       resets) and check its invariants, instead of real sockets
  --seed N             first seed of --sim runs; default 1
  --load G             generator (the scenario's lean load generator, its default when it has one),
                       client (its client workload) or autocannon (HTTP scenarios)
  --target [NAME=]HOST:PORT
                       load a server that is already running (any language) instead of the
                       scenario's styles (repeatable; points carry NAME, default "target")
  --server-pid [NAME=]PID
                       the target's process, for its CPU and memory (else reported as unknown)
  --workers N          load worker processes; default: cores - 1 (at least 1)
  --timeout D          an operation unanswered this long is a timeout; default 10s
  --host H             loopback address servers listen on; default 127.0.0.1
  --server-cpu-prof DIR  run Node servers with --cpu-prof, profiles in DIR/<scenario>/<style>;
                       the report shows a flame graph and the top self-time functions per style
  --load-cpu-prof DIR    run load workers with --cpu-prof, profiles in DIR
  --no-pin             do not pin the server to CPU 0 and the load to the other CPUs
  --out DIR            output folder; default results/<timestamp> (and results/latest)
  --no-report          do not write the report after the results
  -h, --help           this text

Exit codes: 0 done; 1 a point failed or an invariant was violated in --sim; 2 a bad command line
or scenario (the message names it; a style that throws at start fails its points and exits 2).`;

/** `wirelab list`'s usage. */
export const LIST_USAGE = `usage: wirelab list [SCENARIO|PATH ...]

Lists scenarios and their styles: the built-in ones, or the scenarios of the modules given.

  -h, --help           this text`;

/** `wirelab serve`'s usage. */
export const SERVE_USAGE = `usage: wirelab serve SCENARIO|PATH --style STYLE --port PORT [--host H]

Runs one wirelab or Node style of a scenario alone until SIGINT/SIGTERM (to point wrk, k6, a
browser or \`wirelab bench --target\` at it); prints "listening on PORT" first.

  --style STYLE        the style
  --port PORT          the port; 0 picks a free one
  --host H             the address; default 127.0.0.1
  -h, --help           this text`;

type Options = NonNullable<ParseArgsConfig["options"]>;

const BENCH_OPTIONS = {
  styles: { type: "string" },
  connections: { type: "string", multiple: true },
  duration: { type: "string" },
  warmup: { type: "string" },
  timeout: { type: "string" },
  repeat: { type: "string" },
  precision: { type: "string" },
  "max-time": { type: "string" },
  rate: { type: "string" },
  workers: { type: "string" },
  load: { type: "string" },
  host: { type: "string" },
  out: { type: "string" },
  seed: { type: "string" },
  target: { type: "string", multiple: true },
  "server-pid": { type: "string", multiple: true },
  "server-cpu-prof": { type: "string" },
  "load-cpu-prof": { type: "string" },
  sim: { type: "boolean" },
  "no-report": { type: "boolean" },
  "no-pin": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/**
 * `parseArgs`, with its errors turned into an `InvalidOptionError` that names the option.
 * @param argv - the arguments.
 * @param options - the options it takes.
 * @param command - the command, for "see wirelab COMMAND --help".
 * @returns what `parseArgs` returns.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming the bad option.
 */
function parse<O extends Options>(argv: readonly string[], options: O, command: string) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    const e = error as { code?: string; message: string };
    const option = /'(-[^' ]+)/.exec(e.message)?.[1] ?? "option";
    switch (e.code) {
      case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
        throw new InvalidOptionError(option, `unknown option (see wirelab ${command} --help)`);
      case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
        throw new InvalidOptionError(option, e.message.includes("does not take an argument") ? "takes no value" : "needs a value");
      default:
        throw new InvalidOptionError(option, e.message);
    }
  }
  // A string option given as `--flag=` has an empty value: as good as missing.
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === "" || (Array.isArray(value) && value.includes(""))) throw new InvalidOptionError(`--${name}`, "needs a value");
  }
  return parsed;
}

/** `wirelab bench` as parsed. */
export interface BenchCommand {
  /** The sweep, checked. */
  readonly options: BenchOptions;
  /** The output folder; null: `results/<timestamp>`. */
  readonly out: string | null;
  /** Whether to write the report after the results. */
  readonly report: boolean;
}

function rateOf(text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0)) throw new InvalidOptionError("--rate", `expected a positive number of operations per second, got ${JSON.stringify(text)}`);
  return n;
}

function targetsOf(targets: readonly string[], pids: readonly string[]): TargetOption[] {
  const list = targets.map(parseTarget);
  for (const text of pids) {
    const { target, pid } = parseServerPid(text);
    if (list.length === 0) throw new InvalidOptionError("--server-pid", "is the process of a --target; give --target HOST:PORT too");
    const named = target === "*" ? (list.length === 1 ? 0 : -1) : list.findIndex((t) => (t.name ?? "target") === target);
    if (named < 0) throw new InvalidOptionError("--server-pid", target === "*" ? "with several targets, say whose: NAME=PID" : `no target is named ${JSON.stringify(target)}`);
    list[named] = { ...list[named]!, pid };
  }
  return list;
}

/**
 * Parses `wirelab bench` arguments (after the word `bench`).
 * @param argv - the arguments.
 * @param command - the whole command line, for the provenance.
 * @returns the parsed command, or `"help"`.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming the first bad option.
 */
export function parseBenchArgs(argv: readonly string[], command: string): BenchCommand | "help" {
  const { values: v, positionals } = parse(argv, BENCH_OPTIONS, "bench");
  if (v.help === true) return "help";
  const connections: Record<string, number[]> = {};
  for (const text of v.connections ?? []) {
    const { scenario, counts } = parseConnections(text);
    connections[scenario] = counts;
  }
  const load = v.load;
  if (load !== undefined && !["generator", "client", "autocannon"].includes(load)) {
    throw new InvalidOptionError("--load", `expected generator, client or autocannon, got ${JSON.stringify(load)}`);
  }
  const targets = targetsOf(v.target ?? [], v["server-pid"] ?? []);
  const options: BenchOptions = {
    ...(positionals.length === 0 ? {} : { scenarios: [...new Set(positionals)] }),
    ...(v.styles === undefined ? {} : { styles: parseStyles(v.styles) }),
    ...(Object.keys(connections).length === 0 ? {} : { connections }),
    ...(v.duration === undefined ? {} : { duration: v.duration }),
    ...(v.warmup === undefined ? {} : { warmup: v.warmup }),
    ...(v.timeout === undefined ? {} : { timeout: v.timeout }),
    ...(v.repeat === undefined ? {} : { repeat: parseCount("--repeat", v.repeat, Number.MAX_SAFE_INTEGER) }),
    ...(v.rate === undefined ? {} : { rate: rateOf(v.rate) }),
    ...(v.precision === undefined ? {} : { precision: v.precision }),
    ...(v["max-time"] === undefined ? {} : { maxTime: v["max-time"] }),
    ...(v.workers === undefined ? {} : { workers: parseCount("--workers", v.workers, Number.MAX_SAFE_INTEGER) }),
    ...(load === undefined ? {} : { load: load as LoadChoice }),
    ...(v.host === undefined ? {} : { host: v.host }),
    ...(v.seed === undefined ? {} : { seed: parseCount("--seed", v.seed, Number.MAX_SAFE_INTEGER) }),
    ...(targets.length === 0 ? {} : { targets }),
    sim: v.sim === true,
    pin: v["no-pin"] !== true,
    ...(v["server-cpu-prof"] === undefined ? {} : { serverCpuProfile: v["server-cpu-prof"] }),
    loadNodeFlags: v["load-cpu-prof"] === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${v["load-cpu-prof"]}`],
    command,
  };
  // The values' own bounds: the same check bench() makes.
  validateBenchOptions(options);
  return { options, out: v.out ?? null, report: v["no-report"] !== true };
}

/** `wirelab serve` as parsed. */
export interface ServeCommand {
  /** A built-in name or a path. */
  readonly scenario: string;
  readonly style: string;
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `wirelab serve SCENARIO --style STYLE --port PORT [--host H]`.
 * @param argv - the arguments after `serve`.
 * @returns the parsed command, or `"help"`.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming the bad option.
 */
export function parseServeArgs(argv: readonly string[]): ServeCommand | "help" {
  const { values: v, positionals } = parse(argv, { style: { type: "string" }, port: { type: "string" }, host: { type: "string" }, help: { type: "boolean", short: "h" } }, "serve");
  if (v.help === true) return "help";
  if (positionals.length === 0) throw new InvalidOptionError("scenario", "missing: wirelab serve SCENARIO --style STYLE --port PORT");
  if (positionals.length > 1) throw new InvalidOptionError("scenario", `only one scenario can be served, got ${positionals.map((p) => JSON.stringify(p)).join(" and ")}`);
  if (v.style === undefined) throw new InvalidOptionError("--style", "missing");
  if (v.port === undefined) throw new InvalidOptionError("--port", "missing");
  if (!/^\d+$/.test(v.port) || Number(v.port) > 65535) throw new InvalidOptionError("--port", `expected a port number 0..65535, got ${JSON.stringify(v.port)}`);
  return { scenario: positionals[0]!, style: v.style, host: v.host ?? DEFAULT_HOST, port: Number(v.port) };
}

/**
 * Parses `wirelab list [SCENARIO|PATH ...]`.
 * @param argv - the arguments after `list`.
 * @returns the scenarios named (none: the built-in ones), or `"help"`.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming the bad option.
 */
export function parseListArgs(argv: readonly string[]): string[] | "help" {
  const { values: v, positionals } = parse(argv, { help: { type: "boolean", short: "h" } }, "list");
  return v.help === true ? "help" : positionals;
}
