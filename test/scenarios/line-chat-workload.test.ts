import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CHAT_LINE_SIZE, chatLine, helloLine, LINE_BAD, LINE_HELLO, LINE_MESSAGE, parseChatLine } from "../../scenarios/line-chat/chat-line.js";
import type { ParsedChatLine } from "../../scenarios/line-chat/chat-line.js";
import { FanOutTracker } from "../../scenarios/line-chat/fan-out-tracker.js";
import type { Recorder } from "../../scenarios/harness/scenario.js";

class CountingRecorder implements Recorder {
  measuring = true;
  successes: number[] = [];
  errors = 0;
  timeouts = 0;
  mismatches = 0;
  success(latencyUs: number): void {
    this.successes.push(latencyUs);
  }
  error(): void {
    this.errors++;
  }
  timeout(): void {
    this.timeouts++;
  }
  mismatch(): void {
    this.mismatches++;
  }
}

const parsed = (): ParsedChatLine => ({ worker: 0, client: 0, seq: 0 });

describe("chat lines", () => {
  it("round-trip worker, client and sequence number", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffff }), fc.integer({ min: 0, max: 0xffffffff }), (w, c, s) => {
        const line = chatLine(w, c, s);
        expect(line.length).toBe(CHAT_LINE_SIZE);
        const p = parsed();
        expect(parseChatLine(line, 0, line.length, p)).toBe(LINE_MESSAGE);
        expect(p).toEqual({ worker: w, client: c, seq: s });
      }),
      { seed: 42, numRuns: 200 },
    );
    const hello = helloLine(3, 77);
    const p = parsed();
    expect(parseChatLine(hello, 0, hello.length, p)).toBe(LINE_HELLO);
    expect(p).toEqual({ worker: 3, client: 77, seq: 0 });
  });

  it("reject any single corrupted byte, a truncation or a line from the middle of a buffer gone wrong", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: CHAT_LINE_SIZE - 1 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const line = chatLine(1, 2, 3);
        line[at] = line[at]! ^ flip;
        // A flipped hex digit either stops being one or changes the value; any other byte is checked.
        const p = parsed();
        const kind = parseChatLine(line, 0, line.length, p);
        expect(kind === LINE_BAD || p.worker !== 1 || p.client !== 2 || p.seq !== 3).toBe(true);
      }),
      { seed: 43, numRuns: 300 },
    );
    const line = chatLine(1, 2, 3);
    expect(parseChatLine(line, 1, line.length, parsed())).toBe(LINE_BAD);
    expect(parseChatLine(line, 0, line.length - 1, parsed())).toBe(LINE_BAD);
    const two = Buffer.concat([chatLine(0, 1, 5), chatLine(0, 2, 6)]);
    const p = parsed();
    expect(parseChatLine(two, CHAT_LINE_SIZE, 2 * CHAT_LINE_SIZE, p)).toBe(LINE_MESSAGE);
    expect(p).toEqual({ worker: 0, client: 2, seq: 6 });
  });
});

describe("FanOutTracker", () => {
  function setup(size: number): { tracker: FanOutTracker; recorder: CountingRecorder; done: [number, boolean][]; deliver: (to: number, line: Buffer) => void } {
    const recorder = new CountingRecorder();
    const done: [number, boolean][] = [];
    const tracker = new FanOutTracker(0, size, recorder, { lineDone: (slot, ok) => done.push([slot, ok]), joined: () => {} });
    const deliver = (to: number, line: Buffer): void => tracker.received(to, line, 0, line.length);
    for (let i = 0; i < size; i++) deliver(i, helloLine(0, i));
    return { tracker, recorder, done, deliver };
  }

  it("joins a client only on its own hello from its own worker", () => {
    const recorder = new CountingRecorder();
    const joined: number[] = [];
    const tracker = new FanOutTracker(1, 3, recorder, { lineDone: () => {}, joined: (s) => joined.push(s) });
    tracker.received(0, helloLine(1, 1), 0, 12); // someone else's hello
    tracker.received(0, helloLine(0, 0), 0, 12); // another worker's
    expect(tracker.joinedCount).toBe(0);
    tracker.received(0, helloLine(1, 0), 0, 12);
    tracker.received(0, helloLine(1, 0), 0, 12); // seen twice, counted once
    expect(joined).toEqual([0]);
    expect(tracker.joinedCount).toBe(1);
  });

  it("completes a line when the last receiver of the worker gets it, not before", () => {
    const { tracker, done, deliver } = setup(3);
    tracker.sent(1, 0);
    const line = chatLine(0, 1, 0);
    deliver(1, line);
    deliver(0, line);
    expect(done).toEqual([]);
    deliver(2, line);
    expect(done).toEqual([[1, true]]);
    expect(tracker.deliveries).toBe(3);
  });

  it("stops waiting for a receiver that leaves, and forgets a lost sender's line", () => {
    const { tracker, done, deliver } = setup(3);
    tracker.sent(0, 0);
    tracker.sent(2, 0);
    deliver(0, chatLine(0, 0, 0));
    deliver(1, chatLine(0, 0, 0));
    tracker.lost(2); // it owed line 0:0 and was sending 2:0
    expect(done).toEqual([[0, true]]);
    expect(tracker.joinedCount).toBe(2);
    deliver(0, chatLine(0, 2, 0));
    deliver(1, chatLine(0, 2, 0));
    expect(done).toEqual([[0, true]]);
    // A line sent after the loss is owed to the two left.
    tracker.sent(1, 0);
    deliver(0, chatLine(0, 1, 0));
    deliver(1, chatLine(0, 1, 0));
    expect(done).toEqual([[0, true], [1, true]]);
  });

  it("a receiver that already had the line does not count twice when it leaves", () => {
    const { tracker, done, deliver } = setup(3);
    tracker.sent(0, 0);
    deliver(1, chatLine(0, 0, 0));
    tracker.lost(1);
    expect(done).toEqual([]);
    deliver(0, chatLine(0, 0, 0));
    expect(done).toEqual([]);
    deliver(2, chatLine(0, 0, 0));
    expect(done).toEqual([[0, true]]);
  });

  it("counts a gap, a repeat and a corrupt line as mismatches; a gap on the line in flight fails it", () => {
    const { tracker, recorder, done, deliver } = setup(2);
    tracker.sent(0, 0);
    deliver(0, chatLine(0, 0, 0));
    deliver(1, chatLine(0, 0, 0));
    expect(done).toEqual([[0, true]]);
    deliver(1, chatLine(0, 0, 0)); // repeat
    expect(recorder.mismatches).toBe(1);
    tracker.sent(0, 2); // as if line 1 went missing on the way to receiver 1
    deliver(1, chatLine(0, 0, 2));
    expect(done).toEqual([[0, true], [0, false]]);
    const bad = chatLine(0, 1, 0);
    bad[40] = 0x21;
    deliver(0, bad);
    expect(recorder.mismatches).toBe(2);
  });

  it("checks but does not time lines from other workers, and counts deliveries only while measuring", () => {
    const { tracker, recorder, done, deliver } = setup(2);
    deliver(0, chatLine(5, 0, 0));
    expect(done).toEqual([]);
    expect(tracker.deliveries).toBe(1);
    recorder.measuring = false;
    deliver(1, chatLine(5, 0, 0));
    expect(tracker.deliveries).toBe(1);
    expect(recorder.mismatches).toBe(0);
  });
});
