/**
 * wirelab/vitest: test hygiene and simulation properties for vitest.
 *
 * As a setup file (`test: { setupFiles: ["wirelab/vitest"] }` in `vitest.config.ts`), it checks
 * every test of every file:
 * - an unhandled Deferred error fails the test that left it (not the next one, and not whenever
 *   the garbage collector runs), naming what was left unhandled;
 * - fakes registered with `useClean(fake)` during a test are checked with `assertClean` after
 *   it: pending timed calls, open connections and listening ports fail the test, named.
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
import { simProperty } from "./property.js";
import type { SimPropertyOptions } from "./property.js";
import type { SimCaseBody } from "./replay.js";

beforeEach(() => {
  trackUnhandledErrors(true);
});

afterEach(() => {
  const unhandled = flushUnhandledErrors();
  let registryError: unknown = null;
  try {
    checkRegistered();
  } catch (error) {
    registryError = error;
  }
  if (unhandled.length > 0) {
    const lines = unhandled.map((e) => e.message);
    throw new UncleanReactorError("the test", [`${lines.length} unhandled Deferred error${lines.length === 1 ? "" : "s"}: ${lines.join(" | ")}`]);
  }
  if (registryError !== null) throw registryError;
});

/** Options of a {@link simTest} property: `simProperty`'s, less the name (the test's). */
export type SimTestOptions = Omit<SimPropertyOptions, "name">;

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
  prop<T extends Record<string, unknown>>(arbitraries: { [K in keyof T]: fc.Arbitrary<T[K]> }, options: SimTestOptions = {}): SimTestDefinition<T> {
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
