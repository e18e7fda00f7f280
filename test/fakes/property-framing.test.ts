/**
 * The framing protocols end to end through the fakes: a client writes framed messages over an
 * in-memory pair (`connectPair`) or a simulated network (`SimNetwork`), cut into reads by a
 * fast-check chunking, and the receiver must see exactly the messages sent, never hold more than
 * its limit allows, and stop for good at its first error. (The parsers' own unit properties feed
 * chunks by hand; these go through transports, pumps, pipes and the scheduler.)
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { Factory, Protocol } from "../../runtime/protocol.js";
import type { FramingReceiver } from "../../runtime/protocols/framing-receiver.js";
import { chunkingArb, simConfigArb, simNetworkOptions } from "../../fakes/arbitraries.js";
import type { ScriptedChunking, SimConfig } from "../../fakes/arbitraries.js";
import { connectPair } from "../../fakes/loopback.js";
import { simProperty } from "../../fakes/property.js";
import type { SimCaseContext } from "../../fakes/replay.js";
import { CODECS } from "../runtime/protocols/framing-helpers.js";
import type { Codec, Recorder } from "../runtime/protocols/framing-helpers.js";

type Receiver = FramingReceiver & Recorder & { MAX_LENGTH: number };

/** Writes each message as its own write, then closes (after the bytes are sent). */
class Writer extends Protocol {
  constructor(private readonly frames: readonly Uint8Array[]) {
    super();
  }
  override connectionMade(): void {
    for (const f of this.frames) this.transport.write(f);
    this.transport.loseConnection();
  }
}

/** Watches the receiver's buffer after every read. */
function watchBuffer(receiver: Receiver): { max: number } {
  const seen = { max: 0 };
  const original = receiver.dataReceived.bind(receiver);
  receiver.dataReceived = (data: Uint8Array): void => {
    original(data);
    seen.max = Math.max(seen.max, receiver.bufferedLength);
  };
  return seen;
}

/** True when the receiver was connected and its connection is now lost. */
function wasLost(receiver: Receiver): boolean {
  return (receiver.transport as unknown) !== undefined && !receiver.connected;
}

interface Outcome {
  /** Whether the server side's connection is lost at the end. */
  readonly lost: boolean;
}

/** Sends `frames` to `receiver` over an in-memory pair cut by `chunking`, until nothing moves. */
function overPair(receiver: Receiver, frames: readonly Uint8Array[], chunking: ScriptedChunking): Outcome {
  const pump = connectPair(receiver, new Writer(frames), { chunking });
  pump.flush();
  return { lost: wasLost(receiver) };
}

/** The same over a simulated network: two hosts, the drawn configuration and chunking. */
async function overSim(receiver: Receiver, frames: readonly Uint8Array[], chunking: ScriptedChunking, config: SimConfig, ctx: SimCaseContext): Promise<Outcome> {
  const net = ctx.network(simNetworkOptions(config, { chunking }));
  net.host("10.0.0.1", {
    boot: (h) =>
      h.listen(
        "tcp:9",
        Factory.forProtocol(() => {
          return receiver;
        }),
      ),
  });
  net.host("10.0.0.2", {
    boot: (h) => {
      h.callLater(1, () => {
        h.connect("tcp:10.0.0.1:9", Factory.forProtocol(() => new Writer(frames))).addErrback((e: unknown) => {
          ctx.log(`connect failed: ${String(e)}`);
        });
      });
    },
  });
  await net.runUntilIdle();
  return { lost: wasLost(receiver) };
}

const WITHIN = 64;
// Fixed seeds keep the suite deterministic; a failure prints its seed and path all the same.
const SEED = 20_261_122;
const SMALL_LIMIT = 8;

describe.each(CODECS.map((codec) => [codec.name, codec] as const))("%s through the fakes", (_name, codec: Codec) => {
  const make = (max: number): Receiver => codec.make(max) as Receiver;

  it("connectPair: for all messages and all chunkings, the receiver sees exactly the messages sent, within its limit", async () => {
    await simProperty(
      { messages: fc.array(codec.message(WITHIN), { maxLength: 8 }), chunking: chunkingArb() },
      ({ messages, chunking }) => {
        const receiver = make(WITHIN);
        const buffer = watchBuffer(receiver);
        const outcome = overPair(receiver, messages.map((m) => codec.encode(m)), chunking);
        expect(receiver.messages.map((m) => [...m])).toEqual(messages.map((m) => [...m]));
        expect(receiver.failure).toBeNull();
        expect(buffer.max).toBeLessThanOrEqual(WITHIN + codec.overhead(WITHIN));
        expect(outcome.lost).toBe(true);
      },
      { name: `${codec.name} pair delivery`, numRuns: 80, seed: SEED },
    );
  });

  it("SimNetwork: the same, with drawn seeds, latencies and tie orders", async () => {
    await simProperty(
      { messages: fc.array(codec.message(WITHIN), { maxLength: 6 }), chunking: chunkingArb(), config: simConfigArb() },
      async ({ messages, chunking, config }, ctx) => {
        const receiver = make(WITHIN);
        const buffer = watchBuffer(receiver);
        const outcome = await overSim(receiver, messages.map((m) => codec.encode(m)), chunking, config, ctx);
        expect(receiver.messages.map((m) => [...m])).toEqual(messages.map((m) => [...m]));
        expect(receiver.failure).toBeNull();
        expect(buffer.max).toBeLessThanOrEqual(WITHIN + codec.overhead(WITHIN));
        expect(outcome.lost).toBe(true);
      },
      { name: `${codec.name} sim delivery`, numRuns: 40, seed: SEED + 1 },
    );
  });

  it("over its limit: the messages before the first too-long one arrive, then it fails for good and closes", async () => {
    await simProperty(
      {
        messages: fc.array(codec.sized(0, SMALL_LIMIT + 4), { minLength: 1, maxLength: 6 }),
        chunking: chunkingArb(),
        config: simConfigArb(),
        sim: fc.boolean(),
      },
      async ({ messages, chunking, config, sim }, ctx) => {
        const receiver = make(SMALL_LIMIT);
        const buffer = watchBuffer(receiver);
        const frames = messages.map((m) => codec.encode(m));
        const outcome = sim ? await overSim(receiver, frames, chunking, config, ctx) : overPair(receiver, frames, chunking);
        const firstTooLong = messages.findIndex((m) => m.length > SMALL_LIMIT);
        const expected = firstTooLong < 0 ? messages : messages.slice(0, firstTooLong);
        expect(receiver.messages.map((m) => [...m])).toEqual(expected.map((m) => [...m]));
        expect(buffer.max).toBeLessThanOrEqual(SMALL_LIMIT + codec.overhead(SMALL_LIMIT));
        expect(outcome.lost).toBe(true);
        if (firstTooLong < 0) {
          expect(receiver.failure).toBeNull();
          return;
        }
        const failure = receiver.failure;
        expect(failure?.code).toBe(codec.tooLongCode);
        expect(receiver.hooks).toHaveLength(1);
        // The state after an error is final: more bytes, even valid ones, change nothing.
        receiver.dataReceived(codec.encode(new Uint8Array(0)));
        receiver.dataReceived(Buffer.concat(frames));
        expect(receiver.messages).toHaveLength(expected.length);
        expect(receiver.failure).toBe(failure);
        expect(receiver.hooks).toHaveLength(1);
      },
      { name: `${codec.name} over limit`, numRuns: 80, seed: SEED + 2 },
    );
  });
});
