/**
 * Reading `results.json` files into the results types of `results.ts` (their one definition).
 * Every field is validated, so a malformed file fails with the path of the bad field instead of
 * a chart of NaN. Version 1 files (before scenarios declared their styles and comparisons) are
 * read too: their scenarios come back with the styles their points name and no comparisons.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { ResultsFormatError } from "./errors.js";
import type { Comparison, Environment, LatencySummary, Parameters, ResultPoint, Results, ScenarioInfo, StyleInfo, StyleRunsOn } from "./results.js";
import { RESULTS_SCHEMA_VERSION } from "./results.js";

/** The results schema versions this reader understands. */
export const SUPPORTED_SCHEMA_VERSIONS: readonly number[] = [1, RESULTS_SCHEMA_VERSION];

/** A validated results file, with where it was read from. */
export interface RunResults extends Results {
  /** Where it was read from (not part of the file). */
  readonly source: string;
}

type Json = Record<string, unknown>;

/** Walks one JSON object, reading typed fields and naming the path of the first bad one. */
class FieldReader {
  constructor(
    private readonly source: string,
    private readonly path: string,
    private readonly value: Json,
  ) {}

  static root(source: string, value: unknown): FieldReader {
    if (!isObject(value)) throw new ResultsFormatError(source, "$", `expected an object, got ${describe(value)}`);
    return new FieldReader(source, "", value);
  }

  private at(key: string): string {
    return this.path === "" ? key : `${this.path}.${key}`;
  }

  fail(key: string, problem: string): never {
    throw new ResultsFormatError(this.source, this.at(key), problem);
  }

  has(key: string): boolean {
    return this.value[key] !== undefined;
  }

  string(key: string): string {
    const v = this.value[key];
    if (typeof v !== "string") this.fail(key, `expected a string, got ${describe(v)}`);
    return v;
  }

  number(key: string, check: "any" | "nonNegative" | "positive" | "integer" = "nonNegative"): number {
    const v = this.value[key];
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(key, `expected a finite number, got ${describe(v)}`);
    if (check !== "any" && v < 0) this.fail(key, `expected a number ≥ 0, got ${v}`);
    if (check === "positive" && v <= 0) this.fail(key, `expected a number > 0, got ${v}`);
    if (check === "integer" && !Number.isInteger(v)) this.fail(key, `expected an integer, got ${v}`);
    return v;
  }

  /** A number, or null for "unknown" (written as `null`). */
  numberOrNull(key: string): number | null {
    return this.value[key] === null ? null : this.number(key);
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  boolean(key: string): boolean {
    const v = this.value[key];
    if (typeof v !== "boolean") this.fail(key, `expected true or false, got ${describe(v)}`);
    return v;
  }

  object(key: string): FieldReader {
    const v = this.value[key];
    if (!isObject(v)) this.fail(key, `expected an object, got ${describe(v)}`);
    return new FieldReader(this.source, this.at(key), v);
  }

  array(key: string): FieldReader[] {
    const v = this.value[key];
    if (!Array.isArray(v)) this.fail(key, `expected an array, got ${describe(v)}`);
    return v.map((item: unknown, i) => {
      if (!isObject(item)) throw new ResultsFormatError(this.source, `${this.at(key)}[${i}]`, `expected an object, got ${describe(item)}`);
      return new FieldReader(this.source, `${this.at(key)}[${i}]`, item);
    });
  }

  strings(key: string): string[] {
    const v = this.value[key];
    if (!Array.isArray(v)) this.fail(key, `expected an array of strings, got ${describe(v)}`);
    return v.map((item: unknown, i) => {
      if (typeof item !== "string") this.fail(`${key}[${i}]`, `expected a string, got ${describe(item)}`);
      return item;
    });
  }

  numbers(key: string): number[] {
    const v = this.value[key];
    if (!Array.isArray(v)) this.fail(key, `expected an array of numbers, got ${describe(v)}`);
    return v.map((item: unknown, i) => {
      if (typeof item !== "number" || !Number.isFinite(item)) this.fail(`${key}[${i}]`, `expected a finite number, got ${describe(item)}`);
      return item;
    });
  }

  record<T>(key: string, kind: "string" | "number"): Record<string, T> {
    const sub = this.object(key);
    const out: Record<string, T> = {};
    for (const k of Object.keys(sub.value).sort()) {
      out[k] = (kind === "string" ? sub.string(k) : sub.number(k, "any")) as T;
    }
    return out;
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing (the field is missing)";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === "number") return `the number ${v}`;
  return `a ${typeof v}`;
}

function readPercentiles(r: FieldReader): LatencySummary {
  const p: LatencySummary = { p50: r.number("p50"), p90: r.number("p90"), p99: r.number("p99"), p999: r.number("p999"), max: r.number("max") };
  // LatencySummary of one histogram cannot decrease; if they do, the writer is broken and every
  // comparison built on them would be too.
  const order: (keyof LatencySummary)[] = ["p50", "p90", "p99", "p999", "max"];
  for (let i = 1; i < order.length; i++) {
    const lo = order[i - 1] as keyof LatencySummary;
    const hi = order[i] as keyof LatencySummary;
    if (p[hi] < p[lo]) r.fail(hi, `${hi} (${p[hi]}) is below ${lo} (${p[lo]})`);
  }
  return p;
}

function readPoint(r: FieldReader): ResultPoint {
  const mode = r.string("mode");
  if (mode !== "real" && mode !== "sim") r.fail("mode", `expected "real" or "sim", got ${JSON.stringify(mode)}`);
  const point: ResultPoint = {
    scenario: r.string("scenario"),
    style: r.string("style"),
    mode,
    loadGenerator: r.string("loadGenerator"),
    connections: r.number("connections", "integer"),
    repeat: r.number("repeat", "integer"),
    durationMs: r.number("durationMs"),
    ...(r.has("rate") ? { rate: r.number("rate", "positive") } : {}),
    throughput: r.number("throughput"),
    operations: r.number("operations"),
    latencyUs: readPercentiles(r.object("latencyUs")),
    ...(r.has("uncorrectedLatencyUs") ? { uncorrectedLatencyUs: readPercentiles(r.object("uncorrectedLatencyUs")) } : {}),
    errors: r.number("errors", "integer"),
    timeouts: r.number("timeouts", "integer"),
    mismatches: r.number("mismatches", "integer"),
    serverRssBytes: r.numberOrNull("serverRssBytes"),
    serverCpuPercent: r.numberOrNull("serverCpuPercent"),
    serverCpuUsPerOp: r.numberOrNull("serverCpuUsPerOp"),
    ...(r.has("serverEventLoopUtilization") ? { serverEventLoopUtilization: r.number("serverEventLoopUtilization") } : {}),
    clientCpuPercent: r.number("clientCpuPercent"),
    clientWorkers: r.number("clientWorkers", "integer"),
    generatorSaturated: r.boolean("generatorSaturated"),
    ...(r.has("extra") ? { extra: r.record<number>("extra", "number") } : {}),
    histogram: r.string("histogram"),
    ...(r.has("uncorrectedHistogram") ? { uncorrectedHistogram: r.string("uncorrectedHistogram") } : {}),
    ...(r.has("failure") ? { failure: r.string("failure") } : {}),
  };
  if (point.connections < 1) r.fail("connections", `expected at least 1 connection, got ${point.connections}`);
  return point;
}

/**
 * Validates a parsed results object and returns it typed.
 *
 * @param json - The parsed JSON.
 * @param source - Where it came from, for error messages and provenance.
 * @returns The validated results.
 * @throws {@link ResultsFormatError} `WL_ERR_RESULTS_FORMAT` naming the first bad field, or an
 *   unsupported `schemaVersion`.
 */
export function parseResults(json: unknown, source: string): RunResults {
  const root = FieldReader.root(source, json);
  const version = root.number("schemaVersion", "any");
  if (!SUPPORTED_SCHEMA_VERSIONS.includes(version)) {
    root.fail("schemaVersion", `unsupported results schema version ${version} (this report reads ${SUPPORTED_SCHEMA_VERSIONS.join(", ")})`);
  }
  const env = root.object("environment");
  const environment: Environment = {
    nodeVersion: env.string("nodeVersion"),
    cpuModel: env.string("cpuModel"),
    cores: env.number("cores", "integer"),
    memoryBytes: env.number("memoryBytes"),
    os: env.string("os"),
    commit: env.string("commit"),
    command: env.string("command"),
    startedAt: env.string("startedAt"),
    peers: env.record<string>("peers", "string"),
  };
  const par = root.object("parameters");
  const parameters: Parameters = {
    scenarios: par.strings("scenarios"),
    styles: par.strings("styles"),
    connections: par.numbers("connections"),
    durationMs: par.number("durationMs"),
    warmupMs: par.number("warmupMs"),
    repeat: par.number("repeat", "integer"),
    ...(par.has("rate") ? { rate: par.number("rate", "positive") } : {}),
    sim: par.boolean("sim"),
    ...(par.has("load") ? { load: par.string("load") } : {}),
    ...(par.has("targets") ? { targets: par.strings("targets") } : {}),
    ...(par.has("serverCpuProfile") ? { serverCpuProfile: par.string("serverCpuProfile") } : {}),
  };
  const points = root.array("points").map(readPoint);
  const scenarios = version === 1 ? scenariosOfVersion1(parameters, points) : root.array("scenarios").map(readScenario);
  const precision = root.has("precision") ? readPrecision(root.object("precision")) : undefined;
  return { schemaVersion: version, environment, parameters, scenarios, points, ...(precision === undefined ? {} : { precision }), source };
}

function readPrecision(r: FieldReader): NonNullable<Results["precision"]> {
  return {
    target: r.number("target", "positive"),
    maxTimeMs: r.number("maxTimeMs"),
    outcomes: r.array("outcomes").map((o) => ({
      scenario: o.string("scenario"),
      connections: o.number("connections", "integer"),
      rounds: o.number("rounds", "integer"),
      elapsedMs: o.number("elapsedMs"),
      stoppedBy: o.string("stoppedBy"),
      comparisons: o.array("comparisons").map((c) => ({ subject: c.string("subject"), reference: c.string("reference"), figure: c.string("figure"), ratio: c.numberOrNull("ratio"), halfWidth: c.numberOrNull("halfWidth") })),
    })),
  };
}

const RUNS_ON: readonly StyleRunsOn[] = ["wirelab", "node", "command", "target", "unknown"];

function readScenario(r: FieldReader): ScenarioInfo {
  const styles = r.array("styles").map((s): StyleInfo => {
    const runsOn = s.string("runsOn");
    if (!(RUNS_ON as readonly string[]).includes(runsOn)) s.fail("runsOn", `expected one of ${RUNS_ON.join(", ")}, got ${JSON.stringify(runsOn)}`);
    const description = s.optionalString("description");
    return { name: s.string("name"), ...(description === undefined ? {} : { description }), runsOn: runsOn as StyleRunsOn };
  });
  const names = styles.map((s) => s.name);
  const comparisons = r.array("comparisons").map((c): Comparison => {
    const subject = c.string("subject");
    const reference = c.string("reference");
    for (const [key, style] of [["subject", subject], ["reference", reference]] as const) {
      if (!names.includes(style)) c.fail(key, `names a style the scenario does not declare: ${JSON.stringify(style)}`);
    }
    return { subject, reference };
  });
  return { name: r.string("name"), summary: r.string("summary"), operation: r.string("operation"), kind: r.string("kind"), styles, comparisons };
}

/** Version 1 declared no styles or comparisons: the points name the styles; nothing is compared. */
function scenariosOfVersion1(parameters: Parameters, points: readonly ResultPoint[]): ScenarioInfo[] {
  return parameters.scenarios.map((name) => ({
    name,
    summary: name,
    operation: "one operation",
    kind: "throughput",
    styles: [...new Set(points.filter((p) => p.scenario === name).map((p) => p.style))].map((style) => ({ name: style, runsOn: "unknown" as const })),
    comparisons: [],
  }));
}

/**
 * Reads and validates a results file.
 *
 * @param path - The path of a `results.json`.
 * @returns The validated results, with `source` set to `path`.
 * @throws {@link ResultsFormatError} `WL_ERR_RESULTS_FORMAT` when the file is not JSON or a field is
 *   bad; the file system's error (e.g. `ENOENT`) when it cannot be read.
 */
export async function readResults(path: string): Promise<RunResults> {
  return parseResults(await readJsonFile(path), path);
}

/**
 * Reads and parses a JSON file.
 *
 * @param path - The file.
 * @returns What it holds.
 * @throws {@link ResultsFormatError} `WL_ERR_RESULTS_FORMAT` when it is not JSON; the file
 *   system's error when it cannot be read.
 */
export async function readJsonFile(path: string): Promise<unknown> {
  const text = await readFile(path, "utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ResultsFormatError(path, "$", `not valid JSON (${error instanceof Error ? error.message : String(error)})`, error);
  }
}
