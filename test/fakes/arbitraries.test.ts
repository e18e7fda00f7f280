import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { ByteQueue } from "../../fakes/chunking.js";
import {
  ScriptedChunking,
  chunkingArb,
  faultPlanArb,
  simConfigArb,
  simNetworkOptions,
} from "../../fakes/arbitraries.js";
import type { FaultPlan } from "../../fakes/sim-faults.js";
import { Factory } from "../../runtime/protocol.js";
import { SimNetwork } from "../../fakes/simulation.js";
import { Echo, Recorder } from "./simulation-helpers.js";

/** Reads a queue of `writes` dry with `policy`, returning the read sizes. */
function readAll(policy: ScriptedChunking, writes: readonly number[]): number[] {
  const q = new ByteQueue();
  for (const n of writes) q.push(new Uint8Array(n));
  const sizes: number[] = [];
  while (q.length > 0) {
    const n = policy.nextReadSize(q);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(q.length);
    q.take(n);
    sizes.push(n);
  }
  return sizes;
}

/** The counterexample fast-check shrinks `predicate`'s first failure to. */
function shrunk<T>(arb: fc.Arbitrary<T>, predicate: (value: T) => boolean, seed = 1): T {
  const details = fc.check(fc.property(arb, predicate), { seed, numRuns: 500 });
  expect(details.failed).toBe(true);
  return details.counterexample![0];
}

describe("ScriptedChunking", () => {
  it("follows its script, capped to what is in flight, then coalesces or delivers whole writes", () => {
    expect(readAll(new ScriptedChunking([2, 10, 1]), [3, 4, 5])).toEqual([2, 10]);
    expect(readAll(new ScriptedChunking([1], "whole"), [3, 4])).toEqual([1, 2, 4]);
    expect(readAll(new ScriptedChunking([], "coalesce"), [3, 4])).toEqual([7]);
    expect(readAll(new ScriptedChunking([5, 1]), [3, 4])).toEqual([5, 1, 1]);
  });

  it("fresh() starts the script again; used counts what was taken", () => {
    const p = new ScriptedChunking([1, 1]);
    readAll(p, [4]);
    expect(p.used).toBe(2);
    expect(readAll(p, [4])).toEqual([4]);
    expect(readAll(p.fresh(), [4])).toEqual([1, 1, 2]);
  });

  it("names itself and rejects a read size that is not a positive integer", () => {
    expect(new ScriptedChunking([1, 3], "whole").name).toBe("scripted[1,3] then whole");
    expect(fc.stringify(new ScriptedChunking([2]))).toBe("scripted[2] then coalesce");
    expect(() => new ScriptedChunking([0])).toThrow(/WL_ERR_INVALID_OPTION|sizes/);
    expect(() => new ScriptedChunking([1.5])).toThrow(/sizes/);
  });
});

describe("chunkingArb", () => {
  it("always gives valid reads, whatever the writes", () => {
    fc.assert(
      fc.property(chunkingArb({ maxReadSize: 8 }), fc.array(fc.integer({ min: 1, max: 20 }), { maxLength: 10 }), (policy, writes) => {
        const sizes = readAll(policy, writes);
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(writes.reduce((a, b) => a + b, 0));
      }),
      { seed: 5 },
    );
  });

  it("respects its bounds", () => {
    fc.assert(
      fc.property(chunkingArb({ maxSplits: 3, maxReadSize: 4, then: "whole" }), (p) => {
        expect(p.sizes.length).toBeLessThanOrEqual(3);
        expect(p.sizes.every((s) => s >= 1 && s <= 4)).toBe(true);
        expect(p.then).toBe("whole");
      }),
      { seed: 6 },
    );
    expect(() => chunkingArb({ maxSplits: -1 })).toThrow(/maxSplits/);
    expect(() => chunkingArb({ maxReadSize: 0 })).toThrow(/maxReadSize/);
  });

  it("shrinks toward fewer and smaller splits", () => {
    // "Fails" whenever some read is at least 3 bytes: the minimum is one read of 3.
    const p = shrunk(chunkingArb(), (c) => c.sizes.every((s) => s < 3));
    expect(p.sizes).toEqual([3]);
    expect(p.then).toBe("coalesce");
    // "Fails" with two or more splits: the minimum is two reads of 1.
    expect(shrunk(chunkingArb(), (c) => c.sizes.length < 2).sizes).toEqual([1, 1]);
  });
});

describe("faultPlanArb", () => {
  const hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];

  it("gives plans sorted by time, naming only the given hosts, each pair closed", () => {
    fc.assert(
      fc.property(faultPlanArb({ hosts, maxFaults: 6, maxTime: 100, maxDuration: 50 }), (plan) => {
        const times = plan.map((f) => f.at);
        expect(times).toEqual([...times].sort((a, b) => a - b));
        let open = 0;
        for (const { at, fault } of plan) {
          expect(at).toBeGreaterThanOrEqual(0);
          expect(at).toBeLessThanOrEqual(150);
          const named = "host" in fault ? [fault.host] : "a" in fault ? [fault.a, fault.b].flat() : [];
          for (const h of named) if (h !== undefined) expect(hosts).toContain(h);
          if (fault.kind === "partition" || fault.kind === "hold") {
            open++;
            const [a, b] = fault.kind === "partition" ? [fault.a[0], fault.b[0]] : [fault.a, fault.b];
            expect(a).not.toBe(b);
          }
          if (fault.kind === "heal" || fault.kind === "release") open--;
          if (fault.kind === "reset" || fault.kind === "halfClose") expect(fault.pick).toBeTypeOf("number");
        }
        expect(open).toBe(0);
      }),
      { seed: 8 },
    );
  });

  it("draws only the kinds asked for, and leaves out two-host kinds with one host", () => {
    fc.assert(
      fc.property(faultPlanArb({ hosts: ["a"], kinds: ["partition", "crash"] }), (plan) => {
        expect(plan.every((f) => f.fault.kind === "crash")).toBe(true);
      }),
      { seed: 9 },
    );
    expect(() => faultPlanArb({ hosts: [] })).toThrow(/hosts/);
    expect(() => faultPlanArb({ hosts: ["a"], kinds: ["hold"] })).toThrow(/kinds/);
    expect(() => faultPlanArb({ hosts: ["a"], minTime: 10, maxTime: 5 })).toThrow(/maxTime/);
  });

  it("shrinks to the fewest, earliest, simplest faults", () => {
    // "Fails" when a crash is in the plan: the minimum is one crash of the first host, at 0, for good.
    const plan = shrunk(faultPlanArb({ hosts }), (p: FaultPlan) => !p.some((f) => f.fault.kind === "crash"));
    expect(plan).toEqual([{ at: 0, fault: { kind: "crash", host: "10.0.0.1" } }]);
    // "Fails" with two faults or more: two resets of the first host's first connection, at 0.
    const two = shrunk(faultPlanArb({ hosts, kinds: ["reset"] }), (p: FaultPlan) => p.length < 2);
    expect(two).toEqual([
      { at: 0, fault: { kind: "reset", host: "10.0.0.1", pick: 0 } },
      { at: 0, fault: { kind: "reset", host: "10.0.0.1", pick: 0 } },
    ]);
  });

  it("plans a SimNetwork accepts, and the same plan and seed give the same trace", async () => {
    await fc.assert(
      fc.asyncProperty(faultPlanArb({ hosts: ["10.0.0.1", "10.0.0.2"], maxTime: 40, maxDuration: 20 }), simConfigArb({ maxLatency: 5 }), async (plan, config) => {
        const once = async (): Promise<string> => {
          const net = new SimNetwork(simNetworkOptions(config, { trace: "hash" }));
          net.host("10.0.0.1", { boot: (h) => h.listen("tcp:7", Factory.forProtocol(() => new Echo())) });
          net.host("10.0.0.2", {
            boot: (h) => {
              h.callLater(1, () => {
                h.connect("tcp:10.0.0.1:7:timeout=1", Factory.forProtocol(() => new Recorder())).addCallbacks(
                  (p) => {
                    p.transport.write("ping");
                  },
                  () => undefined,
                );
              });
            },
          });
          net.plan(plan);
          await net.run({ until: 200 });
          return net.traceHash();
        };
        expect(await once()).toBe(await once());
      }),
      { seed: 10, numRuns: 40 },
    );
  });
});

describe("simConfigArb", () => {
  it("gives valid SimNetwork options, within bounds", () => {
    fc.assert(
      fc.property(simConfigArb({ maxLatency: 7 }), (config) => {
        expect(Number.isSafeInteger(config.seed) && config.seed >= 0).toBe(true);
        const l = config.latency;
        if (l.kind === "fixed") expect(l.ms).toBeLessThanOrEqual(7);
        else expect(l.min <= l.max && l.max <= 7).toBe(true);
        expect(() => new SimNetwork(simNetworkOptions(config))).not.toThrow();
      }),
      { seed: 12 },
    );
  });

  it("can be held to fixed latency and ordered ties", () => {
    fc.assert(
      fc.property(simConfigArb({ jitter: false, shuffleTies: false }), (c) => {
        expect(c.latency.kind).toBe("fixed");
        expect(c.shuffleTies).toBe(false);
      }),
      { seed: 13 },
    );
    expect(() => simConfigArb({ maxLatency: -1 })).toThrow(/maxLatency/);
  });

  it("shrinks to seed 0, fixed 0 ms latency, ties in order", () => {
    expect(shrunk(simConfigArb(), () => false)).toEqual({ seed: 0, latency: { kind: "fixed", ms: 0 }, shuffleTies: false });
  });

  it("simNetworkOptions lets extra options win", () => {
    const config = { seed: 4, latency: { kind: "fixed", ms: 2 } as const, shuffleTies: true };
    expect(simNetworkOptions(config, { seed: 9, highWaterMark: 10 })).toEqual({ seed: 9, latency: { kind: "fixed", ms: 2 }, shuffleTies: true, highWaterMark: 10 });
  });
});

describe("faultPlanArb: a drawn plan means what it says", () => {
  /** Per link (an unordered pair), the opening and closing faults of `open`/`close` kinds, in plan order. */
  function episodesPerLink(plan: FaultPlan, open: "hold" | "partition", close: "release" | "heal"): Map<string, { at: number; opens: boolean }[]> {
    const links = new Map<string, { at: number; opens: boolean }[]>();
    for (const { at, fault } of plan) {
      if (fault.kind !== open && fault.kind !== close) continue;
      const ends = fault.kind === "hold" || fault.kind === "release" ? [fault.a, fault.b] : [fault.a?.[0] ?? "", fault.b?.[0] ?? ""];
      const key = [...ends].sort().join("|");
      const list = links.get(key) ?? [];
      list.push({ at, opens: fault.kind === open });
      links.set(key, list);
    }
    return links;
  }

  it("on every link, a hold comes strictly before its release and holds never overlap; the same for partitions and heals", () => {
    // Short windows and durations make ties and overlaps common.
    fc.assert(
      fc.property(faultPlanArb({ hosts: ["a", "b", "c"], kinds: ["hold", "partition"], maxFaults: 8, maxTime: 10, maxDuration: 4 }), (plan) => {
        for (const [open, close] of [["hold", "release"], ["partition", "heal"]] as const) {
          for (const [link, events] of episodesPerLink(plan, open, close)) {
            events.forEach((e, i) => {
              expect(e.opens, `${link}: ${JSON.stringify(events)}`).toBe(i % 2 === 0);
              if (i > 0) expect(e.at, `${link}: ${JSON.stringify(events)}`).toBeGreaterThan(events[i - 1]!.at);
            });
            expect(events.length % 2, `${link}: ${JSON.stringify(events)}`).toBe(0);
          }
        }
      }),
      { seed: 14, numRuns: 500 },
    );
  });

  it("a host's crashes never overlap or touch: it restarts strictly before it crashes again", () => {
    fc.assert(
      fc.property(faultPlanArb({ hosts: ["a", "b"], kinds: ["crash"], maxFaults: 8, maxTime: 10, maxDuration: 4 }), (plan) => {
        for (const host of ["a", "b"]) {
          const crashes = plan.flatMap(({ at, fault }) => (fault.kind === "crash" && fault.host === host ? [{ at, end: at + (fault.restartAfter ?? Infinity) }] : []));
          crashes.forEach((c, i) => {
            if (i > 0) expect(c.at, JSON.stringify(crashes)).toBeGreaterThan(crashes[i - 1]!.end);
          });
        }
      }),
      { seed: 16, numRuns: 300 },
    );
    expect(() => faultPlanArb({ hosts: ["a"], maxDuration: 0 })).toThrow(/maxDuration/);
  });

  it("with shuffled ties, no drawn hold or partition leaves a link blocked: an echo always gets everything back", async () => {
    await fc.assert(
      fc.asyncProperty(
        faultPlanArb({ hosts: ["10.0.0.1", "10.0.0.2"], kinds: ["hold", "partition"], maxFaults: 4, minTime: 1, maxTime: 6, maxDuration: 3 }),
        fc.nat({ max: 1000 }),
        async (plan, seed) => {
          const net = new SimNetwork({ seed, shuffleTies: true, latency: { kind: "fixed", ms: 1 } });
          net.host("10.0.0.1", { boot: (h) => h.listen("tcp:7", Factory.forProtocol(() => new Echo())) });
          const clients: Recorder[] = [];
          net.host("10.0.0.2", {
            boot: (h) => {
              h.callLater(1, () => {
                h.connect("tcp:10.0.0.1:7:timeout=60", Factory.forProtocol(() => {
                  const r = new Recorder();
                  clients.push(r);
                  return r;
                })).addCallbacks(
                  (p) => {
                    for (let i = 0; i < 5; i++) h.callLater(i, () => p.transport.write(`m${i};`));
                  },
                  () => undefined,
                );
              });
            },
          });
          net.plan(plan);
          await net.runUntilIdle();
          expect(clients[0]?.text(), JSON.stringify(plan)).toBe("m0;m1;m2;m3;m4;");
          expect(net.bytesInFlight()).toBe(0);
        },
      ),
      { seed: 15, numRuns: 400 },
    );
  });
});

describe("faultPlanArb with swarm", () => {
  const hosts = ["10.0.0.1", "10.0.0.2"];

  it("gives plans that use fewer kinds each, with more faults per kind", () => {
    const kindsPer = (swarm: boolean): number[] =>
      fc.sample(faultPlanArb({ hosts, swarm, maxFaults: 6 }), { seed: 21, numRuns: 400 }).map((plan) => new Set(plan.filter((f) => f.fault.kind !== "heal" && f.fault.kind !== "release").map((f) => f.fault.kind)).size);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(kindsPer(true))).toBeLessThan(mean(kindsPer(false)));
    // Every kind still shows up across plans.
    const all = new Set(fc.sample(faultPlanArb({ hosts, swarm: true }), { seed: 22, numRuns: 400 }).flatMap((p) => p.map((f) => f.fault.kind)));
    expect([...all].sort()).toEqual(["crash", "halfClose", "heal", "hold", "partition", "release", "reset"]);
  });

  it("still means what it says, and shrinks to the simplest plan", () => {
    fc.assert(
      fc.property(faultPlanArb({ hosts, swarm: true, maxTime: 10, maxDuration: 4 }), (plan) => {
        expect(plan.map((f) => f.at)).toEqual([...plan.map((f) => f.at)].sort((a, b) => a - b));
      }),
      { seed: 23, numRuns: 200 },
    );
    const plan = shrunk(faultPlanArb({ hosts, swarm: true }), (p: FaultPlan) => !p.some((f) => f.fault.kind === "crash"));
    expect(plan).toEqual([{ at: 0, fault: { kind: "crash", host: "10.0.0.1" } }]);
  });
});
