/**
 * tcp-echo, async/await style: a `serve` handler that awaits each chunk and writes it back.
 *
 * @module
 */

import type { Connection } from "../../runtime/stream.js";
import { serve } from "../../runtime/stream.js";
import type { ServerHandle, ServerStartOptions } from "../scenario.js";
import { startReactorServer } from "../reactor-server.js";

/**
 * Echoes a connection until the peer closes it.
 * @param conn - the connection.
 */
export async function echoHandler(conn: Connection): Promise<void> {
  for await (const chunk of conn) await conn.write(chunk);
}

/**
 * Serves tcp-echo in the async style on a `NodeReactor`.
 * @param options - where to listen.
 * @returns the running server.
 */
export function start(options: ServerStartOptions): Promise<ServerHandle> {
  return startReactorServer(options, (reactor, endpoint) => serve(reactor, endpoint, echoHandler));
}
