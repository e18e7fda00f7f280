/**
 * The async/await face (`serve`, `dial`, `Connection`) under the simulated network is
 * deterministic: `await` continuations run between events, so the same seed gives the same
 * trace hash, for many seeds, with shuffled ties, jittered latency and random chunking.
 */

import { describe, expect, it } from "vitest";

import { dial, serve } from "../../runtime/stream.js";
import type { Reactor } from "../../runtime/reactor.js";
import { SimNetwork, checkDeterminism } from "../../fakes/simulation.js";
import { uniformLatency } from "../../fakes/sim-latency.js";
import { chunkingArb, simConfigArb, simNetworkOptions } from "../../fakes/arbitraries.js";
import { simProperty } from "../../fakes/property.js";

const dec = new TextDecoder();
const CLIENTS = 3;
const ROUNDS = 4;

async function client(reactor: Reactor, id: number, results: string[]): Promise<void> {
  const conn = await dial(reactor, "tcp:10.0.0.1:80:timeout=5");
  for (let i = 0; i < ROUNDS; i++) {
    await conn.write(`c${id}-m${i}\n`);
    results.push(`${reactor.now().toFixed(3)} ${dec.decode(await conn.readLine())}`);
  }
  await conn.close();
}

/** A line-uppercasing server and a few clients, each doing request/response with awaits. */
function scenario(results: string[]) {
  return (net: SimNetwork): void => {
    net.host("10.0.0.1", {
      boot: (h) =>
        serve(h, "tcp:80", async (conn) => {
          for await (const line of conn.lines()) await conn.write(`${dec.decode(line).toUpperCase()}\n`);
        }),
    });
    for (let c = 0; c < CLIENTS; c++) {
      net.host(`10.0.0.${c + 2}`, {
        boot: (h) => {
          h.callLater(1 + c * 0.5, () => {
            client(h, c, results).catch((error: unknown) => {
              results.push(`client ${c} failed: ${String(error)}`);
            });
          });
        },
      });
    }
  };
}

function replies(results: readonly string[]): string[] {
  return results.map((r) => r.slice(r.indexOf(" ") + 1)).sort();
}

const EXPECTED = Array.from({ length: CLIENTS * ROUNDS }, (_, k) => `C${Math.floor(k / ROUNDS)}-M${k % ROUNDS}`).sort();

describe("the stream face on SimNetwork", () => {
  it("gives the same trace hash for the same seed, for 25 seeds, with shuffled ties and jitter", async () => {
    const hashes = new Set<string>();
    for (let seed = 1; seed <= 25; seed++) {
      const results: string[] = [];
      const report = await checkDeterminism(seed, scenario(results), { shuffleTies: true, latency: uniformLatency(0.2, 4) });
      expect(report.ok, `seed ${seed}: ${JSON.stringify(report.divergence)}`).toBe(true);
      expect(report.records).toBeGreaterThan(30);
      // Both runs pushed into `results`: each reply twice, at the same virtual times.
      const half = results.length / 2;
      expect(results.slice(0, half)).toEqual(results.slice(half));
      expect(replies(results.slice(0, half))).toEqual(EXPECTED);
      hashes.add(report.hashes[0]);
    }
    // The hash tells runs apart: different seeds (different timings) give different traces.
    expect(hashes.size).toBeGreaterThan(20);
  });

  it("by property: any drawn configuration and chunking replays to the same trace hash", async () => {
    await simProperty(
      { config: simConfigArb({ maxLatency: 5 }), chunking: chunkingArb({ maxReadSize: 6 }) },
      async ({ config, chunking }, ctx) => {
        const run = async (): Promise<{ hash: string; results: string[] }> => {
          const results: string[] = [];
          const net = ctx.network(simNetworkOptions(config, { chunking }));
          scenario(results)(net);
          await net.runUntilIdle();
          return { hash: net.traceHash(), results };
        };
        const first = await run();
        const second = await run();
        expect(replies(first.results)).toEqual(EXPECTED);
        expect(second.results).toEqual(first.results);
        expect(second.hash).toBe(first.hash);
      },
      { name: "stream determinism", seed: 99, numRuns: 30 },
    );
  });

  it("a real-time call from async code inside the run is caught, not silently nondeterministic", async () => {
    const sim = new SimNetwork({ seed: 3 });
    sim.host("10.0.0.1", {
      boot: async () => {
        await Promise.resolve();
        return Date.now();
      },
    });
    await expect(sim.runUntilIdle()).rejects.toThrow(/Date\.now/);
  });
});
