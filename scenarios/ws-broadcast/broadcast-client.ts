/**
 * ws-broadcast's client workload, on wirelab's WebSocket client (`websocketConnect`): what
 * `--sim` runs (and `--load client`). Connection 0 is the publisher (`/publish`); every other
 * connection is a subscriber (`/`). The harness opens every connection before any operation
 * starts, and a subscriber's 101 means the server has it in its hub, so every subscriber is owed
 * every message. The publisher's operation publishes the next message (one every
 * {@link CLIENT_PUBLISH_INTERVAL_MS}); a subscriber's reads the
 * next one and checks it is that one, intact: every live subscriber gets every message, in
 * order, exactly once. On real sockets a subscriber may join while publishing is under way (an
 * Artillery virtual user arriving in a later phase): it starts at the first message it gets and
 * owes every one after it; in the sim, where every subscriber joined first, it owes message 0 on.
 *
 * Its latencies mean little (a subscriber's operation waits for the publisher): the benchmark's
 * load is the lean generator (`broadcast-generator.ts`), which publishes on a schedule.
 *
 * @module
 */

import { MismatchError, websocketConnect } from "wirelab";
import type { WebSocketClientConnection } from "wirelab";
import type { ClientWorkload } from "wirelab/bench";
import type { BroadcastFields } from "./broadcast-message.js";
import { broadcastMessage, PUBLISH_PATH, readBroadcastMessage, SUBSCRIBE_PATH } from "./broadcast-message.js";

/** The connection index of the publisher. */
export const PUBLISHER_INDEX = 0;
/** Milliseconds (on the reactor's clock: virtual in the sim) between two publishes. */
export const CLIENT_PUBLISH_INTERVAL_MS = 2;

/** Real sockets: the first message each subscriber got, which it counts from. */
const firstMessage = new WeakMap<WebSocketClientConnection, number>();

/** ws-broadcast's client workload. */
export const broadcastClient: ClientWorkload<WebSocketClientConnection> = {
  connect(reactor, endpoint, ctx) {
    const path = ctx.index === PUBLISHER_INDEX ? PUBLISH_PATH : SUBSCRIBE_PATH;
    // The URL gives Host and the path; the endpoint says where to connect (and from where).
    return websocketConnect(reactor, `ws://broadcast${path}`, { endpoint });
  },
  async operation(ws, ctx) {
    if (ctx.index === PUBLISHER_INDEX) {
      const now = ctx.reactor.now();
      await ws.writeMessage(broadcastMessage(ctx.sequence, now, now));
      // A publisher paces itself: flooding would only measure how fast buffers grow.
      await new Promise<void>((resolve) => ctx.reactor.callLater(CLIENT_PUBLISH_INTERVAL_MS, resolve));
      return;
    }
    const message = await ws.readMessage();
    if (message === null) throw new Error(`subscriber ${ctx.index}: closed before message ${ctx.sequence}`);
    const fields: BroadcastFields = { seq: 0, intendedMs: 0, sentMs: 0 };
    if (typeof message === "string" || !readBroadcastMessage(message, 0, message.length, fields)) {
      throw new MismatchError(`subscriber ${ctx.index}: message ${ctx.sequence} arrived corrupt`);
    }
    if (ctx.sequence === 0 && !ctx.sim) firstMessage.set(ws, fields.seq);
    const due = (firstMessage.get(ws) ?? 0) + ctx.sequence;
    // A gap, a repeat or a step back: this subscriber's stream is wrong from here on.
    if (fields.seq !== due) throw new MismatchError(`subscriber ${ctx.index}: got message ${fields.seq} where ${due} was due`);
  },
  close(ws) {
    ws.close();
  },
};
