/**
 * ws-broadcast: N WebSocket subscribers, one publisher at a fixed rate; the server relays each
 * message to every subscriber.
 *
 * What is measured (see `workload.ts`): the run's connections are the subscribers; the
 * publisher is one more connection, in load worker 0, sending 64-byte binary messages (masked,
 * as a browser would) on a constant-rate schedule: `--rate` messages per second over the run,
 * else 100. The publisher is a WebSocket connection on `/publish` rather than an HTTP POST
 * endpoint because that is how a relay is usually fed, and it keeps the cost per message on
 * the server to one frame parsed and N frames written. One operation is one delivery (one
 * message received by one subscriber); its latency counts from the message's intended publish
 * time to the receipt, on the machine-wide monotonic clock, so subscribers in every worker
 * time every message. Subscribers are lean raw-TCP clients that parse the server's frames
 * minimally. Every style has TCP_NODELAY on subscriber connections, as `ws` and Tornado do
 * (the callback style sets it in `onOpen`; wirelab's `WebSocketHandler` sets it itself).
 * `extra.published` counts messages published in the window.
 *
 * @module
 */

import type { Scenario } from "../scenario.js";
import { simCheck } from "./sim.js";

/** The ws-broadcast scenario. */
export const wsBroadcast: Scenario = {
  name: "ws-broadcast",
  summary: "one WebSocket publisher at a fixed rate (--rate, default 100/s), N subscribers (delivery latency)",
  operation: "one 64-byte message delivered to one subscriber",
  kind: "throughput",
  styles: {
    callback: { kind: "module", module: new URL("./callback.ts", import.meta.url).href, description: "wirelab HttpServerFactory + upgrade + WebSocketProtocol, frame prepared once" },
    async: { kind: "module", module: new URL("./async.ts", import.meta.url).href, description: "wirelab Application + WebSocketHandler (async onMessage, writeMessage to all)" },
    baseline: { kind: "module", module: new URL("./baseline.ts", import.meta.url).href, description: "the ws package's WebSocketServer" },
  },
  workload: new URL("./workload.ts", import.meta.url).href,
  sim: simCheck,
};
