/**
 * `ServerUnderTest`: the runner's handle on the server child: starts a style (a module in the
 * server child process, or a peer program), samples its CPU and memory from `/proc` and its
 * event loop over IPC, and stops it.
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { BenchChildError } from "../runtime/errors.js";
import { IpcChannel } from "./ipc-channel.js";
import type { ServerWindowEnd } from "./point.js";
import { sampleProc } from "./proc-stats.js";
import { DEFAULT_PEER_PYTHON } from "./scenario.js";
import type { PeerServerStyle, ServerStyle } from "./scenario.js";
import type { ServerSample } from "./server-process.js";
import { spawnNode } from "./spawn-node.js";

/** How long a server may take to start listening, ms. */
export const SERVER_START_TIMEOUT_MS = 20_000;
/** How long a server may take to stop before it is killed, ms. */
export const SERVER_STOP_TIMEOUT_MS = 5_000;

/** Options for starting a server child. */
export interface ServerChildOptions {
  /** Address to listen on. */
  readonly host: string;
  /** Extra Node flags for module styles (e.g. `--cpu-prof`, `--cpu-prof-dir=DIR`). */
  readonly nodeFlags?: readonly string[];
  /** CPUs to pin the server to (`taskset -c` syntax); absent: anywhere. */
  readonly cpus?: string;
}

/**
 * Why a peer style cannot run here, or null when it can.
 * @param style - the peer style.
 * @returns a message for the user, or null.
 */
export function peerUnavailable(style: PeerServerStyle): string | null {
  if (!existsSync(style.script)) return `${style.script} is missing`;
  const python = style.python ?? DEFAULT_PEER_PYTHON;
  const check = spawnSync(python, ["-c", `import ${style.requires}`], { encoding: "utf8", timeout: 10_000 });
  if (check.error !== undefined) return `${python} cannot run (${check.error.message})`;
  if (check.status !== 0) return `${python} has no ${style.requires} module`;
  return null;
}

/**
 * The version of a peer's Python package.
 * @param style - the peer style.
 * @returns e.g. `22.4.0`, or `unknown`.
 */
export function peerVersion(style: PeerServerStyle): string {
  const python = style.python ?? DEFAULT_PEER_PYTHON;
  const mod = style.requires;
  const r = spawnSync(python, ["-c", `import ${mod}; print(getattr(${mod}, "__version__", None) or getattr(${mod}, "version", "unknown"))`], {
    encoding: "utf8",
    timeout: 10_000,
  });
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

/** A running server under test. */
export class ServerUnderTest {
  private constructor(
    private readonly child: ChildProcess,
    private readonly ipc: IpcChannel | null,
    /** The port it listens on. */
    readonly port: number,
    /** What to call it in messages. */
    readonly name: string,
  ) {}

  /** Its process id (the one `/proc` is read for). */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Whether it reports event-loop utilization and can be asked to collect garbage (Node styles). */
  get isNode(): boolean {
    return this.ipc !== null;
  }

  /**
   * Starts a style's server in its own process.
   * @param name - e.g. `tcp-echo/callback`.
   * @param style - the style.
   * @param options - address and flags.
   * @returns the server, listening.
   * @throws (rejects) BenchChildError (`WL_ERR_BENCH_CHILD`) when it does not start.
   */
  static async start(name: string, style: ServerStyle, options: ServerChildOptions): Promise<ServerUnderTest> {
    const what = `server ${name}`;
    if (style.kind === "module") {
      const child = spawnNode(new URL("./server-process.ts", import.meta.url).href, {
        nodeFlags: ["--expose-gc", ...(options.nodeFlags ?? [])],
        args: [style.module, options.host, "0"],
        ...(options.cpus === undefined ? {} : { cpus: options.cpus }),
      });
      const ipc = new IpcChannel(child, what);
      try {
        const listening = await withTimeout(ipc.waitFor("listening"), SERVER_START_TIMEOUT_MS, what);
        return new ServerUnderTest(child, ipc, Number(listening["port"]), name);
      } catch (error) {
        child.kill("SIGKILL");
        throw error;
      }
    }
    const python = [style.python ?? DEFAULT_PEER_PYTHON, style.script, "--host", options.host, "--port", "0"];
    const argv = options.cpus === undefined ? python : ["taskset", "-c", options.cpus, ...python];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
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
      return new ServerUnderTest(child, null, Number(m[1]), name);
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    }
  }

  /**
   * Samples CPU and RSS from /proc, and the event loop over IPC (Node styles).
   * @returns the counters now.
   */
  async sample(): Promise<ServerWindowEnd> {
    const proc = sampleProc(this.pid);
    if (this.ipc === null) return proc;
    const s = (await withTimeout(this.ipc.request({ type: "sample" }, "sample"), SERVER_START_TIMEOUT_MS, `server ${this.name}`)) as unknown as ServerSample;
    return { ...proc, elu: s.elu };
  }

  /**
   * Collects garbage (Node styles; a no-op for peers) and samples memory.
   * @returns RSS from /proc, and the JS heap in use (Node styles; 0 for peers).
   */
  async memoryAfterGc(): Promise<{ rssBytes: number; heapUsedBytes: number }> {
    if (this.ipc === null) return { rssBytes: sampleProc(this.pid).rssBytes, heapUsedBytes: 0 };
    const s = (await withTimeout(this.ipc.request({ type: "gc" }, "memory"), SERVER_START_TIMEOUT_MS, `server ${this.name}`)) as unknown as ServerSample;
    return { rssBytes: sampleProc(this.pid).rssBytes, heapUsedBytes: s.memory.heapUsed };
  }

  /** Stops the server (SIGTERM, then SIGKILL after {@link SERVER_STOP_TIMEOUT_MS}). */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), SERVER_STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}
