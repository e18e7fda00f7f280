/**
 * line-chat, baseline: raw `node:net` with a hand-written line splitter; each complete line
 * (a view of the received chunk when it lies in one) is written to every socket.
 *
 * @module
 */

import * as net from "node:net";
import { listenNodeServer } from "wirelab/bench";
import type { ServerHandle, ServerStartOptions } from "wirelab/bench";
import { CHAT_MAX_LINE_LENGTH } from "./chat-line.js";

/**
 * Serves line-chat with `node:net` alone.
 * @param options - where to listen.
 * @returns the running server.
 */
export function startNetChat(options: ServerStartOptions): Promise<ServerHandle> {
  const sockets = new Set<net.Socket>();
  const broadcast = (line: Buffer): void => {
    for (const s of sockets) if (!s.destroyed) s.write(line);
  };
  const server = net.createServer((socket) => {
    // Several lines per socket in flight: with Nagle on, delayed ACKs would add 40 ms.
    socket.setNoDelay(true);
    sockets.add(socket);
    let partial: Buffer | null = null;
    socket.on("data", (chunk: Buffer) => {
      let from = 0;
      let nl = chunk.indexOf(0x0a);
      if (partial !== null && nl >= 0) {
        broadcast(Buffer.concat([partial, chunk.subarray(0, nl + 1)]));
        partial = null;
        from = nl + 1;
        nl = chunk.indexOf(0x0a, from);
      }
      while (nl >= 0) {
        broadcast(chunk.subarray(from, nl + 1));
        from = nl + 1;
        nl = chunk.indexOf(0x0a, from);
      }
      if (from < chunk.length) {
        partial = partial === null ? Buffer.from(chunk.subarray(from)) : Buffer.concat([partial, chunk.subarray(from)]);
        if (partial.length > CHAT_MAX_LINE_LENGTH) socket.destroy();
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  return listenNodeServer(server, options, () => {
    for (const s of sockets) s.destroy();
  });
}
