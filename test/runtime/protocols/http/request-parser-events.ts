/**
 * Test helper (not part of the library): runs a RequestParser over chunks and records its
 * events as plain, comparable objects.
 */

import { RequestParser } from "../../../../runtime/protocols/http/request-parser.js";
import type { RequestHead, RequestParserCallbacks, RequestParserOptions } from "../../../../runtime/protocols/http/request-parser.js";
import type { HttpParseError } from "../../../../runtime/errors.js";

/** One recorded parser event; body bytes are latin1 strings so that events compare with toEqual. */
export type ParserEvent =
  | {
      type: "head";
      method: string;
      target: string;
      version: string;
      headers: string[];
      keepAlive: boolean;
      expectContinue: boolean;
      upgrade: boolean;
      bodyKind: RequestHead["bodyKind"];
      contentLength: number | null;
    }
  | { type: "body"; data: string }
  | { type: "complete"; trailers: string[] }
  | { type: "error"; status: number; reason: string; code: string };

/** Records events; `hooks` run after recording, so a test can pause or detach from them. */
export function recordingParser(
  events: ParserEvent[],
  options: RequestParserOptions = {},
  hooks: Partial<RequestParserCallbacks> = {},
): RequestParser {
  return new RequestParser(
    {
      onRequestHead: (head) => {
        events.push({
          type: "head",
          method: head.method,
          target: head.target,
          version: `${head.versionMajor}.${head.versionMinor}`,
          headers: [...head.headers.raw],
          keepAlive: head.keepAlive,
          expectContinue: head.expectContinue,
          upgrade: head.upgrade,
          bodyKind: head.bodyKind,
          contentLength: head.contentLength,
        });
        hooks.onRequestHead?.(head);
      },
      onBody: (chunk) => {
        events.push({ type: "body", data: Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1") });
        hooks.onBody?.(chunk);
      },
      onRequestComplete: (trailers) => {
        events.push({ type: "complete", trailers: [...trailers.raw] });
        hooks.onRequestComplete?.(trailers);
      },
      onError: (error: HttpParseError) => {
        events.push({ type: "error", status: error.status, reason: error.reason, code: error.code });
        hooks.onError?.(error);
      },
    },
    options,
  );
}

/** Merges adjacent body events: how a body is cut into chunks depends on the input's cuts. */
export function normalize(events: readonly ParserEvent[]): ParserEvent[] {
  const out: ParserEvent[] = [];
  for (const event of events) {
    const last = out[out.length - 1];
    if (event.type === "body" && last !== undefined && last.type === "body") {
      out[out.length - 1] = { type: "body", data: last.data + event.data };
    } else {
      out.push(event);
    }
  }
  return out;
}

/** Parses `input` (latin1) cut at `cuts` (sorted offsets) and returns the normalized events. */
export function parseInChunks(input: string | Uint8Array, cuts: readonly number[] = [], options: RequestParserOptions = {}): ParserEvent[] {
  const bytes = typeof input === "string" ? Buffer.from(input, "latin1") : Buffer.from(input);
  const events: ParserEvent[] = [];
  const parser = recordingParser(events, options);
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    const end = Math.max(start, Math.min(cut, bytes.length));
    parser.execute(bytes.subarray(start, end));
    start = end;
  }
  return normalize(events);
}

/** Shorthand for a head event with the usual defaults. */
export function head(method: string, target: string, fields: Partial<Extract<ParserEvent, { type: "head" }>> = {}): ParserEvent {
  return {
    type: "head",
    method,
    target,
    version: "1.1",
    headers: [],
    keepAlive: true,
    expectContinue: false,
    upgrade: false,
    bodyKind: "none",
    contentLength: 0,
    ...fields,
  };
}
