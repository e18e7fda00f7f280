/**
 * The vitest setup file (see vitest.config.ts): wirelab's own test hygiene, the same a user gets
 * from `setupFiles: ["wirelab/vitest"]` (unhandled Deferred errors fail the test that left them;
 * fakes registered with `useClean()` are checked after each test; protocol code run by the fakes
 * that reads real time or randomness fails the test).
 */

import "wirelab/vitest";
