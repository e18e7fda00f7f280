/**
 * tcp-echo, Node's own async baseline: `node:net` written the way a Node user writes async code
 * today, `for await` over the socket and `events.once(socket, "drain")` when `write` says the
 * buffer is full. It is what wirelab's async style (`async.ts`) is measured against: the same
 * `await` face, on the platform's own streams.
 *
 * @module
 */

import { once } from "node:events";
import * as net from "node:net";
import { listenNodeServer } from "wirelab/bench";
import type { ServerHandle, ServerStartOptions } from "wirelab/bench";

/**
 * Echoes one socket until the peer closes it (the socket then ends itself: `allowHalfOpen` is
 * off) or resets it.
 * @param socket - the accepted socket.
 */
export async function echoSocket(socket: net.Socket): Promise<void> {
  try {
    for await (const chunk of socket as AsyncIterable<Buffer>) {
      if (!socket.write(chunk)) await once(socket, "drain");
    }
  } catch {
    // Reset by the peer: the iterator has destroyed the socket already.
  }
}

/**
 * Serves tcp-echo with `node:net` and `for await`.
 * @param options - where to listen.
 * @returns the running server.
 */
export function startNetEchoAsync(options: ServerStartOptions): Promise<ServerHandle> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    void echoSocket(socket);
  });
  return listenNodeServer(server, options, () => {
    for (const s of sockets) s.destroy();
  });
}
