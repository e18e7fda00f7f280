import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";

import { Clock, connectPair, MemoryReactor, StringTransport } from "../../../../fakes/index.js";
import { ConnectionAborted, HandlerFailedError, HttpHeaderValueError, HttpResponseStateError, TimeoutError } from "../../../../runtime/errors.js";
import { Protocol } from "../../../../runtime/protocol.js";
import type { PushProducer } from "../../../../runtime/protocol.js";
import { HttpClientProtocol } from "../../../../runtime/protocols/http/http-client.js";
import type { HttpRequest } from "../../../../runtime/protocols/http/http-request.js";
import type { HttpResponse } from "../../../../runtime/protocols/http/http-response.js";
import { DEFAULT_MAX_PENDING_RESPONSE_BYTES, HttpServerFactory } from "../../../../runtime/protocols/http/http-server-factory.js";
import { parseResponses, serverOn, settle, T0, T0_DATE } from "./http-test-helpers.js";

const hello = (_req: HttpRequest, res: HttpResponse): void => {
  res.end("hello");
};

describe("HttpServerProtocol: responses", () => {
  it("answers with Date from the clock and Content-Length, head and body in one write", () => {
    const s = serverOn(hello);
    const writes: unknown[] = [];
    const write = s.transport.write.bind(s.transport);
    s.transport.write = (data) => {
      writes.push(data);
      write(data);
    };
    s.transport.receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(s.text()).toBe(`HTTP/1.1 200 OK\r\nDate: ${T0_DATE}\r\nContent-Length: 5\r\n\r\nhello`);
    expect(writes).toHaveLength(1);
    expect(s.transport.disconnecting).toBe(false);
  });

  it("writes a Buffer body after the head in the same write, and keeps handler headers in order", () => {
    const s = serverOn((_req, res) => {
      res.setHeader("Content-Type", "application/octet-stream");
      res.appendHeader("Set-Cookie", ["a=1", "b=2"]);
      res.writeHead(201, { "X-Num": 7 });
      res.end(Buffer.from([0, 1, 2]));
    });
    s.transport.receive("POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    expect(s.text()).toBe(
      `HTTP/1.1 201 Created\r\nDate: ${T0_DATE}\r\nContent-Type: application/octet-stream\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Num: 7\r\nContent-Length: 3\r\n\r\n\x00\x01\x02`,
    );
  });

  it("formats Date once per second from the injected clock", () => {
    const s = serverOn(hello);
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    s.clock.advance(999);
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    s.clock.advance(1);
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    const dates = parseResponses(s.text()).responses.map((r) => r.header("date"));
    expect(dates).toEqual([T0_DATE, T0_DATE, "Sun, 06 Nov 1994 08:49:38 GMT"]);
  });

  it("keeps a handler's own Date header instead of adding one", () => {
    const s = serverOn((_req, res) => res.setHeader("date", "Thu, 01 Jan 1970 00:00:00 GMT").end());
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    expect(s.text().match(/date:/gi)).toHaveLength(1);
  });

  it("streams with chunked encoding when the body length is not known", () => {
    const s = serverOn((_req, res) => {
      expect(res.write("hello")).toBe(true);
      res.write(Buffer.from(" world"));
      res.write("");
      res.end("!");
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    expect(s.text()).toBe(
      `HTTP/1.1 200 OK\r\nDate: ${T0_DATE}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n1\r\n!\r\n0\r\n\r\n`,
    );
  });

  it("streams an HTTP/1.0 response until the connection closes", () => {
    const s = serverOn((_req, res) => {
      res.write("a");
      res.end("b");
    });
    s.transport.receive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    expect(s.text()).toBe(`HTTP/1.1 200 OK\r\nDate: ${T0_DATE}\r\nConnection: close\r\n\r\nab`);
    expect(s.transport.disconnecting).toBe(true);
  });

  it("streams with a Content-Length the handler set, and rejects a body that overruns it", () => {
    const s = serverOn((_req, res) => {
      res.setHeader("Content-Length", 3);
      res.write("ab");
      expect(() => res.write("cd")).toThrow(HttpResponseStateError);
      res.end("c");
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    const { responses } = parseResponses(s.text());
    expect(responses[0]?.body).toBe("abc");
    expect(s.transport.disconnecting).toBe(false);
  });

  it("aborts the connection when a streamed body falls short of its Content-Length", () => {
    const s = serverOn((_req, res) => {
      res.setHeader("Content-Length", 10);
      res.write("ab");
      expect(() => res.end()).toThrow(HttpResponseStateError);
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    expect(s.transport.aborted).toBe(true);
  });

  it("sends HEAD responses without a body but with the body's Content-Length", () => {
    const s = serverOn((_req, res) => res.end("hello"));
    s.transport.receive("HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n");
    expect(s.text()).toBe(
      `HTTP/1.1 200 OK\r\nDate: ${T0_DATE}\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nDate: ${T0_DATE}\r\nContent-Length: 5\r\n\r\nhello`,
    );
  });

  it("drops what a handler streams in answer to HEAD", () => {
    const s = serverOn((_req, res) => {
      res.write("ignored");
      res.end();
    });
    s.transport.receive("HEAD / HTTP/1.1\r\n\r\n");
    expect(s.text()).toBe(`HTTP/1.1 200 OK\r\nDate: ${T0_DATE}\r\n\r\n`);
  });

  it.each([204, 304])("sends %i without a body or framing fields", (status) => {
    const s = serverOn((_req, res) => {
      res.writeHead(status);
      res.end("not sent");
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n");
    const reason = status === 204 ? "No Content" : "Not Modified";
    const one = `HTTP/1.1 ${status} ${reason}\r\nDate: ${T0_DATE}\r\n\r\n`;
    expect(s.text()).toBe(one + one);
  });

  it("uses a custom reason phrase and formats unregistered statuses", () => {
    const s = serverOn((req, res) => {
      if (req.path === "/a") res.statusMessage = "Fine";
      res.writeHead(req.path === "/a" ? 200 : 599).end();
    });
    s.transport.receive("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
    expect(s.text()).toContain("HTTP/1.1 200 Fine\r\n");
    expect(s.text()).toContain("HTTP/1.1 599 \r\n");
  });

  it("exposes the request head: method, path, query, version, headers", () => {
    let seen: HttpRequest | null = null;
    const s = serverOn((req, res) => {
      seen = req;
      res.end();
    });
    s.transport.receive("GET /p/q?x=1&y=2#frag HTTP/1.1\r\nHost: h\r\nX-Two: a\r\nx-two: b\r\n\r\n");
    const req = seen as unknown as HttpRequest;
    expect(req.method).toBe("GET");
    expect(req.target).toBe("/p/q?x=1&y=2#frag");
    expect(req.path).toBe("/p/q");
    expect(req.query).toBe("x=1&y=2");
    expect(req.version).toBe("HTTP/1.1");
    expect(req.headers.get("host")).toBe("h");
    expect(req.headers.getAll("X-Two")).toEqual(["a", "b"]);
    expect(req.keepAlive).toBe(true);
    expect(req.remoteAddress.host).toBe("10.0.0.2");
  });
});

describe("HttpServerProtocol: header safety", () => {
  it.each([
    ["X-A", "a\r\nSet-Cookie: evil"],
    ["X-A", "a\nb"],
    ["X-A", "a\rb"],
    ["X-A", "a\0b"],
    ["X-A", "\u0100"],
    ["Bad Name", "v"],
    ["X-A\r\nInjected", "v"],
    ["", "v"],
  ])("setHeader(%j, %j) throws HttpHeaderValueError and sends nothing of it", (name, value) => {
    let thrown: unknown = null;
    const s = serverOn((_req, res) => {
      try {
        res.setHeader(name, value);
      } catch (error) {
        thrown = error;
      }
      res.end("ok");
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    expect(thrown).toBeInstanceOf(HttpHeaderValueError);
    expect((thrown as HttpHeaderValueError).code).toBe("WL_ERR_HTTP_HEADER");
    expect(s.text()).toBe(`HTTP/1.1 200 OK\r\nDate: ${T0_DATE}\r\nContent-Length: 2\r\n\r\nok`);
  });

  it("rejects injection through writeHead and through the reason phrase's use", () => {
    const s = serverOn((_req, res) => {
      expect(() => res.writeHead(200, { "X-A": "1\r\n\r\nbody" })).toThrow(HttpHeaderValueError);
      expect(() => res.writeHead(200, ["X-B", "a\nb"])).toThrow(HttpHeaderValueError);
      res.end();
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    expect(s.text()).not.toContain("body");
  });

  it("sends latin1 header values byte for byte", () => {
    const s = serverOn((_req, res) => res.setHeader("X-L", "caf\xe9").end("é"));
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    const bytes = Buffer.from(s.transport.value());
    expect(bytes.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d]))).toBe(true);
    expect(bytes.subarray(bytes.length - 2)).toEqual(Buffer.from("é"));
    expect(s.text()).toContain("Content-Length: 2\r\n");
  });

  it("refuses header changes after the head went out", () => {
    const s = serverOn((_req, res) => {
      res.write("x");
      expect(() => res.setHeader("X", "y")).toThrow(HttpResponseStateError);
      res.end();
      expect(() => res.write("more")).toThrow(HttpResponseStateError);
      res.end();
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    expect(parseResponses(s.text()).responses).toHaveLength(1);
  });
});

describe("HttpServerProtocol: keep-alive", () => {
  it("keeps HTTP/1.1 connections open by default", () => {
    const s = serverOn(hello);
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    expect(parseResponses(s.text()).responses).toHaveLength(2);
    expect(s.text()).not.toContain("Connection");
    expect(s.transport.disconnecting).toBe(false);
  });

  it("closes after an HTTP/1.1 request with Connection: close", () => {
    const s = serverOn(hello);
    s.transport.receive("GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\n\r\n");
    expect(s.text()).toBe(`HTTP/1.1 200 OK\r\nDate: ${T0_DATE}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`);
    expect(s.transport.disconnecting).toBe(true);
  });

  it("closes after HTTP/1.0 without keep-alive, keeps it with Connection: keep-alive", () => {
    const a = serverOn(hello);
    a.transport.receive("GET / HTTP/1.0\r\n\r\n");
    expect(a.text()).toContain("Connection: close\r\n");
    expect(a.transport.disconnecting).toBe(true);

    const b = serverOn(hello);
    b.transport.receive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    expect(b.text()).toContain("Connection: keep-alive\r\n");
    expect(b.transport.disconnecting).toBe(false);
  });

  it("closes after a response whose handler set Connection: close", () => {
    const s = serverOn((_req, res) => res.setHeader("Connection", "close").end());
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    expect(s.text().match(/Connection/g)).toHaveLength(1);
    expect(s.transport.disconnecting).toBe(true);
  });

  it("answers what a half-closed client asked, then closes", () => {
    const s = serverOn(hello);
    s.transport.receive("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
    s.protocol.readConnectionLost();
    expect(parseResponses(s.text()).responses).toHaveLength(2);
    expect(s.transport.disconnecting).toBe(true);
  });

  it("carries several exchanges with our client over an in-memory pair", async () => {
    const clock = new Clock({ start: T0 });
    const factory = new HttpServerFactory(clock, (req, res) => res.end(`you asked ${req.path}`));
    const client = new HttpClientProtocol();
    const pump = connectPair(factory.buildProtocol({ type: "tcp", host: "c", port: 1 }), client);
    for (const path of ["/a", "/b", "/c"]) {
      const d = client.request({ target: path });
      pump.flush();
      const r = await d;
      expect(Buffer.from(r.body).toString()).toBe(`you asked ${path}`);
    }
    expect(pump.server.disconnecting).toBe(false);
  });
});

describe("HttpServerProtocol: pipelining", () => {
  it("answers pipelined requests in order while a slow async handler holds the first", async () => {
    const calls: string[] = [];
    const s = serverOn(async (req, res) => {
      calls.push(`start ${req.path}`);
      if (req.path === "/slow") {
        await new Promise<void>((resolve) => s.clock.callLater(100, resolve));
      }
      calls.push(`end ${req.path}`);
      res.end(req.path);
    });
    s.transport.receive("GET /slow HTTP/1.1\r\n\r\nGET /fast HTTP/1.1\r\n\r\nGET /third HTTP/1.1\r\n\r\n");
    await settle();
    expect(calls).toEqual(["start /slow"]);
    expect(s.transport.producerState).toBe("paused");
    expect(s.text()).toBe("");
    await s.clock.advanceAsync(100);
    await settle();
    expect(calls).toEqual(["start /slow", "end /slow", "start /fast", "end /fast", "start /third", "end /third"]);
    expect(parseResponses(s.text()).responses.map((r) => r.body)).toEqual(["/slow", "/fast", "/third"]);
    expect(s.transport.producerState).toBe("producing");
  });

  it("writes all the responses to one read of pipelined requests in one transport write", () => {
    const s = serverOn(hello);
    let writes = 0;
    const original = { write: s.transport.write.bind(s.transport), seq: s.transport.writeSequence.bind(s.transport) };
    s.transport.write = (d) => {
      writes++;
      original.write(d);
    };
    s.transport.writeSequence = (d) => {
      writes++;
      original.seq(d);
    };
    s.transport.receive("GET / HTTP/1.1\r\n\r\n".repeat(10));
    expect(writes).toBe(1);
    expect(parseResponses(s.text()).responses).toHaveLength(10);
  });
});

describe("HttpServerProtocol: a client that pipelines and does not read", () => {
  const three = "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n";

  it("takes no new request while the transport is full and responses wait unsent; goes on when it drains", () => {
    const s = serverOn((req, res) => res.end(req.path), { maxPendingResponseBytes: 0 });
    s.transport.simulateBufferFull();
    s.transport.receive(three);
    expect(parseResponses(s.text()).responses.map((r) => r.body)).toEqual(["/1"]);
    expect(s.protocol.waitingForDrain).toBe(true);
    expect(s.protocol.unparsedBytes).toBe(38);
    expect(s.transport.producerState).toBe("paused");
    s.transport.simulateBufferDrained();
    expect(parseResponses(s.text()).responses.map((r) => r.body)).toEqual(["/1", "/2", "/3"]);
    expect(s.protocol.waitingForDrain).toBe(false);
    expect(s.transport.producerState).toBe("producing");
  });

  it("the same with an async handler", async () => {
    const s = serverOn(
      async (req, res) => {
        await Promise.resolve();
        res.end(req.path);
      },
      { maxPendingResponseBytes: 0 },
    );
    s.transport.simulateBufferFull();
    s.transport.receive(three);
    await settle();
    expect(parseResponses(s.text()).responses.map((r) => r.body)).toEqual(["/1"]);
    expect(s.protocol.waitingForDrain).toBe(true);
    s.transport.simulateBufferDrained();
    await settle();
    expect(parseResponses(s.text()).responses.map((r) => r.body)).toEqual(["/1", "/2", "/3"]);
  });

  it("goes on while the unsent bytes are within maxPendingResponseBytes, and stops past it", () => {
    const body = "x".repeat(10_000);
    const s = serverOn((_req, res) => res.end(body));
    s.transport.simulateBufferFull();
    s.transport.receive("GET / HTTP/1.1\r\n\r\n".repeat(10));
    const answered = parseResponses(s.text()).responses.length;
    // Each response is 10,000 bytes and a head: the 7th takes the total past 64 KiB.
    expect(answered).toBe(7);
    expect(s.protocol.pendingResponseBytes).toBeGreaterThan(DEFAULT_MAX_PENDING_RESPONSE_BYTES);
    expect(s.protocol.pendingResponseBytes - DEFAULT_MAX_PENDING_RESPONSE_BYTES).toBeLessThan(body.length + 200);
    s.transport.clear();
    s.transport.simulateBufferDrained();
    expect(parseResponses(s.text()).responses).toHaveLength(3);
  });

  it("does not time the wait out: the next request is the client's to read for", async () => {
    const s = serverOn((req, res) => res.end(req.path), { maxPendingResponseBytes: 0, headersTimeout: 100, keepAliveTimeout: 100 });
    s.transport.simulateBufferFull();
    s.transport.receive(three);
    await s.clock.advanceAsync(10_000);
    expect(s.transport.disconnecting).toBe(false);
    s.transport.simulateBufferDrained();
    expect(parseResponses(s.text()).responses).toHaveLength(3);
  });

  it("rejects a maxPendingResponseBytes that is not an integer >= 0", () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity]) {
      expect(() => new HttpServerFactory(new Clock(), hello, { maxPendingResponseBytes: bad })).toThrow(/maxPendingResponseBytes/);
    }
  });
});

describe("HttpServerProtocol: request bodies", () => {
  it("buffers a Content-Length body for await request.body()", async () => {
    const s = serverOn(async (req, res) => {
      const body = await req.body();
      res.end(`got ${Buffer.from(body).toString()}`);
    });
    s.transport.receive("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello");
    s.transport.receive(" world");
    await settle();
    expect(parseResponses(s.text()).responses[0]?.body).toBe("got hello world");
  });

  it("decodes a chunked body with trailers, streamed through onData/onEnd", () => {
    const chunks: string[] = [];
    let trailer: string | undefined;
    const s = serverOn((req, res) => {
      req.onData((c) => chunks.push(Buffer.from(c).toString())).onEnd((t) => {
        trailer = t.get("x-sum");
        res.end(chunks.join(""));
      });
    });
    s.transport.receive("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\nX-Sum: 6\r\n\r\n");
    expect(chunks).toEqual(["hello", "!"]);
    expect(trailer).toBe("6");
    expect(parseResponses(s.text()).responses[0]?.body).toBe("hello!");
  });

  it("iterates over a body with for await", async () => {
    const s = serverOn(async (req, res) => {
      let n = 0;
      for await (const chunk of req) n += chunk.length;
      res.end(String(n));
    });
    s.transport.receive("POST / HTTP/1.1\r\nContent-Length: 6\r\n\r\nab");
    await settle();
    s.transport.receive("cd");
    await settle();
    s.transport.receive("ef");
    await settle();
    expect(parseResponses(s.text()).responses[0]?.body).toBe("6");
  });

  it("pauses the transport while a reader holds the body paused", () => {
    let request: HttpRequest | null = null;
    const s = serverOn((req) => {
      request = req;
      req.onData(() => req.pause());
    });
    s.transport.receive("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab");
    expect(s.transport.producerState).toBe("paused");
    (request as unknown as HttpRequest).resume();
    expect(s.transport.producerState).toBe("producing");
  });

  it("discards the body of a request answered before it was read, then serves the next", () => {
    const s = serverOn((req, res) => res.end(req.method));
    s.transport.receive("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab");
    s.transport.receive("cde");
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    expect(parseResponses(s.text()).responses.map((r) => r.body)).toEqual(["POST", "GET"]);
  });
});

describe("HttpServerProtocol: Expect: 100-continue", () => {
  const expectRequest = "POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";

  it("sends 100 Continue when the handler starts reading the body, not before", async () => {
    let go: () => void = () => {};
    const s = serverOn(async (req, res) => {
      await new Promise<void>((resolve) => (go = resolve));
      const body = await req.body();
      res.end(body);
    });
    s.transport.receive(expectRequest);
    await settle();
    expect(s.text()).toBe("");
    go();
    await settle();
    expect(s.text()).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    s.transport.receive("hello");
    await settle();
    expect(s.text()).toBe(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nDate: ${T0_DATE}\r\nContent-Length: 5\r\n\r\nhello`);
    expect(s.transport.disconnecting).toBe(false);
  });

  it("never sends 100 when the handler answers without reading, and closes after", () => {
    const s = serverOn((_req, res) => res.writeHead(417).end());
    s.transport.receive(expectRequest);
    expect(s.text()).toBe(`HTTP/1.1 417 Expectation Failed\r\nDate: ${T0_DATE}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    expect(s.transport.disconnecting).toBe(true);
  });
});

describe("HttpServerProtocol: timeouts", () => {
  it("closes an idle keep-alive connection quietly at the keep-alive timeout", () => {
    const s = serverOn(hello, { keepAliveTimeout: 5000 });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    s.transport.clear();
    s.clock.advance(4999);
    expect(s.transport.disconnecting).toBe(false);
    s.clock.advance(1);
    expect(s.transport.disconnecting).toBe(true);
    expect(s.text()).toBe("");
  });

  it("measures the keep-alive timeout from the latest response", () => {
    const s = serverOn(hello, { keepAliveTimeout: 5000 });
    s.clock.advance(3000);
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    s.clock.advance(4000);
    expect(s.transport.disconnecting).toBe(false);
    s.clock.advance(1000);
    expect(s.transport.disconnecting).toBe(true);
  });

  it("answers 408 and closes a slowloris that trickles headers past the headers timeout", () => {
    const s = serverOn(hello, { headersTimeout: 10_000, keepAliveTimeout: 5000 });
    s.transport.receive("GET / HTTP/1.1\r\n");
    for (let i = 0; i < 9; i++) {
      s.clock.advance(1000);
      s.transport.receive(`X-${i}: y\r\n`);
      expect(s.transport.disconnecting).toBe(false);
    }
    s.clock.advance(999);
    expect(s.transport.disconnecting).toBe(false);
    s.clock.advance(1);
    expect(s.transport.disconnecting).toBe(true);
    expect(s.text()).toBe(`HTTP/1.1 408 Request Timeout\r\nDate: Sun, 06 Nov 1994 08:49:47 GMT\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  });

  it("applies the headers timeout when it is shorter than the keep-alive timeout", () => {
    const s = serverOn(hello, { headersTimeout: 300, keepAliveTimeout: 5000 });
    s.transport.receive("GET / HTT");
    s.clock.advance(300);
    expect(s.transport.disconnecting).toBe(true);
    expect(s.text()).toContain("408");
  });

  it("fails a stalled body with TimeoutError and answers 408 at the body timeout", async () => {
    let failure: unknown = null;
    const s = serverOn(
      async (req, res) => {
        try {
          await req.body();
        } catch (error) {
          failure = error;
        }
        res.end("late");
      },
      { bodyTimeout: 30_000 },
    );
    s.transport.receive("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    s.clock.advance(20_000);
    s.transport.receive("de");
    s.clock.advance(29_999);
    expect(s.transport.disconnecting).toBe(false);
    s.clock.advance(1);
    await settle();
    expect(failure).toBeInstanceOf(TimeoutError);
    expect(s.text()).toContain("HTTP/1.1 408 Request Timeout\r\n");
    expect(s.transport.disconnecting).toBe(true);
  });

  it("does not time a body while the handler holds it paused, nor a handler that takes its time", () => {
    const s = serverOn((req) => {
      req.onData(() => req.pause());
    }, { bodyTimeout: 1000, headersTimeout: 1000, keepAliveTimeout: 1000 });
    s.transport.receive("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab");
    s.clock.advance(60_000);
    expect(s.transport.disconnecting).toBe(false);
  });

  it("disables a timeout set to 0", () => {
    const s = serverOn(hello, { keepAliveTimeout: 0, headersTimeout: 0 });
    s.transport.receive("GET / HTTP/1.1\r\n\r\nGET");
    s.clock.advance(3_600_000);
    expect(s.transport.disconnecting).toBe(false);
    expect(s.clock.pendingCalls()).toHaveLength(0);
  });
});

describe("HttpServerProtocol: rejections", () => {
  const cases: [string, string, number, Parameters<typeof serverOn>[1]][] = [
    ["oversized header section", `GET / HTTP/1.1\r\nX: ${"a".repeat(200)}\r\n\r\n`, 431, { maxHeaderSize: 100 }],
    ["too many headers", `GET / HTTP/1.1\r\n${"A: b\r\n".repeat(5)}\r\n`, 431, { maxHeaderCount: 4 }],
    ["request line too long", `GET /${"a".repeat(100)} HTTP/1.1\r\n\r\n`, 414, { maxRequestLineLength: 50 }],
    ["body too large", "POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413, { maxBodySize: 100 }],
    ["Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, {}],
    ["duplicate Content-Length", "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400, {}],
    ["malformed request line", "GET  / HTTP/1.1\r\n\r\n", 400, {}],
    ["bare LF", "GET / HTTP/1.1\nHost: x\n\n", 400, {}],
    ["unsupported version", "GET / HTTP/2.0\r\n\r\n", 505, {}],
  ];

  it.each(cases)("%s: %j → %i, Connection: close, closed", (_name, wire, status, options) => {
    let calls = 0;
    const s = serverOn(
      (_req, res) => {
        calls++;
        res.end();
      },
      options,
    );
    s.transport.receive(wire);
    const { responses } = parseResponses(s.text());
    expect(responses.map((r) => r.status)).toEqual([status]);
    expect(responses[0]?.header("connection")).toBe("close");
    expect(responses[0]?.header("content-length")).toBe("0");
    expect(s.transport.disconnecting).toBe(true);
    expect(calls).toBe(0);
  });

  it("answers a malformed chunked body with 400 even after the handler started, if nothing was sent", () => {
    let closed: Error | null = null;
    let bodyError: unknown = null;
    const s = serverOn((req, res) => {
      res.onClose((reason) => (closed = reason));
      req.body().addErrback((e: unknown) => (bodyError = e));
    });
    s.transport.receive("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    expect(parseResponses(s.text()).responses.map((r) => r.status)).toEqual([400]);
    expect(closed).not.toBeNull();
    expect(bodyError).toBe(closed);
    expect(s.transport.disconnecting).toBe(true);
  });

  it("answers an oversized chunked body with 413 once its chunks pass the limit", () => {
    const s = serverOn((req) => void req.body().addErrback(() => undefined), { maxBodySize: 8 });
    s.transport.receive("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\n");
    expect(parseResponses(s.text()).responses.map((r) => r.status)).toEqual([413]);
  });

  it("answers the requests before a malformed one, then rejects it", () => {
    const s = serverOn(hello);
    s.transport.receive("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nBad Header: x\r\n\r\n");
    expect(parseResponses(s.text()).responses.map((r) => r.status)).toEqual([200, 400]);
  });
});

describe("HttpServerProtocol: failing handlers", () => {
  it("answers 500 for a handler that throws, and reports the error", () => {
    const boom = new Error("boom");
    const s = serverOn(() => {
      throw boom;
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    expect(parseResponses(s.text()).responses.map((r) => r.status)).toEqual([500]);
    expect(s.errors).toHaveLength(1);
    expect(s.errors[0]).toBeInstanceOf(HandlerFailedError);
    expect(s.errors[0]?.cause).toBe(boom);
    expect(s.transport.disconnecting).toBe(true);
  });

  it("answers 500 for an async handler whose promise rejects", async () => {
    const s = serverOn(async () => {
      await Promise.resolve();
      throw new Error("async boom");
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    await settle();
    expect(parseResponses(s.text()).responses.map((r) => r.status)).toEqual([500]);
    expect(s.errors).toHaveLength(1);
  });

  it("aborts the connection when a handler throws after the head was sent", () => {
    let closedWith: Error | null = null;
    const s = serverOn((_req, res) => {
      res.onClose((reason) => (closedWith = reason));
      res.write("partial");
      throw new Error("midway");
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    expect(s.transport.aborted).toBe(true);
    expect((closedWith as Error | null)?.message).toBe("midway");
    expect(s.errors).toHaveLength(1);
  });

  it("only reports a rejection that comes after the response was finished", async () => {
    const s = serverOn(async (_req, res) => {
      res.end("fine");
      await Promise.resolve();
      throw new Error("late");
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    await settle();
    expect(parseResponses(s.text()).responses.map((r) => r.status)).toEqual([200]);
    expect(s.errors).toHaveLength(1);
    expect(s.transport.disconnecting).toBe(false);
  });
});

/** A push producer that writes `total` chunks of `size` bytes whenever it is not paused. */
class ChunkProducer implements PushProducer {
  paused = false;
  stopped = false;
  pauses = 0;
  written = 0;

  constructor(
    private readonly response: HttpResponse,
    private readonly total: number,
    private readonly size: number,
  ) {}

  start(): void {
    this.response.registerProducer(this);
    this.pump();
  }

  pauseProducing(): void {
    this.paused = true;
    this.pauses++;
  }

  resumeProducing(): void {
    this.paused = false;
    this.pump();
  }

  stopProducing(): void {
    this.stopped = true;
  }

  private pump(): void {
    while (!this.paused && !this.stopped && this.written < this.total) {
      this.written++;
      this.response.write(Buffer.alloc(this.size, 0x61));
    }
    if (this.written === this.total && !this.stopped) {
      this.response.unregisterProducer();
      this.response.end();
      this.written++;
    }
  }
}

describe("HttpServerProtocol: backpressure and disconnects", () => {
  it("pauses the handler's producer while the client does not read, keeping the buffer bounded", async () => {
    const clock = new Clock({ start: T0 });
    let producer: ChunkProducer | null = null;
    const factory = new HttpServerFactory(clock, (_req, res) => {
      producer = new ChunkProducer(res, 200, 1024);
      producer.start();
    });
    const client = new HttpClientProtocol({ discardBodies: true });
    const pump = connectPair(factory.buildProtocol({ type: "tcp", host: "c", port: 1 }), client, { highWaterMark: 16 * 1024 });
    const d = client.request({ target: "/big" });
    pump.pump();
    pump.client.pauseProducing();
    pump.flush();
    const p = producer as unknown as ChunkProducer;
    expect(p.paused).toBe(true);
    expect(p.written).toBeLessThan(200);
    expect(pump.server.writeBufferSize).toBeLessThanOrEqual(16 * 1024 + 1100);
    pump.client.resumeProducing();
    pump.flush();
    const r = await d;
    expect(r.bodyLength).toBe(200 * 1024);
    expect(p.pauses).toBeGreaterThan(0);
    expect(p.stopped).toBe(false);
  });

  it("tells an async writer to wait with write() === false and resumes it on drain", async () => {
    const s = serverOn(async (_req, res) => {
      let n = 0;
      while (n < 3) {
        n++;
        if (!res.write(`part${n}`)) await res.drained();
      }
      res.end();
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    await settle();
    expect(parseResponses(s.text()).responses).toHaveLength(1);

    const t = serverOn(async (_req, res) => {
      res.write("a");
      s.transport.simulateBufferFull();
      t.transport.simulateBufferFull();
      expect(res.write("b")).toBe(false);
      await res.drained();
      res.end("c");
    });
    t.transport.receive("GET / HTTP/1.1\r\n\r\n");
    await settle();
    expect(t.text()).not.toContain("0\r\n\r\n");
    t.transport.simulateBufferDrained();
    await settle();
    expect(parseResponses(t.text()).responses[0]?.body).toBe("abc");
  });

  it("stops the producer and fires onClose when the client disconnects mid-response", () => {
    let producer: ChunkProducer | null = null;
    let closedWith: Error | null = null;
    const s = serverOn((_req, res) => {
      res.onClose((reason) => (closedWith = reason));
      producer = new ChunkProducer(res, 1000, 100);
      res.registerProducer(producer);
      res.write("first");
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    s.transport.simulateBufferFull();
    const reason = new Error("reset");
    s.transport.reportConnectionLost(reason);
    expect((producer as unknown as ChunkProducer).stopped).toBe(true);
    expect(closedWith).toBe(reason);
  });

  it("ignores writes to a response whose client is gone", () => {
    let response: HttpResponse | null = null;
    const s = serverOn((_req, res) => {
      response = res;
      res.write("x");
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    s.transport.reportConnectionLost();
    const res = response as unknown as HttpResponse;
    expect(res.closed).toBe(true);
    expect(res.write("more")).toBe(false);
    expect(() => res.end("done")).not.toThrow();
  });
});

describe("HttpServerProtocol: upgrade", () => {
  class Echo extends Protocol {
    override dataReceived(data: Uint8Array): void {
      this.transport.write(data);
    }
  }

  it("switches protocols: 101, then the raw transport and the bytes after the request go to the new protocol", () => {
    const echo = new Echo();
    const s = serverOn((req, res) => {
      expect(req.upgrade).toBe(true);
      res.upgrade(echo, { Upgrade: "echo", Connection: "Upgrade" });
    });
    s.transport.receive("GET /ws HTTP/1.1\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nearly");
    s.transport.receive(" later");
    expect(s.text()).toBe("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nearly later");
    expect(echo.transport).toBe(s.transport);
    expect(s.transport.producer).toBeNull();
    s.clock.advance(60_000);
    expect(s.transport.disconnecting).toBe(false);
  });

  it("CONNECT with a Content-Length: the tunnel gets every byte after the head, and upgrade() works at once", () => {
    const echo = new Echo();
    const s = serverOn((req, res) => {
      expect(req.method).toBe("CONNECT");
      expect(req.complete).toBe(true);
      res.upgrade(echo, {}, 200);
    });
    // A client that sends Content-Length and then, at once, its TLS ClientHello.
    s.transport.receive("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 4\r\n\r\n\x16\x03\x01hello");
    expect(s.text()).toBe("HTTP/1.1 200 OK\r\n\r\n\x16\x03\x01hello");
    expect(echo.transport).toBe(s.transport);
  });

  it("declining an upgrade goes on with HTTP", () => {
    const s = serverOn((req, res) => res.end(req.upgrade ? "no" : "plain"));
    s.transport.receive("GET / HTTP/1.1\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\nGET / HTTP/1.1\r\n\r\n");
    expect(parseResponses(s.text()).responses.map((r) => r.body)).toEqual(["no", "plain"]);
  });

  it("refuses upgrade() for a request that did not ask", () => {
    const s = serverOn((_req, res) => {
      expect(() => res.upgrade(new Echo())).toThrow(HttpResponseStateError);
      res.end();
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    expect(parseResponses(s.text()).responses).toHaveLength(1);
  });
});

describe("HttpServerProtocol: more life-cycle", () => {
  it("closes each connection after its current response once the factory is closing", () => {
    const s = serverOn(hello);
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    expect(s.transport.disconnecting).toBe(false);
    s.factory.closing = true;
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    const { responses } = parseResponses(s.text());
    expect(responses.map((r) => r.header("connection"))).toEqual([undefined, "close"]);
    expect(s.transport.disconnecting).toBe(true);
  });

  it("switches protocols from an async handler, handing over bytes that arrived meanwhile", async () => {
    const received: string[] = [];
    class Recorder extends Protocol {
      override dataReceived(data: Uint8Array): void {
        received.push(Buffer.from(data).toString());
      }
    }
    const s = serverOn(async (_req, res) => {
      await Promise.resolve();
      res.upgrade(new Recorder(), ["Upgrade", "x", "Connection", "Upgrade"]);
    });
    s.transport.receive("GET / HTTP/1.1\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\nfirst");
    s.transport.receive("second");
    expect(s.transport.producerState).toBe("paused");
    await settle();
    expect(s.text()).toBe("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n");
    expect(received).toEqual(["firstsecond"]);
    expect(s.transport.producerState).toBe("producing");
    s.transport.receive("third");
    expect(received).toEqual(["firstsecond", "third"]);
  });

  it("fires onFinish once the whole response is handed to the transport", () => {
    const order: string[] = [];
    const s = serverOn((_req, res) => {
      res.onFinish(() => order.push("finish"));
      res.write("a");
      order.push("wrote");
      res.end();
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    expect(order).toEqual(["wrote", "finish"]);
  });

  it("pauses a request body iterated slowly once 64 KiB wait unread", async () => {
    let release: () => void = () => {};
    let total = 0;
    const s = serverOn(async (req, res) => {
      await new Promise<void>((resolve) => (release = resolve));
      for await (const chunk of req) total += chunk.length;
      res.end(String(total));
    });
    s.transport.receive("POST / HTTP/1.1\r\nContent-Length: 131072\r\n\r\n");
    // The iterator attaches only once the handler gets there; before that, chunks are held.
    release();
    await settle();
    // One chunk goes straight to the waiting loop; the next five queue up past 64 KiB.
    for (let i = 0; i < 6; i++) s.transport.receive(Buffer.alloc(16 * 1024));
    expect(s.transport.producerState).toBe("paused");
    await settle();
    expect(s.transport.producerState).toBe("producing");
    for (let i = 0; i < 2; i++) s.transport.receive(Buffer.alloc(16 * 1024));
    await settle();
    expect(parseResponses(s.text()).responses[0]?.body).toBe("131072");
  });
});

describe("HttpServerFactory options", () => {
  it("rejects a negative timeout, naming the option", () => {
    expect(() => new HttpServerFactory(new Clock(), hello, { headersTimeout: -1 })).toThrow(/headersTimeout/);
    expect(() => new StringTransport().attach(new HttpServerFactory(new Clock(), hello, { maxHeaderSize: 0 }).buildProtocol({ type: "tcp", host: "", port: 0 }))).toThrow(/maxHeaderSize/);
  });
});

describe("HttpServerFactory.shutdown: graceful", () => {
  it("closes an idle keep-alive connection at once (lingering: FIN first, the socket when the client closes) and fires when none is left", () => {
    const s = serverOn(hello);
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    let done = false;
    void s.factory.shutdown().addCallback(() => {
      done = true;
    });
    expect(s.factory.shuttingDown).toBe(true);
    expect(s.transport.writeDisconnected).toBe(true);
    expect(done).toBe(false);
    // A request the client sent meanwhile is read and dropped, never answered.
    s.transport.receive("GET /late HTTP/1.1\r\n\r\n");
    s.protocol.readConnectionLost();
    expect(s.transport.disconnecting).toBe(true);
    s.transport.reportConnectionLost();
    expect(done).toBe(true);
    expect(parseResponses(s.text()).responses).toHaveLength(1);
  });

  it("answers the request in flight with Connection: close, then closes; pipelined requests behind it never start", () => {
    let respond: (() => void) | null = null;
    const seen: string[] = [];
    const s = serverOn((req, res) => {
      seen.push(req.target);
      respond = () => res.end("slow");
    });
    s.transport.receive("GET /first HTTP/1.1\r\n\r\nGET /second HTTP/1.1\r\n\r\n");
    void s.factory.shutdown();
    expect(s.transport.writeDisconnected).toBe(false);
    respond!();
    const { responses } = parseResponses(s.text());
    expect(responses.map((r) => [r.body, r.header("connection")])).toEqual([["slow", "close"]]);
    expect(seen).toEqual(["/first"]);
    expect(s.transport.writeDisconnected).toBe(true);
  });

  it("a response whose head left before the shutdown is finished, then the connection closes", () => {
    let finish: (() => void) | null = null;
    const s = serverOn((_req, res) => {
      res.write("part one, ");
      finish = () => res.end("part two");
    });
    s.transport.receive("GET / HTTP/1.1\r\n\r\n");
    void s.factory.shutdown();
    finish!();
    const { responses } = parseResponses(s.text());
    expect(responses.map((r) => r.body)).toEqual(["part one, part two"]);
    expect(s.transport.writeDisconnected).toBe(true);
  });

  it("an upgraded connection hears goingAway(); a connection made during the shutdown is closed at once", () => {
    const calls: string[] = [];
    class Tunnel extends Protocol {
      override goingAway(): void {
        calls.push("goingAway");
        this.transport.loseConnection();
      }
    }
    const s = serverOn((_req, res) => res.upgrade(new Tunnel(), { Upgrade: "x", Connection: "Upgrade" }));
    s.transport.receive("GET / HTTP/1.1\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n");
    void s.factory.shutdown();
    expect(calls).toEqual(["goingAway"]);
    const late = new StringTransport();
    late.attach(s.factory.buildProtocol({ type: "tcp", host: "127.0.0.1", port: 2 }));
    expect(late.disconnecting).toBe(true);
    late.receive("GET / HTTP/1.1\r\n\r\n");
    expect(late.value()).toHaveLength(0);
  });

  it("aborts what is still open at the deadline", () => {
    const s = serverOn(() => undefined, { shutdownTimeout: 250 });
    s.transport.receive("GET /never HTTP/1.1\r\n\r\n");
    let done = false;
    void s.factory.shutdown().addCallback(() => {
      done = true;
    });
    s.clock.advance(249);
    expect(s.transport.aborted).toBe(false);
    s.clock.advance(1);
    expect(s.transport.aborted).toBe(true);
    s.transport.reportConnectionLost(new ConnectionAborted());
    expect(done).toBe(true);
    expect(s.clock.pendingCalls()).toHaveLength(0);
  });

  it("listening with a reactor registers the shutdown: reactor.stop() waits for the drain, then closes the rest", () => {
    const reactor = new MemoryReactor();
    void reactor.run();
    let respond: (() => void) | null = null;
    const server = new HttpServerFactory(reactor, (_req, res) => {
      respond = () => res.end("done");
    });
    void reactor.listen("tcp:80", server);
    const { transport } = reactor.tcpServers[0]!.accept();
    transport.receive("GET / HTTP/1.1\r\n\r\n");
    let stopped = false;
    void reactor.stop().addCallback(() => {
      stopped = true;
    });
    expect(stopped).toBe(false);
    expect(reactor.running).toBe(true);
    respond!();
    expect(parseResponses(Buffer.from(transport.value()).toString("latin1")).responses[0]!.header("connection")).toBe("close");
    expect(transport.writeDisconnected).toBe(true);
    transport.reportConnectionLost();
    expect(stopped).toBe(true);
  });

  it("shutdownTimeout must be a non-negative number", () => {
    expect(() => new HttpServerFactory(new Clock(), hello, { shutdownTimeout: -1 })).toThrow(/shutdownTimeout/);
  });
});
