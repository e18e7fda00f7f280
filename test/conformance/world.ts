/**
 * The conformance suite's "worlds": small interfaces over the places a protocol can run. A
 * `World` is two ends of a network (listen, connect, run until a condition, tear down); a
 * `ReactorWorld` is one reactor that has not run yet, for the life cycle, timers and UDP. The
 * in-memory ones are here; the real ones (NodeReactor on 127.0.0.1, a unix socket, TLS) are in
 * node-worlds.ts, imported only by the integration test, so unit runs never open a socket.
 */

import { Factory, Protocol } from "../../runtime/protocol.js";
import type { ListeningPort, Reactor } from "../../runtime/reactor.js";
import { ConnectionRefusedError, ConnectionResetError, ReactorStalledError } from "../../runtime/errors.js";
import { assertClean } from "../../fakes/assert-clean.js";
import { randomChunks } from "../../fakes/chunking.js";
import { drainMicrotasks } from "../../fakes/clock.js";
import type { Pump } from "../../fakes/loopback.js";
import { MemoryReactor } from "../../fakes/memory-reactor.js";
import type { MemoryUDPPort } from "../../fakes/memory-reactor.js";
import { uniformLatency } from "../../fakes/sim-latency.js";
import { SimNetwork } from "../../fakes/simulation.js";

/** Buffered bytes past which a writer's push producer is paused, in every world. */
export const WORLD_HIGH_WATER_MARK = 16 * 1024;
/** Buffered bytes past which a write aborts its connection, in every world. */
export const WORLD_MAX_WRITE_BUFFER_SIZE = 4 * 1024 * 1024;

/** The connect timeout the suite's timeout bodies use, in seconds (`:timeout=` of an endpoint). */
export const CONNECT_TIMEOUT_S = 0.25;

/** The transport family of a world: what an abort and an address look like there. */
export type TransportKind = "tcp" | "unix" | "tls";

/** A place to run a client and a server. Connection bodies use only this. */
export interface World {
  /** For test titles. */
  readonly name: string;
  /** TCP (and its fakes), a unix socket, or TLS over TCP. */
  readonly kind: TransportKind;
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
  /** An endpoint on the server where nothing listens: a connect there is refused. */
  refusedEndpoint(): Promise<string>;
  /**
   * An endpoint whose connection never completes (a SYN nobody answers, a TLS handshake the
   * server never answers), with `:timeout=` {@link CONNECT_TIMEOUT_S}; null where the world
   * cannot make one.
   */
  readonly neverAnsweringEndpoint: (() => Promise<string>) | null;
  /** An endpoint whose server resets the connection before it is set up; null where it cannot. */
  readonly resettingEndpoint: (() => Promise<string>) | null;
  /** Runs the world until `condition()` holds; fails naming `what` if it cannot happen. */
  runUntil(condition: () => boolean, what: string): Promise<void>;
  /** Runs the world until `promise` settles, and returns what it gives. */
  wait<T>(promise: PromiseLike<T>, what: string): Promise<T>;
  /** Stops listening and checks that nothing was left behind (fakes) or closes everything (real). */
  teardown(): Promise<void>;
}

/** Builds a fresh world for one test. */
export type WorldMaker = () => World | Promise<World>;

/**
 * One reactor that has not run yet, with a peer to connect to it and the means to move time.
 * Errors given to the reactor's error hook are collected in `errors`.
 */
export interface ReactorWorld {
  /** For test titles. */
  readonly name: string;
  /** The reactor under test: not running yet. */
  readonly reactor: Reactor;
  /** What its error hook received, in order. */
  readonly errors: Error[];
  /** The listen endpoint to use on `reactor` (port 0). */
  readonly listenEndpoint: string;
  /** The endpoint that reaches a port of `reactor` from `peer`. */
  connectEndpoint(port: ListeningPort): string;
  /** A running reactor on the same network, for the other end of connections. */
  readonly peer: Reactor;
  /** The listen endpoint to use on `peer` (port 0). */
  readonly peerListenEndpoint: string;
  /** The endpoint that reaches a port of `peer` from `reactor`. */
  peerConnectEndpoint(port: ListeningPort): string;
  /** The interface UDP ports of `reactor` bind. */
  readonly udpInterface: string;
  /** The address a datagram to UDP port `port` of `reactor` is sent to. */
  udpAddress(port: number): { host: string; port: number };
  /** Runs the world until `condition()` holds; fails naming `what` if it cannot happen. */
  runUntil(condition: () => boolean, what: string): Promise<void>;
  /** Runs the world until `promise` settles, and returns what it gives. */
  wait<T>(promise: PromiseLike<T>, what: string): Promise<T>;
  /** Lets `ms` of the world's time pass (virtual on the fakes, real on sockets). */
  elapse(ms: number): Promise<void>;
  /** Stops what is still running and checks what was left behind. */
  teardown(): Promise<void>;
}

/** Builds a fresh reactor world for one test. */
export type ReactorWorldMaker = () => ReactorWorld | Promise<ReactorWorld>;

/** Connects a client protocol and runs the world until it is connected. */
export async function connect<P extends Protocol>(world: World, endpoint: string, make: () => P): Promise<P> {
  return world.wait(world.client.connect(endpoint, Factory.forProtocol(make)), `connecting to ${endpoint}`);
}

/** Runs a world until `promise` settles, by stepping it until a flag says so. */
export async function settle<T>(runUntil: (condition: () => boolean, what: string) => Promise<void>, promise: PromiseLike<T>, what: string): Promise<T> {
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
  await runUntil(() => box.settled !== null, what);
  const s = box.settled!;
  if (!s.ok) throw s.error;
  return s.value;
}

const MAX_ROUNDS = 100_000;

/** The port numbers the MemoryReactor driver treats specially. */
const NEVER_ANSWERS_PORT = 9;
const RESETS_PORT = 7;

/**
 * Drives a MemoryReactor as a network would: each connect to a recorded listener is completed
 * with an in-memory pair (a Pump with seeded chunking moves the bytes), a connect to nothing is
 * refused, a connect to {@link NEVER_ANSWERS_PORT} is left to time out, one to
 * {@link RESETS_PORT} is reset; datagrams go to the UDP port they are addressed to; microtasks
 * run between rounds; when nothing moves, the clock jumps to the next timed call.
 */
class MemoryDriver {
  readonly pumps: Pump[] = [];
  private readonly delivered = new Map<MemoryUDPPort, number>();

  constructor(
    readonly reactor: MemoryReactor,
    private readonly seed: number,
  ) {}

  async runUntil(condition: () => boolean, what: string, allowTime = true): Promise<void> {
    const reactor = this.reactor;
    const chunking = randomChunks(this.seed);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (condition()) return;
      let moved = false;
      for (const attempt of reactor.connects) {
        if (attempt.state !== "connecting" || attempt.endpoint.kind === "unix") continue;
        const port = attempt.endpoint.port;
        if (port === NEVER_ANSWERS_PORT) continue;
        if (port === RESETS_PORT) {
          attempt.fail(new ConnectionResetError());
        } else if (reactor.findListener(attempt.endpoint) === undefined) {
          attempt.fail(new ConnectionRefusedError());
        } else {
          this.pumps.push(attempt.completePair(undefined, { chunking, highWaterMark: WORLD_HIGH_WATER_MARK, maxWriteBufferSize: WORLD_MAX_WRITE_BUFFER_SIZE }));
        }
        moved = true;
      }
      for (const pump of this.pumps) if (pump.flush() > 0) moved = true;
      if (this.deliverDatagrams()) moved = true;
      await drainMicrotasks();
      if (moved || condition()) continue;
      if (this.pumps.some((p) => !p.idle)) continue;
      // Nothing moves and nothing is due but timers: let the next one run.
      if (!allowTime || !reactor.clock.stepToNext()) throw new ReactorStalledError(round, `MemoryReactor world is idle, still waiting for ${what}`);
    }
    throw new ReactorStalledError(MAX_ROUNDS, `MemoryReactor world, waiting for ${what}`);
  }

  private deliverDatagrams(): boolean {
    let moved = false;
    for (const from of this.reactor.udpPorts) {
      const done = this.delivered.get(from) ?? 0;
      if (done === from.written.length) continue;
      for (const { data, addr } of from.written.slice(done)) {
        const to = this.reactor.udpPorts.find((u) => u.listening && u.address.port === addr.port);
        to?.deliver(data, { host: "127.0.0.1", port: from.address.port });
      }
      this.delivered.set(from, from.written.length);
      moved = true;
    }
    return moved;
  }
}

/**
 * connectPair, driven by a MemoryReactor: `listen` is recorded, each `connect` is completed
 * with an in-memory pair to the listener it reaches (see {@link MemoryDriver}).
 */
export function pairWorld(seed = 7): World {
  const reactor = new MemoryReactor({ seed });
  void reactor.run();
  const driver = new MemoryDriver(reactor, seed);
  const ports: ListeningPort[] = [];
  const world: World = {
    name: "connectPair",
    kind: "tcp",
    server: reactor,
    client: reactor,
    async listen(factory) {
      const port = await reactor.listen("tcp:0:interface=127.0.0.1", factory);
      ports.push(port);
      return `tcp:127.0.0.1:${port.getHost().port}`;
    },
    refusedEndpoint: () => Promise.resolve("tcp:127.0.0.1:1"),
    neverAnsweringEndpoint: () => Promise.resolve(`tcp:127.0.0.1:${NEVER_ANSWERS_PORT}:timeout=${CONNECT_TIMEOUT_S}`),
    resettingEndpoint: () => Promise.resolve(`tcp:127.0.0.1:${RESETS_PORT}`),
    runUntil: (condition, what) => driver.runUntil(condition, what),
    wait(promise, what) {
      return settle((condition, label) => world.runUntil(condition, label), promise, what);
    },
    async teardown() {
      for (const port of ports) await port.stopListening();
      await world.runUntil(() => driver.pumps.every((p) => p.idle), "the last bytes to move");
      assertClean(reactor);
    },
  };
  return world;
}

/** The longest a simulated world runs, in virtual milliseconds, before it gives up. */
const SIM_TIME_LIMIT = 10 * 60 * 1000;

/** Runs a SimNetwork event time by event time until `condition()` holds. */
async function runSim(net: SimNetwork, condition: () => boolean, what: string): Promise<void> {
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
}

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
    kind: "tcp",
    server,
    client,
    async listen(factory) {
      const port = await server.listen("tcp:0:interface=10.0.0.1", factory);
      ports.push(port);
      return `tcp:10.0.0.1:${port.getHost().port}`;
    },
    refusedEndpoint: () => Promise.resolve("tcp:10.0.0.1:1"),
    // No host has this address: the SYN is never answered.
    neverAnsweringEndpoint: () => Promise.resolve(`tcp:10.0.0.99:80:timeout=${CONNECT_TIMEOUT_S}`),
    resettingEndpoint: null,
    runUntil: (condition, what) => runSim(net, condition, what),
    wait(promise, what) {
      return settle((condition, label) => world.runUntil(condition, label), promise, what);
    },
    async teardown() {
      for (const port of ports) await port.stopListening();
      await net.runUntilIdle();
      assertClean(net);
    },
  };
  return world;
}

// ---------------------------------------------------------------------------------------------
// Reactor worlds

/** A MemoryReactor that has not run; the peer is the same reactor (the driver joins the ends). */
export function memoryReactorWorld(seed = 7): ReactorWorld {
  const reactor = new MemoryReactor({ seed });
  const errors: Error[] = [];
  reactor.setErrorHook((error) => errors.push(error));
  const driver = new MemoryDriver(reactor, seed);
  const world: ReactorWorld = {
    name: "MemoryReactor",
    reactor,
    errors,
    peer: reactor,
    listenEndpoint: "tcp:0:interface=127.0.0.1",
    connectEndpoint: (port) => `tcp:127.0.0.1:${port.getHost().port}`,
    peerListenEndpoint: "tcp:0:interface=127.0.0.1",
    peerConnectEndpoint: (port) => `tcp:127.0.0.1:${port.getHost().port}`,
    udpInterface: "127.0.0.1",
    udpAddress: (port) => ({ host: "127.0.0.1", port }),
    runUntil: (condition, what) => driver.runUntil(condition, what),
    wait(promise, what) {
      return settle((condition, label) => world.runUntil(condition, label), promise, what);
    },
    async elapse(ms) {
      await drainMicrotasks();
      reactor.clock.advance(ms);
      await drainMicrotasks();
    },
    async teardown() {
      if (reactor.running) await world.wait(reactor.stop(), "the reactor to stop");
      await world.runUntil(() => driver.pumps.every((p) => p.idle), "the last bytes to move");
      assertClean(reactor);
    },
  };
  return world;
}

/** A SimNetwork host that has not run (`autoRun: false`), and a running peer host. */
export function simReactorWorld(seed = 7): ReactorWorld {
  const net = new SimNetwork({ seed, latency: uniformLatency(0.5, 5), shuffleTies: true, highWaterMark: WORLD_HIGH_WATER_MARK });
  const host = net.host("10.0.0.1", { autoRun: false });
  const peer = net.host("10.0.0.2");
  const errors: Error[] = [];
  host.setErrorHook((error) => errors.push(error));
  const world: ReactorWorld = {
    name: "SimNetwork",
    reactor: host,
    errors,
    peer,
    listenEndpoint: "tcp:0:interface=10.0.0.1",
    connectEndpoint: (port) => `tcp:10.0.0.1:${port.getHost().port}`,
    peerListenEndpoint: "tcp:0:interface=10.0.0.2",
    peerConnectEndpoint: (port) => `tcp:10.0.0.2:${port.getHost().port}`,
    udpInterface: "10.0.0.1",
    udpAddress: (port) => ({ host: "10.0.0.1", port }),
    runUntil: (condition, what) => runSim(net, condition, what),
    wait(promise, what) {
      return settle((condition, label) => world.runUntil(condition, label), promise, what);
    },
    async elapse(ms) {
      await net.run({ until: net.now() + ms });
    },
    async teardown() {
      if (host.running) await world.wait(host.stop(), "the host to stop");
      if (peer.running) await world.wait(peer.stop(), "the peer to stop");
      await net.runUntilIdle();
      assertClean(net);
    },
  };
  return world;
}

/** A protocol that records its connection's life; shared by the bodies. */
export class Recorder extends Protocol {
  readonly chunks: Uint8Array[] = [];
  readonly events: string[] = [];
  reason: Error | null = null;
  override connectionMade(): void {
    this.events.push("made");
  }
  override dataReceived(data: Uint8Array): void {
    this.chunks.push(data.slice());
    if (this.events.at(-1) !== "data") this.events.push("data");
  }
  override connectionLost(reason: Error): void {
    this.reason = reason;
    this.events.push(`lost:${reason.constructor.name}`);
  }
  /** Everything received, in one array. */
  get received(): Uint8Array {
    const out = new Uint8Array(this.receivedLength);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
  /** How many bytes arrived. */
  get receivedLength(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
}
