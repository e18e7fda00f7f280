/**
 * line-chat: clients send lines; the server broadcasts every line to every connected client.
 *
 * What is measured (see `workload.ts`): every connection is a sender and a receiver; one
 * operation is one 64-byte line fanned out, and its latency is the time from its send to its
 * receipt by the **last** receiver, counted over the receivers in the sender's own load worker
 * (a worker cannot see another worker's receive times; with one worker, the default on two
 * cores, that is every receiver). Closed loop: each sender waits until its line reached all of
 * them before sending the next; open loop (`--rate`): lines follow a constant-rate schedule
 * and latency counts from the intended send time. `extra.deliveries` counts every line
 * received by the workers' clients in the window (the server's writes that arrived), so
 * deliveries per second show the fan-out's real volume: about `throughput × connections`.
 *
 * All three servers set TCP_NODELAY on their connections, as a chat server must: a socket
 * gets several lines in a row, and with Nagle on, the client's delayed ACK puts a 40 ms floor
 * under the fan-out (measured: p50 44 ms at 2 connections in every style).
 *
 * The cost grows with the square of the connection count in closed loop (each of N senders
 * keeps a line in flight to N receivers), so the default sweep stops at 1,000.
 *
 * @module
 */

import type { Scenario } from "../scenario.js";
import { simCheck } from "./sim.js";

/** The line-chat scenario. */
export const lineChat: Scenario = {
  name: "line-chat",
  summary: "every line a client sends is broadcast to all connected clients (fan-out latency)",
  operation: "one 64-byte line delivered to every receiver in the sender's load worker",
  kind: "throughput",
  styles: {
    callback: { kind: "module", module: new URL("./callback.ts", import.meta.url).href, description: "wirelab LineOnlyReceiver + Factory holding the room" },
    async: { kind: "module", module: new URL("./async.ts", import.meta.url).href, description: "wirelab serve() handler (for await … conn.lines(), write to all)" },
    baseline: { kind: "module", module: new URL("./baseline.ts", import.meta.url).href, description: "raw node:net with a hand-written line splitter" },
  },
  workload: new URL("./workload.ts", import.meta.url).href,
  defaultConnections: [1, 10, 100, 1000],
  sim: simCheck,
};
