import { describe, expect, it } from "vitest";

import { WebSocketHandshakeError } from "../../../../runtime/errors.js";
import { HttpHeaders } from "../../../../runtime/protocols/http/http-headers.js";
import { RequestParser } from "../../../../runtime/protocols/http/request-parser.js";
import type { RequestHead } from "../../../../runtime/protocols/http/request-parser.js";
import {
  acceptUpgradeRequest,
  buildClientRequest,
  computeAcceptKey,
  formatHandshakeRejection,
  formatServerResponse,
  generateKey,
  parseExtensions,
  parseHandshakeResponse,
  validateServerResponse,
} from "../../../../runtime/protocols/websocket/handshake.js";
import type { UpgradeRequestHead } from "../../../../runtime/protocols/websocket/handshake.js";
import { seededRandom } from "./helpers.js";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

function request(fields: Record<string, string | undefined> = {}, method = "GET", minor = 1): UpgradeRequestHead {
  const base: Record<string, string | undefined> = {
    host: "server.example.com",
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": KEY,
    "sec-websocket-version": "13",
    ...fields,
  };
  const raw: string[] = [];
  for (const [k, v] of Object.entries(base)) if (v !== undefined) raw.push(k, v);
  return { method, versionMajor: 1, versionMinor: minor, headers: new HttpHeaders(raw) };
}

function refusal(fn: () => unknown): WebSocketHandshakeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof WebSocketHandshakeError) return error;
    throw error;
  }
  throw new Error("expected a WebSocketHandshakeError");
}

/** Parses a request head with the HTTP server's own parser. */
function parseRequest(text: string): RequestHead {
  let head: RequestHead | null = null;
  const parser = new RequestParser({
    onRequestHead: (h) => {
      head = h;
    },
    onBody: () => {},
    onRequestComplete: () => {},
    onError: (e) => {
      throw e;
    },
  });
  parser.execute(Buffer.from(text, "latin1"));
  if (head === null) throw new Error("no request head");
  return head;
}

describe("handshake keys", () => {
  it("computes Sec-WebSocket-Accept as in RFC 6455 section 1.3", () => {
    expect(computeAcceptKey(KEY)).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("generates 16-byte keys from the random source, reproducibly", () => {
    const a = generateKey(seededRandom(5));
    expect(Buffer.from(a, "base64")).toHaveLength(16);
    expect(generateKey(seededRandom(5))).toBe(a);
    expect(generateKey(seededRandom(6))).not.toBe(a);
  });
});

describe("acceptUpgradeRequest (server)", () => {
  it("accepts the RFC's example request", () => {
    const hs = acceptUpgradeRequest(request({ origin: "http://example.com", "sec-websocket-protocol": "chat, superchat" }), { protocols: ["superchat", "chat"] });
    expect(hs.accept).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    expect(hs.protocol).toBe("superchat");
    expect(hs.perMessageDeflate).toBeNull();
    expect(formatServerResponse(hs)).toBe(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: superchat\r\n\r\n",
    );
  });

  it("matches Upgrade and Connection as case-insensitive token lists", () => {
    expect(() => acceptUpgradeRequest(request({ upgrade: "WebSocket", connection: "keep-alive, UPGRADE" }))).not.toThrow();
  });

  const cases: [string, UpgradeRequestHead, number, string][] = [
    ["POST", request({}, "POST"), 400, "method-not-get"],
    ["HTTP/1.0", request({}, "GET", 0), 400, "bad-http-version"],
    ["no Host", request({ host: undefined }), 400, "missing-host"],
    ["no Upgrade", request({ upgrade: undefined }), 400, "bad-upgrade"],
    ["Upgrade: h2c", request({ upgrade: "h2c" }), 400, "bad-upgrade"],
    ["Connection: keep-alive", request({ connection: "keep-alive" }), 400, "bad-connection"],
    ["no key", request({ "sec-websocket-key": undefined }), 400, "bad-key"],
    ["a 15-byte key", request({ "sec-websocket-key": Buffer.alloc(15).toString("base64") }), 400, "bad-key"],
    ["a key that is not base64", request({ "sec-websocket-key": "not a key at all!!!!!==" }), 400, "bad-key"],
    ["version 8", request({ "sec-websocket-version": "8" }), 426, "unsupported-version"],
    ["no version", request({ "sec-websocket-version": undefined }), 426, "unsupported-version"],
    ["a subprotocol that is not a token", request({ "sec-websocket-protocol": "a b" }), 400, "bad-protocol"],
    ["malformed extensions", request({ "sec-websocket-extensions": 'permessage-deflate; x="' }), 400, "bad-extensions"],
  ];
  for (const [name, req, status, reason] of cases) {
    it(`refuses ${name} with ${status}`, () => {
      const error = refusal(() => acceptUpgradeRequest(req, { perMessageDeflate: {} }));
      expect([error.status, error.reason, error.code]).toEqual([status, reason, "WL_ERR_WS_HANDSHAKE"]);
    });
  }

  it("refuses a disallowed origin with 403", () => {
    const error = refusal(() => acceptUpgradeRequest(request({ origin: "http://evil.example" }), { checkOrigin: (o) => o === "http://good.example" }));
    expect(error.status).toBe(403);
  });

  it("formats refusals, with Sec-WebSocket-Version on 426", () => {
    const text = formatHandshakeRejection(refusal(() => acceptUpgradeRequest(request({ "sec-websocket-version": "8" }))));
    expect(text).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
    expect(text).toContain("Sec-WebSocket-Version: 13\r\n");
    expect(text).toContain("Connection: close\r\n");
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    expect(text).toContain(`Content-Length: ${Buffer.byteLength(body)}\r\n`);
  });

  it("chooses no subprotocol unless both sides have one, and lets a function choose", () => {
    expect(acceptUpgradeRequest(request({ "sec-websocket-protocol": "chat" })).protocol).toBeNull();
    expect(acceptUpgradeRequest(request(), { protocols: ["chat"] }).protocol).toBeNull();
    expect(acceptUpgradeRequest(request({ "sec-websocket-protocol": "a, b" }), { protocols: (offered) => offered.at(-1) ?? null }).protocol).toBe("b");
  });

  it("negotiates permessage-deflate only when enabled", () => {
    const req = request({ "sec-websocket-extensions": "permessage-deflate; client_max_window_bits" });
    expect(acceptUpgradeRequest(req).responseHeaders.some(([n]) => n === "Sec-WebSocket-Extensions")).toBe(false);
    const hs = acceptUpgradeRequest(req, { perMessageDeflate: { serverNoContextTakeover: true } });
    expect(hs.responseHeaders).toContainEqual(["Sec-WebSocket-Extensions", "permessage-deflate; server_no_context_takeover"]);
    expect(hs.perMessageDeflate?.serverNoContextTakeover).toBe(true);
  });
});

describe("parseExtensions", () => {
  it("parses lists, parameters and quoted values", () => {
    expect(parseExtensions(['permessage-deflate; client_max_window_bits; server_max_window_bits="10"', "foo, Bar ; A = 1"])).toEqual([
      { name: "permessage-deflate", params: [["client_max_window_bits", null], ["server_max_window_bits", "10"]] },
      { name: "foo", params: [] },
      { name: "bar", params: [["a", "1"]] },
    ]);
    expect(parseExtensions("")).toEqual([]);
  });

  it("refuses bad syntax with 400", () => {
    for (const bad of ["a b", "x; =1", 'x; a="unterminated', "x; a=b c", 'x; a="b c"', "x; a=", ";"]) {
      expect(refusal(() => parseExtensions(bad)).status).toBe(400);
    }
  });
});

describe("client handshake", () => {
  it("builds a request the HTTP server's parser reads as an upgrade, and validates the answer end to end", () => {
    const req = buildClientRequest({ host: "localhost:9000", path: "/chat?x=1", origin: "http://localhost", protocols: ["chat", "v2"], perMessageDeflate: {}, random: seededRandom(1) });
    const head = parseRequest(req.request);
    expect(head.upgrade).toBe(true);
    expect(head.target).toBe("/chat?x=1");
    expect(head.headers.get("sec-websocket-key")).toBe(req.key);
    const hs = acceptUpgradeRequest(head, { protocols: ["v2"], perMessageDeflate: {} });
    const response = parseHandshakeResponse(Buffer.from(formatServerResponse(hs) + "\x81\x00", "latin1"));
    expect(response?.status).toBe(101);
    expect(response?.headLength).toBe(formatServerResponse(hs).length);
    const result = validateServerResponse(response!, req);
    expect(result.protocol).toBe("v2");
    expect(result.perMessageDeflate).toEqual({ serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
  });

  it("waits for a whole head, and bounds it", () => {
    expect(parseHandshakeResponse(Buffer.from("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"))).toBeNull();
    expect(refusal(() => parseHandshakeResponse(Buffer.alloc(100, 0x41), 100)).reason).toBe("response-too-large");
    expect(refusal(() => parseHandshakeResponse(Buffer.from("HTTP/2 101\r\n\r\n"))).reason).toBe("bad-response");
    expect(refusal(() => parseHandshakeResponse(Buffer.from("HTTP/1.1 101 OK\r\nno colon\r\n\r\n"))).reason).toBe("bad-response");
  });

  it("refuses responses the client must refuse", () => {
    const req = buildClientRequest({ host: "h", protocols: ["chat"], random: seededRandom(2) });
    const accept = computeAcceptKey(req.key);
    const ok = ["upgrade", "websocket", "connection", "Upgrade", "sec-websocket-accept", accept];
    const check = (raw: string[], status = 101): string => refusal(() => validateServerResponse({ status, headers: new HttpHeaders(raw) }, req)).reason;
    expect(validateServerResponse({ status: 101, headers: new HttpHeaders(ok) }, req)).toEqual({ protocol: null, perMessageDeflate: null });
    expect(check(ok, 200)).toBe("bad-status");
    expect(check(["upgrade", "h2c", ...ok.slice(2)])).toBe("bad-upgrade");
    expect(check([...ok.slice(0, 2), "connection", "close", ...ok.slice(4)])).toBe("bad-connection");
    expect(check([...ok.slice(0, 4), "sec-websocket-accept", computeAcceptKey("other")])).toBe("bad-accept");
    expect(check([...ok, "sec-websocket-protocol", "other"])).toBe("bad-protocol");
    expect(check([...ok, "sec-websocket-extensions", "permessage-deflate"])).toBe("unexpected-extension");
  });

  it("refuses two permessage-deflate responses, and bad header values in the request", () => {
    const req = buildClientRequest({ host: "h", perMessageDeflate: {}, random: seededRandom(3) });
    const raw = ["upgrade", "websocket", "connection", "upgrade", "sec-websocket-accept", computeAcceptKey(req.key), "sec-websocket-extensions", "permessage-deflate, permessage-deflate"];
    expect(refusal(() => validateServerResponse({ status: 101, headers: new HttpHeaders(raw) }, req)).reason).toBe("unexpected-extension");
    expect(() => buildClientRequest({ host: "h\r\nX: y", random: seededRandom(1) })).toThrow(/CR or LF/);
    expect(() => buildClientRequest({ host: "h", protocols: ["a b"], random: seededRandom(1) })).toThrow(/token/);
  });
});
