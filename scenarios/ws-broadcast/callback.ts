/**
 * ws-broadcast, callback style: an `HttpServerFactory` whose handler upgrades each request
 * (`upgradeWebSocket`) to a `WebSocketProtocol`: subscribers join the hub when open, and each
 * message of the publisher is framed once (`FrameWriter.prepare`) and written to every
 * subscriber.
 *
 * @module
 */

import { FrameWriter, HttpServerFactory, upgradeWebSocket, WebSocketProtocol } from "wirelab";
import type { Clock, HttpRequest, HttpResponse, ListeningPort, Reactor, WebSocketProtocolOptions } from "wirelab";
import { PUBLISH_PATH } from "./broadcast-message.js";

/** The subscribers, and the broadcast to them. */
export class BroadcastHub {
  /** The open subscribers. */
  readonly subscribers = new Set<WebSocketProtocol>();

  /**
   * Sends `data` to every open subscriber, framed once.
   * @param data - the message (bytes: binary; a string: text).
   */
  publish(data: string | Uint8Array): void {
    const prepared = FrameWriter.prepare(data);
    for (const s of this.subscribers) if (s.readyState === "open") s.sendPrepared(prepared);
  }
}

/** A subscriber: in the hub while open; what it sends is ignored. */
export class SubscriberSocket extends WebSocketProtocol {
  /**
   * @param hub - the hub it joins.
   * @param options - the protocol's options.
   */
  constructor(
    private readonly hub: BroadcastHub,
    options: WebSocketProtocolOptions,
  ) {
    super(options);
  }

  override onOpen(): void {
    // As ws and Tornado do for every WebSocket: no Nagle delay on small frames.
    this.transport.setTcpNoDelay(true);
    this.hub.subscribers.add(this);
  }

  override onMessage(): void {}

  override onClose(): void {
    this.hub.subscribers.delete(this);
  }
}

/** The publisher: each of its messages goes to every subscriber. */
export class PublisherSocket extends WebSocketProtocol {
  /**
   * @param hub - where its messages go.
   * @param options - the protocol's options.
   */
  constructor(
    private readonly hub: BroadcastHub,
    options: WebSocketProtocolOptions,
  ) {
    super(options);
  }

  override onMessage(data: string | Uint8Array): void {
    this.hub.publish(data);
  }
}

/**
 * The callback-style server factory: `GET /publish` upgrades to the publisher, any other path
 * to a subscriber. `upgradeWebSocket` answers a request it cannot upgrade (400, or 426 with
 * `Sec-WebSocket-Version: 13`).
 * @param clock - the reactor's clock.
 * @param hub - the hub (a fresh one by default).
 * @returns the factory.
 */
export function broadcastFactory(clock: Clock, hub: BroadcastHub = new BroadcastHub()): HttpServerFactory {
  return new HttpServerFactory(clock, (request: HttpRequest, response: HttpResponse) => {
    upgradeWebSocket(request, response, clock, (options) => (request.path === PUBLISH_PATH ? new PublisherSocket(hub, options) : new SubscriberSocket(hub, options)));
  });
}

/**
 * Listens with a fresh hub: the callback style's `listen`.
 * @param reactor - the reactor (a `NodeReactor`, or a `SimNetwork` host).
 * @param endpoint - where to listen.
 * @returns the listening port.
 */
export function listenBroadcast(reactor: Reactor, endpoint: string): PromiseLike<ListeningPort> {
  return reactor.listen(endpoint, broadcastFactory(reactor));
}
