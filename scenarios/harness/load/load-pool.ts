/**
 * `LoadPool`: the runner's load workers (child processes running `load-worker.ts`), and the
 * split of a point's connections and rate among them.
 *
 * @module
 */

import type { ChildProcess } from "node:child_process";
import { IpcChannel } from "../ipc-channel.js";
import type { WorkerWindow } from "../point.js";
import type { WorkloadContext } from "../scenario.js";
import { harnessModule, spawnNode } from "../spawn-node.js";
import type { LoadKind, WorkerInit, WorkerSample } from "./load-worker.js";

/** How long connecting a worker's share may take, ms. */
export const CONNECT_TIMEOUT_MS = 60_000;

/**
 * Splits `total` into `parts` shares that differ by at most one, larger first.
 * @param total - what to split.
 * @param parts - how many shares.
 * @returns the shares.
 */
export function splitEvenly(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  const extra = total % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

/** What one series (a style at a connection count) asks of the workers. */
export interface SeriesLoad {
  /** The scenario module's URL. */
  readonly scenarioUrl: string;
  /** The scenario's name. */
  readonly scenario: string;
  /** Which load. */
  readonly load: LoadKind;
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  /** Total open-loop rate, ops/s; absent for closed loop. */
  readonly rate?: number;
  readonly timeoutMs: number;
  readonly sourceAddresses: readonly string[];
}

/** A pool of load worker processes, reused from series to series. */
export class LoadPool {
  private readonly workers: IpcChannel[] = [];
  private active: IpcChannel[] = [];

  /**
   * @param size - the most workers a series uses.
   * @param nodeFlags - extra Node flags for the workers (profiling).
   * @param cpus - CPUs to pin the workers to (`taskset -c` syntax); absent: anywhere.
   */
  constructor(
    readonly size: number,
    private readonly nodeFlags: readonly string[] = [],
    private readonly cpus?: string,
  ) {}

  private worker(i: number): IpcChannel {
    let w = this.workers[i];
    if (w === undefined) {
      const child: ChildProcess = spawnNode(harnessModule("load/load-worker"), { nodeFlags: this.nodeFlags, ...(this.cpus === undefined ? {} : { cpus: this.cpus }) });
      w = new IpcChannel(child, `load worker ${i}`);
      this.workers[i] = w;
    }
    return w;
  }

  /**
   * Gives each worker its share and has it connect.
   * @param load - the series.
   * @returns connections open, over all workers.
   * @throws (rejects) BenchChildError (`WL_ERR_BENCH_CHILD`) when a worker fails.
   */
  async init(load: SeriesLoad): Promise<number> {
    const count = Math.max(1, Math.min(this.size, load.connections));
    const shares = splitEvenly(load.connections, count);
    this.active = shares.map((_, i) => this.worker(i));
    const replies = await Promise.all(
      this.active.map((w, i) => {
        const share = shares[i]!;
        const context: Omit<WorkloadContext, "recorder"> = {
          host: load.host,
          port: load.port,
          connections: share,
          totalConnections: load.connections,
          workerIndex: i,
          workerCount: count,
          timeoutMs: load.timeoutMs,
          sourceAddresses: load.sourceAddresses,
          ...(load.rate === undefined ? {} : { rate: (load.rate * share) / load.connections }),
        };
        const init: WorkerInit = { type: "init", scenarioUrl: load.scenarioUrl, scenario: load.scenario, load: load.load, context };
        return w.request(init as unknown as { type: string }, "connected");
      }),
    );
    return replies.reduce((sum, r) => sum + Number(r["open"]), 0);
  }

  /** Starts sending on every worker (the warm-up begins). */
  async start(): Promise<void> {
    await Promise.all(this.active.map((w) => w.request({ type: "start" }, "started")));
  }

  /** Opens the measured window on every worker. */
  measure(): void {
    for (const w of this.active) w.send({ type: "measure" });
  }

  /**
   * Closes the window and stops sending; collects each worker's figures.
   * @returns one window per worker.
   */
  async stop(): Promise<WorkerWindow[]> {
    const replies = await Promise.all(this.active.map((w) => w.request({ type: "stop" }, "sample")));
    return replies.map((r) => {
      const { type: _type, ...window } = r as unknown as WorkerSample;
      return window;
    });
  }

  /** Closes every worker's connections. */
  async close(): Promise<void> {
    await Promise.all(this.active.map((w) => w.request({ type: "close" }, "closed")));
    this.active = [];
  }

  /** Ends every worker process. */
  async shutdown(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null || w.child.signalCode !== null) {
              resolve();
              return;
            }
            w.child.once("exit", () => resolve());
            w.send({ type: "exit" });
            setTimeout(() => w.child.kill("SIGKILL"), 3000).unref();
          }),
      ),
    );
    this.workers.length = 0;
  }
}
