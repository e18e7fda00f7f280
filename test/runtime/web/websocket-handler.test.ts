/**
 * WebSocketHandler and websocketConnect on the fakes (MemoryReactor, in-memory pair): the
 * upgrade through the Application, open/message/close, async handlers holding messages,
 * origin checks, subprotocols, compression, and refusals.
 */

import { describe, expect, it } from "vitest";

import { drainMicrotasks, MemoryReactor, requestApp } from "../../../fakes/index.js";
import type { Pump } from "../../../fakes/index.js";
import { Deferred } from "../../../runtime/deferred.js";
import { HttpError, WebSocketBufferFullError, WebSocketClosedError, WebSocketHandshakeError } from "../../../runtime/errors.js";
import { Application } from "../../../runtime/web/application.js";
import type { ApplicationSettings } from "../../../runtime/web/application.js";
import { websocketConnect } from "../../../runtime/web/websocket-connect.js";
import type { WebSocketClientConnection, WebSocketConnectOptions } from "../../../runtime/web/websocket-connect.js";
import { WebSocketHandler } from "../../../runtime/web/websocket-handler.js";

interface Session {
  reactor: MemoryReactor;
  pump: Pump;
  errors: unknown[];
  settle(): Promise<void>;
}

async function connect(app: Application, path: string, options: WebSocketConnectOptions = {}): Promise<Session & { conn: Promise<WebSocketClientConnection> }> {
  const reactor = new MemoryReactor();
  await app.listen(reactor, "tcp:8080");
  const conn = websocketConnect(reactor, `ws://127.0.0.1:8080${path}`, options);
  conn.catch(() => {});
  const pump = reactor.tcpClients[0]!.completePair();
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      pump.flush();
      await drainMicrotasks();
    }
  };
  await settle();
  return { reactor, pump, errors: [], settle, conn };
}

const log: string[] = [];

class Echo extends WebSocketHandler {
  override open(room: string): void {
    log.push(`open ${room} ${this.selectedSubprotocol}`);
  }
  override onMessage(message: string | Uint8Array): void {
    log.push(`message ${typeof message === "string" ? message : `bytes:${message.length}`}`);
    if (message === "close me") this.close(4000, "asked");
    else void this.writeMessage(message, typeof message !== "string");
  }
  override onClose(): void {
    log.push(`close ${this.closeCode} ${this.closeReason}`);
  }
  override selectSubprotocol(offered: readonly string[]): string | null {
    return offered.includes("chat") ? "chat" : null;
  }
}

function app(settings: ApplicationSettings = {}, extra: ConstructorParameters<typeof Application>[0] = []): Application {
  return new Application([["/ws/(\\w+)", Echo], ...extra], settings);
}

describe("WebSocketHandler", () => {
  it("opens with the path arguments, echoes text and binary, and sees the client's close", async () => {
    log.length = 0;
    const s = await connect(app(), "/ws/lobby", { subprotocols: ["other", "chat"] });
    const conn = await s.conn;
    expect(conn.selectedSubprotocol).toBe("chat");
    expect(log).toEqual(["open lobby chat"]);
    // Nagle's algorithm is off on the upgraded connection (small messages go out at once).
    expect(s.pump.server.tcpNoDelay).toBe(true);
    await conn.writeMessage("hello");
    await conn.writeMessage(new Uint8Array([1, 2, 3]));
    await s.settle();
    expect(await conn.readMessage()).toBe("hello");
    expect(Buffer.from((await conn.readMessage()) as Uint8Array)).toEqual(Buffer.from([1, 2, 3]));
    conn.close(1000, "bye");
    await s.settle();
    expect(log).toEqual(["open lobby chat", "message hello", "message bytes:3", "close 1000 bye"]);
    expect(await conn.readMessage()).toBeNull();
    expect(conn.closeCode).toBe(1000);
    expect(s.reactor.clock.pendingCalls()).toHaveLength(0);
  });

  it("closes from the server with a code the client sees, and refuses writes afterwards", async () => {
    log.length = 0;
    const s = await connect(app(), "/ws/a");
    const conn = await s.conn;
    await conn.writeMessage("close me");
    await s.settle();
    expect(await conn.readMessage()).toBeNull();
    expect(conn.closeCode).toBe(4000);
    expect(conn.closeReason).toBe("asked");
    expect(log.at(-1)).toBe("close 4000 asked");
    expect(() => conn.writeMessage("late")).toThrow(WebSocketClosedError);
  });

  it("holds messages while an async open() and onMessage() are pending, in order", async () => {
    const gates: Deferred<void>[] = [];
    const seen: string[] = [];
    class Slow extends WebSocketHandler {
      override open(): Deferred<void> {
        const d = new Deferred<void>();
        gates.push(d);
        return d;
      }
      override onMessage(message: string | Uint8Array): Deferred<void> {
        seen.push(String(message));
        const d = new Deferred<void>();
        gates.push(d);
        return d;
      }
    }
    const s = await connect(new Application([["/slow", Slow]]), "/slow");
    const conn = await s.conn;
    for (const m of ["a", "b", "c"]) await conn.writeMessage(m);
    await s.settle();
    expect(seen).toEqual([]);
    gates.shift()!.callback(undefined);
    await s.settle();
    expect(seen).toEqual(["a"]);
    gates.shift()!.callback(undefined);
    await s.settle();
    expect(seen).toEqual(["a", "b"]);
    gates.shift()!.callback(undefined);
    await s.settle();
    expect(seen).toEqual(["a", "b", "c"]);
  });

  it("refuses a foreign Origin with 403 and accepts the same host", async () => {
    log.length = 0;
    const foreign = await connect(app(), "/ws/x", { origin: "http://evil.example" });
    const error = await foreign.conn.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WebSocketHandshakeError);
    expect((error as WebSocketHandshakeError).message).toContain("403");
    expect(log).toEqual([]);
    const same = await connect(app(), "/ws/x", { origin: "http://127.0.0.1:8080" });
    expect((await same.conn).protocol.readyState).toBe("open");
  });

  it("lets prepare() refuse the upgrade with an HttpError", async () => {
    class Private extends WebSocketHandler {
      override prepare(): void {
        throw new HttpError(401);
      }
    }
    const s = await connect(new Application([["/p", Private]]), "/p");
    const error = await s.conn.then(
      () => null,
      (e: unknown) => e,
    );
    expect((error as WebSocketHandshakeError).message).toContain("401");
  });

  it("answers a plain GET with 400 and a POST with 405 Allow: GET", async () => {
    const plain = await requestApp(app(), "GET", "/ws/x");
    expect(plain.status).toBe(400);
    expect(plain.text()).toBe('Can "Upgrade" only to "WebSocket".');
    const post = await requestApp(app(), "POST", "/ws/x", { body: "" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
  });

  it("negotiates permessage-deflate from the compression setting and enforces maxMessageSize", async () => {
    log.length = 0;
    const s = await connect(app({ websocketCompression: {}, websocketMaxMessageSize: 2000 }), "/ws/z", { compression: { threshold: 0 } });
    const conn = await s.conn;
    expect(conn.protocol.perMessageDeflate).not.toBeNull();
    const text = "compress me ".repeat(100);
    await conn.writeMessage(text);
    await s.settle();
    expect(await conn.readMessage()).toBe(text);
    await conn.writeMessage("x".repeat(3000));
    await s.settle();
    expect(await conn.readMessage()).toBeNull();
    expect(conn.closeCode).toBe(1009);
  });

  it("sends keepalive pings on the injected clock and drops a peer that never answers", async () => {
    class Quiet extends WebSocketHandler {}
    const s = await connect(new Application([["/q", Quiet]], { websocketPingIntervalMs: 1000, websocketPingTimeoutMs: 500 }), "/q");
    const conn = await s.conn;
    let pongs = 0;
    conn.protocol.onPing = () => {
      pongs++;
    };
    s.reactor.clock.advance(1000);
    await s.settle();
    expect(pongs).toBe(1);
    // The client stops reading: the next ping is never answered.
    s.pump.client.pauseProducing();
    s.reactor.clock.advance(1000);
    await s.settle();
    s.reactor.clock.advance(500);
    await s.settle();
    s.pump.client.resumeProducing();
    await s.settle();
    expect(await conn.readMessage()).toBeNull();
    expect(conn.closeCode).toBe(1006);
  });

  it("drops a subscriber that does not read past the websocketMaxBufferedAmount setting, with 1013", async () => {
    const subscribers: Feed[] = [];
    let closes = 0;
    class Feed extends WebSocketHandler {
      override open(): void {
        subscribers.push(this);
      }
      override onClose(): void {
        closes++;
      }
    }
    const s = await connect(new Application([["/feed", Feed]], { websocketMaxBufferedAmount: 8192 }), "/feed");
    const conn = await s.conn;
    s.pump.client.pauseProducing();
    const feed = subscribers[0]!;
    let accepted = 0;
    // A broadcast that does not wait for its subscribers: the handler's bound is what stops it.
    while (feed.webSocket?.readyState === "open") {
      void feed.writeMessage(`message ${accepted}`.padEnd(500, "."));
      if (feed.webSocket.readyState === "open") accepted++;
    }
    expect(feed.webSocket?.failure).toBeInstanceOf(WebSocketBufferFullError);
    expect(() => feed.writeMessage("after")).toThrow(WebSocketClosedError);
    s.pump.client.resumeProducing();
    await s.settle();
    const got: string[] = [];
    for (let m = await conn.readMessage(); m !== null; m = await conn.readMessage()) got.push((m as string).split(".")[0]!);
    expect(got).toEqual(Array.from({ length: accepted }, (_, i) => `message ${i}`));
    expect(conn.closeCode).toBe(1013);
    expect(closes).toBe(1);
  });
});
