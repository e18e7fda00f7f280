/**
 * line-chat, async/await style: a `serve` handler that iterates `conn.lines()` and writes each
 * line to every connection in the room, awaiting their buffers (backpressure: a sender's next
 * line is read once every recipient has room for more).
 *
 * @module
 */

import { serve } from "wirelab";
import type { Connection, ListeningPort, Reactor } from "wirelab";
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
 * Serves one chat room: the async style's `listen`.
 * @param reactor - the reactor (a `NodeReactor`, or a `SimNetwork` host).
 * @param endpoint - where to listen.
 * @returns the listening port.
 */
export function serveChat(reactor: Reactor, endpoint: string): PromiseLike<ListeningPort> {
  return serve(reactor, endpoint, chatHandler());
}
