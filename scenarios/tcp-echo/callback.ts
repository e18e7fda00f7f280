/**
 * tcp-echo, callback style: a `Protocol` that writes back what it reads.
 *
 * @module
 */

import { Factory, Protocol } from "wirelab";
import type { ListeningPort, Reactor } from "wirelab";

/** Echoes every byte back. */
export class EchoProtocol extends Protocol {
  override dataReceived(data: Uint8Array): void {
    this.transport.write(data);
  }
}

/**
 * Listens with the echo protocol: the callback style's `listen`.
 * @param reactor - the reactor (a `NodeReactor`, or a `SimNetwork` host).
 * @param endpoint - where to listen.
 * @returns the listening port.
 */
export function listenEcho(reactor: Reactor, endpoint: string): PromiseLike<ListeningPort> {
  return reactor.listen(endpoint, Factory.forProtocol(() => new EchoProtocol()));
}
