/**
 * NetstringReceiver: byte-level vectors, the strict length syntax (leading zeros, missing
 * length, missing comma), the length limit, and sendString (the shared contract is in
 * framing-receiver.test.ts).
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LengthLimitExceededError, NetstringParseError } from "../../../runtime/errors.js";
import { NetstringReceiver } from "../../../runtime/protocols/netstring-receiver.js";
import { RecordingTransport, b, feedBytewise, strs } from "./framing-helpers.js";

class Strings extends NetstringReceiver {
  readonly strings: Buffer[] = [];
  readonly errors: string[] = [];
  override stringReceived(data: Buffer): void {
    this.strings.push(Buffer.from(data));
  }
  override lengthLimitExceeded(length: number, error: LengthLimitExceededError): void {
    this.errors.push(`limit:${length}:${error.code}`);
    super.lengthLimitExceeded(length, error);
  }
  override netstringParseError(error: NetstringParseError): void {
    this.errors.push(`parse:${error.code}`);
    super.netstringParseError(error);
  }
}

function make(max?: number): { p: Strings; t: RecordingTransport } {
  const t = new RecordingTransport();
  const p = new Strings();
  if (max !== undefined) p.MAX_LENGTH = max;
  t.attach(p);
  return { p, t };
}

describe("NetstringReceiver vectors", () => {
  it("reads netstrings, the empty one included", () => {
    const { p } = make();
    p.dataReceived(b("5:hello,0:,3:a,b,"));
    expect(strs(p.strings)).toEqual(["hello", "", "a,b"]);
    expect(p.bufferedLength).toBe(0);
  });

  it("reads the same one byte at a time", () => {
    const { p } = make();
    feedBytewise(p, b("12:hello world!,1::,"));
    expect(strs(p.strings)).toEqual(["hello world!", ":"]);
  });

  it("holds only the payload of a string that spans chunks", () => {
    const { p } = make();
    p.dataReceived(b("10:abc"));
    expect(p.bufferedLength).toBe(10);
    p.dataReceived(b("defghij"));
    expect(p.strings).toHaveLength(0);
    p.dataReceived(b(","));
    expect(strs(p.strings)).toEqual(["abcdefghij"]);
  });

  const malformed: [string, string][] = [
    ["01:a,", "leading zero"],
    ["00:,", "two zeros"],
    [":a,", "missing length"],
    ["a:", "letter in length"],
    ["-1:a,", "sign"],
    [" 1:a,", "space"],
    ["3:abcX", "missing comma"],
    ["0:X", "missing comma after empty"],
  ];
  it.each(malformed)("rejects %j (%s) with NetstringParseError and closes", (input) => {
    const { p, t } = make();
    expect(() => p.dataReceived(b(input))).not.toThrow();
    expect(p.failure?.code).toBe("WL_ERR_NETSTRING_PARSE");
    expect(p.errors).toEqual(["parse:WL_ERR_NETSTRING_PARSE"]);
    expect(p.strings).toHaveLength(0);
    expect(t.loseCalls).toBe(1);
  });

  it("rejects a length over MAX_LENGTH as soon as its digits exceed it", () => {
    const { p, t } = make();
    p.dataReceived(b("9999"));
    p.dataReceived(b("9"));
    expect(p.failure).toBeNull();
    p.dataReceived(b("0"));
    expect(p.failure?.code).toBe("WL_ERR_LENGTH_LIMIT");
    expect(p.errors).toEqual(["limit:999990:WL_ERR_LENGTH_LIMIT"]);
    expect(t.loseCalls).toBe(1);
  });

  it("accepts exactly MAX_LENGTH and delivers nothing after an error", () => {
    const { p, t } = make(3);
    p.dataReceived(b("3:abc,4:abcd,1:x,"));
    expect(strs(p.strings)).toEqual(["abc"]);
    expect(p.failure?.code).toBe("WL_ERR_LENGTH_LIMIT");
    t.disconnecting = false;
    p.dataReceived(b("1:y,"));
    expect(strs(p.strings)).toEqual(["abc"]);
  });

  it("never delivers a string from garbage that is not a netstring", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 30 }), (junk) => {
        const { p } = make(10);
        p.dataReceived(Buffer.from(junk));
        const text = Buffer.from(junk).toString("latin1");
        for (const s of p.strings) expect(text).toContain(`${s.length}:${s.toString("latin1")},`);
      }),
    );
  });
});

describe("NetstringReceiver sendString", () => {
  it("frames strings and bytes", () => {
    const { p, t } = make();
    p.sendString("hello");
    p.sendString(new Uint8Array(0));
    p.sendString("é");
    expect(t.value()).toEqual(Buffer.concat([b("5:hello,0:,2:"), Buffer.from("é"), b(",")]));
  });

  it("sends a large string as a sequence", () => {
    const { p, t } = make();
    p.sendString(Buffer.alloc(50_000, 1));
    expect(t.sequences).toBe(1);
    expect(t.value().subarray(0, 6).toString()).toBe("50000:");
    expect(t.value().length).toBe(50_007);
  });
});
