/**
 * Swarm testing vs uniform drawing, measured (a script that prints numbers, not a test): how
 * many runs `simProperty` needs to find each planted bug of `scenarios/sim-trials.ts`, over 20
 * seeds, when every case draws from every fault kind with every workload feature on (uniform)
 * and when each case draws a subset of fault kinds and of workload features (swarm). Then each
 * bug is found once more with shrinking, and its replay file is run against the buggy and the
 * fixed ledger.
 *
 * Run: `npx tsx scenarios/swarm-bench.ts [seeds] [maxRuns]`
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { simProperty } from "../fakes/property.js";
import { replay } from "../fakes/replay.js";
import { PropertyFailedError } from "../runtime/errors.js";
import { TRIAL_FEATURES, ledgerBody, trialArbs } from "./sim-trials.js";
import type { LedgerBug, TrialInputs } from "./sim-trials.js";

const SEEDS = Number(process.argv[2] ?? 20);
const MAX_RUNS = Number(process.argv[3] ?? 2000);
const BUGS: readonly Exclude<LedgerBug, "none">[] = ["double-apply", "reorder", "split-prefix"];
const MODES = ["uniform", "swarm"] as const;

/** Runs until the property first fails (no shrinking), or null when it held for MAX_RUNS runs. */
async function runsToFind(bug: LedgerBug, mode: (typeof MODES)[number], seed: number): Promise<number | null> {
  const swarm = mode === "swarm";
  try {
    await simProperty(trialArbs(swarm), ledgerBody(bug), { seed, numRuns: MAX_RUNS, endOnFailure: true, replayDir: null, ...(swarm ? { swarm: TRIAL_FEATURES } : {}) });
    return null;
  } catch (error) {
    if (error instanceof PropertyFailedError) return error.numRuns;
    throw error;
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function pad(text: string | number, width: number): string {
  return String(text).padStart(width);
}

console.log(`swarm-bench: node ${process.version}, ${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, fast-check ${fc.__version}`);
console.log(`runs to find each planted bug (no shrinking), seeds 1..${SEEDS}, at most ${MAX_RUNS} runs; a bug not found counts as ${MAX_RUNS}+`);
console.log("");
console.log(`| bug          | mode    | found | median | worst | mean  | wall (s) |`);
console.log(`| ------------ | ------- | ----- | ------ | ----- | ----- | -------- |`);
const medians = new Map<string, number>();
const worsts = new Map<string, number>();
for (const bug of BUGS) {
  for (const mode of MODES) {
    const t0 = performance.now();
    const found: number[] = [];
    let missed = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const n = await runsToFind(bug, mode, seed);
      if (n === null) missed++;
      else found.push(n);
    }
    const all = [...found, ...Array.from({ length: missed }, () => MAX_RUNS)];
    const worst = missed > 0 ? `${MAX_RUNS}+` : String(Math.max(...all));
    medians.set(`${bug} ${mode}`, median(all));
    worsts.set(`${bug} ${mode}`, Math.max(...all));
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    console.log(
      `| ${bug.padEnd(12)} | ${mode.padEnd(7)} | ${pad(`${found.length}/${SEEDS}`, 5)} | ${pad(median(all), 6)} | ${pad(worst, 5)} | ${pad(mean.toFixed(1), 5)} | ${pad(((performance.now() - t0) / 1000).toFixed(2), 8)} |`,
    );
  }
}
console.log("");
for (const bug of BUGS) {
  const m = [medians.get(`${bug} uniform`)!, medians.get(`${bug} swarm`)!];
  const w = [worsts.get(`${bug} uniform`)!, worsts.get(`${bug} swarm`)!];
  const verdict = m[1]! < m[0]! && w[1]! <= w[0]! ? "swarm wins" : m[1]! > m[0]! && w[1]! >= w[0]! ? "uniform wins" : "mixed";
  console.log(`${bug}: median ${m[0]} (uniform) vs ${m[1]} (swarm), worst ${w[0]} vs ${w[1]}: ${verdict}`);
}

console.log("\nfound, shrunk and replayed (seed 1, uniform and swarm):");
const dir = mkdtempSync(join(os.tmpdir(), "wirelab-swarm-bench-"));
try {
  for (const bug of BUGS) {
    for (const mode of MODES) {
      const swarm = mode === "swarm";
      const t0 = performance.now();
      const failure = await simProperty(trialArbs(swarm), ledgerBody(bug), { name: `${bug}-${mode}`, seed: 1, numRuns: MAX_RUNS, replayDir: dir, ...(swarm ? { swarm: TRIAL_FEATURES } : {}) }).then(
        () => null,
        (e: unknown) => e as PropertyFailedError,
      );
      if (failure === null) {
        console.log(`  ${bug} (${mode}): not found in ${MAX_RUNS} runs`);
        continue;
      }
      const inputs = failure.counterexample as TrialInputs;
      const buggy = await replay(failure.replayFile!, ledgerBody(bug)).then(
        () => "passed (NOT reproduced)",
        (e: unknown) => `fails again (${String(e).slice(0, 60)})`,
      );
      const fixed = await replay(failure.replayFile!, ledgerBody("none")).then(
        () => "passes",
        (e: unknown) => `fails (${String(e).slice(0, 60)})`,
      );
      const faults = inputs.faults.map((f) => `${f.fault.kind}@${f.at}`).join(" ") || "none";
      console.log(
        `  ${bug} (${mode}): run ${failure.numRuns}, ${failure.numShrinks} shrinks in ${((performance.now() - t0) / 1000).toFixed(2)} s -> ${inputs.ops.length} op(s) [${inputs.ops.map((o) => (o.slow ? "slow" : "fast")).join(",")}], faults ${faults}, chunking ${inputs.chunking.name}, features ${failure.features === null ? "all" : failure.features.join("+") || "none"}; replay on the buggy ledger ${buggy}, on the fixed one ${fixed}`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
