/**
 * wirelab/vitest: test hygiene and simulation properties for vitest.
 *
 * As a setup file (`test: { setupFiles: ["wirelab/vitest"] }` in `vitest.config.ts`), it checks
 * every test of every file:
 * - an unhandled Deferred error fails the test that left it (not the next one, and not whenever
 *   the garbage collector runs), naming what was left unhandled;
 * - fakes registered with `useClean(fake)` during a test are checked with `assertClean` after
 *   it: pending timed calls, open connections and listening ports fail the test, named;
 * - a nondeterminism guard watches each test: protocol code that a `Clock` (or a `MemoryReactor`'s
 *   clock) or a `connectPair` pump runs and that reads real time or randomness (`Date.now`,
 *   `Math.random`, `crypto.randomUUID`, real timers, ...) fails the test after it, each use named
 *   with its stack. `SimNetwork` runs have their own guard. The environment variable
 *   `WIRELAB_NONDETERMINISM` sets its mode: `fail` (the default), `warn` (a line per use) or `off`.
 *
 * Test files that manage unhandled-error tracking themselves (flushing in their own `afterEach`,
 * which runs first) are unaffected: their flush leaves nothing here.
 *
 * `simTest.prop(arbitraries)(name, body)` is a vitest test running `simProperty`: fast-check
 * draws the inputs (chunkings, fault plans, network configurations), a failure shrinks to its
 * smallest case and fails the test with the seed, the trace and a replay file.
 *
 * Imported by a test file rather than set up, it does the same for that file. It needs the
 * optional peer dependency vitest, and fast-check.
 *
 * @example
 * ```ts
 * import { simTest } from "wirelab/vitest";
 * import { faultPlanArb, simConfigArb, simNetworkOptions } from "wirelab/fakes";
 *
 * simTest.prop({ config: simConfigArb(), faults: faultPlanArb({ hosts: ["client"] }) })("echo survives faults", async ({ config, faults }, ctx) => {
 *   const net = ctx.network(simNetworkOptions(config));
 *   net.plan(faults);
 *   // ... listen, connect, check
 *   await net.runUntilIdle();
 * });
 * ```
 *
 * @module
 */

import type fc from "fast-check";
import { afterEach, beforeEach, test } from "vitest";
import { flushUnhandledErrors, trackUnhandledErrors } from "../runtime/deferred.js";
import { UncleanReactorError } from "../runtime/errors.js";
import { checkRegistered } from "./assert-clean.js";
import { NondeterminismGuard } from "./nondeterminism-guard.js";
import type { NondeterminismMode } from "./nondeterminism-guard.js";
import { simProperty } from "./property.js";
import type { SimPropertyOptions } from "./property.js";
import type { SimCaseBody } from "./replay.js";

const MODES: readonly NondeterminismMode[] = ["fail", "warn", "off"];

function guardMode(): NondeterminismMode {
  const text = process.env["WIRELAB_NONDETERMINISM"];
  if (text === undefined || text === "") return "fail";
  if (!MODES.includes(text as NondeterminismMode)) {
    throw new Error(`WIRELAB_NONDETERMINISM: expected one of ${MODES.join(", ")}, got ${JSON.stringify(text)}`);
  }
  return text as NondeterminismMode;
}

const mode = guardMode();
let guard: NondeterminismGuard | null = null;

beforeEach(() => {
  trackUnhandledErrors(true);
  guard = new NondeterminismGuard({ mode });
  guard.activate();
});

afterEach(() => {
  const used = guard?.takeError() ?? null;
  guard?.deactivate();
  guard = null;
  const unhandled = flushUnhandledErrors();
  let registryError: unknown = null;
  try {
    checkRegistered();
  } catch (error) {
    registryError = error;
  }
  if (used !== null) throw used;
  if (unhandled.length > 0) {
    const lines = unhandled.map((e) => e.message);
    throw new UncleanReactorError("the test", [`${lines.length} unhandled Deferred error${lines.length === 1 ? "" : "s"}: ${lines.join(" | ")}`]);
  }
  if (registryError !== null) throw registryError;
});

/** Options of a {@link simTest} property: `simProperty`'s, less the name (the test's). */
export type SimTestOptions<T extends Record<string, unknown> = Record<string, unknown>> = Omit<SimPropertyOptions<T>, "name">;

/** Defines a vitest test of a simulation property; see {@link simTest}. */
export type SimTestDefinition<T extends Record<string, unknown>> = (name: string, body: SimCaseBody<T>, timeoutMs?: number) => void;

/** Simulation properties as vitest tests, in the style of `@fast-check/vitest`'s `test.prop`. */
export const simTest = {
  /**
   * Makes a test of a simulation property over the given arbitraries.
   * @param arbitraries - a record of fast-check arbitraries; the body gets a record of values.
   * @param options - `simProperty`'s options (`numRuns`, `seed`, `path`, `replayDir`, ...).
   * @returns a function that defines the test: `(name, body, timeoutMs?)`.
   */
  prop<T extends Record<string, unknown>>(arbitraries: { [K in keyof T]: fc.Arbitrary<T[K]> }, options: SimTestOptions<T> = {}): SimTestDefinition<T> {
    return (name, body, timeoutMs) => {
      test(
        name,
        async () => {
          await simProperty(arbitraries, body, { ...options, name });
        },
        timeoutMs,
      );
    };
  },
};
