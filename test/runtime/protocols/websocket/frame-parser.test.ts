import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { InvalidOptionError } from "../../../../runtime/errors.js";
import { DEFAULT_MAX_PAYLOAD, FrameParser } from "../../../../runtime/protocols/websocket/frame-parser.js";
import type { FrameParserOptions } from "../../../../runtime/protocols/websocket/frame-parser.js";
import { FrameWriter } from "../../../../runtime/protocols/websocket/frame-writer.js";
import { PerMessageDeflate } from "../../../../runtime/protocols/websocket/permessage-deflate.js";
import { CollectingSink, hex, parseAll, recordingParser, seededRandom, toHex } from "./helpers.js";
import type { ParserEvent } from "./helpers.js";

const CLIENT: FrameParserOptions = { role: "client" }; // parses unmasked server frames
const SERVER: FrameParserOptions = { role: "server" }; // parses masked client frames

const pmdParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

/** A masked client frame built by hand: mask key 37 fa 21 3d as in RFC 6455 section 5.7. */
function masked(b0: number, payload: Uint8Array, key = [0x37, 0xfa, 0x21, 0x3d]): Uint8Array {
  const len = payload.length;
  const head = len < 126 ? [b0, 0x80 | len] : len < 65536 ? [b0, 0x80 | 126, len >> 8, len & 0xff] : [b0, 0x80 | 127, 0, 0, 0, 0, len >>> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff];
  const out = new Uint8Array(head.length + 4 + len);
  out.set(head);
  out.set(key, head.length);
  for (let i = 0; i < len; i++) out[head.length + 4 + i] = (payload[i] ?? 0) ^ (key[i & 3] ?? 0);
  return out;
}

/** An unmasked server frame built by hand. */
function plain(b0: number, payload: Uint8Array): Uint8Array {
  const len = payload.length;
  const head = len < 126 ? [b0, len] : len < 65536 ? [b0, 126, len >> 8, len & 0xff] : [b0, 127, 0, 0, 0, 0, len >>> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "utf8"));
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const closeBody = (code: number, reason: Uint8Array = new Uint8Array(0)): Uint8Array => cat(new Uint8Array([code >> 8, code & 0xff]), reason);

describe("FrameParser: RFC 6455 section 5.7 vectors", () => {
  it("a single-frame unmasked text message", () => {
    expect(parseAll(CLIENT, hex("81 05 48 65 6c 6c 6f"))).toEqual([["text", "Hello"]]);
  });

  it("a single-frame masked text message", () => {
    expect(parseAll(SERVER, hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"))).toEqual([["text", "Hello"]]);
  });

  it("a fragmented unmasked text message", () => {
    expect(parseAll(CLIENT, hex("01 03 48 65 6c 80 02 6c 6f"))).toEqual([["text", "Hello"]]);
  });

  it("an unmasked ping and a masked pong", () => {
    expect(parseAll(CLIENT, hex("89 05 48 65 6c 6c 6f"))).toEqual([["ping", "48656c6c6f"]]);
    expect(parseAll(SERVER, hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"))).toEqual([["pong", "48656c6c6f"]]);
  });

  it("256 bytes of binary data in a single unmasked frame (16-bit length)", () => {
    const payload = Uint8Array.from({ length: 256 }, (_, i) => i);
    const frame = cat(hex("82 7e 01 00"), payload);
    expect(parseAll(CLIENT, frame)).toEqual([["binary", toHex(payload)]]);
  });

  it("64 KiB of binary data in a single unmasked frame (64-bit length)", () => {
    const payload = Uint8Array.from({ length: 65536 }, (_, i) => (i * 7) & 0xff);
    const frame = cat(hex("82 7f 00 00 00 00 00 01 00 00"), payload);
    expect(parseAll(CLIENT, frame)).toEqual([["binary", toHex(payload)]]);
    // And masked, fed one byte at a time.
    const { parser, events } = recordingParser(SERVER);
    const m = masked(0x82, payload);
    for (let i = 0; i < m.length; i++) parser.feed(m.subarray(i, i + 1));
    expect(events).toEqual([["binary", toHex(payload)]]);
  });

  it("a control frame interleaved in a fragmented message", () => {
    const stream = cat(hex("01 03 48 65 6c"), hex("89 02 68 69"), hex("00 01 6c"), hex("8a 00"), hex("80 01 6f"));
    expect(parseAll(CLIENT, stream)).toEqual([
      ["ping", "6869"],
      ["pong", ""],
      ["text", "Hello"],
    ]);
  });

  it("empty messages, and a close frame with and without a code", () => {
    expect(parseAll(CLIENT, hex("81 00 82 00 88 00"))).toEqual([
      ["text", ""],
      ["binary", ""],
      ["close", 1005, ""],
    ]);
    expect(parseAll(CLIENT, plain(0x88, closeBody(1000, utf8("bye ✓"))))).toEqual([["close", 1000, "bye ✓"]]);
    expect(parseAll(SERVER, masked(0x88, closeBody(4999)))).toEqual([["close", 4999, ""]]);
  });

  it("a text message split inside a UTF-8 sequence, across fragments and across chunks", () => {
    const euro = utf8("€"); // e2 82 ac
    const stream = cat(plain(0x01, euro.subarray(0, 1)), plain(0x00, euro.subarray(1, 2)), plain(0x80, euro.subarray(2)));
    expect(parseAll(CLIENT, stream)).toEqual([["text", "€"]]);
    const { parser, events } = recordingParser(SERVER);
    const m = masked(0x81, utf8("héllo wörld 𝄞"));
    for (let i = 0; i < m.length; i += 3) parser.feed(m.subarray(i, i + 3));
    expect(events).toEqual([["text", "héllo wörld 𝄞"]]);
  });

  it("keeps a byte-order mark as content", () => {
    expect(parseAll(CLIENT, plain(0x81, hex("ef bb bf 41")))).toEqual([["text", "\ufeffA"]]);
  });

  it("ignores everything after a close frame", () => {
    const { parser, events } = recordingParser(CLIENT);
    parser.feed(cat(hex("88 02 03 e8"), hex("81 01 41")));
    parser.feed(hex("81 01 42"));
    expect(events).toEqual([["close", 1000, ""]]);
    expect(parser.closed).toBe(true);
    expect(parser.stopped).toBe(true);
  });

  it("delivers an unmasked single-frame binary message as a view, without copying", () => {
    const frame = hex("82 03 01 02 03");
    let got: Uint8Array | null = null;
    const parser = new FrameParser(CLIENT, {
      onMessage: (data) => {
        got = data as Uint8Array;
      },
      onPing: () => {},
      onPong: () => {},
      onClose: () => {},
      onError: () => {},
    });
    parser.feed(frame);
    expect(got).not.toBeNull();
    expect((got as unknown as Uint8Array).buffer).toBe(frame.buffer);
  });

  it("never modifies the bytes it is fed (masked payloads are unmasked into new buffers)", () => {
    const frame = hex("81 85 37 fa 21 3d 7f 9f 4d 51 58");
    const copy = frame.slice();
    parseAll(SERVER, frame);
    expect(frame).toEqual(copy);
  });
});

describe("FrameParser: every error maps to its close code and stops the parser for good", () => {
  const cases: [string, FrameParserOptions, Uint8Array, number, string][] = [
    ["RSV2 set", CLIENT, hex("a1 01 41"), 1002, "reserved-bits"],
    ["RSV3 set", CLIENT, hex("91 01 41"), 1002, "reserved-bits"],
    ["RSV1 without permessage-deflate", CLIENT, hex("c1 01 41"), 1002, "rsv1-without-extension"],
    ["opcode 0x3", CLIENT, hex("83 00"), 1002, "invalid-opcode"],
    ["opcode 0x7", CLIENT, hex("87 00"), 1002, "invalid-opcode"],
    ["opcode 0xb", CLIENT, hex("8b 00"), 1002, "invalid-opcode"],
    ["opcode 0xf", CLIENT, hex("8f 00"), 1002, "invalid-opcode"],
    ["a continuation with no message", CLIENT, hex("80 01 41"), 1002, "unexpected-continuation"],
    ["a text frame inside a fragmented message", CLIENT, hex("01 01 41 81 01 42"), 1002, "expected-continuation"],
    ["a binary frame inside a fragmented message", CLIENT, hex("02 01 41 02 01 42"), 1002, "expected-continuation"],
    ["a fragmented ping", CLIENT, hex("09 00"), 1002, "fragmented-control-frame"],
    ["a fragmented close", CLIENT, hex("08 00"), 1002, "fragmented-control-frame"],
    ["a ping longer than 125 bytes", CLIENT, cat(hex("89 7e 00 7e"), new Uint8Array(126)), 1002, "control-frame-too-long"],
    ["a close frame with a 1-byte payload", CLIENT, hex("88 01 03"), 1002, "invalid-close-payload"],
    ["an unmasked frame from a client", SERVER, hex("81 05 48 65 6c 6c 6f"), 1002, "unmasked-frame"],
    ["a masked frame from a server", CLIENT, hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"), 1002, "masked-frame"],
    ["invalid UTF-8 in a text message", CLIENT, hex("81 02 c3 28"), 1007, "invalid-utf8-text"],
    ["a UTF-16 surrogate encoded in UTF-8", CLIENT, hex("81 03 ed a0 80"), 1007, "invalid-utf8-text"],
    ["a text message ending inside a UTF-8 sequence", CLIENT, hex("01 01 e2 80 01 82"), 1007, "invalid-utf8-text"],
    ["invalid UTF-8 in a close reason", CLIENT, hex("88 04 03 e8 c3 28"), 1007, "invalid-utf8-reason"],
    ["a 64-bit length with its top bit set", CLIENT, hex("82 7f 80 00 00 00 00 00 00 00"), 1002, "invalid-length"],
    ["a 64-bit length of 2^53", CLIENT, hex("82 7f 00 20 00 00 00 00 00 00"), 1009, "message-too-big"],
  ];
  for (const [name, options, bytes, code, reason] of cases) {
    it(`${name} -> ${code}`, () => {
      const { parser, events } = recordingParser(options);
      parser.feed(bytes);
      expect(events).toHaveLength(1);
      expect(events[0]?.slice(0, 3)).toEqual(["error", code, reason]);
      expect(parser.failure?.closeCode).toBe(code);
      expect(parser.stopped).toBe(true);
      parser.feed(hex("81 01 41 89 00"));
      parser.feed(masked(0x81, utf8("A")));
      expect(events).toHaveLength(1);
    });
  }

  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]) {
    it(`close code ${code} on the wire -> 1002`, () => {
      expect(parseAll(CLIENT, plain(0x88, closeBody(code)))).toEqual([["error", 1002, "invalid-close-code", "WL_ERR_WS_PROTOCOL"]]);
    });
  }

  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999]) {
    it(`close code ${code} is accepted`, () => {
      expect(parseAll(SERVER, masked(0x88, closeBody(code, utf8("x"))))).toEqual([["close", code, "x"]]);
    });
  }

  it("error codes are stable", () => {
    expect(parseAll(CLIENT, hex("81 02 c3 28"))[0]?.[3]).toBe("WL_ERR_WS_INVALID_UTF8");
    expect(parseAll({ role: "client", maxPayload: 1 }, hex("81 02"))[0]?.[3]).toBe("WL_ERR_WS_MESSAGE_TOO_BIG");
    expect(parseAll(CLIENT, hex("83 00"))[0]?.[3]).toBe("WL_ERR_WS_PROTOCOL");
  });

  it("fails fast on invalid UTF-8 in the first fragment, before the message ends", () => {
    expect(parseAll(CLIENT, hex("01 02 c3 28"))).toEqual([["error", 1007, "invalid-utf8-text", "WL_ERR_WS_INVALID_UTF8"]]);
  });

  it("checks maxPayload on the announced length, before buffering any of the payload", () => {
    const { parser, events } = recordingParser({ role: "client", maxPayload: 1000 });
    parser.feed(hex("82 7e 03 e9")); // announces 1001 bytes; none follow
    expect(events).toEqual([["error", 1009, "message-too-big", "WL_ERR_WS_MESSAGE_TOO_BIG"]]);
    expect(parser.bufferedBytes).toBe(0);
  });

  it("counts every fragment of a message against maxPayload", () => {
    const { parser, events } = recordingParser({ role: "client", maxPayload: 10 });
    parser.feed(plain(0x02, new Uint8Array(6)));
    expect(parser.bufferedBytes).toBe(6);
    parser.feed(plain(0x00, new Uint8Array(4)).subarray(0, 2)); // header of a 4-byte fragment: 6 + 4 = 10 fits
    expect(events).toEqual([]);
    parser.feed(new Uint8Array(4));
    parser.feed(hex("80 01")); // 11 > 10
    expect(events).toEqual([["error", 1009, "message-too-big", "WL_ERR_WS_MESSAGE_TOO_BIG"]]);
  });

  it("accepts a message of exactly maxPayload bytes", () => {
    expect(parseAll({ role: "client", maxPayload: 3 }, hex("81 03 41 42 43"))).toEqual([["text", "ABC"]]);
  });

  it("permits RSV1 only on the first frame of a data message when permessage-deflate is on", () => {
    const pmd = (): PerMessageDeflate => new PerMessageDeflate("client", pmdParams);
    expect(parseAll({ role: "client", perMessageDeflate: pmd() }, hex("41 01 00 c0 01 00"))).toEqual([["error", 1002, "rsv1-on-continuation", "WL_ERR_WS_PROTOCOL"]]);
    expect(parseAll({ role: "client", perMessageDeflate: pmd() }, hex("c9 00"))).toEqual([["error", 1002, "rsv1-on-control-frame", "WL_ERR_WS_PROTOCOL"]]);
    expect(parseAll({ role: "client", perMessageDeflate: pmd() }, hex("c1 02 ff ff"))).toEqual([["error", 1007, "invalid-compressed-data", "WL_ERR_WS_PROTOCOL"]]);
  });

  it("a handler that throws stops the parser with 1011", () => {
    const { parser, events } = recordingParser(CLIENT, {
      onMessage: () => {
        throw new Error("boom");
      },
    });
    parser.feed(hex("81 01 41 81 01 42"));
    expect(events).toEqual([
      ["text", "A"],
      ["error", 1011, "internal-error", "WL_ERR_WS_HANDLER_FAILED"],
    ]);
  });

  it("rejects bad options, naming them", () => {
    const handlers = { onMessage: () => {}, onPing: () => {}, onPong: () => {}, onClose: () => {}, onError: () => {} };
    expect(() => new FrameParser({ role: "client", maxPayload: -1 }, handlers)).toThrow(InvalidOptionError);
    expect(() => new FrameParser({ role: "client", maxPayload: 2 ** 53 }, handlers)).toThrow(/maxPayload/);
    expect(new FrameParser({ role: "client" }, handlers).maxPayload).toBe(DEFAULT_MAX_PAYLOAD);
  });
});

describe("FrameParser: pausing", () => {
  it("stops mid-chunk and delivers the rest on resume", () => {
    const { parser, events } = recordingParser(CLIENT, {
      onMessage: () => {
        parser.pause();
      },
    });
    parser.feed(hex("81 01 41 81 01 42 81 01 43"));
    expect(events).toEqual([["text", "A"]]);
    expect(parser.heldBytes).toBe(6);
    parser.feed(hex("81 01 44"));
    expect(events).toHaveLength(1);
    parser.resume();
    expect(events.map((e) => e[1])).toEqual(["A", "B"]);
    parser.resume();
    parser.resume();
    expect(events.map((e) => e[1])).toEqual(["A", "B", "C", "D"]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

interface Msg {
  kind: "text" | "binary" | "ping" | "pong";
  text: string;
  bytes: Uint8Array;
  fragmentSize: number;
}

const msgArb: fc.Arbitrary<Msg> = fc.record({
  kind: fc.constantFrom("text", "binary", "ping", "pong"),
  text: fc.string({ unit: "grapheme", maxLength: 60 }),
  bytes: fc.uint8Array({ maxLength: 300 }),
  fragmentSize: fc.integer({ min: 0, max: 40 }),
});

function encode(role: "server" | "client", msgs: readonly Msg[], seed: number, deflate: PerMessageDeflate | null = null): { stream: Uint8Array; expected: ParserEvent[] } {
  const sink = new CollectingSink();
  const writer = new FrameWriter(sink, { role, random: seededRandom(seed), perMessageDeflate: deflate });
  const expected: ParserEvent[] = [];
  for (const m of msgs) {
    if (m.kind === "text") {
      writer.sendMessage(m.text, m.fragmentSize);
      expected.push(["text", m.text]);
    } else if (m.kind === "binary") {
      writer.sendMessage(m.bytes, m.fragmentSize);
      expected.push(["binary", toHex(m.bytes)]);
    } else {
      const data = m.bytes.subarray(0, 125);
      if (m.kind === "ping") writer.ping(data);
      else writer.pong(data);
      expected.push([m.kind, toHex(data)]);
    }
  }
  writer.close(1000, "done");
  expected.push(["close", 1000, "done"]);
  return { stream: sink.bytes(), expected };
}

function cuts(stream: Uint8Array, points: number[]): Uint8Array[] {
  const sorted = [...new Set(points.map((p) => p % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of sorted) {
    out.push(stream.subarray(at, p));
    at = p;
  }
  out.push(stream.subarray(at));
  return out;
}

describe("FrameParser: properties", () => {
  it("writer -> parser round trip, and any split of the stream gives the same events (both roles)", () => {
    fc.assert(
      fc.property(fc.array(msgArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), fc.boolean(), fc.nat(), (msgs, points, fromClient, seed) => {
        // Lone surrogates are sent as U+FFFD: compare with what UTF-8 can carry.
        const clean = msgs.map((m) => ({ ...m, text: Buffer.from(m.text, "utf8").toString("utf8") }));
        const { stream, expected } = encode(fromClient ? "client" : "server", clean, seed);
        const role = fromClient ? "server" : "client";
        expect(parseAll({ role }, stream)).toEqual(expected);
        const { parser, events } = recordingParser({ role });
        for (const piece of cuts(stream, points)) parser.feed(piece);
        expect(events).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("with permessage-deflate, messages round trip through compression, fragmented or not", () => {
    fc.assert(
      fc.property(fc.array(msgArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), fc.boolean(), (msgs, points, noTakeover, fromClient) => {
        const params = { ...pmdParams, serverNoContextTakeover: noTakeover, clientNoContextTakeover: noTakeover };
        const clean = msgs.map((m) => ({ ...m, text: Buffer.from(m.text, "utf8").toString("utf8") }));
        const sender = fromClient ? "client" : "server";
        const receiver = fromClient ? "server" : "client";
        const { stream, expected } = encode(sender, clean, 7, new PerMessageDeflate(sender, params, { threshold: 0 }));
        const { parser, events } = recordingParser({ role: receiver, perMessageDeflate: new PerMessageDeflate(receiver, params) });
        for (const piece of cuts(stream, points)) parser.feed(piece);
        expect(events).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it("random bytes never throw, never buffer past maxPayload, and end in at most one error", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 40 }), fc.constantFrom<"server" | "client">("server", "client"), fc.integer({ min: 0, max: 200 }), (chunks, role, maxPayload) => {
        const { parser, events } = recordingParser({ role, maxPayload });
        for (const c of chunks) {
          parser.feed(c);
          expect(parser.bufferedBytes).toBeLessThanOrEqual(maxPayload);
          expect(parser.heldBytes).toBe(0);
        }
        const errors = events.filter((e) => e[0] === "error");
        expect(errors.length).toBeLessThanOrEqual(1);
        if (errors.length === 1) expect(events.at(-1)?.[0]).toBe("error");
        for (const e of events) if (e[0] === "text" || e[0] === "binary") expect(e[0] === "text" ? Buffer.byteLength(e[1]) : e[1].length / 2).toBeLessThanOrEqual(maxPayload);
      }),
      { numRuns: 500 },
    );
  });

  it("random frame-shaped streams (valid headers, random payloads) behave the same under any split", () => {
    const frameArb = fc.record({ b0: fc.constantFrom(0x81, 0x82, 0x01, 0x02, 0x00, 0x80, 0x89, 0x8a, 0x88), payload: fc.uint8Array({ maxLength: 30 }) });
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 20 }), (frames, points) => {
        const stream = cat(...frames.map((f) => masked(f.b0, f.payload)));
        const whole = parseAll(SERVER, stream);
        const { parser, events } = recordingParser(SERVER);
        for (const piece of cuts(stream, points)) parser.feed(piece);
        expect(events).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });
});
