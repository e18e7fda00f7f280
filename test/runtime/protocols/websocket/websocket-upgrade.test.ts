import { describe, expect, it } from "vitest";

import { Clock, MemoryReactor, StringTransport } from "../../../../fakes/index.js";
import { Factory } from "../../../../runtime/protocol.js";
import { WebSocketHandshakeError } from "../../../../runtime/errors.js";
import { HttpServerFactory } from "../../../../runtime/protocols/http/http-server-factory.js";
import { WebSocketClientHandshake } from "../../../../runtime/protocols/websocket/client-handshake.js";
import { computeAcceptKey } from "../../../../runtime/protocols/websocket/handshake.js";
import { upgradeWebSocket } from "../../../../runtime/protocols/websocket/websocket-upgrade.js";
import type { WebSocketUpgradeOptions } from "../../../../runtime/protocols/websocket/websocket-upgrade.js";
import { WebSocketProtocol } from "../../../../runtime/protocols/websocket/websocket-protocol.js";
import type { WebSocketProtocolOptions } from "../../../../runtime/protocols/websocket/websocket-protocol.js";
import { parseResponses } from "../http/http-test-helpers.js";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

function upgradeRequest(extra: Record<string, string> = {}, version = "13"): string {
  const fields = { Host: "example.com", Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": KEY, "Sec-WebSocket-Version": version, ...extra };
  return `GET /chat HTTP/1.1\r\n${Object.entries(fields)
    .map(([n, v]) => `${n}: ${v}\r\n`)
    .join("")}\r\n`;
}

/** A callback-style server whose handler is `upgradeWebSocket`, on a StringTransport. */
function server(options: WebSocketUpgradeOptions = {}): { transport: StringTransport; made: WebSocketProtocolOptions[]; results: (WebSocketProtocol | null)[] } {
  const clock = new Clock();
  const made: WebSocketProtocolOptions[] = [];
  const results: (WebSocketProtocol | null)[] = [];
  const factory = new HttpServerFactory(clock, (request, response) => {
    results.push(
      upgradeWebSocket(
        request,
        response,
        clock,
        (o) => {
          made.push(o);
          return new WebSocketProtocol(o);
        },
        options,
      ),
    );
  });
  const transport = new StringTransport();
  transport.attach(factory.buildProtocol({ type: "tcp", host: "127.0.0.1", port: 1 }));
  return { transport, made, results };
}

describe("upgradeWebSocket: the upgrade of a callback-style server", () => {
  it("switches to the protocol it builds: 101 with Sec-WebSocket-Accept, role server, the negotiated subprotocol", () => {
    const s = server({ protocols: ["chat"], socket: { maxPayload: 1000 } });
    s.transport.receive(upgradeRequest({ "Sec-WebSocket-Protocol": "other, chat" }));
    const text = Buffer.from(s.transport.value()).toString("latin1");
    expect(text.startsWith("HTTP/1.1 101 Switching Protocols\r\n")).toBe(true);
    expect(text).toContain(`Sec-WebSocket-Accept: ${computeAcceptKey(KEY)}\r\n`);
    expect(text).toContain("Sec-WebSocket-Protocol: chat\r\n");
    expect(s.made).toHaveLength(1);
    expect(s.made[0]).toMatchObject({ role: "server", protocol: "chat", perMessageDeflate: null, maxPayload: 1000 });
    expect(s.results[0]?.readyState).toBe("open");
  });

  it("answers another protocol version with 426 and Sec-WebSocket-Version: 13 (RFC 6455 §4.4)", () => {
    const s = server();
    s.transport.receive(upgradeRequest({}, "8"));
    const [response] = parseResponses(s.transport.value()).responses;
    expect(response!.status).toBe(426);
    expect(response!.header("sec-websocket-version")).toBe("13");
    expect(s.results).toEqual([null]);
    expect(s.made).toHaveLength(0);
  });

  it("answers a request that is not an upgrade with 400, and a refused origin with 403", () => {
    const plain = server();
    plain.transport.receive("GET /chat HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(parseResponses(plain.transport.value()).responses.map((r) => [r.status, r.body])).toEqual([[400, 'Can "Upgrade" only to "WebSocket".']]);
    const origin = server({ checkOrigin: (o) => o === "https://good.example" });
    origin.transport.receive(upgradeRequest({ Origin: "https://evil.example" }));
    expect(parseResponses(origin.transport.value()).responses.map((r) => r.status)).toEqual([403]);
  });
});

describe("WebSocketClientHandshake: the client side, as a protocol", () => {
  const options = (reactor: MemoryReactor): WebSocketProtocolOptions => ({ role: "client", clock: reactor, random: () => reactor.random() });

  it("meets the server's upgradeWebSocket: both ends open, with the protocol the client's make builds, and exchange messages", async () => {
    const reactor = new MemoryReactor();
    const received: string[] = [];
    class Echo extends WebSocketProtocol {
      override onMessage(data: string | Uint8Array): void {
        this.send(data);
      }
    }
    class Client extends WebSocketProtocol {
      override onMessage(data: string | Uint8Array): void {
        received.push(data as string);
      }
    }
    await reactor.listen("tcp:80", new HttpServerFactory(reactor, (req, res) => void upgradeWebSocket(req, res, reactor, (o) => new Echo(o))));
    const d = reactor.connect("tcp:127.0.0.1:80", Factory.forProtocol(() => new WebSocketClientHandshake({ host: "127.0.0.1", path: "/", random: () => reactor.random() }, options(reactor), (o) => new Client(o))));
    const pump = reactor.tcpClients[0]!.completePair();
    pump.flush();
    const handshake = await d;
    const ws = await handshake.ready;
    expect(ws).toBeInstanceOf(Client);
    expect(handshake.socket).toBe(ws);
    ws.send("hello");
    pump.flush();
    expect(received).toEqual(["hello"]);
    ws.close();
    pump.flush();
    expect(ws.readyState).toBe("closed");
  });

  it("a response head past maxHeadSize fails ready and aborts; nothing escapes dataReceived", () => {
    const reactor = new MemoryReactor();
    const handshake = new WebSocketClientHandshake({ host: "x", random: () => reactor.random() }, options(reactor), undefined, 64);
    const transport = new StringTransport();
    transport.attach(handshake);
    let failure: unknown = null;
    handshake.ready.addErrback((e: unknown) => {
      failure = e;
    });
    expect(() => transport.receive(`HTTP/1.1 101 Switching Protocols\r\nX-Padding: ${"a".repeat(100)}\r\n\r\n`)).not.toThrow();
    expect(failure).toBeInstanceOf(WebSocketHandshakeError);
    expect(transport.aborted).toBe(true);
  });

  it("a 101 with the wrong Sec-WebSocket-Accept fails ready and aborts", () => {
    const reactor = new MemoryReactor();
    const handshake = new WebSocketClientHandshake({ host: "x", random: () => reactor.random() }, options(reactor));
    const transport = new StringTransport();
    transport.attach(handshake);
    let failure: unknown = null;
    handshake.ready.addErrback((e: unknown) => {
      failure = e;
    });
    expect(() => transport.receive("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong=\r\n\r\n")).not.toThrow();
    expect(failure).toBeInstanceOf(WebSocketHandshakeError);
    expect(transport.aborted).toBe(true);
  });
});
