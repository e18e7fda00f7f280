import { describe, expect, it } from "vitest";
import { SCENARIOS } from "../../scenarios/registry.js";
import { runSimStyle } from "../../scenarios/sim-support.js";
import type { SimTally } from "../../scenarios/sim-support.js";
import { Factory, Protocol } from "../../runtime/protocol.js";
import { EchoChecker } from "../../scenarios/tcp-echo/sim.js";

describe("sim checks of every scenario", () => {
  for (const scenario of SCENARIOS) {
    for (const faults of [false, true]) {
      it(`${scenario.name}: callback and async styles keep the invariants (${faults ? "with resets" : "chunking only"})`, async () => {
        const results = await scenario.sim({ seed: 7, connections: 6, operations: 5, faults });
        expect(results.map((r) => r.style)).toEqual(["callback", "async"]);
        for (const r of results) {
          expect(r.violations).toEqual([]);
          expect(r.operations + r.lostToFaults).toBe(scenario.name === "idle-hold" ? 6 * 3 : 6 * 5);
          if (!faults) expect(r.operations).toBe(scenario.name === "idle-hold" ? 18 : 30);
        }
        if (faults) expect(results.some((r) => r.lostToFaults > 0)).toBe(true);
      });
    }
  }

  it("is deterministic for a seed", async () => {
    const [a, b] = [await SCENARIOS[0]!.sim({ seed: 3, connections: 4, operations: 4, faults: true }), await SCENARIOS[0]!.sim({ seed: 3, connections: 4, operations: 4, faults: true })];
    expect(a).toEqual(b);
  });

  it("catches a broken server: an echo that corrupts one byte is a violation", async () => {
    class Corrupting extends Protocol {
      override dataReceived(data: Uint8Array): void {
        const copy = Uint8Array.from(data);
        if (copy.length > 0) copy[0] = (copy[0]! + 1) & 0xff;
        this.transport.write(copy);
      }
    }
    const options = { seed: 1, connections: 2, operations: 2, faults: false };
    const result = await runSimStyle(
      "callback",
      options,
      (reactor, endpoint) => reactor.listen(endpoint, Factory.forProtocol(() => new Corrupting())),
      (i, tally: SimTally) => new EchoChecker(i, options.operations, options.faults, tally),
    );
    expect(result.violations.length).toBeGreaterThan(0);
    expect(result.violations[0]).toMatch(/client \d, operation 0: byte \d+ is/);
  });

  it("catches a lost answer: a server that swallows everything leaves operations unaccounted for", async () => {
    const options = { seed: 1, connections: 2, operations: 2, faults: false };
    const result = await runSimStyle(
      "callback",
      options,
      (reactor, endpoint) => reactor.listen(endpoint, Factory.forProtocol(() => new Protocol())),
      (i, tally: SimTally) => new EchoChecker(i, options.operations, options.faults, tally),
    );
    expect(result.violations).toEqual(["4 operations expected, 0 completed and 0 lost to faults"]);
  });
});
