/**
 * line-chat load: every connection is both a sender and a receiver. A sender sends a 64-byte
 * line; the server broadcasts it to every connected client (the sender included); the line's
 * **fan-out latency** is the time from its send to its receipt by the last of this worker's
 * clients. One operation is one line fanned out.
 *
 * - Closed loop: each sender sends its next line once its last one reached all of this
 *   worker's clients (a window of one line per sender).
 * - Open loop (`--rate`): lines are due on a constant-rate schedule spread over the senders;
 *   latency counts from the intended send time (a line due while its sender's last one is
 *   still fanning out is sent when that completes).
 * - With several load workers the server still broadcasts to everyone, but each worker times
 *   only its own senders' lines and only over its own receivers (it cannot see when another
 *   worker's receiver got a line); the other workers' lines are still checked (format, filler)
 *   and counted in `extra.deliveries`.
 * - Before the run, each client sends a hello line and waits for it to come back, which proves
 *   the server has it in its room: a line is only owed to clients that had joined.
 *
 * @module
 */

import { ClosedLoopDriver, connectAll, DEFAULT_CONNECT_CONCURRENCY, globalConnectionIndex, OpenLoopDriver, OUTCOME_MISMATCH, OUTCOME_OK, targetFor } from "wirelab/bench";
import type { Driver, WorkloadContext, WorkloadInstance } from "wirelab/bench";
import { LineChatClient } from "./chat-load-client.js";
import { FanOutTracker } from "./fan-out-tracker.js";

/** One worker's chat load. */
export class LineChatWorkload implements WorkloadInstance {
  private readonly clients: LineChatClient[] = [];
  private readonly tracker: FanOutTracker;
  private driver: Driver | null = null;
  private onJoin: (() => void) | null = null;

  /** @param context - the worker's share of the run. */
  constructor(private readonly context: WorkloadContext) {
    this.tracker = new FanOutTracker(context.workerIndex, context.connections, context.recorder, {
      lineDone: (slot, ok) => {
        const c = this.clients[slot]!;
        if (c.busy) c.listener.operationDone(c, ok ? OUTCOME_OK : OUTCOME_MISMATCH);
      },
      joined: () => this.onJoin?.(),
    });
    for (let i = 0; i < context.connections; i++) {
      const target = targetFor(context.host, context.port, context.sourceAddresses, globalConnectionIndex(context, i));
      this.clients.push(new LineChatClient(target, context.workerIndex, i, this.tracker));
    }
  }

  async connect(): Promise<number> {
    await connectAll(this.clients, DEFAULT_CONNECT_CONCURRENCY, () => this.context.recorder.error());
    const open = this.clients.filter((c) => c.alive);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.context.timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.onJoin = () => {
        if (this.tracker.joinedCount >= open.length) done();
      };
      if (open.length === 0) done();
      for (const c of open) c.hello();
    });
    this.onJoin = null;
    // A client the server never put in the room would be owed nothing and prove nothing.
    for (const c of open) {
      if (!this.tracker.isJoined(c.slot)) {
        this.context.recorder.error();
        c.abort();
      }
    }
    return this.tracker.joinedCount;
  }

  start(): void {
    // Each repeat starts here, on the same connections: its figures start from zero.
    this.tracker.deliveries = 0;
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

  extra(): Readonly<Record<string, number>> {
    return { deliveries: this.tracker.deliveries };
  }
}

/**
 * Builds one worker's chat load: line-chat's lean generator.
 * @param context - the worker's share.
 * @returns the workload.
 */
export function chatGenerator(context: WorkloadContext): WorkloadInstance {
  return new LineChatWorkload(context);
}
