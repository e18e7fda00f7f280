/**
 * `simProperty`: runs a fast-check property over the fakes and, when it fails, makes the
 * failure usable: it prints the seed, the counterexample path, the shrunk inputs (fault plan,
 * chunking, configuration) and the trace of the shrunk case, and writes a replay file that
 * {@link replay} runs again.
 *
 * @module
 */

import { join } from "node:path";
import fc from "fast-check";
import { InvalidOptionError, PropertyFailedError } from "../runtime/errors.js";
import { SimCaseContext, decodeInputs, encodeInputs, runCase, writeReplayFile } from "./replay.js";
import type { Json, SimCaseBody } from "./replay.js";

/** Options for {@link simProperty}. */
export interface SimPropertyOptions {
  /**
   * A name for reports and the replay file's name.
   * @defaultValue "property"
   */
  name?: string;
  /**
   * How many cases to run.
   * @defaultValue {@link DEFAULT_SIM_PROPERTY_RUNS}
   */
  numRuns?: number;
  /**
   * fast-check's seed; give it (with `path`) to rerun one failure through fast-check.
   * @defaultValue fast-check's own (drawn per run, and printed on failure)
   */
  seed?: number;
  /**
   * fast-check's counterexample path, to start from a known failure.
   * @defaultValue none
   */
  path?: string;
  /**
   * The folder replay files go to; null writes none.
   * @defaultValue {@link DEFAULT_REPLAY_DIR}
   */
  replayDir?: string | null;
  /**
   * Most trace lines printed per network (the last ones: where it went wrong).
   * @defaultValue {@link DEFAULT_REPORT_TRACE_LINES}
   */
  traceLines?: number;
  /**
   * Told the report before the error is thrown (it is in the error's message too).
   * @defaultValue none: the report is only in the thrown error
   */
  onReport?: (report: string) => void;
}

/** The default number of cases {@link simProperty} runs. */
export const DEFAULT_SIM_PROPERTY_RUNS = 100;
/** The default folder of replay files, relative to the working directory. */
export const DEFAULT_REPLAY_DIR = "test-output/replays";
/** The default bound on trace lines printed per network in a failure report. */
export const DEFAULT_REPORT_TRACE_LINES = 200;

/** What {@link simProperty} returns when the property held. */
export interface SimPropertyResult {
  /** Cases run. */
  readonly numRuns: number;
  /** fast-check's seed. */
  readonly seed: number;
}

/**
 * Runs `body` on inputs drawn from `arbs` (a record of arbitraries) until it fails or `numRuns`
 * cases passed. A case fails when the body throws or rejects. On failure, fast-check shrinks
 * the inputs; the shrunk case is then run once more from a copy of its inputs decoded from
 * their replay encoding (which proves the replay file reproduces it), and the report is built
 * from that run.
 *
 * @param arbs - the arbitraries, by name; the body gets an object with the same keys.
 * @param body - one case. Make networks with `ctx.network(options)` so their traces are
 *   reported; log anything else with `ctx.log(line)`.
 * @param options - see {@link SimPropertyOptions}.
 * @returns the number of runs and the seed, when the property held.
 * @throws PropertyFailedError (`WL_ERR_PROPERTY_FAILED`) with the report (seed, path, shrunk
 *   inputs, trace, replay file) and the body's error as `cause`.
 *
 * @example
 * ```ts
 * await simProperty({ config: simConfigArb(), faults: faultPlanArb({ hosts: ["a", "b"] }) }, async ({ config, faults }, ctx) => {
 *   const net = ctx.network(simNetworkOptions(config));
 *   net.plan(faults);
 *   ...
 *   await net.runUntilIdle();
 * }, { name: "echo survives faults" });
 * ```
 */
export async function simProperty<T extends Record<string, unknown>>(
  arbs: { [K in keyof T]: fc.Arbitrary<T[K]> },
  body: SimCaseBody<T>,
  options: SimPropertyOptions = {},
): Promise<SimPropertyResult> {
  const name = options.name ?? "property";
  const numRuns = options.numRuns ?? DEFAULT_SIM_PROPERTY_RUNS;
  if (!Number.isInteger(numRuns) || numRuns < 1) throw new InvalidOptionError("numRuns", `must be a positive integer, got ${numRuns}`);
  const params: fc.Parameters<[T]> = { numRuns };
  if (options.seed !== undefined) params.seed = options.seed;
  if (options.path !== undefined) params.path = options.path;
  const record = fc.record(arbs) as unknown as fc.Arbitrary<T>;
  // Stateful inputs (a chunking script's cursor) are cloned by fast-check itself for every run
  // and shrink step that reuses them (`fc.cloneMethod`).
  const property = fc.asyncProperty(record, async (inputs) => {
    await runCase(body, inputs, new SimCaseContext());
  });
  const details = await fc.check(property, params);
  if (!details.failed) return { numRuns: details.numRuns, seed: details.seed };
  if (details.counterexample === null || details.counterexamplePath === null) {
    throw new PropertyFailedError(`${name}: fast-check stopped without a counterexample\n${fc.defaultReportMessage(details) ?? ""}`, null, {
      cause: details.errorInstance,
    });
  }
  const shrunk = details.counterexample[0];
  let encoded: Json | null = null;
  let encodeProblem = "";
  try {
    encoded = encodeInputs(shrunk);
  } catch (error) {
    encodeProblem = error instanceof Error ? error.message : String(error);
  }

  // Run the shrunk case once more, from fresh inputs (values such as a chunking script keep a
  // cursor), to collect its trace: the replay file's inputs, when they can be encoded.
  const again = new SimCaseContext();
  let againError: unknown = null;
  let reproduced = false;
  try {
    await runCase(body, (encoded === null ? fc.cloneIfNeeded(shrunk) : decodeInputs(encoded)) as T, again);
  } catch (error) {
    reproduced = true;
    againError = error;
  }
  const traceHash = again.traceHash();
  const firstError = details.errorInstance;
  const errorText = describeError(firstError);

  let file: string | null = null;
  const dir = options.replayDir === undefined ? DEFAULT_REPLAY_DIR : options.replayDir;
  if (dir !== null && encoded !== null) {
    file = join(dir, `${slug(name)}-${details.seed}.json`);
    writeReplayFile(file, { version: 1, name, seed: details.seed, path: details.counterexamplePath, inputs: encoded, traceHash, error: errorText });
  }

  const maxLines = options.traceLines ?? DEFAULT_REPORT_TRACE_LINES;
  const lines: string[] = [
    `Property "${name}" failed after ${details.numRuns} run(s) and ${details.numShrinks} shrink(s).`,
    `  seed: ${details.seed}`,
    `  path: ${details.counterexamplePath}`,
    `  rerun: simProperty(..., { seed: ${details.seed}, path: ${JSON.stringify(details.counterexamplePath)} })`,
    `  error: ${errorText}`,
    "Shrunk inputs:",
    ...Object.entries(shrunk).map(([k, v]) => `  ${k}: ${fc.stringify(v)}`),
  ];
  if (!reproduced) {
    lines.push("WARNING: the shrunk case passed when run again: the body is not deterministic (real time, shared state?).");
  } else if (describeError(againError) !== errorText) {
    lines.push(`Run again, it failed differently: ${describeError(againError)}`);
  }
  lines.push(`Trace hash: ${traceHash ?? "none (no network, nothing logged)"}`);
  again.networks.forEach((net, i) => {
    const trace = net.trace();
    const shown = trace.slice(-maxLines);
    lines.push(`Trace of network ${i + 1} (seed ${net.seed}, ${trace.length} lines${shown.length < trace.length ? `, last ${shown.length} shown` : ""}):`);
    for (const l of shown) lines.push(`  ${l}`);
  });
  if (again.lines.length > 0) {
    lines.push("Log:");
    for (const l of again.lines.slice(-maxLines)) lines.push(`  ${l}`);
  }
  lines.push(file !== null ? `Replay file: ${file} (replay(file, body) runs this case again)` : `No replay file${encodeProblem === "" ? "" : `: ${encodeProblem}`}`);
  const report = lines.join("\n");
  options.onReport?.(report);
  throw new PropertyFailedError(report, file, { cause: firstError });
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function slug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return s === "" ? "property" : s.slice(0, 60);
}
