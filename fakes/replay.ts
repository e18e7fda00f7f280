/**
 * Replay files: a failing property case as JSON (the fast-check seed and path, the shrunk
 * inputs, the trace hash), and `replay(file, body)`, which runs exactly that case again from
 * the inputs in the file and checks that it does the same thing (the same trace hash).
 *
 * Inputs are stored as JSON with a few tagged values, so that bytes, chunking scripts, `-0`,
 * `NaN`, infinities, `undefined` and bigints come back as they were.
 *
 * @module
 */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { InvalidOptionError, ReplayMismatchError } from "../runtime/errors.js";
import { ScriptedChunking } from "./arbitraries.js";
import type { ScriptedChunkingData } from "./arbitraries.js";
import { NondeterminismGuard } from "./nondeterminism-guard.js";
import { SimNetwork } from "./simulation.js";
import type { SimNetworkOptions } from "./simulation.js";

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What a replay file holds. */
export interface ReplayRecord {
  /** The format version: 1. */
  readonly version: 1;
  /** The property's name. */
  readonly name: string;
  /** fast-check's seed of the failing run. */
  readonly seed: number;
  /** fast-check's counterexample path (with `seed`, `fc.assert(..., { seed, path })` replays it). */
  readonly path: string;
  /** The shrunk inputs, encoded with {@link encodeInputs}. */
  readonly inputs: Json;
  /** The trace hash of the failing case (see {@link SimCaseContext.traceHash}), or null. */
  readonly traceHash: string | null;
  /** What the failure said. */
  readonly error: string;
}

/**
 * What a property body gets besides its inputs: networks whose traces are reported and hashed,
 * and a log for anything else worth printing.
 */
export class SimCaseContext {
  /** The networks made with {@link SimCaseContext.network}, in order. */
  readonly networks: SimNetwork[] = [];
  /** Lines logged with {@link SimCaseContext.log}. */
  readonly lines: string[] = [];

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

  /** Adds a line to the case's log: printed on failure, and hashed when no network is used. */
  log(line: string): void {
    this.lines.push(line);
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
}

/** A property body: runs one case. */
export type SimCaseBody<T> = (inputs: T, ctx: SimCaseContext) => unknown;

/**
 * Runs one case as `simProperty` and `replay` do: the body, and every async continuation it
 * starts, under a nondeterminism guard; a body that passes but used real time or randomness
 * (outside its networks' runs, which have their own guards: in a `connectPair` pump, say)
 * fails with the guard's error.
 *
 * @throws what the body throws; NondeterminismError (`WL_ERR_NONDETERMINISM`) listing each use.
 */
export async function runCase<T>(body: SimCaseBody<T>, inputs: T, ctx: SimCaseContext): Promise<void> {
  const guard = new NondeterminismGuard();
  await guard.run(() => body(inputs, ctx));
  guard.check();
}

/** What {@link replay} returns when the replayed case passes. */
export interface ReplayOutcome<T> {
  /** The inputs read from the file. */
  readonly inputs: T;
  /** The trace hash of this run (equal to the file's). */
  readonly traceHash: string | null;
}

/**
 * Runs the case stored in a replay file again, from the inputs in the file.
 *
 * @param file - the replay file's path.
 * @param body - the property body (the same one that failed).
 * @returns the inputs and trace hash, when the case now passes (the bug is fixed).
 * @throws ReplayMismatchError (`WL_ERR_REPLAY_MISMATCH`) when the run's trace hash differs
 *   from the file's (the body's own error, if any, is its `cause`); otherwise whatever the body
 *   throws: the failure, reproduced.
 *
 * @example
 * ```ts
 * await expect(replay("test-output/replays/lines-42.json", body)).rejects.toThrow("expected");
 * ```
 */
export async function replay<T>(file: string, body: SimCaseBody<T>): Promise<ReplayOutcome<T>> {
  const record = readReplayFile(file);
  const inputs = decodeInputs(record.inputs) as T;
  const ctx = new SimCaseContext();
  let failure: { error: unknown } | null = null;
  try {
    await runCase(body, inputs, ctx);
  } catch (error) {
    failure = { error };
  }
  const hash = ctx.traceHash();
  if (hash !== record.traceHash) {
    const mismatch = new ReplayMismatchError(file, record.traceHash, hash);
    if (failure !== null) Object.defineProperty(mismatch, "cause", { value: failure.error });
    throw mismatch;
  }
  if (failure !== null) throw failure.error;
  return { inputs, traceHash: hash };
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
  if (parsed === null || typeof parsed !== "object" || parsed.version !== 1 || typeof parsed.seed !== "number" || typeof parsed.path !== "string" || !("inputs" in parsed)) {
    throw new InvalidOptionError("file", `${file} is not a wirelab replay file (version 1)`);
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

/** FNV-1a over UTF-16 code units, as 8 hex digits: a short, stable hash of a text. */
function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}
