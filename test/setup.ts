/**
 * The vitest setup file (see vitest.config.ts): test hygiene for every test file.
 *
 * - Unhandled Deferred errors are tracked during each test and, after it, fail that test with
 *   what was left unhandled (not the next one, and not whenever the garbage collector runs).
 * - Fakes registered with `useClean(fake)` during a test are checked with `assertClean` after
 *   it: pending timed calls, open connections and listening ports fail the test and are named.
 * - A nondeterminism guard is active during each test: protocol code that a `Clock` (or a
 *   `MemoryReactor`'s clock) or a `connectPair` pump runs and that reads real time or
 *   randomness (`Date.now`, `Math.random`, `crypto.randomUUID`, real timers, ...) fails the
 *   test after it, each use named with its stack. (`SimNetwork` runs have their own guard.)
 *
 * Test files that manage unhandled-error tracking themselves (deferred tests flush and turn it
 * off in their own afterEach, which runs first) are unaffected: their flush leaves nothing
 * here, and tracking is turned back on before the next test.
 */

import { afterEach, beforeEach } from "vitest";
import { flushUnhandledErrors, trackUnhandledErrors } from "../runtime/deferred.js";
import { UncleanReactorError } from "../runtime/errors.js";
import { checkRegistered } from "../fakes/assert-clean.js";
import { NondeterminismGuard } from "../fakes/nondeterminism-guard.js";

let guard: NondeterminismGuard | null = null;

beforeEach(() => {
  trackUnhandledErrors(true);
  guard = new NondeterminismGuard();
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
