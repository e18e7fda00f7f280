/**
 * wirelab/fakes: deterministic doubles of the runtime for tests. Everything here is a test
 * helper: a virtual clock, in-memory transports and reactors, and a seeded simulated network.
 *
 * @module
 */

export { Clock, FakeDelayedCall, drainMicrotasks } from "./clock.js";
export type { ClockOptions } from "./clock.js";
