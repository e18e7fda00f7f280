/**
 * The power of the regression gate (a benchmark script that prints numbers, not a test): how
 * often `wirelab report NEW --baseline OLD --fail-on-regression 5%` flags a planted 5% rise of
 * server CPU per operation, and how often it flags an unchanged build (A/A).
 *
 * It lives under test/ because its server, test/fixtures/cpu-work-scenario.ts, is a test helper
 * that the package does not ship. That server is tcp-echo's callback server plus a fixed
 * number of rounds of integer mixing per operation, in two styles, `old` and `new`, each with its
 * own knob (an environment variable its server process reads). The script
 *
 * 1. times a round of that mixing in this process, and measures the server's CPU per operation
 *    with no extra work (one calibration run), to plant 5% of it: rounds = 0.05 × CPU/op ÷ round;
 * 2. runs TRIALS A/A trials (no extra work on either side) and TRIALS planted ones (the rounds
 *    on `new`), alternating. A trial is one sweep in which the baseline server and the new one
 *    take turns window by window, as a CI job on a shared machine should run them (what loads the
 *    machine in one window loads both), written as two results files, OLD (style `old`, renamed)
 *    and NEW (style `new`, renamed), exactly what `wirelab report NEW --baseline OLD` reads;
 * 3. runs the gate on each pair and prints how many were flagged, with the ratios it measured.
 *
 * Run: `flock /tmp/wirelab-bench.lock node --conditions=wirelab-source --import tsx test/scenarios/gate-power.ts [TRIALS] [ROUNDS] [DURATION] [CONNECTIONS]`
 * (defaults: 20 trials, 12 rounds of 500 ms, 10 connections).
 *
 * @module
 */

import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseResults } from "../../reports/read-results.js";
import { regressionGate, type GateCheck } from "../../reports/regression-gate.js";
import type { Results } from "../../reports/results.js";
import { median } from "../../reports/statistics.js";
import { summarizePoints } from "../../reports/summarize-points.js";
import { cpuWork, cpuWorkEnv } from "../fixtures/cpu-work-scenario.js";
import { bench } from "../../scenarios/harness/runner.js";

const TRIALS = Number(process.argv[2] ?? 20);
const REPEAT = Number(process.argv[3] ?? 12);
const DURATION = process.argv[4] ?? "500ms";
const WARMUP = "300ms";
const CONNECTIONS = Number(process.argv[5] ?? 10);
const THRESHOLD = 0.05;
const SCENARIO = fileURLToPath(new URL("../fixtures/cpu-work-scenario.ts", import.meta.url));
const quiet = { begin() {}, point() {}, note(text: string) { console.error(`  note: ${text}`); } };

/** One interleaved sweep of `old` and `new`, split into the two results files a CI job would have. */
async function run(rounds: number): Promise<{ older: Results; newer: Results }> {
  process.env[cpuWorkEnv("old")] = "0";
  process.env[cpuWorkEnv("new")] = String(rounds);
  const r = await bench({ scenarios: [SCENARIO], connections: [CONNECTIONS], duration: DURATION, warmup: WARMUP, repeat: REPEAT, progress: quiet, command: `gate-power new=${rounds}` });
  const only = (style: string): Results => ({ ...r, points: r.points.filter((p) => p.style === style).map((p) => ({ ...p, style: "work" })) });
  return { older: only("old"), newer: only("new") };
}

function nsPerRound(): number {
  const rounds = 20_000_000;
  cpuWork(rounds); // warm the JIT
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    cpuWork(rounds);
    times.push(((performance.now() - t0) * 1e6) / rounds);
  }
  return median(times);
}

function gate(newer: Results, older: Results): GateCheck | string {
  const s = (r: Results) => summarizePoints([parseResults(r, "run")], { resamples: 200 });
  const g = regressionGate(s(newer), s(older), new Map([["cpu-work", "throughput"]]), THRESHOLD);
  const check = g.checks[0];
  if (check === undefined || check.ratio === undefined) {
    const failures = [...newer.points, ...older.points].flatMap((p) => (p.failure === undefined ? [] : [p.failure]));
    return `the gate checked nothing: ${failures.length} failed runs: ${[...new Set(failures)].join("; ")}`;
  }
  return check;
}

const ns = nsPerRound();
const t0 = performance.now();
const calibration = (await run(0)).older;
const cpu = median(calibration.points.flatMap((p) => (p.serverCpuUsPerOp === null ? [] : [p.serverCpuUsPerOp])));
const saturated = calibration.points.filter((p) => p.generatorSaturated).length;
const planted = Math.round((THRESHOLD * cpu * 1000) / ns);
console.log(`calibration: ${cpu.toFixed(2)} µs server CPU per op (median of ${REPEAT} × ${DURATION} at ${CONNECTIONS} connections; generator saturated in ${saturated}/${REPEAT}); one round of mixing ${ns.toFixed(3)} ns; planting ${planted} rounds = ${((planted * ns) / 1000).toFixed(3)} µs per op (5%)`);

const rows: { kind: "A/A" | "planted 5%"; check: GateCheck }[] = [];
for (let i = 0; i < TRIALS; i++) {
  for (const kind of ["A/A", "planted 5%"] as const) {
    const { older, newer } = await run(kind === "A/A" ? 0 : planted);
    const check = gate(newer, older);
    if (typeof check === "string") {
      console.log(`trial ${String(i + 1).padStart(2)} ${kind.padEnd(10)} not counted: ${check}`);
      continue;
    }
    rows.push({ kind, check });
    const r = check.ratio!;
    console.log(`trial ${String(i + 1).padStart(2)} ${kind.padEnd(10)} new/old CPU per op ${r.estimate.toFixed(4)} [${r.low.toFixed(4)}, ${r.high.toFixed(4)}] p=${r.p.toPrecision(2)} ${check.regressed ? "FLAGGED" : "passed"}`);
  }
}

console.log("");
console.log(`| Trials (${REPEAT} interleaved rounds of ${DURATION} per side, ${CONNECTIONS} conns) | Flagged by --fail-on-regression 5% | Median measured new / old | Median 95% interval |`);
console.log("| --- | ---: | ---: | --- |");
for (const kind of ["planted 5%", "A/A"] as const) {
  const mine = rows.filter((r) => r.kind === kind);
  const est = median(mine.map((r) => r.check.ratio!.estimate));
  const lo = median(mine.map((r) => r.check.ratio!.low));
  const hi = median(mine.map((r) => r.check.ratio!.high));
  console.log(`| ${kind} | ${mine.filter((r) => r.check.regressed).length} / ${mine.length} | ${est.toFixed(3)} | [${lo.toFixed(3)}, ${hi.toFixed(3)}] |`);
}
console.log(`\ntotal ${((performance.now() - t0) / 60_000).toFixed(1)} min`);
