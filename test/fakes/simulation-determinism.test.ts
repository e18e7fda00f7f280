import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { wholeWrites } from "../../fakes/chunking.js";
import { uniformLatency } from "../../fakes/sim-latency.js";
import type { NondeterminismRecord } from "../../fakes/nondeterminism-guard.js";
import { checkDeterminism, SimNetwork } from "../../fakes/simulation.js";
import { NondeterminismError } from "../../runtime/errors.js";
import { Factory, Protocol } from "../../runtime/protocol.js";
import type { Reactor } from "../../runtime/reactor.js";
import { dial, serve } from "../../runtime/stream.js";
import { echoFactory, Recorder } from "./simulation-helpers.js";

/** A small scenario: 3 clients each send a few writes to an echo server over a jittery link. */
function scenario(net: SimNetwork): void {
  net.host("10.0.0.1", { boot: (r) => void r.listen("tcp:80", echoFactory()) });
  for (let i = 0; i < 3; i++) {
    const c = net.host(`10.0.1.${i}`);
    c.connect("tcp:10.0.0.1:80", new Factory(Recorder)).addCallback((p) => {
      for (let k = 0; k < 4; k++) p.transport.write(`client ${i} write ${k};`);
      c.callLater(20 + c.random() * 10, () => {
        p.transport.loseConnection();
      });
    });
  }
}

describe("SimNetwork determinism", () => {
  it("gives the same trace hash for the same seed, 100 seeds each run twice", async () => {
    const hashes = new Set<string>();
    for (let seed = 0; seed < 100; seed++) {
      const report = await checkDeterminism(seed, scenario, { latency: uniformLatency(0.5, 3), shuffleTies: seed % 2 === 0 });
      expect(report.ok, JSON.stringify(report.divergence)).toBe(true);
      expect(report.hashes[0]).toBe(report.hashes[1]);
      hashes.add(report.hashes[0]);
    }
    // Different seeds make different choices (cuts, jitter, tie order): the hashes differ.
    expect(hashes.size).toBeGreaterThan(95);
  });

  it("is deterministic for async/await code too", async () => {
    const report = await checkDeterminism(4, (net) => {
      net.host("10.0.0.1", {
        boot: (r) =>
          serve(r, "tcp:7", async (conn) => {
            for await (const chunk of conn) await conn.write(chunk);
          }),
      });
      const c = net.host("10.0.0.2");
      void (async () => {
        const conn = await dial(c, "tcp:10.0.0.1:7");
        for (let i = 0; i < 5; i++) {
          await conn.write(`line ${i}\n`);
          await conn.readLine();
        }
        await conn.close();
      })();
    });
    expect(report.ok).toBe(true);
    expect(report.records).toBeGreaterThan(10);
  });

  it("reports the first divergent trace line when a scenario is not deterministic", async () => {
    let runs = 0;
    const report = await checkDeterminism(1, (net) => {
      const writes = ++runs;
      net.host("10.0.0.1", { boot: (r) => void r.listen("tcp:80", echoFactory()) });
      const c = net.host("10.0.0.2");
      c.connect("tcp:10.0.0.1:80", new Factory(Recorder)).addCallback((p) => {
        p.transport.write("x".repeat(writes));
      });
    });
    expect(report.ok).toBe(false);
    expect(report.divergence?.first).toMatch(/deliver c0 .* 1 bytes/);
    expect(report.divergence?.second).toMatch(/deliver c0 .* bytes/);
    expect(report.divergence?.first).not.toBe(report.divergence?.second);
  });

  it("shuffled ties reorder events but keep each connection's bytes in order", async () => {
    const texts = new Set<string>();
    const orders = new Set<string>();
    for (let seed = 0; seed < 10; seed++) {
      const net = new SimNetwork({ seed, shuffleTies: true });
      const servers: Recorder[] = [];
      net.host("10.0.0.1", { boot: (r) => void r.listen("tcp:80", echoFactory(servers)) });
      for (let i = 0; i < 4; i++) {
        net.host(`10.0.1.${i}`).connect("tcp:10.0.0.1:80", new Factory(Recorder)).addCallback((p) => {
          p.transport.write("abcdefghij");
        });
      }
      await net.runUntilIdle();
      for (const s of servers) texts.add(s.text());
      orders.add(servers.map((s) => s.transport.getPeer().host).join(","));
    }
    expect([...texts]).toEqual(["abcdefghij"]);
    expect(orders.size).toBeGreaterThan(1);
  });
});

describe("SimNetwork nondeterminism detection", () => {
  class Rolls extends Protocol {
    override dataReceived(): void {
      this.transport.write(String(Math.random()));
    }
  }

  class Sleeps extends Protocol {
    override connectionMade(): void {
      setTimeout(() => undefined, 0);
    }
  }

  function run(factory: Factory, options: ConstructorParameters<typeof SimNetwork>[0] = {}): { net: SimNetwork; done: Promise<void> } {
    const net = new SimNetwork(options);
    net.host("10.0.0.1", { boot: (r) => void r.listen("tcp:80", factory) });
    net.host("10.0.0.2").connect("tcp:10.0.0.1:80", new Factory(Recorder)).addCallback((p) => {
      p.transport.write("go");
    }).addErrback(() => undefined);
    return { net, done: net.runUntilIdle() };
  }

  it("fails the run with NondeterminismError for Math.random in a protocol, and restores the globals", async () => {
    const random = Math.random;
    const now = Date.now;
    const { net, done } = run(new Factory(Rolls), { chunking: wholeWrites() });
    const error = await done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NondeterminismError);
    expect((error as NondeterminismError).code).toBe("WL_ERR_NONDETERMINISM");
    expect((error as NondeterminismError).api).toBe("Math.random");
    expect((error as NondeterminismError).where).toMatch(/simulation-determinism\.test\.ts/);
    expect(net.nondeterminism()).toHaveLength(1);
    expect(Math.random).toBe(random);
    expect(Date.now).toBe(now);
  });

  it("catches Date.now and setTimeout in async code", async () => {
    const net = new SimNetwork();
    net.host("10.0.0.1", {
      boot: async (r) => {
        await Promise.resolve();
        r.callLater(1, () => {
          Date.now();
        });
      },
    });
    const error = await net.runUntilIdle().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NondeterminismError);
    expect((error as NondeterminismError).api).toBe("Date.now");
    const { done } = run(new Factory(Sleeps));
    await expect(done).rejects.toMatchObject({ api: "setTimeout" });
  });

  it("only records in warn mode, and lets the call through", async () => {
    const seen: NondeterminismRecord[] = [];
    const { net, done } = run(new Factory(Rolls), { nondeterminism: "warn", onNondeterminism: (r) => seen.push(r), chunking: wholeWrites() });
    await done;
    expect(seen.map((r) => r.api)).toEqual(["Math.random"]);
    expect(net.nondeterminism()).toEqual(seen);
  });

  it("does not flag code outside the run", async () => {
    const net = new SimNetwork();
    net.host("10.0.0.1");
    Math.random();
    await net.runUntilIdle();
    expect(net.nondeterminism()).toEqual([]);
  });
});

describe("the guard covers every source of real time and randomness, and records instead of throwing", () => {
  /** A protocol that calls `use` when data arrives, then answers, so we see the code went on. */
  class Uses extends Protocol {
    usedAt = -1;
    constructor(
      private readonly use: () => unknown,
      private readonly clock: Reactor,
    ) {
      super();
    }
    override dataReceived(): void {
      this.usedAt = this.clock.now();
      this.use();
      this.transport.write("answered");
    }
  }

  const uses: [string, () => unknown][] = [
    ["new Date()", () => new Date()],
    ["Date()", () => Date()],
    ["Date.now", () => Date.now()],
    ["performance.now", () => performance.now()],
    ["performance.timeOrigin", () => performance.timeOrigin],
    ["process.hrtime", () => process.hrtime()],
    ["process.hrtime.bigint", () => process.hrtime.bigint()],
    ["Math.random", () => Math.random()],
    ["crypto.randomInt", () => randomInt(10)],
    ["crypto.randomUUID", () => randomUUID()],
    ["crypto.randomBytes", () => randomBytes(4)],
    ["crypto.getRandomValues", () => globalThis.crypto.getRandomValues(new Uint8Array(4))],
    ["crypto.randomUUID", () => globalThis.crypto.randomUUID()],
    ["setTimeout", () => clearTimeout(setTimeout(() => undefined, 0))],
    ["setImmediate", () => clearImmediate(setImmediate(() => undefined))],
  ];

  it.each(uses)("%s inside a run is recorded with its stack; the code goes on; the run fails at its end", async (api, use) => {
    const net = new SimNetwork({ chunking: wholeWrites() });
    const servers: Uses[] = [];
    net.host("10.0.0.1", {
      boot: (r) =>
        void r.listen(
          "tcp:80",
          Factory.forProtocol(() => {
            const s = new Uses(use, r);
            servers.push(s);
            return s;
          }),
        ),
    });
    const clients: Recorder[] = [];
    net.host("10.0.0.2", {
      boot: (h) => {
        h.callLater(1, () => {
          h.connect("tcp:10.0.0.1:80", Factory.forProtocol(() => {
            const r = new Recorder();
            clients.push(r);
            return r;
          })).addCallback((p) => {
            p.transport.write("go");
          });
        });
      },
    });
    const error = await net.runUntilIdle().then(
      () => null,
      (e: unknown) => e,
    );
    expect(clients[0]!.text()).toBe("answered");
    expect(error).toBeInstanceOf(NondeterminismError);
    const violations = (error as NondeterminismError).violations;
    expect(violations.map((v) => v.api)).toEqual([api]);
    expect(violations[0]!.where).toMatch(/simulation-determinism\.test\.ts/);
    expect(violations[0]!.stack).toMatch(/simulation-determinism\.test\.ts/);
    expect(violations[0]!.time).toBe(servers[0]!.usedAt);
    expect(violations[0]!.time).toBeGreaterThan(0);
    expect((error as NondeterminismError).message).toContain(api);
  });

  it("does not throw into an async handler: no unhandled rejection, the handler finishes", async () => {
    const net = new SimNetwork();
    const steps: string[] = [];
    net.host("10.0.0.1", {
      boot: async () => {
        await Promise.resolve();
        steps.push(`now ${typeof Date.now()}`);
        await Promise.resolve();
        steps.push("finished");
      },
    });
    await expect(net.runUntilIdle()).rejects.toBeInstanceOf(NondeterminismError);
    expect(steps).toEqual(["now number", "finished"]);
  });
});
