/**
 * Int8/16/32StringReceiver: byte-level vectors, the length limit, a prefix split across
 * chunks, and sendString's bound (the shared contract is in framing-receiver.test.ts).
 */

import { describe, expect, it } from "vitest";
import type { LengthLimitExceededError } from "../../../runtime/errors.js";
import { StringTooLongError } from "../../../runtime/errors.js";
import {
  Int16StringReceiver,
  Int32StringReceiver,
  Int8StringReceiver,
} from "../../../runtime/protocols/int-n-string-receiver.js";
import type { IntNStringReceiver } from "../../../runtime/protocols/int-n-string-receiver.js";
import { RecordingTransport, feedBytewise, strs } from "./framing-helpers.js";

interface Recording {
  strings: Buffer[];
  limits: number[];
}

function recording<R extends IntNStringReceiver>(p: R): R & Recording {
  const r = Object.assign(p, { strings: [] as Buffer[], limits: [] as number[] });
  const limit = p.lengthLimitExceeded.bind(p);
  r.stringReceived = (data: Buffer) => void r.strings.push(Buffer.from(data));
  r.lengthLimitExceeded = (length: number, error: LengthLimitExceededError) => {
    r.limits.push(length);
    limit(length, error);
  };
  return r;
}

const sizes = [
  { name: "Int8StringReceiver", make: () => new Int8StringReceiver(), p: 1 },
  { name: "Int16StringReceiver", make: () => new Int16StringReceiver(), p: 2 },
  { name: "Int32StringReceiver", make: () => new Int32StringReceiver(), p: 4 },
] as const;

describe.each(sizes)("$name", ({ make, p: size }) => {
  const frame = (s: string): Buffer => {
    const out = Buffer.alloc(size + s.length);
    out.writeUIntBE(s.length, 0, size);
    out.write(s, size, "latin1");
    return out;
  };

  function setup(max?: number) {
    const t = new RecordingTransport();
    const r = recording(make());
    if (max !== undefined) r.MAX_LENGTH = max;
    t.attach(r);
    return { r, t };
  }

  it("has Twisted's prefix size and default limit", () => {
    const r = make();
    expect(r.prefixLength).toBe(size);
    expect(r.MAX_LENGTH).toBe(99999);
  });

  it("reads big-endian prefixed strings, the empty one included", () => {
    const { r } = setup();
    r.dataReceived(Buffer.concat([frame("abc"), frame(""), frame("x")]));
    expect(strs(r.strings)).toEqual(["abc", "", "x"]);
  });

  it("reads a prefix and payload split at every byte", () => {
    const { r } = setup();
    feedBytewise(r, Buffer.concat([frame("hello"), frame("")]));
    expect(strs(r.strings)).toEqual(["hello", ""]);
    expect(r.bufferedLength).toBe(0);
  });

  it("holds a partial prefix, then only the payload", () => {
    const { r } = setup();
    const f = frame("abcdef");
    r.dataReceived(f.subarray(0, size - 1));
    expect(r.bufferedLength).toBe(size - 1);
    r.dataReceived(f.subarray(size - 1, size + 2));
    expect(r.bufferedLength).toBe(6);
    r.dataReceived(f.subarray(size + 2));
    expect(strs(r.strings)).toEqual(["abcdef"]);
  });

  it("closes with LengthLimitExceededError on a prefix over MAX_LENGTH", () => {
    const { r, t } = setup(4);
    r.dataReceived(Buffer.concat([frame("abcd"), frame("abcde"), frame("a")]));
    expect(strs(r.strings)).toEqual(["abcd"]);
    expect(r.limits).toEqual([5]);
    expect(r.failure?.code).toBe("WL_ERR_LENGTH_LIMIT");
    expect(t.loseCalls).toBe(1);
    t.disconnecting = false;
    r.dataReceived(frame("b"));
    expect(r.strings).toHaveLength(1);
  });

  it("frames what sendString sends", () => {
    const { r, t } = setup();
    r.sendString("hi");
    r.sendString(new Uint8Array([0, 255]));
    expect(t.value()).toEqual(Buffer.concat([frame("hi"), frame("\u0000\u00ff")]));
  });

  it("throws StringTooLongError for a string its prefix cannot express", () => {
    const { r, t } = setup();
    const limit = 2 ** (8 * size) - 1;
    if (limit < 1_000_000) {
      expect(() => r.sendString(Buffer.alloc(limit + 1))).toThrow(StringTooLongError);
      expect(() => r.sendString(Buffer.alloc(limit + 1))).toThrow(expect.objectContaining({ code: "WL_ERR_STRING_TOO_LONG" }));
      r.sendString(Buffer.alloc(limit));
      expect(t.value().length).toBe(limit + size);
    } else {
      r.sendString(Buffer.alloc(200_000));
      expect(t.value().readUInt32BE(0)).toBe(200_000);
    }
  });
});

describe("Int32StringReceiver", () => {
  it("reads a length with the high bit set as unsigned", () => {
    const t = new RecordingTransport();
    const r = recording(new Int32StringReceiver());
    t.attach(r);
    r.dataReceived(Buffer.from([0x80, 0, 0, 0, 1, 2]));
    expect(r.limits).toEqual([2 ** 31]);
    expect(r.failure?.code).toBe("WL_ERR_LENGTH_LIMIT");
  });
});
