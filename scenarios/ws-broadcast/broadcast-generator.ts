/**
 * ws-broadcast's lean generator (the benchmark's load): N subscribers (the run's connections, spread over the load workers) and
 * one publisher (an extra connection, in worker 0) that sends a 64-byte binary message at a
 * fixed rate; the server relays each message to every subscriber. One operation is one
 * delivery (one message received by one subscriber), so throughput is about
 * `rate × subscribers`.
 *
 * - The rate: `--rate` (messages per second, over the whole run), else
 *   {@link DEFAULT_PUBLISH_RATE}. The publisher follows a constant-rate schedule whatever the
 *   server does (it is open loop by nature), and each message carries its intended and actual
 *   publish times.
 * - Latency counts from the intended publish time to the subscriber's receipt (no coordinated
 *   omission: a stalled publisher or server shows); the uncorrected histogram counts from the
 *   actual send. Times come from the machine-wide monotonic clock, so a subscriber in another
 *   worker process measures against the publisher's timestamps directly.
 * - Every subscriber checks that it gets every message, intact and in order: a gap, a repeat
 *   or a corrupt message is a mismatch; a message more than the operation timeout overdue (by
 *   the schedule) is a timeout, and that subscriber is dropped (its later messages would be
 *   counted against a stale expectation).
 * - `extra.published` counts the messages published in the window.
 *
 * @module
 */

import { connectAll, DEFAULT_CONNECT_CONCURRENCY, globalConnectionIndex, OPEN_LOOP_TICK_MS, OpenLoopSchedule, targetFor, TIMEOUT_SWEEP_MAX_MS } from "wirelab/bench";
import type { WorkloadContext, WorkloadInstance } from "wirelab/bench";
import type { BroadcastFields } from "./broadcast-message.js";
import { BROADCAST_MESSAGE_SIZE, DEFAULT_PUBLISH_RATE, PUBLISH_PATH, readBroadcastMessage, SUBSCRIBE_PATH, writeBroadcastMessage } from "./broadcast-message.js";
import { monotonicNowMs } from "./monotonic-clock.js";
import type { SubscriberSink } from "./ws-load-client.js";
import { WsPublisher, WsSubscriber } from "./ws-load-client.js";

/**
 * The whole run's publish rate, from a worker's context: the runner gives each worker its
 * share of `--rate` in proportion to its connections.
 * @param context - the worker's share.
 * @returns messages per second over the run.
 */
export function publishRate(context: Pick<WorkloadContext, "rate" | "connections" | "totalConnections">): number {
  if (context.rate === undefined || context.connections === 0) return DEFAULT_PUBLISH_RATE;
  return (context.rate * context.totalConnections) / context.connections;
}

/**
 * Delivery bookkeeping of one worker's subscribers: order, integrity, latency, overdue
 * messages. No socket, so it is tested on its own.
 */
export class DeliveryTracker implements SubscriberSink {
  private readonly fields: BroadcastFields = { seq: 0, intendedMs: 0, sentMs: 0 };
  /**
   * When message 0 would have been due on the current schedule, monotonic ms (NaN until a
   * message arrived). Taken from every message, so that it follows the publisher onto the new
   * schedule of each repeat.
   */
  private originMs = NaN;

  /**
   * @param context - the recorder and timeout.
   * @param intervalMs - the publish schedule's interval.
   * @param now - the monotonic clock, ms.
   */
  constructor(
    private readonly context: Pick<WorkloadContext, "recorder" | "timeoutMs">,
    private readonly intervalMs: number,
    private readonly now: () => number = monotonicNowMs,
  ) {}

  message(subscriber: WsSubscriber, buf: Buffer, at: number, length: number): void {
    const f = this.fields;
    const recorder = this.context.recorder;
    if (!readBroadcastMessage(buf, at, length, f)) {
      recorder.mismatch();
      return;
    }
    const now = this.now();
    if (f.seq !== subscriber.nextSeq) {
      // A gap means lost messages; a repeat or a step back, a confused server.
      recorder.mismatch();
      if (f.seq < subscriber.nextSeq) return;
    }
    subscriber.nextSeq = f.seq + 1;
    this.originMs = f.intendedMs - f.seq * this.intervalMs;
    recorder.success((now - f.intendedMs) * 1000, (now - f.sentMs) * 1000);
  }

  badFrame(): void {
    this.context.recorder.mismatch();
  }

  lost(): void {}

  /** Forgets the schedule (a new run phase starts; the publisher starts a new schedule). */
  reset(): void {
    this.originMs = NaN;
  }

  /**
   * Counts a timeout for, and drops, each subscriber whose next message is overdue by more
   * than the timeout (by the schedule, known once any message arrived).
   * @param subscribers - the worker's subscribers.
   */
  sweep(subscribers: readonly WsSubscriber[]): void {
    if (Number.isNaN(this.originMs)) return;
    const now = this.now();
    for (const s of subscribers) {
      if (s.alive && now - (this.originMs + s.nextSeq * this.intervalMs) > this.context.timeoutMs) {
        this.context.recorder.timeout();
        s.abort();
      }
    }
  }
}

/** One worker's share: its subscribers, and in worker 0 the publisher. */
export class WsBroadcastWorkload implements WorkloadInstance {
  private readonly subscribers: WsSubscriber[] = [];
  private readonly publisher: WsPublisher | null;
  private readonly tracker: DeliveryTracker;
  private readonly rate: number;
  private readonly payload = Buffer.allocUnsafe(BROADCAST_MESSAGE_SIZE);
  private ticker: NodeJS.Timeout | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private schedule: OpenLoopSchedule | null = null;
  /** Messages published so far, over every repeat (sequence numbers go on across repeats). */
  private published = 0;
  /** `published` when the current schedule started. */
  private scheduleBase = 0;
  private publishedInWindow = 0;

  /** @param context - the worker's share of the run. */
  constructor(private readonly context: WorkloadContext) {
    this.rate = publishRate(context);
    this.tracker = new DeliveryTracker(context, 1000 / this.rate);
    for (let i = 0; i < context.connections; i++) {
      const target = targetFor(context.host, context.port, context.sourceAddresses, globalConnectionIndex(context, i));
      this.subscribers.push(new WsSubscriber(target, SUBSCRIBE_PATH, this.tracker));
    }
    // The publisher is one more connection than the run's count, from the first source address.
    this.publisher = context.workerIndex === 0 ? new WsPublisher(targetFor(context.host, context.port, context.sourceAddresses, 0), PUBLISH_PATH, () => this.stopPublishing()) : null;
  }

  async connect(): Promise<number> {
    const open = await connectAll(this.subscribers, DEFAULT_CONNECT_CONCURRENCY, () => this.context.recorder.error());
    // Subscribers are all in the server's hub once their 101 arrived; the publisher comes last.
    if (this.publisher !== null) {
      try {
        await this.publisher.connect();
      } catch (error) {
        throw new Error(`ws-broadcast: the publisher could not connect: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    }
    return open;
  }

  start(): void {
    // Each repeat starts here, on the same connections: its figures start from zero.
    this.tracker.reset();
    this.publishedInWindow = 0;
    const period = Math.max(1, Math.min(TIMEOUT_SWEEP_MAX_MS, this.context.timeoutMs / 4));
    this.sweeper = setInterval(() => {
      this.tracker.sweep(this.subscribers);
    }, period);
    if (this.publisher === null) return;
    this.schedule = new OpenLoopSchedule(monotonicNowMs(), this.rate, 1);
    this.scheduleBase = this.published;
    this.tick();
    this.ticker = setInterval(() => {
      this.tick();
    }, OPEN_LOOP_TICK_MS);
  }

  stop(): Promise<void> {
    this.stopPublishing();
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscribers.map((s) => s.close()), this.publisher?.close()]);
  }

  extra(): Readonly<Record<string, number>> {
    return { published: this.publishedInWindow };
  }

  private tick(): void {
    const schedule = this.schedule;
    const publisher = this.publisher;
    if (schedule === null || publisher === null || !publisher.alive) return;
    const now = monotonicNowMs();
    const due = this.scheduleBase + schedule.dueCount(now);
    for (; this.published < due; this.published++) {
      writeBroadcastMessage(this.payload, 0, this.published, schedule.intendedTime(this.published - this.scheduleBase), now);
      publisher.send(this.payload);
      if (this.context.recorder.measuring) this.publishedInWindow++;
    }
  }

  private stopPublishing(): void {
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
    this.schedule = null;
  }
}

/**
 * Builds one worker's ws-broadcast load.
 * @param context - the worker's share.
 * @returns the workload.
 */
export function broadcastGenerator(context: WorkloadContext): WorkloadInstance {
  return new WsBroadcastWorkload(context);
}
