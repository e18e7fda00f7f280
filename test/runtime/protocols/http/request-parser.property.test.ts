import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { normalize, parseInChunks, recordingParser } from "./request-parser-events.js";
import type { ParserEvent } from "./request-parser-events.js";
import type { RequestParserOptions } from "../../../../runtime/protocols/http/request-parser.js";

// ---------------------------------------------------------------------------------------------
// A generator of valid requests, each with the events the parser must emit for it.

interface GeneratedRequest {
  wire: string;
  events: ParserEvent[];
}

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split("");
const FRAMING = new Set(["content-length", "transfer-encoding", "connection", "expect", "upgrade"]);
const VCHARS = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));
const OBS_TEXT = Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(0x80 + i));

const token = (max: number) => fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: max });
const fieldName = token(16).filter((n) => !FRAMING.has(n.toLowerCase()));
// A value: visible characters with inner spaces and tabs; the padding around it is trimmed.
const fieldValue = fc
  .array(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...VCHARS) }, fc.constantFrom(" ", "\t"), fc.constantFrom(...OBS_TEXT)), { maxLength: 24 })
  .map((cs) => cs.join("").replace(/^[ \t]+|[ \t]+$/g, ""));
const ows = fc.constantFrom("", " ", "  ", "\t", " \t");
const field = fc.record({ name: fieldName, value: fieldValue, before: ows, after: ows });
const fields = fc.array(field, { maxLength: 6 });
const bodyBytes = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const chunkExt = fc.oneof(
  fc.constant(""),
  token(6).map((n) => `;${n}`),
  fc.tuple(token(6), token(6)).map(([n, v]) => `;${n}=${v}`),
  fc.tuple(token(6), fc.string({ unit: fc.constantFrom("a", " ", "\\\\", '\\"', "\t", "\xe9"), maxLength: 6 })).map(([n, v]) => `;${n}="${v}"`),
);

const body = fc.oneof(
  fc.constant({ kind: "none" as const }),
  fc.record({ kind: fc.constant("length" as const), data: bodyBytes }),
  fc.record({
    kind: fc.constant("chunked" as const),
    chunks: fc.array(fc.record({ data: bodyBytes.filter((d) => d.length > 0), ext: chunkExt, upper: fc.boolean() }), { maxLength: 4 }),
    lastExt: chunkExt,
    trailers: fields,
  }),
);

const request = fc
  .record({
    method: fc.oneof(fc.constantFrom("GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"), token(10)),
    path: fc.string({ unit: fc.constantFrom(...VCHARS), maxLength: 30 }),
    minor: fc.constantFrom(0, 1),
    fields,
    body,
    expect: fc.boolean(),
  })
  .map(({ method, path, minor, fields: fs, body: b, expect: expectContinue }): GeneratedRequest => {
    const target = `/${path}`;
    const lines: string[] = [`${method} ${target} HTTP/1.${minor}`];
    const headers: string[] = [];
    const add = (name: string, value: string, before = " ", after = "") => {
      lines.push(`${name}:${before}${value}${after}`);
      headers.push(name.toLowerCase(), value);
    };
    for (const f of fs) add(f.name, f.value, f.before, f.after);
    // HTTP/1.0 needs keep-alive to pipeline; chunked HTTP/1.0 never keeps the connection.
    const keepAlive = minor === 1 || b.kind !== "chunked";
    if (minor === 0) add("Connection", "keep-alive");
    if (expectContinue) add("Expect", "100-continue");
    const events: ParserEvent[] = [];
    let tail = "";
    let data = "";
    let trailers: string[] = [];
    let contentLength: number | null = 0;
    if (b.kind === "length") {
      add("Content-Length", String(b.data.length));
      tail = b.data;
      data = b.data;
      contentLength = b.data.length;
    } else if (b.kind === "chunked") {
      add("Transfer-Encoding", "chunked");
      contentLength = null;
      for (const c of b.chunks) {
        const size = c.data.length.toString(16);
        tail += `${c.upper ? size.toUpperCase() : size}${c.ext}\r\n${c.data}\r\n`;
        data += c.data;
      }
      tail += `0${b.lastExt}\r\n`;
      for (const t of b.trailers) {
        tail += `${t.name}:${t.before}${t.value}${t.after}\r\n`;
        trailers.push(t.name.toLowerCase(), t.value);
      }
      tail += "\r\n";
    }
    if (b.kind !== "chunked") trailers = [];
    events.push({
      type: "head",
      method,
      target,
      version: `1.${minor}`,
      headers,
      keepAlive,
      expectContinue: expectContinue && minor === 1,
      upgrade: false,
      bodyKind: b.kind,
      contentLength,
    });
    if (data !== "") events.push({ type: "body", data });
    events.push({ type: "complete", trailers });
    return { wire: `${lines.join("\r\n")}\r\n\r\n${tail}`, events };
  });

/** 1 to 4 pipelined requests; only the last may close the connection. */
const pipeline = fc.array(request, { minLength: 1, maxLength: 4 }).map((reqs) => {
  const kept = reqs.filter((r, i) => i === reqs.length - 1 || (r.events[0]?.type === "head" && r.events[0].keepAlive));
  return { wire: kept.map((r) => r.wire).join(""), events: kept.flatMap((r) => r.events) };
});

/** Sorted cut offsets within a stream of `length` bytes. */
const cutsFor = (length: number) => fc.array(fc.integer({ min: 0, max: length }), { maxLength: 12 }).map((cs) => [...cs].sort((a, b) => a - b));

const withCuts = <T extends { wire: string }>(arb: fc.Arbitrary<T>) =>
  arb.chain((value) => fc.tuple(fc.constant(value), cutsFor(Buffer.byteLength(value.wire, "latin1"))));

// Small limits make the limit paths reachable from short random inputs.
const SMALL_LIMITS: RequestParserOptions = {
  maxRequestLineLength: 64,
  maxHeaderSize: 128,
  maxHeaderCount: 5,
  maxBodySize: 256,
  maxChunkLineLength: 16,
  maxBufferedBytes: 4096,
};
const LARGEST_LINE = 128;

// ---------------------------------------------------------------------------------------------

describe("RequestParser properties", () => {
  it("emits the model's events for valid requests, however the stream is cut", () => {
    fc.assert(
      fc.property(withCuts(pipeline), ([p, cuts]) => {
        expect(parseInChunks(p.wire, cuts)).toEqual(normalize(p.events));
      }),
      { numRuns: 400 },
    );
  });

  it("emits the same events when the server pauses at random points and resumes later", () => {
    fc.assert(
      fc.property(withCuts(pipeline), fc.array(fc.boolean(), { minLength: 1, maxLength: 32 }), ([p, cuts], pauses) => {
        const events: ParserEvent[] = [];
        let k = 0;
        const maybePause = () => {
          if (pauses[k++ % pauses.length] === true) parser.pause();
        };
        const parser = recordingParser(events, {}, { onRequestHead: maybePause, onBody: maybePause, onRequestComplete: maybePause });
        const bytes = Buffer.from(p.wire, "latin1");
        let start = 0;
        for (const cut of [...cuts, bytes.length]) {
          parser.execute(bytes.subarray(start, cut));
          start = cut;
          // A server answers some time later: resume now and then, not after every chunk.
          if (pauses[k % pauses.length] === true) parser.resume();
        }
        for (let i = 0; i < 1000 && parser.isPaused; i++) parser.resume();
        expect(parser.isPaused).toBe(false);
        expect(normalize(events)).toEqual(normalize(p.events));
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on random bytes, stops at its first error, and copies no more than a line's limit", () => {
    const anyBytes = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      // Mostly-HTTP noise reaches deeper states than uniform bytes.
      fc.array(fc.constantFrom("GET / HTTP/1.1\r\n", "POST ", "/", " HTTP/1.", "1", "0", "\r\n", "\n", "\r", ":", " ", "A", "Content-Length: 3", "Transfer-Encoding: chunked", "5", ";", "\x00", "\xff", "a".repeat(70)), { maxLength: 60 }).map((parts) => new Uint8Array(Buffer.from(parts.join(""), "latin1"))),
    );
    fc.assert(
      fc.property(anyBytes.chain((b) => fc.tuple(fc.constant(b), cutsFor(b.length))), ([bytes, cuts]) => {
        const events: ParserEvent[] = [];
        const parser = recordingParser(events, SMALL_LIMITS);
        let start = 0;
        for (const cut of [...cuts, bytes.length]) {
          parser.execute(bytes.subarray(start, cut));
          start = cut;
          expect(parser.stashedBytes).toBeLessThanOrEqual(LARGEST_LINE);
          expect(parser.bufferedBytes).toBe(parser.isPaused ? parser.bufferedBytes : 0);
        }
        parser.finish();
        const errors = events.filter((e) => e.type === "error");
        expect(errors.length).toBeLessThanOrEqual(1);
        if (errors.length === 1) expect(events[events.length - 1]?.type).toBe("error");
      }),
      { numRuns: 1000 },
    );
  });

  it("gives the same events for any cut of any input, valid or not (errors included)", () => {
    // Mutations of valid requests: the parser must decide the same way however the bytes come.
    const mutated = pipeline.chain((p) =>
      fc
        .array(
          fc.record({ at: fc.nat(), op: fc.constantFrom("insert", "delete", "replace"), byte: fc.constantFrom(0x00, 0x0a, 0x0d, 0x20, 0x09, 0x3a, 0x3b, 0x7f, 0xe9, 0x41, 0x30) }),
          { minLength: 1, maxLength: 3 },
        )
        .map((ops) => {
          const b = [...Buffer.from(p.wire, "latin1")];
          for (const { at, op, byte } of ops) {
            const i = b.length === 0 ? 0 : at % b.length;
            if (op === "insert") b.splice(i, 0, byte);
            else if (op === "delete") b.splice(i, 1);
            else b[i] = byte;
          }
          return { wire: Buffer.from(b).toString("latin1") };
        }),
    );
    fc.assert(
      fc.property(withCuts(mutated), ([m, cuts]) => {
        expect(parseInChunks(m.wire, cuts, SMALL_LIMITS)).toEqual(parseInChunks(m.wire, [], SMALL_LIMITS));
        expect(parseInChunks(m.wire, cuts)).toEqual(parseInChunks(m.wire));
      }),
      { numRuns: 600 },
    );
  });
});
