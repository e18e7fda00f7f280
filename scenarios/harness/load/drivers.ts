/**
 * The load drivers: closed-loop (each connection sends its next operation as soon as the
 * previous one is answered) and open-loop constant-rate (operations are sent on a schedule and
 * latency counts from the intended send time).
 *
 * @module
 */

import type { Recorder } from "../scenario.js";
import type { LoadClient, OperationListener, Outcome } from "./load-client.js";
import { OUTCOME_MISMATCH, OUTCOME_OK } from "./load-client.js";
import { OpenLoopSchedule } from "./open-loop-schedule.js";

/** The slowest period of the timeout sweep, in ms; it runs at a quarter of the timeout if shorter. */
export const TIMEOUT_SWEEP_MAX_MS = 250;

/**
 * The open-loop ticker's period in ms: due operations are sent in batches this often. The lag
 * it adds counts in the (corrected) latency, as it should: it is the generator's delay.
 */
export const OPEN_LOOP_TICK_MS = 1;

/** A driver: runs operations on its clients until stopped. */
export interface Driver {
  /** Starts sending. */
  start(): void;
  /** Stops sending; resolves once no operation is in flight (answered or timed out). */
  stop(): Promise<void>;
}

abstract class BaseDriver implements OperationListener, Driver {
  protected running = false;
  private sweep: NodeJS.Timeout | null = null;
  private drained: (() => void) | null = null;

  constructor(
    protected readonly clients: readonly LoadClient[],
    protected readonly recorder: Recorder,
    private readonly timeoutMs: number,
  ) {
    for (let i = 0; i < clients.length; i++) {
      const c = clients[i]!;
      c.listener = this;
      c.index = i;
    }
  }

  start(): void {
    this.running = true;
    const period = Math.max(1, Math.min(TIMEOUT_SWEEP_MAX_MS, this.timeoutMs / 4));
    this.sweep = setInterval(() => {
      this.sweepTimeouts();
    }, period);
    this.begin();
  }

  stop(): Promise<void> {
    this.running = false;
    this.end();
    return new Promise((resolve) => {
      this.drained = resolve;
      this.checkDrained();
    });
  }

  operationDone(client: LoadClient, outcome: Outcome): void {
    const now = performance.now();
    client.busy = false;
    if (outcome === OUTCOME_OK) this.success(client, now);
    else if (outcome === OUTCOME_MISMATCH) this.recorder.mismatch();
    else this.recorder.error();
    if (this.running && client.alive) this.next(client, now);
    else this.checkDrained();
  }

  clientLost(client: LoadClient): void {
    client.alive = false;
    if (client.busy) {
      client.busy = false;
      this.recorder.error();
    }
    this.checkDrained();
  }

  /** Sends the first operations. */
  protected abstract begin(): void;
  /** Stops scheduling. */
  protected end(): void {}
  /** Records a correct answer. */
  protected abstract success(client: LoadClient, now: number): void;
  /** Sends `client`'s next operation, if one is due. */
  protected abstract next(client: LoadClient, now: number): void;

  protected sendNow(client: LoadClient, now: number): void {
    client.busy = true;
    client.sentAt = now;
    client.send();
  }

  private sweepTimeouts(): void {
    const now = performance.now();
    for (const c of this.clients) {
      if (c.busy && now - c.sentAt > this.timeoutMs) {
        // The late answer would be taken for the next one's: the connection is done for.
        c.busy = false;
        this.recorder.timeout();
        c.alive = false;
        c.abort();
      }
    }
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.running || this.drained === null) return;
    for (const c of this.clients) if (c.busy) return;
    if (this.sweep !== null) clearInterval(this.sweep);
    this.sweep = null;
    const resolve = this.drained;
    this.drained = null;
    resolve();
  }
}

/** Closed loop: each connection sends its next operation as soon as the last is answered. */
export class ClosedLoopDriver extends BaseDriver {
  /**
   * @param clients - the connected clients.
   * @param recorder - where outcomes go.
   * @param timeoutMs - an operation unanswered this long counts as a timeout.
   */
  constructor(clients: readonly LoadClient[], recorder: Recorder, timeoutMs: number) {
    super(clients, recorder, timeoutMs);
  }

  protected begin(): void {
    const now = performance.now();
    for (const c of this.clients) if (c.alive) this.sendNow(c, now);
  }

  protected success(client: LoadClient, now: number): void {
    this.recorder.success((now - client.sentAt) * 1000);
  }

  protected next(client: LoadClient, now: number): void {
    this.sendNow(client, now);
  }
}

/**
 * Open loop at a constant rate (see {@link OpenLoopSchedule}): an operation due while its
 * connection still waits for the previous answer is sent as soon as that answer arrives, and its
 * latency still counts from when it was due.
 */
export class OpenLoopDriver extends BaseDriver {
  private schedule: OpenLoopSchedule | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private dispatched = 0;

  /**
   * @param clients - the connected clients.
   * @param recorder - where outcomes go.
   * @param timeoutMs - an operation unanswered this long counts as a timeout.
   * @param rate - operations per second over all clients.
   */
  constructor(
    clients: readonly LoadClient[],
    recorder: Recorder,
    timeoutMs: number,
    private readonly rate: number,
  ) {
    super(clients, recorder, timeoutMs);
  }

  protected begin(): void {
    if (this.clients.length === 0) return;
    for (const c of this.clients) c.issued = c.due = 0;
    this.schedule = new OpenLoopSchedule(performance.now(), this.rate, this.clients.length);
    this.dispatched = 0;
    this.tick();
    this.ticker = setInterval(() => {
      this.tick();
    }, OPEN_LOOP_TICK_MS);
  }

  protected override end(): void {
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
  }

  protected success(client: LoadClient, now: number): void {
    this.recorder.success((now - client.intendedAt) * 1000, (now - client.sentAt) * 1000);
  }

  protected next(client: LoadClient, now: number): void {
    client.issued++;
    if (client.issued < client.due) this.sendScheduled(client, now);
  }

  private tick(): void {
    const schedule = this.schedule;
    if (schedule === null || !this.running) return;
    const now = performance.now();
    const due = schedule.dueCount(now);
    const n = this.clients.length;
    for (; this.dispatched < due; this.dispatched++) {
      const c = this.clients[this.dispatched % n]!;
      c.due++;
      if (!c.busy && c.alive && c.issued === c.due - 1) this.sendScheduled(c, now);
    }
  }

  private sendScheduled(client: LoadClient, now: number): void {
    client.intendedAt = this.schedule!.intendedTimeOf(client.index, client.issued);
    this.sendNow(client, now);
  }
}
