/**
 * tcp-echo, callback style: a `Protocol` that writes back what it reads.
 *
 * @module
 */

import { Factory, Protocol } from "../../runtime/protocol.js";
import type { ServerHandle, ServerStartOptions } from "../scenario.js";
import { startReactorServer } from "../reactor-server.js";

/** Echoes every byte back. */
export class EchoProtocol extends Protocol {
  override dataReceived(data: Uint8Array): void {
    this.transport.write(data);
  }
}

/**
 * The echo factory.
 * @returns a factory of {@link EchoProtocol}.
 */
export function echoFactory(): Factory<EchoProtocol> {
  return Factory.forProtocol(() => new EchoProtocol());
}

/**
 * Serves tcp-echo in the callback style on a `NodeReactor`.
 * @param options - where to listen.
 * @returns the running server.
 */
export function start(options: ServerStartOptions): Promise<ServerHandle> {
  return startReactorServer(options, (reactor, endpoint) => reactor.listen(endpoint, echoFactory()));
}
