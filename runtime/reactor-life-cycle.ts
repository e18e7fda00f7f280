/**
 * `ReactorLifeCycle`: the life cycle of a reactor, written once for every reactor
 * (`NodeReactor`, `MemoryReactor`, `SimHost`): `run`, `stop`, `callWhenRunning`, the
 * before/during/after system event triggers and the Deferreds they return, how their errors are
 * reported, and the rule that a reactor runs once. runtime/README.md ("The reactor's life
 * cycle") gives each decision and where it departs from Twisted; the conformance suite
 * (test/conformance/life-cycle.ts) checks it on every world.
 *
 * @module
 */

import { Deferred, DeferredList, fail, maybeDeferred } from "./deferred.js";
import { DelayedCallCancelledError, ReactorStateError } from "./errors.js";
import type { DelayedCall, SystemEvent, TriggerHandle, TriggerPhase } from "./reactor.js";

/** Where a reactor is in its life. */
export type LifeCycleState = "idle" | "starting" | "running" | "stopping" | "stopped";

/** What the life cycle needs from the reactor it runs. */
export interface LifeCycleOwner {
  /**
   * The reactor's own part of shutdown, run first in the `during shutdown` phase: stop
   * listening, abandon connection attempts, close every connection at once (its protocol gets
   * `ConnectionLost`), cancel every timed call. The `after` triggers wait for a Deferred it
   * returns.
   */
  shutDown(): Deferred<void> | void;
  /** Hands an error to the reactor's error hook (the reactor's `reportError`). */
  reportError(where: string, error: unknown): void;
}

interface Trigger {
  readonly handle: TriggerHandle;
  readonly fn: () => unknown;
}

type TriggerLists = Record<`${TriggerPhase} ${SystemEvent}`, Trigger[]>;

/**
 * The life cycle of one reactor, with Twisted's phases:
 *
 * - `run()`: the `before startup` triggers run, and the Deferreds (or Promises) they return are
 *   waited for; then `running` turns true and the `during startup` triggers run; then the
 *   `after startup` triggers, which include every `callWhenRunning` call made before, in the
 *   order they were added.
 * - `stop()`: the `before shutdown` triggers run and are waited for (a graceful server
 *   shutdown is one); then `running` turns false, the reactor does its own part
 *   ({@link LifeCycleOwner.shutDown}) and the `during shutdown` triggers run; then the `after
 *   shutdown` triggers; then the Deferreds of `stop()` and `run()` fire.
 * - A trigger runs once: a phase's list is consumed as it runs, so a trigger added to a phase
 *   while that phase runs runs too, and one removed before its turn does not.
 * - A trigger that throws, or whose Deferred or Promise fails, is reported through the
 *   reactor's error hook at once, and the event goes on. If the hook itself throws (the
 *   `MemoryReactor` default rethrows, to fail the test), the first such error is rethrown
 *   once the event has run: from `run()` when startup ran synchronously (otherwise it is
 *   reported as an unhandled Deferred error), and through the Deferred of `stop()`.
 * - A reactor runs once: `run()` after it stopped throws `ReactorStateError`.
 */
export class ReactorLifeCycle {
  private current: LifeCycleState = "idle";
  private isRunning = false;
  private closing = false;
  private stopRequested = false;
  private readonly triggers: TriggerLists = {
    "before startup": [],
    "during startup": [],
    "after startup": [],
    "before shutdown": [],
    "during shutdown": [],
    "after shutdown": [],
  };
  private readonly stopped = new Deferred<void>();
  private stopWaiters: Deferred<void>[] = [];
  /** The first error the error hook threw during the event being fired. */
  private hookFailure: { readonly error: unknown } | null = null;

  constructor(private readonly owner: LifeCycleOwner) {}

  /** Where the reactor is in its life. */
  get state(): LifeCycleState {
    return this.current;
  }

  /** True from the `during startup` phase until the `during shutdown` phase, as in Twisted. */
  get running(): boolean {
    return this.isRunning;
  }

  /**
   * False from the `during shutdown` phase on: the reactor refuses new ports and connections,
   * and timed calls made from then on never run (see {@link DormantDelayedCall}).
   */
  get acceptingWork(): boolean {
    return !this.closing;
  }

  /**
   * Runs `fn` at once (synchronously) when the reactor is running; otherwise it becomes an
   * `after startup` trigger, run when the reactor starts (never, if it has already stopped).
   */
  callWhenRunning(fn: () => void): void {
    if (this.isRunning) fn();
    else this.addTrigger("after", "startup", fn);
  }

  /**
   * Adds a system event trigger.
   *
   * @returns its handle, for {@link ReactorLifeCycle.removeTrigger}.
   */
  addTrigger(phase: TriggerPhase, event: SystemEvent, fn: () => unknown): TriggerHandle {
    const handle: TriggerHandle = { phase, event };
    this.triggers[`${phase} ${event}`].push({ handle, fn });
    return handle;
  }

  /** Removes a trigger that has not run yet; a handle that ran, or was removed, is ignored. */
  removeTrigger(handle: TriggerHandle): void {
    const list = this.triggers[`${handle.phase} ${handle.event}`];
    const i = list.findIndex((t) => t.handle === handle);
    if (i >= 0) list.splice(i, 1);
  }

  /**
   * Starts the reactor.
   *
   * @returns a Deferred that fires once the reactor has stopped.
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when it is running, or has run.
   * @throws the first error the error hook threw while a synchronous startup ran.
   */
  run(): Deferred<void> {
    if (this.current === "stopped") throw new ReactorStateError("a reactor runs once: it cannot run again after it has stopped");
    if (this.current !== "idle") throw new ReactorStateError("the reactor is already running");
    this.current = "starting";
    let synchronous = true;
    let thrown: { readonly error: unknown } | null = null;
    this.fire(
      "startup",
      () => {
        this.isRunning = true;
      },
      () => {
        this.current = "running";
        const failure = this.takeHookFailure();
        if (failure !== null) {
          if (synchronous) thrown = failure;
          else fail(failure.error);
        }
        if (this.stopRequested) this.beginShutdown();
      },
    );
    synchronous = false;
    if (thrown !== null) throw (thrown as { readonly error: unknown }).error;
    return this.stopped;
  }

  /**
   * Shuts the reactor down. A `stop()` while the shutdown runs waits for the same shutdown; a
   * `stop()` while startup waits on a `before startup` trigger shuts down once startup is over.
   *
   * @returns a Deferred that fires once shutdown is complete; it fails with the first error
   *   the error hook threw during shutdown, if it threw.
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when the reactor never ran, or has
   *   stopped.
   */
  stop(): Deferred<void> {
    if (this.current === "idle") throw new ReactorStateError("the reactor is not running");
    if (this.current === "stopped") throw new ReactorStateError("the reactor has already stopped");
    const waiter = new Deferred<void>();
    this.stopWaiters.push(waiter);
    if (this.current === "starting") this.stopRequested = true;
    else if (this.current === "running") this.beginShutdown();
    return waiter;
  }

  // -------------------------------------------------------------------------------------------

  private beginShutdown(): void {
    this.current = "stopping";
    this.fire(
      "shutdown",
      () => {
        this.isRunning = false;
        this.closing = true;
        return this.owner.shutDown();
      },
      () => {
        this.current = "stopped";
        const failure = this.takeHookFailure();
        const waiters = this.stopWaiters;
        this.stopWaiters = [];
        for (const w of waiters) {
          if (failure === null) w.callback(undefined);
          else w.errback(failure.error);
        }
        this.stopped.callback(undefined);
      },
    );
  }

  /**
   * Fires one system event: the `before` triggers, waiting for what they return; then `own`
   * (the reactor's part) and the `during` triggers; then, once what `own` returned has fired,
   * the `after` triggers and `done`.
   */
  private fire(event: SystemEvent, own: () => Deferred<void> | void, done: () => void): void {
    const waits = this.runPhase("before", event);
    DeferredList(waits).addCallback(() => {
      const ownWork = this.guard(`the reactor's own ${event}`, own);
      this.runPhase("during", event);
      const afterDuring = (): void => {
        this.runPhase("after", event);
        done();
      };
      if (ownWork instanceof Deferred) (ownWork as Deferred<unknown>).addBoth(afterDuring);
      else afterDuring();
    });
  }

  /**
   * Runs a phase's triggers, consuming the list (so triggers added meanwhile run too).
   *
   * @returns, for the `before` phase, Deferreds that fire (never fail) when what each trigger
   *   returned has settled; what the others return is only watched for failures.
   */
  private runPhase(phase: TriggerPhase, event: SystemEvent): Deferred<unknown>[] {
    const list = this.triggers[`${phase} ${event}`];
    const where = `a ${phase} ${event} trigger`;
    const waits: Deferred<unknown>[] = [];
    for (let t = list.shift(); t !== undefined; t = list.shift()) {
      const result = this.guard(where, t.fn);
      if (!(result instanceof Deferred) && !isThenable(result)) continue;
      const settled = maybeDeferred(() => result as Deferred<unknown> | PromiseLike<unknown>).addErrback((error: unknown) => {
        this.report(where, error);
      });
      if (phase === "before") waits.push(settled);
    }
    return waits;
  }

  private guard<R>(where: string, fn: () => R): R | undefined {
    try {
      return fn();
    } catch (error) {
      this.report(where, error);
      return undefined;
    }
  }

  private report(where: string, error: unknown): void {
    try {
      this.owner.reportError(where, error);
    } catch (hookError) {
      this.hookFailure ??= { error: hookError };
    }
  }

  private takeHookFailure(): { readonly error: unknown } | null {
    const failure = this.hookFailure;
    this.hookFailure = null;
    return failure;
  }
}

/**
 * A timed call made once the reactor has begun shutting down (from the `during shutdown`
 * phase on): as in Twisted, whose loop has ended by then, it never runs. It is active until
 * cancelled, and holds no timer, so it keeps neither a process nor a fake's clock busy.
 */
export class DormantDelayedCall implements DelayedCall {
  /** The due time it would have had, on the reactor's clock. */
  time: number;
  private cancelled = false;

  /**
   * @param clock - the reactor's clock, for `time`.
   * @param ms - the delay asked for.
   */
  constructor(
    private readonly clock: { now(): number },
    ms: number,
  ) {
    this.time = clock.now() + Math.max(0, ms);
  }

  active(): boolean {
    return !this.cancelled;
  }

  /** @throws DelayedCallCancelledError (`WL_ERR_DELAYED_CALL_CANCELLED`) the second time. */
  cancel(): void {
    this.check();
    this.cancelled = true;
  }

  /** @throws as `cancel()` once cancelled. */
  reset(ms: number): void {
    this.check();
    this.time = this.clock.now() + Math.max(0, ms);
  }

  /** @throws as `cancel()` once cancelled. */
  delay(ms: number): void {
    this.check();
    this.time += ms;
  }

  private check(): void {
    if (this.cancelled) throw new DelayedCallCancelledError();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
