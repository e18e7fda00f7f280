/**
 * The web layer on NodeReactor and real sockets (127.0.0.1, port 0), against clients nobody
 * here wrote: curl and Node's fetch (routing, JSON, redirects, streaming, signed cookies, XSRF),
 * the `ws` package (client against a WebSocketHandler, server against websocketConnect), Python's
 * `websockets` (test/peers/websockets_client.py), and headless Chromium driven by
 * playwright-core (a form posted with its XSRF token, a post without it refused, a WebSocket).
 *
 * A missing peer (curl, /usr/bin/python3 with websockets, /usr/bin/chromium) skips its tests
 * with a warning, unless WIRELAB_REQUIRE_PEERS is set, which makes them run (and fail).
 */

import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import type { RawData } from "ws";

import { NodeReactor } from "../../../runtime/node/node-reactor.js";
import type { ListeningPort } from "../../../runtime/reactor.js";
import { Application } from "../../../runtime/web/application.js";
import { escapeHtml, RequestHandler } from "../../../runtime/web/request-handler.js";
import { websocketConnect } from "../../../runtime/web/websocket-connect.js";
import { WebSocketHandler } from "../../../runtime/web/websocket-handler.js";

const REQUIRED = (process.env.WIRELAB_REQUIRE_PEERS ?? "") !== "";
const PYTHON = "/usr/bin/python3";
const CHROMIUM = "/usr/bin/chromium";
const HAVE_CURL = spawnSync("curl", ["--version"], { timeout: 10_000 }).status === 0;
const HAVE_PY_WEBSOCKETS = spawnSync(PYTHON, ["-c", "import websockets"], { timeout: 10_000 }).status === 0;
const HAVE_CHROMIUM = spawnSync(CHROMIUM, ["--version"], { timeout: 20_000 }).status === 0;
for (const [have, what] of [
  [HAVE_CURL, "curl tests SKIPPED: curl not found"],
  [HAVE_PY_WEBSOCKETS, `Python websockets tests SKIPPED: ${PYTHON} cannot import websockets`],
  [HAVE_CHROMIUM, `Chromium tests SKIPPED: ${CHROMIUM} not found`],
] as const) {
  if (!have && !REQUIRED) console.warn(`web integration: ${what} (set WIRELAB_REQUIRE_PEERS=1 to make this a failure)`);
}
const PEER_SCRIPT = fileURLToPath(new URL("../../peers/websockets_client.py", import.meta.url));

const wsLog: string[] = [];

class Items extends RequestHandler {
  override get(id: string): void {
    this.write({ id: Number(id), q: this.getArgument("q", null) });
  }
}

class Form extends RequestHandler {
  override get(): void {
    this.write(
      `<!doctype html><html><body><form method="post" action="/form">${this.xsrfFormHtml()}` +
        `<input name="msg" value=""><button type="submit">Send</button></form><span id="token">${escapeHtml(this.xsrfToken)}</span></body></html>`,
    );
  }
  override post(): void {
    this.write(`<!doctype html><html><body><p id="result">accepted ${escapeHtml(this.getArgument("msg"))}</p></body></html>`);
  }
}

class Login extends RequestHandler {
  override get(): void {
    this.write({ user: this.getSignedCookie("user") });
  }
  override put(): void {
    this.setSignedCookie("user", this.request.text());
  }
}

class Stream extends RequestHandler {
  override async get(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      this.write(`line ${i}\n`);
      await this.flush();
    }
  }
}

class Old extends RequestHandler {
  override get(): void {
    this.redirect("/items/1?q=moved");
  }
}

class Chat extends WebSocketHandler {
  override open(): void {
    wsLog.push(`open ${this.selectedSubprotocol}`);
  }
  override onMessage(message: string | Uint8Array): void {
    void this.writeMessage(message, typeof message !== "string");
  }
  override onClose(): void {
    wsLog.push(`close ${this.closeCode} ${this.closeReason}`);
  }
  override selectSubprotocol(offered: readonly string[]): string | null {
    return offered.includes("chat") ? "chat" : null;
  }
}

/** Runs in the page: opens a WebSocket, sends one message, closes after the echo. */
const BROWSER_WEBSOCKET = `(url) => new Promise((resolve, reject) => {
  const ws = new WebSocket(url, ["chat"]);
  const got = [];
  ws.onopen = () => {
    got.push("protocol " + ws.protocol + " " + ws.extensions);
    ws.send("hello from the browser");
  };
  ws.onmessage = (event) => {
    got.push(String(event.data));
    ws.close(1000, "browser done");
  };
  ws.onclose = (event) => {
    got.push("closed " + event.code);
    resolve(got);
  };
  ws.onerror = () => reject(new Error("WebSocket error"));
})`;

/** Waits (bounded, 5 s) for the server side to catch up with what a client already saw. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-sS", "--max-time", "10", ...args], { encoding: "utf8", timeout: 15_000 }, (error, stdout) => {
      if (error !== null) reject(error);
      else resolve(stdout);
    });
  });
}

function asBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

describe("the web layer on real sockets", () => {
  let reactor: NodeReactor;
  let port: ListeningPort;
  let base: string;
  const errors: unknown[] = [];

  beforeAll(async () => {
    reactor = new NodeReactor();
    reactor.setErrorHook((e) => errors.push(e));
    void reactor.run();
    const app = new Application(
      [
        [String.raw`/items/(\d+)`, Items],
        ["/form", Form],
        ["/login", Login],
        ["/stream", Stream],
        ["/old", Old],
        ["/ws", Chat],
      ],
      { xsrfCookies: true, cookieSecret: "integration secret", websocketCompression: {}, onError: (e) => errors.push(e) },
    );
    port = await app.listen(reactor, "tcp:0:interface=127.0.0.1");
    base = `http://127.0.0.1:${port.getHost().port}`;
  });

  afterAll(async () => {
    await reactor.stop();
    expect(errors).toEqual([]);
  });

  describe.skipIf(!HAVE_CURL && !REQUIRED)("curl", () => {
    it("gets JSON with path and query arguments, and a 404 page", async () => {
      expect(JSON.parse(await curl([`${base}/items/42?q=x%20y`]))).toEqual({ id: 42, q: "x y" });
      const notFound = await curl(["-i", `${base}/nope`]);
      expect(notFound).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
      expect(notFound).toContain("Server: wirelab");
    });

    it("posts a form with the XSRF token from its cookie jar, and gets 403 without it", async () => {
      const dir = mkdtempSync(join(tmpdir(), "wirelab-curl-"));
      try {
        const jar = join(dir, "jar");
        const page = await curl(["-c", jar, `${base}/form`]);
        const token = /name="_xsrf" value="([^"]+)"/.exec(page)?.[1];
        expect(token).toBeDefined();
        const ok = await curl(["-b", jar, "--data-urlencode", `_xsrf=${token}`, "--data-urlencode", "msg=from curl", `${base}/form`]);
        expect(ok).toContain("accepted from curl");
        const refused = await curl(["-b", jar, "-o", "/dev/null", "-w", "%{http_code}", "-d", "msg=x", `${base}/form`]);
        expect(refused).toBe("403");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("Node's fetch", () => {
    it("follows a redirect, reads a streamed (chunked) body, and answers 405 to HEAD", async () => {
      const moved = await fetch(`${base}/old`);
      expect(moved.redirected).toBe(true);
      expect(await moved.json()).toEqual({ id: 1, q: "moved" });
      const stream = await fetch(`${base}/stream`);
      expect(stream.headers.get("transfer-encoding")).toBe("chunked");
      expect((await stream.text()).split("\n")).toHaveLength(51);
      const head = await fetch(`${base}/items/1`, { method: "HEAD" });
      expect(head.status).toBe(405);
      expect(head.headers.get("allow")).toBe("GET");
    });

    it("round-trips a signed cookie and refuses a tampered one (PUT needs the XSRF header)", async () => {
      const form = await fetch(`${base}/form`);
      const xsrfCookie = /_xsrf=([^;]+)/.exec(form.headers.get("set-cookie") ?? "")?.[1] ?? "";
      const token = /<span id="token">([^<]+)<\/span>/.exec(await form.text())?.[1] ?? "";
      const login = await fetch(`${base}/login`, { method: "PUT", body: "alice", headers: { Cookie: `_xsrf=${xsrfCookie}`, "X-XSRFToken": token } });
      expect(login.status).toBe(200);
      const user = /user=([^;]+)/.exec(login.headers.get("set-cookie") ?? "")?.[1] ?? "";
      expect(await (await fetch(`${base}/login`, { headers: { Cookie: `user=${user}` } })).json()).toEqual({ user: "alice" });
      const forged = user.replace(/[0-9a-f]$/, (c) => (c === "0" ? "1" : "0"));
      expect(await (await fetch(`${base}/login`, { headers: { Cookie: `user=${forged}` } })).json()).toEqual({ user: null });
      const noToken = await fetch(`${base}/login`, { method: "PUT", body: "mallory", headers: { Cookie: `_xsrf=${xsrfCookie}` } });
      expect(noToken.status).toBe(403);
    });
  });

  describe("the ws package", () => {
    it("as a client of a WebSocketHandler: subprotocol, deflate, text and binary echoes, close code", async () => {
      wsLog.length = 0;
      const socket = new WebSocket(`ws://127.0.0.1:${port.getHost().port}/ws`, ["chat"], { perMessageDeflate: true });
      const messages: Buffer[] = [];
      const got = new Promise<void>((resolve) => {
        socket.on("message", (data: RawData) => {
          messages.push(asBuffer(data));
          if (messages.length === 2) resolve();
        });
      });
      await new Promise<void>((resolve, reject) => {
        socket.once("open", () => resolve());
        socket.once("error", reject);
      });
      expect(socket.protocol).toBe("chat");
      expect(socket.extensions).toContain("permessage-deflate");
      socket.send("héllo ".repeat(300));
      socket.send(Buffer.from([0, 1, 2, 255]));
      await got;
      expect(messages[0]!.toString()).toBe("héllo ".repeat(300));
      expect(messages[1]).toEqual(Buffer.from([0, 1, 2, 255]));
      const closed = new Promise<number>((resolve) => socket.once("close", (code: number) => resolve(code)));
      socket.close(4001, "ws done");
      expect(await closed).toBe(4001);
      await waitFor(() => wsLog.length === 2);
      expect(wsLog).toEqual(["open chat", "close 4001 ws done"]);
    });

    it("as a server for websocketConnect: echo, deflate, and the server's close code", async () => {
      const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: true });
      await new Promise<void>((resolve) => server.once("listening", () => resolve()));
      server.on("connection", (peer) => {
        peer.on("message", (data: RawData, isBinary: boolean) => {
          const text = asBuffer(data).toString();
          if (!isBinary && text === "bye") peer.close(4002, "server done");
          else peer.send(data, { binary: isBinary });
        });
      });
      try {
        const { port: wsPort } = server.address() as AddressInfo;
        const conn = await websocketConnect(reactor, `ws://127.0.0.1:${wsPort}/x`, { compression: {} });
        expect(conn.protocol.perMessageDeflate).not.toBeNull();
        await conn.writeMessage("über ".repeat(500));
        expect(await conn.readMessage()).toBe("über ".repeat(500));
        await conn.writeMessage(new Uint8Array([9, 8, 7]));
        expect(Buffer.from((await conn.readMessage()) as Uint8Array)).toEqual(Buffer.from([9, 8, 7]));
        await conn.writeMessage("bye");
        expect(await conn.readMessage()).toBeNull();
        expect(conn.closeCode).toBe(4002);
        expect(conn.closeReason).toBe("server done");
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });

  describe.skipIf(!HAVE_PY_WEBSOCKETS && !REQUIRED)("Python websockets", () => {
    it("as a client of a WebSocketHandler", async () => {
      wsLog.length = 0;
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(PYTHON, [PEER_SCRIPT, `ws://127.0.0.1:${port.getHost().port}/ws`], { encoding: "utf8", timeout: 25_000 }, (error, out, err) => {
          if (error !== null) reject(new Error(`${error.message}\n${err}`));
          else resolve(out);
        });
      });
      const result = JSON.parse(stdout) as { subprotocol: string; extensions: string[]; echoes: unknown[]; close_code: number };
      expect(result.subprotocol).toBe("chat");
      expect(result.extensions).toEqual(["PerMessageDeflate"]);
      expect(result.echoes).toEqual([
        ["text", "hello"],
        ["text", "h\u00e9llo \u2713 \u{1d11e}"],
        ["bytes", 256 * 40, true],
      ]);
      expect(result.close_code).toBe(1000);
      await waitFor(() => wsLog.length === 2);
      expect(wsLog).toEqual(["open chat", "close 1000 done"]);
    });
  });

  describe.skipIf(!HAVE_CHROMIUM && !REQUIRED)("headless Chromium", () => {
    let context: BrowserContext | null = null;
    let profile = "";

    beforeAll(async () => {
      profile = mkdtempSync(join(tmpdir(), "wirelab-chromium-"));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        timeout: 30_000,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
    }, 40_000);

    afterAll(async () => {
      await context?.close();
      rmSync(profile, { recursive: true, force: true });
    }, 20_000);

    it("posts a form with its XSRF token, is refused without it, and talks over a WebSocket", async () => {
      const page = await context!.newPage();
      page.setDefaultTimeout(10_000);
      await page.goto(`${base}/form`);
      await page.fill("input[name=msg]", "from chromium");
      await Promise.all([page.waitForURL(`${base}/form`, { waitUntil: "load" }), page.click("button")]);
      expect(await page.textContent("#result")).toBe("accepted from chromium");

      await page.goto(`${base}/form`);
      const refused = await page.evaluate(async () => {
        const res = await fetch("/form", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "msg=sneaky" });
        return res.status;
      });
      expect(refused).toBe(403);

      wsLog.length = 0;
      // Given as source text: the test file's own imports (the ws package's WebSocket) must not
      // leak into the page, which has the browser's.
      const echoes = await page.evaluate<string[]>(`(${BROWSER_WEBSOCKET})(${JSON.stringify(`ws://127.0.0.1:${port.getHost().port}/ws`)})`);
      expect(echoes).toEqual(["protocol chat permessage-deflate", "hello from the browser", "closed 1000"]);
      await page.close();
      await waitFor(() => wsLog.length === 2);
      expect(wsLog).toEqual(["open chat", "close 1000 browser done"]);
    });
  });
});
