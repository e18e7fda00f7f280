/**
 * `RequestWorkload`: the {@link WorkloadInstance} of request/response scenarios (tcp-echo,
 * http-hello): opens one {@link LoadClient} per connection and runs them closed-loop, or
 * open-loop at the worker's share of the rate.
 *
 * @module
 */

import type { WorkloadContext, WorkloadInstance } from "../scenario.js";
import type { Driver } from "./drivers.js";
import { ClosedLoopDriver, OpenLoopDriver } from "./drivers.js";
import type { LoadClient } from "./load-client.js";
import type { ConnectTarget } from "./tcp-load-client.js";
import { targetFor } from "./source-addresses.js";

/** Connections opened at once: more would overflow the server's accept backlog. */
export const DEFAULT_CONNECT_CONCURRENCY = 200;

/**
 * The index of this worker's `i`-th connection over all workers: connections are dealt out in
 * blocks, worker 0 first.
 * @param context - the worker's share.
 * @param i - the connection's index in this worker.
 * @returns its index over all workers.
 */
export function globalConnectionIndex(context: WorkloadContext, i: number): number {
  const base = Math.floor(context.totalConnections / context.workerCount);
  const extra = context.totalConnections % context.workerCount;
  const start = context.workerIndex * base + Math.min(context.workerIndex, extra);
  return start + i;
}

/**
 * Opens `count` clients, `concurrency` at a time; failures are counted, not thrown, and the
 * first one is written to stderr (a run that could not open its connections must say why).
 * @param clients - the clients to connect.
 * @param concurrency - how many attempts at once.
 * @param onFailure - told of each failed attempt.
 * @returns how many connected.
 */
export async function connectAll(clients: readonly { connect(): Promise<void> }[], concurrency: number, onFailure: (error: unknown) => void): Promise<number> {
  let next = 0;
  let open = 0;
  let failed = 0;
  let first: unknown = null;
  const lane = async (): Promise<void> => {
    while (next < clients.length) {
      const c = clients[next++]!;
      try {
        await c.connect();
        open++;
      } catch (error) {
        if (failed++ === 0) first = error;
        onFailure(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, lane));
  if (failed > 0) console.error(`load worker: ${failed} of ${clients.length} connections failed to open; the first: ${first instanceof Error ? first.message : String(first)}`);
  return open;
}

/** A workload of one-request-one-answer clients. */
export class RequestWorkload implements WorkloadInstance {
  private readonly clients: LoadClient[] = [];
  private driver: Driver | null = null;

  /**
   * @param context - the worker's share of the run.
   * @param makeClient - builds the client of one connection.
   */
  constructor(
    private readonly context: WorkloadContext,
    makeClient: (target: ConnectTarget) => LoadClient,
  ) {
    for (let i = 0; i < context.connections; i++) {
      const index = globalConnectionIndex(context, i);
      this.clients.push(makeClient(targetFor(context.host, context.port, context.sourceAddresses, index)));
    }
  }

  async connect(): Promise<number> {
    // Failures count as errors through the runner (connections asked for minus opened).
    return connectAll(this.clients, DEFAULT_CONNECT_CONCURRENCY, () => {});
  }

  start(): void {
    const { rate, recorder, timeoutMs } = this.context;
    this.driver = rate === undefined ? new ClosedLoopDriver(this.clients, recorder, timeoutMs) : new OpenLoopDriver(this.clients, recorder, timeoutMs, rate);
    this.driver.start();
  }

  async stop(): Promise<void> {
    await this.driver?.stop();
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }
}
