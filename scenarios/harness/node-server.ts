/**
 * `listenNodeServer`: a Node style's `node()` for a `node:net` or `node:http` server.
 *
 * @module
 */

import type { Server } from "node:net";
import type { ServerHandle, ServerStartOptions } from "./scenario.js";
import { BENCH_BACKLOG } from "./start-style.js";

/**
 * Listens with a `node:net` or `node:http` server and wraps it as a {@link ServerHandle}.
 * @param server - the server, not yet listening.
 * @param options - where to listen (from the style's `node(options)`).
 * @param closeAll - closes its open connections (`close()` alone waits for them).
 * @returns the running server.
 * @throws (rejects) the server's `error` (`EADDRINUSE`, ...) when it cannot listen.
 */
export function listenNodeServer(server: Server, options: ServerStartOptions, closeAll: () => void): Promise<ServerHandle> {
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
