/**
 * `SystemEventTriggers`: the before/during/after trigger lists of a fake reactor's life cycle
 * (`addSystemEventTrigger`, `run`, `stop`), kept apart from any one reactor so every fake can
 * share one set of semantics.
 *
 * @module
 */

import { Deferred, DeferredList, maybeDeferred } from "../runtime/deferred.js";
import type { Awaitable } from "../runtime/deferred.js";
import { UnhandledReactorError } from "../runtime/errors.js";
import type { SystemEvent, TriggerHandle, TriggerPhase } from "../runtime/reactor.js";

interface Trigger {
  readonly handle: TriggerHandle;
  readonly fn: () => unknown;
}

/**
 * The triggers of one reactor, fired with Twisted's phases: `before` triggers run first and a
 * Deferred or Promise they return is waited for, then the reactor's own work and the `during`
 * triggers, then the `after` triggers. A trigger that throws never stops the others: every
 * error is collected and reported once the whole event has run.
 */
export class SystemEventTriggers {
  private triggers: Trigger[] = [];

  /**
   * @param phase - when, relative to the event.
   * @param event - startup or shutdown.
   * @param fn - the trigger.
   * @returns the handle for {@link SystemEventTriggers.remove}.
   */
  add(phase: TriggerPhase, event: SystemEvent, fn: () => unknown): TriggerHandle {
    const handle: TriggerHandle = { phase, event };
    this.triggers.push({ handle, fn });
    return handle;
  }

  /** Removes a trigger; an unknown handle is ignored. */
  remove(handle: TriggerHandle): void {
    const i = this.triggers.findIndex((t) => t.handle === handle);
    if (i >= 0) this.triggers.splice(i, 1);
  }

  /** Forgets every trigger (a crashed and restarted host starts with none). */
  clear(): void {
    this.triggers = [];
  }

  /**
   * Fires one system event.
   *
   * @param event - which event.
   * @param builtinDuring - the reactor's own work, run before the `during` triggers.
   * @param afterDuring - more of the reactor's own work, run after the `during` triggers.
   * @param report - receives each trigger's error, once the event has run.
   * @returns a Deferred that fires when the `after` triggers have run.
   */
  fire(event: SystemEvent, builtinDuring: () => void, afterDuring: (() => void) | undefined, report: (error: Error) => void): Deferred<void> {
    const errors: UnhandledReactorError[] = [];
    const run = (phase: TriggerPhase): unknown[] => {
      const results: unknown[] = [];
      for (const t of this.triggers.filter((x) => x.handle.phase === phase && x.handle.event === event)) {
        // A trigger may remove a later one; the removed one must not run.
        if (!this.triggers.includes(t)) continue;
        try {
          results.push(t.fn());
        } catch (error) {
          errors.push(new UnhandledReactorError(`a ${phase} ${event} trigger`, error));
        }
      }
      return results;
    };
    const waits = run("before")
      .filter((r): r is Awaitable<unknown> => r instanceof Deferred || isThenable(r))
      .map((r) =>
        maybeDeferred(() => r).addErrback((error: unknown) => {
          errors.push(new UnhandledReactorError(`a before ${event} trigger`, error));
        }),
      );
    return DeferredList(waits).addCallback(() => {
      builtinDuring();
      run("during");
      afterDuring?.();
      run("after");
      for (const error of errors) report(error);
    });
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
