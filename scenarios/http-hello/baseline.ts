/**
 * http-hello, baseline: raw `node:http`.
 *
 * @module
 */

import * as http from "node:http";
import { listenNodeServer } from "wirelab/bench";
import type { ServerHandle, ServerStartOptions } from "wirelab/bench";
import { HELLO_BODY, HELLO_CONTENT_TYPE } from "./hello.js";

const BODY = Buffer.from(HELLO_BODY);

/**
 * Serves http-hello with `node:http` alone.
 * @param options - where to listen.
 * @returns the running server.
 */
export function startNodeHttpHello(options: ServerStartOptions): Promise<ServerHandle> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": HELLO_CONTENT_TYPE, "Content-Length": BODY.length });
    res.end(BODY);
  });
  return listenNodeServer(server, options, () => {
    server.closeAllConnections();
  });
}
