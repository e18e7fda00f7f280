/**
 * `requestApp(app, method, path)`: a test helper that sends one request to a web `Application`
 * through the whole stack (HTTP server protocol, request parser, response serialization, and
 * wirelab's HTTP client parsing the answer) over an in-memory connection on a virtual clock.
 * No socket, no real timer: the in-memory counterpart of hono's `app.request()`.
 *
 * It lives in the fakes because it is built from them (`connectPair`, `Clock`): the runtime
 * never imports the fakes, and one in-memory transport is enough.
 *
 * @module
 */

import { Buffer } from "node:buffer";

import { ReactorStalledError } from "../runtime/errors.js";
import type { HttpHeaderInput } from "../runtime/protocols/http/http-response.js";
import { HttpClientProtocol } from "../runtime/protocols/http/http-client.js";
import type { HttpClientResponse } from "../runtime/protocols/http/http-client.js";
import type { HttpHeaders } from "../runtime/protocols/http/http-headers.js";
import type { Application } from "../runtime/web/application.js";
import type { ChunkingPolicy } from "./chunking.js";
import { Clock, drainMicrotasks } from "./clock.js";
import { connectPair, DEFAULT_SERVER_ADDRESS } from "./loopback.js";

/** The default bound on the rounds (pump, microtasks, timers) of one {@link requestApp}. */
export const DEFAULT_APP_REQUEST_MAX_STEPS = 10_000;

/** Options of {@link requestApp}. */
export interface AppRequestOptions {
  /** Request header fields; `Host` defaults to the in-memory server's address. */
  headers?: HttpHeaderInput;
  /** The request body (sent with `Content-Length`). */
  body?: string | Uint8Array;
  /** The virtual clock the server runs on. @defaultValue a new `Clock` at 0 */
  clock?: Clock;
  /**
   * When nothing else can move, run the next timed call on the clock (virtual time jumps, as
   * in a simulation), so handlers that wait on the clock complete.
   * @defaultValue true
   */
  advanceClock?: boolean;
  /** How the bytes are cut into reads, both ways. @defaultValue whole writes */
  chunking?: ChunkingPolicy;
  /**
   * The most rounds before giving up with `ReactorStalledError`.
   * @defaultValue {@link DEFAULT_APP_REQUEST_MAX_STEPS}
   */
  maxSteps?: number;
}

/** A response from {@link requestApp}. */
export interface AppResponse {
  /** The status code. */
  readonly status: number;
  /** The header fields (names lowercased; `get` takes any case). */
  readonly headers: HttpHeaders;
  /** The body. */
  readonly body: Uint8Array;
  /** The raw client response. */
  readonly raw: HttpClientResponse;
  /** The body as UTF-8 text. */
  text(): string;
  /** The body parsed as JSON. */
  json(): unknown;
}

/**
 * Sends one request to `app` in memory and returns its response (test helper).
 *
 * @param app - the application.
 * @param method - the method.
 * @param path - the request-target (path and query).
 * @param options - see {@link AppRequestOptions}.
 * @returns a Promise of the response.
 * @throws (rejects) ReactorStalledError (`WL_ERR_REACTOR_STALLED`) when the response does not
 *   complete within `maxSteps` rounds or nothing is left to run; the client's errors
 *   (`HttpResponseParseError`, ...) when the server's answer is malformed or cut short.
 *
 * @example
 * ```ts
 * const res = await requestApp(app, "GET", "/hello/you");
 * expect(res.status).toBe(200);
 * expect(res.text()).toBe("hello you");
 * ```
 */
export async function requestApp(app: Application, method: string, path: string, options: AppRequestOptions = {}): Promise<AppResponse> {
  const clock = options.clock ?? new Clock();
  const factory = app.factory(clock);
  const server = factory.buildProtocol(DEFAULT_SERVER_ADDRESS);
  const { host, port } = DEFAULT_SERVER_ADDRESS;
  const client = new HttpClientProtocol({ host: `${host}:${port}` });
  const pump = connectPair(server, client, options.chunking === undefined ? {} : { chunking: options.chunking });
  const request = { method, target: path, ...(options.headers === undefined ? {} : { headers: options.headers }), ...(options.body === undefined ? {} : { body: options.body }) };
  let result: HttpClientResponse | null = null;
  let failure: unknown = null;
  let settled = false;
  client.request(request).addCallbacks(
    (response) => {
      result = response;
      settled = true;
    },
    (error: unknown) => {
      failure = error;
      settled = true;
    },
  );
  const maxSteps = options.maxSteps ?? DEFAULT_APP_REQUEST_MAX_STEPS;
  const advance = options.advanceClock ?? true;
  let idleRounds = 0;
  const giveUp = (step: number, detail: string): ReactorStalledError => {
    // Nothing may linger: the connection goes, and the server's timers with it.
    client.transport.abortConnection();
    pump.flush();
    return new ReactorStalledError(step, detail);
  };
  for (let step = 0; !settled; step++) {
    if (step >= maxSteps) throw giveUp(step, `no response to ${method} ${path}`);
    const moved = pump.flush() > 0;
    await drainMicrotasks();
    if (settled) break;
    if (moved || !pump.idle) {
      idleRounds = 0;
      continue;
    }
    if (advance && clock.stepToNext()) continue;
    // Nothing can move: give pending work outside the clock a few turns, then give up.
    if (++idleRounds > 3) throw giveUp(step, `no response to ${method} ${path}, and nothing is pending`);
  }
  client.close();
  pump.flush();
  if (failure !== null) throw failure;
  const response = result as unknown as HttpClientResponse;
  const body = response.body;
  return {
    status: response.status,
    headers: response.headers,
    body,
    raw: response,
    text: () => Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"),
    json: (): unknown => JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8")),
  };
}
