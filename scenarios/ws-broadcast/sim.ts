/**
 * ws-broadcast's sim check: the callback and async servers on `SimNetwork` with random
 * chunking and (optionally) resets, wirelab's own WebSocket client as subscribers and
 * publisher. The publisher waits until every subscriber is open (its 101 arrived: the server
 * has it in its hub) or gone, then publishes one message every {@link SIM_PUBLISH_INTERVAL_MS}
 * of virtual time. Invariants: every subscriber still connected gets every message, intact, in
 * order, exactly once. One operation is one delivery; the deliveries a reset subscriber missed,
 * and those a reset publisher never made, are lost to faults.
 *
 * @module
 */

import { ConnectionDone } from "../../runtime/errors.js";
import type { Protocol } from "../../runtime/protocol.js";
import { ClientFactory } from "../../runtime/protocol.js";
import type { Reactor } from "../../runtime/reactor.js";
import { WebSocketClientHandshake } from "../../runtime/protocols/websocket/client-handshake.js";
import { WebSocketProtocol } from "../../runtime/protocols/websocket/websocket-protocol.js";
import type { SimCheckOptions, SimCheckResult } from "../scenario.js";
import type { SimTally } from "../sim-support.js";
import { runSimStyle, SIM_PORT, SIM_SERVER_ADDRESS } from "../sim-support.js";
import { broadcastAppFactory } from "./async.js";
import type { BroadcastFields } from "./broadcast-message.js";
import { broadcastMessage, PUBLISH_PATH, readBroadcastMessage, SUBSCRIBE_PATH } from "./broadcast-message.js";
import { broadcastFactory } from "./callback.js";

/** Virtual ms between two published messages. */
export const SIM_PUBLISH_INTERVAL_MS = 2;
/**
 * Virtual ms the publisher waits for subscribers that are neither open nor gone (a connect
 * that a fault left hanging) before it starts anyway; a subscriber that opens later is owed
 * nothing and is closed, its deliveries lost to faults.
 */
export const SIM_SUBSCRIBE_DEADLINE_MS = 1000;
/** Virtual ms the subscribers wait for messages in flight after the publisher was lost. */
export const SIM_PUBLISHER_LOST_GRACE_MS = 200;

/**
 * A WebSocket client connection of the sim: the runtime's client handshake, then a client
 * `WebSocketProtocol` that passes each message on.
 */
export class SimWebSocketClient extends WebSocketClientHandshake {
  /**
   * @param path - the request path.
   * @param reactor - the client host (clock and masking keys).
   * @param onMessage - told of each message.
   * @param onOpen - told once the handshake is done.
   * @param onLost - told when the connection is gone.
   */
  constructor(
    path: string,
    reactor: Reactor,
    onMessage: (data: string | Uint8Array) => void,
    onOpen: () => void,
    private readonly onLost: (reason: Error) => void,
  ) {
    super(
      { host: SIM_SERVER_ADDRESS, path, random: () => reactor.random() },
      { role: "client", clock: reactor, random: () => reactor.random() },
      (options) =>
        new (class extends WebSocketProtocol {
          override onMessage(message: string | Uint8Array): void {
            onMessage(message);
          }
        })(options),
    );
    // A failed handshake aborts the connection: onLost hears of it.
    this.ready.addCallbacks(
      () => {
        onOpen();
      },
      () => undefined,
    );
  }

  /** The WebSocket, once the handshake is done. */
  get ws(): WebSocketProtocol | null {
    return this.socket;
  }

  override connectionLost(reason: Error): void {
    super.connectionLost(reason);
    this.onLost(reason);
  }
}

/** One sim run's subscribers and publisher, and what they have seen. */
export class BroadcastSimRun {
  private readonly subscribers = new Map<number, { client: SimWebSocketClient; received: number; live: boolean; open: boolean }>();
  private settled = 0;
  private publisher: SimWebSocketClient | null = null;
  private publisherOpen = false;
  private publisherLost = false;
  private publishing = false;
  private published = 0;
  private finishing = false;
  private readonly fields: BroadcastFields = { seq: 0, intendedMs: 0, sentMs: 0 };

  /**
   * @param options - sizes and faults.
   * @param tally - the check's tally.
   * @param reactor - the client host.
   */
  constructor(
    private readonly options: SimCheckOptions,
    private readonly tally: SimTally,
    private readonly reactor: Reactor,
  ) {
    const factory = new ClientFactory();
    factory.buildProtocol = () => {
      const client = new SimWebSocketClient(
        PUBLISH_PATH,
        reactor,
        () => this.tally.violation("the publisher received a message"),
        () => {
          this.publisherOpen = true;
          this.maybePublish();
          this.reactor.callLater(SIM_SUBSCRIBE_DEADLINE_MS, () => this.maybePublish(true));
        },
        (reason) => this.publisherGone(reason),
      );
      this.publisher = client;
      return client;
    };
    reactor.connect(`tcp:${SIM_SERVER_ADDRESS}:${SIM_PORT}:timeout=30`, factory).addErrback((error: unknown) => {
      this.publisherGone(error instanceof Error ? error : new Error(String(error)));
    });
  }

  /**
   * Builds subscriber `index`.
   * @param index - its index.
   * @returns its protocol.
   */
  subscriber(index: number): Protocol {
    const state = { client: null as unknown as SimWebSocketClient, received: 0, live: true, open: false };
    state.client = new SimWebSocketClient(
      SUBSCRIBE_PATH,
      this.reactor,
      (data) => this.delivered(index, state, data),
      () => {
        if (this.published > 0 || this.publishing || this.publisherLost) {
          // Too late to be owed every message.
          if (!this.options.faults) this.tally.violation(`subscriber ${index} opened after publishing started`);
          state.client.transport.abortConnection();
          return;
        }
        state.open = true;
        this.settled++;
        this.maybePublish();
      },
      (reason) => this.subscriberGone(index, state, reason),
    );
    this.subscribers.set(index, state);
    return state.client;
  }

  private delivered(index: number, state: { client: SimWebSocketClient; received: number }, data: string | Uint8Array): void {
    const f = this.fields;
    if (typeof data === "string" || !readBroadcastMessage(data, 0, data.length, f) || f.seq !== state.received) {
      this.tally.violation(`subscriber ${index}: message ${state.received} expected, got ${typeof data === "string" ? "text" : readBroadcastMessage(data, 0, data.length, f) ? `message ${f.seq}` : "a corrupt message"}`);
      state.client.transport.abortConnection();
      return;
    }
    state.received++;
    this.tally.operations++;
    this.maybeFinish();
  }

  private subscriberGone(index: number, state: { received: number; live: boolean; open: boolean }, reason: Error): void {
    state.live = false;
    if (!state.open) this.settled++;
    const left = this.options.operations - state.received;
    if (left > 0) {
      if (this.publisherLost || (this.options.faults && !(reason instanceof ConnectionDone))) this.tally.lostToFaults += left;
      else this.tally.violation(`subscriber ${index}: connection ended (${reason.name}) with ${left} message(s) not received`);
    }
    this.maybePublish();
    this.maybeFinish();
  }

  private publisherGone(reason: Error): void {
    if (this.finishing) return;
    if (!this.options.faults || reason instanceof ConnectionDone) this.tally.violation(`the publisher's connection ended (${reason.name}) after ${this.published} message(s)`);
    this.publisherLost = true;
    this.publishing = false;
    // Messages the server already has may still arrive; then whatever is missing was lost.
    this.reactor.callLater(SIM_PUBLISHER_LOST_GRACE_MS, () => {
      for (const s of this.subscribers.values()) if (s.live) s.client.transport.loseConnection();
    });
  }

  private maybePublish(deadlinePassed = false): void {
    if (this.publishing || this.publisherLost || !this.publisherOpen || this.published > 0) return;
    if (this.settled < this.options.connections && !deadlinePassed) return;
    this.publishing = true;
    this.publishNext();
  }

  private publishNext(): void {
    if (!this.publishing) return;
    if (this.published === this.options.operations) {
      this.publishing = false;
      this.maybeFinish();
      return;
    }
    const now = this.reactor.now();
    this.publisher!.ws!.send(broadcastMessage(this.published++, now, now));
    this.reactor.callLater(SIM_PUBLISH_INTERVAL_MS, () => this.publishNext());
  }

  private maybeFinish(): void {
    if (this.publishing || this.publisherLost || this.published < this.options.operations) return;
    for (const s of this.subscribers.values()) if (s.live && s.received < this.options.operations) return;
    this.finishing = true;
    for (const s of this.subscribers.values()) if (s.live) s.client.ws?.close();
    this.publisher?.ws?.close();
  }
}

/**
 * Runs the check on both wirelab styles.
 * @param options - seed, sizes, faults.
 * @returns one result per style.
 */
export async function simCheck(options: SimCheckOptions): Promise<readonly SimCheckResult[]> {
  const run = (style: "callback" | "async", listen: Parameters<typeof runSimStyle>[2]): Promise<SimCheckResult> => {
    let sim: BroadcastSimRun | null = null;
    return runSimStyle(style, options, listen, (i, tally, reactor) => {
      sim ??= new BroadcastSimRun(options, tally, reactor);
      return sim.subscriber(i);
    });
  };
  return [
    await run("callback", (reactor, endpoint) => reactor.listen(endpoint, broadcastFactory(reactor))),
    await run("async", (reactor, endpoint) => reactor.listen(endpoint, broadcastAppFactory(reactor))),
  ];
}
