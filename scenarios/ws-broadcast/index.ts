/**
 * ws-broadcast: N WebSocket subscribers, one publisher at a fixed rate; the server relays each
 * message to every subscriber.
 *
 * What is measured (see `broadcast-generator.ts`, the benchmark's lean load): the run's
 * connections are the subscribers; the publisher is one more connection, in load worker 0,
 * sending 64-byte binary messages (masked, as a browser would) on a constant-rate schedule:
 * `--rate` messages per second over the run, else 100. The publisher is a WebSocket connection
 * on `/publish` rather than an HTTP POST endpoint because that is how a relay is usually fed,
 * and it keeps the cost per message on the server to one frame parsed and N frames written.
 * One operation is one delivery (one message received by one subscriber); its latency counts
 * from the message's intended publish time to the receipt, on the machine-wide monotonic clock,
 * so subscribers in every worker time every message. Subscribers are lean raw-TCP clients that
 * parse the server's frames minimally. Every style has TCP_NODELAY on subscriber connections,
 * as `ws` and Tornado do (the callback style sets it in `onOpen`; wirelab's `WebSocketHandler`
 * sets it itself).
 * `extra.published` counts messages published in the window.
 *
 * The client workload (`broadcast-client.ts`, wirelab's WebSocket client) is what `--sim` runs.
 *
 * @module
 */

import { defineScenario } from "wirelab/bench";
import { listenBroadcastApp } from "./async.js";
import { startWsBroadcast } from "./baseline.js";
import { broadcastClient } from "./broadcast-client.js";
import { broadcastGenerator } from "./broadcast-generator.js";
import { listenBroadcast } from "./callback.js";

/** The ws-broadcast scenario. */
export default defineScenario({
  name: "ws-broadcast",
  summary: "one WebSocket publisher at a fixed rate (--rate, default 100/s), N subscribers (delivery latency)",
  operation: "one 64-byte message delivered to one subscriber",
  styles: [
    { name: "callback", description: "wirelab HttpServerFactory + upgrade + WebSocketProtocol, frame prepared once", listen: listenBroadcast },
    { name: "async", description: "wirelab Application + WebSocketHandler (async onMessage, writeMessage to all)", listen: listenBroadcastApp },
    { name: "baseline", description: "the ws package's WebSocketServer", node: startWsBroadcast, requires: ["ws"] },
  ],
  client: broadcastClient,
  generator: broadcastGenerator,
  compare: [
    ["async", "callback"],
    ["callback", "baseline"],
    ["async", "baseline"],
  ],
});
