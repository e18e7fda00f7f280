/**
 * ws-broadcast, async/await style, as a Tornado user would write it: an `Application` with two
 * `WebSocketHandler`s; subscribers join a set in `open()`; the publisher's `async onMessage`
 * writes the message to every subscriber with `writeMessage` and awaits their buffers
 * (backpressure: the next message is read once every subscriber has room).
 *
 * @module
 */

import { Application, WebSocketHandler } from "wirelab";
import type { Clock, HandlerOptions, HttpServerFactory, ListeningPort, Reactor } from "wirelab";
import { PUBLISH_PATH, SUBSCRIBE_PATH } from "./broadcast-message.js";

/** The route option that carries the subscriber set. */
interface HubOptions extends HandlerOptions {
  readonly hub: Set<WebSocketHandler>;
}

/** A subscriber: in the set while open. */
export class SubscribeHandler extends WebSocketHandler {
  private hub: Set<WebSocketHandler> = new Set();

  override initialize(options: HandlerOptions): void {
    this.hub = (options as HubOptions).hub;
  }

  override open(): void {
    this.hub.add(this);
  }

  override onClose(): void {
    this.hub.delete(this);
  }
}

/** The publisher: each message goes to every subscriber. */
export class PublishHandler extends WebSocketHandler {
  private hub: Set<WebSocketHandler> = new Set();

  override initialize(options: HandlerOptions): void {
    this.hub = (options as HubOptions).hub;
  }

  override async onMessage(message: string | Uint8Array): Promise<void> {
    const binary = typeof message !== "string";
    const sends: Promise<void>[] = [];
    for (const s of this.hub) if (s.webSocket?.readyState === "open") sends.push(s.writeMessage(message, binary));
    // A subscriber that left meanwhile is not the publisher's failure.
    await Promise.allSettled(sends);
  }
}

/**
 * The application: `/publish` and `/` (subscribers).
 * @returns the application, with its own subscriber set.
 */
export function broadcastApplication(): Application {
  const hub = new Set<WebSocketHandler>();
  return new Application([
    [PUBLISH_PATH, PublishHandler, { hub }],
    [SUBSCRIBE_PATH, SubscribeHandler, { hub }],
  ]);
}

/**
 * The async-style server factory.
 * @param clock - the reactor's clock.
 * @returns the factory.
 */
export function broadcastAppFactory(clock: Clock): HttpServerFactory {
  return broadcastApplication().factory(clock);
}

/**
 * Listens with the application: the async style's `listen`.
 * @param reactor - the reactor (a `NodeReactor`, or a `SimNetwork` host).
 * @param endpoint - where to listen.
 * @returns the listening port.
 */
export function listenBroadcastApp(reactor: Reactor, endpoint: string): PromiseLike<ListeningPort> {
  return reactor.listen(endpoint, broadcastAppFactory(reactor));
}
