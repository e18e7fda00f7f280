import { describe, expect, it } from "vitest";
import { broadcastMessage, BROADCAST_MESSAGE_SIZE, DEFAULT_PUBLISH_RATE, readBroadcastMessage } from "../../scenarios/ws-broadcast/broadcast-message.js";
import type { BroadcastFields } from "../../scenarios/ws-broadcast/broadcast-message.js";
import { DeliveryTracker, publishRate } from "../../scenarios/ws-broadcast/broadcast-generator.js";
import { maskedFrame, WsSubscriber } from "../../scenarios/ws-broadcast/ws-load-client.js";
import type { Recorder } from "../../scenarios/harness/scenario.js";

class CountingRecorder implements Recorder {
  measuring = true;
  latencies: [number, number | undefined][] = [];
  timeouts = 0;
  mismatches = 0;
  success(latencyUs: number, uncorrectedUs?: number): void {
    this.latencies.push([latencyUs, uncorrectedUs]);
  }
  error(): void {}
  timeout(): void {
    this.timeouts++;
  }
  mismatch(): void {
    this.mismatches++;
  }
}

const fields = (): BroadcastFields => ({ seq: 0, intendedMs: 0, sentMs: 0 });

/** A subscriber that is never connected: only its bookkeeping fields are used. */
function subscriber(): WsSubscriber & { aborted: boolean } {
  const s = new WsSubscriber({ host: "127.0.0.1", port: 1 }, "/", { message() {}, badFrame() {}, lost() {} }) as WsSubscriber & { aborted: boolean };
  s.alive = true;
  s.aborted = false;
  s.abort = () => {
    s.alive = false;
    s.aborted = true;
  };
  return s;
}

describe("broadcast messages", () => {
  it("round-trip and reject corruption", () => {
    const m = broadcastMessage(7, 1000.25, 1000.5);
    expect(m.length).toBe(BROADCAST_MESSAGE_SIZE);
    const f = fields();
    expect(readBroadcastMessage(m, 0, m.length, f)).toBe(true);
    expect(f).toEqual({ seq: 7, intendedMs: 1000.25, sentMs: 1000.5 });
    for (const at of [0, 3, 30, 63]) {
      const bad = Buffer.from(m);
      bad[at] = bad[at]! ^ 0x10;
      const g = fields();
      expect(readBroadcastMessage(bad, 0, bad.length, g) && g.seq === 7).toBe(false);
    }
    expect(readBroadcastMessage(m, 0, 63, fields())).toBe(false);
  });

  it("a masked frame unmasks to the payload", () => {
    const payload = broadcastMessage(1, 2, 3);
    const frame = maskedFrame(0x2, payload);
    expect(frame[0]).toBe(0x82);
    expect(frame[1]).toBe(0x80 | 64);
    const key = frame.subarray(2, 6);
    const unmasked = Buffer.from(frame.subarray(6).map((b, i) => b ^ key[i & 3]!));
    expect(unmasked.equals(payload)).toBe(true);
  });
});

describe("publishRate", () => {
  it("is the whole run's rate rebuilt from a worker's proportional share, or the default", () => {
    expect(publishRate({ connections: 30, totalConnections: 100 })).toBe(DEFAULT_PUBLISH_RATE);
    expect(publishRate({ rate: 150, connections: 30, totalConnections: 100 })).toBeCloseTo(500);
  });
});

describe("DeliveryTracker", () => {
  function setup(): { tracker: DeliveryTracker; recorder: CountingRecorder; clock: { now: number } } {
    const recorder = new CountingRecorder();
    const clock = { now: 0 };
    const tracker = new DeliveryTracker({ recorder, timeoutMs: 100 }, 10, () => clock.now);
    return { tracker, recorder, clock };
  }
  const deliver = (tracker: DeliveryTracker, s: WsSubscriber, seq: number, intended: number, sent: number): void => {
    const m = broadcastMessage(seq, intended, sent);
    tracker.message(s, m, 0, m.length);
  };

  it("records latency from the intended time and, uncorrected, from the actual send", () => {
    const { tracker, recorder, clock } = setup();
    const s = subscriber();
    clock.now = 1003;
    deliver(tracker, s, 0, 1000, 1001);
    expect(recorder.latencies).toEqual([[3000, 2000]]);
    expect(s.nextSeq).toBe(1);
  });

  it("counts a gap and a repeat as mismatches; a repeat is not a delivery", () => {
    const { tracker, recorder } = setup();
    const s = subscriber();
    deliver(tracker, s, 0, 0, 0);
    deliver(tracker, s, 2, 20, 20); // 1 is missing
    expect(recorder.mismatches).toBe(1);
    expect(recorder.latencies.length).toBe(2);
    deliver(tracker, s, 2, 20, 20);
    expect(recorder.mismatches).toBe(2);
    expect(recorder.latencies.length).toBe(2);
    const bad = broadcastMessage(3, 30, 30);
    bad[50] = 0;
    tracker.message(s, bad, 0, bad.length);
    expect(recorder.mismatches).toBe(3);
  });

  it("times out a subscriber whose next message is overdue by the schedule, once any message arrived", () => {
    const { tracker, recorder, clock } = setup();
    const fast = subscriber();
    const slow = subscriber();
    clock.now = 500;
    tracker.sweep([fast, slow]); // no schedule known yet
    expect(recorder.timeouts).toBe(0);
    // Message 50 was due at 1000 (interval 10 ms): message 0 was due at 500.
    clock.now = 1001;
    fast.nextSeq = 50;
    deliver(tracker, fast, 50, 1000, 1000);
    tracker.sweep([fast, slow]); // slow still waits for message 0, due at 500: 501 ms overdue
    expect(recorder.timeouts).toBe(1);
    expect(slow.aborted).toBe(true);
    expect(fast.aborted).toBe(false);
    clock.now = 1000 + 10 + 100; // fast's message 51 is due at 1010: exactly the timeout, not over
    tracker.sweep([fast, slow]);
    expect(recorder.timeouts).toBe(1);
  });
});

describe("DeliveryTracker across repeats", () => {
  it("follows the publisher onto a new schedule: no false timeout after a pause between repeats", () => {
    const recorder = new CountingRecorder();
    const clock = { now: 0 };
    const tracker = new DeliveryTracker({ recorder, timeoutMs: 100 }, 10, () => clock.now);
    const s = subscriber();
    const deliver = (seq: number, intended: number): void => {
      const m = broadcastMessage(seq, intended, intended);
      tracker.message(s, m, 0, m.length);
    };
    for (let i = 0; i < 5; i++) deliver(i, 1000 + i * 10);
    // Pause (the runner collects figures), then the next repeat: message 5 is due at 5000.
    tracker.reset();
    clock.now = 5000;
    tracker.sweep([s]);
    expect(recorder.timeouts).toBe(0);
    clock.now = 5001;
    deliver(5, 5000);
    clock.now = 5050;
    tracker.sweep([s]);
    expect(recorder.timeouts).toBe(0);
    expect(recorder.mismatches).toBe(0);
    // Message 6 (due 5010) not there 101 ms later: a timeout, on the new schedule.
    clock.now = 5111;
    tracker.sweep([s]);
    expect(recorder.timeouts).toBe(1);
  });
});
