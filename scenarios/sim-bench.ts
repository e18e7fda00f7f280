/**
 * Benchmark of the simulated network (a script that prints numbers, not a test):
 *
 * 1. simulated events per second (timers fired plus chunks delivered, and all events) on an
 *    echo run of CONNECTIONS connections each doing ROUNDS ping-pongs with 1 ms latency;
 * 2. simulated seconds per wall-clock second for that run;
 * 3. the same protocol code on real loopback sockets (NodeReactor, in this process) and the
 *    wall-time ratio;
 * 4. a determinism check: 100 seeds, each run twice, identical trace hashes;
 * 5. the cost of the nondeterminism guard: the same runs with `nondeterminism: "fail"` (the
 *    default) and `"off"`, interleaved in one process, medians compared.
 *
 * Run: `npx tsx scenarios/sim-bench.ts [connections] [rounds]`
 *
 * @module
 */

import * as os from "node:os";
import { wholeWrites } from "../fakes/chunking.js";
import { drainMicrotasks } from "../fakes/microtask-activity.js";
import { NondeterminismGuard } from "../fakes/nondeterminism-guard.js";
import { fixedLatency, uniformLatency } from "../fakes/sim-latency.js";
import { SimNetwork } from "../fakes/simulation.js";
import type { SimNetworkOptions } from "../fakes/simulation.js";
import { NodeReactor } from "../runtime/node/node-reactor.js";
import { Factory, Protocol } from "../runtime/protocol.js";
import type { Reactor } from "../runtime/reactor.js";

const CONNECTIONS = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 100);
const MESSAGE = new Uint8Array(32).fill(0x61);
const REPEATS = 3;

class Echo extends Protocol {
  override dataReceived(data: Uint8Array): void {
    this.transport.write(data);
  }
}

/** Sends MESSAGE, waits for all of it back, ROUNDS times, then closes. */
class PingPong extends Protocol {
  private got = 0;
  private rounds = 0;
  constructor(private readonly done: () => void) {
    super();
  }
  override connectionMade(): void {
    this.transport.write(MESSAGE);
  }
  override dataReceived(data: Uint8Array): void {
    this.got += data.length;
    if (this.got < MESSAGE.length) return;
    this.got -= MESSAGE.length;
    if (++this.rounds < ROUNDS) this.transport.write(MESSAGE);
    else this.transport.loseConnection();
  }
  override connectionLost(): void {
    this.done();
  }
}

/** Starts the echo workload on `server`/`client` reactors; resolves when every client is done. */
function workload(server: Reactor, client: Reactor, serverAddress: string, port: number, onAllDone: () => void): void {
  let remaining = CONNECTIONS;
  const done = (): void => {
    if (--remaining === 0) onAllDone();
  };
  const factory = Factory.forProtocol(() => new PingPong(done));
  for (let i = 0; i < CONNECTIONS; i++) {
    client.connect(`tcp:${serverAddress}:${port}:timeout=30`, factory).addErrback((e: unknown) => {
      console.error("connect failed", e);
    });
  }
  void server;
}

function simRun(options: SimNetworkOptions): { wall: number; net: SimNetwork; finished: boolean } {
  const net = new SimNetwork({ trace: "hash", maxSteps: 100_000_000, latency: fixedLatency(1), ...options });
  const server = net.host("10.0.0.1");
  server.listen("tcp:7", Factory.forProtocol(() => new Echo())).addErrback((e: unknown) => {
    console.error(e);
  });
  const client = net.host("10.0.0.2");
  let finished = false;
  workload(server, client, "10.0.0.1", 7, () => {
    finished = true;
  });
  const t0 = performance.now();
  net.runSync();
  return { wall: (performance.now() - t0) / 1000, net, finished };
}

async function realRun(): Promise<number> {
  const reactor = new NodeReactor();
  const port = await reactor.listen("tcp:0:interface=127.0.0.1", Factory.forProtocol(() => new Echo()));
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    workload(reactor, reactor, "127.0.0.1", port.getHost().port, resolve);
  });
  const wall = (performance.now() - t0) / 1000;
  await port.stopListening();
  return wall;
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2);
}

console.log(`sim-bench: node ${process.version}, ${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}`);
console.log(`workload: ${CONNECTIONS} connections x ${ROUNDS} ping-pongs of ${MESSAGE.length} bytes, 1 ms one-way latency`);

for (const [label, options] of [
  ["whole writes", { chunking: wholeWrites() }],
  ["seeded random chunking", {}],
] as const) {
  simRun(options); // warm-up
  // The machine may be shared: take the best of REPEATS runs (all give the same trace hash).
  const runs = Array.from({ length: REPEATS }, () => simRun(options)).sort((x, y) => x.wall - y.wall);
  const { wall, net, finished } = runs[0]!;
  const median = runs[Math.floor(REPEATS / 2)]!.wall;
  if (new Set(runs.map((r) => r.net.traceHash())).size !== 1) console.log("  TRACE HASHES DIFFER BETWEEN REPEATS");
  const s = net.stats;
  const counted = s.timersFired + s.chunksDelivered;
  console.log(`\nSimNetwork.runSync, ${label}${finished ? "" : " (DID NOT FINISH)"}`);
  console.log(`  wall ${fmt(wall * 1000)} ms (best of ${REPEATS}; median ${fmt(median * 1000)} ms), simulated ${fmt(net.now())} ms`);
  console.log(`  timers fired + chunks delivered: ${counted.toLocaleString("en-US")} -> ${fmt(counted / wall)} events/s`);
  console.log(`  all events (incl. SYN/boot/FIN packets): ${s.events.toLocaleString("en-US")} -> ${fmt(s.events / wall)} events/s`);
  console.log(`  simulated seconds per wall second: ${fmt(net.now() / 1000 / wall)}`);
  if (label === "whole writes") (globalThis as { simWall?: number }).simWall = wall;
}

{
  // The async loop, for code that awaits (drain "auto" costs nothing for callback code).
  const { wall, net } = await asyncRun({});
  console.log(`\nSimNetwork.runUntilIdle (async loop), whole writes: ${fmt((net.stats.timersFired + net.stats.chunksDelivered) / wall)} events/s (wall ${fmt(wall * 1000)} ms)`);
}

/** The async loop's run (for code that awaits): wall seconds and the network. */
async function asyncRun(options: SimNetworkOptions): Promise<{ wall: number; net: SimNetwork }> {
  const net = new SimNetwork({ trace: "hash", maxSteps: 100_000_000, chunking: wholeWrites(), ...options });
  const server = net.host("10.0.0.1");
  server.listen("tcp:7", Factory.forProtocol(() => new Echo())).addErrback(() => undefined);
  workload(server, net.host("10.0.0.2"), "10.0.0.1", 7, () => undefined);
  const t0 = performance.now();
  await net.runUntilIdle();
  return { wall: (performance.now() - t0) / 1000, net };
}

{
  const GUARD_REPEATS = 9;
  const walls = { syncOn: [] as number[], syncOff: [] as number[], asyncOn: [] as number[], asyncOff: [] as number[] };
  let events = 0;
  let asyncEvents = 0;
  for (let i = 0; i < GUARD_REPEATS; i++) {
    // Interleaved, so a disturbance of the shared machine spreads over both.
    const on = simRun({ chunking: wholeWrites() });
    const off = simRun({ chunking: wholeWrites(), nondeterminism: "off" });
    walls.syncOn.push(on.wall);
    walls.syncOff.push(off.wall);
    events = on.net.stats.events;
    const aOn = await asyncRun({});
    const aOff = await asyncRun({ nondeterminism: "off" });
    walls.asyncOn.push(aOn.wall);
    walls.asyncOff.push(aOff.wall);
    asyncEvents = aOn.net.stats.events;
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const best = (xs: number[]): number => Math.min(...xs);
  console.log(`\nnondeterminism guard cost (${GUARD_REPEATS} interleaved runs each, whole writes, all events):`);
  for (const [label, on, off, n] of [
    ["runSync", walls.syncOn, walls.syncOff, events],
    ["runUntilIdle", walls.asyncOn, walls.asyncOff, asyncEvents],
  ] as const) {
    console.log(
      `  ${label}: median guard on ${fmt(n / med(on))} events/s, off ${fmt(n / med(off))}: costs ${((med(on) / med(off) - 1) * 100).toFixed(1)}%; best on ${fmt(n / best(on))}, off ${fmt(n / best(off))}: ${((best(on) / best(off) - 1) * 100).toFixed(1)}%`,
    );
  }
  // What the guard adds to a run that uses no guarded API is its install and removal: timed
  // directly, it is a figure the machine's noise does not swamp.
  const guard = new NondeterminismGuard();
  const PAIRS = 2000;
  let t0 = performance.now();
  for (let i = 0; i < PAIRS; i++) guard.runSync(() => undefined);
  const backToBack = ((performance.now() - t0) * 1000) / PAIRS;
  t0 = performance.now();
  for (let i = 0; i < PAIRS / 10; i++) {
    guard.runSync(() => undefined);
    await drainMicrotasks(); // lets the builtin modules' exports be restored (and re-synced next time)
  }
  const apart = ((performance.now() - t0) * 1000) / (PAIRS / 10);
  const runMs = med(walls.syncOn) * 1000;
  console.log(
    `  install + removal per run: ${fmt(backToBack)} µs back to back, ${fmt(apart)} µs with a macrotask between runs; against this ${fmt(runMs)} ms run: ${((apart / 1000 / runMs) * 100).toFixed(3)}%`,
  );
}

const realWall = await realRun();
const simWall = (globalThis as { simWall?: number }).simWall ?? NaN;
console.log(`\nNodeReactor on real loopback sockets (same process, same protocol code): wall ${fmt(realWall * 1000)} ms`);
console.log(`  SimNetwork is ${fmt(realWall / simWall)}x faster in wall time (while simulating 1 ms latency each way)`);

{
  let same = 0;
  const distinct = new Set<string>();
  const t0 = performance.now();
  for (let seed = 0; seed < 100; seed++) {
    const hashes: string[] = [];
    for (let run = 0; run < 2; run++) {
      const net = new SimNetwork({ seed, trace: "hash", latency: uniformLatency(0.5, 2), shuffleTies: seed % 2 === 1 });
      const server = net.host("10.0.0.1");
      server.listen("tcp:7", Factory.forProtocol(() => new Echo())).addErrback(() => undefined);
      const client = net.host("10.0.0.2");
      const factory = Factory.forProtocol(() => new PingPong(() => undefined));
      for (let i = 0; i < 20; i++) client.connect("tcp:10.0.0.1:7", factory).addErrback(() => undefined);
      net.runSync();
      hashes.push(net.traceHash());
    }
    if (hashes[0] === hashes[1]) same++;
    distinct.add(hashes[0]!);
  }
  console.log(`\ndeterminism: ${same}/100 seeds gave identical trace hashes on two runs (${distinct.size} distinct hashes; ${fmt(performance.now() - t0)} ms)`);
}
