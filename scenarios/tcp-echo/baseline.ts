/**
 * tcp-echo, baseline: raw `node:net`, the floor any Node framework stands on.
 *
 * @module
 */

import * as net from "node:net";
import { listenNodeServer } from "wirelab/bench";
import type { ServerHandle, ServerStartOptions } from "wirelab/bench";

/**
 * Serves tcp-echo with `node:net` alone.
 * @param options - where to listen.
 * @returns the running server.
 */
export function startNetEcho(options: ServerStartOptions): Promise<ServerHandle> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("data", (data) => socket.write(data));
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  return listenNodeServer(server, options, () => {
    for (const s of sockets) s.destroy();
  });
}
