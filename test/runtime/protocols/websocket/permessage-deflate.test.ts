import { constants, deflateRawSync, inflateRawSync } from "node:zlib";

import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { InvalidOptionError, WebSocketHandshakeError, WebSocketMessageTooBigError } from "../../../../runtime/errors.js";
import { parseExtensions } from "../../../../runtime/protocols/websocket/handshake.js";
import {
  PerMessageDeflate,
  acceptPerMessageDeflate,
  negotiatePerMessageDeflate,
  perMessageDeflateOffer,
} from "../../../../runtime/protocols/websocket/permessage-deflate.js";
import type { PerMessageDeflateParams } from "../../../../runtime/protocols/websocket/permessage-deflate.js";
import { hex, parseAll } from "./helpers.js";

const DEFAULTS: PerMessageDeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
const TAIL = Buffer.from([0, 0, 0xff, 0xff]);

describe("permessage-deflate negotiation (server)", () => {
  const negotiate = (header: string, options = {}): ReturnType<typeof negotiatePerMessageDeflate> => negotiatePerMessageDeflate(parseExtensions(header), options);

  it("accepts a plain offer with the default parameters", () => {
    expect(negotiate("permessage-deflate")).toEqual({ params: DEFAULTS, response: "permessage-deflate" });
    expect(negotiate("permessage-deflate; client_max_window_bits")).toEqual({ params: DEFAULTS, response: "permessage-deflate" });
  });

  it("honours the client's requests", () => {
    expect(negotiate("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12")).toEqual({
      params: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 },
      response: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
    });
  });

  it("applies the server's own limits", () => {
    const options = { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 11, clientMaxWindowBits: 9 };
    expect(negotiate("permessage-deflate; client_max_window_bits", options)).toEqual({
      params: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 11, clientMaxWindowBits: 9 },
      response: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=9",
    });
    // Without client_max_window_bits in the offer the server may not limit the client's window.
    expect(negotiate("permessage-deflate", { clientMaxWindowBits: 9 })?.response).toBe("permessage-deflate");
  });

  it("declines offers with unknown, repeated or malformed parameters and takes the next one", () => {
    for (const bad of ["permessage-deflate; foo", "permessage-deflate; server_no_context_takeover; server_no_context_takeover", "permessage-deflate; server_max_window_bits=16", "permessage-deflate; server_max_window_bits", "permessage-deflate; client_max_window_bits=7", "permessage-deflate; server_no_context_takeover=1"]) {
      expect(negotiate(bad)).toBeNull();
      expect(negotiate(`${bad}, permessage-deflate; server_max_window_bits=12`)?.params.serverMaxWindowBits).toBe(12);
    }
    expect(negotiate("x-webkit-deflate-frame, permessage-deflate")?.response).toBe("permessage-deflate");
    expect(negotiate("x-webkit-deflate-frame")).toBeNull();
  });

  it("accepts a window of 8 for its own compressor, and then sends uncompressed", () => {
    const agreement = negotiate("permessage-deflate; server_max_window_bits=8");
    expect(agreement?.params.serverMaxWindowBits).toBe(8);
    const pmd = new PerMessageDeflate("server", agreement!.params, { threshold: 0 });
    expect(pmd.canCompress).toBe(false);
    expect(pmd.shouldCompress(10_000)).toBe(false);
  });
});

describe("permessage-deflate negotiation (client)", () => {
  it("builds offers", () => {
    expect(perMessageDeflateOffer()).toBe("permessage-deflate; client_max_window_bits");
    expect(perMessageDeflateOffer({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11 })).toBe(
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11",
    );
    expect(() => perMessageDeflateOffer({ serverMaxWindowBits: 8 })).toThrow(InvalidOptionError);
    expect(() => perMessageDeflateOffer({ level: 10 })).toThrow(/level/);
  });

  it("accepts responses the offer allows and rejects the rest", () => {
    const accept = (header: string, options = {}): PerMessageDeflateParams => acceptPerMessageDeflate(parseExtensions(header)[0]!, options);
    expect(accept("permessage-deflate")).toEqual(DEFAULTS);
    expect(accept("permessage-deflate; server_no_context_takeover; client_max_window_bits=10")).toEqual({ ...DEFAULTS, serverNoContextTakeover: true, clientMaxWindowBits: 10 });
    expect(accept("permessage-deflate", { clientNoContextTakeover: true }).clientNoContextTakeover).toBe(true);
    for (const bad of ["permessage-deflate; foo", "permessage-deflate; client_max_window_bits", "permessage-deflate; server_max_window_bits=x"]) {
      expect(() => accept(bad)).toThrow(WebSocketHandshakeError);
    }
    expect(() => accept("permessage-deflate; server_max_window_bits=12", { serverMaxWindowBits: 10 })).toThrow(/over/);
    expect(() => accept("permessage-deflate; client_max_window_bits=12", { clientMaxWindowBits: 10 })).toThrow(/over/);
    expect(() => accept("other")).toThrow(/unexpected extension/);
  });
});

describe("PerMessageDeflate compression", () => {
  const text = Buffer.from("The quick brown fox jumps over the lazy dog. ".repeat(20));

  it("strips the 00 00 ff ff tail, and the output inflates with zlib once the tail is back", () => {
    const pmd = new PerMessageDeflate("server", DEFAULTS);
    const out = pmd.compress(text);
    expect(Buffer.from(out.subarray(-4)).equals(TAIL)).toBe(false);
    expect(inflateRawSync(Buffer.concat([out, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH }).equals(text)).toBe(true);
    // An empty message compresses to the single byte 00 (RFC 7692 section 7.2.3.6).
    expect(Array.from(new PerMessageDeflate("server", DEFAULTS).compress(new Uint8Array(0)))).toEqual([0]);
  });

  it("with context takeover, later messages refer back to earlier ones, and a streaming inflater agrees", () => {
    const pmd = new PerMessageDeflate("client", DEFAULTS);
    const first = pmd.compress(text);
    const second = pmd.compress(text);
    expect(second.length).toBeLessThan(first.length / 4);
    // One continuous raw deflate stream: what a peer keeping its window sees.
    const joined = inflateRawSync(Buffer.concat([first, TAIL, second, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH });
    expect(joined.equals(Buffer.concat([text, text]))).toBe(true);
    // And our own receiver, also keeping its window.
    const rx = new PerMessageDeflate("server", DEFAULTS);
    expect(Buffer.from(rx.decompress([first], 1 << 20)).equals(text)).toBe(true);
    expect(Buffer.from(rx.decompress([second.subarray(0, 3), second.subarray(3)], 1 << 20)).equals(text)).toBe(true);
  });

  it("without context takeover, every message stands alone", () => {
    const params = { ...DEFAULTS, clientNoContextTakeover: true };
    const pmd = new PerMessageDeflate("client", params);
    const first = pmd.compress(text);
    const second = pmd.compress(text);
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
    // Each inflates alone, with no history.
    expect(inflateRawSync(Buffer.concat([second, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH }).equals(text)).toBe(true);
  });

  it("decompresses zlib's own sync-flushed output, then a message that refers back to it", () => {
    const whole = deflateRawSync(text, { finishFlush: constants.Z_SYNC_FLUSH });
    const m1 = whole.subarray(0, whole.length - 4);
    const rx = new PerMessageDeflate("client", DEFAULTS);
    expect(Buffer.from(rx.decompress([m1], 1 << 20)).equals(text)).toBe(true);
    const tx = new PerMessageDeflate("server", DEFAULTS);
    tx.compress(text);
    const m2 = tx.compress(Buffer.from("The quick brown fox"));
    expect(Buffer.from(rx.decompress([m2], 1 << 20)).toString()).toBe("The quick brown fox");
  });

  it("round-trips random messages with takeover on and off, in both directions", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 10 }), fc.boolean(), fc.boolean(), fc.integer({ min: 9, max: 15 }), (msgs, serverNo, clientNo, bits) => {
        const params = { serverNoContextTakeover: serverNo, clientNoContextTakeover: clientNo, serverMaxWindowBits: bits, clientMaxWindowBits: bits };
        const s = new PerMessageDeflate("server", params);
        const c = new PerMessageDeflate("client", params);
        for (const m of msgs) {
          expect(Buffer.from(c.decompress([s.compress(m)], 1 << 20)).equals(Buffer.from(m))).toBe(true);
          expect(Buffer.from(s.decompress([c.compress(m)], 1 << 20)).equals(Buffer.from(m))).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("stops inflating a compression bomb at the limit (1009)", () => {
    const bomb = deflateRawSync(Buffer.alloc(64 * 1024 * 1024), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
    expect(bomb.length).toBeLessThan(100_000);
    const rx = new PerMessageDeflate("server", DEFAULTS);
    let error: unknown = null;
    try {
      rx.decompress([bomb], 1024 * 1024);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WebSocketMessageTooBigError);
    expect((error as WebSocketMessageTooBigError).closeCode).toBe(1009);
    expect((error as WebSocketMessageTooBigError).code).toBe("WL_ERR_WS_MESSAGE_TOO_BIG");
  });

  it("allows a message of exactly the limit and refuses one byte more", () => {
    const data = Buffer.alloc(1000, 7);
    const compressed = new PerMessageDeflate("server", DEFAULTS).compress(data);
    expect(new PerMessageDeflate("client", DEFAULTS).decompress([compressed], 1000).length).toBe(1000);
    expect(() => new PerMessageDeflate("client", DEFAULTS).decompress([compressed], 999)).toThrow(WebSocketMessageTooBigError);
  });

  it("a zip-bomb message through the parser fails with 1009", () => {
    const payload = deflateRawSync(Buffer.alloc(32 * 1024 * 1024), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
    const len = payload.length;
    const frame = Buffer.concat([hex(`c2 7e ${((len >> 8) & 0xff).toString(16).padStart(2, "0")} ${(len & 0xff).toString(16).padStart(2, "0")}`), payload]);
    expect(len).toBeLessThan(65536);
    const events = parseAll({ role: "client", maxPayload: 1 << 20, perMessageDeflate: new PerMessageDeflate("client", DEFAULTS) }, frame);
    expect(events).toEqual([["error", 1009, "message-too-big", "WL_ERR_WS_MESSAGE_TOO_BIG"]]);
  });

  it("rejects bad tuning options", () => {
    expect(() => new PerMessageDeflate("server", DEFAULTS, { threshold: -1 })).toThrow(/threshold/);
    expect(() => new PerMessageDeflate("server", DEFAULTS, { memLevel: 0 })).toThrow(/memLevel/);
    expect(() => new PerMessageDeflate("server", { ...DEFAULTS, clientMaxWindowBits: 7 })).toThrow(InvalidOptionError);
  });
});
