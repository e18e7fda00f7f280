/**
 * `NondeterminismGuard`: catches code under test on the fakes reaching for real time or real
 * randomness, which would make a run impossible to replay from its seed.
 *
 * While a guard is in use, the sources Node offers are wrapped: `Date.now`, `new Date()` and
 * `Date()` with no argument, `performance.now` and `performance.timeOrigin`, `process.hrtime`
 * (and `.bigint`), `process.uptime`, `Math.random`, `node:crypto`'s `randomInt`, `randomUUID`,
 * `randomBytes`, `randomFill`, `randomFillSync` and `getRandomValues` (named imports included),
 * `globalThis.crypto.getRandomValues` and `.randomUUID`, and the real timers (`setTimeout`,
 * `setInterval`, `setImmediate`, from the globals, `node:timers` and `node:timers/promises`).
 *
 * A wrapper does not throw: it records the use (what, where, the caller's stack, the virtual
 * time) and lets the call through, so the code under test goes on as it would have; the guard
 * then fails the run at its end with one `NondeterminismError` listing every use. Only code
 * under test counts: what runs inside {@link NondeterminismGuard.run} (and every async
 * continuation it starts, tracked with `AsyncLocalStorage`), or what a fake runs on behalf of
 * the active guard (a `Clock`'s timed calls, a `Pump`'s deliveries; see
 * {@link runAsTestedCode}). The test runner's own timers and clocks are left alone.
 *
 * Who uses it: `SimNetwork.run` runs each network's events inside its own guard;
 * `simProperty` runs each case inside one; the repository's vitest setup activates one for
 * every test, so a `connectPair` or `MemoryReactor` test fails when its protocol reads the
 * real clock. A plain Node harness can do the same with `activate()`, `deactivate()` and
 * `check()`.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { fileURLToPath } from "node:url";
import { InvalidOptionError, NondeterminismError } from "../runtime/errors.js";
import type { NondeterminismViolation } from "../runtime/errors.js";
import { realSetImmediate } from "./microtask-activity.js";

/** One use of real time or randomness by code under test. */
export type NondeterminismRecord = NondeterminismViolation;

/**
 * What a guard does with a use: `"fail"` records it and fails the run at its end, `"warn"`
 * records it and tells `onNondeterminism` (a warning by default) without failing, `"off"`
 * ignores it.
 */
export type NondeterminismMode = "fail" | "warn" | "off";

/** Options for {@link NondeterminismGuard}. */
export interface NondeterminismGuardOptions {
  /**
   * What to do with a use; see {@link NondeterminismMode}.
   * @defaultValue "fail"
   */
  mode?: NondeterminismMode;
  /**
   * Told of each use as it happens (in `"fail"` and `"warn"` modes). It must not throw.
   * @defaultValue none in `"fail"` mode; a `console.warn` line in `"warn"` mode
   */
  onNondeterminism?: (record: NondeterminismRecord) => void;
  /**
   * Most uses recorded with their stacks; later ones are only counted (a hot loop reading the
   * clock cannot fill memory).
   * @defaultValue {@link DEFAULT_MAX_NONDETERMINISM_RECORDS}
   */
  maxRecords?: number;
}

/** The default bound on the uses one guard records. */
export const DEFAULT_MAX_NONDETERMINISM_RECORDS = 100;
/** Stack frames kept per recorded use. */
const STACK_FRAMES = 12;

/** A guard and the clock its uses are stamped with. */
interface Scope {
  readonly guard: NondeterminismGuard;
  readonly now: (() => number) | null;
}

const thisFile = fileURLToPath(import.meta.url);
const als = new AsyncLocalStorage<Scope>();
let syncScope: Scope | null = null;
let activeGuard: NondeterminismGuard | null = null;
/** True while a wrapper runs the real function (whose own internals may use other guarded ones). */
let inside = false;

/**
 * Counts one use of `api` for the guard of the code running now, if any. The hot path when no
 * guard is in scope is one variable read and one `getStore()`.
 */
function seen(api: string): void {
  if (inside) return;
  const scope = syncScope ?? als.getStore();
  if (scope === undefined) return;
  scope.guard.recordUse(api, scope.now === null ? null : scope.now());
}

/**
 * A guard: records uses of real time and randomness by the code it runs, and fails the run at
 * its end. A test helper.
 *
 * @example
 * ```ts
 * const guard = new NondeterminismGuard();
 * guard.activate(); // Clocks and Pumps now run their code under this guard
 * try {
 *   clock.advance(1000);
 * } finally {
 *   guard.deactivate();
 * }
 * guard.check(); // throws NondeterminismError listing each use, with its stack
 * ```
 */
export class NondeterminismGuard {
  /** What this guard does with a use. */
  readonly mode: NondeterminismMode;
  private readonly hook: ((record: NondeterminismRecord) => void) | null;
  private readonly maxRecords: number;
  private readonly records: NondeterminismRecord[] = [];
  private reported = 0;
  private uncounted = 0;
  private previous: NondeterminismGuard | null = null;
  private activations = 0;

  /**
   * @param options - see {@link NondeterminismGuardOptions}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a `maxRecords` that is not an
   *   integer >= 0.
   */
  constructor(options: NondeterminismGuardOptions = {}) {
    this.mode = options.mode ?? "fail";
    this.maxRecords = options.maxRecords ?? DEFAULT_MAX_NONDETERMINISM_RECORDS;
    if (!Number.isInteger(this.maxRecords) || this.maxRecords < 0) {
      throw new InvalidOptionError("maxRecords", `must be an integer >= 0, got ${this.maxRecords}`);
    }
    this.hook =
      options.onNondeterminism ??
      (this.mode === "warn"
        ? (record): void => {
            console.warn(`wirelab: ${record.api} used by code under test at ${record.where}${record.time === null ? "" : ` (virtual time ${record.time} ms)`}`);
          }
        : null);
  }

  /**
   * The active guard: the one that `Clock`s and `Pump`s run their code under (see
   * {@link runAsTestedCode}), or null.
   */
  static active(): NondeterminismGuard | null {
    return activeGuard;
  }

  /**
   * Runs `fn`, and every async continuation it starts, as code under this guard. The wrappers
   * are installed meanwhile (until a returned promise settles).
   *
   * @param fn - the code under test.
   * @param now - the virtual clock that stamps each use.
   * @returns what `fn` returns.
   */
  run<T>(fn: () => T, now: (() => number) | null = null): T {
    // An "off" guard only shields its code from the guards around it: nothing to wrap.
    const patching = this.mode !== "off";
    if (patching) install();
    let result: T;
    try {
      result = als.run({ guard: this, now }, fn);
    } catch (error) {
      if (patching) uninstall();
      throw error;
    }
    if (!patching) return result;
    if (isThenable(result)) result.then(uninstall, uninstall);
    else uninstall();
    return result;
  }

  /**
   * Runs synchronous `fn` as code under this guard, without async context (what a synchronous
   * run loop uses: cheaper than {@link NondeterminismGuard.run}, and async code it starts is
   * not followed).
   *
   * @returns what `fn` returns.
   */
  runSync<T>(fn: () => T, now: (() => number) | null = null): T {
    const patching = this.mode !== "off";
    if (patching) install();
    const previous = syncScope;
    syncScope = { guard: this, now };
    try {
      return fn();
    } finally {
      syncScope = previous;
      if (patching) uninstall();
    }
  }

  /**
   * Makes this guard the active one (see {@link NondeterminismGuard.active}) until
   * {@link NondeterminismGuard.deactivate}; the wrappers stay installed meanwhile. Calls nest.
   */
  activate(): void {
    if (this.activations++ > 0) return;
    install();
    this.previous = activeGuard;
    activeGuard = this;
  }

  /** Undoes one {@link NondeterminismGuard.activate}; the guard active before comes back. */
  deactivate(): void {
    if (this.activations === 0 || --this.activations > 0) return;
    if (activeGuard === this) activeGuard = this.previous;
    this.previous = null;
    uninstall();
  }

  /** @returns every use recorded so far (in `"fail"` and `"warn"` modes), oldest first. */
  violations(): readonly NondeterminismRecord[] {
    return this.records;
  }

  /** Uses seen past `maxRecords`: counted, not recorded. */
  get omitted(): number {
    return this.uncounted;
  }

  /**
   * Fails when, in `"fail"` mode, uses were recorded since the last check.
   *
   * @throws NondeterminismError (`WL_ERR_NONDETERMINISM`) listing them, each with its stack
   *   (they are then reported, and the next check looks only at later ones).
   */
  check(): void {
    const error = this.takeError();
    if (error !== null) throw error;
  }

  /**
   * @returns the error {@link NondeterminismGuard.check} would throw, or null; the uses it
   *   lists count as reported.
   */
  takeError(): NondeterminismError | null {
    if (this.mode !== "fail" || (this.records.length === this.reported && this.uncounted === 0)) return null;
    const error = new NondeterminismError(this.records.slice(this.reported), this.uncounted);
    this.reported = this.records.length;
    this.uncounted = 0;
    return error;
  }

  /** @internal A wrapper saw code under this guard use `api`. */
  recordUse(api: string, time: number | null): void {
    if (this.mode === "off") return;
    if (this.records.length >= this.maxRecords) {
      this.uncounted++;
      return;
    }
    const stack = callerStack();
    const record: NondeterminismRecord = { api, where: stack.split("\n", 1)[0] || "<unknown>", stack, time };
    this.records.push(record);
    this.hook?.(record);
  }
}

/**
 * Runs `fn` as code under test of the active guard, stamped with `now`: what a `Clock` does
 * for its timed calls and a `Pump` for its deliveries. When `fn` already runs under a guard
 * (a simulation, a `simProperty` case), or no guard is active, it simply calls `fn`.
 *
 * @returns what `fn` returns.
 */
export function runAsTestedCode<T>(fn: () => T, now: (() => number) | null = null): T {
  const guard = activeGuard;
  if (guard === null || syncScope !== null || als.getStore() !== undefined) return fn();
  return guard.run(fn, now);
}

/** The caller's stack, from its first frame outside this module, as `at ...` lines. */
function callerStack(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = STACK_FRAMES + 8;
  const raw = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  const frames = raw
    .split("\n")
    .slice(1)
    .filter((line) => !line.includes(thisFile))
    .slice(0, STACK_FRAMES)
    .map((line) => line.trim().replace(/^at /, ""));
  return frames.join("\n");
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as { then?: unknown }).then === "function";
}

// ---------------------------------------------------------------------------------------------
// The wrappers

/** A wrapper of `original` (called with `self` as `this`) that counts a use of `api`, then calls it. */
function wrap<F extends (...args: never[]) => unknown>(api: string, original: F, self: unknown): F {
  return function (...args: Parameters<F>): ReturnType<F> {
    seen(api);
    if (inside) return Reflect.apply(original, self, args) as ReturnType<F>;
    inside = true;
    try {
      return Reflect.apply(original, self, args) as ReturnType<F>;
    } finally {
      inside = false;
    }
  } as unknown as F;
}

/** A property of an object, replaced while installed. */
interface Patch {
  readonly target: object;
  readonly key: PropertyKey;
  /** The original own descriptor, or undefined when the property was inherited. */
  original: PropertyDescriptor | undefined;
  readonly replacement: PropertyDescriptor;
  /** True for builtin modules' export objects (their ESM named exports are synced after). */
  readonly module: boolean;
}

const patches: Patch[] = [];

function patchValue(target: object, key: string, api: string, module = false): void {
  const value = (target as Record<string, unknown>)[key];
  // A non-configurable export (node:crypto's getRandomValues) forwards to a method patched elsewhere.
  if (typeof value !== "function" || Object.getOwnPropertyDescriptor(target, key)?.configurable === false) return;
  const replacement = { value: wrap(api, value as (...args: never[]) => unknown, target), writable: true, configurable: true, enumerable: module };
  patches.push({ target, key, original: undefined, replacement, module });
}

// The builtin modules' export objects (what `require` returns): patching them, then syncing,
// is what reaches named ESM imports such as `import { randomInt } from "node:crypto"`.
const require = createRequire(import.meta.url);
const nodeCrypto = require("node:crypto") as object;
const timers = require("node:timers") as object;
const timersPromises = require("node:timers/promises") as object;

const RealDate = Date;
const GuardedDate = new Proxy(RealDate, {
  construct(target, args, newTarget): object {
    if (args.length === 0) seen("new Date()");
    return Reflect.construct(target, args, newTarget) as object;
  },
  apply(target, self, args): unknown {
    seen("Date()");
    return Reflect.apply(target, self, args);
  },
});

const realHrtime = process.hrtime;
const guardedHrtime = Object.assign(wrap("process.hrtime", realHrtime, process), {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with process as this by its wrapper
  bigint: wrap("process.hrtime.bigint", realHrtime.bigint, process),
});
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with performance as this by its wrapper
const timeOriginGetter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(performance) as object, "timeOrigin")?.get;
const webCrypto = (globalThis as { crypto?: object }).crypto;

patches.push({ target: globalThis, key: "Date", original: undefined, replacement: { value: GuardedDate, writable: true, configurable: true, enumerable: false }, module: false });
patchValue(RealDate, "now", "Date.now");
patchValue(performance, "now", "performance.now");
if (timeOriginGetter !== undefined) {
  patches.push({
    target: performance,
    key: "timeOrigin",
    original: undefined,
    replacement: {
      get(): unknown {
        seen("performance.timeOrigin");
        return Reflect.apply(timeOriginGetter, performance, []);
      },
      configurable: true,
      enumerable: true,
    },
    module: false,
  });
}
patches.push({ target: process, key: "hrtime", original: undefined, replacement: { value: guardedHrtime, writable: true, configurable: true, enumerable: true }, module: true });
patchValue(process, "uptime", "process.uptime", true);
patchValue(Math, "random", "Math.random");
for (const name of ["randomInt", "randomUUID", "randomBytes", "randomFill", "randomFillSync", "getRandomValues"]) {
  patchValue(nodeCrypto, name, `crypto.${name}`, true);
}
if (webCrypto !== undefined) {
  patchValue(webCrypto, "getRandomValues", "crypto.getRandomValues");
  patchValue(webCrypto, "randomUUID", "crypto.randomUUID");
}
for (const name of ["setTimeout", "setInterval", "setImmediate"]) {
  patchValue(globalThis, name, name);
  patchValue(timers, name, name, true);
  patchValue(timersPromises, name, `${name} (node:timers/promises)`, true);
}

let installs = 0;
/** Builtin modules' exports stay patched until a macrotask after the last uninstall (see below). */
let modulesPatched = false;
let restoreModulesPending = false;

function apply(patch: Patch): void {
  patch.original = Object.getOwnPropertyDescriptor(patch.target, patch.key);
  Object.defineProperty(patch.target, patch.key, patch.replacement);
}

function revert(patch: Patch): void {
  if (patch.original === undefined) Reflect.deleteProperty(patch.target, patch.key);
  else Object.defineProperty(patch.target, patch.key, patch.original);
  patch.original = undefined;
}

/** Installs the wrappers (counted: nested or concurrent guards share one install). */
function install(): void {
  if (installs++ > 0) return;
  for (const patch of patches) if (!patch.module) apply(patch);
  restoreModulesPending = false;
  if (!modulesPatched) {
    for (const patch of patches) if (patch.module) apply(patch);
    syncBuiltinESMExports();
    modulesPatched = true;
  }
}

/**
 * Removes the wrappers once the last guard is done. The globals come back at once; builtin
 * modules' exports (whose ESM bindings take a costly `syncBuiltinESMExports()` to update) a
 * macrotask later, unless a guard is in use again by then: back-to-back runs (awaited in a loop,
 * or fast-check cases) then pay for it once.
 */
function uninstall(): void {
  if (installs === 0 || --installs > 0) return;
  for (const patch of patches) if (!patch.module) revert(patch);
  als.disable();
  restoreModulesPending = true;
  realSetImmediate(() => {
    if (!restoreModulesPending || installs > 0) return;
    restoreModulesPending = false;
    for (const patch of patches) if (patch.module) revert(patch);
    syncBuiltinESMExports();
    modulesPatched = false;
  }).unref();
}
