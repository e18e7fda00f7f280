/**
 * `ClientLoad`: a scenario's client workload as one load worker's share of a run
 * ({@link WorkloadInstance}): one {@link ClientSession} per connection on the worker's
 * `NodeReactor`, run closed loop (each connection's next operation as soon as the last one
 * ended) or open loop at the worker's share of `--rate` (operations due on a constant-rate
 * schedule, latency counted from when each was due). A `hold` scenario's connections stay
 * silent through the window and run one operation each afterwards (the liveness probe).
 *
 * @module
 */

import { NodeReactor } from "../../runtime/node/node-reactor.js";
import type { Reactor } from "../../runtime/reactor.js";
import { ClientSession } from "./client-session.js";
import { OpenLoopSchedule } from "./load/open-loop-schedule.js";
import { connectAll, DEFAULT_CONNECT_CONCURRENCY, globalConnectionIndex } from "./load/request-workload.js";
import { targetFor } from "./load/source-addresses.js";
import type { ClientWorkload, ScenarioKind, WorkloadContext, WorkloadInstance } from "./scenario.js";

let workerReactor: NodeReactor | null = null;

/** A closed-loop connection yields to the event loop once every this many operations (a power of 2). */
const YIELD_EVERY_MASK = 63;

/**
 * The load worker's reactor, made and started on first use (one per process).
 * @returns the reactor.
 */
export function loadReactor(): Reactor {
  if (workerReactor === null) {
    workerReactor = new NodeReactor({ errorHook: (error) => console.error(error) });
    void workerReactor.run();
  }
  return workerReactor;
}

/**
 * A client endpoint for a load connection.
 * @param target - where it connects and from where.
 * @param target.host - the server's address.
 * @param target.port - its port.
 * @param target.localAddress - the source address, if one is given.
 * @returns e.g. `tcp:127.0.0.1:7000:timeout=30:bindAddress=127.0.0.2`.
 */
export function clientEndpoint(target: { readonly host: string; readonly port: number; readonly localAddress?: string }): string {
  const host = target.host.includes(":") ? `[${target.host}]` : target.host;
  return `tcp:host=${host}:port=${target.port}:timeout=30${target.localAddress === undefined ? "" : `:bindAddress=${target.localAddress}`}`;
}

/** One worker's share of a run of a scenario's client workload. */
export class ClientLoad<C, S> implements WorkloadInstance {
  private readonly sessions: ClientSession<C, S>[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  /** Open-loop connections waiting for their next due time: woken by `stop()`. */
  private readonly sleepers = new Set<() => void>();

  /**
   * @param workload - the scenario's client.
   * @param kind - `throughput` (operations in a loop) or `hold` (silent, then one probe each).
   * @param context - the worker's share of the run.
   * @param reactor - the reactor the connections run on.
   */
  constructor(
    private readonly workload: ClientWorkload<C, S>,
    private readonly kind: ScenarioKind,
    private readonly context: WorkloadContext,
    private readonly reactor: Reactor = loadReactor(),
  ) {
    const shared = workload.shared?.({
      connections: context.connections,
      totalConnections: context.totalConnections,
      groupIndex: context.workerIndex,
      sim: false,
      faults: false,
    }) as S;
    for (let i = 0; i < context.connections; i++) {
      const index = globalConnectionIndex(context, i);
      const endpoint = clientEndpoint(targetFor(context.host, context.port, context.sourceAddresses, index));
      this.sessions.push(new ClientSession(workload, { index, shared, reactor, sim: false }, endpoint));
    }
  }

  async connect(): Promise<number> {
    // Failures count as errors through the runner (connections asked for minus opened).
    return connectAll(this.sessions, DEFAULT_CONNECT_CONCURRENCY, () => {});
  }

  start(): void {
    if (this.kind === "hold") return;
    this.running = true;
    const { rate } = this.context;
    const live = this.sessions.filter((s) => s.alive);
    if (rate === undefined) {
      this.loops = live.map((s) => this.closedLoop(s));
    } else if (live.length > 0) {
      const schedule = new OpenLoopSchedule(this.reactor.now(), rate, live.length);
      this.loops = live.map((s, i) => this.openLoop(s, schedule, i));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const wake of this.sleepers) wake();
    await Promise.all(this.loops);
    this.loops = [];
  }

  async finalCheck(): Promise<void> {
    if (this.kind !== "hold") return;
    const { recorder, timeoutMs } = this.context;
    await Promise.all(
      this.sessions.map(async (s) => {
        // Never connected: already counted as a connect failure.
        if (s.conn === null) return;
        if (!s.alive) recorder.error();
        else await s.run(recorder, timeoutMs);
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.close()));
  }

  private async closedLoop(session: ClientSession<C, S>): Promise<void> {
    const { recorder, timeoutMs } = this.context;
    while (this.running && session.alive) {
      await session.run(recorder, timeoutMs);
      // An operation that never waits for I/O (a write that does not fill the buffer) would loop
      // on microtasks alone and starve the worker's timers and IPC: now and then, yield.
      if ((session.sequence & YIELD_EVERY_MASK) === 0) await new Promise(setImmediate);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const call = this.reactor.callLater(ms, wake);
      const sleepers = this.sleepers;
      function wake(): void {
        if (call.active()) call.cancel();
        sleepers.delete(wake);
        resolve();
      }
      sleepers.add(wake);
    });
  }

  private async openLoop(session: ClientSession<C, S>, schedule: OpenLoopSchedule, slot: number): Promise<void> {
    const { recorder, timeoutMs } = this.context;
    for (let k = 0; this.running && session.alive; k++) {
      const due = schedule.intendedTimeOf(slot, k);
      const wait = due - this.reactor.now();
      if (wait > 0) await this.sleep(wait);
      if (!this.running) return;
      await session.run(recorder, timeoutMs, due);
    }
  }
}
