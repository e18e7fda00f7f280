import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import type { HttpHandler } from "../../../../runtime/protocols/http/http-server-factory.js";
import { parseResponses, serverOn, settle } from "./http-test-helpers.js";

// A pipelined stream of valid requests, each answered with a digest of what the server saw.

const word = fc.string({ unit: fc.constantFrom(..."abcxyz019-_".split("")), minLength: 1, maxLength: 8 });
const bodyText = fc.string({ unit: fc.constantFrom(..."ab\r\n0;:".split("")), maxLength: 30 });
const request = fc.record({
  method: fc.constantFrom("GET", "POST", "HEAD", "PUT"),
  path: word,
  framing: fc.constantFrom("none", "length", "chunked"),
  body: bodyText,
  pieces: fc.integer({ min: 1, max: 4 }),
  header: word,
});
type GeneratedRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

function wire(r: GeneratedRequest): string {
  let head = `${r.method} /${r.path} HTTP/1.1\r\nHost: h\r\nX-Tag: ${r.header}\r\n`;
  if (r.framing === "length") return `${head}Content-Length: ${r.body.length}\r\n\r\n${r.body}`;
  if (r.framing === "none") return `${head}\r\n`;
  head += "Transfer-Encoding: chunked\r\n\r\n";
  const size = Math.ceil(r.body.length / r.pieces) || 1;
  for (let i = 0; i < r.body.length; i += size) {
    const piece = r.body.slice(i, i + size);
    head += `${piece.length.toString(16)}\r\n${piece}\r\n`;
  }
  return `${head}0\r\n\r\n`;
}

const digest = (method: string, target: string, tag: string | undefined, body: string): string => `${method} ${target} ${tag} ${body.length}:${body}`;

const syncHandler: HttpHandler = (req, res) => {
  const chunks: Buffer[] = [];
  req.onData((c) => chunks.push(Buffer.from(c))).onEnd(() => {
    res.setHeader("X-Seen", req.headers.get("x-tag") ?? "-");
    res.end(digest(req.method, req.target, req.headers.get("x-tag"), Buffer.concat(chunks).toString("latin1")));
  });
};

const asyncHandler: HttpHandler = async (req, res) => {
  const body = Buffer.from(await req.body()).toString("latin1");
  await Promise.resolve();
  const text = digest(req.method, req.target, req.headers.get("x-tag"), body);
  if (body.length % 2 === 0) {
    res.end(text);
  } else {
    // Stream odd bodies, chunked, to mix both response framings.
    res.write(text.slice(0, 3));
    await Promise.resolve();
    res.end(text.slice(3));
  }
};

async function run(handler: HttpHandler, stream: Buffer, cuts: number[]): Promise<string> {
  const s = serverOn(handler);
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  let at = 0;
  for (const p of [...points, stream.length]) {
    if (p > at) {
      s.transport.receive(stream.subarray(at, p));
      await settle();
    }
    at = p;
  }
  await settle();
  expect(s.errors).toEqual([]);
  return s.text();
}

describe("HttpServerProtocol: chunking invariance", () => {
  for (const [name, handler] of [
    ["sync callbacks", syncHandler],
    ["async/await", asyncHandler],
  ] as const) {
    it(`any split of a pipelined request stream gives the same responses (${name})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 12 }), async (requests, cuts) => {
          const stream = Buffer.from(requests.map(wire).join(""), "latin1");
          const whole = await run(handler, stream, []);
          const split = await run(handler, stream, cuts);
          expect(split).toBe(whole);
          const heads = requests.flatMap((r, i) => (r.method === "HEAD" ? [i] : []));
          const { responses, error } = parseResponses(whole, heads);
          expect(error).toBeNull();
          expect(responses).toHaveLength(requests.length);
          responses.forEach((response, i) => {
            const r = requests[i]!;
            if (r.method === "HEAD") return;
            const body = r.framing === "none" ? "" : r.body;
            expect(response.body).toBe(digest(r.method, `/${r.path}`, r.header, body));
          });
        }),
        { numRuns: 150 },
      );
    });
  }
});
