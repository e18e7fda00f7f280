/**
 * Guards a simulation's replayability: while a simulation runs, the globals that read real time
 * or real randomness are replaced by wrappers that tell the running simulation when code it
 * runs uses them. Code outside the simulation (the test runner's own timers) is not affected:
 * a call counts only when it comes from the simulation's own synchronous run or from an async
 * continuation started inside it (tracked with `AsyncLocalStorage`).
 *
 * It also notices microtask activity (promises created or settled, `queueMicrotask`,
 * `process.nextTick`), which is how a simulation knows it must let microtasks run before
 * virtual time moves on.
 *
 * The originals are captured when this module loads; the simulation uses those itself.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { fileURLToPath } from "node:url";
import { promiseHooks } from "node:v8";

/** What the guard tells when simulated code reaches for real time or randomness. */
export interface NondeterminismListener {
  /**
   * Called synchronously at the offending call; may throw to make the call fail.
   *
   * @param api - the global used, such as `Math.random`.
   * @param where - the caller's stack frame.
   */
  onNondeterminism(api: string, where: string): void;
}

/** The real `setImmediate`, as it was when this module loaded. */
export const realSetImmediate: typeof setImmediate = globalThis.setImmediate;

const real = {
  setTimeout: globalThis.setTimeout,
  setInterval: globalThis.setInterval,
  setImmediate: globalThis.setImmediate,
  dateNow: Date.now,
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with performance as this
  performanceNow: performance.now,
  mathRandom: Math.random,
  queueMicrotask: globalThis.queueMicrotask,
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with process as this
  nextTick: process.nextTick,
};

const thisFile = fileURLToPath(import.meta.url);
const als = new AsyncLocalStorage<NondeterminismListener>();
let syncListener: NondeterminismListener | null = null;
let installs = 0;
let activity = false;
let stopPromiseHooks: (() => void) | null = null;

function where(): string {
  const stack = new Error().stack ?? "";
  for (const line of stack.split("\n").slice(1)) {
    if (!line.includes(thisFile)) return line.trim().replace(/^at /, "");
  }
  return "<unknown>";
}

function check(api: string): void {
  const listener = syncListener ?? als.getStore();
  if (listener !== undefined) listener.onNondeterminism(api, where());
}

function markActivity(): void {
  activity = true;
}

function wrap<F extends (...args: never[]) => unknown>(api: string, original: F, self: unknown): F {
  return function (this: unknown, ...args: Parameters<F>): ReturnType<F> {
    check(api);
    return Reflect.apply(original, self, args) as ReturnType<F>;
  } as unknown as F;
}

function patch(): void {
  const g = globalThis as Record<string, unknown>;
  g.setTimeout = wrap("setTimeout", real.setTimeout, globalThis);
  g.setInterval = wrap("setInterval", real.setInterval, globalThis);
  g.setImmediate = wrap("setImmediate", real.setImmediate, globalThis);
  Date.now = wrap("Date.now", real.dateNow, Date);
  performance.now = wrap("performance.now", real.performanceNow, performance);
  Math.random = wrap("Math.random", real.mathRandom, Math);
  g.queueMicrotask = function (callback: () => void): void {
    activity = true;
    real.queueMicrotask(callback);
  };
  process.nextTick = function (...args: Parameters<typeof process.nextTick>): void {
    activity = true;
    Reflect.apply(real.nextTick, process, args);
  };
  stopPromiseHooks = promiseHooks.createHook({ init: markActivity, settled: markActivity }) as () => void;
}

function restore(): void {
  const g = globalThis as Record<string, unknown>;
  g.setTimeout = real.setTimeout;
  g.setInterval = real.setInterval;
  g.setImmediate = real.setImmediate;
  Date.now = real.dateNow;
  performance.now = real.performanceNow;
  Math.random = real.mathRandom;
  g.queueMicrotask = real.queueMicrotask;
  process.nextTick = real.nextTick;
  stopPromiseHooks?.();
  stopPromiseHooks = null;
  als.disable();
}

/** Installs the wrappers (counted: nested or concurrent simulations share one install). */
export function installGuard(): void {
  if (installs++ === 0) patch();
}

/** Removes the wrappers once the last simulation that installed them is done. */
export function uninstallGuard(): void {
  if (installs === 0) return;
  if (--installs === 0) restore();
}

/**
 * Runs `fn` as simulated code of `listener`: it and every async continuation it starts report
 * to `listener`.
 *
 * @returns what `fn` returns.
 */
export function runGuarded<T>(listener: NondeterminismListener, fn: () => T): T {
  return als.run(listener, fn);
}

/**
 * Marks synchronous simulated code (a synchronous run loop): between `enterSync` and
 * `exitSync` every guarded call reports to `listener`.
 */
export function enterSync(listener: NondeterminismListener | null): NondeterminismListener | null {
  const previous = syncListener;
  syncListener = listener;
  return previous;
}

/** Ends what {@link enterSync} started; pass what it returned. */
export function exitSync(previous: NondeterminismListener | null): void {
  syncListener = previous;
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
