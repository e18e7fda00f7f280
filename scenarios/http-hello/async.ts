/**
 * http-hello, async/await style: an `HttpServerFactory` with an `async` handler.
 *
 * @module
 */

import type { Clock } from "../../runtime/reactor.js";
import type { HttpRequest } from "../../runtime/protocols/http/http-request.js";
import type { HttpResponse } from "../../runtime/protocols/http/http-response.js";
import { HttpServerFactory } from "../../runtime/protocols/http/http-server-factory.js";
import type { ServerHandle, ServerStartOptions } from "../scenario.js";
import { startReactorServer } from "../reactor-server.js";
import { HELLO_BODY, HELLO_CONTENT_TYPE } from "./hello.js";

/**
 * Answers "Hello, world" from an async function (the shape of a handler that awaits a store).
 * @param _request - the request (any path).
 * @param response - where the answer goes.
 */
export async function helloHandlerAsync(_request: HttpRequest, response: HttpResponse): Promise<void> {
  await Promise.resolve();
  response.setHeader("Content-Type", HELLO_CONTENT_TYPE);
  response.end(HELLO_BODY);
}

/**
 * The async-style server factory.
 * @param clock - the reactor's clock.
 * @returns the factory.
 */
export function helloFactoryAsync(clock: Clock): HttpServerFactory {
  return new HttpServerFactory(clock, helloHandlerAsync);
}

/**
 * Serves http-hello in the async style on a `NodeReactor`.
 * @param options - where to listen.
 * @returns the running server.
 */
export function start(options: ServerStartOptions): Promise<ServerHandle> {
  return startReactorServer(options, (reactor, endpoint) => reactor.listen(endpoint, helloFactoryAsync(reactor)));
}
