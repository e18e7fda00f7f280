/**
 * Deferred laws: random chains of callbacks and errbacks, whose functions return values, throw,
 * or return fired, unfired or deeply waiting Deferreds and Promises, end exactly as the same
 * steps run through plain synchronous evaluation; failures travel unchanged past callbacks;
 * cancelling anywhere in a chain of waiting Deferreds reaches the innermost one.
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  Deferred,
  DeferredList,
  fail,
  flushUnhandledErrors,
  gatherResults,
  race,
  succeed,
  trackUnhandledErrors,
} from "../../runtime/deferred.js";
import { AllFailedError, CancelledError, FirstError } from "../../runtime/errors.js";
import { drainMicrotasks } from "../../fakes/clock.js";

beforeEach(() => {
  trackUnhandledErrors(true);
});
afterEach(() => {
  const leftover = flushUnhandledErrors();
  trackUnhandledErrors(false);
  expect(leftover.map((e) => e.message)).toEqual([]);
});

// ---------------------------------------------------------------------------------------------
// The model: a result is a value or an error, and a step maps it synchronously.

type Outcome = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly error: Error };

/** What a callback or errback does with its argument. */
type Action =
  | { readonly kind: "map"; readonly k: number } // callback: value + k; errback: recover with k
  | { readonly kind: "pause"; readonly k: number } // as map, and pauses the chain until a later event
  | { readonly kind: "throw"; readonly tag: number }
  | { readonly kind: "fired"; readonly outcome: OutcomeSpec } // returns succeed(...) / fail(...)
  | { readonly kind: "unfired"; readonly depth: number; readonly outcome: OutcomeSpec } // fired later
  | { readonly kind: "promise"; readonly outcome: OutcomeSpec }; // a Promise settled later

type OutcomeSpec = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly tag: number };

type Step =
  | { readonly add: "callback"; readonly action: Action }
  | { readonly add: "errback"; readonly action: Action }
  | { readonly add: "both"; readonly action: Action }
  | { readonly add: "callbacks"; readonly onValue: Action; readonly onError: Action };

/** Errors are made once per tag, so identity can be compared. */
class Errors {
  private readonly made = new Map<number, Error>();
  get(tag: number): Error {
    let error = this.made.get(tag);
    if (error === undefined) {
      error = new Error(`e${tag}`);
      this.made.set(tag, error);
    }
    return error;
  }
}

function toOutcome(spec: OutcomeSpec, errors: Errors): Outcome {
  return spec.ok ? { ok: true, value: spec.value } : { ok: false, error: errors.get(spec.tag) };
}

function describeArg(arg: unknown): string {
  return arg instanceof Error ? `error ${arg.message}` : `value ${String(arg)}`;
}

/** The function a step runs on `current`, or null when the step does not apply. */
function chosen(step: Step, current: Outcome): Action | null {
  switch (step.add) {
    case "callback":
      return current.ok ? step.action : null;
    case "errback":
      return current.ok ? null : step.action;
    case "both":
      return step.action;
    case "callbacks":
      return current.ok ? step.onValue : step.onError;
  }
}

/** Plain synchronous evaluation: the trace of calls and the final outcome. */
function model(initial: Outcome, steps: readonly Step[], errors: Errors): { trace: string[]; final: Outcome } {
  const trace: string[] = [];
  let current = initial;
  steps.forEach((step, i) => {
    const action = chosen(step, current);
    if (action === null) return;
    const arg: unknown = current.ok ? current.value : current.error;
    trace.push(`${i}: ${describeArg(arg)}`);
    switch (action.kind) {
      case "map":
      case "pause":
        current = { ok: true, value: current.ok ? current.value + action.k : action.k };
        break;
      case "throw":
        current = { ok: false, error: errors.get(action.tag) };
        break;
      default:
        current = toOutcome(action.outcome, errors);
    }
  });
  return { trace, final: current };
}

// ---------------------------------------------------------------------------------------------
// The real thing: the same steps on a Deferred, with unfired results settled by a schedule.

interface Pending {
  settle(): void;
}

/** The Deferred under test and what its functions need to act on it. */
interface Run {
  readonly d: Deferred<unknown>;
  readonly trace: string[];
  readonly errors: Errors;
  /** Results not settled yet, and pauses not undone yet: the events the schedule picks from. */
  readonly pending: Pending[];
  /** Our `pause()` calls on `d` not yet undone. */
  pauses: number;
  /** Steps that ran while `d` was paused: must stay empty. */
  readonly ranWhilePaused: number[];
}

function pauseUntilLater(run: Run): void {
  run.d.pause();
  run.pauses++;
  run.pending.push({
    settle: () => {
      run.pauses--;
      run.d.unpause();
    },
  });
}

function realFunction(action: Action, index: number, run: Run): (arg: unknown) => unknown {
  const { trace, errors, pending } = run;
  return (arg) => {
    trace.push(`${index}: ${describeArg(arg)}`);
    if (run.pauses > 0) run.ranWhilePaused.push(index);
    switch (action.kind) {
      case "map":
        return typeof arg === "number" ? arg + action.k : action.k;
      case "pause":
        pauseUntilLater(run);
        return typeof arg === "number" ? arg + action.k : action.k;
      case "throw":
        throw errors.get(action.tag);
      case "fired": {
        const outcome = toOutcome(action.outcome, errors);
        return outcome.ok ? succeed(outcome.value) : fail(outcome.error);
      }
      case "unfired": {
        const innermost = new Deferred<number>();
        const outcome = toOutcome(action.outcome, errors);
        pending.push({
          settle: () => {
            if (outcome.ok) innermost.callback(outcome.value);
            else innermost.errback(outcome.error);
          },
        });
        // `depth` more Deferreds, each waiting on the one inside it.
        let result: Deferred<number> = innermost;
        for (let i = 0; i < action.depth; i++) {
          const inner = result;
          result = succeed(0).addCallback(() => inner);
        }
        return result;
      }
      case "promise": {
        const outcome = toOutcome(action.outcome, errors);
        return new Promise<number>((resolve, reject) => {
          pending.push({
            settle: () => {
              if (outcome.ok) resolve(outcome.value);
              else reject(outcome.error);
            },
          });
        });
      }
    }
  };
}

function addStep(run: Run, step: Step, index: number): void {
  const d = run.d;
  const fn = (action: Action): ((arg: unknown) => unknown) => realFunction(action, index, run);
  switch (step.add) {
    case "callback":
      d.addCallback(fn(step.action));
      break;
    case "errback":
      d.addErrback(fn(step.action));
      break;
    case "both":
      d.addBoth(fn(step.action));
      break;
    case "callbacks":
      d.addCallbacks(fn(step.onValue), fn(step.onError));
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const outcomeSpec: fc.Arbitrary<OutcomeSpec> = fc.oneof(
  fc.record({ ok: fc.constant(true as const), value: fc.integer({ min: -50, max: 50 }) }),
  fc.record({ ok: fc.constant(false as const), tag: fc.nat({ max: 9 }) }),
);

function actionArb(withPromises: boolean): fc.Arbitrary<Action> {
  const sync: fc.Arbitrary<Action>[] = [
    fc.record({ kind: fc.constant("map" as const), k: fc.integer({ min: -5, max: 5 }) }),
    fc.record({ kind: fc.constant("pause" as const), k: fc.integer({ min: -5, max: 5 }) }),
    fc.record({ kind: fc.constant("throw" as const), tag: fc.nat({ max: 9 }) }),
    fc.record({ kind: fc.constant("fired" as const), outcome: outcomeSpec }),
    fc.record({ kind: fc.constant("unfired" as const), depth: fc.nat({ max: 3 }), outcome: outcomeSpec }),
  ];
  if (withPromises) sync.push(fc.record({ kind: fc.constant("promise" as const), outcome: outcomeSpec }));
  return fc.oneof(...sync);
}

function stepArb(withPromises: boolean): fc.Arbitrary<Step> {
  const action = actionArb(withPromises);
  return fc.oneof(
    fc.record({ add: fc.constant("callback" as const), action }),
    fc.record({ add: fc.constant("errback" as const), action }),
    fc.record({ add: fc.constant("both" as const), action }),
    fc.record({ add: fc.constant("callbacks" as const), onValue: action, onError: action }),
  );
}

interface Scenario {
  readonly initial: OutcomeSpec;
  readonly steps: Step[];
  /** How many steps are added before the Deferred fires; the rest are added after. */
  readonly addedBeforeFiring: number;
  /** Each entry picks the next event: adding the next step, or settling one pending result. */
  readonly schedule: number[];
  /** Pauses of the whole Deferred from outside, each undone by a later event. */
  readonly outsidePauses: number;
  /** Call `unpause()` with no pause outstanding after every event: it must change nothing. */
  readonly strayUnpauses: boolean;
}

function scenarioArb(withPromises: boolean): fc.Arbitrary<Scenario> {
  return fc.record({
    initial: outcomeSpec,
    steps: fc.array(stepArb(withPromises), { maxLength: 12 }),
    addedBeforeFiring: fc.nat({ max: 12 }),
    schedule: fc.array(fc.nat({ max: 1000 }), { maxLength: 40 }),
    outsidePauses: fc.nat({ max: 2 }),
    strayUnpauses: fc.boolean(),
  });
}

/**
 * Builds the chain, fires it, and interleaves adding the remaining steps with settling pending
 * results as the schedule says; `between` runs after every event (to let Promises settle).
 */
async function play(scenario: Scenario, between: () => Promise<void> | void): Promise<Run> {
  // A run that failed an assertion may have left errors behind; they must not blame this one.
  flushUnhandledErrors();
  const run: Run = { d: new Deferred<unknown>(), trace: [], errors: new Errors(), pending: [], pauses: 0, ranWhilePaused: [] };
  const { d, pending } = run;
  const toAdd = scenario.steps.map((step, i) => () => {
    addStep(run, step, i);
  });
  for (let i = 0; i < scenario.outsidePauses; i++) pending.push({ settle: () => pauseUntilLater(run) });
  const afterEvent = async (): Promise<void> => {
    if (scenario.strayUnpauses && run.pauses === 0) d.unpause();
    await between();
  };
  const before = Math.min(scenario.addedBeforeFiring, toAdd.length);
  for (const add of toAdd.splice(0, before)) add();
  const initial = toOutcome(scenario.initial, run.errors);
  if (initial.ok) d.callback(initial.value);
  else d.errback(initial.error);
  await afterEvent();
  let turn = 0;
  while (toAdd.length > 0 || pending.length > 0) {
    const pick = scenario.schedule[turn % Math.max(1, scenario.schedule.length)] ?? 0;
    turn++;
    const choices = (toAdd.length > 0 ? 1 : 0) + pending.length;
    const choice = pick % choices;
    if (toAdd.length > 0 && choice === 0) toAdd.shift()!();
    else pending.splice(choice - (toAdd.length > 0 ? 1 : 0), 1)[0]!.settle();
    await afterEvent();
  }
  return run;
}

type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown } | "pending";

/** Watches the end of `d`'s chain, consuming a failure. */
function watch<T>(d: Deferred<T>): { readonly current: Settled<T> } {
  const box: { current: Settled<T> } = { current: "pending" };
  d.addCallbacks(
    (value) => {
      box.current = { ok: true, value };
    },
    (error) => {
      box.current = { ok: false, error };
    },
  );
  return box;
}

function errorOf<T>(box: { readonly current: Settled<T> }): unknown {
  const settled = box.current;
  if (settled === "pending" || settled.ok) throw new Error(`expected a failure, got ${JSON.stringify(settled)}`);
  return settled.error;
}

// ---------------------------------------------------------------------------------------------

describe("Deferred laws", () => {
  it("a chain of callbacks and errbacks behaves as plain synchronous evaluation", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(false), async (scenario) => {
        const { d, trace, errors, ranWhilePaused } = await play(scenario, () => undefined);
        const expected = model(toOutcome(scenario.initial, errors), scenario.steps, errors);
        expect(trace).toEqual(expected.trace);
        expect(ranWhilePaused).toEqual([]);
        expect(d.paused).toBe(false);
        // A failure that ends the chain is reported, and nothing else: every failure a chain
        // took from an inner Deferred counts as handled there.
        const unhandled = flushUnhandledErrors().map((e) => e.cause);
        expect(unhandled).toEqual(expected.final.ok ? [] : [expected.final.error]);
        expect(watch(d).current).toEqual(expected.final);
      }),
      { numRuns: 300 },
    );
  });

  it("the law holds when callbacks also return Promises, and await sees the final outcome", async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(true), async (scenario) => {
        const { d, trace, errors, ranWhilePaused } = await play(scenario, drainMicrotasks);
        const expected = model(toOutcome(scenario.initial, errors), scenario.steps, errors);
        expect(trace).toEqual(expected.trace);
        expect(ranWhilePaused).toEqual([]);
        if (expected.final.ok) {
          await expect(d.asPromise()).resolves.toBe(expected.final.value);
        } else {
          await expect(d.asPromise()).rejects.toBe(expected.final.error);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("a failure skips every callback and reaches the next errback unchanged", () => {
    fc.assert(
      fc.property(fc.nat({ max: 20 }), fc.boolean(), (callbacks, startFailed) => {
        const error = new Error("travelling");
        const d = startFailed ? fail<number>(error) : succeed(0).addCallback(() => fail<number>(error));
        let ran = 0;
        for (let i = 0; i < callbacks; i++)
          d.addCallback((n) => {
            ran++;
            return n;
          });
        let seen: unknown;
        d.addErrback((e) => {
          seen = e;
        });
        expect(ran).toBe(0);
        expect(seen).toBe(error);
      }),
    );
  });

  it("cancelling any Deferred of a waiting chain cancels the innermost, and its outcome reaches the outermost", () => {
    type CancellerKind = "none" | "silent" | "value" | "error";
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.nat(),
        fc.constantFrom<CancellerKind>("none", "silent", "value", "error"),
        fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
        (depth, which, innermostCanceller, levelHasCanceller) => {
          const cancellerError = new Error("canceller");
          const calls: number[] = [];
          const innermost = new Deferred<number>(
            innermostCanceller === "none"
              ? undefined
              : (self) => {
                  calls.push(0);
                  if (innermostCanceller === "value") self.callback(100);
                  if (innermostCanceller === "error") self.errback(cancellerError);
                },
          );
          // levels[0] is the innermost; each outer level waits on the one inside it, then adds 1.
          const levels: Deferred<number>[] = [innermost];
          for (let level = 1; level <= depth; level++) {
            const inner = levels[level - 1]!;
            const d = new Deferred<number>(levelHasCanceller[level - 1] ? () => calls.push(level) : undefined);
            d.addCallback(() => inner).addCallback((n) => n + 1);
            d.callback(0);
            levels.push(d);
          }
          const outermost = levels[depth]!;
          const outcome = watch(outermost);
          expect(outcome.current).toBe("pending");
          levels[1 + (which % depth)]!.cancel();
          // Only the innermost was still unfired, so only its canceller may run.
          expect(calls).toEqual(innermostCanceller === "none" ? [] : [0]);
          if (innermostCanceller === "value") expect(outcome.current).toEqual({ ok: true, value: 100 + depth });
          else if (innermostCanceller === "error") expect(errorOf(outcome)).toBe(cancellerError);
          else expect(errorOf(outcome)).toBeInstanceOf(CancelledError);
        },
      ),
    );
  });

  it("DeferredList reports in list order, gatherResults fails with the first failure to happen", () => {
    fc.assert(
      fc.property(
        fc.array(outcomeSpec, { maxLength: 8 }).chain((specs) =>
          fc.tuple(fc.constant(specs), fc.shuffledSubarray(specs.map((_, i) => i), { minLength: specs.length })),
        ),
        ([specs, order]) => {
          const errors = new Errors();
          const outcomes = specs.map((spec) => toOutcome(spec, errors));
          const listMembers = specs.map(() => new Deferred<number>());
          const gatherMembers = specs.map(() => new Deferred<number>());
          let listResult: unknown;
          DeferredList(listMembers, { consumeErrors: true }).addCallback((entries) => {
            listResult = entries;
          });
          const gathered = watch(gatherResults(gatherMembers, true));
          for (const i of order) {
            for (const members of [listMembers, gatherMembers]) {
              const outcome = outcomes[i]!;
              if (outcome.ok) members[i]!.callback(outcome.value);
              else members[i]!.errback(outcome.error);
            }
          }
          expect(listResult).toEqual(outcomes.map((o) => (o.ok ? [true, o.value] : [false, o.error])));
          const firstFailure = order.find((i) => !outcomes[i]!.ok);
          if (firstFailure === undefined) {
            expect(gathered.current).toEqual({ ok: true, value: outcomes.map((o) => (o.ok ? o.value : NaN)) });
          } else {
            const error = errorOf(gathered);
            expect(error).toBeInstanceOf(FirstError);
            expect((error as FirstError).index).toBe(firstFailure);
            expect((error as FirstError).cause).toBe((outcomes[firstFailure] as { error: Error }).error);
          }
        },
      ),
    );
  });

  it("race is won by the first success to happen, and every other contestant is cancelled", () => {
    fc.assert(
      fc.property(
        fc.array(outcomeSpec, { minLength: 1, maxLength: 8 }).chain((specs) =>
          fc.tuple(fc.constant(specs), fc.shuffledSubarray(specs.map((_, i) => i), { minLength: specs.length })),
        ),
        ([specs, order]) => {
          const errors = new Errors();
          const outcomes = specs.map((spec) => toOutcome(spec, errors));
          const cancelled = new Set<number>();
          const members = specs.map((_, i) => new Deferred<number>(() => cancelled.add(i)));
          const result = watch(race(members));
          for (const i of order) {
            if (members[i]!.called) continue; // cancelled by the race
            const outcome = outcomes[i]!;
            if (outcome.ok) members[i]!.callback(outcome.value);
            else members[i]!.errback(outcome.error);
          }
          const winner = order.find((i) => outcomes[i]!.ok);
          if (winner === undefined) {
            const error = errorOf(result);
            expect(error).toBeInstanceOf(AllFailedError);
            expect((error as AllFailedError).errors).toEqual(outcomes.map((o) => (o.ok ? undefined : o.error)));
            expect(cancelled.size).toBe(0);
          } else {
            expect(result.current).toEqual({ ok: true, value: [winner, (outcomes[winner] as { value: number }).value] });
            const stillOpen = order.slice(order.indexOf(winner) + 1);
            expect([...cancelled].sort()).toEqual([...stillOpen].sort());
          }
        },
      ),
    );
  });
});
