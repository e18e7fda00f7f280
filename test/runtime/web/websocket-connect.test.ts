/**
 * websocketConnect on a MemoryReactor: the request it writes, and how it fails: a bad
 * response, a refused connection, a server that never answers, a URL that is not ws(s).
 */

import { describe, expect, it } from "vitest";

import { drainMicrotasks, MemoryReactor } from "../../../fakes/index.js";
import type { StringTransport } from "../../../fakes/index.js";
import { ConnectionRefusedError, InvalidOptionError, TimeoutError, WebSocketHandshakeError } from "../../../runtime/errors.js";
import { computeAcceptKey } from "../../../runtime/protocols/websocket/handshake.js";
import { websocketConnect } from "../../../runtime/web/websocket-connect.js";
import type { WebSocketClientHandshake } from "../../../runtime/protocols/websocket/client-handshake.js";

function start(url = "ws://example.test:9000/chat?room=1", options = {}): { reactor: MemoryReactor; conn: Promise<unknown> } {
  const reactor = new MemoryReactor();
  const conn = websocketConnect(reactor, url, options);
  conn.catch(() => {});
  return { reactor, conn };
}

describe("websocketConnect", () => {
  it("writes an RFC 6455 upgrade request for the URL and opens on a valid 101", async () => {
    const { reactor, conn } = start("ws://example.test:9000/chat?room=1", { subprotocols: ["v1"], origin: "http://example.test", headers: [["X-Extra", "1"]] });
    const attempt = reactor.tcpClients[0]!;
    expect(attempt.endpoint).toMatchObject({ kind: "tcp", host: "example.test", port: 9000 });
    const client = attempt.complete() as unknown as WebSocketClientHandshake;
    const request = (client.transport as StringTransport).text();
    expect(request).toMatch(/^GET \/chat\?room=1 HTTP\/1\.1\r\nHost: example\.test:9000\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n/);
    expect(request).toContain("Origin: http://example.test\r\n");
    expect(request).toContain("Sec-WebSocket-Protocol: v1\r\n");
    expect(request).toContain("X-Extra: 1\r\n");
    const key = /Sec-WebSocket-Key: (\S+)\r\n/.exec(request)![1]!;
    client.dataReceived(Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${computeAcceptKey(key)}\r\nSec-WebSocket-Protocol: v1\r\n\r\n\x81\x02hi`, "latin1"));
    const opened = (await conn) as { selectedSubprotocol: string | null; readMessage(): Promise<unknown> };
    expect(opened.selectedSubprotocol).toBe("v1");
    expect(await opened.readMessage()).toBe("hi");
  });

  it("fails with WebSocketHandshakeError on a wrong Sec-WebSocket-Accept, and aborts", async () => {
    const { reactor, conn } = start();
    const client = reactor.tcpClients[0]!.complete() as unknown as WebSocketClientHandshake;
    client.dataReceived(Buffer.from("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n"));
    await expect(conn).rejects.toMatchObject({ code: "WL_ERR_WS_HANDSHAKE", reason: "bad-accept" });
    await expect(conn).rejects.toBeInstanceOf(WebSocketHandshakeError);
    expect(client.transport.disconnecting).toBe(true);
  });

  it("fails with the connection's error when refused", async () => {
    const { reactor, conn } = start();
    reactor.tcpClients[0]!.fail(new ConnectionRefusedError());
    await expect(conn).rejects.toBeInstanceOf(ConnectionRefusedError);
  });

  it("fails with TimeoutError when the handshake does not finish in connectTimeoutMs", async () => {
    const { reactor, conn } = start("ws://example.test/", { connectTimeoutMs: 2000 });
    const client = reactor.tcpClients[0]!.complete() as unknown as WebSocketClientHandshake;
    await drainMicrotasks();
    reactor.clock.advance(2000);
    await expect(conn).rejects.toBeInstanceOf(TimeoutError);
    expect(client.transport.disconnecting).toBe(true);
  });

  it("refuses URLs that are not ws: or wss:", async () => {
    await expect(websocketConnect(new MemoryReactor(), "http://example.test/")).rejects.toBeInstanceOf(InvalidOptionError);
  });
});
