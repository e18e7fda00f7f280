/**
 * Differential test: wirelab's Deferred against Twisted's own (22.4, run by /usr/bin/python3).
 *
 * Random programs (test/runtime/deferred-programs.ts: Deferreds with cancellers of every kind;
 * callbacks, errbacks and pairs that return values, throw, return other Deferreds, and fire,
 * cancel, pause or unpause other Deferreds while they run; DeferredList with every flag,
 * gatherResults, succeed, fail, chainDeferred, addTimeout on a fake clock) run on both
 * (test/peers/twisted_deferred.py runs them on Twisted). Each gives a trace: every callback
 * with what it received, every operation that threw, and the end state of every Deferred.
 *
 * Where the traces differ, the wirelab run must have touched one of the differences listed in
 * runtime/README.md ("Deferred: differences from Twisted"); a difference outside the table
 * fails the test with the program, so it can be pasted into a unit test. Every listed
 * difference that programs can reach must also show up, so the table stays exact.
 *
 * Without Twisted the test is skipped with a warning, unless WIRELAB_REQUIRE_PEERS is set, in
 * which case it runs and fails.
 */

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { flushUnhandledErrors } from "../../runtime/deferred.js";
import { programArb, runOnWirelab } from "./deferred-programs.js";
import type { Difference, Program } from "./deferred-programs.js";

const PYTHON = "/usr/bin/python3";
const PEER = fileURLToPath(new URL("../peers/twisted_deferred.py", import.meta.url));
const REQUIRED = (process.env.WIRELAB_REQUIRE_PEERS ?? "") !== "";
const HAVE_TWISTED = spawnSync(PYTHON, ["-c", "import twisted"], { timeout: 20_000 }).status === 0;
const SKIP = !HAVE_TWISTED && !REQUIRED;
if (SKIP) {
  console.warn(`Deferred differential test SKIPPED: ${PYTHON} cannot import twisted (install python3-twisted, or set WIRELAB_REQUIRE_PEERS=1 to make this a failure)`);
}

const PROGRAMS = 3000;
const SEED = 20_261_203;

/** The peer's exit status after a program it had to give up on (its trace is ["hang"]). */
const HANG_STATUS = 3;

/** Runs the programs on Twisted, starting the peer again after each program it gave up on. */
function runOnTwisted(programs: readonly Program[]): string[][] {
  const traces: string[][] = [];
  while (traces.length < programs.length) {
    const rest = programs.slice(traces.length);
    const run = spawnSync(PYTHON, [PEER], {
      input: rest.map((p) => JSON.stringify(p)).join("\n") + "\n",
      maxBuffer: 256 * 1024 * 1024,
      timeout: 120_000,
    });
    const lines = run.stdout.toString().split("\n").filter((l) => l !== "");
    traces.push(...lines.map((l) => JSON.parse(l) as string[]));
    if (run.status === 0 && traces.length === programs.length) break;
    if (run.status !== HANG_STATUS) throw new Error(`the Twisted peer failed (status ${run.status}): ${run.stderr.toString().slice(-2000)}`);
  }
  return traces;
}

/** Every difference the programs can reach (the rest of the table is checked by unit tests). */
const REACHABLE: readonly Difference[] = [
  "pause-inside-callback",
  "wait-on-unfinished",
  "returns-own-deferred",
  "unmatched-unpause",
  "handoff-to-paused",
  "list-cancel-settles",
  "fired-list-cancel-forwards",
  "cancel-comes-back",
];

describe.skipIf(SKIP)("Deferred: wirelab against Twisted on random programs", () => {
  it(`agrees on ${PROGRAMS} programs except where runtime/README.md lists a difference`, () => {
    const programs = fc.sample(programArb, { seed: SEED, numRuns: PROGRAMS });
    const twisted = runOnTwisted(programs);
    let agreed = 0;
    const seen = new Map<Difference, number>();
    const unexplained: string[] = [];
    programs.forEach((program, i) => {
      const ours = runOnWirelab(program);
      const theirs = twisted[i]!;
      if (JSON.stringify(ours.trace) === JSON.stringify(theirs)) {
        agreed++;
        return;
      }
      // Twisted recursing without end shows as RecursionError, or as a run it had to give up on.
      if (theirs[0] === "hang" || theirs.some((e) => e.endsWith("!RecursionError"))) ours.touched.add("cancel-comes-back");
      for (const d of ours.touched) seen.set(d, (seen.get(d) ?? 0) + 1);
      if (ours.touched.size === 0) {
        unexplained.push(`${JSON.stringify(program)}\n  wirelab: ${JSON.stringify(ours.trace)}\n  Twisted: ${JSON.stringify(theirs)}`);
      }
    });
    // Programs leave failed Deferreds behind on purpose; what matters here is the traces.
    flushUnhandledErrors();
    console.log(
      `Deferred vs Twisted: ${agreed}/${PROGRAMS} programs agree (${((100 * agreed) / PROGRAMS).toFixed(1)}%); ` +
        `the others touch: ${[...seen].map(([d, n]) => `${d} ${n}`).join(", ")}`,
    );
    expect(unexplained.slice(0, 5)).toEqual([]);
    expect(REACHABLE.filter((d) => !seen.has(d))).toEqual([]);
    expect(agreed).toBeGreaterThan(PROGRAMS / 2);
  }, 120_000);
});
