import { describe, expect, it } from "vitest";
import { FrameWriter } from "wirelab";
import { checkScenario, defineScenario } from "wirelab/bench";
import type { WirelabStyle } from "wirelab/bench";
import { BroadcastHub, broadcastFactory } from "../../scenarios/ws-broadcast/callback.js";
import wsBroadcast from "../../scenarios/ws-broadcast/index.js";

describe("ws-broadcast sim check (its client workload on SimNetwork)", () => {
  it("delivers every message to every subscriber, in order, intact (chunking only)", async () => {
    const results = await checkScenario(wsBroadcast, { seed: 11, connections: 5, operations: 4, faults: false });
    expect(results.map((r) => r.style)).toEqual(["callback", "async"]);
    for (const r of results) {
      expect(r.violations).toEqual([]);
      // One publisher and four subscribers, four operations each.
      expect(r.operations).toBe(20);
      expect(r.lostToFaults).toBe(0);
    }
  });

  it("accounts for every delivery under resets", async () => {
    let lost = 0;
    for (const seed of [1, 2, 3, 4]) {
      for (const r of await checkScenario(wsBroadcast, { seed, connections: 6, operations: 5 })) {
        expect(r.violations).toEqual([]);
        expect(r.operations + r.lostToFaults).toBe(30);
        lost += r.lostToFaults;
      }
    }
    expect(lost).toBeGreaterThan(0);
  });
});

describe("ws-broadcast sim check catches broken servers", () => {
  const operations = 4;
  const check = async (hub: BroadcastHub) => {
    const listen: WirelabStyle["listen"] = (reactor, endpoint) => reactor.listen(endpoint, broadcastFactory(reactor, hub));
    const [result] = await checkScenario(defineScenario({ ...wsBroadcast, styles: [{ name: "broken", listen }], compare: [] }), { seed: 5, connections: 3, operations, faults: false });
    return result!;
  };

  it("a hub that skips one subscriber once is caught (a gap)", async () => {
    let count = 0;
    class Skipping extends BroadcastHub {
      override publish(data: string | Uint8Array): void {
        const prepared = FrameWriter.prepare(data);
        let first = true;
        for (const s of this.subscribers) {
          if (first && count++ === 1) {
            first = false;
            continue;
          }
          first = false;
          s.sendPrepared(prepared);
        }
      }
    }
    const result = await check(new Skipping());
    expect(result.violations[0]).toMatch(/client \d, operation 1: mismatch: subscriber \d: got message 2 where 1 was due/);
  });

  it("a hub that corrupts a message is caught", async () => {
    class Corrupting extends BroadcastHub {
      override publish(data: string | Uint8Array): void {
        const copy = Uint8Array.from(data as Uint8Array);
        copy[40] = copy[40]! ^ 1;
        super.publish(copy);
      }
    }
    const result = await check(new Corrupting());
    expect(result.violations[0]).toMatch(/message 0 arrived corrupt/);
  });

  it("a hub that loses the last message leaves the subscribers waiting: timeouts", async () => {
    let count = 0;
    class Losing extends BroadcastHub {
      override publish(data: string | Uint8Array): void {
        if (++count < operations) super.publish(data);
      }
    }
    const result = await check(new Losing());
    expect(result.violations).toEqual([
      `client 1, operation 3: timeout: no answer within 10000 ms`,
      `client 2, operation 3: timeout: no answer within 10000 ms`,
    ]);
  });
});
