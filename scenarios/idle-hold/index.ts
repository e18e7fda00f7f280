/**
 * idle-hold: N connections opened and held silent; measures server memory and CPU per
 * connection, and the largest count held. After the window every connection sends a one-byte
 * probe and waits for its echo, so that `operations` counts connections really held and
 * working. The servers are tcp-echo's.
 *
 * @module
 */

import { defineScenario } from "wirelab/bench";
import { serveEcho } from "../tcp-echo/async.js";
import { startNetEchoAsync } from "../tcp-echo/baseline-async.js";
import { startNetEcho } from "../tcp-echo/baseline.js";
import { listenEcho } from "../tcp-echo/callback.js";
import { idleGenerator, PROBE } from "./idle-load.js";

/** The connection counts idle-hold sweeps by default (C10K, and what the descriptor cap allows). */
export const IDLE_HOLD_DEFAULT_CONNECTIONS: readonly number[] = [1000, 10000];

/** The idle-hold scenario. */
export default defineScenario({
  name: "idle-hold",
  summary: "N idle connections held open; server memory and CPU per connection",
  // throughput is 0: the probes follow the window; serverCpuUsPerOp is server CPU per held
  // connection over the window.
  operation: "one liveness probe (1-byte echo) per held connection, after the window",
  kind: "hold",
  styles: [
    { name: "callback", description: "wirelab Protocol (echo, idle)", listen: listenEcho },
    { name: "async", description: "wirelab serve() handler (a pending read per connection)", listen: serveEcho },
    { name: "baseline", description: "raw node:net", node: startNetEcho },
    { name: "baseline-async", description: "node:net with for await (an iterator waiting per connection)", node: startNetEchoAsync },
  ],
  client: {
    async operation(conn, ctx) {
      await conn.write(PROBE);
      const echo = await conn.readExactly(1);
      if (echo[0] !== PROBE[0]) ctx.mismatch(`probe answered with byte ${echo[0]}`);
    },
  },
  generator: idleGenerator,
  compare: [
    ["callback", "baseline"],
    ["async", "baseline"],
    ["async", "baseline-async"],
    ["async", "callback"],
  ],
  defaultConnections: IDLE_HOLD_DEFAULT_CONNECTIONS,
  // A few probes per connection are enough: the hold is what is being checked; 50 virtual ms is
  // long enough for the resets to strike.
  sim: { operations: 3, holdMs: 50 },
});
