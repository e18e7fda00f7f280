/**
 * tcp-echo, async/await style: a `serve` handler that awaits each chunk and writes it back.
 *
 * @module
 */

import { serve } from "wirelab";
import type { Connection, ListeningPort, Reactor } from "wirelab";

/**
 * Echoes a connection until the peer closes it.
 * @param conn - the connection.
 */
export async function echoHandler(conn: Connection): Promise<void> {
  for await (const chunk of conn) await conn.write(chunk);
}

/**
 * Serves the echo handler: the async style's `listen`.
 * @param reactor - the reactor (a `NodeReactor`, or a `SimNetwork` host).
 * @param endpoint - where to listen.
 * @returns the listening port.
 */
export function serveEcho(reactor: Reactor, endpoint: string): PromiseLike<ListeningPort> {
  return serve(reactor, endpoint, echoHandler);
}
