/**
 * The HTTP server on NodeReactor and real sockets: curl and Node's fetch as clients, and bad
 * input (slowloris, oversized and smuggling-shaped requests) from raw node:net sockets.
 *
 * Without curl the curl tests are skipped with a warning, unless WIRELAB_REQUIRE_PEERS is set.
 */

import { execFile, spawnSync } from "node:child_process";
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { NodeReactor } from "../../../../runtime/node/node-reactor.js";
import type { HttpHandler, HttpServerOptions } from "../../../../runtime/protocols/http/http-server-factory.js";
import { HttpServerFactory } from "../../../../runtime/protocols/http/http-server-factory.js";
import type { HttpServerProtocol } from "../../../../runtime/protocols/http/http-server-protocol.js";
import { ResponseParser } from "../../../../runtime/protocols/http/response-parser.js";
import type { ListeningPort } from "../../../../runtime/reactor.js";

const REQUIRED = (process.env.WIRELAB_REQUIRE_PEERS ?? "") !== "";
const HAVE_CURL = spawnSync("curl", ["--version"], { timeout: 10_000 }).status === 0;
if (!HAVE_CURL && !REQUIRED) console.warn("HTTP curl tests SKIPPED: curl not found (set WIRELAB_REQUIRE_PEERS=1 to make this a failure)");

interface Running {
  reactor: NodeReactor;
  factory: HttpServerFactory;
  port: ListeningPort;
  url: string;
  errors: unknown[];
  connections: () => number;
}

async function start(options: HttpServerOptions = {}): Promise<Running> {
  const reactor = new NodeReactor();
  const errors: unknown[] = [];
  reactor.setErrorHook((e) => errors.push(e));
  void reactor.run();
  const factory = new HttpServerFactory(
    reactor,
    async (req, res) => {
      switch (req.path) {
        case "/hello":
          res.setHeader("Content-Type", "text/plain");
          res.end("hello world");
          return;
        case "/echo": {
          const body = await req.body();
          res.setHeader("Content-Type", req.headers.get("content-type") ?? "application/octet-stream");
          res.end(body);
          return;
        }
        case "/stream":
          for (let i = 0; i < 5; i++) {
            if (!res.write(`part ${i}\n`)) await res.drained();
            await new Promise((resolve) => setImmediate(resolve));
          }
          res.end();
          return;
        default:
          res.writeHead(404).end("not found");
      }
    },
    { onError: (e) => errors.push(e), ...options },
  );
  let built = 0;
  const buildProtocol = factory.buildProtocol.bind(factory);
  factory.buildProtocol = (addr) => {
    built++;
    return buildProtocol(addr);
  };
  const port = await reactor.listen("tcp:0:interface=127.0.0.1", factory);
  return { reactor, factory, port, url: `http://127.0.0.1:${port.getHost().port}`, errors, connections: () => built };
}

function curl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-sS", "--max-time", "10", ...args], { encoding: "latin1" }, (error, stdout, stderr) => {
      if (error !== null) reject(error);
      else resolve({ stdout, stderr });
    });
  });
}

/** Sends raw bytes and collects everything until the server closes (or `ms` passes). */
function rawExchange(port: number, data: string | Buffer, ms = 5000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closed: false });
    }, ms);
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closed: true });
    });
    socket.write(data);
  });
}

describe("HttpServerFactory on NodeReactor", () => {
  let s: Running;

  beforeAll(async () => {
    s = await start();
  });

  afterAll(async () => {
    await s.reactor.stop();
    expect(s.errors).toEqual([]);
  });

  describe.skipIf(!HAVE_CURL && !REQUIRED)("with curl", () => {
    it("GET", async () => {
      const { stdout } = await curl(["-i", `${s.url}/hello`]);
      expect(stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(stdout).toContain("Content-Length: 11\r\n");
      expect(stdout).toMatch(/Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
      expect(stdout.endsWith("\r\n\r\nhello world")).toBe(true);
    });

    it("POST with a body, also with Expect: 100-continue", async () => {
      const body = "x".repeat(2048);
      const plain = await curl(["--data-binary", body, "-H", "Content-Type: text/x", `${s.url}/echo`]);
      expect(plain.stdout).toBe(body);
      const expecting = await curl(["-v", "--data-binary", body, "-H", "Expect: 100-continue", `${s.url}/echo`]);
      expect(expecting.stdout).toBe(body);
      expect(expecting.stderr).toContain("100 Continue");
    });

    it("a chunked response", async () => {
      const { stdout } = await curl(["-i", `${s.url}/stream`]);
      expect(stdout).toContain("Transfer-Encoding: chunked\r\n");
      expect(stdout.endsWith("part 0\npart 1\npart 2\npart 3\npart 4\n")).toBe(true);
    });

    it("a chunked request body", async () => {
      const { stdout } = await curl(["--data-binary", "chunky", "-H", "Transfer-Encoding: chunked", `${s.url}/echo`]);
      expect(stdout).toBe("chunky");
    });

    it("reuses a keep-alive connection for several URLs", async () => {
      const before = s.connections();
      const { stdout, stderr } = await curl(["-v", `${s.url}/hello`, `${s.url}/hello`, `${s.url}/hello`]);
      expect(stdout).toBe("hello world".repeat(3));
      expect(stderr).toMatch(/Re-?using existing connection/i);
      expect(s.connections() - before).toBe(1);
    });
  });

  describe("with Node's fetch", () => {
    it("GET, POST with a body, and a chunked response", async () => {
      const get = await fetch(`${s.url}/hello`);
      expect(get.status).toBe(200);
      expect(get.headers.get("content-type")).toBe("text/plain");
      expect(await get.text()).toBe("hello world");
      const post = await fetch(`${s.url}/echo`, { method: "POST", body: JSON.stringify({ a: 1 }), headers: { "content-type": "application/json" } });
      expect(await post.json()).toEqual({ a: 1 });
      const stream = await fetch(`${s.url}/stream`);
      expect(stream.headers.get("transfer-encoding")).toBe("chunked");
      expect(await stream.text()).toBe("part 0\npart 1\npart 2\npart 3\npart 4\n");
      const missing = await fetch(`${s.url}/nothing`);
      expect(missing.status).toBe(404);
      await missing.text();
    });

    it("reuses its keep-alive connection for sequential requests", async () => {
      // A warm-up makes the pool's connection; the following requests reuse it.
      await (await fetch(`${s.url}/hello`)).text();
      const before = s.connections();
      for (let i = 0; i < 5; i++) expect(await (await fetch(`${s.url}/hello`)).text()).toBe("hello world");
      expect(s.connections()).toBe(before);
    });
  });

  describe("bad input on real sockets", () => {
    const cases: [string, string, number][] = [
      ["oversized headers", `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 431],
      ["Content-Length with Transfer-Encoding", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hello HTTP/1.1\r\n\r\n", 400],
      ["duplicate Content-Length", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc", 400],
      ["a malformed request line", "GET /hello  HTTP/1.1\r\n\r\n", 400],
      ["a binary garbage line", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n", 400],
      ["a body over the limit", "POST /echo HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413],
    ];

    it.each(cases)("%s: answered with its status, then closed", async (_name, wire, status) => {
      const { text, closed } = await rawExchange(s.port.getHost().port, wire);
      expect(text.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
      expect(text).toContain("Connection: close\r\n");
      expect(text.match(/HTTP\/1\.1/g)).toHaveLength(1);
      expect(closed).toBe(true);
    });
  });
});

describe("slowloris on NodeReactor", () => {
  it("closes 500 connections trickling headers at the headers timeout while a normal client is served promptly", async () => {
    const s = await start({ headersTimeout: 300, keepAliveTimeout: 5000 });
    const port = s.port.getHost().port;
    const sockets: net.Socket[] = [];
    const closedAt: number[] = [];
    const answers: string[] = [];
    const started = performance.now();
    const timers: NodeJS.Timeout[] = [];
    try {
      await Promise.all(
        Array.from(
          { length: 500 },
          () =>
            new Promise<void>((resolve) => {
              const socket = net.connect(port, "127.0.0.1", () => {
                socket.write("GET /hello HTTP/1.1\r\nHost: x\r\n");
                timers.push(
                  setInterval(() => {
                    if (!socket.destroyed) socket.write("X-Slow: 1\r\n");
                  }, 50),
                );
                resolve();
              });
              socket.on("error", () => resolve());
              let got = "";
              socket.on("data", (d) => (got += d.toString("latin1")));
              socket.on("close", () => {
                closedAt.push(performance.now() - started);
                answers.push(got.slice(0, 30));
              });
              sockets.push(socket);
            }),
        ),
      );
      const t0 = performance.now();
      const response = await fetch(`${s.url}/hello`);
      expect(await response.text()).toBe("hello world");
      expect(performance.now() - t0).toBeLessThan(1000);
      const deadline = performance.now() + 5000;
      while (closedAt.length < 500 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(closedAt).toHaveLength(500);
      expect(new Set(answers.map((a) => a.slice(0, 28)))).toEqual(new Set(["HTTP/1.1 408 Request Timeout"]));
      // Each was closed by the server at its headers timeout (not before), despite the trickle.
      expect(Math.min(...closedAt)).toBeGreaterThanOrEqual(290);
      expect(s.errors).toEqual([]);
    } finally {
      for (const t of timers) clearInterval(t);
      for (const socket of sockets) socket.destroy();
      await s.reactor.stop();
    }
  });
});

describe("a client that pipelines requests and never reads, on NodeReactor", () => {
  /** Requests the client writes: far more response bytes than the kernel's buffers hold. */
  const REQUESTS = 100_000;
  /** The server batches up to this much output before a transport write (MAX_BATCH_BYTES). */
  const BATCH = 16 * 1024;
  /** Room for the response that crossed the bound. */
  const ONE_RESPONSE = 1024;
  /** Node hands a socket's bytes over in reads of at most 64 KiB. */
  const ONE_READ = 64 * 1024;
  const WAIT_LIMIT_MS = 15_000;

  const until = async (condition: () => boolean, what: string): Promise<void> => {
    const deadline = performance.now() + WAIT_LIMIT_MS;
    while (!condition()) {
      if (performance.now() > deadline) throw new Error(`gave up waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };

  const styles: [string, HttpHandler][] = [
    [
      "callback (answers at once)",
      (req, res) => {
        res.end(req.path);
      },
    ],
    [
      "async (answers after an await)",
      async (req, res) => {
        await Promise.resolve();
        res.end(req.path);
      },
    ],
  ];

  it.each(styles)("%s: the server stops taking requests at its bound; once the client reads, every response arrives in order", async (_style, answer) => {
    const reactor = new NodeReactor();
    const errors: unknown[] = [];
    reactor.setErrorHook((e) => errors.push(e));
    void reactor.run();
    let handled = 0;
    let maxPending = 0;
    let server: HttpServerProtocol | null = null;
    const factory = new HttpServerFactory(
      reactor,
      (req, res) => {
        handled++;
        if (server !== null) maxPending = Math.max(maxPending, server.pendingResponseBytes);
        return answer(req, res);
      },
      { onError: (e) => errors.push(e) },
    );
    const build = factory.buildProtocol.bind(factory);
    factory.buildProtocol = (addr) => (server = build(addr));
    const port = await reactor.listen("tcp:0:interface=127.0.0.1", factory);
    const socket = net.connect(port.getHost().port, "127.0.0.1");
    try {
      await new Promise<void>((resolve) => socket.once("connect", resolve));
      socket.pause();
      const requests: string[] = [];
      for (let i = 0; i < REQUESTS; i++) requests.push(`GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
      socket.write(requests.join(""));

      await until(() => server?.waitingForDrain === true || handled === REQUESTS, "the server to stop or to answer everything");
      const held = server as unknown as HttpServerProtocol;
      const bound = Math.max(factory.maxPendingResponseBytes, held.transport.highWaterMark) + BATCH + ONE_RESPONSE;
      expect(handled).toBeLessThan(REQUESTS);
      expect(held.waitingForDrain).toBe(true);
      expect(held.pendingResponseBytes).toBeLessThanOrEqual(bound);
      expect(maxPending).toBeLessThanOrEqual(bound);
      expect(held.unparsedBytes).toBeLessThanOrEqual(ONE_READ);

      // Now the client reads: every response, in order, and the server's bound holds throughout.
      let body = "";
      let expected = 0;
      let mismatch: string | null = null;
      const parser = new ResponseParser({
        onResponseHead: () => {
          body = "";
        },
        onBody: (chunk) => {
          body += Buffer.from(chunk).toString("latin1");
        },
        onResponseComplete: () => {
          if (body !== `/${expected}`) mismatch ??= `response #${expected} carried ${body}`;
          expected++;
        },
        onError: (error) => {
          mismatch ??= error.message;
        },
      });
      socket.on("data", (data: Buffer) => {
        parser.execute(data);
      });
      socket.resume();
      await until(() => expected === REQUESTS || mismatch !== null, "every response");
      expect(mismatch).toBeNull();
      expect(expected).toBe(REQUESTS);
      expect(handled).toBe(REQUESTS);
      expect(maxPending).toBeLessThanOrEqual(bound);
      expect(errors).toEqual([]);
    } finally {
      socket.destroy();
      await reactor.stop();
    }
  }, 30_000);
});
