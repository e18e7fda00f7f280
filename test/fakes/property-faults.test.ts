/**
 * Fault plans drawn by fast-check against an echo exchange on SimNetwork: what must hold under
 * any plan (bytes arrive in order, never invented; the network settles), and how a property
 * that does not hold under faults shrinks to the one fault that breaks it.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { PropertyFailedError } from "../../runtime/errors.js";
import { Factory, Protocol } from "../../runtime/protocol.js";
import type { Clock, DelayedCall } from "../../runtime/reactor.js";
import { faultPlanArb, simConfigArb, simNetworkOptions } from "../../fakes/arbitraries.js";
import type { SimConfig } from "../../fakes/arbitraries.js";
import type { FaultPlan } from "../../fakes/sim-faults.js";
import { simProperty } from "../../fakes/property.js";
import { decodeInputs, readReplayFile, replay } from "../../fakes/replay.js";
import type { SimCaseContext } from "../../fakes/replay.js";

const dir = mkdtempSync(join(tmpdir(), "wirelab-fault-replays-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const WRITES = 10;
const SIZE = 50;
const HOSTS = ["10.0.0.1", "10.0.0.2"];

class Echo extends Protocol {
  override dataReceived(data: Uint8Array): void {
    this.transport.write(data);
  }
}

/** Writes one block every 10 ms, and closes once everything came back. */
class Client extends Protocol {
  readonly received: number[] = [];
  readonly sent: number[] = [];
  reason: Error | null = null;
  private readonly writes: DelayedCall[] = [];
  constructor(private readonly clock: Clock) {
    super();
  }
  override connectionMade(): void {
    for (let i = 0; i < WRITES; i++) {
      this.writes.push(
        this.clock.callLater(10 * i, () => {
          const block = Array.from({ length: SIZE }, (_, k) => (i * SIZE + k) & 0xff);
          this.sent.push(...block);
          this.transport.write(new Uint8Array(block));
        }),
      );
    }
  }
  override dataReceived(data: Uint8Array): void {
    this.received.push(...data);
    if (this.received.length === WRITES * SIZE) this.transport.loseConnection();
  }
  override connectionLost(reason: Error): void {
    this.reason = reason;
    // The writes not made yet would outlive the connection (simProperty checks for that).
    for (const call of this.writes) if (call.active()) call.cancel();
  }
}

interface Run {
  readonly client: Client | null;
  readonly connectError: unknown;
}

async function exchange(config: SimConfig, faults: FaultPlan, ctx: SimCaseContext): Promise<Run> {
  const net = ctx.network(simNetworkOptions(config));
  let client: Client | null = null;
  let connectError: unknown = null;
  net.host("10.0.0.1", { boot: (h) => h.listen("tcp:7", Factory.forProtocol(() => new Echo())) });
  net.host("10.0.0.2", {
    boot: (h) => {
      h.callLater(1, () => {
        const factory = Factory.forProtocol(() => {
          client = new Client(h);
          return client;
        });
        h.connect("tcp:10.0.0.1:7:timeout=5", factory).addErrback((e: unknown) => {
          connectError = e;
        });
      });
    },
  });
  net.plan(faults);
  await net.runUntilIdle();
  ctx.log(`received ${client === null ? "nothing (no connection)" : (client as Client).received.length} bytes`);
  return { client, connectError };
}

const arbs = {
  config: simConfigArb({ maxLatency: 5 }),
  faults: faultPlanArb({ hosts: HOSTS, maxFaults: 4, maxTime: 150, maxDuration: 100, minTime: 2 }),
};

describe("echo under drawn fault plans", () => {
  it("whatever the faults, the client reads a prefix of what it sent, and the network settles", async () => {
    await simProperty(
      arbs,
      async ({ config, faults }, ctx) => {
        const { client, connectError } = await exchange(config, faults, ctx);
        if (client === null) {
          // Only a fault keeps the connection from being made; the attempt then fails, unless
          // the client's host crashed (a crashed host hears nothing).
          expect(faults.length).toBeGreaterThan(0);
          const clientCrashed = faults.some((f) => f.fault.kind === "crash" && f.fault.host === "10.0.0.2");
          expect(connectError !== null || clientCrashed).toBe(true);
          return;
        }
        const c: Client = client;
        expect(c.received).toEqual(c.sent.slice(0, c.received.length));
        if (faults.length === 0) {
          expect(c.received).toHaveLength(WRITES * SIZE);
          expect(c.reason?.constructor.name).toBe("ConnectionDone");
        }
      },
      { name: "echo prefix under faults", seed: 31, numRuns: 150, replayDir: dir },
    );
  });

  it("a property that faults break shrinks to one fault, whose replay file reproduces it", async () => {
    const body = async ({ config, faults }: { config: SimConfig; faults: FaultPlan }, ctx: SimCaseContext): Promise<void> => {
      const { client } = await exchange(config, faults, ctx);
      expect(client?.received.length).toBe(WRITES * SIZE);
    };
    const error = await simProperty(arbs, body, { name: "echo complete under faults", seed: 5, numRuns: 200, replayDir: dir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PropertyFailedError);
    const file = (error as PropertyFailedError).replayFile!;
    const inputs = decodeInputs(readReplayFile(file).inputs) as { config: SimConfig; faults: FaultPlan };
    // The fewest faults: one, of the simplest kind that breaks it, on the first host.
    expect(inputs.faults).toHaveLength(1);
    expect(inputs.faults[0]!.fault).toEqual({ kind: "reset", host: "10.0.0.1", pick: 0 });
    expect((error as PropertyFailedError).message).toContain("fault reset host=10.0.0.1 pick=0");
    await expect(replay(file, body)).rejects.toThrow(/expected \d+ to be 500/);
  });
});
