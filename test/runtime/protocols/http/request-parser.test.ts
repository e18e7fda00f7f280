import { describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_BODY_SIZE,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_HEADER_SIZE,
  DEFAULT_MAX_REQUEST_LINE_LENGTH,
  RequestParser,
} from "../../../../runtime/protocols/http/request-parser.js";
import { HttpHeaders } from "../../../../runtime/protocols/http/http-headers.js";
import { HttpParseError, InvalidOptionError } from "../../../../runtime/errors.js";
import { head, normalize, parseInChunks, recordingParser } from "./request-parser-events.js";
import type { ParserEvent } from "./request-parser-events.js";

const bytes = (s: string): Buffer => Buffer.from(s, "latin1");
const done = (trailers: string[] = []): ParserEvent => ({ type: "complete", trailers });
const body = (data: string): ParserEvent => ({ type: "body", data });

/** The single error event an input must produce, after whatever events came before it. */
function errorOf(input: string): Extract<ParserEvent, { type: "error" }> {
  const events = parseInChunks(input);
  const last = events[events.length - 1];
  if (last?.type !== "error") throw new Error(`expected an error, got ${JSON.stringify(events)}`);
  expect(events.filter((e) => e.type === "error")).toHaveLength(1);
  return last;
}

describe("RequestParser: valid requests", () => {
  it("parses a GET with headers, lowercasing names and trimming values", () => {
    expect(parseInChunks("GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nX-Custom-Thing:  a b \t\r\nAccept:\r\n\r\n")).toEqual([
      head("GET", "/index.html?q=1", { headers: ["host", "example.com", "x-custom-thing", "a b", "accept", ""] }),
      done(),
    ]);
  });

  it("keeps obs-text in values as latin1 and keeps duplicates in order", () => {
    expect(parseInChunks("GET / HTTP/1.1\r\nX-A: caf\xe9\r\nx-a: 2\r\n\r\n")).toEqual([
      head("GET", "/", { headers: ["x-a", "caf\xe9", "x-a", "2"] }),
      done(),
    ]);
  });

  it("parses a POST with a Content-Length body, leading zeros allowed", () => {
    expect(parseInChunks("POST /submit HTTP/1.1\r\nContent-Length: 005\r\n\r\nhello")).toEqual([
      head("POST", "/submit", { headers: ["content-length", "005"], bodyKind: "length", contentLength: 5 }),
      body("hello"),
      done(),
    ]);
  });

  it("completes Content-Length: 0 at once", () => {
    expect(parseInChunks("PUT /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n")).toEqual([
      head("PUT", "/x", { headers: ["content-length", "0"], bodyKind: "length", contentLength: 0 }),
      done(),
    ]);
  });

  it("parses pipelined requests in one chunk", () => {
    const input = "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /c HTTP/1.1\r\n\r\n";
    expect(parseInChunks(input)).toEqual([
      head("GET", "/a"),
      done(),
      head("POST", "/b", { headers: ["content-length", "2"], bodyKind: "length", contentLength: 2 }),
      body("hi"),
      done(),
      head("GET", "/c"),
      done(),
    ]);
  });

  it("ignores empty lines before a request line", () => {
    expect(parseInChunks("\r\n\r\nGET / HTTP/1.1\r\n\r\n\r\nGET /2 HTTP/1.1\r\n\r\n")).toEqual([head("GET", "/"), done(), head("GET", "/2"), done()]);
  });

  it("accepts the asterisk, absolute and authority forms", () => {
    expect(parseInChunks("OPTIONS * HTTP/1.1\r\n\r\n")[0]).toMatchObject({ target: "*" });
    expect(parseInChunks("GET http://example.com/a?b HTTP/1.1\r\n\r\n")[0]).toMatchObject({ target: "http://example.com/a?b" });
    expect(parseInChunks("CONNECT example.com:443 HTTP/1.1\r\n\r\n")[0]).toMatchObject({ target: "example.com:443", upgrade: true });
  });

  it("accepts any token as a method, case kept", () => {
    expect(parseInChunks("PURGE-ALL /x HTTP/1.1\r\n\r\n")[0]).toMatchObject({ method: "PURGE-ALL" });
    expect(parseInChunks("get /x HTTP/1.1\r\n\r\n")[0]).toMatchObject({ method: "get" });
  });

  it("parses chunked bodies with extensions and trailers", () => {
    const input =
      "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
      '5;name=value;flag;q="a \\"b\\" c"\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0;last\r\nX-Checksum: 42\r\nX-Other: z\r\n\r\n';
    expect(parseInChunks(input)).toEqual([
      head("POST", "/up", { headers: ["transfer-encoding", "chunked"], bodyKind: "chunked", contentLength: null }),
      body("helloabcdefghijklmnopqrstuvwxyz"),
      done(["x-checksum", "42", "x-other", "z"]),
    ]);
  });

  it("accepts Transfer-Encoding: chunked in any case and with empty list elements", () => {
    expect(parseInChunks("POST / HTTP/1.1\r\nTransfer-Encoding: , CHUNKED\r\n\r\n0\r\n\r\n")[0]).toMatchObject({ bodyKind: "chunked" });
  });

  describe("keep-alive", () => {
    const cases: [string, string, boolean][] = [
      ["HTTP/1.1 by default", "GET / HTTP/1.1\r\n\r\n", true],
      ["HTTP/1.1 with Connection: close", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false],
      ["HTTP/1.1 with close among options", "GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n", false],
      ["HTTP/1.1 with close in a second field", "GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false],
      ["HTTP/1.0 by default", "GET / HTTP/1.0\r\n\r\n", false],
      ["HTTP/1.0 with Connection: keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true],
      ["HTTP/1.0 with keep-alive and close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false],
      ["HTTP/1.0 with chunked framing", "POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false],
    ];
    it.each(cases)("%s", (_name, input, keepAlive) => {
      expect(parseInChunks(input)[0]).toMatchObject({ keepAlive });
    });

    it("ignores everything after a request that closes the connection", () => {
      const events: ParserEvent[] = [];
      const parser = recordingParser(events);
      parser.execute(bytes("GET /1 HTTP/1.1\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"));
      parser.execute(bytes("garbage"));
      expect(events).toEqual([head("GET", "/1", { headers: ["connection", "close"], keepAlive: false }), done()]);
      expect(parser.isStopped).toBe(true);
    });
  });

  describe("Expect and Upgrade", () => {
    it("flags Expect: 100-continue on HTTP/1.1 only", () => {
      expect(parseInChunks("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx")[0]).toMatchObject({ expectContinue: true });
      expect(parseInChunks("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx")[0]).toMatchObject({ expectContinue: false });
      expect(parseInChunks("POST / HTTP/1.1\r\nExpect: something-else\r\n\r\n")[0]).toMatchObject({ expectContinue: false });
    });

    it("flags a WebSocket handshake, pauses after it, and hands back what follows on detach", () => {
      const events: ParserEvent[] = [];
      let leftover: Uint8Array | null = null;
      const parser = recordingParser(events, {}, {
        onRequestComplete: () => {
          leftover = parser.detach();
        },
      });
      parser.execute(bytes("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n\x81\x05hello"));
      parser.execute(bytes("GET / HTTP/1.1\r\n\r\n"));
      expect(events).toEqual([
        head("GET", "/ws", { headers: ["upgrade", "websocket", "connection", "keep-alive, Upgrade"], upgrade: true }),
        done(),
      ]);
      expect(Buffer.from(leftover ?? new Uint8Array()).toString("latin1")).toBe("\x81\x05hello");
      expect(parser.isStopped).toBe(true);
    });

    it("detach gathers the rest of the chunk and the chunks queued while paused", () => {
      const events: ParserEvent[] = [];
      const parser = recordingParser(events);
      parser.execute(bytes("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nab"));
      expect(parser.isPaused).toBe(true);
      parser.execute(bytes("cd"));
      expect(parser.bufferedBytes).toBe(4);
      expect(Buffer.from(parser.detach()).toString("latin1")).toBe("abcd");
    });

    it("goes on parsing HTTP when the upgrade is declined with resume()", () => {
      const events: ParserEvent[] = [];
      const parser = recordingParser(events);
      parser.execute(bytes("GET /ws HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\nGET /next HTTP/1.1\r\n\r\n"));
      expect(normalize(events).map((e) => e.type)).toEqual(["head", "complete"]);
      parser.resume();
      expect(events.slice(2)).toEqual([head("GET", "/next"), done()]);
    });

    it("CONNECT has no content: Content-Length and Transfer-Encoding are ignored, every byte after the head is the tunnel's", () => {
      for (const framing of ["Content-Length: 5", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip", "Content-Length: 99999999999"]) {
        const events: ParserEvent[] = [];
        const parser = recordingParser(events, { maxBodySize: 10 });
        parser.execute(bytes(`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n${framing}\r\n\r\n\x16\x03\x01\x02\x00hello`));
        expect(events).toEqual([
          head("CONNECT", "example.com:443", { headers: ["host", "example.com:443", ...framing.toLowerCase().split(": ")], upgrade: true }),
          done(),
        ]);
        expect(Buffer.from(parser.detach()).toString("latin1")).toBe("\x16\x03\x01\x02\x00hello");
      }
    });

    it("CONNECT still rejects framing that is malformed or ambiguous (as node:http does)", () => {
      expect(errorOf("CONNECT a:1 HTTP/1.1\r\nContent-Length: x\r\n\r\n")).toMatchObject({ reason: "invalid-content-length" });
      expect(errorOf("CONNECT a:1 HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")).toMatchObject({
        reason: "content-length-with-transfer-encoding",
      });
      expect(errorOf("CONNECT a:1 HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n")).toMatchObject({ reason: "transfer-encoding-not-chunked" });
    });

    it("does not flag Upgrade without the Connection option, nor on HTTP/1.0", () => {
      expect(parseInChunks("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")[0]).toMatchObject({ upgrade: false });
      expect(parseInChunks("GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n")[0]).toMatchObject({ upgrade: false });
    });
  });

  it("gives body chunks as views into the input, not copies", () => {
    const input = bytes("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    const seen: Uint8Array[] = [];
    const parser = new RequestParser({ onRequestHead: () => {}, onBody: (c) => seen.push(c), onRequestComplete: () => {}, onError: () => {} });
    parser.execute(input);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.buffer).toBe(input.buffer);
    expect(seen[0]?.byteOffset).toBe(input.byteOffset + input.length - 3);
  });

  it("never reuses a remembered value or target for different bytes", () => {
    const input = "GET /aa HTTP/1.1\r\nHost: one\r\nX: a\r\n\r\nGET /ab HTTP/1.1\r\nHost: two\r\nX: a\r\n\r\nGET /ab HTTP/1.1\r\nHost: two\r\nX: b\r\n\r\n";
    expect(parseInChunks(input)).toEqual([
      head("GET", "/aa", { headers: ["host", "one", "x", "a"] }),
      done(),
      head("GET", "/ab", { headers: ["host", "two", "x", "a"] }),
      done(),
      head("GET", "/ab", { headers: ["host", "two", "x", "b"] }),
      done(),
    ]);
  });

  it("accepts a plain Uint8Array as well as a Buffer", () => {
    const events: ParserEvent[] = [];
    recordingParser(events).execute(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
    expect(events).toEqual([head("GET", "/"), done()]);
  });
});

describe("RequestParser: rejections", () => {
  const cases: [string, string, number, string][] = [
    // framing
    ["Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "content-length-with-transfer-encoding"],
    ["differing duplicate Content-Length", "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400, "duplicate-content-length"],
    ["identical duplicate Content-Length", "POST / HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n", 400, "duplicate-content-length"],
    ["Content-Length as a list", "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n", 400, "invalid-content-length"],
    ["non-numeric Content-Length", "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, "invalid-content-length"],
    ["negative Content-Length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "invalid-content-length"],
    ["signed Content-Length", "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", 400, "invalid-content-length"],
    ["empty Content-Length", "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400, "invalid-content-length"],
    ["overflowing Content-Length", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, "content-length-overflow"],
    ["Transfer-Encoding gzip", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "transfer-encoding-not-chunked"],
    ["Transfer-Encoding chunked, gzip", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400, "transfer-encoding-not-chunked"],
    ["Transfer-Encoding identity", "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 400, "transfer-encoding-not-chunked"],
    ["empty Transfer-Encoding", "POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n", 400, "transfer-encoding-not-chunked"],
    ["chunked twice", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "chunked-twice"],
    ["Transfer-Encoding gzip, chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "transfer-coding-not-implemented"],
    ["Transfer-Encoding chunked with parameters", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 400, "transfer-encoding-not-chunked"],
    // chunks
    ["non-hex chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "invalid-chunk-size"],
    ["empty chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400, "invalid-chunk-size"],
    ["0x-prefixed chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\n", 400, "invalid-chunk-size"],
    ["space after chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\n", 400, "invalid-chunk-size"],
    ["space before chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\n", 400, "invalid-chunk-size"],
    ["overflowing chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n", 400, "chunk-size-overflow"],
    ["chunk larger than the body limit", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n", 413, "body-too-large"],
    ["empty chunk extension", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;\r\n", 400, "invalid-chunk-extension"],
    ["space in chunk extension", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5; a=b\r\n", 400, "invalid-chunk-extension"],
    ["unterminated quoted extension", 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a="b\r\n', 400, "invalid-chunk-extension"],
    ["chunk-size line too long", `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a=${"b".repeat(5000)}\r\n`, 400, "chunk-line-too-long"],
    ["chunk data without CRLF", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", 400, "missing-chunk-crlf"],
    ["chunk data with CR but no LF", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r0\r\n", 400, "missing-chunk-crlf"],
    ["Content-Length in a trailer", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\n", 400, "framing-field-in-trailer"],
    ["folded trailer", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n c\r\n\r\n", 400, "obsolete-line-folding"],
    // field syntax
    ["obsolete line folding", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400, "obsolete-line-folding"],
    ["folding with a tab", "GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n", 400, "obsolete-line-folding"],
    ["whitespace before the first field", "GET / HTTP/1.1\r\n A: b\r\n\r\n", 400, "leading-whitespace"],
    ["space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "whitespace-before-colon"],
    ["tab before colon", "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 400, "whitespace-before-colon"],
    ["field line without colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", 400, "missing-colon"],
    ["empty field name", "GET / HTTP/1.1\r\n: x\r\n\r\n", 400, "invalid-field-name"],
    ["separator in field name", "GET / HTTP/1.1\r\nA{b: x\r\n\r\n", 400, "invalid-field-name"],
    ["obs-text in field name", "GET / HTTP/1.1\r\nA\xe9: x\r\n\r\n", 400, "invalid-field-name"],
    ["control in field name", "GET / HTTP/1.1\r\nA\x01: x\r\n\r\n", 400, "invalid-field-name"],
    ["NUL in field value", "GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n", 400, "invalid-field-value"],
    ["control in field value", "GET / HTTP/1.1\r\nA: b\x1bc\r\n\r\n", 400, "invalid-field-value"],
    ["DEL in field value", "GET / HTTP/1.1\r\nA: b\x7fc\r\n\r\n", 400, "invalid-field-value"],
    ["bare CR in field value", "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400, "invalid-field-value"],
    // bare LF
    ["bare LF after the request line", "GET / HTTP/1.1\nHost: x\r\n\r\n", 400, "bare-lf"],
    ["bare LF after a field", "GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n", 400, "bare-lf"],
    ["bare LF ending the head", "GET / HTTP/1.1\r\nA: b\r\n\n", 400, "bare-lf"],
    ["bare LF after a chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n", 400, "bare-lf"],
    ["bare LF before the request line", "\nGET / HTTP/1.1\r\n\r\n", 400, "bare-lf"],
    // request line
    ["separator in method", "G(T / HTTP/1.1\r\n\r\n", 400, "invalid-method"],
    ["leading space", " GET / HTTP/1.1\r\n\r\n", 400, "invalid-method"],
    ["two spaces after the method", "GET  / HTTP/1.1\r\n\r\n", 400, "extra-whitespace"],
    ["DEL in target", "GET /a\x7f HTTP/1.1\r\n\r\n", 400, "invalid-target"],
    ["obs-text in target", "GET /caf\xe9 HTTP/1.1\r\n\r\n", 400, "invalid-target"],
    ["control in target", "GET /a\x01b HTTP/1.1\r\n\r\n", 400, "invalid-target"],
    ["tab in target", "GET /a\tb HTTP/1.1\r\n\r\n", 400, "invalid-target"],
    ["target in no form", "GET index.html HTTP/1.1\r\n\r\n", 400, "invalid-target"],
    ["asterisk with more", "OPTIONS *a HTTP/1.1\r\n\r\n", 400, "invalid-target"],
    ["space inside the target", "GET /a b HTTP/1.1\r\n\r\n", 400, "invalid-version"],
    ["HTTP/0.9-style request line", "GET /\r\n\r\n", 400, "missing-version"],
    ["lowercase version", "GET / http/1.1\r\n\r\n", 400, "invalid-version"],
    ["version without minor", "GET / HTTP/1\r\n\r\n", 400, "invalid-version"],
    ["two-digit minor", "GET / HTTP/1.10\r\n\r\n", 400, "invalid-version"],
    ["space after the version", "GET / HTTP/1.1 \r\n\r\n", 400, "invalid-version"],
    ["HTTP/1.2", "GET / HTTP/1.2\r\n\r\n", 400, "invalid-version"],
    ["HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505, "unsupported-version"],
    ["HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505, "unsupported-version"],
    ["HTTP/3.1", "GET / HTTP/3.1\r\n\r\n", 505, "unsupported-version"],
    // limits
    ["request line over 8 KiB", `GET /${"a".repeat(DEFAULT_MAX_REQUEST_LINE_LENGTH)} HTTP/1.1\r\n\r\n`, 414, "request-line-too-long"],
    ["header section over 16 KiB", `GET / HTTP/1.1\r\nX: ${"a".repeat(DEFAULT_MAX_HEADER_SIZE)}\r\n\r\n`, 431, "header-section-too-large"],
    ["more than 100 fields", `GET / HTTP/1.1\r\n${"A: b\r\n".repeat(DEFAULT_MAX_HEADER_COUNT + 1)}\r\n`, 431, "too-many-headers"],
    ["Content-Length over 1 MiB", `POST / HTTP/1.1\r\nContent-Length: ${DEFAULT_MAX_BODY_SIZE + 1}\r\n\r\n`, 413, "body-too-large"],
    ["chunks summing over 1 MiB", `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n80000\r\n${"x".repeat(0x80000)}\r\n80001\r\n`, 413, "body-too-large"],
    ["trailer section over 16 KiB", `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: ${"a".repeat(DEFAULT_MAX_HEADER_SIZE)}\r\n\r\n`, 431, "header-section-too-large"],
    ["more than 100 trailer fields", `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${"A: b\r\n".repeat(DEFAULT_MAX_HEADER_COUNT + 1)}\r\n`, 431, "too-many-headers"],
  ];

  it.each(cases)("%s", (_name, input, status, reason) => {
    expect(errorOf(input)).toMatchObject({ status, reason });
  });

  it("gives each limit its own error code", () => {
    expect(errorOf(cases.find((c) => c[0] === "request line over 8 KiB")![1]).code).toBe("WL_ERR_HTTP_URI_TOO_LONG");
    expect(errorOf(cases.find((c) => c[0] === "more than 100 fields")![1]).code).toBe("WL_ERR_HTTP_HEADERS_TOO_LARGE");
    expect(errorOf(cases.find((c) => c[0] === "Content-Length over 1 MiB")![1]).code).toBe("WL_ERR_HTTP_BODY_TOO_LARGE");
    expect(errorOf("GET / HTTP/2.0\r\n\r\n").code).toBe("WL_ERR_HTTP_PARSE");
  });

  it("reports a typed HttpParseError and stops for good", () => {
    const errors: unknown[] = [];
    const events: ParserEvent[] = [];
    const parser = recordingParser(events, {}, { onError: (e) => errors.push(e) });
    parser.execute(bytes("GET / HTTP/1.1\r\nA : b\r\n\r\nGET / HTTP/1.1\r\n\r\n"));
    parser.execute(bytes("GET / HTTP/1.1\r\n\r\n"));
    parser.finish();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(HttpParseError);
    expect(events.map((e) => e.type)).toEqual(["error"]);
    expect(parser.isStopped).toBe(true);
  });

  it("emits the requests before a bad one, then the error", () => {
    expect(parseInChunks("GET /ok HTTP/1.1\r\n\r\nGET /bad HTTP/1.1\r\nA: \x00\r\n\r\n").map((e) => e.type)).toEqual(["head", "complete", "error"]);
  });
});

describe("RequestParser: limits are options", () => {
  it("accepts a request line, a header section and a field count exactly at their limits", () => {
    const line = `GET /${"a".repeat(DEFAULT_MAX_REQUEST_LINE_LENGTH - "GET / HTTP/1.1".length)} HTTP/1.1`;
    expect(line.length).toBe(DEFAULT_MAX_REQUEST_LINE_LENGTH);
    expect(parseInChunks(`${line}\r\n\r\n`).map((e) => e.type)).toEqual(["head", "complete"]);
    // "X: " + value + CRLF, then the final CRLF, fill the section to the byte.
    const value = "a".repeat(DEFAULT_MAX_HEADER_SIZE - 3 - 2 - 2);
    expect(parseInChunks(`GET / HTTP/1.1\r\nX: ${value}\r\n\r\n`).map((e) => e.type)).toEqual(["head", "complete"]);
    expect(parseInChunks(`GET / HTTP/1.1\r\nX: ${value}a\r\n\r\n`).map((e) => e.type)).toEqual(["error"]);
    expect(parseInChunks(`GET / HTTP/1.1\r\n${"A: b\r\n".repeat(DEFAULT_MAX_HEADER_COUNT)}\r\n`).map((e) => e.type)).toEqual(["head", "complete"]);
  });

  it("honours custom limits", () => {
    const options = { maxRequestLineLength: 20, maxHeaderSize: 30, maxHeaderCount: 2, maxBodySize: 4, maxChunkLineLength: 3 };
    expect(parseInChunks("GET /0123456789012 HTTP/1.1\r\n\r\n", [], options)[0]).toMatchObject({ status: 414 });
    expect(parseInChunks("GET / HTTP/1.1\r\nX: 0123456789012345678901234\r\n\r\n", [], options)[0]).toMatchObject({ status: 431 });
    expect(parseInChunks("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", [], options)[0]).toMatchObject({ reason: "too-many-headers" });
    expect(parseInChunks("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", [], options)[0]).toMatchObject({ status: 413 });
    expect(parseInChunks("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\n", [], options)[2]).toMatchObject({ status: 413 });
    expect(parseInChunks("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ab\r\n", [], options)[1]).toMatchObject({ reason: "chunk-line-too-long" });
  });

  it("rejects limits that are not positive integers, naming the option", () => {
    const callbacks = { onRequestHead: () => {}, onBody: () => {}, onRequestComplete: () => {}, onError: () => {} };
    expect(() => new RequestParser(callbacks, { maxHeaderSize: 0 })).toThrow(InvalidOptionError);
    expect(() => new RequestParser(callbacks, { maxBodySize: 1.5 })).toThrow(/maxBodySize/);
  });

  it("never copies more than a line's limit while a line is incomplete", () => {
    const events: ParserEvent[] = [];
    const parser = recordingParser(events, { maxHeaderSize: 64 });
    parser.execute(bytes("GET / HTTP/1.1\r\n"));
    let most = 0;
    for (let i = 0; i < 200 && !parser.isStopped; i++) {
      parser.execute(bytes("a"));
      most = Math.max(most, parser.stashedBytes);
    }
    expect(most).toBeLessThanOrEqual(64);
    expect(events).toEqual([{ type: "error", status: 431, reason: "header-section-too-large", code: "WL_ERR_HTTP_HEADERS_TOO_LARGE" }]);
  });
});

describe("RequestParser: pause, resume and the end of the stream", () => {
  const pipelined = "GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\n\r\n";

  it("holds pipelined requests while paused and parses them on resume", () => {
    const events: ParserEvent[] = [];
    const parser = recordingParser(events, {}, { onRequestComplete: () => parser.pause() });
    parser.execute(bytes(pipelined));
    expect(events).toEqual([head("GET", "/1"), done()]);
    expect(parser.isPaused).toBe(true);
    expect(parser.bufferedBytes).toBe(pipelined.length - "GET /1 HTTP/1.1\r\n\r\n".length);
    parser.resume();
    expect(events.slice(2).map((e) => e.type)).toEqual(["head", "body", "complete"]);
    parser.resume();
    expect(events.slice(5)).toEqual([head("GET", "/3"), done()]);
    expect(parser.bufferedBytes).toBe(0);
  });

  it("defers the completion of a bodiless request paused in onRequestHead", () => {
    const events: ParserEvent[] = [];
    const parser = recordingParser(events, {}, { onRequestHead: () => parser.pause() });
    parser.execute(bytes("GET / HTTP/1.1\r\n\r\n"));
    expect(events.map((e) => e.type)).toEqual(["head"]);
    parser.resume();
    expect(events.map((e) => e.type)).toEqual(["head", "complete"]);
  });

  it("is backpressure on the body when paused in onBody", () => {
    const events: ParserEvent[] = [];
    const parser = recordingParser(events, {}, { onBody: () => parser.pause() });
    parser.execute(bytes("POST / HTTP/1.1\r\nContent-Length: 6\r\n\r\nabc"));
    parser.execute(bytes("def"));
    expect(events.map((e) => e.type)).toEqual(["head", "body"]);
    expect(parser.bufferedBytes).toBe(3);
    parser.resume();
    // The last piece of body paused the parser too: the completion waits for the next resume.
    expect(normalize(events)).toEqual([expect.objectContaining({ type: "head" }), body("abcdef")]);
    parser.resume();
    expect(normalize(events)).toEqual([expect.objectContaining({ type: "head" }), body("abcdef"), done()]);
  });

  it("queues chunks handed in while paused, in order", () => {
    const events: ParserEvent[] = [];
    const parser = recordingParser(events);
    parser.pause();
    parser.execute(bytes("GET /a HT"));
    parser.execute(bytes("TP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"));
    expect(events).toEqual([]);
    parser.resume();
    expect(events).toEqual([head("GET", "/a"), done(), head("GET", "/b"), done()]);
  });

  it("fails with 503 when handed more than maxBufferedBytes while paused", () => {
    const events: ParserEvent[] = [];
    const parser = recordingParser(events, { maxBufferedBytes: 10 });
    parser.pause();
    parser.execute(bytes("GET / HTTP/1.1\r\n"));
    expect(events).toEqual([{ type: "error", status: 503, reason: "buffer-overflow", code: "WL_ERR_HTTP_BUFFER_OVERFLOW" }]);
    expect(parser.bufferedBytes).toBe(0);
  });

  it("queues chunks handed in from its own callbacks", () => {
    const events: ParserEvent[] = [];
    let fed = false;
    const parser = recordingParser(events, {}, {
      onRequestHead: () => {
        if (!fed) {
          fed = true;
          parser.execute(bytes("GET /c HTTP/1.1\r\n\r\n"));
        }
      },
    });
    parser.execute(bytes("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"));
    expect(events.filter((e) => e.type === "head").map((e) => (e.type === "head" ? e.target : ""))).toEqual(["/a", "/b", "/c"]);
  });

  it("finish() is clean between requests and an error inside one", () => {
    const clean: ParserEvent[] = [];
    const a = recordingParser(clean);
    a.execute(bytes("GET / HTTP/1.1\r\n\r\n"));
    a.finish();
    expect(clean.map((e) => e.type)).toEqual(["head", "complete"]);
    expect(a.isStopped).toBe(true);

    for (const partial of ["GET / HT", "GET / HTTP/1.1\r\n", "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nab"]) {
      const events: ParserEvent[] = [];
      const parser = recordingParser(events);
      parser.execute(bytes(partial));
      parser.finish();
      expect(events[events.length - 1]).toMatchObject({ type: "error", status: 400, reason: "incomplete-request" });
    }
  });

  it("finish() while paused waits until the held bytes are parsed", () => {
    const events: ParserEvent[] = [];
    const parser = recordingParser(events, {}, { onRequestComplete: () => parser.pause() });
    parser.execute(bytes("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"));
    parser.finish();
    expect(events.map((e) => e.type)).toEqual(["head", "complete"]);
    parser.resume();
    expect(events.map((e) => e.type)).toEqual(["head", "complete", "head", "complete"]);
    parser.resume();
    expect(parser.isStopped).toBe(true);
    expect(events.some((e) => e.type === "error")).toBe(false);
  });

  it("stops for good when a callback throws, and lets the exception through", () => {
    const events: ParserEvent[] = [];
    const parser = recordingParser(events, {}, {
      onRequestHead: () => {
        throw new Error("handler bug");
      },
    });
    expect(() => parser.execute(bytes("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"))).toThrow("handler bug");
    parser.execute(bytes("GET / HTTP/1.1\r\n\r\n"));
    expect(events.map((e) => e.type)).toEqual(["head"]);
    expect(parser.isStopped).toBe(true);
  });
});

describe("HttpHeaders", () => {
  it("looks names up case-insensitively and iterates in order", () => {
    const headers = new HttpHeaders(["host", "a", "x-y", "1", "x-y", "2"]);
    expect(headers.size).toBe(3);
    expect(headers.get("X-Y")).toBe("1");
    expect(headers.getAll("x-y")).toEqual(["1", "2"]);
    expect(headers.has("HOST")).toBe(true);
    expect(headers.has("missing")).toBe(false);
    expect(headers.get("missing")).toBeUndefined();
    expect([...headers]).toEqual([["host", "a"], ["x-y", "1"], ["x-y", "2"]]);
  });
});

describe("RequestParser: bytes that cannot start a request", () => {
  const invalidMethod = { type: "error", status: 400, reason: "invalid-method", code: "WL_ERR_HTTP_PARSE" };

  it("rejects a TLS ClientHello on the plain port at once, without waiting for a line end", () => {
    const events: ParserEvent[] = [];
    const parser = recordingParser(events);
    parser.execute(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    expect(events).toEqual([invalidMethod]);
  });

  it("rejects a trickled method at the first byte that is not a token character", () => {
    const events: ParserEvent[] = [];
    const parser = recordingParser(events);
    for (const ch of "GE") parser.execute(bytes(ch));
    expect(events).toEqual([]);
    parser.execute(bytes("\x00"));
    expect(events).toEqual([invalidMethod]);
  });

  it("waits for the rest of a line whose start can still be a request", () => {
    for (const partial of ["GET", "GET /", "\r", "\r\n", "SOMEVERYLONGEXTENSIONMETHODNAMEXXXXXXXXXXXXXX"]) {
      const events: ParserEvent[] = [];
      recordingParser(events).execute(bytes(partial));
      expect(events).toEqual([]);
    }
  });

  it("fails the same way however garbage over the request-line limit is cut", () => {
    const garbage = "\x01".repeat(100);
    const whole = parseInChunks(garbage, [], { maxRequestLineLength: 16 });
    expect(whole).toEqual([invalidMethod]);
    for (let cut = 1; cut < garbage.length; cut += 7) expect(parseInChunks(garbage, [cut], { maxRequestLineLength: 16 })).toEqual(whole);
  });
});
