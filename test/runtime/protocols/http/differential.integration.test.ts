/**
 * Differential test: our RequestParser against node:http (llhttp, strict mode) on the same bytes.
 *
 * About 6,000 generated requests, valid and mutated, are each parsed by our parser (one
 * execute() of all the bytes, then finish()) and sent over a fresh TCP connection to a real
 * `http.createServer` on 127.0.0.1, which reports what it parsed: the requests (method, url,
 * rawHeaders, body, rawTrailers, whether they completed, whether they were upgrades) or the
 * clientError it raised. The two outcomes must be equal (accept/reject, method, target, fields,
 * body, trailers), except for these deliberate differences, which are the only ones allowed
 * (they are also listed in runtime/protocols/http/README.md, "Differences from node:http"):
 *
 * - `method-unknown-to-node`: any token is a method for us (RFC 9110 §9); llhttp accepts only
 *   its fixed list (so `FOO` or lowercase `get` fail with HPE_INVALID_METHOD there).
 * - `too-many-headers`: we reject more than `maxHeaderCount` (100) fields with 431; node accepts
 *   them (its `maxHeadersCount`, 2000, only truncates).
 * - `http09-request-line`: `GET /` with no version is HTTP/0.9 to llhttp; we reject it (400).
 * - `version-not-1x`: llhttp accepts HTTP/0.9 and HTTP/2.0 version strings; we answer 505.
 * - `extra-whitespace`: llhttp skips extra spaces between request-line parts; we reject them
 *   (RFC 9112 §3: single SP, and recipients should not autocorrect).
 * - `transfer-coding-not-implemented`: node accepts `Transfer-Encoding: gzip, chunked` and hands
 *   the still-encoded body over; we answer 501 (we decode no coding but chunked).
 * - `http10-upgrade-ignored`: llhttp upgrades an HTTP/1.0 request with `Upgrade` +
 *   `Connection: upgrade`; we ignore Upgrade on HTTP/1.0 (RFC 9110 §7.8) and parse it as a
 *   plain request.
 *
 * Node's server runs with `requireHostHeader: false`: a missing Host is the server's business,
 * not the parser's. Statuses are not compared (node answers almost every clientError with 400).
 * The test fails on any difference outside the list, and also when a listed difference no longer
 * occurs (the list must stay exact).
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import * as http from "node:http";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import { recordingParser } from "./request-parser-events.js";
import type { ParserEvent } from "./request-parser-events.js";

// ---------------------------------------------------------------------------------------------
// Outcomes, comparable across the two parsers

interface ParsedRequest {
  method: string;
  target: string;
  headers: string[];
  body: string;
  trailers: string[];
  complete: boolean;
  upgrade: boolean;
}

interface Outcome {
  requests: ParsedRequest[];
  /** Our error reason, or node's clientError code; null when the stream was accepted. */
  error: string | null;
}

const KNOWN_DIFFERENCES = [
  "method-unknown-to-node",
  "too-many-headers",
  "http09-request-line",
  "version-not-1x",
  "extra-whitespace",
  "transfer-coding-not-implemented",
  "http10-upgrade-ignored",
] as const;
type KnownDifference = (typeof KNOWN_DIFFERENCES)[number];

function lowerNames(raw: readonly string[]): string[] {
  return raw.map((s, i) => (i % 2 === 0 ? s.toLowerCase() : s));
}

function ours(bytes: Buffer): Outcome {
  const events: ParserEvent[] = [];
  const parser = recordingParser(events);
  parser.execute(bytes);
  parser.finish();
  const outcome: Outcome = { requests: [], error: null };
  for (const e of events) {
    const current = outcome.requests[outcome.requests.length - 1];
    if (e.type === "head") {
      outcome.requests.push({ method: e.method, target: e.target, headers: e.headers, body: "", trailers: [], complete: false, upgrade: e.upgrade });
    } else if (e.type === "body" && current !== undefined) {
      current.body += e.data;
    } else if (e.type === "complete" && current !== undefined) {
      current.complete = true;
      current.trailers = e.trailers;
    } else if (e.type === "error") {
      outcome.error = e.reason;
    }
  }
  return outcome;
}

/** Which allowed difference explains a mismatch, or null when none does. */
function classify(a: Outcome, n: Outcome): KnownDifference | null {
  const nodeAccepted = n.error === null;
  const weAccepted = a.error === null;
  const sameRequestsUpToOurError = (): boolean => JSON.stringify(a.requests) === JSON.stringify(n.requests.slice(0, a.requests.length));
  if (!weAccepted && nodeAccepted && a.requests.length < n.requests.length && sameRequestsUpToOurError()) {
    switch (a.error) {
      case "too-many-headers":
        return "too-many-headers";
      case "missing-version":
        return "http09-request-line";
      case "unsupported-version":
        return "version-not-1x";
      case "extra-whitespace":
        return "extra-whitespace";
      case "transfer-coding-not-implemented":
        return "transfer-coding-not-implemented";
      default:
        return null;
    }
  }
  if (weAccepted && n.error === "HPE_INVALID_METHOD" && JSON.stringify(n.requests) === JSON.stringify(a.requests.slice(0, n.requests.length))) {
    return "method-unknown-to-node";
  }
  if (a.error === n.error || (!weAccepted && !nodeAccepted)) {
    // Same verdict; the requests may differ only by the upgrade flag of an HTTP/1.0 request.
    const upgradeOnly =
      a.requests.length >= 1 &&
      n.requests.length === 1 &&
      n.requests[0]?.upgrade === true &&
      a.requests[0]?.upgrade === false &&
      JSON.stringify({ ...a.requests[0], upgrade: true }) === JSON.stringify(n.requests[0]);
    if (upgradeOnly) return "http10-upgrade-ignored";
  }
  return null;
}

/**
 * Same verdict and same requests. When both reject, a request cut short by the error may have
 * been reported by one side only (llhttp checks some framing after emitting the head, we before),
 * so only the requests that completed count, plus the head of an unfinished one both reported.
 */
function equalOutcomes(a: Outcome, n: Outcome): boolean {
  if ((a.error === null) !== (n.error === null)) return false;
  if (a.error === null) return JSON.stringify(a.requests) === JSON.stringify(n.requests);
  const completed = (o: Outcome) => o.requests.filter((r) => r.complete);
  if (JSON.stringify(completed(a)) !== JSON.stringify(completed(n))) return false;
  const unfinished = (o: Outcome) => o.requests.find((r) => !r.complete);
  const ua = unfinished(a);
  const un = unfinished(n);
  if (ua === undefined || un === undefined) return true;
  return ua.method === un.method && ua.target === un.target && JSON.stringify(ua.headers) === JSON.stringify(un.headers);
}

// ---------------------------------------------------------------------------------------------
// The node:http side

class NodeReference {
  private server!: http.Server;
  private port = 0;
  private readonly outcomes = new WeakMap<net.Socket, { outcome: Outcome; reqs: { req: http.IncomingMessage; rec: ParsedRequest }[] }>();
  private readonly waiters = new Map<number, (o: Outcome) => void>();
  private readonly finished = new Map<number, Outcome>();

  async start(): Promise<void> {
    this.server = http.createServer({ requireHostHeader: false, insecureHTTPParser: false });
    this.server.keepAliveTimeout = 1000;
    this.server.on("connection", (socket: net.Socket) => {
      const state = { outcome: { requests: [], error: null } as Outcome, reqs: [] as { req: http.IncomingMessage; rec: ParsedRequest }[] };
      this.outcomes.set(socket, state);
      const port = socket.remotePort ?? 0;
      socket.on("close", () => {
        // Let the request streams deliver what the parser already pushed.
        setImmediate(() => {
          for (const { req, rec } of state.reqs) {
            rec.complete = rec.complete || req.complete;
            if (rec.complete && !rec.upgrade) rec.trailers = lowerNames(req.rawTrailers);
          }
          this.settle(port, state.outcome);
        });
      });
    });
    this.server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const rec = this.record(req, false);
      req.on("data", (chunk: Buffer) => {
        rec.body += chunk.toString("latin1");
      });
      req.on("end", () => {
        rec.complete = true;
        res.end();
      });
      req.on("error", () => {});
    });
    const onUpgrade = (req: http.IncomingMessage, socket: net.Socket | Duplex) => {
      const rec = this.record(req, true);
      rec.complete = true;
      socket.destroy();
    };
    this.server.on("upgrade", onUpgrade);
    this.server.on("connect", onUpgrade);
    this.server.on("clientError", (err: NodeJS.ErrnoException, socket: net.Socket | Duplex) => {
      const state = this.outcomes.get(socket as net.Socket);
      if (state !== undefined && state.outcome.error === null) state.outcome.error = err.code ?? "unknown";
      socket.destroy();
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private record(req: http.IncomingMessage, upgrade: boolean): ParsedRequest {
    const state = this.outcomes.get(req.socket);
    const rec: ParsedRequest = {
      method: req.method ?? "",
      target: req.url ?? "",
      headers: lowerNames(req.rawHeaders),
      body: "",
      trailers: [],
      complete: false,
      upgrade,
    };
    state?.outcome.requests.push(rec);
    state?.reqs.push({ req, rec });
    return rec;
  }

  private settle(port: number, outcome: Outcome): void {
    const waiter = this.waiters.get(port);
    if (waiter !== undefined) {
      this.waiters.delete(port);
      waiter(outcome);
    } else {
      this.finished.set(port, outcome);
    }
  }

  /** Sends the bytes on a new connection, half-closes, and resolves with what node parsed. */
  parse(bytes: Buffer): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      const socket = net.connect(this.port, "127.0.0.1");
      const guard = setTimeout(() => {
        socket.destroy();
        reject(new Error(`node did not settle within 10 s for ${JSON.stringify(bytes.toString("latin1").slice(0, 200))}`));
      }, 10_000);
      socket.on("error", () => {});
      socket.resume();
      socket.on("connect", () => {
        const port = socket.localPort ?? 0;
        const done = (o: Outcome) => {
          clearTimeout(guard);
          resolve(o);
        };
        const already = this.finished.get(port);
        if (already !== undefined) {
          this.finished.delete(port);
          done(already);
        } else {
          this.waiters.set(port, done);
        }
        socket.end(bytes);
      });
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------------------------
// Generated requests: a valid base, then at most one mutation

interface Base {
  method: string;
  target: string;
  version: string;
  fields: [string, string][];
  body: string;
  /** Built body framing already applied to `fields`. */
  kind: "none" | "length" | "chunked";
  chunks: { size: string; ext: string; data: string }[];
  lastExt: string;
  trailers: [string, string][];
  sp1: string;
  sp2: string;
}

function serialize(b: Base): string {
  let out = `${b.method}${b.sp1}${b.target}${b.sp2}${b.version}\r\n`;
  for (const [n, v] of b.fields) out += `${n}:${v === "" ? "" : " "}${v}\r\n`;
  out += "\r\n";
  if (b.kind === "length") out += b.body;
  if (b.kind === "chunked") {
    for (const c of b.chunks) out += `${c.size}${c.ext}\r\n${c.data}\r\n`;
    out += `0${b.lastExt}\r\n`;
    for (const [n, v] of b.trailers) out += `${n}: ${v}\r\n`;
    out += "\r\n";
  }
  return out;
}

const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".split("");
const TCHARS = [...ALNUM, ..."!#$%&'*+-.^_`|~".split("")];
const PATH = [...ALNUM, ..."-._~!$&'()*+,;=:@/?%".split("")];
const VALUE_CHARS = [...Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)), " ", "\t", "\xe9", "\xff", "\x80"];
const NODE_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND", "QUERY"];
const COMMON_FIELDS = ["Host", "User-Agent", "Accept", "Accept-Encoding", "Cookie", "X-Request-Id", "Cache-Control", "Referer"];
const FRAMING = new Set(["content-length", "transfer-encoding", "connection", "upgrade", "expect"]);

const str = (chars: string[], min: number, max: number) => fc.string({ unit: fc.constantFrom(...chars), minLength: min, maxLength: max });
const fieldName = fc.oneof(fc.constantFrom(...COMMON_FIELDS), str(TCHARS, 1, 14).filter((n) => !FRAMING.has(n.toLowerCase())));
const fieldValue = str(VALUE_CHARS, 0, 30).map((v) => v.replace(/^[ \t]+|[ \t]+$/g, ""));
const bodyData = str([...ALNUM, "\r", "\n", " ", "\x00", "\xff"], 1, 40);
const ext = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  str(TCHARS, 1, 5).map((n) => `;${n}`),
  fc.tuple(str(TCHARS, 1, 5), str(TCHARS, 0, 5)).map(([n, v]) => `;${n}=${v}`),
  fc.tuple(str(TCHARS, 1, 5), str(["a", " ", "\t", "\\\\", '\\"'], 0, 5)).map(([n, v]) => `;${n}="${v}"`),
);

const base: fc.Arbitrary<Base> = fc
  .record({
    method: fc.constantFrom(...NODE_METHODS),
    target: fc.oneof(
      { weight: 8, arbitrary: str(PATH, 0, 40).map((p) => `/${p}`) },
      str(ALNUM, 1, 10).map((h) => `http://${h}.example/${h}`),
    ),
    version: fc.constantFrom("HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0"),
    fields: fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 8 }),
    kind: fc.constantFrom("none", "length", "chunked"),
    body: bodyData,
    chunks: fc.array(fc.record({ data: bodyData, ext, upper: fc.boolean() }), { minLength: 1, maxLength: 3 }),
    lastExt: ext,
    trailers: fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 2 }),
    extra: fc.constantFrom("none", "none", "keep-alive", "close", "expect", "upgrade", "connect"),
  })
  .map((r): Base => {
    const fields = [...r.fields];
    let method = r.method;
    let target = r.target;
    let kind: Base["kind"] = r.kind;
    if (r.extra === "keep-alive") fields.push(["Connection", "keep-alive"]);
    if (r.extra === "close") fields.push(["Connection", "close"]);
    if (r.extra === "expect") fields.push(["Expect", "100-continue"]);
    if (r.extra === "upgrade") {
      fields.push(["Upgrade", "websocket"], ["Connection", "Upgrade"]);
      method = "GET";
      kind = "none";
    }
    if (r.extra === "connect") {
      // The framing is kept: a CONNECT's Content-Length or Transfer-Encoding must be ignored.
      method = "CONNECT";
      target = "example.com:443";
    }
    if (kind === "length") fields.push(["Content-Length", String(r.body.length)]);
    if (kind === "chunked") fields.push(["Transfer-Encoding", "chunked"]);
    const chunks = r.chunks.map((c) => {
      const size = c.data.length.toString(16);
      return { size: c.upper ? size.toUpperCase() : size, ext: c.ext, data: c.data };
    });
    return { method, target, version: r.version, fields, kind, body: r.body, chunks, lastExt: r.lastExt, trailers: r.trailers, sp1: " ", sp2: " " };
  });

type Mutation = (b: Base, pick: number, text: string) => string | null;

const CTLS = [...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).filter((c) => c !== "\t"), "\x7f"];
const NAME_BREAKERS = ["(", ")", ",", "/", ";", "<", "=", ">", "?", "@", "[", "\\", "]", "{", "}", '"', "\xe9", "\x01", "\x7f"];

/** Each mutation gets the base, a random number and the base's serialization. */
const MUTATIONS: Record<string, Mutation> = {
  valid: (b) => serialize(b),
  "duplicate-content-length-same": (b) => (b.kind === "length" ? serialize({ ...b, fields: [...b.fields, ["content-length", String(b.body.length)]] }) : null),
  "duplicate-content-length-different": (b) => (b.kind === "length" ? serialize({ ...b, fields: [...b.fields, ["Content-Length", String(b.body.length + 1)]] }) : null),
  "content-length-and-chunked": (b) => (b.kind === "chunked" ? serialize({ ...b, fields: [["Content-Length", "3"], ...b.fields] }) : null),
  "bad-content-length": (b, k) => {
    if (b.kind !== "length") return null;
    const bad = ["+3", "-1", "abc", "3 3", "", "0x10", "99999999999999999999999", "3,3", "1e3"][k % 9]!;
    return serialize({ ...b, fields: b.fields.map(([n, v]) => (n === "Content-Length" ? [n, bad] : [n, v])) });
  },
  "odd-transfer-encoding": (b, k) => {
    if (b.kind !== "chunked") return null;
    const te = ["gzip, chunked", "chunked, gzip", "gzip", "identity", "chunked, chunked", "CHUNKED", " chunked ", "chunked;q=1", "deflate,chunked"][k % 9]!;
    return serialize({ ...b, fields: b.fields.map(([n, v]) => (n === "Transfer-Encoding" ? [n, te] : [n, v])) });
  },
  "two-transfer-encodings": (b) => (b.kind === "chunked" ? serialize({ ...b, fields: [["Transfer-Encoding", "gzip"], ...b.fields] }) : null),
  "bad-name-char": (b, k) => {
    const name = `X-B${NAME_BREAKERS[k % NAME_BREAKERS.length]!}d`;
    return serialize({ ...b, fields: [...b.fields, [name, "v"]] });
  },
  "bad-value-char": (b, k) => serialize({ ...b, fields: [...b.fields, ["X-Bad", `a${CTLS[k % CTLS.length]!}b`]] }),
  "space-before-colon": (b, k) => serialize({ ...b, fields: [...b.fields, [k % 2 === 0 ? "X-Sp " : "X-Sp\t", "v"]] }),
  "obs-fold": (b) => serialize({ ...b, fields: [...b.fields, ["X-Fold", "a\r\n b"]] }),
  "leading-whitespace": (b, _k, text) => text.replace("\r\n", "\r\n X-Lead: 1\r\n"),
  "bad-chunk-size": (b, k) => {
    if (b.kind !== "chunked" || b.chunks.length === 0) return null;
    const variants = ["g", " 5", "5 ", "0x5", "", "fffffffffffffffffff", "-1", "5;", "5; a=b", "5;a = b", '5;a="b', "5;a=b c"];
    const v = variants[k % variants.length]!;
    const [first, ...rest] = b.chunks;
    return serialize({ ...b, chunks: [{ size: v, ext: "", data: first!.data }, ...rest] });
  },
  "chunk-data-length": (b, k) => {
    if (b.kind !== "chunked" || b.chunks.length === 0) return null;
    const [first, ...rest] = b.chunks;
    const data = k % 2 === 0 ? `${first!.data}X` : first!.data.slice(1);
    return serialize({ ...b, chunks: [{ ...first!, data }, ...rest] });
  },
  "bare-lf": (_b, k, text) => replaceNth(text, "\r\n", k, "\n"),
  "bare-cr": (_b, k, text) => replaceNth(text, "\r\n", k, "\r"),
  "request-line-spaces": (b, k) => {
    const v = k % 4;
    if (v === 0) return serialize({ ...b, sp1: "  " });
    if (v === 1) return serialize({ ...b, sp2: "  " });
    if (v === 2) return serialize({ ...b, version: `${b.version} ` });
    return serialize({ ...b, target: `${b.target} x` });
  },
  "odd-version": (b, k) => serialize({ ...b, version: ["HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "HTTP/3.1", "HTTP/1.10", "HTTP/1", "http/1.1", "HTTP/1.1x", "HTTP/11", "ICE/1.1"][k % 10]! }),
  "no-version": (b) => `${b.method} ${b.target}\r\n\r\n`,
  "odd-method": (b, k) => serialize({ ...b, method: ["FOO", "get", "G(T", "", "GET\x7f", "M-SEARCH", "PURGE", "BREW"][k % 8]! }),
  "bad-target": (b, k) => serialize({ ...b, target: `/a${["\x7f", "\x01", "\xe9", "\t", "\x00"][k % 5]!}b` }),
  "huge-header": (b, k) => serialize({ ...b, fields: [...b.fields, ["X-Huge", "h".repeat(17_000 + (k % 5000))]] }),
  "many-headers": (b, k) => serialize({ ...b, fields: [...b.fields, ...Array.from({ length: 101 + (k % 150) }, (_, i): [string, string] => [`X-M${i}`, "v"])] }),
  "huge-target": (b, k) => serialize({ ...b, target: `/${"t".repeat(17_000 + (k % 3000))}` }),
  "http10-upgrade": (b) => serialize({ ...b, method: "GET", version: "HTTP/1.0", kind: "none", fields: [["Upgrade", "websocket"], ["Connection", "Upgrade"]] }),
  "leading-empty-line": (_b, _k, text) => `\r\n${text}`,
  truncated: (_b, k, text) => (text.length > 1 ? text.slice(0, 1 + (k % (text.length - 1))) : null),
  "trailer-framing": (b, k) => (b.kind === "chunked" ? serialize({ ...b, trailers: [[k % 2 === 0 ? "Content-Length" : "Transfer-Encoding", "5"]] }) : null),
};

function replaceNth(text: string, needle: string, k: number, replacement: string): string | null {
  const at: number[] = [];
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) at.push(i);
  if (at.length === 0) return null;
  const i = at[k % at.length]!;
  return text.slice(0, i) + replacement + text.slice(i + needle.length);
}

interface Case {
  mutation: string;
  bytes: Buffer;
}

function generateCases(count: number, seed: number): Case[] {
  const names = Object.keys(MUTATIONS);
  const arb = fc.tuple(base, fc.oneof({ weight: 3, arbitrary: fc.constant("valid") }, { weight: 7, arbitrary: fc.constantFrom(...names) }), fc.nat());
  const cases: Case[] = [];
  for (const [b, mutation, k] of fc.sample(arb, { seed, numRuns: count * 2 })) {
    const text = MUTATIONS[mutation]!(b, k, serialize(b));
    if (text === null) continue;
    cases.push({ mutation, bytes: Buffer.from(text, "latin1") });
    if (cases.length === count) break;
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------

const CASES = 6000;
const CONCURRENCY = 8;

describe("RequestParser vs node:http", () => {
  const reference = new NodeReference();
  beforeAll(async () => {
    await reference.start();
  });
  afterAll(async () => {
    await reference.stop();
  });

  it(`agrees with node:http on ${CASES} generated requests, but for the documented differences`, async () => {
    const cases = generateCases(CASES, 20_251_122);
    expect(cases.length).toBe(CASES);
    const results: { c: Case; a: Outcome; n: Outcome }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        const n = await reference.parse(c.bytes);
        results.push({ c, a: ours(c.bytes), n });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const seen = new Map<KnownDifference, number>();
    const unexplained: string[] = [];
    let accepted = 0;
    let rejected = 0;
    for (const { c, a, n } of results) {
      if (a.error === null) accepted++;
      else rejected++;
      if (equalOutcomes(a, n)) continue;
      const cls = classify(a, n);
      if (cls === null) {
        unexplained.push(`${c.mutation}: ${JSON.stringify(c.bytes.toString("latin1").slice(0, 300))}\n  ours: ${JSON.stringify(a).slice(0, 400)}\n  node: ${JSON.stringify(n).slice(0, 400)}`);
      } else {
        seen.set(cls, (seen.get(cls) ?? 0) + 1);
      }
    }
    expect(unexplained.slice(0, 10)).toEqual([]);
    // Both verdicts are well represented, and every listed difference still happens.
    expect(accepted).toBeGreaterThan(CASES / 5);
    expect(rejected).toBeGreaterThan(CASES / 5);
    expect([...seen.keys()].sort()).toEqual([...KNOWN_DIFFERENCES].sort());
  }, 120_000);
});
