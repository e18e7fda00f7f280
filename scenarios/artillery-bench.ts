/**
 * Benchmarks of the wirelab engine for Artillery (a script that prints numbers, not a test):
 *
 * - `hold [CONNECTIONS] [PROCESSES] [RAMP_S] [HOLD_S]`: one wirelab server (`wirelab serve
 *   idle-hold --style callback`) loaded by PROCESSES Artillery processes at once, each opening
 *   its share of CONNECTIONS over RAMP_S seconds and holding each connection HOLD_S seconds, then
 *   probing it. Prints the server's peak open sockets (sampled from /proc), the probes answered
 *   (connections held to the end) and the failures, from the Artillery outputs merged as
 *   `wirelab report` merges them.
 * - `overhead [CONNECTIONS] [SECONDS] [ROUNDS]`: operations per second on tcp-echo (callback
 *   style, pinned to CPU 0) from one core (CPU 1) of load: Artillery with the engine against
 *   `wirelab bench --load client --workers 1`, interleaved ROUNDS times; medians and their ratio,
 *   and the load's CPU per operation (Artillery's whole process from its first counter to its
 *   last, sampled from /proc; the bench's load worker over its window), which a busy server
 *   does not blur as it does ops/s.
 *
 * Needs `npm run build` (Artillery loads the compiled engine) and Artillery in `test/artillery`
 * (`cd test/artillery && npm ci`), or ARTILLERY=/path/to/bin/artillery. Run it alone:
 * `flock /tmp/wirelab-bench.lock npx tsx scenarios/artillery-bench.ts hold 19950 4`.
 *
 * @module
 */

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { artilleryResults } from "../reports/artillery-results.js";
import type { Results } from "../reports/results.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const BIN = path.join(ROOT, "dist", "scenarios", "harness", "bin.js");
const ARTILLERY = process.env["ARTILLERY"] ?? path.join(ROOT, "test", "artillery", "node_modules", ".bin", "artillery");
const NODE_PATH = path.join(ROOT, "scenarios", "artillery");
const WORK = mkdtempSync(path.join(os.tmpdir(), "wirelab-artillery-bench-"));

function pinned(cpu: number | undefined, command: string[]): string[] {
  return cpu === undefined || os.cpus().length < 2 ? command : ["taskset", "-c", String(cpu), ...command];
}

/** CPU time (user + system, all threads) of a process so far, in µs; undefined once it is gone. */
function cpuUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** A child's CPU time, sampled every 100 ms: [epoch ms, µs]. */
type CpuSamples = [number, number][];

function exec(command: string[], limitMs: number): Promise<{ code: number | null; output: string; cpu: CpuSamples }> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: WORK, env: { ...process.env, NODE_PATH, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const cpu: CpuSamples = [];
    const sampler = setInterval(() => {
      const us = cpuUs(child.pid!);
      if (us !== undefined) cpu.push([Date.now(), us]);
    }, 100);
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), limitMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      clearInterval(sampler);
      resolve({ code, output, cpu });
    });
  });
}

/** CPU µs a child used between two instants (the samples nearest them). */
function cpuBetween(samples: CpuSamples, from: number, to: number): number {
  const at = (t: number): number => samples.reduce((best, s) => (Math.abs(s[0] - t) < Math.abs(best[0] - t) ? s : best), samples[0]!)[1];
  return at(to) - at(from);
}

async function serve(scenario: string, cpu: number | undefined): Promise<{ server: ChildProcess; port: number }> {
  const command = pinned(cpu, [process.execPath, BIN, "serve", scenario, "--style", "callback", "--port", "0"]);
  const server = spawn(command[0]!, command.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = "";
    server.stdout.on("data", (d: Buffer) => {
      text += d.toString();
      const m = /listening on (\d+)/.exec(text);
      if (m !== null) resolve(Number(m[1]));
    });
    server.once("exit", (code) => reject(new Error(`wirelab serve exited with ${String(code)}`)));
  });
  return { server, port };
}

/** Open sockets of a process, from /proc. */
function sockets(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) n++;
    } catch {
      // Closed while we looked.
    }
  }
  return n;
}

/** Runs Artillery on a script object; its output file, and its CPU from the first counter to the last. */
async function artillery(name: string, script: object, cpu?: number): Promise<string> {
  return (await artilleryWithCpu(name, script, cpu)).out;
}

async function artilleryWithCpu(name: string, script: object, cpu?: number): Promise<{ out: string; cpuUs: number }> {
  const file = path.join(WORK, `${name}.json`);
  const out = path.join(WORK, `${name}.out.json`);
  writeFileSync(file, JSON.stringify(script));
  const r = await exec(pinned(cpu, [ARTILLERY, "run", file, "--output", out]), 600_000);
  if (r.code !== 0 || !existsSync(out)) throw new Error(`artillery ${name} exited with ${String(r.code)}:\n${r.output.slice(-3000)}`);
  const aggregate = (JSON.parse(readFileSync(out, "utf8")) as { aggregate: { firstCounterAt: number; lastCounterAt: number } }).aggregate;
  return { out, cpuUs: cpuBetween(r.cpu, aggregate.firstCounterAt, aggregate.lastCounterAt) };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function hold(connections: number, processes: number, rampS: number, holdS: number): Promise<void> {
  const { server, port } = await serve("idle-hold", undefined);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, sockets(server.pid!))), 250);
  const started = Date.now();
  try {
    const share = (i: number): number => Math.floor(connections / processes) + (i < connections % processes ? 1 : 0);
    const outs = await Promise.all(
      Array.from({ length: processes }, (_, i) =>
        artillery(`hold-${i}`, {
          config: { target: `tcp://127.0.0.1:${port}`, phases: [{ duration: rampS, arrivalCount: share(i) }], engines: { wirelab: { scenario: "idle-hold", duration: `${holdS}s`, timeout: "30s" } } },
          scenarios: [{ engine: "wirelab" }],
        }),
      ),
    );
    const merged = artilleryResults(outs.map((o) => ({ json: JSON.parse(readFileSync(o, "utf8")) as unknown, source: o })));
    const p = merged.points[0]!;
    console.log(`hold: ${connections} connections asked from ${processes} Artillery processes (ramp ${rampS} s, hold ${holdS} s), ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`  server peak open sockets (from /proc, listening socket included): ${peak}`);
    console.log(`  connections opened: ${p.connections}; held to the end (probes answered): ${p.operations}; errors ${p.errors}, timeouts ${p.timeouts}, mismatches ${p.mismatches}; virtual users failed ${String(p.extra?.["virtualUsersFailed"])} of ${String(p.extra?.["virtualUsers"])}`);
  } finally {
    clearInterval(sampler);
    server.kill("SIGTERM");
  }
}

async function overhead(connections: number, seconds: number, rounds: number): Promise<void> {
  const { server, port } = await serve("tcp-echo", 0);
  const engine: number[] = [];
  const client: number[] = [];
  const engineCpu: number[] = [];
  const clientCpu: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const { out, cpuUs: used } = await artilleryWithCpu(`overhead-${r}`, {
        config: { target: `tcp://127.0.0.1:${port}`, phases: [{ duration: 1, arrivalCount: connections }], engines: { wirelab: { scenario: "tcp-echo", duration: `${seconds}s` } } },
        scenarios: [{ engine: "wirelab" }],
      }, 1);
      const p = artilleryResults([{ json: JSON.parse(readFileSync(out, "utf8")) as unknown, source: out }]).points[0]!;
      engine.push(p.throughput);
      engineCpu.push(used / p.operations);
      const dir = path.join(WORK, `bench-${r}`);
      const b = await exec([process.execPath, BIN, "bench", "tcp-echo", "--target", `127.0.0.1:${port}`, "--load", "client", "--workers", "1", "--connections", String(connections), "--duration", `${seconds}s`, "--warmup", "1s", "--repeat", "1", "--no-report", "--out", dir], 600_000);
      if (b.code !== 0) throw new Error(`wirelab bench exited with ${String(b.code)}:\n${b.output.slice(-3000)}`);
      const bp = (JSON.parse(readFileSync(path.join(dir, "results.json"), "utf8")) as Results).points[0]!;
      client.push(bp.throughput);
      clientCpu.push((bp.clientCpuPercent / 100) * bp.durationMs * 1000 / bp.operations);
      console.log(
        `  round ${r + 1}: Artillery engine ${Math.round(p.throughput)} ops/s, ${engineCpu[r]!.toFixed(1)} µs of load CPU per op (errors ${p.errors}, p50 ${p.latencyUs.p50} µs); ` +
          `wirelab bench --load client ${Math.round(bp.throughput)} ops/s, ${clientCpu[r]!.toFixed(1)} µs per op (errors ${bp.errors}, load CPU ${bp.clientCpuPercent.toFixed(0)}%, p50 ${bp.latencyUs.p50} µs)`,
      );
    }
    console.log(`overhead: tcp-echo, ${connections} connections, ${seconds} s, one core of load, ${rounds} interleaved rounds`);
    console.log(`  median ops/s: Artillery engine ${Math.round(median(engine))}, wirelab bench --load client ${Math.round(median(client))}; engine / bench = ${(median(engine) / median(client)).toFixed(2)}`);
    console.log(`  median load CPU per op: Artillery engine ${median(engineCpu).toFixed(1)} µs (the whole Artillery process), wirelab bench --load client ${median(clientCpu).toFixed(1)} µs; engine / bench = ${(median(engineCpu) / median(clientCpu)).toFixed(2)}`);
  } finally {
    server.kill("SIGTERM");
  }
}

async function main(): Promise<void> {
  if (!existsSync(path.join(ROOT, "dist", "scenarios", "harness", "artillery-engine.js"))) throw new Error("dist/ is missing: npm run build first (Artillery loads the compiled engine)");
  if (!existsSync(ARTILLERY)) throw new Error(`${ARTILLERY} is missing: cd test/artillery && npm ci (or set ARTILLERY)`);
  const [what, ...args] = process.argv.slice(2);
  const n = (i: number, fallback: number): number => (args[i] === undefined ? fallback : Number(args[i]));
  if (what === "hold") await hold(n(0, 19_950), n(1, 4), n(2, 10), n(3, 20));
  else if (what === "overhead") await overhead(n(0, 100), n(1, 5), n(2, 3));
  else throw new Error("usage: artillery-bench.ts hold [CONNECTIONS] [PROCESSES] [RAMP_S] [HOLD_S] | overhead [CONNECTIONS] [SECONDS] [ROUNDS]");
}

main().then(
  () => rmSync(WORK, { recursive: true, force: true }),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    rmSync(WORK, { recursive: true, force: true });
    process.exitCode = 1;
  },
);
