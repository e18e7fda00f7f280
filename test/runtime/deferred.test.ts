import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  Deferred,
  DeferredList,
  DeferredLock,
  DeferredQueue,
  DeferredSemaphore,
  fail,
  flushUnhandledErrors,
  gatherResults,
  maybeDeferred,
  race,
  setUnhandledErrorHook,
  succeed,
  trackUnhandledErrors,
} from "../../runtime/deferred.js";
import type { DeferredListEntry } from "../../runtime/deferred.js";
import type { UnhandledErrorInDeferred } from "../../runtime/errors.js";
import { AllFailedError, AlreadyCalledError, CancelledError, CancellerFailedError, FirstError, InvalidOptionError, NotHeldError, QueueOverflowError, QueueUnderflowError, TimeoutError } from "../../runtime/errors.js";
import { Clock } from "../../fakes/clock.js";

type Outcome = { state: "pending" } | { state: "ok"; value: unknown } | { state: "failed"; error: unknown };

/** Watches the end of `d`'s chain; consumes a failure, so the watched Deferred is handled. */
function watch(d: Deferred<unknown>): { readonly current: Outcome } {
  const box: { current: Outcome } = { current: { state: "pending" } };
  d.addCallbacks(
    (value) => {
      box.current = { state: "ok", value };
    },
    (error) => {
      box.current = { state: "failed", error };
    },
  );
  return box;
}

function failedWith(box: { readonly current: Outcome }): unknown {
  if (box.current.state !== "failed") throw new Error(`expected a failure, got ${JSON.stringify(box.current)}`);
  return box.current.error;
}

function valueOf(box: { readonly current: Outcome }): unknown {
  if (box.current.state !== "ok") throw new Error(`expected a value, got ${String(box.current.state)}`);
  return box.current.value;
}

// Every test runs with unhandled-error tracking on, and fails if a Deferred error it did not
// expect ended a chain unhandled.
beforeEach(() => {
  trackUnhandledErrors(true);
});
afterEach(() => {
  const leftover = flushUnhandledErrors();
  trackUnhandledErrors(false);
  expect(leftover.map((e) => e.message)).toEqual([]);
});

describe("firing", () => {
  it("runs callbacks synchronously, in order, threading the value", () => {
    const d = new Deferred<number>();
    const seen: string[] = [];
    d.addCallback((n) => {
      seen.push(`a${n}`);
      return n + 1;
    }).addCallback((n) => {
      seen.push(`b${n}`);
      return n * 10;
    });
    expect(seen).toEqual([]);
    expect(d.called).toBe(false);
    d.callback(1);
    expect(d.called).toBe(true);
    expect(seen).toEqual(["a1", "b2"]);
    expect(valueOf(watch(d))).toBe(20);
  });

  it("runs a callback added after firing at once", () => {
    const d = succeed(3);
    let got: number | undefined;
    d.addCallback((n) => {
      got = n;
    });
    expect(got).toBe(3);
  });

  it("fires only once", () => {
    const d = new Deferred<number>();
    d.callback(1);
    expect(() => d.callback(2)).toThrow(AlreadyCalledError);
    expect(() => d.errback(new Error("x"))).toThrow(AlreadyCalledError);
    try {
      d.callback(3);
    } catch (error) {
      expect((error as AlreadyCalledError).code).toBe("WL_ERR_ALREADY_CALLED");
    }
    expect(valueOf(watch(d))).toBe(1);
  });

  it("refuses to be fired with a Deferred", () => {
    const d = new Deferred<unknown>();
    expect(() => d.callback(new Deferred())).toThrow(TypeError);
    expect(d.called).toBe(false);
  });

  it("passes extra arguments to callbacks and errbacks", () => {
    const d = succeed(1).addCallback((n, a: number, b: string) => `${n + a}${b}`, 2, "x");
    expect(valueOf(watch(d))).toBe("3x");
    const e = fail(new Error("bad")).addErrback((err, tag: string) => `${tag}:${(err as Error).message}`, "caught");
    expect(valueOf(watch(e))).toBe("caught:bad");
  });
});

describe("the errback path", () => {
  it("skips callbacks after a throw and recovers in an errback", () => {
    const boom = new Error("boom");
    const seen: string[] = [];
    const d = new Deferred<number>();
    d.addCallback(() => {
      throw boom;
    })
      .addCallback(() => seen.push("skipped"))
      .addErrback((error) => {
        seen.push("errback");
        expect(error).toBe(boom);
        return 7;
      })
      .addCallback((n) => {
        seen.push(`after ${String(n)}`);
        return n;
      });
    d.callback(0);
    expect(seen).toEqual(["errback", "after 7"]);
    expect(valueOf(watch(d))).toBe(7);
  });

  it("stays on the errback path when an errback throws, with the new error", () => {
    const second = new Error("second");
    const d = fail(new Error("first")).addErrback(() => {
      throw second;
    });
    expect(failedWith(watch(d))).toBe(second);
  });

  it("skips errbacks while succeeding", () => {
    let ran = false;
    const d = succeed(1).addErrback(() => {
      ran = true;
    });
    expect(ran).toBe(false);
    expect(valueOf(watch(d))).toBe(1);
  });

  it("runs addBoth on both paths; returning the error makes it a value", () => {
    const err = new Error("e");
    const seen: unknown[] = [];
    const ok = succeed(1).addBoth((r) => {
      seen.push(r);
      return r;
    });
    const bad = fail(err).addBoth((r) => {
      seen.push(r);
      return r;
    });
    expect(seen).toEqual([1, err]);
    expect(valueOf(watch(ok))).toBe(1);
    expect(valueOf(watch(bad))).toBe(err);
  });

  it("keeps addCallbacks' two functions at one level", () => {
    const thrown = new Error("from onValue");
    let errbackSaw: unknown = "nothing";
    const d = succeed(1).addCallbacks(
      () => {
        throw thrown;
      },
      (error) => {
        errbackSaw = error;
      },
    );
    expect(errbackSaw).toBe("nothing");
    expect(failedWith(watch(d))).toBe(thrown);
  });

  it("treats a non-Error thrown value as the failure", () => {
    const d = succeed(1).addCallback(() => {
      throw "a string";
    });
    expect(failedWith(watch(d))).toBe("a string");
  });

  it("chainDeferred fires the other Deferred with the value or the error", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    a.chainDeferred(b);
    a.callback(5);
    expect(valueOf(watch(b))).toBe(5);
    expect(valueOf(watch(a))).toBeUndefined();

    const err = new Error("x");
    const c = new Deferred<number>();
    const e = new Deferred<number>();
    c.chainDeferred(e);
    c.errback(err);
    expect(failedWith(watch(e))).toBe(err);
    expect(valueOf(watch(c))).toBeUndefined();
  });
});

describe("re-entrant callbacks", () => {
  it("runs callbacks a callback adds to its own Deferred after the ones already there", () => {
    const d = new Deferred<number>();
    const seen: string[] = [];
    d.addCallback((n) => {
      seen.push("first");
      d.addCallback((m) => {
        seen.push(`added ${m}`);
        return m + 100;
      });
      return n + 1;
    });
    d.addCallback((n) => {
      seen.push(`second ${n}`);
      return n + 1;
    });
    d.callback(0);
    expect(seen).toEqual(["first", "second 1", "added 2"]);
    expect(valueOf(watch(d))).toBe(102);
  });

  it("turns firing its own Deferred from a callback into AlreadyCalledError", () => {
    const d = new Deferred<number>();
    d.addCallback(() => {
      d.callback(2);
    });
    d.callback(1);
    expect(failedWith(watch(d))).toBeInstanceOf(AlreadyCalledError);
  });

  it("fails with TypeError when a callback returns its own Deferred", () => {
    const d = new Deferred<unknown>();
    d.addCallback(() => d);
    d.callback(1);
    expect(failedWith(watch(d))).toBeInstanceOf(TypeError);
  });

  it("takes the result of a Deferred a callback fires and then returns", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    b.addCallback((n) => n * 2);
    a.addCallback(() => {
      b.callback(21);
      return b;
    });
    a.callback(0);
    expect(valueOf(watch(a))).toBe(42);
  });

  it("waits for the final result of a Deferred whose callback is running", () => {
    // b's callback fires a, whose callback returns b while b is mid-chain: a must see what b
    // ends with, not the value b's running callback was given.
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    b.addCallback(() => {
      a.callback(1);
      return 2;
    }).addCallback((n) => n + 1);
    a.addCallback(() => b);
    const result = watch(a);
    b.callback(0);
    expect(valueOf(result)).toBe(3);
  });

  it("lets a callback of the inner Deferred add callbacks to the waiting one", () => {
    const outer = new Deferred<number>();
    const inner = new Deferred<number>();
    const seen: string[] = [];
    outer.addCallback(() => inner).addCallback((n) => {
      seen.push(`outer ${n}`);
      return n;
    });
    inner.addCallback((n) => {
      outer.addCallback((m) => {
        seen.push(`late ${m}`);
        return m;
      });
      return n + 1;
    });
    outer.callback(0);
    inner.callback(1);
    expect(seen).toEqual(["outer 2", "late 2"]);
  });

  it("resumes a waiting Deferred when a callback of another Deferred fires the inner one", () => {
    const outer = new Deferred<string>();
    const inner = new Deferred<string>();
    const trigger = new Deferred<void>();
    outer.addCallback(() => inner).addCallback((s) => `${s}!`);
    trigger.addCallback(() => {
      inner.callback("fired");
    });
    outer.callback("");
    const result = watch(outer);
    expect(result.current.state).toBe("pending");
    trigger.callback();
    expect(valueOf(result)).toBe("fired!");
  });
});

describe("a callback returning a Deferred", () => {
  it("pauses the chain until the inner Deferred fires", () => {
    const outer = new Deferred<number>();
    const inner = new Deferred<number>();
    const seen: number[] = [];
    outer.addCallback(() => inner).addCallback((n) => {
      seen.push(n);
      return n;
    });
    outer.callback(0);
    expect(outer.paused).toBe(true);
    expect(seen).toEqual([]);
    inner.callback(5);
    expect(outer.paused).toBe(false);
    expect(seen).toEqual([5]);
  });

  it("takes an already-fired Deferred's value at once and leaves it carrying undefined", () => {
    const inner = succeed(9);
    const outer = succeed(0).addCallback(() => inner);
    expect(outer.paused).toBe(false);
    expect(valueOf(watch(outer))).toBe(9);
    expect(valueOf(watch(inner))).toBeUndefined();
  });

  it("carries an already-failed inner Deferred's error down the outer chain, handled on the inner", () => {
    const err = new Error("inner failed");
    const inner = fail(err);
    // The inner Deferred's failure ended its chain, so it is unhandled until the outer takes it.
    const outer = succeed(0).addCallback(() => inner);
    expect(failedWith(watch(outer))).toBe(err);
    expect(flushUnhandledErrors()).toEqual([]);
    expect(valueOf(watch(inner))).toBeUndefined();
  });

  it("carries a later failure of the inner Deferred down the outer chain", () => {
    const err = new Error("later");
    const inner = new Deferred<number>();
    const outer = succeed(0).addCallback(() => inner);
    inner.errback(err);
    expect(flushUnhandledErrors()).toHaveLength(1); // the outer chain ends unhandled
    const again = new Deferred<number>();
    const watched = succeed(0).addCallback(() => again);
    const result = watch(watched);
    again.errback(err);
    expect(failedWith(result)).toBe(err);
    expect(outer.called).toBe(true);
  });

  it("waits for an inner Deferred that is itself waiting", () => {
    const innermost = new Deferred<string>();
    const middle = succeed(0).addCallback(() => innermost);
    const outer = succeed(0).addCallback(() => middle);
    const result = watch(outer);
    expect(result.current.state).toBe("pending");
    innermost.callback("deep");
    expect(valueOf(result)).toBe("deep");
  });

  it("waits for an inner Deferred that is paused", () => {
    const inner = succeed(4);
    inner.pause();
    const result = watch(succeed(0).addCallback(() => inner));
    expect(result.current.state).toBe("pending");
    inner.unpause();
    expect(valueOf(result)).toBe(4);
  });

  it("lets several Deferreds wait on one inner Deferred, the first getting its result", () => {
    const inner = new Deferred<number>();
    const first = watch(succeed(0).addCallback(() => inner));
    const second = watch(succeed(0).addCallback(() => inner));
    inner.callback(1);
    expect(valueOf(first)).toBe(1);
    expect(valueOf(second)).toBeUndefined();
  });
});

describe("a callback returning a Promise", () => {
  it("pauses the chain until the Promise resolves", async () => {
    const d = succeed(1).addCallback((n) => Promise.resolve(n + 1));
    expect(d.paused).toBe(true);
    expect(await d).toBe(2);
  });

  it("switches to the errback path when the Promise rejects", async () => {
    const err = new Error("rejected");
    const d = succeed(1).addCallback(() => Promise.reject(err));
    await expect(d.asPromise()).rejects.toBe(err);
  });

  it("survives a thenable that calls back twice or throws from then", async () => {
    const twice: PromiseLike<number> = {
      then(onFulfilled) {
        onFulfilled?.(1);
        onFulfilled?.(2);
        return Promise.resolve() as unknown as PromiseLike<never>;
      },
    };
    expect(await succeed(0).addCallback(() => twice)).toBe(1);
    const err = new Error("then threw");
    const throwing: PromiseLike<number> = {
      then() {
        throw err;
      },
    };
    await expect(succeed(0).addCallback(() => throwing).asPromise()).rejects.toBe(err);
  });

  it("fails with CancelledError when cancelled while waiting, ignoring the Promise afterwards", async () => {
    let resolve!: (n: number) => void;
    const promise = new Promise<number>((r) => {
      resolve = r;
    });
    const d = succeed(0).addCallback(() => promise);
    const result = watch(d);
    d.cancel();
    expect(failedWith(result)).toBeInstanceOf(CancelledError);
    resolve(5);
    await promise;
    await Promise.resolve();
    expect(failedWith(result)).toBeInstanceOf(CancelledError);
  });
});

describe("pause and unpause", () => {
  it("holds the callbacks of a paused Deferred until every pause is undone", () => {
    const d = new Deferred<number>();
    let ran = false;
    d.addCallback(() => {
      ran = true;
    });
    d.pause();
    d.pause();
    d.callback(1);
    expect(ran).toBe(false);
    expect(d.paused).toBe(true);
    d.unpause();
    expect(ran).toBe(false);
    d.unpause();
    expect(ran).toBe(true);
    expect(d.paused).toBe(false);
  });

  it("unpausing an unfired Deferred runs nothing", () => {
    const d = new Deferred<number>();
    let ran = false;
    d.addCallback(() => {
      ran = true;
    });
    d.pause();
    d.unpause();
    expect(ran).toBe(false);
    d.callback(1);
    expect(ran).toBe(true);
  });
});

describe("cancel", () => {
  it("calls the canceller with the Deferred, then fails with CancelledError", () => {
    const calls: Deferred<number>[] = [];
    const d = new Deferred<number>((self) => calls.push(self));
    const result = watch(d);
    d.cancel();
    expect(calls).toEqual([d]);
    const error = failedWith(result);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as CancelledError).code).toBe("WL_ERR_CANCELLED");
  });

  it("keeps what the canceller fires the Deferred with", () => {
    const ok = new Deferred<string>((self) => self.callback("cancelled politely"));
    ok.cancel();
    expect(valueOf(watch(ok))).toBe("cancelled politely");
    const err = new Error("custom");
    const bad = new Deferred<string>((self) => self.errback(err));
    bad.cancel();
    expect(failedWith(watch(bad))).toBe(err);
  });

  it("without a canceller, ignores the source's next firing once", () => {
    const d = new Deferred<number>();
    const result = watch(d);
    d.cancel();
    expect(failedWith(result)).toBeInstanceOf(CancelledError);
    expect(() => d.callback(1)).not.toThrow();
    expect(() => d.callback(2)).toThrow(AlreadyCalledError);
  });

  it("with a canceller that does not fire, still raises AlreadyCalledError on a late firing", () => {
    const d = new Deferred<number>(() => undefined);
    watch(d);
    d.cancel();
    expect(() => d.callback(1)).toThrow(AlreadyCalledError);
  });

  it("does nothing once the Deferred has fired", () => {
    let cancellerRan = false;
    const d = new Deferred<number>(() => {
      cancellerRan = true;
    });
    d.callback(1);
    d.cancel();
    expect(cancellerRan).toBe(false);
    expect(valueOf(watch(d))).toBe(1);
  });

  it("does nothing the second time", () => {
    let cancels = 0;
    const d = new Deferred<number>(() => {
      cancels++;
    });
    watch(d);
    d.cancel();
    d.cancel();
    expect(cancels).toBe(1);
  });

  it("forwards to the Deferred the chain waits on, through every level", () => {
    const cancelled: string[] = [];
    const innermost = new Deferred<number>(() => cancelled.push("innermost"));
    const middle = new Deferred<number>(() => cancelled.push("middle"));
    middle.addCallback(() => innermost);
    middle.callback(0);
    const outer = new Deferred<number>(() => cancelled.push("outer"));
    outer.addCallback(() => middle);
    outer.callback(0);
    const result = watch(outer);
    outer.cancel();
    expect(cancelled).toEqual(["innermost"]);
    expect(failedWith(result)).toBeInstanceOf(CancelledError);
  });

  it("does nothing from inside the Deferred's own callback", () => {
    const d = new Deferred<number>();
    d.addCallback((n) => {
      d.cancel();
      return n + 1;
    });
    d.callback(1);
    expect(valueOf(watch(d))).toBe(2);
  });

  it("cancels, from inside a callback, the Deferred that the chain waits on", () => {
    const inner = new Deferred<number>();
    const outer = succeed(0).addCallback(() => inner);
    const trigger = succeed(0).addCallback(() => {
      outer.cancel();
    });
    expect(trigger.called).toBe(true);
    expect(failedWith(watch(outer))).toBeInstanceOf(CancelledError);
    expect(inner.called).toBe(true);
  });

  it("lets a canceller fire the inner Deferred with a value that resumes the outer chain", () => {
    const inner = new Deferred<number>((self) => self.callback(-1));
    const outer = succeed(0)
      .addCallback(() => inner)
      .addCallback((n) => n * 2);
    outer.cancel();
    expect(valueOf(watch(outer))).toBe(-2);
  });
});

describe("cancelling several at once: a canceller that throws", () => {
  /** A Deferred whose canceller throws `error` and does not fire it. */
  const throwing = (error: Error): Deferred<number> =>
    new Deferred<number>(() => {
      throw error;
    });

  /** The reported errors, each a CancellerFailedError around a canceller's own error. */
  function reportedCancellerErrors(): unknown[] {
    return flushUnhandledErrors().map((e) => {
      expect(e.cause).toBeInstanceOf(CancellerFailedError);
      expect((e.cause as CancellerFailedError).code).toBe("WL_ERR_CANCELLER_FAILED");
      return (e.cause as CancellerFailedError).cause;
    });
  }

  it("DeferredList.cancel() reports it, still cancels every other member, returns, and the list fires", () => {
    const boom = new Error("boom");
    const before = new Deferred<number>();
    const bad = throwing(boom);
    const after = new Deferred<number>();
    const list = DeferredList([before, bad, after], { consumeErrors: true });
    const result = watch(list);
    expect(() => list.cancel()).not.toThrow();
    expect(before.called && after.called).toBe(true);
    expect(bad.called).toBe(false);
    // Its members' cancellation left one of them unfired: the list fails like any cancelled Deferred.
    expect(failedWith(result)).toBeInstanceOf(CancelledError);
    expect(reportedCancellerErrors()).toEqual([boom]);
    bad.callback(1); // its late outcome goes nowhere
  });

  it("gatherResults: the same, and the gather fails with the first CancelledError", () => {
    const boom = new Error("boom");
    const bad = throwing(boom);
    const other = new Deferred<number>();
    const gathered = gatherResults([bad, other], true);
    const result = watch(gathered);
    expect(() => gathered.cancel()).not.toThrow();
    const error = failedWith(result);
    expect(error).toBeInstanceOf(FirstError);
    expect((error as FirstError).index).toBe(1);
    expect((error as FirstError).cause).toBeInstanceOf(CancelledError);
    expect(reportedCancellerErrors()).toEqual([boom]);
    bad.callback(1);
  });

  it("addTimeout on a list: the timeout fires, clock.advance does not throw, every member is cancelled", () => {
    const clock = new Clock();
    const boom = new Error("boom");
    const bad = throwing(boom);
    const other = new Deferred<number>();
    const list = DeferredList([bad, other], { consumeErrors: true }).addTimeout(100, clock);
    const result = watch(list);
    expect(() => clock.advance(100)).not.toThrow();
    expect(other.called).toBe(true);
    expect(failedWith(result)).toBeInstanceOf(TimeoutError);
    expect(reportedCancellerErrors()).toEqual([boom]);
    bad.callback(1);
  });

  it("race: a loser whose canceller throws is reported, the others are cancelled, the winner is delivered", () => {
    const boom = new Error("boom");
    const winner = new Deferred<number>();
    const bad = throwing(boom);
    const other = new Deferred<number>();
    const result = watch(race([winner, bad, other]));
    winner.callback(7);
    expect(valueOf(result)).toEqual([0, 7]);
    expect(other.called).toBe(true);
    expect(reportedCancellerErrors()).toEqual([boom]);
    bad.callback(1);
  });

  it("a single Deferred's canceller that throws still throws from cancel(), as in Twisted", () => {
    const boom = new Error("boom");
    const d = throwing(boom);
    expect(() => d.cancel()).toThrow(boom);
    expect(d.called).toBe(false);
  });
});

/**
 * One test per row of the table "Deferred: differences from Twisted" in runtime/README.md; the
 * differential test against Twisted itself (deferred-twisted.integration.test.ts) checks that
 * the table is complete.
 */
describe("differences from Twisted (runtime/README.md)", () => {
  it("pause() while the chain runs stops it before the next callback", () => {
    const d = new Deferred<number>();
    const seen: string[] = [];
    d.addCallback((n) => {
      seen.push("a");
      d.pause();
      return n;
    }).addCallback((n) => {
      seen.push("b");
      return n;
    });
    d.callback(1);
    expect(seen).toEqual(["a"]); // Twisted: ["a", "b"]
    d.unpause();
    expect(seen).toEqual(["a", "b"]);
  });

  it("a callback that returns a Deferred whose chain is still running waits for the end of that chain", () => {
    const d0 = new Deferred<string>();
    const d1 = new Deferred<number>();
    const seen: unknown[] = [];
    d1.addCallback(() => d0).addCallback((v) => seen.push(["d1 got", v]));
    d0.addCallback(() => {
      d1.callback(0); // d1's callback returns d0, whose callback is running right now
      return "final";
    }).addCallback((v) => {
      seen.push(["d0 next", v]);
      return v;
    });
    d0.callback("first");
    // Twisted hands d1 the value d0's running callback was given: ["d1 got", "first"] first.
    expect(seen).toEqual([
      ["d0 next", "final"],
      ["d1 got", "final"],
    ]);
  });

  it("a callback that returns its own Deferred fails the chain with TypeError", () => {
    const d = new Deferred<number>();
    d.addCallback(() => d);
    const result = watch(d);
    d.callback(1);
    expect(failedWith(result)).toBeInstanceOf(TypeError); // Twisted: a warning, then stuck for good
  });

  it("unpause() without a pause() does nothing, even on a Deferred waiting on another", () => {
    const plain = new Deferred<number>();
    plain.unpause(); // Twisted: the pause count goes to -1, and the Deferred acts paused
    plain.callback(1);
    expect(valueOf(watch(plain))).toBe(1);

    const inner = new Deferred<number>();
    const outer = succeed(0).addCallback(() => inner);
    const result = watch(outer);
    outer.unpause(); // Twisted: wakes outer, whose callbacks then get `inner` itself
    expect(result.current.state).toBe("pending");
    inner.callback(3);
    expect(valueOf(result)).toBe(3);
  });

  it("an inner Deferred hands its result to a paused outer one, and its own later callbacks still run", () => {
    const inner = new Deferred<number>();
    const outer = succeed(0).addCallback(() => inner);
    const later: unknown[] = [];
    inner.addCallback((v) => {
      later.push(v);
      return v;
    });
    outer.pause();
    inner.callback(5);
    expect(later).toEqual([undefined]); // Twisted: [] (it stops after the hand-over), for good
    const result = watch(outer);
    expect(result.current.state).toBe("pending");
    outer.unpause();
    expect(valueOf(result)).toBe(5);
  });

  it("cancelling a list that its members' cancellation does not fire fails it with CancelledError", () => {
    const member = succeed(1);
    member.pause(); // fired, but its result is held: cancel() cannot reach it
    const list = DeferredList([member]);
    const result = watch(list);
    list.cancel();
    expect(failedWith(result)).toBeInstanceOf(CancelledError); // Twisted: still waiting
    member.unpause();
  });

  it("cancelling a list that fired and waits on a Deferred a callback returned cancels that Deferred", () => {
    let cancelled = false;
    const inner = new Deferred<number>(() => {
      cancelled = true;
    });
    const list = DeferredList([succeed(1)]).addCallback(() => inner);
    const result = watch(list);
    list.cancel();
    expect(cancelled).toBe(true); // Twisted: nothing happens once the list has fired
    expect(failedWith(result)).toBeInstanceOf(CancelledError);
  });

  it("a cancellation that comes back to a Deferred being cancelled stops there", () => {
    let cancellerRuns = 0;
    const d: Deferred<number> = new Deferred<number>(() => {
      cancellerRuns++;
      d.cancel(); // Twisted: recurses until RecursionError
    });
    const result = watch(d);
    d.cancel();
    expect(cancellerRuns).toBe(1);
    expect(failedWith(result)).toBeInstanceOf(CancelledError);

    // A member waiting on its own list: cancelling the list comes back to it through the member.
    const member = succeed(0);
    const list = DeferredList([member, new Deferred<number>()], { consumeErrors: true });
    const memberResult = watch(member.addCallback(() => list));
    expect(() => list.cancel()).not.toThrow(); // before: RangeError, the stack overflowed
    // The list fired with its entries, and handed them to the member waiting on it.
    const entries = valueOf(memberResult) as DeferredListEntry<number>[];
    expect(entries[0]).toEqual([true, 0]);
    expect(entries[1]![1]).toBeInstanceOf(CancelledError);
  });

  it("cancelling Deferreds that wait on one another in a cycle throws TypeError", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    a.addCallback(() => b);
    b.addCallback(() => a);
    a.callback(0);
    b.callback(0);
    expect(a.paused && b.paused).toBe(true);
    expect(() => a.cancel()).toThrow(TypeError); // Twisted: RecursionError
  });

  it("race([]) fails at once with AllFailedError", () => {
    const error = failedWith(watch(race([])));
    expect(error).toBeInstanceOf(AllFailedError); // Twisted's race: never fires
    expect((error as AllFailedError).errors).toEqual([]);
  });

  it("an errback that returns an error recovers with it as a value; rethrowing keeps the chain failing", () => {
    const err = new Error("x");
    const recovered = fail<number>(err).addErrback((e) => e);
    expect(valueOf(watch(recovered))).toBe(err); // Twisted: returning the Failure keeps it failing
    const still = fail<number>(err).addErrback((e) => {
      throw e;
    });
    expect(failedWith(watch(still))).toBe(err);
  });

  it("callback() with a Deferred throws TypeError", () => {
    const d = new Deferred<unknown>();
    expect(() => d.callback(new Deferred())).toThrow(TypeError); // Twisted: AssertionError
  });

  it("addTimeout counts milliseconds on the clock it is given", () => {
    const clock = new Clock();
    const result = watch(new Deferred<number>().addTimeout(1500, clock)); // Twisted: seconds
    clock.advance(1499);
    expect(result.current.state).toBe("pending");
    clock.advance(1);
    expect(failedWith(result)).toBeInstanceOf(TimeoutError);
  });
});

describe("addTimeout", () => {
  it("fails with TimeoutError after the given time, running the canceller", () => {
    const clock = new Clock();
    let cancelled = false;
    const d = new Deferred<number>(() => {
      cancelled = true;
    }).addTimeout(1000, clock);
    const result = watch(d);
    clock.advance(999);
    expect(result.current.state).toBe("pending");
    clock.advance(1);
    expect(cancelled).toBe(true);
    const error = failedWith(result);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).code).toBe("WL_ERR_TIMEOUT");
    expect((error as TimeoutError).timeoutMs).toBe(1000);
  });

  it("clears the timer when the Deferred fires first", () => {
    const clock = new Clock();
    const d = new Deferred<number>().addTimeout(1000, clock);
    expect(clock.pendingCalls()).toHaveLength(1);
    d.callback(5);
    expect(clock.pendingCalls()).toHaveLength(0);
    clock.advance(2000);
    expect(valueOf(watch(d))).toBe(5);
  });

  it("clears the timer and keeps the error when the Deferred fails first", () => {
    const clock = new Clock();
    const err = new Error("early");
    const d = new Deferred<number>().addTimeout(1000, clock);
    d.errback(err);
    expect(clock.pendingCalls()).toHaveLength(0);
    expect(failedWith(watch(d))).toBe(err);
  });

  it("clears the timer at once on a Deferred that has fired already", () => {
    const clock = new Clock();
    const d = succeed(1).addTimeout(10, clock);
    expect(clock.pendingCalls()).toHaveLength(0);
    expect(valueOf(watch(d))).toBe(1);
  });

  it("keeps a CancelledError that the timeout did not cause", () => {
    const clock = new Clock();
    const d = new Deferred<number>().addTimeout(1000, clock);
    const result = watch(d);
    d.cancel();
    expect(failedWith(result)).toBeInstanceOf(CancelledError);
    expect(failedWith(result)).not.toBeInstanceOf(TimeoutError);
    expect(clock.pendingCalls()).toHaveLength(0);
  });

  it("keeps the value a canceller fires with on timeout", () => {
    const clock = new Clock();
    const d = new Deferred<string>((self) => self.callback("fallback")).addTimeout(5, clock);
    clock.advance(5);
    expect(valueOf(watch(d))).toBe("fallback");
  });

  it("cancels the Deferred the chain waits on when the time runs out", () => {
    const clock = new Clock();
    let innerCancelled = false;
    const inner = new Deferred<number>(() => {
      innerCancelled = true;
    });
    const d = succeed(0)
      .addCallback(() => inner)
      .addTimeout(100, clock);
    const result = watch(d);
    clock.advance(100);
    expect(innerCancelled).toBe(true);
    expect(failedWith(result)).toBeInstanceOf(TimeoutError);
  });
});

describe("succeed, fail and maybeDeferred", () => {
  it("succeed and fail build fired Deferreds", () => {
    expect(succeed("v").called).toBe(true);
    expect(valueOf(watch(succeed("v")))).toBe("v");
    const err = new Error("f");
    expect(failedWith(watch(fail(err)))).toBe(err);
  });

  it("maybeDeferred wraps a value, a throw, a Promise, and passes a Deferred through", async () => {
    expect(valueOf(watch(maybeDeferred((a: number, b: number) => a + b, 1, 2)))).toBe(3);
    const err = new Error("thrown");
    expect(
      failedWith(
        watch(
          maybeDeferred(() => {
            throw err;
          }),
        ),
      ),
    ).toBe(err);
    const own = new Deferred<number>();
    expect(maybeDeferred(() => own)).toBe(own);
    own.callback(0);
    expect(await maybeDeferred(() => Promise.resolve("p"))).toBe("p");
  });
});

describe("awaiting and Promises", () => {
  it("await gives the value, and the chain keeps it", async () => {
    const d = new Deferred<number>();
    const waiting = (async () => await d)();
    d.callback(8);
    expect(await waiting).toBe(8);
    expect(valueOf(watch(d))).toBe(8);
  });

  it("await of a failed Deferred throws and marks the error handled", async () => {
    const err = new Error("awaited");
    const d = fail<number>(err);
    await expect((async () => await d)()).rejects.toBe(err);
    expect(flushUnhandledErrors()).toEqual([]);
    expect(valueOf(watch(d))).toBeUndefined();
  });

  it("asPromise settles with the chain's outcome", async () => {
    expect(await succeed(1).asPromise()).toBe(1);
    const err = new Error("p");
    await expect(fail(err).asPromise()).rejects.toBe(err);
  });

  it("fromPromise fires with the Promise's value or error", async () => {
    const ok = Deferred.fromPromise(Promise.resolve(3));
    expect(ok.called).toBe(false);
    expect(await ok).toBe(3);
    const err = new Error("rejected");
    const bad = Deferred.fromPromise(Promise.reject(err));
    await expect(bad.asPromise()).rejects.toBe(err);
  });

  it("fromPromise of a rejection nobody handles is reported", async () => {
    const err = new Error("nobody listens");
    const d = Deferred.fromPromise(Promise.reject(err));
    await Promise.resolve();
    await Promise.resolve();
    expect(d.called).toBe(true);
    const reported = flushUnhandledErrors();
    expect(reported.map((e) => e.cause)).toEqual([err]);
  });

  it("cancelling a fromPromise Deferred fails it and ignores the Promise's outcome", async () => {
    let resolve!: (n: number) => void;
    const promise = new Promise<number>((r) => {
      resolve = r;
    });
    const d = Deferred.fromPromise(promise);
    const result = watch(d);
    d.cancel();
    resolve(1);
    await promise;
    await Promise.resolve();
    expect(failedWith(result)).toBeInstanceOf(CancelledError);
  });
});

describe("unhandled errors", () => {
  it("reports a failure that ends a chain, with its cause and code", () => {
    const err = new Error("lost");
    fail(err);
    const reported = flushUnhandledErrors();
    expect(reported).toHaveLength(1);
    expect(reported[0]!.code).toBe("WL_ERR_UNHANDLED_DEFERRED");
    expect(reported[0]!.cause).toBe(err);
    expect(flushUnhandledErrors()).toEqual([]);
  });

  it("does not report a failure that is handled later", () => {
    const d = fail(new Error("handled late"));
    d.addErrback(() => "recovered");
    expect(flushUnhandledErrors()).toEqual([]);
  });

  it("does not treat a callback that skips the failure as handling it", () => {
    const err = new Error("still failing");
    fail(err).addCallback(() => 1);
    expect(flushUnhandledErrors().map((e) => e.cause)).toEqual([err]);
  });

  it("reports the new error when an errback rethrows another", () => {
    const second = new Error("second");
    fail(new Error("first")).addErrback(() => {
      throw second;
    });
    expect(flushUnhandledErrors().map((e) => e.cause)).toEqual([second]);
  });

  it("reports a failure that travels into an outer chain on the outer Deferred only", () => {
    const err = new Error("travels");
    const inner = new Deferred<number>();
    const outer = succeed(0).addCallback(() => inner);
    inner.errback(err);
    const reported = flushUnhandledErrors();
    expect(reported.map((e) => e.cause)).toEqual([err]);
    expect(outer.peekResult()).toBe(err);
  });

  it("stops reporting when tracking is off", () => {
    trackUnhandledErrors(false);
    // Handled at once, so the collector-based reporter has nothing to say either.
    fail(new Error("untracked")).addErrback(() => undefined);
    expect(flushUnhandledErrors()).toEqual([]);
    trackUnhandledErrors(true);
  });

  it("reports an unhandled failure through the hook when the Deferred is collected", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const reported: UnhandledErrorInDeferred[] = [];
    const previous = setUnhandledErrorHook((error) => reported.push(error));
    trackUnhandledErrors(false);
    try {
      const marker = new Error("collected unhandled");
      (() => {
        fail(marker);
        fail(new Error("collected but handled")).addErrback(() => undefined);
      })();
      // Finalizers run in a task after a collection; a few rounds make that certain.
      for (let i = 0; i < 20 && reported.length === 0; i++) {
        gc();
        await new Promise<void>((resolve) => {
          setImmediate(resolve);
        });
      }
      expect(reported.map((e) => e.cause)).toEqual([marker]);
    } finally {
      setUnhandledErrorHook(previous);
      trackUnhandledErrors(true);
    }
  });

  it("setUnhandledErrorHook returns the previous hook", () => {
    const mine = (): void => undefined;
    const previous = setUnhandledErrorHook(mine);
    expect(setUnhandledErrorHook(previous)).toBe(mine);
  });
});

describe("DeferredList", () => {
  it("fires with every outcome in list order, whatever the firing order", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const c = new Deferred<number>();
    const err = new Error("b failed");
    const list = DeferredList([a, b, c], { consumeErrors: true });
    const result = watch(list);
    c.callback(3);
    b.errback(err);
    expect(result.current.state).toBe("pending");
    a.callback(1);
    expect(valueOf(result)).toEqual([
      [true, 1],
      [false, err],
      [true, 3],
    ]);
  });

  it("leaves the members' errors unhandled without consumeErrors", () => {
    const err = new Error("member");
    const list = DeferredList([fail<number>(err), succeed(1)]);
    expect(valueOf(watch(list))).toEqual([
      [false, err],
      [true, 1],
    ]);
    expect(flushUnhandledErrors().map((e) => e.cause)).toEqual([err]);
  });

  it("fires at once with [] for an empty list", () => {
    expect(valueOf(watch(DeferredList([])))).toEqual([]);
  });

  it("never fires for an empty list with fireOnOneCallback", () => {
    expect(watch(DeferredList([], { fireOnOneCallback: true })).current.state).toBe("pending");
  });

  it("fireOnOneCallback fires with [value, index] on the first success", () => {
    const a = new Deferred<string>();
    const b = new Deferred<string>();
    const result = watch(DeferredList([a, b], { fireOnOneCallback: true }));
    b.callback("b");
    expect(valueOf(result)).toEqual(["b", 1]);
    a.callback("a");
    expect(valueOf(result)).toEqual(["b", 1]);
  });

  it("fireOnOneCallback fires with the entries when everything fails", () => {
    const e1 = new Error("1");
    const e2 = new Error("2");
    const result = watch(DeferredList([fail<number>(e1), fail<number>(e2)], { fireOnOneCallback: true, consumeErrors: true }));
    expect(valueOf(result)).toEqual([
      [false, e1],
      [false, e2],
    ]);
  });

  it("fireOnOneErrback fails with FirstError on the first failure", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const err = new Error("second one");
    const result = watch(DeferredList([a, b], { fireOnOneErrback: true, consumeErrors: true }));
    b.errback(err);
    const error = failedWith(result) as FirstError;
    expect(error).toBeInstanceOf(FirstError);
    expect(error.code).toBe("WL_ERR_FIRST_ERROR");
    expect(error.index).toBe(1);
    expect(error.cause).toBe(err);
    a.callback(1);
  });

  it("cancelling it cancels every member, including one waiting on another Deferred", () => {
    const cancelled: string[] = [];
    const a = new Deferred<number>(() => cancelled.push("a"));
    const inner = new Deferred<number>(() => cancelled.push("inner"));
    const b = succeed(0).addCallback(() => inner);
    const done = succeed(7);
    const list = DeferredList([a, b, done], { consumeErrors: true });
    const result = watch(list);
    list.cancel();
    expect(cancelled).toEqual(["a", "inner"]);
    const entries = valueOf(result) as [boolean, unknown][];
    expect(entries.map(([ok]) => ok)).toEqual([false, false, true]);
    expect(entries[0]![1]).toBeInstanceOf(CancelledError);
    expect(entries[1]![1]).toBeInstanceOf(CancelledError);
  });
});

describe("gatherResults", () => {
  it("fires with the values in order", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const result = watch(gatherResults([a, b]));
    b.callback(2);
    a.callback(1);
    expect(valueOf(result)).toEqual([1, 2]);
  });

  it("fires with [] for an empty list", () => {
    expect(valueOf(watch(gatherResults([])))).toEqual([]);
  });

  it("fails with FirstError, and consumes the members' errors on request", () => {
    const err = new Error("g");
    const result = watch(gatherResults([succeed(1), fail<number>(err)], true));
    expect((failedWith(result) as FirstError).cause).toBe(err);
    expect(flushUnhandledErrors()).toEqual([]);
  });

  it("leaves the members' errors unhandled by default", () => {
    const err = new Error("g");
    watch(gatherResults([fail<number>(err)]));
    expect(flushUnhandledErrors().map((e) => e.cause)).toEqual([err]);
  });
});

describe("race", () => {
  it("fires with the first success and cancels the losers, not the winner", () => {
    const cancelled: string[] = [];
    const a = new Deferred<string>(() => cancelled.push("a"));
    const b = new Deferred<string>(() => cancelled.push("b"));
    const c = new Deferred<string>(() => cancelled.push("c"));
    const result = watch(race([a, b, c]));
    b.callback("b wins");
    expect(cancelled).toEqual(["a", "c"]);
    expect(valueOf(result)).toEqual([1, "b wins"]);
  });

  it("has the losers cancelled before the winner's value is delivered", () => {
    const loser = new Deferred<string>();
    const winner = new Deferred<string>();
    let loserCalledWhenDelivered: boolean | undefined;
    race([loser, winner]).addCallback(() => {
      loserCalledWhenDelivered = loser.called;
    });
    winner.callback("w");
    expect(loserCalledWhenDelivered).toBe(true);
  });

  it("keeps going after a failure until a success", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const result = watch(race([a, b]));
    a.errback(new Error("a"));
    expect(result.current.state).toBe("pending");
    b.callback(2);
    expect(valueOf(result)).toEqual([1, 2]);
  });

  it("fails with AllFailedError, errors in list order, when all fail", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const ea = new Error("a");
    const eb = new Error("b");
    const result = watch(race([a, b]));
    b.errback(eb);
    a.errback(ea);
    const error = failedWith(result) as AllFailedError;
    expect(error).toBeInstanceOf(AllFailedError);
    expect(error.code).toBe("WL_ERR_ALL_FAILED");
    expect(error.errors).toEqual([ea, eb]);
  });

  it("fails at once for an empty list", () => {
    expect(failedWith(watch(race([])))).toBeInstanceOf(AllFailedError);
  });

  it("ignores a loser whose canceller makes it succeed", () => {
    const loser = new Deferred<string>((self) => self.callback("too late"));
    const winner = new Deferred<string>();
    const result = watch(race([loser, winner]));
    winner.callback("first");
    expect(valueOf(result)).toEqual([1, "first"]);
  });

  it("cancelling the race cancels every contestant", () => {
    const a = new Deferred<number>();
    const b = new Deferred<number>();
    const r = race([a, b]);
    const result = watch(r);
    r.cancel();
    expect(a.called && b.called).toBe(true);
    const error = failedWith(result) as AllFailedError;
    expect(error.errors.every((e) => e instanceof CancelledError)).toBe(true);
  });
});

describe("DeferredLock", () => {
  it("hands the lock to waiters in order", () => {
    const lock = new DeferredLock();
    const order: string[] = [];
    lock.acquire().addCallback(() => order.push("first"));
    expect(lock.locked).toBe(true);
    lock.acquire().addCallback(() => order.push("second"));
    lock.acquire().addCallback(() => order.push("third"));
    expect(order).toEqual(["first"]);
    lock.release();
    expect(order).toEqual(["first", "second"]);
    lock.release();
    lock.release();
    expect(order).toEqual(["first", "second", "third"]);
    expect(lock.locked).toBe(false);
  });

  it("refuses to release a lock nobody holds", () => {
    expect(() => new DeferredLock().release()).toThrow(NotHeldError);
  });

  it("takes a cancelled waiter out of line", () => {
    const lock = new DeferredLock();
    lock.acquire();
    const quitter = lock.acquire();
    const next = lock.acquire();
    const quitterResult = watch(quitter);
    quitter.cancel();
    expect(failedWith(quitterResult)).toBeInstanceOf(CancelledError);
    lock.release();
    expect(next.called).toBe(true);
    lock.release();
    expect(lock.locked).toBe(false);
  });

  it("run holds the lock until the function's Deferred fires, and releases on failure", () => {
    const lock = new DeferredLock();
    const work = new Deferred<string>();
    const first = watch(lock.run(() => work));
    const err = new Error("second failed");
    const second = watch(
      lock.run(() => {
        throw err;
      }),
    );
    expect(lock.locked).toBe(true);
    expect(second.current.state).toBe("pending");
    work.callback("done");
    expect(valueOf(first)).toBe("done");
    expect(failedWith(second)).toBe(err);
    expect(lock.locked).toBe(false);
  });
});

describe("DeferredSemaphore", () => {
  it("lets at most `tokens` holders in at once", () => {
    const sem = new DeferredSemaphore(2);
    const a = sem.acquire();
    const b = sem.acquire();
    const c = sem.acquire();
    expect([a.called, b.called, c.called]).toEqual([true, true, false]);
    expect(sem.tokens).toBe(0);
    sem.release();
    expect(c.called).toBe(true);
    sem.release();
    sem.release();
    expect(sem.tokens).toBe(2);
    expect(() => sem.release()).toThrow(NotHeldError);
  });

  it("rejects fewer than one token", () => {
    expect(() => new DeferredSemaphore(0)).toThrow(InvalidOptionError);
    expect(() => new DeferredSemaphore(1.5)).toThrow(InvalidOptionError);
  });

  it("takes a cancelled waiter out of line", () => {
    const sem = new DeferredSemaphore(1);
    sem.acquire();
    const quitter = sem.acquire();
    const next = sem.acquire();
    watch(quitter);
    quitter.cancel();
    sem.release();
    expect(next.called).toBe(true);
  });

  it("run limits concurrency and releases whatever the function did", () => {
    const sem = new DeferredSemaphore(2);
    const works = [new Deferred<number>(), new Deferred<number>(), new Deferred<number>()];
    let running = 0;
    let most = 0;
    const results = works.map((w) =>
      watch(
        sem.run(() => {
          running++;
          most = Math.max(most, running);
          return w.addBoth((r) => {
            running--;
            if (r instanceof Error) throw r;
            return r as number;
          });
        }),
      ),
    );
    expect(running).toBe(2);
    const err = new Error("w0");
    works[0]!.errback(err);
    expect(running).toBe(2);
    works[1]!.callback(1);
    works[2]!.callback(2);
    expect(most).toBe(2);
    expect(failedWith(results[0]!)).toBe(err);
    expect(results.slice(1).map(valueOf)).toEqual([1, 2]);
    expect(sem.tokens).toBe(2);
  });
});

describe("DeferredQueue", () => {
  it("hands items to getters in order, whichever comes first", () => {
    const q = new DeferredQueue<number>();
    q.put(1);
    q.put(2);
    expect(valueOf(watch(q.get()))).toBe(1);
    const waiting = [watch(q.get()), watch(q.get())];
    expect(waiting[0]!.current.state).toBe("ok");
    expect(waiting[1]!.current.state).toBe("pending");
    q.put(3);
    expect(waiting.map(valueOf)).toEqual([2, 3]);
    expect(q.pending).toEqual([]);
  });

  it("throws QueueOverflowError past its size and QueueUnderflowError past its backlog", () => {
    const q = new DeferredQueue<number>({ size: 1, backlog: 1 });
    q.put(1);
    expect(() => q.put(2)).toThrow(QueueOverflowError);
    q.get();
    q.get();
    try {
      q.get();
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(QueueUnderflowError);
      expect((error as QueueUnderflowError).code).toBe("WL_ERR_QUEUE_UNDERFLOW");
    }
  });

  it("gives a cancelled getter's place to the next one", () => {
    const q = new DeferredQueue<string>({ backlog: 2 });
    const quitter = q.get();
    const next = watch(q.get());
    watch(quitter);
    quitter.cancel();
    const second = q.get(); // the backlog has room again after the cancel
    watch(second);
    second.cancel();
    q.put("x");
    expect(valueOf(next)).toBe("x");
    expect(q.pending).toEqual([]);
  });

  it("validates its options", () => {
    expect(() => new DeferredQueue({ size: -1 })).toThrow(InvalidOptionError);
    expect(() => new DeferredQueue({ backlog: 0.5 })).toThrow(InvalidOptionError);
    expect(() => new DeferredQueue({ size: 0, backlog: Infinity })).not.toThrow();
  });
});

describe("deep chains do not grow the stack", () => {
  const N = 100_000;

  it("each Deferred's callback returns the next, fired front to back", () => {
    const ds = Array.from({ length: N + 1 }, () => new Deferred<number>());
    for (let i = 0; i < N; i++) {
      const next = ds[i + 1]!;
      ds[i]!.addCallback(() => next).addCallback((n) => n + 1);
    }
    for (let i = 0; i < N; i++) ds[i]!.callback(0);
    const result = watch(ds[0]!);
    expect(result.current.state).toBe("pending");
    ds[N]!.callback(0);
    expect(valueOf(result)).toBe(N);
  });

  it("each Deferred's callback returns the next, fired in a scrambled order", () => {
    const ds = Array.from({ length: N + 1 }, () => new Deferred<number>());
    for (let i = 0; i < N; i++) {
      const next = ds[i + 1]!;
      ds[i]!.addCallback(() => next).addCallback((n) => n + 1);
    }
    const result = watch(ds[0]!);
    // 7919 is prime and does not divide N + 1, so this visits every index once, mixing
    // Deferreds that wait with ones that find their inner Deferred already fired.
    for (let k = 0; k <= N; k++) ds[(k * 7919) % (N + 1)]!.callback(0);
    expect(valueOf(result)).toBe(N);
  });

  it("each Deferred waits on an older one, built innermost first", () => {
    const innermost = new Deferred<number>();
    let current: Deferred<number> = innermost;
    for (let i = 0; i < N; i++) {
      const inner = current;
      current = succeed(0).addCallback(() => inner);
    }
    const result = watch(current);
    innermost.callback(42);
    expect(valueOf(result)).toBe(42);
  });

  it("a failure travels out through every level and is handled on each", () => {
    const innermost = new Deferred<number>();
    let current: Deferred<number> = innermost;
    for (let i = 0; i < N; i++) {
      const inner = current;
      current = succeed(0).addCallback(() => inner);
    }
    const result = watch(current);
    const err = new Error("deep");
    innermost.errback(err);
    expect(failedWith(result)).toBe(err);
    expect(flushUnhandledErrors()).toEqual([]);
  });

  it("cancelling the outermost cancels the innermost", () => {
    let cancelled = false;
    const innermost = new Deferred<number>(() => {
      cancelled = true;
    });
    let current: Deferred<number> = innermost;
    for (let i = 0; i < N; i++) {
      const inner = current;
      current = succeed(0).addCallback(() => inner);
    }
    const result = watch(current);
    current.cancel();
    expect(cancelled).toBe(true);
    expect(failedWith(result)).toBeInstanceOf(CancelledError);
  });

  it("one Deferred with many callbacks, each returning a fired Deferred", () => {
    const d = new Deferred<number>();
    for (let i = 0; i < N; i++) d.addCallback((n) => succeed(n + 1));
    d.callback(0);
    expect(valueOf(watch(d))).toBe(N);
  });

  it("a paused innermost Deferred releases the whole chain on unpause", () => {
    const innermost = succeed(5);
    innermost.pause();
    let current: Deferred<number> = innermost;
    for (let i = 0; i < N; i++) {
      const inner = current;
      current = succeed(0).addCallback(() => inner);
    }
    const result = watch(current);
    expect(result.current.state).toBe("pending");
    innermost.unpause();
    expect(valueOf(result)).toBe(5);
  });

  it("one Deferred with many callbacks, each returning a Promise", async () => {
    const d = new Deferred<number>();
    for (let i = 0; i < N; i++) d.addCallback((n) => Promise.resolve(n + 1));
    d.callback(0);
    expect(await d).toBe(N);
  });
});
