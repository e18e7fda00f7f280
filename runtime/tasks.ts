/**
 * Small timed tasks on an injected clock: `deferLater`, a Deferred that fires after a delay.
 * `LoopingCall` lives in `looping-call.ts`.
 *
 * @module
 */

import { Deferred } from "./deferred.js";
import type { Awaitable } from "./deferred.js";
import type { Clock, DelayedCall } from "./reactor.js";

/**
 * Returns a Deferred that fires `ms` milliseconds from now on `clock`, with the result of
 * `fn(...args)` (or `undefined` without `fn`), as Twisted's `task.deferLater`.
 *
 * `fn` runs inside the Deferred's callback chain: an exception it throws fails the Deferred,
 * and a Deferred or Promise it returns is waited for. Cancelling the Deferred before the delay
 * is up cancels the timer, so `fn` never runs, and fails the Deferred with `CancelledError`.
 *
 * @param clock - the clock that measures the delay (the reactor, or a fake `Clock`).
 * @param ms - the delay in milliseconds.
 * @param fn - what to run once the delay is up.
 * @param args - the arguments for `fn`.
 * @returns a Deferred of what `fn` returns.
 * @throws (through the Deferred) whatever `fn` throws; CancelledError (`WL_ERR_CANCELLED`)
 *   when cancelled first.
 *
 * @example
 * ```ts
 * const d = deferLater(reactor, 500, () => "later");
 * console.log(await d); // "later", half a second from now
 * ```
 */
export function deferLater(clock: Clock, ms: number): Deferred<void>;
export function deferLater<R, A extends unknown[]>(clock: Clock, ms: number, fn: (...args: A) => Awaitable<R>, ...args: A): Deferred<R>;
export function deferLater<R, A extends unknown[]>(
  clock: Clock,
  ms: number,
  fn?: (...args: A) => Awaitable<R>,
  ...args: A
): Deferred<R | undefined> {
  let timer: DelayedCall | null = null;
  const d = new Deferred<undefined>(() => {
    if (timer?.active() === true) timer.cancel();
  });
  timer = clock.callLater(ms, fire, d);
  if (fn === undefined) return d;
  return d.addCallback(() => fn(...args));
}

function fire(d: Deferred<undefined>): void {
  d.callback(undefined);
}
