import { describe, expect, it } from "vitest";
import { Clock } from "../../fakes/clock.js";
import { Deferred } from "../../runtime/deferred.js";
import { DelayedCallCancelledError, DelayedCallRanError, ReactorStalledError, UnhandledReactorError } from "../../runtime/errors.js";
import { deferLater } from "../../runtime/tasks.js";

/** A deferLater-style helper written here so the test does not depend on tasks.ts alone. */
function sleep(clock: Clock, ms: number): Deferred<void> {
  const d = new Deferred<void>();
  clock.callLater(ms, () => {
    d.callback(undefined);
  });
  return d;
}

describe("Clock.advance", () => {
  it("sets the time before running the calls that are due", () => {
    const clock = new Clock();
    const seen: number[] = [];
    clock.callLater(100, () => seen.push(clock.now()));
    clock.callLater(250, () => seen.push(clock.now()));
    clock.advance(300);
    // Twisted's Clock.advance semantics: time is set first, calls see the new time.
    expect(seen).toEqual([300, 300]);
    expect(clock.now()).toBe(300);
  });

  it("runs due calls in time order, ties in insertion order, and leaves later ones", () => {
    const clock = new Clock();
    const order: string[] = [];
    clock.callLater(20, () => order.push("b20"));
    clock.callLater(10, () => order.push("a10"));
    clock.callLater(20, () => order.push("c20"));
    clock.callLater(10, () => order.push("d10"));
    clock.callLater(31, () => order.push("late"));
    clock.advance(30);
    expect(order).toEqual(["a10", "d10", "b20", "c20"]);
    expect(clock.pendingCalls().map((c) => c.time)).toEqual([31]);
  });

  it("runs calls scheduled while advancing that are already due", () => {
    const clock = new Clock();
    const order: string[] = [];
    clock.callLater(10, () => {
      order.push("first");
      clock.callLater(0, () => order.push("zero"));
      clock.callLater(5, () => order.push("five")); // due at 105, past the target
    });
    clock.callLater(50, () => order.push("fifty"));
    clock.advance(100);
    // "zero" is due at 100 (now is 100), after "fifty" which was scheduled earlier for 50.
    expect(order).toEqual(["first", "fifty", "zero"]);
    expect(clock.pendingCalls().map((c) => c.time)).toEqual([105]);
  });

  it("turns an endless callLater(0) loop into ReactorStalledError naming the step count", () => {
    const clock = new Clock({ maxSteps: 50 });
    const again = (): void => {
      clock.callLater(0, again);
    };
    clock.callLater(0, again);
    let error: unknown;
    try {
      clock.advance(0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReactorStalledError);
    expect((error as ReactorStalledError).code).toBe("WL_ERR_REACTOR_STALLED");
    expect((error as ReactorStalledError).steps).toBe(50);
    expect((error as Error).message).toContain("50 steps");
  });

  it("rejects going backwards and a NaN delay", () => {
    const clock = new Clock();
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.callLater(Number.NaN, () => undefined)).toThrow(RangeError);
  });

  it("reports a throwing call through onError and keeps running the others", () => {
    const errors: Error[] = [];
    const clock = new Clock({ onError: (e) => errors.push(e) });
    const ran: string[] = [];
    clock.callLater(1, () => {
      throw new Error("boom");
    });
    clock.callLater(1, () => ran.push("after"));
    clock.advance(1);
    expect(ran).toEqual(["after"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(UnhandledReactorError);
    expect((errors[0] as UnhandledReactorError).cause).toEqual(new Error("boom"));
  });

  it("rethrows from advance by default", () => {
    const clock = new Clock();
    clock.callLater(1, () => {
      throw new Error("boom");
    });
    expect(() => clock.advance(1)).toThrow(UnhandledReactorError);
  });
});

describe("FakeDelayedCall", () => {
  it("cancel, reset and delay move or drop the call; a ran or cancelled call refuses them", () => {
    const clock = new Clock();
    const ran: string[] = [];
    const a = clock.callLater(10, () => ran.push("a"));
    const b = clock.callLater(10, () => ran.push("b"));
    const c = clock.callLater(10, () => ran.push("c"));
    a.cancel();
    b.delay(5);
    clock.advance(4);
    c.reset(10); // now due at 14
    expect(b.time).toBe(15);
    expect(c.time).toBe(14);
    clock.advance(10);
    expect(ran).toEqual(["c"]);
    clock.advance(1);
    expect(ran).toEqual(["c", "b"]);
    expect(a.active()).toBe(false);
    expect(() => a.cancel()).toThrow(DelayedCallCancelledError);
    expect(() => b.reset(1)).toThrow(DelayedCallRanError);
    expect(() => b.delay(1)).toThrow(DelayedCallRanError);
  });
});

describe("Clock.stepToNext, pendingCalls, runUntilIdle", () => {
  it("pendingCalls lists active calls earliest first", () => {
    const clock = new Clock({ start: 1000 });
    clock.callLater(30, () => undefined);
    clock.callLater(10, () => undefined);
    const cancelled = clock.callLater(20, () => undefined);
    cancelled.cancel();
    expect(clock.pendingCalls().map((c) => c.time)).toEqual([1010, 1030]);
  });

  it("stepToNext jumps to the next deadline and runs everything due then", () => {
    const clock = new Clock();
    const ran: string[] = [];
    clock.callLater(10, () => ran.push("a"));
    clock.callLater(10, () => ran.push("b"));
    clock.callLater(20, () => ran.push("c"));
    expect(clock.stepToNext()).toBe(true);
    expect(clock.now()).toBe(10);
    expect(ran).toEqual(["a", "b"]);
    expect(clock.stepToNext()).toBe(true);
    expect(clock.now()).toBe(20);
    expect(clock.stepToNext()).toBe(false);
    expect(clock.now()).toBe(20);
  });

  it("runUntilIdle runs everything, moving time, and is bounded", () => {
    const clock = new Clock();
    let count = 0;
    const tick = (): void => {
      if (++count < 5) clock.callLater(100, tick);
    };
    clock.callLater(100, tick);
    clock.runUntilIdle();
    expect(count).toBe(5);
    expect(clock.now()).toBe(500);
    expect(clock.pendingCalls()).toHaveLength(0);

    const bounded = new Clock({ maxSteps: 10 });
    const forever = (): void => {
      bounded.callLater(1, forever);
    };
    bounded.callLater(1, forever);
    expect(() => bounded.runUntilIdle()).toThrow(ReactorStalledError);
    expect(bounded.now()).toBe(10);
  });
});

describe("Clock.advanceAsync", () => {
  it("completes two chained awaits of 1000 ms Deferreds within advanceAsync(2000)", async () => {
    const clock = new Clock();
    const times: number[] = [];
    const done = (async () => {
      await sleep(clock, 1000);
      times.push(clock.now());
      await sleep(clock, 1000);
      times.push(clock.now());
    })();
    await clock.advanceAsync(2000);
    expect(times).toEqual([1000, 2000]);
    expect(clock.now()).toBe(2000);
    await done;
  });

  it("works with the runtime's deferLater too", async () => {
    const clock = new Clock();
    let finished = -1;
    const run = async (): Promise<void> => {
      await deferLater(clock, 1000);
      await deferLater(clock, 1000);
      finished = clock.now();
    };
    const p = run();
    await clock.advanceAsync(1999);
    expect(finished).toBe(-1);
    await clock.advanceAsync(1);
    expect(finished).toBe(2000);
    await p;
  });

  it("plain advance does not run await continuations in between (the reason advanceAsync exists)", async () => {
    const clock = new Clock();
    let second = false;
    const p = (async () => {
      await sleep(clock, 1000);
      await sleep(clock, 1000);
      second = true;
    })();
    clock.advance(2000);
    // The first continuation has not run, so the second sleep is not even scheduled yet.
    expect(second).toBe(false);
    await clock.advanceAsync(0);
    expect(clock.pendingCalls().map((c) => c.time)).toEqual([3000]);
    await clock.advanceAsync(1000);
    expect(second).toBe(true);
    await p;
  });

  it("is bounded like advance", async () => {
    const clock = new Clock({ maxSteps: 20 });
    const again = (): void => {
      clock.callLater(0, again);
    };
    clock.callLater(0, again);
    await expect(clock.advanceAsync(10)).rejects.toBeInstanceOf(ReactorStalledError);
  });
});
