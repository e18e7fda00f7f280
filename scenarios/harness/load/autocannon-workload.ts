/**
 * `AutocannonWorkload`: HTTP load from autocannon (used as a library, in a load worker), with
 * its per-response events recorded into the worker's {@link Recorder} so that its figures come
 * from the same measured window as every other load generator's.
 *
 * autocannon reports each response's latency in milliseconds (from `process.hrtime`); it is
 * recorded in µs. Bodies are not checked (autocannon's `expectBody` reports a mismatch only
 * after counting the response); a non-2xx status counts as a mismatch.
 *
 * @module
 */

import { createRequire } from "node:module";
import type { EventEmitter } from "node:events";
import type { AutocannonTarget, WorkloadContext, WorkloadInstance } from "../scenario.js";

/** Seconds an autocannon run is told to last; the worker stops it long before. */
const OPEN_ENDED_DURATION_S = 24 * 3600;

interface AutocannonOptions {
  url: string;
  connections: number;
  pipelining: number;
  duration: number;
  timeout: number;
}

interface AutocannonInstance extends EventEmitter {
  stop(): void;
}

type AutocannonFn = (options: AutocannonOptions, done: (error: Error | null, result: unknown) => void) => AutocannonInstance;

/** A workload whose load is made by autocannon. */
export class AutocannonWorkload implements WorkloadInstance {
  private instance: AutocannonInstance | null = null;
  private done: Promise<void> | null = null;

  /**
   * @param context - the worker's share of the run (open-loop rates are not supported).
   * @param target - the request path.
   */
  constructor(
    private readonly context: WorkloadContext,
    private readonly target: AutocannonTarget,
  ) {}

  /** autocannon connects when started: the connections open during the warm-up. */
  connect(): Promise<number> {
    return Promise.resolve(this.context.connections);
  }

  start(): void {
    const require = createRequire(import.meta.url);
    const autocannon = require("autocannon") as AutocannonFn;
    const { host, port, connections, timeoutMs, recorder } = this.context;
    this.done = new Promise((resolve) => {
      this.instance = autocannon(
        {
          url: `http://${host}:${port}${this.target.path}`,
          connections,
          pipelining: 1,
          duration: OPEN_ENDED_DURATION_S,
          timeout: Math.max(1, Math.ceil(timeoutMs / 1000)),
        },
        () => {
          resolve();
        },
      );
    });
    const instance = this.instance!;
    instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      if (statusCode >= 200 && statusCode < 300) recorder.success(responseTimeMs * 1000);
      else recorder.mismatch();
    });
    instance.on("reqError", (error: Error) => {
      if (error.message.includes("timed out")) recorder.timeout();
      else recorder.error();
    });
  }

  async stop(): Promise<void> {
    this.instance?.stop();
    await this.done;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
