/**
 * The load worker: a child process that runs one share of a run's load and reports what it
 * measured. Run as a child process (not a worker thread) so that its CPU time, read with
 * `process.cpuUsage()`, is its own and honest, and so that its descriptors count against its
 * own limit.
 *
 * The parent (`load-pool.ts`) drives it over IPC, one phase at a time:
 * `init` (import the scenario module, build this worker's share of the load, connect) → `connected`; `start` (send, warm-up) → `started`;
 * `measure` (window opens); `stop` (window closes, sending stops) → `sample`; `close` →
 * `closed`. A worker can run several `init`…`close` cycles; `exit` ends it.
 *
 * @module
 */

import { performance } from "node:perf_hooks";
import { ClientLoad } from "../client-load.js";
import { importScenario } from "../load-scenario.js";
import type { WorkloadContext, WorkloadInstance } from "../scenario.js";
import { AutocannonWorkload } from "./autocannon-workload.js";
import { LoadRecorder } from "./load-recorder.js";
import type { WorkerCounts } from "./load-recorder.js";

/**
 * Which load a worker makes: the scenario's client workload, its lean generator, or autocannon
 * (HTTP scenarios).
 */
export type LoadKind = "client" | "generator" | "autocannon";

/** The `init` message: which scenario and load, and this worker's share. */
export interface WorkerInit {
  readonly type: "init";
  /** The scenario module's URL. */
  readonly scenarioUrl: string;
  /** The scenario's name in it. */
  readonly scenario: string;
  readonly load: LoadKind;
  readonly context: Omit<WorkloadContext, "recorder">;
}

/** The `sample` reply: one worker's figures for one measured window. */
export interface WorkerSample extends WorkerCounts {
  readonly type: "sample";
  /** CPU (user + system) this process used in the window, in µs. */
  readonly cpuUs: number;
  /** The window's wall time as this worker saw it, in ms. */
  readonly wallMs: number;
  /** The workload's extra figures. */
  readonly extra: Readonly<Record<string, number>>;
}

interface Message {
  readonly type: string;
}

let workload: WorkloadInstance | null = null;
let recorder = new LoadRecorder();
let windowStart = 0;
let cpuStart: NodeJS.CpuUsage = process.cpuUsage();
let windowCpuUs = 0;
let windowMs = 0;

function send(message: object): Promise<void> {
  return new Promise((resolve) => {
    process.send!(message, undefined, undefined, () => {
      resolve();
    });
  });
}

async function init(message: WorkerInit): Promise<void> {
  recorder = new LoadRecorder();
  const context: WorkloadContext = { ...message.context, recorder };
  const scenario = await importScenario(message.scenarioUrl, message.scenario);
  switch (message.load) {
    case "autocannon":
      if (scenario.autocannon === undefined) throw new Error(`${scenario.name} has no autocannon target`);
      workload = new AutocannonWorkload(context, scenario.autocannon);
      break;
    case "generator":
      if (scenario.generator === undefined) throw new Error(`${scenario.name} has no generator`);
      workload = scenario.generator(context);
      break;
    case "client":
      workload = new ClientLoad(scenario.client, scenario.kind, context);
  }
  const open = await workload.connect();
  await send({ type: "connected", open });
}

async function handle(message: Message): Promise<void> {
  switch (message.type) {
    case "init":
      await init(message as WorkerInit);
      return;
    case "start":
      workload!.start();
      await send({ type: "started" });
      return;
    case "measure":
      recorder.begin();
      cpuStart = process.cpuUsage();
      windowStart = performance.now();
      return;
    case "stop": {
      recorder.end();
      const cpu = process.cpuUsage(cpuStart);
      windowCpuUs = cpu.user + cpu.system;
      windowMs = performance.now() - windowStart;
      await workload!.stop();
      if (workload!.finalCheck !== undefined) {
        recorder.resume();
        await workload!.finalCheck();
        recorder.end();
      }
      const sample: WorkerSample = { type: "sample", ...recorder.counts(), cpuUs: windowCpuUs, wallMs: windowMs, extra: workload!.extra?.() ?? {} };
      await send(sample);
      return;
    }
    case "close":
      await workload?.close();
      workload = null;
      await send({ type: "closed" });
      return;
    case "exit":
      process.disconnect();
      process.exit(0);
  }
}

// Messages are handled one at a time, in order.
let queue: Promise<void> = Promise.resolve();
process.on("message", (message: Message) => {
  queue = queue
    .then(() => handle(message))
    .catch(async (error: unknown) => {
      await send({ type: "fatal", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    });
});
process.on("disconnect", () => {
  process.exit(0);
});
