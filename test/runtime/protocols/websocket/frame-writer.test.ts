import { describe, expect, it } from "vitest";

import { InvalidOptionError } from "../../../../runtime/errors.js";
import { FrameWriter, closePayload, frameHeader } from "../../../../runtime/protocols/websocket/frame-writer.js";
import { PerMessageDeflate } from "../../../../runtime/protocols/websocket/permessage-deflate.js";
import { SEND_COPY_THRESHOLD } from "../../../../runtime/protocols/framing-receiver.js";
import { CollectingSink, hex, parseAll, seededRandom, toHex } from "./helpers.js";

const server = (sink: CollectingSink, fragmentSize?: number): FrameWriter =>
  new FrameWriter(sink, { role: "server", ...(fragmentSize === undefined ? {} : { fragmentSize }) });

describe("FrameWriter", () => {
  it("frames an unmasked text message as in RFC 6455 section 5.7, in one write", () => {
    const sink = new CollectingSink();
    server(sink).sendMessage("Hello");
    expect(toHex(sink.bytes())).toBe("810548656c6c6f");
    expect(sink.writes).toBe(1);
    expect(sink.sequences).toBe(0);
  });

  it("masks every client frame with a fresh key from the random source", () => {
    const sink = new CollectingSink();
    const writer = new FrameWriter(sink, { role: "client", random: () => 0x37fa213d / 2 ** 32 });
    writer.sendMessage("Hello");
    expect(toHex(sink.bytes())).toBe("818537fa213d7f9f4d5158");
    sink.clear();
    const rnd = seededRandom(1);
    const w2 = new FrameWriter(sink, { role: "client", random: rnd });
    w2.sendMessage("A");
    w2.sendMessage("A");
    const bytes = sink.bytes();
    // Same message, two different keys.
    expect(toHex(bytes.subarray(2, 6))).not.toBe(toHex(bytes.subarray(9, 13)));
    expect(parseAll({ role: "server" }, bytes)).toEqual([
      ["text", "A"],
      ["text", "A"],
    ]);
  });

  it("does not modify the caller's payload when masking", () => {
    const sink = new CollectingSink();
    const data = new Uint8Array([1, 2, 3, 4, 5]);
    new FrameWriter(sink, { role: "client", random: seededRandom(3) }).sendMessage(data);
    expect(Array.from(data)).toEqual([1, 2, 3, 4, 5]);
  });

  it("uses 7-bit, 16-bit and 64-bit lengths at the right boundaries", () => {
    expect(toHex(frameHeader(2, true, false, 125, null))).toBe("827d");
    expect(toHex(frameHeader(2, true, false, 126, null))).toBe("827e007e");
    expect(toHex(frameHeader(2, true, false, 65535, null))).toBe("827effff");
    expect(toHex(frameHeader(2, true, false, 65536, null))).toBe("827f0000000000010000");
    expect(toHex(frameHeader(2, true, false, 2 ** 40 + 5, null))).toBe("827f0000010000000005");
    expect(toHex(frameHeader(1, false, true, 3, new Uint8Array([1, 2, 3, 4])))).toBe("418301020304");
  });

  it("writes a large server frame as header + the caller's payload, without copying it", () => {
    const sink = new CollectingSink();
    const payload = new Uint8Array(SEND_COPY_THRESHOLD + 1);
    server(sink).sendMessage(payload);
    expect(sink.sequences).toBe(1);
    expect(sink.chunks).toHaveLength(2);
    expect(sink.chunks[1]).toBe(payload);
    expect(toHex(sink.chunks[0]!)).toBe("827e4001");
  });

  it("fragments a message into continuation frames", () => {
    const sink = new CollectingSink();
    server(sink, 4).sendMessage(hex("00 01 02 03 04 05 06 07 08 09"));
    expect(toHex(sink.bytes())).toBe("020400010203" + "000404050607" + "80020809");
    sink.clear();
    server(sink).sendMessage("Hello", 3);
    expect(toHex(sink.bytes())).toBe("010348656c" + "80026c6f");
    expect(parseAll({ role: "client" }, sink.bytes())).toEqual([["text", "Hello"]]);
  });

  it("streams a message frame by frame with sendFragment", () => {
    const sink = new CollectingSink();
    const w = server(sink);
    w.sendFragment(hex("41"), false, true, false);
    w.ping("p");
    w.sendFragment(hex("42"), false, false, true);
    expect(parseAll({ role: "client" }, sink.bytes())).toEqual([
      ["ping", "70"],
      ["text", "AB"],
    ]);
  });

  it("sends ping, pong and close frames, and checks their limits", () => {
    const sink = new CollectingSink();
    const w = server(sink);
    w.ping("Hello");
    w.pong(hex("01"));
    w.close();
    w.close(1000, "bye");
    expect(toHex(sink.bytes())).toBe("890548656c6c6f" + "8a0101" + "8800" + "880503e8627965");
    expect(() => w.ping(new Uint8Array(126))).toThrow(InvalidOptionError);
    expect(() => w.pong("x".repeat(126))).toThrow(/125/);
    for (const code of [999, 1004, 1005, 1006, 1015, 2999, 5000]) expect(() => w.close(code)).toThrow(InvalidOptionError);
    expect(() => w.close(1000, "é".repeat(62))).toThrow(/123/);
    expect(closePayload(4000, "é".repeat(61)).length).toBe(2 + 122);
    expect(() => closePayload(undefined, "no code")).toThrow(InvalidOptionError);
  });

  it("prepares a frame once for many connections (server only)", () => {
    const prepared = FrameWriter.prepare("Hello");
    expect(toHex(prepared.frame)).toBe("810548656c6c6f");
    const sink = new CollectingSink();
    server(sink).sendPrepared(prepared);
    server(sink).sendPrepared(FrameWriter.prepare(hex("0102")));
    expect(toHex(sink.bytes())).toBe("810548656c6c6f" + "82020102");
    expect(() => new FrameWriter(sink, { role: "client", random: seededRandom(1) }).sendPrepared(prepared)).toThrow(InvalidOptionError);
  });

  it("compresses messages at or over the threshold and sets RSV1 on the first frame only", () => {
    const params = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
    const sink = new CollectingSink();
    const w = new FrameWriter(sink, { role: "server", perMessageDeflate: new PerMessageDeflate("server", params, { threshold: 10 }), fragmentSize: 2 });
    w.sendMessage("short");
    expect(sink.bytes()[0]).toBe(0x01); // not compressed, fragmented
    sink.clear();
    w.sendMessage("a long message a long message a long message");
    const bytes = sink.bytes();
    expect(bytes[0]).toBe(0x41); // RSV1 + text, not FIN
    expect(bytes[4]).toBe(0x00); // the continuation has no RSV1
    expect(parseAll({ role: "client", perMessageDeflate: new PerMessageDeflate("client", params) }, bytes)).toEqual([["text", "a long message a long message a long message"]]);
  });

  it("rejects bad options, naming them", () => {
    const sink = new CollectingSink();
    expect(() => new FrameWriter(sink, { role: "client" })).toThrow(/random/);
    expect(() => new FrameWriter(sink, { role: "server", fragmentSize: -1 })).toThrow(/fragmentSize/);
    expect(() => server(sink).sendMessage("x", 1.5)).toThrow(/fragmentSize/);
  });
});
