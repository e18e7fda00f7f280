/**
 * `checkScenario`: a scenario's correctness check on `SimNetwork`, from the scenario alone: each
 * wirelab style listens on a simulated server host (the very `listen` the benchmark runs on
 * `NodeReactor`), the scenario's client workload runs its connections from a simulated client
 * host, with seeded random chunking and (optionally) connection resets at random virtual times.
 *
 * Every operation must succeed, or be lost to an injected fault; the scenario's own `checks` run
 * after. What does not hold is a violation, in words. One seed reproduces a run exactly.
 *
 * @module
 */

import { SimNetwork } from "../../fakes/simulation.js";
import { InvalidOptionError } from "../../runtime/errors.js";
import { ClientSession, sleepOn } from "./client-session.js";
import type { OperationOutcome } from "./client-session.js";
import type { ClientWorkload, Recorder, Scenario, WirelabStyle } from "./scenario.js";
import { styleKind } from "./scenario.js";

/** The simulated server's address. */
export const SIM_SERVER_ADDRESS = "10.0.0.1";
/** The simulated clients' address. */
export const SIM_CLIENT_ADDRESS = "10.0.0.2";
/** The simulated server's port. */
export const SIM_PORT = 7000;
/** Events a sim check may run before it is declared stuck. */
export const SIM_CHECK_MAX_STEPS = 5_000_000;
/** The most violations a check keeps (the first ones are the useful ones). */
export const MAX_VIOLATIONS = 20;
/** Operations per connection when the scenario does not say. */
export const DEFAULT_SIM_OPERATIONS = 20;
/** `hold` scenarios: virtual ms of silence before the probes, when the scenario does not say. */
export const DEFAULT_SIM_HOLD_MS = 50;
/** An operation unanswered this many virtual ms is a timeout (nothing is slow in the sim: it is stuck). */
export const SIM_OPERATION_TIMEOUT_MS = 10_000;

/** Options of {@link checkScenario}. */
export interface SimCheckOptions {
  /** The simulation's seed: the same seed gives the same run. @defaultValue 1 */
  readonly seed?: number;
  /** Client connections. @defaultValue 10 */
  readonly connections?: number;
  /** Operations per connection. @defaultValue the scenario's `sim.operations`, else 20 */
  readonly operations?: number;
  /** Inject connection resets at random times besides random chunking. @defaultValue true */
  readonly faults?: boolean;
  /** The styles to check. @defaultValue every wirelab style */
  readonly styles?: readonly string[];
}

/** The outcome of one style's sim check. */
export interface SimCheckResult {
  /** The style checked. */
  readonly style: string;
  /** The seed. */
  readonly seed: number;
  /** Connections simulated. */
  readonly connections: number;
  /** Operations that completed and passed every check. */
  readonly operations: number;
  /** Operations lost to injected faults (a reset connection loses what it had not done). */
  readonly lostToFaults: number;
  /** Every violation, in words; empty means the check passed. */
  readonly violations: readonly string[];
  /** Virtual milliseconds the run took. */
  readonly virtualMs: number;
}

/** What one run counts; a {@link Recorder} that is always measuring. */
class SimTally implements Recorder {
  readonly measuring = true;
  operations = 0;
  failed = 0;
  readonly violations: string[] = [];

  success(): void {
    this.operations++;
  }
  error(): void {
    this.failed++;
  }
  timeout(): void {
    this.failed++;
  }
  mismatch(): void {}

  violation(text: string): void {
    if (this.violations.length < MAX_VIOLATIONS) this.violations.push(text);
  }
}

/**
 * Runs a scenario's sim check on each of its wirelab styles (node and command styles cannot run
 * on the simulated network).
 *
 * @param scenario - the scenario.
 * @param options - seed, sizes, faults, styles.
 * @returns one result per style checked.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a style asked for that is not a wirelab style.
 *
 * @example
 * ```ts
 * import { checkScenario } from "wirelab/bench";
 * import kv from "./kv-scenario.js";
 *
 * for (const result of await checkScenario(kv, { seed: 7, connections: 5 })) expect(result.violations).toEqual([]);
 * ```
 */
export async function checkScenario(scenario: Scenario, options: SimCheckOptions = {}): Promise<SimCheckResult[]> {
  const wirelab = scenario.styles.filter((s): s is WirelabStyle => styleKind(s) === "wirelab");
  for (const name of options.styles ?? []) {
    if (!wirelab.some((s) => s.name === name)) throw new InvalidOptionError("styles", `${scenario.name} has no wirelab style ${JSON.stringify(name)} to run on SimNetwork`);
  }
  const chosen = options.styles === undefined ? wirelab : wirelab.filter((s) => options.styles!.includes(s.name));
  const results: SimCheckResult[] = [];
  for (const style of chosen) results.push(await checkStyle(scenario, style, options));
  return results;
}

async function checkStyle(scenario: Scenario, style: WirelabStyle, options: SimCheckOptions): Promise<SimCheckResult> {
  const seed = options.seed ?? 1;
  const connections = options.connections ?? 10;
  const hold = scenario.kind === "hold";
  const operations = options.operations ?? scenario.sim?.operations ?? DEFAULT_SIM_OPERATIONS;
  const faults = options.faults ?? true;
  const net = new SimNetwork({ seed, maxSteps: SIM_CHECK_MAX_STEPS });
  const server = net.host(SIM_SERVER_ADDRESS);
  const client = net.host(SIM_CLIENT_ADDRESS);
  const tally = new SimTally();
  const workload: ClientWorkload<unknown, unknown> = scenario.client;
  const shared = workload.shared?.({ connections, totalConnections: connections, groupIndex: 0, sim: true, faults });
  const failures: { index: number; outcome: Exclude<OperationOutcome, "success">; sequence: number; detail: string }[] = [];
  const sessions = Array.from(
    { length: connections },
    (_, index) =>
      new ClientSession(workload, { index, shared, reactor: client, sim: true }, `tcp:${SIM_SERVER_ADDRESS}:${SIM_PORT}:timeout=30`, (outcome, sequence, detail) => {
        failures.push({ index, outcome, sequence, detail });
      }),
  );
  let finished = false;
  const run = async (): Promise<void> => {
    try {
      await style.listen(server, `tcp:${SIM_PORT}`);
    } catch (error) {
      tally.violation(`${style.name} did not listen: ${String(error)}`);
      return;
    }
    // Every connection is open before any operation starts, as in the benchmark.
    await Promise.all(
      sessions.map((s) =>
        s.connect().catch((error: unknown) => {
          // Sequence -1: the connection failed, not one of its operations.
          failures.push({ index: s.ctx.index, outcome: "error", sequence: -1, detail: `connect failed: ${String(error)}` });
        }),
      ),
    );
    if (hold) await sleepOn(client, scenario.sim?.holdMs ?? DEFAULT_SIM_HOLD_MS);
    await Promise.all(
      sessions.map(async (s) => {
        while (s.alive && s.sequence < operations) await s.run(tally, SIM_OPERATION_TIMEOUT_MS);
      }),
    );
    await Promise.all(sessions.map((s) => s.close()));
    finished = true;
  };
  const done = run();
  if (faults) {
    // Resets of random client connections while the operations run (a round trip is ~2 ms).
    const resets = Math.max(1, Math.floor(connections / 3));
    const start = hold ? (scenario.sim?.holdMs ?? DEFAULT_SIM_HOLD_MS) : 1;
    for (let r = 0; r < resets; r++) net.at(net.random.int(1, Math.max(2, start + operations * 2)), { kind: "reset", host: SIM_CLIENT_ADDRESS });
  }
  try {
    await net.runUntilIdle();
    await done;
  } catch (error) {
    tally.violation(`the simulation failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!finished && tally.violations.length === 0) tally.violation("the workload did not finish: the network went idle with operations still waiting");
  // A reset connection loses what it had in flight and what it had not started: allowed only
  // when faults were injected. A wrong answer is never allowed.
  let lostToFaults = 0;
  for (const f of failures) {
    if (f.outcome === "mismatch" || !faults) tally.violation(`client ${f.index}${f.sequence < 0 ? "" : `, operation ${f.sequence}`}: ${f.outcome}: ${f.detail}`);
  }
  for (const s of sessions) {
    const failedHere = failures.filter((f) => f.index === s.ctx.index && f.sequence >= 0 && f.outcome !== "mismatch").length;
    const notStarted = operations - s.sequence;
    if (faults) lostToFaults += failedHere + notStarted;
    else if (notStarted > 0 && failedHere === 0) tally.violation(`client ${s.ctx.index}: ${notStarted} operation(s) never ran`);
  }
  for (const v of scenario.checks?.({ shared, faults, operations: tally.operations, lostToFaults }) ?? []) tally.violation(v);
  const mismatches = failures.filter((f) => f.outcome === "mismatch").length;
  const expected = connections * operations;
  if (tally.operations + lostToFaults + mismatches !== expected && tally.violations.length === 0) {
    tally.violation(`${expected} operations expected, ${tally.operations} completed and ${lostToFaults} lost to faults`);
  }
  return { style: style.name, seed, connections, operations: tally.operations, lostToFaults, violations: tally.violations, virtualMs: net.now() };
}
