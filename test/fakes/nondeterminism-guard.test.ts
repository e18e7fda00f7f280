/**
 * The nondeterminism guard outside SimNetwork: the guard the vitest setup activates for every
 * test catches real time and randomness in code that a Clock, a MemoryReactor or a connectPair
 * Pump runs, records each use with its stack, and fails at the end instead of throwing into the
 * code under test.
 */

import { describe, expect, it } from "vitest";

import { NondeterminismError } from "../../runtime/errors.js";
import { Protocol } from "../../runtime/protocol.js";
import { Clock } from "../../fakes/clock.js";
import { connectPair } from "../../fakes/loopback.js";
import { MemoryReactor } from "../../fakes/memory-reactor.js";
import { NondeterminismGuard } from "../../fakes/nondeterminism-guard.js";

class Stamper extends Protocol {
  replies = 0;
  override dataReceived(): void {
    this.transport.write(String(Date.now()));
    this.replies++;
  }
}

/** Runs `fn` with a fresh guard active, returning it (the test setup's own guard is set aside). */
function withGuard(fn: () => void): NondeterminismGuard {
  const guard = new NondeterminismGuard();
  const previous = NondeterminismGuard.active();
  guard.activate();
  try {
    fn();
  } finally {
    guard.deactivate();
    previous?.activate();
  }
  return guard;
}

describe("NondeterminismGuard in the other fake worlds", () => {
  it("catches Date.now in a protocol driven by a connectPair Pump, and lets it go on", () => {
    const server = new Stamper();
    const guard = withGuard(() => {
      const client = new Protocol();
      const pump = connectPair(server, client);
      client.transport.write("x");
      pump.flush();
    });
    expect(server.replies).toBe(1);
    expect(guard.violations().map((v) => v.api)).toEqual(["Date.now"]);
    expect(guard.violations()[0]!.stack).toMatch(/nondeterminism-guard\.test\.ts/);
    expect(() => guard.check()).toThrow(NondeterminismError);
  });

  it("catches Math.random in a Clock's timed call, and a MemoryReactor's", () => {
    const guard = withGuard(() => {
      const clock = new Clock();
      clock.callLater(5, () => Math.random());
      clock.advance(5);
      const reactor = new MemoryReactor();
      reactor.callLater(1, () => performance.now());
      reactor.clock.advance(1);
    });
    expect(guard.violations().map((v) => [v.api, v.time])).toEqual([
      ["Math.random", 5],
      ["performance.now", 1],
    ]);
  });

  it("does not flag the test's own code, outside what the fakes run", () => {
    const guard = withGuard(() => {
      Date.now();
      Math.random();
    });
    expect(guard.violations()).toEqual([]);
    expect(() => guard.check()).not.toThrow();
  });
});
