/**
 * ws-broadcast, baseline: the `ws` package's server on `node:http`, broadcasting as its README
 * shows (`client.send(data, { binary })` to every open subscriber). `ws` is an optional peer
 * dependency of wirelab, imported only when this style starts; without it the style is skipped.
 *
 * @module
 */

import * as http from "node:http";
import type * as net from "node:net";
import type { WebSocket } from "ws";
import { listenNodeServer } from "wirelab/bench";
import type { ServerHandle, ServerStartOptions } from "wirelab/bench";
import { PUBLISH_PATH } from "./broadcast-message.js";

/**
 * Serves ws-broadcast with `ws`.
 * @param options - where to listen.
 * @returns the running server.
 */
export async function startWsBroadcast(options: ServerStartOptions): Promise<ServerHandle> {
  const { WebSocket, WebSocketServer } = await import("ws");
  const sockets = new Set<net.Socket>();
  const subscribers = new Set<WebSocket>();
  const server = http.createServer((_req, res) => {
    res.writeHead(400).end("WebSocket only");
  });
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // ws 8 does not compress unless asked; said anyway, as the other styles do not either.
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on("connection", (ws, req) => {
    ws.on("error", () => {});
    if (req.url === PUBLISH_PATH) {
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        for (const s of subscribers) if (s.readyState === WebSocket.OPEN) s.send(data, { binary: isBinary });
      });
      return;
    }
    subscribers.add(ws);
    ws.on("close", () => subscribers.delete(ws));
  });
  return listenNodeServer(server, options, () => {
    wss.close();
    for (const s of sockets) s.destroy();
  });
}
