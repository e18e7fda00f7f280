/**
 * line-chat, async/await style: a `serve` handler that iterates `conn.lines()` and writes each
 * line to every connection in the room, awaiting their buffers (backpressure: a sender's next
 * line is read once every recipient has room for more).
 *
 * @module
 */

import type { Connection } from "../../runtime/stream.js";
import { serve } from "../../runtime/stream.js";
import type { ServerHandle, ServerStartOptions } from "../scenario.js";
import { startReactorServer } from "../reactor-server.js";
import { CHAT_MAX_LINE_LENGTH } from "./chat-line.js";

/**
 * Builds the handler of one chat room.
 * @param room - the connections in the room (shared by every connection of the server).
 * @returns the `serve` handler.
 */
export function chatHandler(room: Set<Connection> = new Set()): (conn: Connection) => Promise<void> {
  return async (conn) => {
    // Several lines per socket in flight: with Nagle on, delayed ACKs would add 40 ms.
    conn.transport.setTcpNoDelay(true);
    room.add(conn);
    try {
      for await (const line of conn.lines(CHAT_MAX_LINE_LENGTH)) {
        const out = Buffer.allocUnsafe(line.length + 1);
        out.set(line);
        out[line.length] = 0x0a;
        const sends: Promise<void>[] = [];
        for (const peer of room) sends.push(peer.write(out));
        // A peer that left while we wrote is not this sender's failure.
        await Promise.allSettled(sends);
      }
    } finally {
      room.delete(conn);
    }
  };
}

/**
 * Serves line-chat in the async style on a `NodeReactor`.
 * @param options - where to listen.
 * @returns the running server.
 */
export function start(options: ServerStartOptions): Promise<ServerHandle> {
  return startReactorServer(options, (reactor, endpoint) => serve(reactor, endpoint, chatHandler()));
}
