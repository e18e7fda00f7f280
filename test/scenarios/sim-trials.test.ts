/**
 * The simulation's trials (scenarios/sim-trials.ts) in brief: the correct echo and ledger pass
 * a few hundred drawn runs with every fault kind, uniform and swarm (the 10,000-run soak is
 * `scenarios/sim-soak.ts`), and each planted bug is found, shrunk to a case that shows it, and
 * replayed from its file: failing against the buggy body, passing against the fixed one.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { simProperty } from "../../fakes/property.js";
import { replay } from "../../fakes/replay.js";
import { PropertyFailedError } from "../../runtime/errors.js";
import { TRIAL_FEATURES, echoBody, ledgerBody, trialArbs } from "../../scenarios/sim-trials.js";
import type { LedgerBug, TrialInputs } from "../../scenarios/sim-trials.js";

const dir = mkdtempSync(join(tmpdir(), "wirelab-trials-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("no false alarms", () => {
  it.each([
    ["echo", echoBody()],
    ["ledger with retries", ledgerBody("none")],
  ] as const)("the correct %s passes 200 uniform and 200 swarm runs with every fault kind", async (name, body) => {
    await simProperty(trialArbs(false), body, { name: `${name} uniform`, seed: 1, numRuns: 200, replayDir: dir });
    await simProperty(trialArbs(true), body, { name: `${name} swarm`, seed: 2, numRuns: 200, replayDir: dir, swarm: TRIAL_FEATURES });
  });
});

describe("planted bugs: found, shrunk, replayed", () => {
  async function find(bug: LedgerBug, swarm: boolean): Promise<PropertyFailedError> {
    const error = await simProperty(trialArbs(swarm), ledgerBody(bug), {
      name: bug,
      seed: 3,
      numRuns: 500,
      replayDir: dir,
      ...(swarm ? { swarm: TRIAL_FEATURES } : {}),
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PropertyFailedError);
    const failure = error as PropertyFailedError;
    expect(failure.message).not.toContain("WARNING");
    // The replay file is a regression test: it fails while the bug is there, passes once fixed.
    await expect(replay(failure.replayFile!, ledgerBody(bug))).rejects.toThrow();
    await expect(replay(failure.replayFile!, ledgerBody("none"))).resolves.toMatchObject({ inputs: failure.counterexample });
    return failure;
  }

  it.each([false, true])("double-apply (swarm %s): shrinks to one fault that cuts the connection, and two applies of one op", async (swarm) => {
    const failure = await find("double-apply", swarm);
    const inputs = failure.counterexample as TrialInputs;
    expect(inputs.faults).toHaveLength(1);
    expect(["reset", "crash"]).toContain(inputs.faults[0]!.fault.kind);
    expect(String(failure.cause)).toMatch(/op \d+ applied 2 times/);
  });

  it.each([false, true])("reorder (swarm %s): shrinks to two ops, the first slow, pipelined, no fault", async (swarm) => {
    const failure = await find("reorder", swarm);
    const inputs = failure.counterexample as TrialInputs;
    expect(inputs.faults).toEqual([]);
    expect(inputs.ops).toEqual([{ slow: true }, { slow: false }]);
    if (swarm) expect(failure.features).toEqual(["pipeline", "slow"]);
    expect(String(failure.cause)).toMatch(/replies out of order/);
  });

  it.each([false, true])("split-prefix (swarm %s): shrinks to one op, and one read that cuts its length prefix", async (swarm) => {
    const failure = await find("split-prefix", swarm);
    const inputs = failure.counterexample as TrialInputs;
    expect(inputs.faults).toEqual([]);
    expect(inputs.ops).toHaveLength(1);
    expect(inputs.chunking.sizes).toHaveLength(1);
    expect(inputs.chunking.sizes[0]).toBeLessThan(4);
    expect(String(failure.cause)).toMatch(/only 0 of 1 ops acknowledged/);
  });
});
