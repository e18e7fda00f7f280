/**
 * idle-hold's lean generator: opens this worker's share of N connections on `node:net` and keeps
 * them silent (less memory per connection in the worker than a wirelab `Connection`, so one
 * worker holds tens of thousands). When the
 * window closes, each connection sends one byte and waits for its echo (the liveness probe), so
 * that `operations` counts connections really held and working, and its latency is the time a
 * long-idle connection takes to answer.
 *
 * @module
 */

import type * as net from "node:net";
import { performance } from "node:perf_hooks";
import { closeWithReset, connectAll, connectSocket, DEFAULT_CONNECT_CONCURRENCY, globalConnectionIndex, targetFor } from "wirelab/bench";
import type { ConnectTarget, WorkloadContext, WorkloadInstance } from "wirelab/bench";

/** The liveness probe: one byte, echoed. */
export const PROBE = Buffer.from([0x2a]);

/** One silent connection. */
class IdleConnection {
  socket: net.Socket | null = null;
  private probeStart = 0;

  constructor(private readonly target: ConnectTarget) {}

  async connect(): Promise<void> {
    this.socket = await connectSocket(this.target);
    this.socket.on("error", () => {});
  }

  /** Sends the probe and records how it went; resolves when it is answered, lost or late. */
  probe(context: WorkloadContext): Promise<void> {
    const socket = this.socket;
    const { recorder, timeoutMs } = context;
    // Never connected: already counted as a connect failure.
    if (socket === null) return Promise.resolve();
    if (socket.destroyed) {
      recorder.error();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        recorder.timeout();
        finish();
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        socket.off("data", onData);
        socket.off("close", onClose);
        resolve();
      };
      const onData = (data: Buffer): void => {
        if (data.length === 1 && data[0] === PROBE[0]) recorder.success((performance.now() - this.probeStart) * 1000);
        else recorder.mismatch();
        finish();
      };
      const onClose = (): void => {
        recorder.error();
        finish();
      };
      socket.on("data", onData);
      socket.on("close", onClose);
      this.probeStart = performance.now();
      socket.write(PROBE);
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    return closeWithReset(socket);
  }
}

/** The idle workload of one worker. */
class IdleWorkload implements WorkloadInstance {
  private readonly connections: IdleConnection[] = [];
  private held = 0;

  constructor(private readonly context: WorkloadContext) {
    for (let i = 0; i < context.connections; i++) {
      this.connections.push(new IdleConnection(targetFor(context.host, context.port, context.sourceAddresses, globalConnectionIndex(context, i))));
    }
  }

  async connect(): Promise<number> {
    this.held = await connectAll(this.connections, DEFAULT_CONNECT_CONCURRENCY, () => {});
    return this.held;
  }

  start(): void {}

  stop(): Promise<void> {
    return Promise.resolve();
  }

  async finalCheck(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.probe(this.context)));
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.close()));
  }

  extra(): Readonly<Record<string, number>> {
    return { heldConnections: this.held };
  }
}

/**
 * Builds one worker's idle load.
 * @param context - the worker's share.
 * @returns the workload.
 */
export function idleGenerator(context: WorkloadContext): WorkloadInstance {
  return new IdleWorkload(context);
}
