/**
 * The HTTP client on NodeReactor against a real node:http server.
 */

import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { HttpResponseTooLargeError } from "../../../../runtime/errors.js";
import { NodeReactor } from "../../../../runtime/node/node-reactor.js";
import { Factory } from "../../../../runtime/protocol.js";
import { httpRequest, HttpClientProtocol } from "../../../../runtime/protocols/http/http-client.js";
import type { HttpClientOptions } from "../../../../runtime/protocols/http/http-client.js";

describe("HttpClientProtocol against node:http", () => {
  let server: http.Server;
  let port = 0;
  let connections = 0;
  const reactor = new NodeReactor();

  beforeAll(async () => {
    void reactor.run();
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        switch (req.url) {
          case "/length":
            res.setHeader("Content-Length", 5);
            res.end("hello");
            return;
          case "/chunked":
            res.write("one,");
            setTimeout(() => res.end("two"), 5);
            return;
          case "/big":
            res.end(Buffer.alloc(100_000, 0x62));
            return;
          case "/echo":
            res.setHeader("X-Method", req.method ?? "");
            res.end(body);
            return;
          default:
            res.statusCode = 404;
            res.end("missing");
        }
      });
    });
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await reactor.stop();
  });

  const connect = (options: HttpClientOptions = {}) =>
    reactor.connect(`tcp:127.0.0.1:${port}`, Factory.forProtocol(() => new HttpClientProtocol({ host: `127.0.0.1:${port}`, ...options })));

  it("keeps one connection alive for sequential requests: length-delimited, chunked, HEAD, POST", async () => {
    const before = connections;
    const client = await connect();
    const length = await client.request({ target: "/length" });
    expect([length.status, Buffer.from(length.body).toString()]).toEqual([200, "hello"]);
    const chunked = await client.request({ target: "/chunked" });
    expect(chunked.headers.get("transfer-encoding")).toBe("chunked");
    expect(Buffer.from(chunked.body).toString()).toBe("one,two");
    const head = await client.request({ method: "HEAD", target: "/length" });
    expect([head.status, head.headers.get("content-length"), head.bodyLength]).toEqual([200, "5", 0]);
    const post = await client.request({ method: "POST", target: "/echo", body: "payload" });
    expect([post.headers.get("x-method"), Buffer.from(post.body).toString()]).toEqual(["POST", "payload"]);
    const missing = await client.request({ target: "/nope" });
    expect(missing.status).toBe(404);
    expect(connections - before).toBe(1);
    client.close();
  });

  it("pipelines requests and gets the responses in order", async () => {
    const client = await connect({ pipelining: 8 });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => client.request({ method: "POST", target: "/echo", body: `n${i}` })),
    );
    expect(results.map((r) => Buffer.from(r.body).toString())).toEqual(Array.from({ length: 8 }, (_, i) => `n${i}`));
    client.close();
  });

  it("counts discarded bodies", async () => {
    const client = await connect({ discardBodies: true });
    const r = await client.request({ raw: `GET /big HTTP/1.1\r\nHost: x\r\n\r\n` });
    expect([r.body.length, r.bodyLength]).toEqual([0, 100_000]);
    client.close();
  });

  it("fails a response over the size limit with a typed error", async () => {
    const client = await connect({ maxResponseBodySize: 10_000 });
    await expect(client.request({ target: "/big" })).rejects.toBeInstanceOf(HttpResponseTooLargeError);
    await expect(client.request({ target: "/length" })).rejects.toBeInstanceOf(HttpResponseTooLargeError);
  });

  it("httpRequest makes one request and closes", async () => {
    const r = await httpRequest(reactor, `http://127.0.0.1:${port}/echo`, { method: "PUT", body: "put it" });
    expect([r.status, Buffer.from(r.body).toString(), r.headers.get("x-method")]).toEqual([200, "put it", "PUT"]);
  });
});
