/**
 * `startStyle`: runs a wirelab or Node server style in this process, as the server child and
 * `wirelab serve` do.
 *
 * @module
 */

import { NodeReactor } from "../../runtime/node/node-reactor.js";
import type { ServerHandle, ServerStartOptions, ServerStyle } from "./scenario.js";

/** The listen backlog of benchmark servers: Node's default, which the peers use too. */
export const BENCH_BACKLOG = 511;

/**
 * Starts a wirelab or Node style in this process (the server child, or `wirelab serve`).
 * @param style - the style.
 * @param options - where to listen.
 * @returns the running server.
 * @throws (rejects) whatever the style throws; CannotListenError (`WL_ERR_CANNOT_LISTEN`) when the port is taken.
 */
export async function startStyle(style: ServerStyle, options: ServerStartOptions): Promise<ServerHandle> {
  if ("node" in style) return style.node(options);
  if (!("listen" in style)) throw new Error(`style ${style.name} is a command, not a server this process can run`);
  const reactor = new NodeReactor({ errorHook: (error) => console.error(error) });
  void reactor.run();
  try {
    const port = await style.listen(reactor, `tcp:${options.port}:interface=${options.host}:backlog=${BENCH_BACKLOG}`);
    return {
      port: port.getHost().port,
      async close() {
        await port.stopListening();
        await reactor.stop();
      },
    };
  } catch (error) {
    await reactor.stop();
    throw error;
  }
}

