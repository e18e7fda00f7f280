/**
 * Test helper (not part of the library): random Deferred programs, run on wirelab's Deferred.
 * The same programs run on Twisted's Deferred in test/peers/twisted_deferred.py, which documents
 * the format; deferred-twisted.integration.test.ts compares the two traces.
 *
 * While a program runs here, the interpreter also notes which of the documented differences
 * from Twisted (runtime/README.md, "Deferred: differences from Twisted") the run touched, so
 * that the comparison can tell a listed difference from a new one.
 */

import fc from "fast-check";
import { Deferred, DeferredList, fail, gatherResults, succeed } from "../../runtime/deferred.js";
import { AlreadyCalledError, CancelledError, FirstError, TimeoutError, UnhandledReactorError } from "../../runtime/errors.js";
import { Clock } from "../../fakes/clock.js";

export type CancellerKind = "none" | "noop" | "value" | "error" | "throw";
export type Effect = null | ["fire", number, boolean, number] | ["cancel", number] | ["pause", number] | ["unpause", number];
export type Result = ["value", number] | ["throw", number] | ["return", number] | ["pass"];
export type Action = [Effect, Result];
export type Op =
  | ["add", number, "callback" | "errback" | "both", Action]
  | ["add", number, "callbacks", Action, Action]
  | ["fire", number, boolean, number]
  | ["cancel", number]
  | ["pause", number]
  | ["unpause", number]
  | ["list", number[], boolean, boolean, boolean]
  | ["gather", number[], boolean]
  | ["succeed", number]
  | ["fail", number]
  | ["timeout", number, number]
  | ["advance", number]
  | ["chain", number, number];

/** A program: the cancellers of the Deferreds it starts with, then what it does. */
export interface Program {
  readonly cancellers: CancellerKind[];
  readonly ops: Op[];
}

/**
 * The documented differences from Twisted 22.4 a run can touch (one per row of the table in
 * runtime/README.md).
 */
export type Difference =
  /** `pause()` on a Deferred whose callback is running: wirelab stops before its next callback. */
  | "pause-inside-callback"
  /** A callback returns a Deferred that has fired but whose chain has not finished: wirelab waits for the end of it. */
  | "wait-on-unfinished"
  /** A callback returns the Deferred it was added to: wirelab fails the chain with TypeError. */
  | "returns-own-deferred"
  /** `unpause()` with no `pause()` outstanding (or on a Deferred waiting on another): wirelab ignores it. */
  | "unmatched-unpause"
  /** `pause()` on a Deferred waiting on another: the result is handed over, and the inner chain goes on. */
  | "handoff-to-paused"
  /** A list whose members' cancellation does not fire it: wirelab fails it with CancelledError. */
  | "list-cancel-settles"
  /** Cancelling a list that fired and now waits on a Deferred a callback returned: wirelab forwards. */
  | "fired-list-cancel-forwards"
  /**
   * A cancellation that comes back around (a list member waiting on its own list, Deferreds
   * waiting on one another in a cycle): Twisted recurses until RecursionError, wirelab stops.
   */
  | "cancel-comes-back";

/** Errors a program throws, told apart by their tag. */
export class TaggedError extends Error {
  constructor(readonly tag: number) {
    super(`E${tag}`);
  }
}

/** The same text for a value or error as `describe` in twisted_deferred.py. */
export function describe(value: unknown): string {
  if (value instanceof UnhandledReactorError) return describe(value.cause);
  if (value instanceof FirstError) return `First(${value.index},${describe(value.cause)})`;
  if (value instanceof TaggedError) return `E${value.tag}`;
  if (value instanceof CancelledError) return "Cancelled";
  if (value instanceof TimeoutError) return "Timeout";
  if (value instanceof AlreadyCalledError) return "AlreadyCalled";
  if (value instanceof Error) return value.constructor.name;
  if (value === undefined || value === null) return "None";
  if (value === true) return "T";
  if (value === false) return "F";
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return `[${value.map(describe).join(",")}]`;
  if (value instanceof Deferred) return "Deferred";
  return typeof value;
}

/** What a run of a program on wirelab gives. */
export interface WirelabRun {
  readonly trace: string[];
  readonly touched: Set<Difference>;
}

/** Whether `d` has fired and its chain has run to the end (the private rule waitOn uses). */
function settled(d: Deferred<unknown>): boolean {
  return (d as unknown as { settled(): boolean }).settled();
}

/** Runs `program` on wirelab's Deferred. */
export function runOnWirelab(program: Program): WirelabRun {
  const trace: string[] = [];
  const touched = new Set<Difference>();
  const clock = new Clock();
  const ds: Deferred<unknown>[] = [];
  /** Lists and gathers, with the first result each fired with. */
  const lists = new Map<Deferred<unknown>, { first: unknown; fired: boolean }>();
  let nextId = 0;

  const ref = (r: number): Deferred<unknown> => ds[r % ds.length]!;
  const canceller = (kind: CancellerKind): ((d: Deferred<unknown>) => void) | undefined => {
    switch (kind) {
      case "none":
        return undefined;
      case "noop":
        return () => undefined;
      case "value":
        return (d) => d.callback(77);
      case "error":
        return (d) => d.errback(new TaggedError(88));
      case "throw":
        return () => {
          throw new TaggedError(99);
        };
    }
  };
  for (const kind of program.cancellers) ds.push(new Deferred<unknown>(canceller(kind)));

  const effect = (e: Exclude<Effect, null>): void => {
    const d = ref(e[1]);
    switch (e[0]) {
      case "fire":
        if (e[2]) d.callback(e[3]);
        else d.errback(new TaggedError(e[3]));
        return;
      case "cancel": {
        const list = lists.get(d);
        if (list !== undefined && d.called && d.paused) touched.add("fired-list-cancel-forwards");
        try {
          d.cancel();
        } catch (error) {
          if (error instanceof TypeError) touched.add("cancel-comes-back");
          throw error;
        }
        return;
      }
      case "pause":
        if (d.called && !d.paused && !settled(d)) touched.add("pause-inside-callback");
        if (d.called && d.paused) touched.add("handoff-to-paused");
        d.pause();
        return;
      case "unpause":
        if (!d.paused || (d.called && d.paused)) touched.add("unmatched-unpause");
        d.unpause();
        return;
    }
  };

  const step = (d: Deferred<unknown>, id: number, branch: "s" | "f" | "b", [eff, result]: Action) => {
    return (value: unknown): unknown => {
      trace.push(`cb${id}:${branch}(${describe(value)})`);
      if (eff !== null) {
        try {
          effect(eff);
        } catch (error) {
          trace.push(`cb${id}!${describe(error)}`);
        }
      }
      switch (result[0]) {
        case "value":
          return result[1];
        case "throw":
          throw new TaggedError(result[1]);
        case "return": {
          const inner = ref(result[1]);
          if (inner === d) touched.add("returns-own-deferred");
          else if (inner.called && !inner.paused && !settled(inner)) touched.add("wait-on-unfinished");
          return inner;
        }
        case "pass":
          if (branch === "f" || (branch === "b" && value instanceof Error)) throw value;
          return value;
      }
    };
  };

  const track = (d: Deferred<unknown>): Deferred<unknown> => {
    const state = { first: undefined as unknown, fired: false };
    lists.set(d, state);
    // A pass-through probe, added first: what the list itself fired with.
    d.addCallbacks(
      (value) => {
        if (!state.fired) Object.assign(state, { first: value, fired: true });
        return value;
      },
      (error: unknown) => {
        if (!state.fired) Object.assign(state, { first: error, fired: true });
        throw error;
      },
    );
    return d;
  };

  const op = (o: Op): void => {
    switch (o[0]) {
      case "add": {
        const d = ref(o[1]);
        const id = nextId++;
        if (o[2] === "callbacks") d.addCallbacks(step(d, id, "s", o[3]), step(d, id, "f", o[4]));
        else if (o[2] === "callback") d.addCallback(step(d, id, "s", o[3]));
        else if (o[2] === "errback") d.addErrback(step(d, id, "f", o[3]));
        else d.addBoth(step(d, id, "b", o[3]));
        return;
      }
      case "fire":
      case "cancel":
      case "pause":
      case "unpause":
        effect(o);
        return;
      case "list":
        ds.push(track(DeferredList(o[1].map(ref), { fireOnOneCallback: o[2], fireOnOneErrback: o[3], consumeErrors: o[4] })));
        return;
      case "gather":
        ds.push(track(gatherResults(o[1].map(ref), o[2])));
        return;
      case "succeed":
        ds.push(succeed<unknown>(o[1]));
        return;
      case "fail":
        ds.push(fail(new TaggedError(o[1])));
        return;
      case "timeout":
        ref(o[1]).addTimeout(o[2], clock);
        return;
      case "advance":
        clock.advance(o[1]);
        return;
      case "chain":
        ref(o[1]).chainDeferred(ref(o[2]));
        return;
    }
  };

  program.ops.forEach((o, n) => {
    try {
      op(o);
    } catch (error) {
      trace.push(`op${n}!${describe(error)}`);
    }
  });
  // A list fires with its entries, `[value, index]` or a FirstError: a bare CancelledError is
  // the one cancel() gives a list its members' cancellation did not fire.
  // (A list paused before it fired has not reached the probe: its result is still its own.)
  for (const [d, list] of lists) {
    const first = list.fired ? list.first : d.called ? d.peekResult() : undefined;
    if (first instanceof CancelledError) touched.add("list-cancel-settles");
  }
  ds.forEach((d, i) => {
    trace.push(`d${i}:${d.called ? "called" : "waiting"}${d.paused ? ",paused" : ""}`);
  });
  ds.forEach((d, i) => {
    const seen: string[] = [];
    d.addCallbacks(
      (value) => {
        seen.push(`ok:${describe(value)}`);
      },
      (error: unknown) => {
        seen.push(`err:${describe(error)}`);
      },
    );
    trace.push(`end${i}:${seen[0] ?? "pending"}`);
  });
  return { trace, touched };
}

// ---------------------------------------------------------------------------------------------
// Random programs

const small = fc.integer({ min: 0, max: 9 });
const effectArb: fc.Arbitrary<Effect> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.tuple(fc.constant("fire" as const), small, fc.boolean(), small) },
  { weight: 2, arbitrary: fc.tuple(fc.constant("cancel" as const), small) },
  { weight: 2, arbitrary: fc.tuple(fc.constant("pause" as const), small) },
  { weight: 1, arbitrary: fc.tuple(fc.constant("unpause" as const), small) },
);
const resultArb: fc.Arbitrary<Result> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constant("value" as const), small) },
  { weight: 4, arbitrary: fc.tuple(fc.constant("throw" as const), small) },
  { weight: 4, arbitrary: fc.tuple(fc.constant("return" as const), small) },
  { weight: 4, arbitrary: fc.constant(["pass"] as ["pass"]) },
);
const actionArb: fc.Arbitrary<Action> = fc.tuple(effectArb, resultArb);
const refs = fc.array(small, { minLength: 0, maxLength: 3 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(fc.constant("add" as const), small, fc.constantFrom("callback" as const, "errback" as const, "both" as const), actionArb) },
  { weight: 4, arbitrary: fc.tuple(fc.constant("add" as const), small, fc.constant("callbacks" as const), actionArb, actionArb) },
  { weight: 6, arbitrary: fc.tuple(fc.constant("fire" as const), small, fc.boolean(), small) },
  { weight: 4, arbitrary: fc.tuple(fc.constant("cancel" as const), small) },
  { weight: 2, arbitrary: fc.tuple(fc.constant("pause" as const), small) },
  { weight: 1, arbitrary: fc.tuple(fc.constant("unpause" as const), small) },
  { weight: 2, arbitrary: fc.tuple(fc.constant("list" as const), refs, fc.boolean(), fc.boolean(), fc.boolean()) },
  { weight: 2, arbitrary: fc.tuple(fc.constant("gather" as const), refs, fc.boolean()) },
  { weight: 2, arbitrary: fc.tuple(fc.constant("succeed" as const), small) },
  { weight: 2, arbitrary: fc.tuple(fc.constant("fail" as const), small) },
  { weight: 2, arbitrary: fc.tuple(fc.constant("timeout" as const), small, fc.integer({ min: 1, max: 5 })) },
  { weight: 2, arbitrary: fc.tuple(fc.constant("advance" as const), fc.integer({ min: 1, max: 5 })) },
  { weight: 2, arbitrary: fc.tuple(fc.constant("chain" as const), small, small) },
);

/** Random programs: one to four Deferreds to start with, up to fourteen operations. */
export const programArb: fc.Arbitrary<Program> = fc.record({
  cancellers: fc.array(fc.constantFrom<CancellerKind>("none", "noop", "value", "error", "throw"), { minLength: 1, maxLength: 4 }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 14 }),
});
