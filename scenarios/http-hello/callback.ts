/**
 * http-hello, callback style: an `HttpServerFactory` whose handler answers at once.
 *
 * @module
 */

import { HttpServerFactory } from "wirelab";
import type { Clock, HttpRequest, HttpResponse, ListeningPort, Reactor } from "wirelab";
import { HELLO_BODY, HELLO_CONTENT_TYPE } from "./hello.js";

/**
 * Answers "Hello, world".
 * @param _request - the request (any path).
 * @param response - where the answer goes.
 */
export function helloHandler(_request: HttpRequest, response: HttpResponse): void {
  response.setHeader("Content-Type", HELLO_CONTENT_TYPE);
  response.end(HELLO_BODY);
}

/**
 * The callback-style server factory.
 * @param clock - the reactor's clock.
 * @returns the factory.
 */
export function helloFactory(clock: Clock): HttpServerFactory {
  return new HttpServerFactory(clock, helloHandler);
}

/**
 * Listens with the callback-style HTTP server factory: the style's `listen`.
 * @param reactor - the reactor (a `NodeReactor`, or a `SimNetwork` host).
 * @param endpoint - where to listen.
 * @returns the listening port.
 */
export function listenHello(reactor: Reactor, endpoint: string): PromiseLike<ListeningPort> {
  return reactor.listen(endpoint, helloFactory(reactor));
}
