import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ClosedLoopDriver, OpenLoopDriver } from "../../scenarios/harness/load/drivers.js";
import { LoadClient, OUTCOME_MISMATCH, OUTCOME_OK } from "../../scenarios/harness/load/load-client.js";
import { decodeHistogram } from "../../scenarios/harness/load/histogram.js";
import { LoadRecorder } from "../../scenarios/harness/load/load-recorder.js";

/** Answers each operation `serviceMs` after it is sent (on the faked timers), wrongly every `wrongEvery`-th time. */
class FakeClient extends LoadClient {
  sends: number[] = [];
  constructor(
    private readonly serviceMs: number,
    private readonly wrongEvery = 0,
  ) {
    super();
    this.alive = true;
  }
  connect(): Promise<void> {
    return Promise.resolve();
  }
  send(): void {
    this.sends.push(performance.now());
    const n = this.sends.length;
    setTimeout(() => {
      if (this.alive) this.listener.operationDone(this, this.wrongEvery > 0 && n % this.wrongEvery === 0 ? OUTCOME_MISMATCH : OUTCOME_OK);
    }, this.serviceMs);
  }
  close(): Promise<void> {
    this.alive = false;
    return Promise.resolve();
  }
  abort(): void {
    this.alive = false;
    this.listener.clientLost(this);
  }
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "performance"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("ClosedLoopDriver", () => {
  it("keeps one operation in flight per connection and records each latency", async () => {
    const clients = [new FakeClient(2), new FakeClient(5, 4)];
    const recorder = new LoadRecorder();
    const driver = new ClosedLoopDriver(clients, recorder, 1000);
    recorder.begin();
    driver.start();
    await vi.advanceTimersByTimeAsync(100);
    // As the worker does: the window closes, then sending stops and in-flight answers drain.
    recorder.end();
    const stopped = driver.stop();
    await vi.advanceTimersByTimeAsync(10);
    await stopped;
    const c = recorder.counts();
    // By 100 ms: 50 answers of 2 ms; 20 answers of 5 ms, one in four wrong; one more of each in flight.
    expect(clients[0]!.sends.length).toBe(51);
    expect(clients[1]!.sends.length).toBe(21);
    expect(c.operations).toBe(50 + 15);
    expect(c.mismatches).toBe(5);
    const h = decodeHistogram(c.histogram);
    expect(h.minNonZeroValue).toBeGreaterThanOrEqual(1999);
    expect(h.maxValue).toBeLessThanOrEqual(5010);
  });

  it("counts an unanswered operation as a timeout and drops its connection", async () => {
    const clients = [new FakeClient(10_000)];
    const recorder = new LoadRecorder();
    const driver = new ClosedLoopDriver(clients, recorder, 100);
    recorder.begin();
    driver.start();
    await vi.advanceTimersByTimeAsync(200);
    const stopped = driver.stop();
    await vi.advanceTimersByTimeAsync(1);
    await stopped;
    const c = recorder.counts();
    expect([c.operations, c.timeouts, c.errors]).toEqual([0, 1, 0]);
    expect(clients[0]!.alive).toBe(false);
  });
});

describe("OpenLoopDriver", () => {
  it("sends on schedule while the server keeps up", async () => {
    const clients = [new FakeClient(1), new FakeClient(1)];
    const recorder = new LoadRecorder();
    const driver = new OpenLoopDriver(clients, recorder, 1000, 200); // one per 5 ms, alternating
    recorder.begin();
    driver.start();
    await vi.advanceTimersByTimeAsync(100);
    recorder.end();
    const stopped = driver.stop();
    await vi.advanceTimersByTimeAsync(5);
    await stopped;
    const c = recorder.counts();
    // Operations 0..20 are due in [0, 100] ms; the last is answered after the window closed.
    expect(clients[0]!.sends.length + clients[1]!.sends.length).toBe(21);
    expect(c.operations).toBe(20);
    expect(clients[0]!.sends.slice(0, 3)).toEqual([0, 10, 20]);
    expect(clients[1]!.sends.slice(0, 3)).toEqual([5, 15, 25]);
    // Answered in 1 ms, sent on time: corrected and uncorrected agree.
    expect(decodeHistogram(c.histogram).maxValue).toBeLessThanOrEqual(1001);
    expect(decodeHistogram(c.uncorrectedHistogram!).maxValue).toBeLessThanOrEqual(1001);
  });

  it("counts latency from the intended send time when the server falls behind (no coordinated omission)", async () => {
    // Due every 2 ms, answered in 5 ms: the backlog grows, and so must the corrected latency.
    const clients = [new FakeClient(5)];
    const recorder = new LoadRecorder();
    const driver = new OpenLoopDriver(clients, recorder, 10_000, 500);
    recorder.begin();
    driver.start();
    await vi.advanceTimersByTimeAsync(100);
    recorder.end();
    const stopped = driver.stop();
    await vi.advanceTimersByTimeAsync(10);
    await stopped;
    const c = recorder.counts();
    expect(c.operations).toBe(20); // as many as 5 ms answers allow in 100 ms
    const uncorrected = decodeHistogram(c.uncorrectedHistogram!);
    const corrected = decodeHistogram(c.histogram);
    expect(uncorrected.maxValue).toBeLessThanOrEqual(5010);
    // The 20th answer (at 100 ms) was due at 19 × 2 = 38 ms: 62 ms late.
    expect(corrected.maxValue).toBeGreaterThanOrEqual(61_900);
    expect(corrected.maxValue).toBeLessThanOrEqual(62_100);
  });
});
