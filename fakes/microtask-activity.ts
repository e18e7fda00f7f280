/**
 * How a simulation knows it must let microtasks run before virtual time moves on: while it
 * watches, every promise created or settled, every `queueMicrotask` and every
 * `process.nextTick` raises a flag that the run loop takes after each event.
 *
 * The real `setImmediate` is captured when this module loads, so the fakes' own macrotask
 * boundaries never count as (or get caught as) code under test using real timers.
 *
 * @module
 */

import { promiseHooks } from "node:v8";

/** The real `setImmediate`, as it was when this module loaded. */
export const realSetImmediate: typeof setImmediate = globalThis.setImmediate;

const realQueueMicrotask = globalThis.queueMicrotask;
// eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with process as this
const realNextTick = process.nextTick;

let watchers = 0;
let activity = false;
let stopPromiseHooks: (() => void) | null = null;

function markActivity(): void {
  activity = true;
}

/** Starts watching (counted: nested or concurrent runs share one watch). */
export function watchMicrotasks(): void {
  if (watchers++ > 0) return;
  globalThis.queueMicrotask = function (callback: () => void): void {
    activity = true;
    realQueueMicrotask(callback);
  };
  process.nextTick = function (...args: Parameters<typeof process.nextTick>): void {
    activity = true;
    Reflect.apply(realNextTick, process, args);
  };
  stopPromiseHooks = promiseHooks.createHook({ init: markActivity, settled: markActivity }) as () => void;
}

/** Stops watching once the last watcher is done. */
export function unwatchMicrotasks(): void {
  if (watchers === 0 || --watchers > 0) return;
  globalThis.queueMicrotask = realQueueMicrotask;
  process.nextTick = realNextTick;
  stopPromiseHooks?.();
  stopPromiseHooks = null;
}

/**
 * @returns true when a microtask may have been queued (a promise created or settled,
 *   `queueMicrotask` or `process.nextTick` called) since the last call; resets the flag.
 */
export function takeMicrotaskActivity(): boolean {
  const was = activity;
  activity = false;
  return was;
}

/**
 * Lets every queued microtask (and the ones they queue) run: resolves after one macrotask
 * boundary, the one point where the microtask queue is known to be empty. Uses the real
 * `setImmediate`, so it works (and is not flagged) inside a nondeterminism guard.
 */
export function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => {
    realSetImmediate(resolve);
  });
}
