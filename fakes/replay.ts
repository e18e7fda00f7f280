/**
 * Replay files and the one way a property case runs.
 *
 * A replay file is a failing property case as JSON: the fast-check seed and path, the shrunk
 * inputs, the workload features it had on, the trace hash and the trace lines of its networks.
 * `replay(file, body)` runs that case again against the body, exactly as `simProperty` ran it
 * (same guard, same end-of-case checks): it fails as long as the bug is there and passes once it
 * is fixed, so a replay file is a regression test. With `{ strict: true }` it also demands the
 * same trace hash, and says at which trace line the runs diverged.
 *
 * Inputs are stored as JSON with a few tagged values, so that bytes, chunking scripts, `-0`,
 * `NaN`, infinities, `undefined` and bigints come back as they were.
 *
 * @module
 */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { InvalidOptionError, ReplayMismatchError, UncleanReactorError } from "../runtime/errors.js";
import type { TraceDivergence } from "../runtime/errors.js";
import { ScriptedChunking } from "./arbitraries.js";
import type { ScriptedChunkingData } from "./arbitraries.js";
import { NondeterminismGuard } from "./nondeterminism-guard.js";
import { SimNetwork } from "./simulation.js";
import type { SimNetworkOptions } from "./simulation.js";

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What a replay file holds (version 2; version 1 files, without features and trace lines, are read too). */
export interface ReplayRecord {
  /** The format version. */
  readonly version: 1 | 2;
  /** The property's name. */
  readonly name: string;
  /** fast-check's seed of the failing run. */
  readonly seed: number;
  /** fast-check's counterexample path (with `seed`, `fc.assert(..., { seed, path })` replays it). */
  readonly path: string;
  /** The shrunk inputs, encoded with {@link encodeInputs}. */
  readonly inputs: Json;
  /** The workload features the case had on (swarm testing), or null when all were. */
  readonly features?: readonly string[] | null;
  /** The trace hash of the failing case (see {@link SimCaseContext.traceHash}), or null. */
  readonly traceHash: string | null;
  /** The trace lines of each network of the failing case, each cut at {@link DEFAULT_REPLAY_TRACE_LINES}. */
  readonly trace?: readonly (readonly string[])[];
  /** What the failure said. */
  readonly error: string;
}

/** The most trace lines per network a replay file keeps (a strict replay compares them). */
export const DEFAULT_REPLAY_TRACE_LINES = 10_000;

/**
 * What a property body gets besides its inputs: networks whose traces are reported and hashed,
 * a log, and the workload features the case has on.
 */
export class SimCaseContext {
  /** The networks made with {@link SimCaseContext.network}, in order. */
  readonly networks: SimNetwork[] = [];
  /** Lines logged with {@link SimCaseContext.log}, each stamped with the virtual time of the case's last network. */
  readonly lines: string[] = [];

  /**
   * @param features - the workload features this case has on (drawn per case by
   *   `simProperty`'s `swarm` option); null when every feature is on.
   */
  constructor(readonly features: ReadonlySet<string> | null = null) {}

  /**
   * @returns whether the workload feature `name` is on in this case: always, unless
   *   `simProperty` draws features (swarm testing) and left it out.
   */
  enabled(name: string): boolean {
    return this.features === null || this.features.has(name);
  }

  /**
   * Makes a `SimNetwork` (trace kept as lines) whose trace goes into the failure report and
   * whose hash identifies the case.
   *
   * @param options - the network's options.
   * @returns the network.
   */
  network(options: SimNetworkOptions = {}): SimNetwork {
    const net = new SimNetwork({ ...options, trace: "lines" });
    this.networks.push(net);
    return net;
  }

  /**
   * Adds a line to the case's log, stamped with the virtual time of its last network (as the
   * trace is): printed on failure, and hashed when no network is used.
   */
  log(line: string): void {
    const net = this.networks.at(-1);
    this.lines.push(net === undefined ? line : `${net.now().toFixed(3)}ms ${line}`);
  }

  /**
   * What identifies this run: the trace hashes of its networks joined with `+`, or, when it made
   * none, a hash of its log lines; null when it has neither.
   */
  traceHash(): string | null {
    if (this.networks.length > 0) return this.networks.map((n) => n.traceHash()).join("+");
    if (this.lines.length === 0) return null;
    return `log:${fnv(this.lines.join("\n"))}`;
  }

  /**
   * The end-of-case check for leaks: a timer set by a connection's code that outlived the
   * connection (it fired after the connection was lost, or is still pending).
   *
   * @throws UncleanReactorError (`WL_ERR_UNCLEAN_REACTOR`) naming each such timer.
   */
  checkLeaks(): void {
    // One line per timer function and connection end: a loop that leaks is one finding.
    const groups = new Map<string, { text: string; times: number[] }>();
    let total = 0;
    this.networks.forEach((net, i) => {
      for (const leak of net.leakedTimers()) {
        total++;
        const where = this.networks.length > 1 ? ` of network ${i + 1}` : "";
        const text = `${leak.timer} on ${leak.host}${where}, set by ${leak.connection} (lost at ${ms(leak.lostAt)})`;
        const group = groups.get(text) ?? { text, times: [] };
        group.times.push(Number.isNaN(leak.firedAt) ? -leak.dueAt - 1 : leak.firedAt);
        groups.set(text, group);
      }
    });
    if (total === 0) return;
    const items = [...groups.values()].map(({ text, times }) => {
      const fired = times.filter((t) => t >= 0);
      const pending = times.length - fired.length;
      const parts: string[] = [];
      if (fired.length === 1) parts.push(`fired at ${ms(fired[0]!)}`);
      else if (fired.length > 1) parts.push(`fired ${fired.length} times, ${ms(fired[0]!)} to ${ms(fired[fired.length - 1]!)}`);
      if (pending > 0) parts.push(`${pending} still pending`);
      return `${text}: ${parts.join(", ")}`;
    });
    throw new UncleanReactorError("the case", [`${total} timer${total === 1 ? "" : "s"} outlived ${total === 1 ? "its connection" : "their connections"}: ${items.join("; ")}`]);
  }
}

/** A property body: runs one case. */
export type SimCaseBody<T> = (inputs: T, ctx: SimCaseContext) => unknown;

/** What a case is checked for once its body passed. */
export interface CaseChecks {
  /**
   * Fail a case that leaves a timer that outlived its connection (see
   * {@link SimCaseContext.checkLeaks}).
   * @defaultValue true
   */
  checkLeaks?: boolean;
}

/**
 * Runs one case as `simProperty` and `replay` do: the body, and every async continuation it
 * starts, under a nondeterminism guard (its networks' runs have their own); then, if it passed,
 * the end-of-case checks.
 *
 * @throws what the body throws; NondeterminismError (`WL_ERR_NONDETERMINISM`) listing each use
 *   of real time or randomness outside the networks' runs (in a `connectPair` pump, say);
 *   UncleanReactorError (`WL_ERR_UNCLEAN_REACTOR`) for timers that outlived their connection.
 */
export async function runCase<T>(body: SimCaseBody<T>, inputs: T, ctx: SimCaseContext, checks: CaseChecks = {}): Promise<void> {
  const guard = new NondeterminismGuard();
  await guard.run(() => body(inputs, ctx));
  guard.check();
  if (checks.checkLeaks !== false) ctx.checkLeaks();
}

/** Options for {@link replay}. */
export interface ReplayOptions extends CaseChecks {
  /**
   * Also demand that the run does exactly what the file recorded (the same trace hash), as a
   * check that the body is deterministic; a run that diverges fails with `ReplayMismatchError`
   * naming the first differing trace line.
   * @defaultValue false: the case passes or fails on the body alone
   */
  strict?: boolean;
}

/** What {@link replay} returns when the replayed case passes. */
export interface ReplayOutcome<T> {
  /** The inputs read from the file. */
  readonly inputs: T;
  /** The trace hash of this run. */
  readonly traceHash: string | null;
  /** Whether it equals the file's (a fix usually changes the trace, so it need not). */
  readonly sameTrace: boolean;
}

/**
 * Runs the case stored in a replay file again, against `body`, exactly as `simProperty` runs a
 * case: a regression test for the bug the file caught.
 *
 * @param file - the replay file's path.
 * @param body - the property body.
 * @param options - see {@link ReplayOptions}.
 * @returns the inputs and trace hash, when the case passes (the bug is fixed).
 * @throws whatever the case fails with: the failure, reproduced; with `strict`,
 *   ReplayMismatchError (`WL_ERR_REPLAY_MISMATCH`) when the run's trace hash differs from the
 *   file's, saying where the traces first differ (the body's error, if any, is its `cause`).
 *
 * @example
 * ```ts
 * it("regression: lines split between \\r and \\n", async () => {
 *   await replay("test/replays/lines-42.json", linesBody);
 * });
 * ```
 */
export async function replay<T>(file: string, body: SimCaseBody<T>, options: ReplayOptions = {}): Promise<ReplayOutcome<T>> {
  const record = readReplayFile(file);
  const inputs = decodeInputs(record.inputs) as T;
  const features = record.features === undefined || record.features === null ? null : new Set(record.features);
  const ctx = new SimCaseContext(features);
  let failure: { error: unknown } | null = null;
  try {
    await runCase(body, inputs, ctx, options);
  } catch (error) {
    failure = { error };
  }
  const hash = ctx.traceHash();
  if (options.strict === true && hash !== record.traceHash) {
    const mismatch = new ReplayMismatchError(file, record.traceHash, hash, firstDivergence(record.trace ?? [], ctx.networks.map((n) => n.trace())));
    if (failure !== null) Object.defineProperty(mismatch, "cause", { value: failure.error });
    throw mismatch;
  }
  if (failure !== null) throw failure.error;
  return { inputs, traceHash: hash, sameTrace: hash === record.traceHash };
}

/**
 * @returns the first line where two runs' traces (each a list of networks' lines) differ, or
 *   null when they agree as far as the recorded lines go.
 */
export function firstDivergence(recorded: readonly (readonly string[])[], replayed: readonly (readonly string[])[]): TraceDivergence | null {
  for (let network = 0; network < Math.max(recorded.length, replayed.length); network++) {
    const a = recorded[network] ?? [];
    const b = replayed[network] ?? [];
    // A file keeps the first lines of a long trace only: compare as far as it goes.
    const n = a.length >= DEFAULT_REPLAY_TRACE_LINES ? a.length : Math.max(a.length, b.length);
    for (let index = 0; index < n; index++) {
      if (a[index] !== b[index]) return { network, index, recorded: a[index] ?? null, replayed: b[index] ?? null };
    }
  }
  return null;
}

/**
 * Reads and checks a replay file.
 *
 * @returns its record.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when the file is not a replay file;
 *   the file system's error when it cannot be read.
 */
export function readReplayFile(file: string): ReplayRecord {
  const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<ReplayRecord> | null;
  if (parsed === null || typeof parsed !== "object" || (parsed.version !== 1 && parsed.version !== 2) || typeof parsed.seed !== "number" || typeof parsed.path !== "string" || !("inputs" in parsed)) {
    throw new InvalidOptionError("file", `${file} is not a wirelab replay file (version 1 or 2)`);
  }
  return parsed as ReplayRecord;
}

/**
 * Writes a replay file, making its folder first.
 *
 * @param file - where.
 * @param record - what.
 */
export function writeReplayFile(file: string, record: ReplayRecord): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
}

/**
 * Encodes property inputs as JSON: plain objects, arrays, strings, booleans, null and numbers,
 * plus tagged `Uint8Array`s (and Buffers, which come back as Uint8Arrays), `ScriptedChunking`s,
 * `undefined`, non-finite numbers, `-0` and bigints.
 *
 * @param value - the inputs.
 * @returns the JSON value.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a value it cannot encode (a
 *   function, a class instance other than those), naming where it is.
 */
export function encodeInputs(value: unknown, where = "inputs"): Json {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (value === undefined) return { $undefined: true };
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { $number: "NaN" };
    if (value === Infinity) return { $number: "Infinity" };
    if (value === -Infinity) return { $number: "-Infinity" };
    if (Object.is(value, -0)) return { $number: "-0" };
    return value;
  }
  if (typeof value === "bigint") return { $bigint: value.toString() };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  if (value instanceof ScriptedChunking) return { $chunking: { sizes: [...value.sizes], then: value.then } };
  if (Array.isArray(value)) return value.map((v, i) => encodeInputs(v, `${where}[${i}]`));
  if (typeof value === "object" && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    const out: { [key: string]: Json } = {};
    let tagged = false;
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith("$")) tagged = true;
      out[k] = encodeInputs(v, `${where}.${k}`);
    }
    return tagged ? { $object: out } : out;
  }
  throw new InvalidOptionError(where, `cannot be stored in a replay file: ${describe(value)}`);
}

/**
 * Decodes what {@link encodeInputs} made.
 *
 * @param json - the JSON value.
 * @returns the inputs, as fresh values (a chunking script starts from its first read).
 */
export function decodeInputs(json: Json): unknown {
  if (json === null || typeof json !== "object") return json;
  if (Array.isArray(json)) return json.map(decodeInputs);
  const keys = Object.keys(json);
  if (keys.length === 1) {
    const v = json[keys[0]!];
    switch (keys[0]) {
      case "$undefined":
        return undefined;
      case "$number":
        return v === "-0" ? -0 : Number(v);
      case "$bigint":
        return BigInt(v as string);
      case "$bytes":
        return new Uint8Array(Buffer.from(v as string, "base64"));
      case "$chunking":
        return ScriptedChunking.fromJSON(v as unknown as ScriptedChunkingData);
      case "$object":
        return decodeObject(v as { [key: string]: Json });
    }
  }
  return decodeObject(json);
}

function decodeObject(json: { [key: string]: Json }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) out[k] = decodeInputs(v);
  return out;
}

function describe(value: unknown): string {
  if (typeof value === "function") return `a function (${value.name || "anonymous"})`;
  if (typeof value === "object" && value !== null) return `an instance of ${value.constructor.name}`;
  return typeof value;
}

/** A virtual time as the trace prints it. */
function ms(time: number): string {
  return `${time.toFixed(3)}ms`;
}

/** FNV-1a over UTF-16 code units, as 8 hex digits: a short, stable hash of a text. */
function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}
