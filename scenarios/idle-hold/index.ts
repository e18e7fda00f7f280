/**
 * idle-hold: N connections opened and held silent; measures server memory and CPU per
 * connection, and the largest count held.
 *
 * @module
 */

import type { Scenario } from "../scenario.js";
import { simCheck } from "./sim.js";

/** The connection counts idle-hold sweeps by default (C10K, and what the descriptor cap allows). */
export const IDLE_HOLD_DEFAULT_CONNECTIONS: readonly number[] = [1000, 10000];

/** The idle-hold scenario. */
export const idleHold: Scenario = {
  name: "idle-hold",
  summary: "N idle connections held open; server memory and CPU per connection",
  // throughput is 0: the probes follow the window; serverCpuUsPerOp is server CPU per held
  // connection over the window.
  operation: "one liveness probe (1-byte echo) per held connection, after the window",
  kind: "idle",
  styles: {
    callback: { kind: "module", module: new URL("./callback.ts", import.meta.url).href, description: "wirelab Protocol (echo, idle)" },
    async: { kind: "module", module: new URL("./async.ts", import.meta.url).href, description: "wirelab serve() handler (a pending read per connection)" },
    baseline: { kind: "module", module: new URL("./baseline.ts", import.meta.url).href, description: "raw node:net" },
    "baseline-async": { kind: "module", module: new URL("./baseline-async.ts", import.meta.url).href, description: "node:net with for await (an iterator waiting per connection)" },
  },
  workload: new URL("./workload.ts", import.meta.url).href,
  defaultConnections: IDLE_HOLD_DEFAULT_CONNECTIONS,
  sim: simCheck,
};
