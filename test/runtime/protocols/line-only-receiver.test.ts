/**
 * LineOnlyReceiver: byte-level vectors and Twisted's length rule (the shared contract is in
 * framing-receiver.test.ts).
 */

import { describe, expect, it } from "vitest";
import type { LineLengthExceededError } from "../../../runtime/errors.js";
import { LineOnlyReceiver } from "../../../runtime/protocols/line-only-receiver.js";
import { RecordingTransport, b, strs } from "./framing-helpers.js";

class Lines extends LineOnlyReceiver {
  readonly lines: Buffer[] = [];
  readonly exceeded: Buffer[] = [];
  override lineReceived(line: Buffer): void {
    this.lines.push(Buffer.from(line));
  }
  override lineLengthExceeded(line: Buffer, error: LineLengthExceededError): void {
    this.exceeded.push(Buffer.from(line));
    super.lineLengthExceeded(line, error);
  }
}

function make(setup?: (p: Lines) => void): { p: Lines; t: RecordingTransport } {
  const t = new RecordingTransport();
  const p = new Lines();
  setup?.(p);
  t.attach(p);
  return { p, t };
}

describe("LineOnlyReceiver", () => {
  it("splits on CRLF across chunks, including a split delimiter", () => {
    const { p } = make();
    p.dataReceived(b("a\r\nb\r"));
    p.dataReceived(b("\nc"));
    expect(strs(p.lines)).toEqual(["a", "b"]);
    expect(p.bufferedLength).toBe(1);
  });

  it("uses a configured delimiter", () => {
    const { p } = make((x) => (x.delimiter = "||"));
    p.dataReceived(b("x||y|"));
    p.dataReceived(b("|z"));
    expect(strs(p.lines)).toEqual(["x", "y"]);
  });

  it("applies Twisted's length rule and closes with LineLengthExceededError", () => {
    const { p, t } = make((x) => (x.MAX_LENGTH = 3));
    p.dataReceived(b("abc\r\nabc\r"));
    expect(strs(p.lines)).toEqual(["abc"]);
    expect(p.failure).toBeNull();
    p.dataReceived(b("x"));
    expect(p.failure?.code).toBe("WL_ERR_LINE_TOO_LONG");
    expect(strs(p.exceeded)).toEqual(["abc\rx"]);
    expect(t.loseCalls).toBe(1);
    t.disconnecting = false;
    p.dataReceived(b("\r\nok\r\n"));
    expect(strs(p.lines)).toEqual(["abc"]);
  });

  it("sends lines with the delimiter", () => {
    const { p, t } = make();
    p.sendLine("hi");
    p.sendLine(b("there"));
    expect(t.value().toString()).toBe("hi\r\nthere\r\n");
  });

  it("has no raw mode", () => {
    expect("setRawMode" in new LineOnlyReceiver()).toBe(false);
  });
});
