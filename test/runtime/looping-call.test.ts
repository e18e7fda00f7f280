import { describe, expect, it } from "vitest";
import { Clock } from "../../fakes/clock.js";
import { Deferred } from "../../runtime/deferred.js";
import { InvalidOptionError, TaskStateError } from "../../runtime/errors.js";
import { LoopingCall } from "../../runtime/looping-call.js";

function recorder(clock: Clock): { times: number[]; fn: () => void } {
  const times: number[] = [];
  return { times, fn: () => void times.push(clock.now()) };
}

describe("LoopingCall", () => {
  it("calls at once and then every interval", () => {
    const clock = new Clock();
    const { times, fn } = recorder(clock);
    const loop = new LoopingCall(clock, fn);
    void loop.start(100);
    expect(times).toEqual([0]);
    clock.advance(99);
    expect(times).toEqual([0]);
    clock.advance(1);
    clock.advance(100);
    clock.advance(100);
    expect(times).toEqual([0, 100, 200, 300]);
    expect(loop.running).toBe(true);
  });

  it("waits one interval first when now is false", () => {
    const clock = new Clock({ start: 50 });
    const { times, fn } = recorder(clock);
    void new LoopingCall(clock, fn).start(100, false);
    expect(times).toEqual([]);
    clock.advance(100);
    clock.advance(100);
    expect(times).toEqual([150, 250]);
  });

  it("skips missed slots and realigns to the original schedule after a slow call", () => {
    const clock = new Clock();
    const times: number[] = [];
    let slow: Deferred<void> | null = null;
    const loop = new LoopingCall(clock, () => {
      times.push(clock.now());
      if (times.length === 2) {
        slow = new Deferred<void>();
        return slow;
      }
      return undefined;
    });
    void loop.start(100);
    clock.advance(100); // second call starts at 100 and is slow
    expect(times).toEqual([0, 100]);
    clock.advance(250); // now 350: slots 200 and 300 were missed while it was pending
    expect(times).toEqual([0, 100]);
    expect(clock.pendingCalls()).toHaveLength(0);
    slow!.callback(undefined); // finishes at 350: next slot of the original schedule is 400
    expect(clock.pendingCalls().map((c) => c.time)).toEqual([400]);
    clock.advance(50);
    clock.advance(100);
    expect(times).toEqual([0, 100, 400, 500]);
  });

  it("realigns when a call's own clock time moves past slots", () => {
    // A synchronous call cannot take time on a fake clock, so a clock that jumps while the
    // call runs stands in for a slow one.
    const clock = new Clock();
    const times: number[] = [];
    const loop = new LoopingCall(clock, () => {
      times.push(clock.now());
      if (times.length === 1) clock.advance(230); // re-entrant: nothing is scheduled yet
    });
    void loop.start(100);
    expect(clock.pendingCalls().map((c) => c.time)).toEqual([300]);
    clock.advance(70);
    expect(times).toEqual([0, 300]);
  });

  it("withCount passes the number of elapsed intervals, counting skipped ones", () => {
    const clock = new Clock();
    const counts: [number, number][] = [];
    let slow: Deferred<void> | null = null;
    const loop = LoopingCall.withCount(clock, (count) => {
      counts.push([clock.now(), count]);
      if (counts.length === 2) {
        slow = new Deferred<void>();
        return slow;
      }
      return undefined;
    });
    void loop.start(100);
    clock.advance(100);
    clock.advance(250);
    slow!.callback(undefined);
    clock.advance(50);
    clock.advance(100);
    expect(counts).toEqual([
      [0, 1],
      [100, 1],
      [400, 3],
      [500, 1],
    ]);
  });

  it("withCount counts the first call from the start when now is false", () => {
    const clock = new Clock();
    const counts: number[] = [];
    void LoopingCall.withCount(clock, (count) => void counts.push(count)).start(10, false);
    clock.advance(10);
    clock.advance(10);
    expect(counts).toEqual([1, 1]);
  });

  it("waits for a returned Promise before scheduling the next call", async () => {
    const clock = new Clock();
    const times: number[] = [];
    let release: (() => void) | null = null;
    const loop = new LoopingCall(clock, () => {
      times.push(clock.now());
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    void loop.start(10);
    clock.advance(35);
    expect(times).toEqual([0]);
    release!();
    await clock.advanceAsync(0);
    expect(clock.pendingCalls().map((c) => c.time)).toEqual([40]);
    await clock.advanceAsync(5);
    expect(times).toEqual([0, 40]);
    loop.stop();
  });

  it("fires the start Deferred with the LoopingCall on stop and cancels the timer", () => {
    const clock = new Clock();
    const { times, fn } = recorder(clock);
    const loop = new LoopingCall(clock, fn);
    let result: unknown = null;
    loop.start(100).addCallback((value) => {
      result = value;
    });
    clock.advance(100);
    loop.stop();
    expect(result).toBe(loop);
    expect(loop.running).toBe(false);
    expect(clock.pendingCalls()).toHaveLength(0);
    clock.advance(1000);
    expect(times).toEqual([0, 100]);
  });

  it("stopped while a returned Deferred is pending, fires only once it fires", () => {
    const clock = new Clock();
    const pending = new Deferred<void>();
    const loop = new LoopingCall(clock, () => pending);
    let stopped = false;
    loop.start(100).addCallback(() => {
      stopped = true;
    });
    loop.stop();
    expect(stopped).toBe(false);
    pending.callback(undefined);
    expect(stopped).toBe(true);
    expect(clock.pendingCalls()).toHaveLength(0);
  });

  it("stops and errbacks the start Deferred when the function throws", () => {
    const clock = new Clock();
    const boom = new Error("boom");
    let calls = 0;
    const loop = new LoopingCall(clock, () => {
      if (++calls === 3) throw boom;
    });
    let failure: unknown = null;
    loop.start(10).addErrback((error) => {
      failure = error;
    });
    clock.advance(10);
    expect(failure).toBe(null);
    clock.advance(10);
    expect(failure).toBe(boom);
    expect(loop.running).toBe(false);
    expect(clock.pendingCalls()).toHaveLength(0);
    expect(() => {
      loop.stop();
    }).toThrow(TaskStateError);
  });

  it("stops and errbacks when a returned Deferred fails", () => {
    const clock = new Clock();
    const pending = new Deferred<void>();
    const loop = new LoopingCall(clock, () => pending);
    let failure: unknown = null;
    loop.start(10).addErrback((error) => {
      failure = error;
    });
    const boom = new Error("late boom");
    pending.errback(boom);
    expect(failure).toBe(boom);
    expect(loop.running).toBe(false);
  });

  it("can be stopped from inside the function", () => {
    const clock = new Clock();
    let calls = 0;
    const loop: LoopingCall = new LoopingCall(clock, () => {
      if (++calls === 2) loop.stop();
    });
    let stopped = false;
    loop.start(10).addCallback(() => {
      stopped = true;
    });
    clock.advance(10);
    expect(stopped).toBe(true);
    clock.advance(100);
    expect(calls).toBe(2);
  });

  it("interval 0 calls again on every clock turn", () => {
    const clock = new Clock();
    let calls = 0;
    const loop: LoopingCall = new LoopingCall(clock, () => {
      if (++calls === 5) loop.stop();
    });
    void loop.start(0);
    clock.advance(0);
    expect(calls).toBe(5);
    expect(clock.now()).toBe(0);
  });

  it("reset restarts the schedule from now", () => {
    const clock = new Clock();
    const { times, fn } = recorder(clock);
    const loop = new LoopingCall(clock, fn);
    void loop.start(100);
    clock.advance(30);
    loop.reset();
    clock.advance(100);
    clock.advance(100);
    expect(times).toEqual([0, 130, 230]);
  });

  it("rejects a second start, a stop when idle and a bad interval", () => {
    const clock = new Clock();
    const loop = new LoopingCall(clock, () => undefined);
    expect(() => loop.stop()).toThrow(TaskStateError);
    expect(() => loop.start(-1)).toThrow(InvalidOptionError);
    expect(() => loop.start(Number.NaN)).toThrow(InvalidOptionError);
    void loop.start(10);
    expect(() => loop.start(10)).toThrow(TaskStateError);
    loop.stop();
    // Restartable once stopped.
    void loop.start(10);
    expect(loop.running).toBe(true);
    loop.stop();
  });
});
