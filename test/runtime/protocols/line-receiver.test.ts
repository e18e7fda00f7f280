/**
 * LineReceiver: byte-level vectors, delimiters that straddle chunks, Twisted's length rule,
 * raw mode switching mid-chunk, clearLineBuffer, sendLine.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LineLengthExceededError } from "../../../runtime/errors.js";
import { LineReceiver } from "../../../runtime/protocols/line-receiver.js";
import { RecordingTransport, b, chunk, cutsArb, feedBytewise, strs } from "./framing-helpers.js";

class Lines extends LineReceiver {
  readonly lines: Buffer[] = [];
  readonly raw: Buffer[] = [];
  readonly exceeded: { line: Buffer; error: LineLengthExceededError }[] = [];
  onLine: ((line: Buffer) => void) | undefined;
  onRaw: ((data: Buffer) => void) | undefined;

  override lineReceived(line: Buffer): void {
    this.lines.push(Buffer.from(line));
    this.onLine?.(line);
  }

  override rawDataReceived(data: Buffer): void {
    this.raw.push(Buffer.from(data));
    this.onRaw?.(data);
  }

  override lineLengthExceeded(line: Buffer, error: LineLengthExceededError): void {
    this.exceeded.push({ line: Buffer.from(line), error });
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

describe("LineReceiver vectors", () => {
  it("splits on CRLF and keeps a partial line for the next chunk", () => {
    const { p } = make();
    p.dataReceived(b("one\r\ntwo\r\nthr"));
    expect(strs(p.lines)).toEqual(["one", "two"]);
    expect(p.bufferedLength).toBe(3);
    p.dataReceived(b("ee\r\n\r\n"));
    expect(strs(p.lines)).toEqual(["one", "two", "three", ""]);
    expect(p.bufferedLength).toBe(0);
  });

  it("finds a CRLF split between two chunks", () => {
    const { p } = make();
    p.dataReceived(b("abc\r"));
    expect(p.lines).toHaveLength(0);
    p.dataReceived(b("\ndef\r\n"));
    expect(strs(p.lines)).toEqual(["abc", "def"]);
  });

  it("treats a lone LF as data with the default delimiter", () => {
    const { p } = make();
    p.dataReceived(b("a\nb\r\n"));
    expect(strs(p.lines)).toEqual(["a\nb"]);
  });

  it("uses a configured one-byte delimiter", () => {
    const { p } = make((x) => (x.delimiter = "\n"));
    p.dataReceived(b("a\nb\r\n"));
    expect(strs(p.lines)).toEqual(["a", "b\r"]);
  });

  it("finds a multi-byte delimiter split over three chunks", () => {
    const { p } = make((x) => (x.delimiter = b("<END>")));
    for (const piece of ["ab<E", "N", "D>cd<", "END", ">"]) p.dataReceived(b(piece));
    expect(strs(p.lines)).toEqual(["ab", "cd"]);
  });

  it("takes the earliest delimiter when it overlaps itself", () => {
    const { p } = make((x) => (x.delimiter = "aa"));
    p.dataReceived(b("xa"));
    p.dataReceived(b("aay"));
    // "xaaay": the first "aa" starts at index 1.
    expect(strs(p.lines)).toEqual(["x"]);
    expect(p.bufferedLength).toBe(2);
  });

  it("accepts a line of exactly MAX_LENGTH and rejects MAX_LENGTH + 1 once its delimiter arrives", () => {
    const { p, t } = make((x) => (x.MAX_LENGTH = 4));
    p.dataReceived(b("abcd\r\nabcde\r\nnext\r\n"));
    expect(strs(p.lines)).toEqual(["abcd"]);
    expect(p.failure).toBeInstanceOf(LineLengthExceededError);
    expect(p.failure?.code).toBe("WL_ERR_LINE_TOO_LONG");
    expect(p.exceeded).toHaveLength(1);
    expect(p.exceeded[0]?.line.toString()).toBe("abcde\r\nnext\r\n");
    expect(p.exceeded[0]?.error).toBe(p.failure);
    expect(t.loseCalls).toBe(1);
  });

  it("holds MAX_LENGTH + delimiter - 1 bytes without a delimiter, and fails at one more", () => {
    const { p, t } = make((x) => (x.MAX_LENGTH = 4));
    p.dataReceived(b("abcd\r"));
    expect(p.bufferedLength).toBe(5);
    expect(p.failure).toBeNull();
    p.dataReceived(b("\n"));
    expect(strs(p.lines)).toEqual(["abcd"]);
    p.dataReceived(b("abcde"));
    expect(p.bufferedLength).toBe(5);
    p.dataReceived(b("f"));
    expect(p.failure?.code).toBe("WL_ERR_LINE_TOO_LONG");
    expect(p.exceeded[0]?.line.toString()).toBe("abcdef");
    expect(t.loseCalls).toBe(1);
    expect(p.bufferedLength).toBe(0);
  });

  it("rejects an over-long line delivered in one chunk without its delimiter", () => {
    const { p } = make((x) => (x.MAX_LENGTH = 3));
    p.dataReceived(b("abcdefgh"));
    expect(p.failure?.code).toBe("WL_ERR_LINE_TOO_LONG");
    expect(p.bufferedLength).toBe(0);
  });

  it("takes MAX_LENGTH from a subclass's own constant", () => {
    class Short extends Lines {
      override MAX_LENGTH = 2;
    }
    const t = new RecordingTransport();
    const p = t.attach(new Short());
    p.dataReceived(b("ab\r\nabc\r\n"));
    expect(strs(p.lines)).toEqual(["ab"]);
    expect(p.failure?.code).toBe("WL_ERR_LINE_TOO_LONG");
  });

  it("delivers nothing after its error, whatever follows", () => {
    const { p, t } = make((x) => (x.MAX_LENGTH = 2));
    p.dataReceived(b("toolong\r\n"));
    t.disconnecting = false;
    p.dataReceived(b("ok\r\n"));
    p.setRawMode();
    p.dataReceived(b("raw"));
    expect(p.lines).toHaveLength(0);
    expect(p.raw).toHaveLength(0);
  });

  it("fails with InvalidOptionError on an empty delimiter, and sendLine throws it", () => {
    const { p, t } = make((x) => (x.delimiter = ""));
    expect(() => p.dataReceived(b("a\r\n"))).not.toThrow();
    expect(p.failure?.code).toBe("WL_ERR_INVALID_OPTION");
    expect(t.loseCalls).toBe(1);
    expect(() => p.sendLine("x")).toThrow(expect.objectContaining({ code: "WL_ERR_INVALID_OPTION" }));
  });

  it("applies a delimiter changed by a handler from the next line on", () => {
    const { p } = make();
    p.onLine = () => (p.delimiter = "\n");
    p.dataReceived(b("first\r\nsecond\nthird\n"));
    expect(strs(p.lines)).toEqual(["first", "second", "third"]);
  });
});

describe("LineReceiver raw mode", () => {
  it("sends the rest of the chunk after the switching line to rawDataReceived", () => {
    const { p } = make();
    p.onLine = (line) => {
      if (line.toString() === "RAW") p.setRawMode();
    };
    p.dataReceived(b("a\r\nRAW\r\nbinary\r\nstuff"));
    expect(strs(p.lines)).toEqual(["a", "RAW"]);
    expect(strs(p.raw)).toEqual(["binary\r\nstuff"]);
    expect(p.lineMode).toBe(false);
    p.dataReceived(b("more"));
    expect(strs(p.raw)).toEqual(["binary\r\nstuff", "more"]);
  });

  it("parses the extra given to setLineMode before anything else", () => {
    const { p } = make();
    p.onLine = (line) => {
      if (line.toString() === "RAW") p.setRawMode();
    };
    p.onRaw = (data) => p.setLineMode(data.subarray(3));
    p.dataReceived(b("RAW\r\n123x\r\ny"));
    p.dataReceived(b("\r\n"));
    expect(strs(p.raw)).toEqual(["123x\r\ny"]);
    expect(strs(p.lines)).toEqual(["RAW", "x", "y"]);
  });

  it("hands a partial line to rawDataReceived when raw mode starts between chunks", () => {
    const { p } = make();
    p.dataReceived(b("part"));
    p.setRawMode();
    p.dataReceived(b("ial"));
    expect(strs(p.raw)).toEqual(["partial"]);
    expect(p.lines).toHaveLength(0);
  });

  it("setLineMode with extra outside a handler parses it at once", () => {
    const { p } = make();
    p.setRawMode();
    p.setLineMode(b("a\r\nb"));
    expect(strs(p.lines)).toEqual(["a"]);
    expect(p.bufferedLength).toBe(1);
  });

  it("gives the same lines and raw bytes under any chunking (length-prefixed bodies)", () => {
    // A small protocol: a line "N" announces N raw bytes, then lines again.
    class Bodies extends LineReceiver {
      readonly events: string[] = [];
      #want = 0;
      #got: Buffer[] = [];
      override lineReceived(line: Buffer): void {
        this.events.push(`line:${line.toString("latin1")}`);
        const n = Number(line.toString("latin1"));
        if (line.length > 0 && Number.isInteger(n) && n > 0) {
          this.#want = n;
          this.#got = [];
          this.setRawMode();
        }
      }
      override rawDataReceived(data: Buffer): void {
        const take = Math.min(this.#want, data.length);
        this.#got.push(Buffer.from(data.subarray(0, take)));
        this.#want -= take;
        if (this.#want === 0) {
          this.events.push(`body:${Buffer.concat(this.#got).toString("latin1")}`);
          this.setLineMode(data.subarray(take));
        }
      }
    }
    const item = fc.oneof(
      fc.string({ unit: fc.constantFrom("a", "b", " "), maxLength: 8 }).map((s) => ({ kind: "line" as const, s })),
      fc.string({ unit: fc.constantFrom("x", "\r", "\n", "7"), minLength: 1, maxLength: 12 }).map((s) => ({ kind: "body" as const, s })),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 12 }), cutsArb, (items, cuts) => {
        let wire = "";
        const expected: string[] = [];
        for (const it of items) {
          if (it.kind === "line") {
            wire += `${it.s}\r\n`;
            expected.push(`line:${it.s}`);
          } else {
            wire += `${it.s.length}\r\n${it.s}`;
            expected.push(`line:${it.s.length}`, `body:${it.s}`);
          }
        }
        const t = new RecordingTransport();
        const p = t.attach(new Bodies());
        for (const piece of chunk(b(wire), cuts)) p.dataReceived(piece);
        expect(p.events).toEqual(expected);
        expect(p.failure).toBeNull();
      }),
    );
  });
});

describe("LineReceiver clearLineBuffer", () => {
  it("returns the partial line outside a handler", () => {
    const { p } = make();
    p.dataReceived(b("a\r\npartial"));
    expect(p.clearLineBuffer().toString()).toBe("partial");
    expect(p.bufferedLength).toBe(0);
    p.dataReceived(b("b\r\n"));
    expect(strs(p.lines)).toEqual(["a", "b"]);
  });

  it("returns and drops the rest of the chunk when called from lineReceived", () => {
    const { p } = make();
    let rest = "";
    p.onLine = (line) => {
      if (line.toString() === "stop") rest = p.clearLineBuffer().toString();
    };
    p.dataReceived(b("stop\r\nx\r\ny"));
    expect(rest).toBe("x\r\ny");
    expect(strs(p.lines)).toEqual(["stop"]);
    p.dataReceived(b("z\r\n"));
    expect(strs(p.lines)).toEqual(["stop", "z"]);
  });

  it("includes bytes held while paused", () => {
    const { p } = make();
    p.onLine = () => p.pauseProducing();
    p.dataReceived(b("a\r\nb\r\n"));
    p.dataReceived(b("c"));
    expect(p.clearLineBuffer().toString()).toBe("b\r\nc");
    p.onLine = undefined;
    p.resumeProducing();
    expect(strs(p.lines)).toEqual(["a"]);
  });
});

describe("LineReceiver lines as delivered", () => {
  it("are views of the chunk when inside it, and fresh copies when they span chunks", () => {
    const { p } = make();
    const seen: Buffer[] = [];
    p.onLine = (line) => seen.push(line);
    const first = b("ab\r\ncd");
    p.dataReceived(first);
    p.dataReceived(b("ef\r\n"));
    // Writing over the first chunk shows which lines share its memory.
    first.fill(0x7a);
    expect(seen[0]?.toString()).toBe("zz");
    expect(seen[1]?.toString()).toBe("cdef");
  });

  it("are the same one byte at a time as in one chunk", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "\r", "\n"), maxLength: 40 }), (s) => {
        const whole = make().p;
        whole.dataReceived(b(s));
        const bytewise = make().p;
        feedBytewise(bytewise, b(s));
        expect(strs(bytewise.lines)).toEqual(strs(whole.lines));
        expect(bytewise.bufferedLength).toBe(whole.bufferedLength);
      }),
    );
  });
});

describe("LineReceiver sendLine", () => {
  it("writes a string line and its delimiter as one write", () => {
    const { p, t } = make();
    p.sendLine("héllo");
    expect(t.writes).toHaveLength(1);
    expect(t.value()).toEqual(Buffer.from("héllo\r\n", "utf8"));
  });

  it("writes bytes with a bytes delimiter", () => {
    const { p, t } = make((x) => (x.delimiter = Uint8Array.of(0)));
    p.sendLine(Uint8Array.of(1, 2));
    expect(t.value()).toEqual(Buffer.from([1, 2, 0]));
  });

  it("sends a large line as a sequence, without copying it", () => {
    const { p, t } = make();
    p.sendLine(Buffer.alloc(100_000, 0x61));
    expect(t.sequences).toBe(1);
    expect(t.value().length).toBe(100_002);
  });
});
