/**
 * The simulation's soak (a script that prints numbers, not a test; the test suite runs a few
 * hundred of the same runs):
 *
 * 1. no false alarms: the correct echo and the correct ledger with retries of
 *    `scenarios/sim-trials.ts` pass `runs` cases each, with every fault kind, drawn uniformly and
 *    with swarm testing;
 * 2. replays that replay: the same 100 drawn ledger inputs, each run twice, give identical
 *    traces (payload previews included) and trace hashes (payloads hashed);
 * 3. `checkDeterminism` over 100 seeds, each one drawn ledger case with shuffled ties.
 *
 * Run: `npx tsx scenarios/sim-soak.ts [runs]` (default 10,000)
 *
 * @module
 */

import * as os from "node:os";
import fc from "fast-check";
import { simNetworkOptions } from "../fakes/arbitraries.js";
import { simProperty } from "../fakes/property.js";
import { SimCaseContext } from "../fakes/replay.js";
import { checkDeterminism } from "../fakes/simulation.js";
import { PropertyFailedError } from "../runtime/errors.js";
import { TRIAL_FEATURES, echoBody, ledgerBody, ledgerScenario, trialArbs } from "./sim-trials.js";
import type { TrialInputs } from "./sim-trials.js";

const RUNS = Number(process.argv[2] ?? 10_000);

console.log(`sim-soak: node ${process.version}, ${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, fast-check ${fc.__version}`);

console.log(`\n1. no false alarms: ${RUNS.toLocaleString("en-US")} runs each, faults of every kind (reset, halfClose, partition, hold, crash)`);
let alarms = 0;
for (const [name, body] of [
  ["echo", echoBody()],
  ["ledger with retries", ledgerBody("none")],
] as const) {
  for (const swarm of [false, true]) {
    const t0 = performance.now();
    let outcome: string;
    try {
      const result = await simProperty(trialArbs(swarm), body, {
        name: `soak ${name} ${swarm ? "swarm" : "uniform"}`,
        seed: 20_260_101,
        numRuns: RUNS,
        replayDir: null,
        ...(swarm ? { swarm: TRIAL_FEATURES } : {}),
      });
      outcome = `${result.numRuns}/${RUNS} passed`;
    } catch (error) {
      if (!(error instanceof PropertyFailedError)) throw error;
      alarms++;
      outcome = `FAILED at run ${error.numRuns}:\n${error.message}`;
    }
    console.log(`  ${name}, ${swarm ? "swarm" : "uniform"}: ${outcome} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
}

console.log("\n2. the same 100 drawn ledger inputs, each run twice");
const inputs = fc.sample(fc.record(trialArbs(false)), { seed: 7, numRuns: 100 }) as TrialInputs[];
let sameLines = 0;
let sameHash = 0;
let withPayload = 0;
for (const input of inputs) {
  const runs: { lines: string[]; hash: string }[] = [];
  for (let i = 0; i < 2; i++) {
    const ctx = new SimCaseContext();
    await Promise.resolve(ledgerBody("none")(input, ctx)).catch(() => undefined);
    const net = ctx.networks[0]!;
    runs.push({ lines: net.trace(), hash: net.traceHash() });
  }
  if (JSON.stringify(runs[0]!.lines) === JSON.stringify(runs[1]!.lines)) sameLines++;
  if (runs[0]!.hash === runs[1]!.hash) sameHash++;
  if (runs[0]!.lines.some((l) => / deliver .* bytes "/.test(l))) withPayload++;
}
console.log(`  identical trace lines: ${sameLines}/100, identical trace hashes: ${sameHash}/100 (${withPayload} traces with payload previews)`);

console.log("\n3. checkDeterminism, 100 seeds (a drawn ledger case each, ties shuffled)");
let deterministic = 0;
const distinct = new Set<string>();
const t0 = performance.now();
for (let seed = 0; seed < 100; seed++) {
  const [input] = fc.sample(fc.record(trialArbs(true)), { seed, numRuns: 1 }) as TrialInputs[];
  const options = { ...simNetworkOptions(input!.config, { chunking: input!.chunking }), shuffleTies: true };
  const { seed: _drawnSeed, ...rest } = options;
  const report = await checkDeterminism(seed, (net) => {
    ledgerScenario(net, input!, "none", () => true);
  }, rest);
  if (report.ok) deterministic++;
  else console.log(`  seed ${seed} diverged: ${JSON.stringify(report.divergence)}`);
  distinct.add(report.hashes[0]);
}
console.log(`  ${deterministic}/100 seeds gave identical traces on two runs (${distinct.size} distinct hashes; ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

process.exitCode = alarms === 0 && sameLines === 100 && sameHash === 100 && deterministic === 100 ? 0 : 1;
