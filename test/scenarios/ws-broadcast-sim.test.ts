import { describe, expect, it } from "vitest";
import { FrameWriter } from "../../runtime/protocols/websocket/frame-writer.js";
import type { SimCheckResult } from "../../scenarios/scenario.js";
import { runSimStyle } from "../../scenarios/sim-support.js";
import { BroadcastHub, broadcastFactory } from "../../scenarios/ws-broadcast/callback.js";
import { wsBroadcast } from "../../scenarios/ws-broadcast/index.js";
import { BroadcastSimRun } from "../../scenarios/ws-broadcast/sim.js";

describe("ws-broadcast sim check", () => {
  it("delivers every message to every subscriber, in order, intact (chunking only)", async () => {
    const results = await wsBroadcast.sim({ seed: 11, connections: 5, operations: 4, faults: false });
    expect(results.map((r) => r.style)).toEqual(["callback", "async"]);
    for (const r of results) {
      expect(r.violations).toEqual([]);
      expect(r.operations).toBe(20);
      expect(r.lostToFaults).toBe(0);
    }
  });

  it("accounts for every delivery under resets", async () => {
    let lost = 0;
    for (const seed of [1, 2, 3, 4]) {
      const results = await wsBroadcast.sim({ seed, connections: 6, operations: 5, faults: true });
      for (const r of results) {
        expect(r.violations).toEqual([]);
        expect(r.operations + r.lostToFaults).toBe(30);
        lost += r.lostToFaults;
      }
    }
    expect(lost).toBeGreaterThan(0);
  });
});

describe("ws-broadcast sim check catches broken servers", () => {
  const options = { seed: 5, connections: 3, operations: 4, faults: false };
  const check = (hub: BroadcastHub): Promise<SimCheckResult> => {
    let sim: BroadcastSimRun | null = null;
    return runSimStyle(
      "callback",
      options,
      (reactor, endpoint) => reactor.listen(endpoint, broadcastFactory(reactor, hub)),
      (i, tally, reactor) => {
        sim ??= new BroadcastSimRun(options, tally, reactor);
        return sim.subscriber(i);
      },
    );
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
    expect(result.violations[0]).toMatch(/subscriber \d: message 1 expected, got message 2/);
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
    expect(result.violations[0]).toMatch(/a corrupt message/);
  });

  it("a hub that loses the last message leaves deliveries unaccounted for", async () => {
    let count = 0;
    class Losing extends BroadcastHub {
      override publish(data: string | Uint8Array): void {
        if (++count < options.operations) super.publish(data);
      }
    }
    const result = await check(new Losing());
    expect(result.violations).toEqual([`12 operations expected, 9 completed and 0 lost to faults`]);
  });
});
