/**
 * The server child: runs one server style of one scenario alone in its process, so that the
 * load never shares its event loop and its CPU and memory can be read from `/proc`.
 *
 * Run as `node server-process.js SCENARIO_URL SCENARIO STYLE HOST PORT` with an IPC channel
 * (see `spawn-node.ts`). It imports the scenario module, starts the style (a wirelab style on a
 * fresh `NodeReactor`, a Node style as it says), and sends `{type: "listening", port}`. Then, on
 * request: `sample` → its event-loop utilization, memory and CPU; `gc` → a full collection (when
 * run with `--expose-gc`), then its memory; `close` → stops the server and exits. SIGINT/SIGTERM
 * also stop it.
 *
 * @module
 */

import { performance } from "node:perf_hooks";
import { importScenario } from "./load-scenario.js";
import type { ServerHandle } from "./scenario.js";
import { startStyle } from "./start-style.js";

/** What the child reports on `sample` and `gc`. */
export interface ServerSample {
  readonly type: "sample" | "memory";
  /** `performance.eventLoopUtilization()`: cumulative idle and active ms. */
  readonly elu: { readonly idle: number; readonly active: number };
  /** `process.memoryUsage()`. */
  readonly memory: NodeJS.MemoryUsage;
  /** `process.cpuUsage()`, µs. */
  readonly cpu: NodeJS.CpuUsage;
  /** Whether a GC ran first (only with `--expose-gc`). */
  readonly collected: boolean;
}

function send(message: object): void {
  if (process.send !== undefined && process.connected) process.send(message);
}

function sample(type: "sample" | "memory", collected: boolean): ServerSample {
  const elu = performance.eventLoopUtilization();
  return { type, elu: { idle: elu.idle, active: elu.active }, memory: process.memoryUsage(), cpu: process.cpuUsage(), collected };
}

async function main(): Promise<void> {
  const [url, scenarioName, styleName, host, portText] = process.argv.slice(2);
  if (url === undefined || scenarioName === undefined || styleName === undefined || host === undefined || portText === undefined) {
    throw new Error("usage: server-process.js SCENARIO_URL SCENARIO STYLE HOST PORT");
  }
  const scenario = await importScenario(url, scenarioName);
  const style = scenario.styles.find((s) => s.name === styleName);
  if (style === undefined) throw new Error(`${scenarioName} has no style ${styleName}`);
  const server: ServerHandle = await startStyle(style, { host, port: Number(portText) });
  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await server.close();
    send({ type: "closed" });
    process.exit(0);
  };
  process.on("SIGINT", () => void close());
  process.on("SIGTERM", () => void close());
  process.on("disconnect", () => void close());
  process.on("message", (message: { type: string }) => {
    switch (message.type) {
      case "sample":
        send(sample("sample", false));
        return;
      case "gc": {
        const gc = (globalThis as { gc?: () => void }).gc;
        // Twice: the first pass can leave finalizable objects for the second.
        gc?.();
        gc?.();
        send(sample("memory", gc !== undefined));
        return;
      }
      case "close":
        void close();
        return;
    }
  });
  send({ type: "listening", port: server.port });
}

main().catch((error: unknown) => {
  // The message names the failure in the point; the stack is for the person reading stderr.
  send({ type: "fatal", message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  console.error(error);
  process.exit(1);
});
