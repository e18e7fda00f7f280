/**
 * LoopingCall on the fake clock, by property: for random intervals, start times, `now` flags
 * and patterns of clock advances, the calls happen exactly when Twisted's model says. The
 * schedule is anchored at the start (slots at start + k * interval); a call runs when the
 * clock reaches or passes its slot (at the time the clock stopped at); slots passed over in one
 * advance are skipped, not run in a burst, and `withCount` reports how many intervals elapsed.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { Deferred } from "../../runtime/deferred.js";
import { LoopingCall } from "../../runtime/looping-call.js";
import { Clock } from "../../fakes/clock.js";
import { assertClean } from "../../fakes/assert-clean.js";

/** The model: the times (and counts) of the calls, given where the clock stops. */
function model(start: number, interval: number, now: boolean, stops: readonly number[]): { time: number; count: number }[] {
  const calls: { time: number; count: number }[] = [];
  const slot = (t: number): number => Math.floor((t - start) / interval);
  let last = now ? start - interval : start;
  // The next due time: start itself with `now`, otherwise the first slot after it.
  let due = now ? start : start + interval;
  const visit = (t: number): void => {
    if (t < due) return;
    calls.push({ time: t, count: slot(t) - slot(last) });
    last = t;
    due = start + (slot(t) + 1) * interval;
  };
  visit(start);
  for (const t of stops) visit(t);
  return calls;
}

/** The model's next due time after the clock stopped at `stops`. */
function nextDue(start: number, interval: number, now: boolean, stops: readonly number[]): number {
  const calls = model(start, interval, now, stops);
  const last = calls.at(-1);
  if (last === undefined) return start + interval;
  return start + (Math.floor((last.time - start) / interval) + 1) * interval;
}

const scenario = fc.record({
  start: fc.integer({ min: 0, max: 1000 }),
  interval: fc.integer({ min: 1, max: 50 }),
  now: fc.boolean(),
  advances: fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 30 }),
});

describe("LoopingCall on the fake clock", () => {
  it("calls at the model's times with the model's counts: anchored schedule, skipped slots", () => {
    fc.assert(
      fc.property(scenario, ({ start, interval, now, advances }) => {
        const clock = new Clock({ start });
        const seen: { time: number; count: number }[] = [];
        const loop = LoopingCall.withCount(clock, (count) => {
          seen.push({ time: clock.now(), count });
        });
        const stopped = loop.start(interval, now);
        const stops: number[] = [];
        for (const ms of advances) {
          clock.advance(ms);
          stops.push(clock.now());
        }
        expect(seen).toEqual(model(start, interval, now, stops));
        // Exactly one call is pending: the next one the model expects.
        const pending = clock.pendingCalls();
        expect(pending).toHaveLength(1);
        expect(pending[0]?.time).toBe(nextDue(start, interval, now, stops));
        let fired = false;
        stopped.addCallback(() => {
          fired = true;
        });
        loop.stop();
        expect(fired).toBe(true);
        assertClean(clock);
      }),
      { seed: 2024, numRuns: 300 },
    );
  });

  it("a call whose Deferred is pending holds the loop; the next call is at the first slot after it finishes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 1, maxLength: 10 }),
        (interval, busy) => {
          const clock = new Clock();
          const starts: number[] = [];
          const loop = new LoopingCall(clock, () => {
            const d = new Deferred<void>();
            const ms = busy[starts.length % busy.length]!;
            starts.push(clock.now());
            clock.callLater(ms, () => {
              d.callback(undefined);
            });
            return d;
          });
          const done = loop.start(interval);
          while (starts.length < 12 && clock.stepToNext());
          const expected = [0];
          while (expected.length < 12) {
            const s = expected.at(-1)!;
            const b = busy[(expected.length - 1) % busy.length]!;
            expected.push((Math.floor((s + b) / interval) + 1) * interval);
          }
          expect(starts).toEqual(expected);
          // Stopped while the last call's Deferred may be pending: the loop ends once it fires.
          const pendingWork = clock.pendingCalls().length > 0 && busy[11 % busy.length]! > 0;
          loop.stop();
          let fired = false;
          done.addCallback(() => {
            fired = true;
          });
          expect(fired).toBe(!pendingWork);
          clock.runUntilIdle();
          expect(fired).toBe(true);
          expect(starts).toHaveLength(12);
          assertClean(clock);
        },
      ),
      { seed: 7, numRuns: 200 },
    );
  });
});
