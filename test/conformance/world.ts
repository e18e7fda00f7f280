/**
 * The conformance suite's "worlds": one small interface (listen, connect, run until a
 * condition, tear down) over the places a protocol can run. The in-memory ones are here; the
 * real one (NodeReactor on 127.0.0.1) is in tcp-world.ts, imported only by the integration
 * test, so unit runs never open a socket.
 */

import { Factory } from "../../runtime/protocol.js";
import type { Protocol } from "../../runtime/protocol.js";
import type { ListeningPort, Reactor } from "../../runtime/reactor.js";
import { ReactorStalledError } from "../../runtime/errors.js";
import { assertClean } from "../../fakes/assert-clean.js";
import { randomChunks } from "../../fakes/chunking.js";
import { drainMicrotasks } from "../../fakes/clock.js";
import type { Pump } from "../../fakes/loopback.js";
import { MemoryReactor } from "../../fakes/memory-reactor.js";
import { uniformLatency } from "../../fakes/sim-latency.js";
import { SimNetwork } from "../../fakes/simulation.js";

/** Buffered bytes past which a writer's push producer is paused, in every world. */
export const WORLD_HIGH_WATER_MARK = 16 * 1024;
/** Buffered bytes past which a write aborts its connection, in every world. */
export const WORLD_MAX_WRITE_BUFFER_SIZE = 4 * 1024 * 1024;

/** A place to run a client and a server. Test bodies use only this. */
export interface World {
  /** For test titles. */
  readonly name: string;
  /** The server's reactor (for `serve`, `streamFactory`). */
  readonly server: Reactor;
  /** The client's reactor (for `connect`, `dial`). */
  readonly client: Reactor;
  /**
   * Listens on the server with `factory`.
   *
   * @returns the endpoint a client connects to.
   */
  listen(factory: Factory): Promise<string>;
  /** Runs the world until `condition()` holds; fails naming `what` if it cannot happen. */
  runUntil(condition: () => boolean, what: string): Promise<void>;
  /** Runs the world until `promise` settles, and returns what it gives. */
  wait<T>(promise: PromiseLike<T>, what: string): Promise<T>;
  /** Stops listening and checks that nothing was left behind (fakes) or closes everything (real). */
  teardown(): Promise<void>;
}

/** Builds a fresh world for one test. */
export type WorldMaker = () => World | Promise<World>;

/** Connects a client protocol and runs the world until it is connected. */
export async function connect<P extends Protocol>(world: World, endpoint: string, make: () => P): Promise<P> {
  return world.wait(world.client.connect(endpoint, Factory.forProtocol(make)), `connecting to ${endpoint}`);
}

/** Runs the world until `promise` settles, by stepping it until a flag says so. */
async function settle<T>(world: World, promise: PromiseLike<T>, what: string): Promise<T> {
  type Settled = { ok: true; value: T } | { ok: false; error: unknown };
  const box: { settled: Settled | null } = { settled: null };
  Promise.resolve(promise).then(
    (value) => {
      box.settled = { ok: true, value };
    },
    (error: unknown) => {
      box.settled = { ok: false, error };
    },
  );
  await world.runUntil(() => box.settled !== null, what);
  const s = box.settled!;
  if (!s.ok) throw s.error;
  return s.value;
}

const MAX_ROUNDS = 100_000;

/**
 * connectPair, driven by a MemoryReactor: `listen` is recorded, each `connect` is completed
 * with an in-memory pair to the listener it reaches, and a Pump (seeded random chunking) moves
 * the bytes; microtasks run between rounds, so async code proceeds.
 */
export function pairWorld(seed = 7): World {
  const reactor = new MemoryReactor({ seed });
  const pumps: Pump[] = [];
  const ports: ListeningPort[] = [];
  const chunking = randomChunks(seed);
  const world: World = {
    name: "connectPair",
    server: reactor,
    client: reactor,
    async listen(factory) {
      const port = await reactor.listen("tcp:0:interface=127.0.0.1", factory);
      ports.push(port);
      return `tcp:127.0.0.1:${port.getHost().port}`;
    },
    async runUntil(condition, what) {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        if (condition()) return;
        let moved = false;
        for (const attempt of reactor.connects) {
          if (attempt.state !== "connecting") continue;
          pumps.push(attempt.completePair(undefined, { chunking, highWaterMark: WORLD_HIGH_WATER_MARK, maxWriteBufferSize: WORLD_MAX_WRITE_BUFFER_SIZE }));
          moved = true;
        }
        for (const pump of pumps) if (pump.flush() > 0) moved = true;
        await drainMicrotasks();
        if (moved || condition()) continue;
        if (pumps.some((p) => !p.idle) || reactor.connects.some((a) => a.state === "connecting")) continue;
        // Nothing moves and nothing is due but timers: let the next one run.
        if (!reactor.clock.stepToNext()) throw new ReactorStalledError(round, `connectPair world is idle, still waiting for ${what}`);
      }
      throw new ReactorStalledError(MAX_ROUNDS, `connectPair world, waiting for ${what}`);
    },
    wait(promise, what) {
      return settle(world, promise, what);
    },
    async teardown() {
      for (const port of ports) await port.stopListening();
      await world.runUntil(() => pumps.every((p) => p.idle), "the last bytes to move");
      assertClean(reactor);
    },
  };
  return world;
}

/** The longest a simulated world runs, in virtual milliseconds, before it gives up. */
const SIM_TIME_LIMIT = 10 * 60 * 1000;

/**
 * SimNetwork: the server on 10.0.0.1, the client on 10.0.0.2, with jittered latency, shuffled
 * ties and seeded random chunking. It runs event time by event time, checking the condition.
 */
export function simWorld(seed = 7): World {
  const net = new SimNetwork({ seed, latency: uniformLatency(0.5, 5), shuffleTies: true, highWaterMark: WORLD_HIGH_WATER_MARK, maxWriteBufferSize: WORLD_MAX_WRITE_BUFFER_SIZE });
  const server = net.host("10.0.0.1");
  const client = net.host("10.0.0.2");
  const ports: ListeningPort[] = [];
  const world: World = {
    name: "SimNetwork",
    server,
    client,
    async listen(factory) {
      const port = await server.listen("tcp:0:interface=10.0.0.1", factory);
      ports.push(port);
      return `tcp:10.0.0.1:${port.getHost().port}`;
    },
    async runUntil(condition, what) {
      for (;;) {
        if (condition()) return;
        let next = net.nextEventTime();
        if (next === undefined) {
          // A promise may still be one hop from settling: let microtasks run once more.
          await drainMicrotasks();
          if (condition()) return;
          next = net.nextEventTime();
        }
        if (next === undefined || next > SIM_TIME_LIMIT) {
          throw new ReactorStalledError(net.stats.events, `SimNetwork world is idle at ${net.now()} ms, still waiting for ${what}`);
        }
        await net.run({ until: next });
      }
    },
    wait(promise, what) {
      return settle(world, promise, what);
    },
    async teardown() {
      for (const port of ports) await port.stopListening();
      await net.runUntilIdle();
      assertClean(net);
    },
  };
  return world;
}
