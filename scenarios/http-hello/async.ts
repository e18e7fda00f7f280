/**
 * http-hello, async/await style: an `HttpServerFactory` with an `async` handler.
 *
 * @module
 */

import { HttpServerFactory } from "wirelab";
import type { Clock, HttpRequest, HttpResponse, ListeningPort, Reactor } from "wirelab";
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
 * Listens with the async-style HTTP server factory: the style's `listen`.
 * @param reactor - the reactor (a `NodeReactor`, or a `SimNetwork` host).
 * @param endpoint - where to listen.
 * @returns the listening port.
 */
export function listenHelloAsync(reactor: Reactor, endpoint: string): PromiseLike<ListeningPort> {
  return reactor.listen(endpoint, helloFactoryAsync(reactor));
}
