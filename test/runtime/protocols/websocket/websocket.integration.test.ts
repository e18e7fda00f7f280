/**
 * Interop with the `ws` package on real sockets (127.0.0.1, port 0): a `ws` client against our
 * server side, and a `ws` server against our client side, each with and without
 * permessage-deflate. The handshake is done by `handshake.ts` (see upgrade-helpers.ts).
 */

import { once } from "node:events";
import type { AddressInfo } from "node:net";

import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import type { RawData } from "ws";

import { Factory } from "../../../../runtime/protocol.js";
import { NodeReactor } from "../../../../runtime/node/node-reactor.js";
import type { ListeningPort } from "../../../../runtime/reactor.js";
import { WebSocketProtocol } from "../../../../runtime/protocols/websocket/websocket-protocol.js";
import type { WebSocketProtocolOptions } from "../../../../runtime/protocols/websocket/websocket-protocol.js";
import { ClientUpgrade, ServerUpgrade } from "./upgrade-helpers.js";

const TEST_TIMEOUT_MS = 15_000;

class Echo extends WebSocketProtocol {
  readonly closes: [number, string, boolean][] = [];
  readonly pongs: string[] = [];
  override onMessage(data: string | Uint8Array): void {
    this.send(data);
  }
  override onPong(data: Uint8Array): void {
    this.pongs.push(Buffer.from(data).toString());
  }
  override onClose(code: number, reason: string, wasClean: boolean): void {
    this.closes.push([code, reason, wasClean]);
  }
}

function asBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/** Collects a `ws` socket's messages in order and lets a test await the next one. */
class Inbox {
  private readonly items: { data: Buffer; isBinary: boolean }[] = [];
  private waiter: (() => void) | null = null;
  constructor(socket: WebSocket) {
    socket.on("message", (data: RawData, isBinary: boolean) => {
      this.items.push({ data: asBuffer(data), isBinary });
      this.waiter?.();
    });
  }
  async next(): Promise<{ data: Buffer; isBinary: boolean }> {
    while (this.items.length === 0) {
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
      this.waiter = null;
    }
    return this.items.shift()!;
  }
}

const big = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) & 0xff));
const text = "héllo wörld ✓ 𝄞 ".repeat(500);

describe("WebSocket interop with the ws package", () => {
  let reactor: NodeReactor | null = null;
  const cleanups: (() => Promise<void> | void)[] = [];

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    if (reactor?.running === true) await reactor.stop();
    reactor = null;
  });

  function startReactor(): NodeReactor {
    const r = new NodeReactor();
    reactor = r;
    void r.run();
    return r;
  }

  async function ourServer(r: NodeReactor, options: Partial<WebSocketProtocolOptions>, deflate: boolean): Promise<{ url: string; servers: Echo[] }> {
    const servers: Echo[] = [];
    const factory = Factory.forProtocol(
      () =>
        new ServerUpgrade(
          (hs) => {
            const ws = new Echo({ role: "server", clock: r, perMessageDeflate: hs.perMessageDeflate, protocol: hs.protocol, deflateOptions: { threshold: 0 }, ...options });
            servers.push(ws);
            return ws;
          },
          { protocols: ["chat"], ...(deflate ? { perMessageDeflate: {} } : {}) },
        ),
    );
    const port: ListeningPort = await r.listen("tcp:0:interface=127.0.0.1", factory);
    cleanups.push(async () => {
      await port.stopListening();
    });
    return { url: `ws://127.0.0.1:${port.getHost().port}/path`, servers };
  }

  async function wsClient(url: string, deflate: boolean): Promise<WebSocket> {
    const socket = new WebSocket(url, ["chat"], { perMessageDeflate: deflate ? { threshold: 0 } : false });
    cleanups.push(() => {
      socket.terminate();
    });
    await once(socket, "open");
    return socket;
  }

  for (const deflate of [false, true]) {
    const label = deflate ? "with permessage-deflate" : "without compression";

    it(
      `a ws client talks to our server: text, binary, fragmented, large, ping (${label})`,
      async () => {
        const r = startReactor();
        const { url, servers } = await ourServer(r, {}, deflate);
        const socket = await wsClient(url, deflate);
        expect(socket.protocol).toBe("chat");
        expect(socket.extensions).toBe(deflate ? "permessage-deflate" : "");
        const inbox = new Inbox(socket);
        const pongs: string[] = [];
        socket.on("pong", (data: Buffer) => pongs.push(data.toString()));
        socket.send("Hello");
        socket.send(big);
        socket.send(text);
        // A fragmented message, with a ping between its fragments.
        socket.send("frag", { fin: false });
        socket.ping("in the middle");
        socket.send("ment", { fin: false });
        socket.send("ed", { fin: true });
        expect(await inbox.next()).toEqual({ data: Buffer.from("Hello"), isBinary: false });
        const echoedBig = await inbox.next();
        expect(echoedBig.isBinary).toBe(true);
        expect(echoedBig.data.equals(big)).toBe(true);
        expect((await inbox.next()).data.toString()).toBe(text);
        expect((await inbox.next()).data.toString()).toBe("fragmented");
        expect(servers).toHaveLength(1);
        expect(servers[0]!.perMessageDeflate !== null).toBe(deflate);
        // The echo came after our automatic pong, on the same connection.
        expect(pongs).toEqual(["in the middle"]);
        // Our server pings; ws answers on its own.
        servers[0]!.ping("keepalive?");
        await new Promise<void>((resolve) => {
          const check = (): void => {
            if (servers[0]!.pongs.length > 0) resolve();
            else r.callLater(5, check);
          };
          check();
        });
        expect(servers[0]!.pongs).toEqual(["keepalive?"]);
      },
      TEST_TIMEOUT_MS,
    );
  }

  it(
    "closing: a ws client's close code is echoed; our server's close code reaches ws",
    async () => {
      const r = startReactor();
      const { url, servers } = await ourServer(r, {}, false);
      const a = await wsClient(url, false);
      a.close(4001, "bye");
      const [codeA, reasonA] = (await once(a, "close")) as [number, Buffer];
      expect([codeA, reasonA.toString()]).toEqual([4001, "bye"]);
      const b = await wsClient(url, false);
      const bInbox = new Inbox(b);
      b.send("x");
      await bInbox.next();
      servers[1]!.close(4002, "server bye");
      const [codeB, reasonB] = (await once(b, "close")) as [number, Buffer];
      expect([codeB, reasonB.toString()]).toEqual([4002, "server bye"]);
      await servers[0]!.whenClosed();
      await servers[1]!.whenClosed();
      expect(servers[0]!.closes).toEqual([[4001, "bye", true]]);
      expect(servers[1]!.closes).toEqual([[4002, "server bye", true]]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a ws client's message over our maxPayload is refused with 1009",
    async () => {
      const r = startReactor();
      const { url, servers } = await ourServer(r, { maxPayload: 1000 }, false);
      const socket = await wsClient(url, false);
      socket.send(Buffer.alloc(1001));
      const [code] = (await once(socket, "close")) as [number, Buffer];
      expect(code).toBe(1009);
      const info = await servers[0]!.whenClosed();
      expect(info.code).toBe(1009);
    },
    TEST_TIMEOUT_MS,
  );

  async function wsServer(deflate: boolean): Promise<{ wss: WebSocketServer; port: number }> {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: deflate ? { threshold: 0 } : false, handleProtocols: (protocols) => (protocols.has("chat") ? "chat" : false) });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const c of wss.clients) c.terminate();
          wss.close(() => {
            resolve();
          });
        }),
    );
    await once(wss, "listening");
    return { wss, port: (wss.address() as AddressInfo).port };
  }

  async function ourClient(r: NodeReactor, port: number, deflate: boolean, options: Partial<WebSocketProtocolOptions> = {}): Promise<WebSocketProtocol> {
    const upgrade = new ClientUpgrade(
      { host: `127.0.0.1:${port}`, path: "/", protocols: ["chat"], random: () => r.random(), ...(deflate ? { perMessageDeflate: {} } : {}) },
      (result) =>
        new WebSocketProtocol({ role: "client", clock: r, random: () => r.random(), perMessageDeflate: result.perMessageDeflate, protocol: result.protocol, deflateOptions: { threshold: 0 }, ...options }),
    );
    await r.connect(`tcp:127.0.0.1:${port}`, Factory.forProtocol(() => upgrade));
    return upgrade.ready;
  }

  for (const deflate of [false, true]) {
    const label = deflate ? "with permessage-deflate" : "without compression";
    it(
      `our client talks to a ws server: text, binary, fragmented, large, ping (${label})`,
      async () => {
        const r = startReactor();
        const { wss, port } = await wsServer(deflate);
        const pings: string[] = [];
        wss.on("connection", (socket: WebSocket) => {
          socket.on("message", (data: RawData, isBinary: boolean) => {
            socket.send(asBuffer(data), { binary: isBinary });
          });
          socket.on("ping", (data: Buffer) => {
            pings.push(data.toString());
          });
        });
        const client = await ourClient(r, port, deflate, { fragmentSize: 1000 });
        expect(client.protocol).toBe("chat");
        expect(client.perMessageDeflate !== null).toBe(deflate);
        client.send("Hello");
        client.send(big); // fragmented into 1000-byte frames
        client.send(text);
        client.send(new Uint8Array(0));
        expect(await client.readMessage()).toEqual({ data: "Hello", isBinary: false });
        const echoed = await client.readMessage();
        expect(echoed.isBinary).toBe(true);
        expect(Buffer.from(echoed.data as Uint8Array).equals(big)).toBe(true);
        expect(await client.readMessage()).toEqual({ data: text, isBinary: false });
        const empty = await client.readMessage();
        expect([empty.isBinary, empty.data.length]).toEqual([true, 0]);
        client.ping("are you there");
        client.send("after ping");
        expect(await client.readMessage()).toEqual({ data: "after ping", isBinary: false });
        expect(pings).toEqual(["are you there"]);
      },
      TEST_TIMEOUT_MS,
    );
  }

  it(
    "closing with a ws server, from both sides, with the codes echoed",
    async () => {
      const r = startReactor();
      const { wss, port } = await wsServer(false);
      const serverCloses: [number, string][] = [];
      const sockets: WebSocket[] = [];
      wss.on("connection", (socket: WebSocket) => {
        sockets.push(socket);
        socket.on("close", (code: number, reason: Buffer) => {
          serverCloses.push([code, reason.toString()]);
        });
        socket.on("ping", () => {
          socket.close(4004, "server says bye");
        });
      });
      const a = await ourClient(r, port, false);
      a.close(4003, "client says bye");
      expect(await a.whenClosed()).toEqual({ code: 4003, reason: "client says bye", wasClean: true });
      const b = await ourClient(r, port, false);
      b.ping(); // the ws server answers by closing
      expect(await b.whenClosed()).toEqual({ code: 4004, reason: "server says bye", wasClean: true });
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (serverCloses.length === 2) resolve();
          else r.callLater(5, check);
        };
        check();
      });
      expect(serverCloses).toEqual([
        [4003, "client says bye"],
        [4004, "server says bye"],
      ]);
    },
    TEST_TIMEOUT_MS,
  );
});
