/**
 * Test helpers for the HTTP server and client tests: a server on a StringTransport, and a
 * splitter that turns the bytes a server wrote back into responses.
 */

import { Buffer } from "node:buffer";

import { Clock, drainMicrotasks, StringTransport } from "../../../../fakes/index.js";
import { HttpServerFactory } from "../../../../runtime/protocols/http/http-server-factory.js";
import type { HttpHandler, HttpServerOptions } from "../../../../runtime/protocols/http/http-server-factory.js";
import type { HttpServerProtocol } from "../../../../runtime/protocols/http/http-server-protocol.js";
import { ResponseParser } from "../../../../runtime/protocols/http/response-parser.js";
import type { HttpResponseParseError } from "../../../../runtime/errors.js";

/** 1994-11-06T08:49:37Z, the RFC's example date. */
export const T0 = 784111777000;
export const T0_DATE = "Sun, 06 Nov 1994 08:49:37 GMT";

export interface ServerUnderTest {
  clock: Clock;
  factory: HttpServerFactory;
  transport: StringTransport;
  protocol: HttpServerProtocol;
  errors: Error[];
  /** Everything written so far, as latin1 text. */
  text(): string;
}

/** A server connection on a StringTransport with a fake clock at T0; errors are collected. */
export function serverOn(handler: HttpHandler, options: HttpServerOptions = {}, clock = new Clock({ start: T0 })): ServerUnderTest {
  const errors: Error[] = [];
  const factory = new HttpServerFactory(clock, handler, { onError: (e) => errors.push(e), ...options });
  const transport = new StringTransport();
  const protocol = transport.attach(factory.buildProtocol({ type: "tcp", host: "127.0.0.1", port: 1 }));
  return {
    clock,
    factory,
    transport,
    protocol,
    errors,
    text: () => Buffer.from(transport.value()).toString("latin1"),
  };
}

export interface ParsedResponse {
  status: number;
  headers: [string, string][];
  body: string;
  header(name: string): string | undefined;
}

/**
 * Splits the bytes a server wrote into responses.
 * @param bytes - the server's output.
 * @param headIndexes - indexes of responses that answer HEAD (no body).
 */
export function parseResponses(bytes: Uint8Array | string, headIndexes: readonly number[] = []): { responses: ParsedResponse[]; error: HttpResponseParseError | null; idle: boolean } {
  const responses: ParsedResponse[] = [];
  let current: { status: number; headers: [string, string][]; chunks: Buffer[] } | null = null;
  let error: HttpResponseParseError | null = null;
  const parser = new ResponseParser({
    onResponseHead(head) {
      current = { status: head.status, headers: [...head.headers], chunks: [] };
      return headIndexes.includes(responses.length);
    },
    onBody(chunk) {
      current!.chunks.push(Buffer.from(chunk));
    },
    onResponseComplete() {
      const c = current!;
      const headers = c.headers;
      responses.push({
        status: c.status,
        headers,
        body: Buffer.concat(c.chunks).toString("latin1"),
        header: (name) => headers.find(([n]) => n === name.toLowerCase())?.[1],
      });
      current = null;
    },
    onError(e) {
      error = e;
    },
  });
  parser.execute(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
  return { responses, error, idle: parser.isIdle || parser.isStopped };
}

/** Lets every pending promise continuation run (the fakes' drain: no virtual time passes). */
export async function settle(): Promise<void> {
  await drainMicrotasks();
}
