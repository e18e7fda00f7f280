import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { HttpResponseParseError, HttpResponseTooLargeError } from "../../../../runtime/errors.js";
import { ResponseParser } from "../../../../runtime/protocols/http/response-parser.js";
import type { ResponseHead, ResponseParserOptions } from "../../../../runtime/protocols/http/response-parser.js";

type Event =
  | { type: "head"; status: number; reason: string; keepAlive: boolean; bodyKind: string; headers: [string, string][] }
  | { type: "body"; data: string }
  | { type: "complete"; trailers: [string, string][] }
  | { type: "error"; reason: string; code: string };

function record(options: ResponseParserOptions = {}, headFor: (head: ResponseHead) => boolean = () => false) {
  const events: Event[] = [];
  const parser = new ResponseParser(
    {
      onResponseHead(head) {
        events.push({ type: "head", status: head.status, reason: head.reason, keepAlive: head.keepAlive, bodyKind: head.bodyKind, headers: [...head.headers] });
        return headFor(head);
      },
      onBody(chunk) {
        const last = events[events.length - 1];
        const text = Buffer.from(chunk).toString("latin1");
        // Merge adjacent body events, so that the split of the input does not show.
        if (last?.type === "body") last.data += text;
        else events.push({ type: "body", data: text });
      },
      onResponseComplete(trailers) {
        events.push({ type: "complete", trailers: [...trailers] });
      },
      onError(error) {
        events.push({ type: "error", reason: error.reason, code: error.code });
      },
    },
    options,
  );
  return { parser, events, feed: (s: string) => parser.execute(Buffer.from(s, "latin1")) };
}

describe("ResponseParser", () => {
  it("parses a Content-Length response, names lowercased and values trimmed", () => {
    const { events, feed } = record();
    feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Thing:  a b \r\n\r\nhello");
    expect(events).toEqual([
      { type: "head", status: 200, reason: "OK", keepAlive: true, bodyKind: "length", headers: [["content-length", "5"], ["x-thing", "a b"]] },
      { type: "body", data: "hello" },
      { type: "complete", trailers: [] },
    ]);
  });

  it("parses chunked bodies with extensions and trailers, then the next response", () => {
    const { events, feed } = record();
    feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
    expect(events).toEqual([
      { type: "head", status: 200, reason: "OK", keepAlive: true, bodyKind: "chunked", headers: [["transfer-encoding", "chunked"]] },
      { type: "body", data: "abc0123456789" },
      { type: "complete", trailers: [["x-t", "1"]] },
      { type: "head", status: 204, reason: "No Content", keepAlive: true, bodyKind: "none", headers: [] },
      { type: "complete", trailers: [] },
    ]);
  });

  it("reads a body without framing until the connection closes", () => {
    const { parser, events, feed } = record();
    feed("HTTP/1.0 200 OK\r\n\r\nsome");
    feed(" bytes");
    expect(events.at(-1)).toEqual({ type: "body", data: "some bytes" });
    parser.finish();
    expect(events.at(-1)).toEqual({ type: "complete", trailers: [] });
    expect(events[0]).toMatchObject({ keepAlive: false, bodyKind: "close" });
  });

  it("skips 1xx interim responses and reports 101 as final, then stops", () => {
    const { events, feed, parser } = record();
    feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    expect(events.map((e) => (e.type === "head" ? e.status : e.type))).toEqual([200, "complete"]);
    const up = record();
    up.feed("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nraw bytes");
    expect(up.events.map((e) => e.type)).toEqual(["head", "complete"]);
    expect(up.parser.isStopped).toBe(true);
    expect(parser.isStopped).toBe(false);
  });

  it("reads no body after a head the callback marks as the answer to HEAD, and stays keep-alive", () => {
    const { events, feed } = record({}, () => true);
    feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
    expect(events.filter((e) => e.type === "complete")).toHaveLength(2);
    expect(events.some((e) => e.type === "body")).toBe(false);
  });

  it("reads no body for 304, whatever Content-Length says", () => {
    const { events, feed } = record();
    feed("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
    expect(events.filter((e) => e.type === "complete")).toHaveLength(2);
  });

  it("accepts an empty or missing reason phrase", () => {
    const { events, feed } = record();
    feed("HTTP/1.1 599\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
    expect(events.filter((e) => e.type === "head").map((e) => (e.type === "head" ? e.reason : ""))).toEqual(["", ""]);
  });

  it("does not keep the connection after Connection: close, or HTTP/1.0 without keep-alive", () => {
    for (const [wire, keep] of [
      ["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false],
      ["HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false],
      ["HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true],
    ] as const) {
      const { events, feed, parser } = record();
      feed(wire);
      expect(events[0]).toMatchObject({ keepAlive: keep });
      expect(parser.isStopped).toBe(!keep);
    }
  });

  const limitCases: [string, string, ResponseParserOptions, string][] = [
    ["status line", `HTTP/1.1 200 ${"x".repeat(100)}\r\n\r\n`, { maxStatusLineLength: 50 }, "status-line-too-long"],
    ["header section", `HTTP/1.1 200 OK\r\nX: ${"y".repeat(100)}\r\n\r\n`, { maxResponseHeaderSize: 64 }, "header-section-too-large"],
    ["header count", `HTTP/1.1 200 OK\r\n${"A: b\r\n".repeat(4)}\r\n`, { maxResponseHeaderCount: 3 }, "too-many-headers"],
    ["announced body", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", { maxResponseBodySize: 10 }, "body-too-large"],
    ["chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\n", { maxResponseBodySize: 10 }, "body-too-large"],
    ["body until close", `HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n${"z".repeat(11)}`, { maxResponseBodySize: 10 }, "body-too-large"],
  ];

  it.each(limitCases)("fails with HttpResponseTooLargeError past the %s limit", (_name, wire, options, reason) => {
    const { events, feed } = record(options);
    feed(wire);
    expect(events.at(-1)).toEqual({ type: "error", reason, code: "WL_ERR_HTTP_RESPONSE_TOO_LARGE" });
  });

  const malformed: [string, string][] = [
    ["invalid-status-line", "HTTP/2 200 OK\r\n\r\n"],
    ["invalid-status-line", "HTTP/1.1 20 OK\r\n\r\n"],
    ["invalid-status-line", "ICY 200 OK\r\n\r\n"],
    ["bare-lf", "HTTP/1.1 200 OK\nContent-Length: 0\n\n"],
    ["invalid-content-length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"],
    ["invalid-content-length", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"],
    ["invalid-chunk-size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],
    ["missing-chunk-crlf", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab"],
    ["invalid-field", "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n"],
    ["invalid-field-value", "HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n"],
  ];

  it.each(malformed)("fails with %s on %j and ignores what follows", (reason, wire) => {
    const { events, feed } = record();
    feed(wire);
    feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    expect(events.at(-1)).toEqual({ type: "error", reason, code: "WL_ERR_HTTP_RESPONSE_PARSE" });
  });

  it("folds identical repeated Content-Length fields", () => {
    const { events, feed } = record();
    feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab");
    expect(events.at(-1)).toEqual({ type: "complete", trailers: [] });
  });

  it("lets Transfer-Encoding win over Content-Length, and does not keep such a connection", () => {
    const { events, feed } = record();
    feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n");
    expect(events[0]).toMatchObject({ bodyKind: "chunked", keepAlive: false });
    expect(events.at(-1)).toEqual({ type: "complete", trailers: [] });
  });

  it("reports a response cut short as incomplete-response", () => {
    const { events, feed, parser } = record();
    feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    parser.finish();
    expect(events.at(-1)).toEqual({ type: "error", reason: "incomplete-response", code: "WL_ERR_HTTP_RESPONSE_PARSE" });
    const idle = record();
    idle.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    idle.parser.finish();
    expect(idle.events.at(-1)?.type).toBe("complete");
  });

  it("rejects a limit that is not a positive integer, naming it", () => {
    expect(() => new ResponseParser({ onResponseHead() {}, onBody() {}, onResponseComplete() {}, onError() {} }, { maxResponseBodySize: 0 })).toThrow(
      /maxResponseBodySize/,
    );
    expect(new HttpResponseTooLargeError("body-too-large", 1)).toBeInstanceOf(HttpResponseParseError);
  });

  it("gives the same events for any split of a response stream", () => {
    const response = fc.oneof(
      fc.string({ maxLength: 20 }).map((b) => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(b, "latin1")}\r\nX-A: b\r\n\r\n${b}`),
      fc.array(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 4 }).map((parts) => `HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n${parts.map((p) => `${Buffer.byteLength(p, "latin1").toString(16)}\r\n${p}\r\n`).join("")}0\r\nT: v\r\n\r\n`),
      fc.constant("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"),
      fc.constant("HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n"),
    );
    fc.assert(
      fc.property(fc.array(response, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 10 }), (responses, cuts) => {
        const wire = Buffer.from(responses.join(""), "latin1");
        const whole = record();
        whole.parser.execute(wire);
        const split = record();
        const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
        let at = 0;
        for (const p of [...points, wire.length]) {
          split.parser.execute(wire.subarray(at, p));
          at = p;
        }
        expect(split.events).toEqual(whole.events);
        expect(whole.events.filter((e) => e.type === "complete")).toHaveLength(responses.length);
      }),
      { numRuns: 300 },
    );
  });
});
