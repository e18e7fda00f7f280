/**
 * http-hello, raw: a minimal hand-written responder on `node:net`, the ceiling for any Node
 * HTTP framework. It parses nothing: every blank line (`\r\n\r\n`) ends a request, and each gets
 * the same preformatted response (its `Date` refreshed once a second). Only body-less requests,
 * which is all a benchmark sends.
 *
 * @module
 */

import * as net from "node:net";
import { listenNodeServer } from "wirelab/bench";
import type { ServerHandle, ServerStartOptions } from "wirelab/bench";
import { HELLO_BODY, HELLO_CONTENT_TYPE } from "./hello.js";

function formatResponse(): Buffer {
  const date = new Date().toUTCString();
  return Buffer.from(
    `HTTP/1.1 200 OK\r\nContent-Type: ${HELLO_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(HELLO_BODY)}\r\nDate: ${date}\r\n\r\n${HELLO_BODY}`,
    "latin1",
  );
}

/**
 * Serves http-hello with a hand-written responder on `node:net`.
 * @param options - where to listen.
 * @returns the running server.
 */
export function startRawHello(options: ServerStartOptions): Promise<ServerHandle> {
  let response = formatResponse();
  const refresh = setInterval(() => {
    response = formatResponse();
  }, 1000);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    // How far into "\r\n\r\n" the bytes read so far are.
    let matched = 0;
    socket.on("data", (data: Buffer) => {
      let answers = 0;
      for (let i = 0; i < data.length; i++) {
        const b = data[i];
        if (b === (matched & 1 ? 10 : 13)) {
          if (++matched === 4) {
            answers++;
            matched = 0;
          }
        } else matched = b === 13 ? 1 : 0;
      }
      for (; answers > 0; answers--) socket.write(response);
    });
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  return listenNodeServer(server, options, () => {
    clearInterval(refresh);
    for (const s of sockets) s.destroy();
  });
}
