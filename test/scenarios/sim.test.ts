import { describe, expect, it } from "vitest";
import { Factory, Protocol } from "wirelab";
import { checkScenario, defineScenario } from "wirelab/bench";
import type { WirelabStyle } from "wirelab/bench";
import { BUILTIN_SCENARIOS, loadScenarios } from "../../scenarios/harness/load-scenario.js";
import tcpEcho from "../../scenarios/tcp-echo/index.js";

const builtins = await loadScenarios(BUILTIN_SCENARIOS);

describe("the sim check of every built-in scenario, from its scenario module alone", () => {
  for (const { scenario } of builtins) {
    const operations = scenario.sim?.operations ?? 5;
    for (const faults of [false, true]) {
      it(`${scenario.name}: every wirelab style keeps the invariants (${faults ? "with resets" : "chunking only"})`, async () => {
        const results = await checkScenario(scenario, { seed: 7, connections: 6, operations, faults });
        expect(results.map((r) => r.style)).toEqual(["callback", "async"]);
        for (const r of results) {
          expect(r.violations).toEqual([]);
          expect(r.operations + r.lostToFaults).toBe(6 * operations);
          if (!faults) expect(r.operations).toBe(6 * operations);
        }
      });
    }
  }

  it("loses operations to the resets it injects, and accounts for every one", async () => {
    let lost = 0;
    for (const seed of [1, 2, 3]) for (const r of await checkScenario(tcpEcho, { seed, connections: 6, operations: 5 })) lost += r.lostToFaults;
    expect(lost).toBeGreaterThan(0);
  });

  it("is deterministic for a seed", async () => {
    const a = await checkScenario(tcpEcho, { seed: 3, connections: 4, operations: 4 });
    const b = await checkScenario(tcpEcho, { seed: 3, connections: 4, operations: 4 });
    expect(a).toEqual(b);
  });

  it("refuses a style that cannot run on SimNetwork, by name", async () => {
    await expect(checkScenario(tcpEcho, { styles: ["baseline"] })).rejects.toThrow(/tcp-echo has no wirelab style "baseline"/);
  });
});

describe("the sim check catches broken servers", () => {
  const withStyle = (listen: WirelabStyle["listen"]) => defineScenario({ ...tcpEcho, styles: [{ name: "broken", listen }], compare: [] });

  it("an echo that corrupts one byte is a mismatch, named", async () => {
    class Corrupting extends Protocol {
      override dataReceived(data: Uint8Array): void {
        const copy = Uint8Array.from(data);
        if (copy.length > 0) copy[0] = (copy[0]! + 1) & 0xff;
        this.transport.write(copy);
      }
    }
    const [result] = await checkScenario(withStyle((reactor, endpoint) => reactor.listen(endpoint, Factory.forProtocol(() => new Corrupting()))), {
      seed: 1,
      connections: 2,
      operations: 2,
      faults: false,
    });
    expect(result!.violations.length).toBeGreaterThan(0);
    expect(result!.violations[0]).toMatch(/client \d, operation 0: mismatch: echo of operation 0 differs/);
  });

  it("a server that swallows everything: every operation times out, named", async () => {
    const [result] = await checkScenario(withStyle((reactor, endpoint) => reactor.listen(endpoint, Factory.forProtocol(() => new Protocol()))), {
      seed: 1,
      connections: 2,
      operations: 2,
      faults: false,
    });
    expect(result!.operations).toBe(0);
    expect(result!.violations).toContain("client 0, operation 0: timeout: no answer within 10000 ms");
  });

  it("a style that cannot listen is a violation", async () => {
    const [result] = await checkScenario(withStyle(() => Promise.reject(new Error("no port for you"))), { seed: 1, connections: 1, operations: 1, faults: false });
    expect(result!.violations[0]).toMatch(/broken did not listen: Error: no port for you/);
  });
});
