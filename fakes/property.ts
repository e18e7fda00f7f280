/**
 * `simProperty`: runs a fast-check property over the fakes and, when it fails, makes the
 * failure usable: it prints the seed, the counterexample path, the shrunk inputs (fault plan,
 * chunking, configuration, workload features) and the trace of the shrunk case, carries the
 * same as fields of its error, and writes a replay file that {@link replay} runs again as a
 * regression test.
 *
 * Every case runs the same way (see `runCase`): under a nondeterminism guard, then, if the body
 * passed, checked for timers that outlived their connection.
 *
 * @module
 */

import { join } from "node:path";
import fc from "fast-check";
import { InvalidOptionError, PropertyFailedError } from "../runtime/errors.js";
import type { PropertyFailure } from "../runtime/errors.js";
import { DEFAULT_REPLAY_TRACE_LINES, SimCaseContext, decodeInputs, encodeInputs, runCase, writeReplayFile } from "./replay.js";
import type { CaseChecks, Json, SimCaseBody } from "./replay.js";

/**
 * fast-check's own parameters that {@link simProperty} passes through as they are:
 * `endOnFailure`, `verbose`, `interruptAfterTimeLimit`, `skipAllAfterTimeLimit`,
 * `markInterruptAsFailure`, `timeout`, `maxSkipsPerRun`, `ignoreEqualValues`, ... (see
 * fast-check's `Parameters`). `examples`, `seed`, `path` and `numRuns` have their own entries in
 * {@link SimPropertyOptions}; `reporter` and `asyncReporter` are not taken (the report is
 * simProperty's), nor `plugins` (typed by the property's arguments, which simProperty builds).
 */
export type FastCheckParameters = Omit<fc.Parameters<never>, "examples" | "reporter" | "asyncReporter" | "plugins" | "seed" | "path" | "numRuns">;

/** Options for {@link simProperty}. */
export interface SimPropertyOptions<T = Record<string, unknown>> extends FastCheckParameters, CaseChecks {
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
   * Inputs to run first, before drawn ones (fast-check's `examples`), with every workload
   * feature on.
   * @defaultValue none
   */
  examples?: readonly T[];
  /**
   * Swarm testing: the workload features a case may have on. Each case draws a subset of them
   * (shrinking toward fewer), the body asks `ctx.enabled(name)`, and the report and replay file
   * record the subset. Without it, `ctx.enabled` is true for every feature.
   * @defaultValue none: every feature on in every case
   */
  swarm?: readonly string[];
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
 * cases passed. A case fails when the body throws or rejects, when its code used real time or
 * randomness, or when it left a timer that outlived its connection (unless `checkLeaks` is
 * false). A drawn chunking script cuts from its start in every case and shrink step. On
 * failure, fast-check shrinks the inputs; the shrunk case is then run once more from its inputs
 * decoded from their replay encoding (which proves the replay file reproduces it), and the
 * report is built from that run.
 *
 * @param arbs - the arbitraries, by name; the body gets an object with the same keys.
 * @param body - one case. Make networks with `ctx.network(options)` so their traces are
 *   reported; log anything else with `ctx.log(line)`; ask `ctx.enabled(feature)` with `swarm`.
 * @param options - see {@link SimPropertyOptions}.
 * @returns the number of runs and the seed, when the property held.
 * @throws PropertyFailedError (`WL_ERR_PROPERTY_FAILED`) with the report as message, the same
 *   as fields (seed, path, runs, shrinks, counterexample, features, replay file, trace excerpt),
 *   and the case's error as `cause`; InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad
 *   `numRuns`.
 *
 * @example
 * ```ts
 * await simProperty({ config: simConfigArb(), faults: faultPlanArb({ hosts: ["10.0.0.1", "10.0.0.2"], swarm: true }) }, async ({ config, faults }, ctx) => {
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
  options: SimPropertyOptions<T> = {},
): Promise<SimPropertyResult> {
  const { name = "property", numRuns = DEFAULT_SIM_PROPERTY_RUNS, examples, swarm, replayDir, traceLines, onReport, checkLeaks, ...passed } = options;
  if (!Number.isInteger(numRuns) || numRuns < 1) throw new InvalidOptionError("numRuns", `must be a positive integer, got ${numRuns}`);
  const checks: CaseChecks = checkLeaks === undefined ? {} : { checkLeaks };
  const params: fc.Parameters<[string[] | null, T]> = { ...passed, numRuns };
  if (examples !== undefined) params.examples = examples.map((e): [null, T] => [null, e]);
  const record = fc.record(arbs) as unknown as fc.Arbitrary<T>;
  const features: fc.Arbitrary<string[] | null> = swarm === undefined ? fc.constant(null) : fc.subarray([...swarm]);
  // The fakes cut with a copy of a drawn chunking script, so a value fast-check hands to several
  // runs and shrink steps gives the same reads in each. (The record goes last: fast-check 4.10
  // clones a tuple only up to its last cloneable element, should a user input be cloneable.)
  const property = fc.asyncProperty(features, record, async (on, inputs) => {
    await runCase(body, inputs, new SimCaseContext(on === null ? null : new Set(on)), checks);
  });
  const details = await fc.check(property, params);
  if (!details.failed) return { numRuns: details.numRuns, seed: details.seed };
  const failure: PropertyFailure = {
    property: name,
    seed: details.seed,
    path: details.counterexamplePath,
    numRuns: details.numRuns,
    numShrinks: details.numShrinks,
    counterexample: null,
    features: null,
    replayFile: null,
    traceExcerpt: [],
  };
  if (details.counterexample === null || details.counterexamplePath === null) {
    const report = `${name}: fast-check stopped without a counterexample\n${fc.defaultReportMessage(details) ?? ""}`;
    onReport?.(report);
    throw new PropertyFailedError(report, failure, { cause: details.errorInstance });
  }
  const [on, shrunk] = details.counterexample;
  let encoded: Json | null = null;
  let encodeProblem = "";
  try {
    encoded = encodeInputs(shrunk);
  } catch (error) {
    encodeProblem = error instanceof Error ? error.message : String(error);
  }

  // Run the shrunk case once more, from its inputs as the replay file stores them, to collect
  // its trace.
  const again = new SimCaseContext(on === null ? null : new Set(on));
  let againError: unknown = null;
  let reproduced = false;
  try {
    await runCase(body, (encoded === null ? fc.cloneIfNeeded(shrunk) : decodeInputs(encoded)) as T, again, checks);
  } catch (error) {
    reproduced = true;
    againError = error;
  }
  const traceHash = again.traceHash();
  const firstError = details.errorInstance;
  const errorText = describeError(firstError);

  let file: string | null = null;
  const dir = replayDir === undefined ? DEFAULT_REPLAY_DIR : replayDir;
  if (dir !== null && encoded !== null) {
    file = join(dir, `${slug(name)}-${details.seed}.json`);
    writeReplayFile(file, {
      version: 2,
      name,
      seed: details.seed,
      path: details.counterexamplePath,
      inputs: encoded,
      features: on,
      traceHash,
      trace: again.networks.map((net) => net.trace().slice(0, DEFAULT_REPLAY_TRACE_LINES)),
      error: errorText,
    });
  }

  const maxLines = traceLines ?? DEFAULT_REPORT_TRACE_LINES;
  const lines: string[] = [
    `Property "${name}" failed after ${details.numRuns} run(s) and ${details.numShrinks} shrink(s).`,
    `  seed: ${details.seed}`,
    `  path: ${details.counterexamplePath}`,
    `  rerun: simProperty(..., { seed: ${details.seed}, path: ${JSON.stringify(details.counterexamplePath)} })`,
    `  error: ${errorText}`,
    "Shrunk inputs:",
    ...Object.entries(shrunk).map(([k, v]) => `  ${k}: ${fc.stringify(v)}`),
  ];
  if (on !== null) lines.push(`Workload features on: ${on.length === 0 ? "none" : on.join(", ")}`);
  if (!reproduced) {
    lines.push("WARNING: the shrunk case passed when run again: the body is not deterministic (real time, shared state?).");
  } else if (describeError(againError) !== errorText) {
    lines.push(`Run again, it failed differently: ${describeError(againError)}`);
  }
  lines.push(`Trace hash: ${traceHash ?? "none (no network, nothing logged)"}`);
  const excerpt: string[] = [];
  again.networks.forEach((net, i) => {
    const trace = net.trace();
    const shown = trace.slice(-maxLines);
    excerpt.push(`Trace of network ${i + 1} (seed ${net.seed}, ${trace.length} lines${shown.length < trace.length ? `, last ${shown.length} shown` : ""}):`);
    for (const l of shown) excerpt.push(`  ${l}`);
    for (const use of net.nondeterminism()) excerpt.push(`  (real time or randomness: ${use.api} at ${use.where})`);
  });
  lines.push(...excerpt);
  if (again.lines.length > 0) {
    lines.push("Log:");
    for (const l of again.lines.slice(-maxLines)) lines.push(`  ${l}`);
  }
  lines.push(file !== null ? `Replay file: ${file} (replay(file, body) runs this case again: a regression test)` : `No replay file${encodeProblem === "" ? "" : `: ${encodeProblem}`}`);
  const report = lines.join("\n");
  onReport?.(report);
  throw new PropertyFailedError(report, { ...failure, counterexample: shrunk, features: on, replayFile: file, traceExcerpt: excerpt }, { cause: firstError });
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function slug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return s === "" ? "property" : s.slice(0, 60);
}
