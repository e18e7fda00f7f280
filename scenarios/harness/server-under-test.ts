/**
 * The "start server" stage of a point: the runner's handle on the server under test, whichever
 * way it runs:
 *
 * - a wirelab or Node style in the server child (`server-process.ts`): CPU and RSS from the
 *   process, event-loop utilization and GC over IPC;
 * - a command style (the Twisted and Tornado peers, any program that prints `listening on PORT`);
 * - an outside server (`--target HOST:PORT`): not started or stopped here; its CPU and memory
 *   come from `--server-pid` when given, and are unknown (null) otherwise.
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import * as net from "node:net";
import { createInterface } from "node:readline";
import { BenchChildError, InvalidOptionError } from "../../runtime/errors.js";
import { IpcChannel } from "./ipc-channel.js";
import type { ServerWindowEnd } from "./point.js";
import { forgetProcesses, sampleProcess } from "./proc-stats.js";
import type { CommandStyle } from "./scenario.js";
import type { ServerSample } from "./server-process.js";
import { harnessModule, spawnNode } from "./spawn-node.js";

/** How long a server may take to start listening, ms. */
export const SERVER_START_TIMEOUT_MS = 20_000;
/** How long a server may take to stop before it is killed, ms. */
export const SERVER_STOP_TIMEOUT_MS = 5_000;
/** How long `--target` may take to accept the probe connection, ms. */
export const TARGET_PROBE_TIMEOUT_MS = 3_000;

/** Options for starting a server child. */
export interface ServerChildOptions {
  /** Address to listen on. */
  readonly host: string;
  /** Extra Node flags for Node children (e.g. `--cpu-prof`, `--cpu-prof-dir=DIR`). */
  readonly nodeFlags?: readonly string[];
  /** CPUs to pin the server to (`taskset -c` syntax); absent: anywhere. */
  readonly cpus?: string;
}

/** Memory after a collection. */
export interface MemorySample {
  /** RSS; null: unknown. */
  readonly rssBytes: number | null;
  /** The JS heap in use (Node servers); null otherwise. */
  readonly heapUsedBytes: number | null;
}

/** A server under test, however it runs. */
export interface ServerUnderTest {
  /** What to call it in messages, e.g. `tcp-echo/callback`. */
  readonly name: string;
  /** The address load connects to. */
  readonly host: string;
  /** The port it listens on. */
  readonly port: number;
  /** Whether it reports event-loop utilization and can be asked to collect garbage. */
  readonly isNode: boolean;
  /** Samples CPU and RSS (and the event loop, for Node servers). */
  sample(): Promise<ServerWindowEnd>;
  /** Collects garbage where it can and samples memory. */
  memoryAfterGc(): Promise<MemorySample>;
  /** Stops it (a no-op for an outside server). */
  stop(): Promise<void>;
}

/**
 * Why a command style cannot run here, or null when it can.
 * @param style - the style.
 * @returns a message for the user, or null.
 */
export function commandUnavailable(style: CommandStyle): string | null {
  const check = style.check;
  if (check === undefined) return null;
  const r = spawnSync(check[0]!, check.slice(1), { encoding: "utf8", timeout: 10_000 });
  if (r.error !== undefined) return `${check[0]!} cannot run (${r.error.message})`;
  if (r.status !== 0) return `\`${check.join(" ")}\` failed${r.stderr.trim() === "" ? "" : `: ${r.stderr.trim().split("\n").at(-1) ?? ""}`}`;
  return null;
}

/**
 * The version of a command style's program, for the provenance.
 * @param style - the style.
 * @returns e.g. `22.4.0`, or `unknown`.
 */
export function commandVersion(style: CommandStyle): string {
  const v = style.version;
  if (v === undefined) return "unknown";
  const r = spawnSync(v[0]!, v.slice(1), { encoding: "utf8", timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim() : "unknown";
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new BenchChildError(what, `no answer within ${ms} ms`));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), SERVER_STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

async function sampleOrUnknown(pid: number | undefined): Promise<ServerWindowEnd> {
  const s = pid === undefined ? null : await sampleProcess(pid);
  return { cpuUs: s?.cpuUs ?? null, rssBytes: s?.rssBytes ?? null };
}

/** A wirelab or Node style, in the server child. */
class NodeChildServer implements ServerUnderTest {
  readonly isNode = true;

  constructor(
    private readonly child: ChildProcess,
    private readonly ipc: IpcChannel,
    readonly name: string,
    readonly host: string,
    readonly port: number,
  ) {}

  async sample(): Promise<ServerWindowEnd> {
    const proc = await sampleOrUnknown(this.child.pid);
    const s = (await withTimeout(this.ipc.request({ type: "sample" }, "sample"), SERVER_START_TIMEOUT_MS, `server ${this.name}`)) as unknown as ServerSample;
    // The child's own process.cpuUsage() (getrusage, µs) rather than /proc's utime + stime,
    // which count whole clock ticks (10 ms): over a 500 ms window a tick is 2% of the figure,
    // too coarse for a verdict or a gate that must see 5%.
    return { ...proc, cpuUs: s.cpu.user + s.cpu.system, elu: s.elu };
  }

  async memoryAfterGc(): Promise<MemorySample> {
    const s = (await withTimeout(this.ipc.request({ type: "gc" }, "memory"), SERVER_START_TIMEOUT_MS, `server ${this.name}`)) as unknown as ServerSample;
    return { rssBytes: (await sampleOrUnknown(this.child.pid)).rssBytes, heapUsedBytes: s.memory.heapUsed };
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    forgetProcesses();
  }
}

/** A command style's program. */
class CommandServer implements ServerUnderTest {
  readonly isNode = false;

  constructor(
    private readonly child: ChildProcess,
    readonly name: string,
    readonly host: string,
    readonly port: number,
  ) {}

  sample(): Promise<ServerWindowEnd> {
    return sampleOrUnknown(this.child.pid);
  }

  async memoryAfterGc(): Promise<MemorySample> {
    return { rssBytes: (await sampleOrUnknown(this.child.pid)).rssBytes, heapUsedBytes: null };
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    forgetProcesses();
  }
}

/** A server the harness did not start (`--target`). */
class TargetServer implements ServerUnderTest {
  readonly isNode = false;

  constructor(
    readonly name: string,
    readonly host: string,
    readonly port: number,
    private readonly pid: number | undefined,
  ) {}

  sample(): Promise<ServerWindowEnd> {
    return sampleOrUnknown(this.pid);
  }

  async memoryAfterGc(): Promise<MemorySample> {
    return { rssBytes: (await sampleOrUnknown(this.pid)).rssBytes, heapUsedBytes: null };
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Starts a wirelab or Node style in its own process.
 * @param name - e.g. `tcp-echo/callback`.
 * @param scenarioUrl - the scenario module's URL.
 * @param scenario - the scenario's name.
 * @param style - the style's name.
 * @param options - address and flags.
 * @returns the server, listening.
 * @throws (rejects) BenchChildError (`WL_ERR_BENCH_CHILD`) when it does not start, with the style's error.
 */
export async function startServerChild(name: string, scenarioUrl: string, scenario: string, style: string, options: ServerChildOptions): Promise<ServerUnderTest> {
  const what = `server ${name}`;
  const child = spawnNode(harnessModule("server-process"), {
    nodeFlags: ["--expose-gc", ...(options.nodeFlags ?? [])],
    args: [scenarioUrl, scenario, style, options.host, "0"],
    ...(options.cpus === undefined ? {} : { cpus: options.cpus }),
  });
  const ipc = new IpcChannel(child, what);
  try {
    const listening = await withTimeout(ipc.waitFor("listening"), SERVER_START_TIMEOUT_MS, what);
    return new NodeChildServer(child, ipc, name, options.host, Number(listening["port"]));
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
}

/**
 * Starts a command style.
 * @param name - e.g. `tcp-echo/twisted`.
 * @param style - the style.
 * @param options - address and CPUs.
 * @returns the server, listening.
 * @throws (rejects) BenchChildError (`WL_ERR_BENCH_CHILD`) when it exits or says something else first.
 */
export async function startCommandServer(name: string, style: CommandStyle, options: ServerChildOptions): Promise<ServerUnderTest> {
  const what = `server ${name}`;
  const argv = style.command.map((a) => a.replaceAll("{host}", options.host).replaceAll("{port}", "0"));
  const full = options.cpus === undefined ? argv : ["taskset", "-c", options.cpus, ...argv];
  const child = spawn(full[0]!, full.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const first = new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => {
      reject(new BenchChildError(what, `exited with code ${String(code)} before listening`));
    });
    child.once("error", reject);
  });
  try {
    const line = await withTimeout(first, SERVER_START_TIMEOUT_MS, what);
    const m = /^listening on (\d+)$/.exec(line.trim());
    if (m === null) throw new BenchChildError(what, `first line was ${JSON.stringify(line)}, not "listening on PORT"`);
    // Keep reading (and dropping) its output so that a chatty peer never blocks on a full pipe.
    lines.on("line", () => {});
    return new CommandServer(child, name, options.host, Number(m[1]));
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
}

/** A server given with `--target`. */
export interface TargetSpec {
  /** The style name its points carry. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Its process, to read CPU and memory from (`--server-pid`). */
  readonly pid?: number;
}

/**
 * Checks that something listens at a target, and that its PID (if given) can be read.
 * @param target - the target.
 * @throws (rejects) InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming `--target` or `--server-pid`.
 */
export async function probeTarget(target: TargetSpec): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => fail(new Error(`no answer within ${TARGET_PROBE_TIMEOUT_MS} ms`)), TARGET_PROBE_TIMEOUT_MS);
    function fail(error: Error): void {
      clearTimeout(timer);
      socket.destroy();
      reject(new InvalidOptionError("--target", `nothing listens at ${target.host}:${target.port} (${(error as { code?: string }).code ?? error.message})`));
    }
    socket.once("error", fail);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
  });
  if (target.pid !== undefined && (await sampleProcess(target.pid)) === null) {
    throw new InvalidOptionError("--server-pid", `cannot read process ${target.pid} (no such process, or not ours to read)`);
  }
}

/**
 * A handle on a server the harness does not run.
 * @param target - where it is, and its PID if known.
 * @returns the handle.
 */
export function attachTarget(target: TargetSpec): ServerUnderTest {
  return new TargetServer(target.name, target.host, target.port, target.pid);
}
