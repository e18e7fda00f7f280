/**
 * line-chat: clients send lines; the server broadcasts every line to every connected client.
 *
 * What is measured (see `chat-generator.ts`, the benchmark's lean load): every connection is a sender and a receiver; one
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
 * The client workload (`chat-client.ts`, on wirelab `Connection`s) is what `--sim` runs: the
 * same servers on `SimNetwork`, every line checked intact, in order, and delivered to every live
 * member owed it.
 *
 * @module
 */

import { defineScenario } from "wirelab/bench";
import { serveChat } from "./async.js";
import { startNetChat } from "./baseline.js";
import { listenChat } from "./callback.js";
import { chatClient } from "./chat-client.js";
import { chatGenerator } from "./chat-generator.js";

/** The line-chat scenario. */
export default defineScenario({
  name: "line-chat",
  summary: "every line a client sends is broadcast to all connected clients (fan-out latency)",
  operation: "one 64-byte line delivered to every receiver in the sender's load worker",
  styles: [
    { name: "callback", description: "wirelab LineOnlyReceiver + Factory holding the room", listen: listenChat },
    { name: "async", description: "wirelab serve() handler (for await … conn.lines(), write to all)", listen: serveChat },
    { name: "baseline", description: "raw node:net with a hand-written line splitter", node: startNetChat },
  ],
  client: chatClient,
  generator: chatGenerator,
  checks: (run) => run.shared.violations,
  compare: [
    ["async", "callback"],
    ["callback", "baseline"],
    ["async", "baseline"],
  ],
  defaultConnections: [1, 10, 100, 1000],
});
