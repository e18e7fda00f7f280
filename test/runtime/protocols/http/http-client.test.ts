import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";

import { byteByByte, Clock, connectPair, MemoryReactor, StringTransport } from "../../../../fakes/index.js";
import { ConnectionDone, HttpHeaderValueError, HttpResponseParseError, HttpResponseTooLargeError, TimeoutError } from "../../../../runtime/errors.js";
import { formatRequest, httpRequest, HttpClientProtocol } from "../../../../runtime/protocols/http/http-client.js";
import type { HttpClientResponse } from "../../../../runtime/protocols/http/http-client.js";
import { HttpServerFactory } from "../../../../runtime/protocols/http/http-server-factory.js";
import type { HttpHandler } from "../../../../runtime/protocols/http/http-server-factory.js";
import { T0 } from "./http-test-helpers.js";

const text = (r: HttpClientResponse): string => Buffer.from(r.body).toString();

function clientOn(options: ConstructorParameters<typeof HttpClientProtocol>[0] = {}) {
  const transport = new StringTransport();
  const client = transport.attach(new HttpClientProtocol(options));
  return { transport, client, sent: () => Buffer.from(transport.value()).toString("latin1") };
}

function pairWith(handler: HttpHandler, options: ConstructorParameters<typeof HttpClientProtocol>[0] = {}, pairOptions: Parameters<typeof connectPair>[2] = {}) {
  const factory = new HttpServerFactory(new Clock({ start: T0 }), handler);
  const client = new HttpClientProtocol(options);
  const pump = connectPair(factory.buildProtocol({ type: "tcp", host: "c", port: 1 }), client, pairOptions);
  return { client, pump };
}

describe("formatRequest", () => {
  it("formats a request with Host, headers and a Content-Length body as one string", () => {
    expect(formatRequest({ method: "POST", target: "/x?y=1", headers: { "X-A": "b", Accept: ["1", "2"] }, body: "héllo" }, "h:80")).toEqual([
      "POST /x?y=1 HTTP/1.1\r\nX-A: b\r\nAccept: 1\r\nAccept: 2\r\nHost: h:80\r\nContent-Length: 6\r\n\r\nhéllo",
    ]);
    expect(formatRequest({ method: "PUT" })).toEqual(["PUT / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"]);
    expect(formatRequest({ headers: ["Host", "given"] }, "ignored")).toEqual(["GET / HTTP/1.1\r\nHost: given\r\n\r\n"]);
  });

  it("refuses header injection and bad targets", () => {
    expect(() => formatRequest({ headers: { "X-A": "a\r\nEvil: 1" } })).toThrow(HttpHeaderValueError);
    expect(() => formatRequest({ method: "G T" })).toThrow(HttpHeaderValueError);
    expect(() => formatRequest({ target: "/a b" })).toThrow(/target/);
  });
});

describe("HttpClientProtocol", () => {
  it("sends requests one at a time by default and matches responses in order", async () => {
    const { transport, client, sent } = clientOn({ host: "h" });
    const a = client.request({ target: "/a" });
    const b = client.request({ target: "/b" });
    expect(sent()).toBe("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
    expect(client.pending).toBe(2);
    transport.receive("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA");
    expect(sent()).toBe("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    transport.receive("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nB\r\n0\r\n\r\n");
    expect([(await a).status, text(await a), (await b).status, text(await b)]).toEqual([200, "A", 404, "B"]);
    expect(client.pending).toBe(0);
  });

  it("pipelines up to the configured depth", () => {
    const { transport, client, sent } = clientOn({ pipelining: 2 });
    for (const t of ["/1", "/2", "/3"]) void client.request({ target: t });
    expect(sent().match(/GET/g)).toHaveLength(2);
    transport.receive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    expect(sent().match(/GET/g)).toHaveLength(3);
  });

  it("sends preformatted requests as they are and counts discarded bodies", async () => {
    const { transport, client, sent } = clientOn({ discardBodies: true });
    const raw = Buffer.from("GET /raw HTTP/1.1\r\n\r\n");
    const d = client.request({ raw });
    const h = client.request({ raw: "HEAD / HTTP/1.1\r\n\r\n", method: "HEAD" });
    transport.receive("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    const r = await d;
    expect(r.body).toHaveLength(0);
    expect(r.bodyLength).toBe(5);
    expect((await h).bodyLength).toBe(0);
    expect(sent()).toBe("GET /raw HTTP/1.1\r\n\r\nHEAD / HTTP/1.1\r\n\r\n");
  });

  it("fails a response over the body limit with HttpResponseTooLargeError and aborts", async () => {
    const { transport, client } = clientOn({ maxResponseBodySize: 4 });
    const d = client.request({});
    const e = client.request({});
    transport.receive("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    await expect(d).rejects.toBeInstanceOf(HttpResponseTooLargeError);
    await expect(e).rejects.toBeInstanceOf(HttpResponseTooLargeError);
    expect(transport.aborted).toBe(true);
  });

  it("fails a response cut short by the connection's end as incomplete-response, and the rest with the reason", async () => {
    const { transport, client } = clientOn({ pipelining: 2 });
    const d = client.request({});
    const e = client.request({});
    transport.receive("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab");
    transport.reportConnectionLost(new ConnectionDone());
    await expect(d).rejects.toMatchObject({ reason: "incomplete-response" });
    await expect(e).rejects.toBeInstanceOf(HttpResponseParseError);
    await expect(client.request({})).rejects.toBeInstanceOf(HttpResponseParseError);
  });

  it("completes a body delimited by the close", async () => {
    const { transport, client } = clientOn();
    const d = client.request({});
    transport.receive("HTTP/1.0 200 OK\r\n\r\nuntil close");
    transport.reportConnectionLost(new ConnectionDone());
    expect(text(await d)).toBe("until close");
  });

  it("closes after a response without keep-alive and fails what was queued behind it", async () => {
    const { transport, client } = clientOn();
    const d = client.request({});
    const e = client.request({});
    transport.receive("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    expect((await d).keepAlive).toBe(false);
    await expect(e).rejects.toBeInstanceOf(ConnectionDone);
    expect(transport.disconnecting).toBe(true);
  });

  it("aborts the connection when a response Deferred is cancelled", () => {
    const { transport, client } = clientOn();
    const d = client.request({});
    d.addErrback(() => undefined);
    d.cancel();
    expect(transport.aborted).toBe(true);
  });

  it("talks to our server over an in-memory pair, byte by byte, keep-alive and pipelined", async () => {
    const { client, pump } = pairWith(
      async (req, res) => {
        const body = Buffer.from(await req.body()).toString();
        if (req.path === "/stream") {
          res.write("a");
          res.end("b");
        } else res.end(`${req.method} ${req.path} ${body}`);
      },
      { pipelining: 4 },
      { chunking: byteByByte() },
    );
    const ds = [
      client.request({ target: "/one" }),
      client.request({ method: "POST", target: "/two", body: "data" }),
      client.request({ target: "/stream" }),
      client.request({ method: "HEAD", target: "/four" }),
    ];
    for (let i = 0; i < 200 && client.pending > 0; i++) {
      pump.flush();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const rs = await Promise.all(ds);
    expect(rs.map(text)).toEqual(["GET /one ", "POST /two data", "ab", ""]);
    expect(rs[3]?.headers.get("content-length")).toBe(String("HEAD /four ".length));
    expect(pump.server.disconnecting).toBe(false);
  });
});

describe("httpRequest", () => {
  it("connects to the URL's host and port, sends Host and the target, and closes", async () => {
    const reactor = new MemoryReactor({ start: T0 });
    const d = httpRequest(reactor, "http://example.test:8080/path?q=1", { method: "POST", body: "x" });
    const attempt = reactor.tcpClients[0]!;
    expect(attempt.endpoint).toMatchObject({ host: "example.test", port: 8080 });
    let seen = "";
    const server = new HttpServerFactory(reactor, (req, res) => {
      seen = `${req.method} ${req.target} ${req.headers.get("host")}`;
      res.end("ok");
    });
    const pump = attempt.completePair(server.buildProtocol({ type: "tcp", host: "c", port: 1 }));
    pump.flush();
    const r = await d;
    expect(text(r)).toBe("ok");
    expect(seen).toBe("POST /path?q=1 example.test:8080");
    expect(pump.client.disconnecting).toBe(true);
  });

  it("fails with TimeoutError after its timeout and aborts the connection", async () => {
    const reactor = new MemoryReactor();
    const d = httpRequest(reactor, "http://h/", { timeout: 1000 });
    const pump = reactor.tcpClients[0]!.completePair(new HttpServerFactory(reactor, () => {}).buildProtocol({ type: "tcp", host: "c", port: 1 }));
    pump.flush();
    reactor.clock.advance(1000);
    pump.flush();
    await expect(d).rejects.toBeInstanceOf(TimeoutError);
    expect(pump.client.lost).toBe(true);
  });

  it("rejects URLs that are not http", () => {
    expect(() => httpRequest(new MemoryReactor(), "ftp://h/")).toThrow(/url/);
  });
});
