import { afterEach, describe, expect, it, vi } from "vitest";

import { Deferred } from "../../../runtime/deferred.js";
import {
  DelayedCallCancelledError,
  DelayedCallRanError,
  InvalidOptionError,
  ReactorStateError,
  UnhandledReactorError,
} from "../../../runtime/errors.js";
import { DEFAULT_HIGH_WATER_MARK, NodeReactor } from "../../../runtime/node/node-reactor.js";
import { Factory, Protocol } from "../../../runtime/protocol.js";

/** A Deferred-returning wait on the reactor's own clock: the only real sleeping in this file. */
function wait(reactor: NodeReactor, ms: number): Deferred<void> {
  const d = new Deferred<void>();
  reactor.callLater(ms, () => {
    d.callback(undefined);
  });
  return d;
}

describe("NodeReactor time", () => {
  let reactor: NodeReactor;
  let errors: Error[];

  afterEach(async () => {
    if (reactor.running) await reactor.stop();
  });

  function make(): NodeReactor {
    errors = [];
    reactor = new NodeReactor({ errorHook: (error) => errors.push(error) });
    return reactor;
  }

  it("now() is in milliseconds since the epoch and never goes backwards", () => {
    const r = make();
    const a = r.now();
    const b = r.now();
    expect(Math.abs(a - Date.now())).toBeLessThan(1000);
    expect(b).toBeGreaterThanOrEqual(a);
  });

  it("runs a call with its arguments, no earlier than its time, then refuses cancel/reset/delay", async () => {
    const r = make();
    const seen: [number, string, number][] = [];
    const start = r.now();
    const call = r.callLater(
      5,
      (a: number, b: string) => {
        seen.push([a, b, r.now()]);
      },
      7,
      "x",
    );
    expect(call.time).toBeGreaterThanOrEqual(start + 5);
    expect(call.active()).toBe(true);
    await wait(r, 15);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.slice(0, 2)).toEqual([7, "x"]);
    // Timers may fire up to a millisecond early as measured by the clock (libuv's cached time).
    expect(seen[0]![2]).toBeGreaterThanOrEqual(call.time - 1);
    expect(call.active()).toBe(false);
    expect(() => call.cancel()).toThrow(DelayedCallRanError);
    expect(() => call.reset(1)).toThrow(DelayedCallRanError);
    expect(() => call.delay(1)).toThrow(DelayedCallRanError);
  });

  it("a cancelled call never runs, and cannot be cancelled, reset or delayed again", async () => {
    const r = make();
    let ran = false;
    const call = r.callLater(1, () => {
      ran = true;
    });
    call.cancel();
    expect(call.active()).toBe(false);
    expect(() => call.cancel()).toThrow(DelayedCallCancelledError);
    expect(() => call.reset(1)).toThrow(DelayedCallCancelledError);
    try {
      call.delay(1);
      expect.unreachable();
    } catch (error) {
      expect((error as DelayedCallCancelledError).code).toBe("WL_ERR_DELAYED_CALL_CANCELLED");
    }
    await wait(r, 10);
    expect(ran).toBe(false);
  });

  it("reset(ms) moves the call to ms from now; delay(ms) pushes its due time back by ms", async () => {
    const r = make();
    const order: string[] = [];
    const a = r.callLater(2, () => order.push("a"));
    const b = r.callLater(2, () => order.push("b"));
    r.callLater(8, () => order.push("c"));
    const before = a.time;
    a.reset(16);
    expect(a.time).toBeGreaterThan(before);
    const bTime = b.time;
    b.delay(10);
    expect(b.time).toBe(bTime + 10);
    await wait(r, 30);
    expect(order).toEqual(["c", "b", "a"]);
  });

  it("reset with the delay it was armed with (the timer refresh path) restarts the countdown", async () => {
    const r = make();
    const order: string[] = [];
    const idle = r.callLater(12, () => order.push("idle"));
    const done = new Deferred<void>();
    r.callLater(6, () => {
      order.push("first");
      idle.reset(12);
      // Due 6 ms from now: before the idle call's new time, after its old one.
      r.callLater(8, () => order.push("second"));
      r.callLater(30, () => done.callback(undefined));
    });
    await done;
    expect(order).toEqual(["first", "second", "idle"]);
  });

  it("calls due at once run in the order they were scheduled; a negative delay counts as 0", async () => {
    const r = make();
    const order: number[] = [];
    for (let i = 0; i < 5; i++) r.callLater(i === 2 ? -5 : 0, () => order.push(i));
    await wait(r, 5);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it("an exception in a timed call goes to the error hook and does not stop other calls", async () => {
    const r = make();
    const boom = new Error("boom");
    let after = false;
    r.callLater(0, () => {
      throw boom;
    });
    r.callLater(1, () => {
      after = true;
    });
    await wait(r, 8);
    expect(after).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(UnhandledReactorError);
    expect((errors[0] as UnhandledReactorError).code).toBe("WL_ERR_UNHANDLED_IN_REACTOR");
    expect(errors[0]?.cause).toBe(boom);
  });

  it("reports to console.error by default, and setErrorHook replaces the hook", async () => {
    reactor = new NodeReactor();
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      reactor.callLater(0, () => {
        throw new Error("to the console");
      });
      await wait(reactor, 5);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy.mock.calls[0]?.[0]).toBeInstanceOf(UnhandledReactorError);
      const hooked: Error[] = [];
      reactor.setErrorHook((error) => hooked.push(error));
      reactor.callLater(0, () => {
        throw new Error("to the hook");
      });
      await wait(reactor, 5);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(hooked.map((e) => (e.cause as Error).message)).toEqual(["to the hook"]);
    } finally {
      spy.mockRestore();
    }
  });

  it("random() is in [0, 1)", () => {
    const r = make();
    for (let i = 0; i < 100; i++) {
      const x = r.random();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it("validates highWaterMark", () => {
    expect(new NodeReactor().highWaterMark).toBe(DEFAULT_HIGH_WATER_MARK);
    expect(new NodeReactor({ highWaterMark: 1000 }).highWaterMark).toBe(1000);
    expect(() => new NodeReactor({ highWaterMark: 0 })).toThrow(InvalidOptionError);
    expect(() => new NodeReactor({ highWaterMark: 1.5 })).toThrow(/highWaterMark/);
    reactor = new NodeReactor();
  });
});

describe("NodeReactor life cycle", () => {
  let reactor: NodeReactor;

  afterEach(async () => {
    if (reactor.running) await reactor.stop();
  });

  it("runs startup triggers in phase order, callWhenRunning calls among the after triggers; later ones run at once", () => {
    reactor = new NodeReactor();
    const log: string[] = [];
    reactor.addSystemEventTrigger("after", "startup", () => log.push("after"));
    reactor.addSystemEventTrigger("during", "startup", () => log.push("during"));
    reactor.addSystemEventTrigger("before", "startup", () => log.push("before"));
    reactor.callWhenRunning(() => log.push("whenRunning"));
    expect(reactor.running).toBe(false);
    expect(log).toEqual([]);
    void reactor.run();
    expect(reactor.running).toBe(true);
    expect(log).toEqual(["before", "during", "after", "whenRunning"]);
    reactor.callWhenRunning(() => log.push("now"));
    expect(log.at(-1)).toBe("now");
  });

  it("refuses to run twice, and to stop when not running", () => {
    reactor = new NodeReactor();
    expect(() => reactor.stop()).toThrow(ReactorStateError);
    void reactor.run();
    expect(() => reactor.run()).toThrow(ReactorStateError);
  });

  it("stop() waits for a Deferred from a before-shutdown trigger, then runs during and after, then fires", async () => {
    reactor = new NodeReactor();
    const log: string[] = [];
    const ran = reactor.run();
    let runFired = false;
    ran.addCallback(() => {
      runFired = true;
    });
    reactor.addSystemEventTrigger("before", "shutdown", () => {
      log.push("before:start");
      // Timed calls still run while before-shutdown triggers are waited for.
      return wait(reactor, 5).addCallback(() => {
        log.push("before:done");
      });
    });
    reactor.addSystemEventTrigger("before", "shutdown", async () => {
      log.push("before:promise");
      await Promise.resolve();
      log.push("before:promise done");
    });
    reactor.addSystemEventTrigger("during", "shutdown", () => log.push("during"));
    reactor.addSystemEventTrigger("after", "shutdown", () => log.push("after"));
    const stopped = reactor.stop();
    expect(reactor.running).toBe(true);
    expect(log).toEqual(["before:start", "before:promise"]);
    const again = reactor.stop();
    await stopped;
    await again;
    expect(log).toEqual(["before:start", "before:promise", "before:promise done", "before:done", "during", "after"]);
    expect(reactor.running).toBe(false);
    expect(runFired).toBe(true);
  });

  it("a trigger that throws or fails is reported and shutdown goes on", async () => {
    const errors: Error[] = [];
    reactor = new NodeReactor({ errorHook: (error) => errors.push(error) });
    void reactor.run();
    const log: string[] = [];
    reactor.addSystemEventTrigger("before", "shutdown", () => {
      throw new Error("sync");
    });
    reactor.addSystemEventTrigger("before", "shutdown", () => Promise.reject(new Error("async")));
    reactor.addSystemEventTrigger("after", "shutdown", () => log.push("after"));
    await reactor.stop();
    expect(log).toEqual(["after"]);
    expect(errors.map((e) => (e.cause as Error).message).sort()).toEqual(["async", "sync"]);
  });

  it("removeSystemEventTrigger removes exactly that trigger", async () => {
    reactor = new NodeReactor();
    const log: string[] = [];
    const a = reactor.addSystemEventTrigger("during", "shutdown", () => log.push("a"));
    reactor.addSystemEventTrigger("during", "shutdown", () => log.push("b"));
    reactor.removeSystemEventTrigger(a);
    reactor.removeSystemEventTrigger(a);
    void reactor.run();
    await reactor.stop();
    expect(log).toEqual(["b"]);
  });

  it("stop() cancels every timed call", async () => {
    reactor = new NodeReactor();
    void reactor.run();
    let ran = false;
    const call = reactor.callLater(60_000, () => {
      ran = true;
    });
    const long = reactor.callLater(2 ** 40, () => {
      ran = true;
    });
    await reactor.stop();
    expect(call.active()).toBe(false);
    expect(long.active()).toBe(false);
    expect(ran).toBe(false);
  });

  it("runs once: run() after it stopped throws, and nothing new can be opened", async () => {
    reactor = new NodeReactor();
    void reactor.run();
    await reactor.stop();
    expect(() => reactor.run()).toThrow(ReactorStateError);
    await expect(reactor.listen("tcp:0:interface=127.0.0.1", Factory.forProtocol(() => new Protocol()))).rejects.toThrow(ReactorStateError);
  });
});
