/**
 * `Deferred`: a promise of a result that is not there yet, with Twisted's semantics.
 *
 * A Deferred fires once, with `callback(value)` or `errback(error)`. Its callbacks run
 * synchronously, in the order they were added; a callback that throws switches the chain to
 * the errback path, and an errback that returns switches it back. A callback that returns
 * another Deferred, or a Promise, pauses the chain until that fires. Chains of any length run
 * in a loop, not by recursion, so 100,000 Deferreds waiting on one another do not overflow the
 * stack, and neither does cancelling the outermost of them.
 *
 * A Deferred is awaitable: `await d` gives its result or throws its error.
 *
 * @example
 * ```ts
 * const d = new Deferred<number>();
 * d.addCallback((n) => n * 2).addCallback((n) => console.log(n)); // logs 42
 * d.callback(21);
 * ```
 *
 * @module
 */

import type { Clock } from "./reactor.js";
import {
  AllFailedError,
  AlreadyCalledError,
  CancelledError,
  CancellerFailedError,
  FirstError,
  InvalidOptionError,
  NotHeldError,
  QueueOverflowError,
  QueueUnderflowError,
  TimeoutError,
  UnhandledErrorInDeferred,
} from "./errors.js";

/** What a callback may return: a value, or something that will produce one later. */
export type Awaitable<T> = T | Deferred<T> | PromiseLike<T>;

/** The value a Deferred or Promise resolves to. */
export type Resolved<T> = T extends Deferred<infer U> ? U : T extends PromiseLike<infer U> ? U : T;

/** Called by `cancel()` on an unfired Deferred; it may fire the Deferred with anything. */
export type Canceller<T> = (deferred: Deferred<T>) => void;

// ---------------------------------------------------------------------------------------------
// Unhandled errors

/** Receives every error that ended a Deferred's chain with nobody to handle it. */
export type UnhandledErrorHook = (error: UnhandledErrorInDeferred) => void;

let unhandledHook: UnhandledErrorHook = (error) => {
  console.error(error);
};
let tracked: Set<Deferred<unknown>> | null = null;
const reaper = new FinalizationRegistry<unknown>((cause) => {
  unhandledHook(new UnhandledErrorInDeferred(cause));
});

/**
 * Installs the function that reports unhandled Deferred errors.
 *
 * A Deferred whose chain ends in a failure is reported when it is garbage-collected, as in
 * Twisted; tests that cannot wait for the collector use {@link trackUnhandledErrors}.
 *
 * @param hook - the new reporter; the default writes to `console.error`.
 * @returns the previous reporter, so a test can put it back.
 */
export function setUnhandledErrorHook(hook: UnhandledErrorHook): UnhandledErrorHook {
  const previous = unhandledHook;
  unhandledHook = hook;
  return previous;
}

/**
 * Starts (or stops) remembering every Deferred whose chain ends unhandled, so that
 * {@link flushUnhandledErrors} can report them without waiting for garbage collection.
 *
 * @param enabled - whether to track; turning it off forgets what was tracked.
 */
export function trackUnhandledErrors(enabled: boolean): void {
  tracked = enabled ? (tracked ?? new Set()) : null;
}

/**
 * Returns the errors of every tracked Deferred that is still unhandled, and marks them handled.
 *
 * @returns the unhandled errors, oldest first; empty when tracking is off.
 */
export function flushUnhandledErrors(): UnhandledErrorInDeferred[] {
  if (tracked === null) return [];
  const errors: UnhandledErrorInDeferred[] = [];
  for (const d of tracked) {
    errors.push(new UnhandledErrorInDeferred(d.peekResult()));
    d.markHandled();
  }
  tracked.clear();
  return errors;
}

// ---------------------------------------------------------------------------------------------

/**
 * A result that will arrive later, with a chain of callbacks and errbacks to process it.
 *
 * @typeParam T - the type of the value the chain currently carries.
 */
export class Deferred<T = unknown> implements PromiseLike<T> {
  /** True once `callback` or `errback` has been called. */
  called = false;

  /** The value or error the chain carries; `undefined` while waiting on another Deferred. */
  private result: unknown = undefined;
  private failed = false;
  /** Outstanding `pause()` calls; waiting on another Deferred is tracked by `chainedTo`. */
  private pauseCount = 0;
  /** Callbacks not run yet: `links[head]` onwards. An index, since `shift()` is O(n). */
  private links: Link[] = [];
  private head = 0;
  /** True while one of this Deferred's own callbacks is on the stack. */
  private running = false;
  /** The Deferred a callback returned and this one waits on; `cancel()` forwards to it. */
  private chainedTo: Deferred<unknown> | null = null;
  private suppressAlreadyCalled = false;
  /** True while this Deferred's canceller runs, so a cancellation that comes back here stops. */
  private cancelling = false;
  private unhandled = false;
  private readonly canceller: (() => void) | undefined;

  /**
   * @param canceller - called by `cancel()` before this Deferred fires; when it does not fire
   *   the Deferred itself, the Deferred fails with `CancelledError`.
   */
  constructor(canceller?: Canceller<T>) {
    this.canceller = canceller === undefined ? undefined : () => canceller(this);
  }

  /** True while `pause()` calls outnumber `unpause()` calls, or while waiting on a result. */
  get paused(): boolean {
    return this.pauseCount > 0 || this.chainedTo !== null;
  }

  /**
   * Fires this Deferred with a value, running the callback chain.
   *
   * @param value - the result handed to the first callback.
   * @throws AlreadyCalledError (`WL_ERR_ALREADY_CALLED`) when it has fired before.
   * @throws TypeError when `value` is itself a Deferred: return it from a callback instead.
   */
  callback(value: T): void {
    if (value instanceof Deferred) throw new TypeError("cannot fire a Deferred with another Deferred");
    this.start(value, false);
  }

  /**
   * Fires this Deferred with an error, running the errback chain.
   *
   * @param error - the error handed to the first errback.
   * @throws AlreadyCalledError (`WL_ERR_ALREADY_CALLED`) when it has fired before.
   */
  errback(error: unknown): void {
    this.start(error, true);
  }

  /**
   * Adds a callback, run with the current value when the chain succeeds.
   *
   * @param fn - receives the value (and `args`); what it returns, or throws, is the new result.
   * @param args - extra arguments for `fn`.
   * @returns this Deferred, now carrying what `fn` returns.
   */
  addCallback<R, A extends unknown[]>(fn: (value: T, ...args: A) => Awaitable<R>, ...args: A): Deferred<R> {
    return this.addLink((value) => fn(value as T, ...args), null);
  }

  /**
   * Adds an errback, run with the current error when the chain fails. Returning a value
   * recovers the chain; throwing keeps it on the errback path.
   *
   * @param fn - receives the error (and `args`).
   * @param args - extra arguments for `fn`.
   * @returns this Deferred, carrying either the old value or what `fn` returns.
   */
  addErrback<R, A extends unknown[]>(fn: (error: unknown, ...args: A) => Awaitable<R>, ...args: A): Deferred<T | R> {
    return this.addLink(null, (error) => fn(error, ...args));
  }

  /**
   * Adds a function run on both paths, with the current value or error. What it returns is a
   * success, even when it returns the error it was given: rethrow to stay on the errback path.
   *
   * @param fn - receives the value or the error (and `args`).
   * @param args - extra arguments for `fn`.
   * @returns this Deferred, now carrying what `fn` returns.
   */
  addBoth<R, A extends unknown[]>(fn: (valueOrError: unknown, ...args: A) => Awaitable<R>, ...args: A): Deferred<R> {
    const step: Step = (result) => fn(result, ...args);
    return this.addLink(step, step);
  }

  /**
   * Adds a callback and an errback at the same level of the chain: `onError` does not see
   * what `onValue` throws.
   *
   * @param onValue - run when the chain succeeds.
   * @param onError - run when the chain fails.
   * @returns this Deferred, now carrying what whichever ran returns.
   */
  addCallbacks<R1, R2>(onValue: (value: T) => Awaitable<R1>, onError: (error: unknown) => Awaitable<R2>): Deferred<R1 | R2> {
    return this.addLink((value) => onValue(value as T), onError);
  }

  /**
   * Makes `other` fire with this Deferred's result when this one fires; this chain then
   * carries `undefined`, as in Twisted's `chainDeferred`.
   *
   * @param other - the Deferred to fire.
   * @returns this Deferred.
   */
  chainDeferred(other: Deferred<T>): Deferred<void> {
    return this.addCallbacks(
      (value) => {
        other.callback(value);
      },
      (error) => {
        other.errback(error);
      },
    );
  }

  /** Stops running callbacks, from the next one on, until a matching `unpause()`. */
  pause(): void {
    this.pauseCount++;
  }

  /**
   * Undoes one `pause()`; the chain resumes when no pause is left. An `unpause()` without a
   * `pause()` does nothing: in particular it cannot wake a chain waiting on another Deferred.
   */
  unpause(): void {
    if (this.pauseCount === 0) return;
    this.pauseCount--;
    if (this.called && !this.paused) this.runCallbacks();
  }

  /**
   * Cancels the work behind this Deferred.
   *
   * Before it fires: calls the canceller; if that does not fire the Deferred, it fails with
   * `CancelledError`. Without a canceller, the next `callback` or `errback` from the original
   * source is then ignored rather than raising `AlreadyCalledError`. While it waits on another
   * Deferred returned by a callback: cancels that one instead (and so on down the chain). After
   * it has fired and finished: does nothing. A cancellation that comes back to a Deferred whose
   * canceller is running (a list member waiting on its own list, a canceller that cancels its
   * own Deferred) does nothing more: the first one finishes the job.
   *
   * @throws what the canceller throws; the Deferred is then not fired.
   * @throws TypeError when the Deferreds this one waits on wait, in the end, on it: none of
   *   them can ever fire, and there is nothing to cancel.
   */
  cancel(): void {
    // A loop, not recursion: the Deferred actually waiting for a result may be 100,000 deep.
    // The hare walks twice as fast: if it meets the target, the waits form a cycle.
    let target: Deferred<unknown> = this;
    let hare: Deferred<unknown> | null = this;
    while (target.called) {
      if (target.chainedTo === null) return;
      target = target.chainedTo;
      hare = hare?.chainedTo?.chainedTo ?? null;
      if (hare === target) throw new TypeError("cancel(): these Deferreds wait on one another in a cycle, so none can fire");
    }
    if (target.cancelling) return;
    if (target.canceller === undefined) {
      target.suppressAlreadyCalled = true;
    } else {
      target.cancelling = true;
      try {
        target.canceller();
      } finally {
        target.cancelling = false;
      }
    }
    if (!target.called) target.errback(new CancelledError());
  }

  /**
   * Fails this Deferred with `TimeoutError` unless it fires within `ms` on `clock`.
   *
   * On timeout the Deferred is cancelled (so its canceller runs), and the resulting
   * `CancelledError` becomes a `TimeoutError`. When the chain reaches this point first, the
   * timer is cancelled.
   *
   * @param ms - the time limit in milliseconds.
   * @param clock - the clock that measures it (the reactor, or a fake clock in tests).
   * @returns this Deferred.
   * @throws (through the chain) TimeoutError (`WL_ERR_TIMEOUT`).
   */
  addTimeout(ms: number, clock: Clock): Deferred<T> {
    let timedOut = false;
    const timer = clock.callLater(ms, () => {
      timedOut = true;
      this.cancel();
    });
    const stopTimer = (): void => {
      if (timer.active()) timer.cancel();
    };
    return this.addCallbacks(
      (value) => {
        stopTimer();
        return value;
      },
      (error) => {
        stopTimer();
        throw timedOut && error instanceof CancelledError ? new TimeoutError(ms) : error;
      },
    );
  }

  /**
   * Lets `await d` work: resolves with the chain's value, or rejects with its error. An error
   * delivered to an awaiter counts as handled, and the chain carries `undefined` after it.
   *
   * @param onFulfilled - as for `Promise.prototype.then`.
   * @param onRejected - as for `Promise.prototype.then`.
   * @returns a Promise, as `Promise.prototype.then` does.
   */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.asPromise().then(onFulfilled, onRejected);
  }

  /**
   * Returns a Promise of this Deferred's result; its error, if any, goes to the Promise and
   * counts as handled here.
   *
   * @returns a Promise that settles when the chain reaches this point.
   */
  asPromise(): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.addCallbacks(
        (value) => {
          resolve(value);
          return value;
        },
        (error) => {
          reject(error);
        },
      );
    });
  }

  /**
   * Builds a Deferred that fires with a Promise's outcome. Cancelling it fails it at once with
   * `CancelledError`; the Promise's later outcome is then ignored.
   *
   * @param promise - a Promise or any thenable.
   * @returns a new Deferred.
   */
  static fromPromise<T>(promise: PromiseLike<T>): Deferred<T> {
    const d = new Deferred<T>();
    // Promise.resolve guards against thenables that call back twice or throw from `then`.
    void Promise.resolve(promise).then(
      (value) => {
        d.callback(value);
      },
      (error: unknown) => {
        d.errback(error);
      },
    );
    return d;
  }

  /**
   * For the unhandled-error tracker: the current result, without consuming it.
   *
   * @returns the value or error the chain carries now.
   */
  peekResult(): unknown {
    return this.result;
  }

  /** For the unhandled-error tracker: stop reporting this Deferred's failure. */
  markHandled(): void {
    if (!this.unhandled) return;
    this.unhandled = false;
    reaper.unregister(this);
    tracked?.delete(this);
  }

  // -------------------------------------------------------------------------------------------

  private start(result: unknown, failed: boolean): void {
    if (this.called) {
      if (this.suppressAlreadyCalled) {
        this.suppressAlreadyCalled = false;
        return;
      }
      throw new AlreadyCalledError();
    }
    this.called = true;
    this.result = result;
    this.failed = failed;
    this.runCallbacks();
  }

  private addLink<R>(onSuccess: Step | null, onFailure: Step | null): Deferred<R> {
    this.links.push({ kind: "step", onSuccess, onFailure });
    if (this.called) this.runCallbacks();
    return this as unknown as Deferred<R>;
  }

  /**
   * True when the result is final: fired, not paused, not waiting, and no callback left to
   * run. A Deferred that is not settled is either unfired, paused, or being run by a loop
   * further up the stack; in every case whatever is appended to its links will run.
   */
  private settled(): boolean {
    return this.called && !this.paused && !this.running && this.head === this.links.length;
  }

  /**
   * Runs callbacks until every Deferred reachable from this one is finished or paused.
   *
   * When this Deferred waits on another, a resume link at the end of the other's chain hands
   * the result back; the loop then pushes the waiter on a local stack instead of calling into
   * it, so stack depth never grows with the length of a chain of Deferreds.
   */
  private runCallbacks(): void {
    // A callback that adds callbacks to its own Deferred: the loop already running picks them up.
    if (this.running) return;
    const stack: Deferred<unknown>[] = [this];
    while (stack.length > 0) {
      const waiter = stack[stack.length - 1]!.advance();
      if (waiter === null) stack.pop();
      else stack.push(waiter);
    }
  }

  /**
   * Runs this Deferred's links until it pauses or runs out of them, or until it reaches a
   * resume link.
   *
   * @returns the waiter a resume link handed the result to, to be run next; null otherwise.
   */
  private advance(): Deferred<unknown> | null {
    while (!this.paused) {
      const link = this.nextLink();
      if (link === undefined) {
        if (this.failed) this.reportUnhandled();
        return null;
      }
      if (link.kind === "resume") return this.handResultTo(link.waiter);
      this.runStep(link);
    }
    return null;
  }

  private nextLink(): Link | undefined {
    const link = this.links[this.head];
    if (link === undefined) {
      this.links = [];
      this.head = 0;
    } else {
      this.head++;
    }
    return link;
  }

  private runStep(link: StepLink): void {
    const step = this.failed ? link.onFailure : link.onSuccess;
    if (step === null) return;
    if (this.failed) this.markHandled();
    this.running = true;
    try {
      this.result = step(this.result);
      this.failed = false;
    } catch (error) {
      this.result = error;
      this.failed = true;
    } finally {
      this.running = false;
    }
    if (this.result instanceof Deferred) this.waitOn(this.result as Deferred<unknown>);
    else if (isPromiseLike(this.result)) this.waitOn(Deferred.fromPromise(this.result));
  }

  /** Takes `inner`'s result now if it is final, or arranges to be resumed when it is. */
  private waitOn(inner: Deferred<unknown>): void {
    if (inner === this) {
      this.result = new TypeError("a callback returned the Deferred it was added to");
      this.failed = true;
      return;
    }
    if (inner.settled()) {
      this.result = inner.result;
      this.failed = inner.failed;
      inner.result = undefined;
      inner.failed = false;
      inner.markHandled();
      return;
    }
    this.result = undefined;
    this.chainedTo = inner;
    // Appended directly: `inner` is not settled, so whoever fires, unpauses or is running it
    // will reach this link.
    inner.links.push({ kind: "resume", waiter: this });
  }

  private handResultTo(waiter: Deferred<unknown>): Deferred<unknown> {
    waiter.result = this.result;
    waiter.failed = this.failed;
    waiter.chainedTo = null;
    this.result = undefined;
    this.failed = false;
    this.markHandled();
    return waiter;
  }

  private reportUnhandled(): void {
    if (this.unhandled) return;
    this.unhandled = true;
    reaper.register(this, this.result, this);
    tracked?.add(this);
  }
}

type Step = (result: unknown) => unknown;

/** A callback/errback pair added by `addCallbacks` and friends. */
interface StepLink {
  readonly kind: "step";
  readonly onSuccess: Step | null;
  readonly onFailure: Step | null;
}

/** Hands a finished Deferred's result to the Deferred that waits on it. */
interface ResumeLink {
  readonly kind: "resume";
  readonly waiter: Deferred<unknown>;
}

type Link = StepLink | ResumeLink;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Returns a Deferred that has already fired with `value`. */
export function succeed<T>(value: T): Deferred<T> {
  const d = new Deferred<T>();
  d.callback(value);
  return d;
}

/** Returns a Deferred that has already failed with `error`. */
export function fail<T = never>(error: unknown): Deferred<T> {
  const d = new Deferred<T>();
  d.errback(error);
  return d;
}

/**
 * Calls `fn` and wraps whatever happens in a Deferred: a thrown error becomes a failed
 * Deferred, a Promise is adapted, a Deferred is returned as it is.
 */
export function maybeDeferred<R, A extends unknown[]>(fn: (...args: A) => Awaitable<R>, ...args: A): Deferred<R> {
  let result: Awaitable<R>;
  try {
    result = fn(...args);
  } catch (error) {
    return fail<R>(error);
  }
  if (result instanceof Deferred) return result;
  if (isPromiseLike(result)) return Deferred.fromPromise(result);
  return succeed(result);
}

/** One entry of a `DeferredList` result: `[true, value]` or `[false, error]`. */
export type DeferredListEntry<T> = readonly [true, T] | readonly [false, unknown];

/** Options for {@link DeferredList}. */
export interface DeferredListOptions {
  /**
   * Fire with `[value, index]` as soon as one Deferred succeeds.
   * @defaultValue false
   */
  fireOnOneCallback?: boolean;
  /**
   * Fail with a `FirstError` as soon as one Deferred fails.
   * @defaultValue false
   */
  fireOnOneErrback?: boolean;
  /**
   * Swallow each Deferred's error after recording it, so none is reported unhandled.
   * @defaultValue false
   */
  consumeErrors?: boolean;
}

/**
 * Cancels every Deferred of `deferreds`, even when a canceller throws: its error is reported as
 * an unhandled Deferred error (a `CancellerFailedError`), as Twisted's DeferredList logs it.
 */
function cancelEach(deferreds: readonly Deferred<unknown>[]): void {
  for (const d of deferreds) {
    try {
      d.cancel();
    } catch (error) {
      fail(new CancellerFailedError(error));
    }
  }
}

/**
 * Waits for a list of Deferreds and fires with every outcome, in order.
 *
 * With `fireOnOneCallback` it fires with `[value, index]` on the first success; with
 * `fireOnOneErrback` it fails with `FirstError` on the first failure. An empty list fires at
 * once with `[]`, except with `fireOnOneCallback`, where it never fires (as in Twisted).
 * Cancelling it cancels every Deferred in the list, even when a canceller throws (that error is
 * reported as a `CancellerFailedError`); it then fires as their outcomes dictate, typically
 * with a list of `CancelledError` failures, and if their cancellation does not fire it, it fails
 * with `CancelledError` itself, like any Deferred whose canceller does not fire it.
 *
 * @param deferreds - the Deferreds to wait for.
 * @param options - see {@link DeferredListOptions}.
 * @returns a Deferred of the entries (or of `[value, index]` with `fireOnOneCallback`).
 * @throws (through the Deferred, with `fireOnOneErrback`) FirstError (`WL_ERR_FIRST_ERROR`).
 */
export function DeferredList<T>(
  deferreds: readonly Deferred<T>[],
  options?: DeferredListOptions & { fireOnOneCallback?: false },
): Deferred<DeferredListEntry<T>[]>;
export function DeferredList<T>(
  deferreds: readonly Deferred<T>[],
  options: DeferredListOptions,
): Deferred<DeferredListEntry<T>[] | readonly [T, number]>;
export function DeferredList<T>(
  deferreds: readonly Deferred<T>[],
  options: DeferredListOptions = {},
): Deferred<DeferredListEntry<T>[] | readonly [T, number]> {
  const { fireOnOneCallback = false, fireOnOneErrback = false, consumeErrors = false } = options;
  const entries: DeferredListEntry<T>[] = new Array<DeferredListEntry<T>>(deferreds.length);
  let remaining = deferreds.length;
  const result = new Deferred<DeferredListEntry<T>[] | readonly [T, number]>(() => {
    cancelEach(deferreds);
  });
  if (remaining === 0 && !fireOnOneCallback) result.callback(entries);
  deferreds.forEach((d, index) => {
    d.addCallbacks(
      (value) => {
        entries[index] = [true, value];
        remaining--;
        if (result.called) return value;
        if (fireOnOneCallback) result.callback([value, index]);
        else if (remaining === 0) result.callback(entries);
        return value;
      },
      (error) => {
        entries[index] = [false, error];
        remaining--;
        if (!result.called) {
          if (fireOnOneErrback) result.errback(new FirstError(error, index));
          else if (remaining === 0) result.callback(entries);
        }
        if (consumeErrors) return undefined;
        throw error;
      },
    );
  });
  return result;
}

/**
 * Waits for every Deferred and fires with their values, in order; fails with `FirstError` on
 * the first failure. Cancelling it cancels them all.
 *
 * @param deferreds - the Deferreds to wait for.
 * @param consumeErrors - swallow each Deferred's own error after reporting the first, so the
 *   originals are not reported unhandled.
 * @defaultValue consumeErrors false
 * @returns a Deferred of the values.
 * @throws (through the Deferred) FirstError (`WL_ERR_FIRST_ERROR`).
 */
export function gatherResults<T>(deferreds: readonly Deferred<T>[], consumeErrors = false): Deferred<T[]> {
  return DeferredList(deferreds, { fireOnOneErrback: true, consumeErrors }).addCallback((entries) =>
    entries.map((entry) => entry[1] as T),
  );
}

/**
 * Fires with `[index, value]` of the first Deferred to succeed, after cancelling all the
 * others. Fails with `AllFailedError` when every one fails (at once for an empty list).
 * Cancelling the race cancels them all; as in Twisted, it then fails with `AllFailedError`
 * holding their `CancelledError`s, unless a canceller made one succeed.
 *
 * @param deferreds - the contestants.
 * @returns a Deferred of the winner's position and value.
 * @throws (through the Deferred) AllFailedError (`WL_ERR_ALL_FAILED`).
 */
export function race<T>(deferreds: readonly Deferred<T>[]): Deferred<readonly [number, T]> {
  const errors: unknown[] = new Array<unknown>(deferreds.length);
  let failures = 0;
  let won = false;
  const result = new Deferred<readonly [number, T]>(() => {
    cancelEach(deferreds);
  });
  if (deferreds.length === 0) result.errback(new AllFailedError([]));
  deferreds.forEach((d, index) => {
    d.addCallbacks(
      (value) => {
        // A loser's canceller may make it succeed while the winner cancels it: ignore that.
        if (won) return;
        won = true;
        cancelEach(deferreds.filter((_, j) => j !== index));
        result.callback([index, value]);
      },
      (error) => {
        errors[index] = error;
        failures++;
        if (!won && failures === deferreds.length) result.errback(new AllFailedError(errors));
      },
    );
  });
  return result;
}

// ---------------------------------------------------------------------------------------------
// Concurrency primitives

/** Waiters in order; cancelling a waiter takes it out of the line. */
class WaitLine<T> {
  private readonly waiting: Deferred<T>[] = [];

  get length(): number {
    return this.waiting.length;
  }

  join(): Deferred<T> {
    const d: Deferred<T> = new Deferred<T>((cancelled) => {
      const i = this.waiting.indexOf(cancelled);
      if (i >= 0) this.waiting.splice(i, 1);
    });
    this.waiting.push(d);
    return d;
  }

  next(): Deferred<T> | undefined {
    return this.waiting.shift();
  }
}

/**
 * A lock for code that runs in callbacks: `acquire()` fires when the lock is yours.
 *
 * @example
 * ```ts
 * const lock = new DeferredLock();
 * await lock.run(async () => { ... }); // one at a time
 * ```
 */
export class DeferredLock {
  /** True while someone holds the lock. */
  locked = false;
  private readonly line = new WaitLine<DeferredLock>();

  /** Returns a Deferred that fires with this lock once it is acquired; cancel to give up. */
  acquire(): Deferred<DeferredLock> {
    if (!this.locked) {
      this.locked = true;
      return succeed<DeferredLock>(this);
    }
    return this.line.join();
  }

  /**
   * Releases the lock, handing it to the next waiter.
   *
   * @throws Error when the lock is not held.
   */
  release(): void {
    if (!this.locked) throw new NotHeldError("release() of a lock that is not held");
    const next = this.line.next();
    if (next === undefined) this.locked = false;
    else next.callback(this);
  }

  /** Acquires the lock, runs `fn`, and releases the lock whatever `fn` did. */
  run<R, A extends unknown[]>(fn: (...args: A) => Awaitable<R>, ...args: A): Deferred<R> {
    return runHolding(this, fn, args);
  }
}

/**
 * A semaphore of `tokens` places: at most that many holders at once.
 */
export class DeferredSemaphore {
  /** Places free now. */
  tokens: number;
  /** Places in all. */
  readonly limit: number;
  private readonly line = new WaitLine<DeferredSemaphore>();

  /**
   * @param tokens - how many may hold the semaphore at once (at least 1).
   * @throws RangeError when `tokens` is less than 1.
   */
  constructor(tokens: number) {
    if (!Number.isInteger(tokens) || tokens < 1) throw new InvalidOptionError("tokens", "a DeferredSemaphore needs at least one token");
    this.tokens = tokens;
    this.limit = tokens;
  }

  /** Returns a Deferred that fires with this semaphore once a place is yours. */
  acquire(): Deferred<DeferredSemaphore> {
    if (this.tokens > 0) {
      this.tokens--;
      return succeed<DeferredSemaphore>(this);
    }
    return this.line.join();
  }

  /**
   * Gives back a place, handing it to the next waiter.
   *
   * @throws Error when every place is already free.
   */
  release(): void {
    if (this.tokens >= this.limit) throw new NotHeldError("release() of a semaphore with no holder");
    const next = this.line.next();
    if (next === undefined) this.tokens++;
    else next.callback(this);
  }

  /** Acquires a place, runs `fn`, and releases the place whatever `fn` did. */
  run<R, A extends unknown[]>(fn: (...args: A) => Awaitable<R>, ...args: A): Deferred<R> {
    return runHolding(this, fn, args);
  }
}

function runHolding<R, A extends unknown[]>(
  holder: { acquire(): Deferred<unknown>; release(): void },
  fn: (...args: A) => Awaitable<R>,
  args: A,
): Deferred<R> {
  return holder.acquire().addCallback(() =>
    maybeDeferred(fn, ...args).addCallbacks(
      (value) => {
        holder.release();
        return value;
      },
      (error) => {
        holder.release();
        throw error;
      },
    ),
  );
}

/** Options for {@link DeferredQueue}. */
export interface DeferredQueueOptions {
  /**
   * Most items held before `put` throws.
   * @defaultValue Infinity
   */
  size?: number;
  /**
   * Most pending `get` calls before `get` throws.
   * @defaultValue Infinity
   */
  backlog?: number;
}

/**
 * A queue whose `get()` returns a Deferred that fires when an item is there.
 */
export class DeferredQueue<T> {
  /** Items waiting for a getter. */
  readonly pending: T[] = [];
  private readonly line = new WaitLine<T>();
  private readonly size: number;
  private readonly backlog: number;

  /**
   * @param options - see {@link DeferredQueueOptions}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `size` or `backlog` is negative or
   *   not a whole number.
   */
  constructor(options: DeferredQueueOptions = {}) {
    this.size = checkLimit("size", options.size ?? Infinity);
    this.backlog = checkLimit("backlog", options.backlog ?? Infinity);
  }

  /**
   * Adds an item, or hands it straight to the oldest waiting getter.
   *
   * @throws QueueOverflowError (`WL_ERR_QUEUE_OVERFLOW`) when the queue is full.
   */
  put(item: T): void {
    const waiter = this.line.next();
    if (waiter !== undefined) {
      waiter.callback(item);
      return;
    }
    if (this.pending.length >= this.size) throw new QueueOverflowError(this.size);
    this.pending.push(item);
  }

  /**
   * Returns a Deferred of the next item; cancelling it gives up its place in line.
   *
   * @throws QueueUnderflowError (`WL_ERR_QUEUE_UNDERFLOW`) when too many getters wait already.
   */
  get(): Deferred<T> {
    if (this.pending.length > 0) return succeed(this.pending.shift() as T);
    if (this.line.length >= this.backlog) throw new QueueUnderflowError(this.backlog);
    return this.line.join();
  }
}

function checkLimit(option: string, value: number): number {
  if (value === Infinity || (Number.isInteger(value) && value >= 0)) return value;
  throw new InvalidOptionError(option, `must be a whole number >= 0 or Infinity, got ${value}`);
}
