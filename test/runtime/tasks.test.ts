import { describe, expect, it } from "vitest";
import { Clock } from "../../fakes/clock.js";
import { Deferred } from "../../runtime/deferred.js";
import { CancelledError } from "../../runtime/errors.js";
import { deferLater } from "../../runtime/tasks.js";

describe("deferLater", () => {
  it("fires with undefined after the delay when no function is given", () => {
    const clock = new Clock();
    const d = deferLater(clock, 100);
    let fired = false;
    d.addCallback((value) => {
      expect(value).toBeUndefined();
      fired = true;
    });
    clock.advance(99);
    expect(fired).toBe(false);
    clock.advance(1);
    expect(fired).toBe(true);
  });

  it("fires with the function's result, called with the arguments, only when due", () => {
    const clock = new Clock();
    const calls: number[] = [];
    const d = deferLater(clock, 50, (a: number, b: number) => {
      calls.push(clock.now());
      return a + b;
    }, 2, 3);
    let result: number | null = null;
    d.addCallback((value) => {
      result = value;
    });
    expect(calls).toEqual([]);
    clock.advance(50);
    expect(calls).toEqual([50]);
    expect(result).toBe(5);
  });

  it("fails with what the function throws", () => {
    const clock = new Clock();
    const boom = new Error("boom");
    let failure: unknown = null;
    deferLater(clock, 10, () => {
      throw boom;
    }).addErrback((error) => {
      failure = error;
    });
    clock.advance(10);
    expect(failure).toBe(boom);
  });

  it("waits for a Deferred the function returns", () => {
    const clock = new Clock();
    const inner = new Deferred<string>();
    let result: string | null = null;
    deferLater(clock, 10, () => inner).addCallback((value) => {
      result = value;
    });
    clock.advance(10);
    expect(result).toBe(null);
    inner.callback("inner");
    expect(result).toBe("inner");
  });

  it("cancelling cancels the timer and fails with CancelledError; the function never runs", () => {
    const clock = new Clock();
    let ran = false;
    const d = deferLater(clock, 10, () => {
      ran = true;
    });
    let failure: unknown = null;
    d.addErrback((error) => {
      failure = error;
    });
    expect(clock.pendingCalls()).toHaveLength(1);
    d.cancel();
    expect(failure).toBeInstanceOf(CancelledError);
    expect(clock.pendingCalls()).toHaveLength(0);
    clock.advance(100);
    expect(ran).toBe(false);
  });

  it("cancelling after it fired does nothing to the clock", () => {
    const clock = new Clock();
    const d = deferLater(clock, 10, () => 1);
    clock.advance(10);
    expect(() => d.cancel()).not.toThrow();
  });
});
