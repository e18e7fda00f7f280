/**
 * `startReactorServer`: the `start` of wirelab server styles: a `NodeReactor`, a factory
 * listening on it, and a `close` that stops the reactor (closing every connection).
 *
 * @module
 */

import type { Server } from "node:net";
import type { Deferred } from "../runtime/deferred.js";
import { NodeReactor } from "../runtime/node/node-reactor.js";
import type { ListeningPort, Reactor } from "../runtime/reactor.js";
import type { ServerHandle, ServerStartOptions } from "./scenario.js";

/** The listen backlog of benchmark servers: Node's default, which the peers use too. */
export const BENCH_BACKLOG = 511;

/**
 * Starts a server on a new `NodeReactor`.
 * @param options - where to listen.
 * @param listen - listens on `endpoint` with the style's factory (or `serve`).
 * @returns the running server.
 * @throws (rejects) CannotListenError (`WL_ERR_CANNOT_LISTEN`) when the port is taken.
 */
export async function startReactorServer(
  options: ServerStartOptions,
  listen: (reactor: Reactor, endpoint: string) => Deferred<ListeningPort>,
): Promise<ServerHandle> {
  const reactor = new NodeReactor({ errorHook: (error) => console.error(error) });
  void reactor.run();
  const port = await listen(reactor, `tcp:${options.port}:interface=${options.host}:backlog=${BENCH_BACKLOG}`);
  return {
    port: port.getHost().port,
    async close() {
      await port.stopListening();
      await reactor.stop();
    },
  };
}

/**
 * Starts a `node:net`-style server (baseline and raw styles) and wraps it as a handle.
 * @param server - a `node:net` or `node:http` server, not yet listening.
 * @param options - where to listen.
 * @param closeAll - closes its open connections (`close()` alone waits for them).
 * @returns the running server.
 */
export function startNodeServer(
  server: Server,
  options: ServerStartOptions,
  closeAll: () => void,
): Promise<ServerHandle> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.host, port: options.port, backlog: BENCH_BACKLOG }, () => {
      server.off("error", reject);
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : options.port;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => {
              done();
            });
            closeAll();
          }),
      });
    });
  });
}
