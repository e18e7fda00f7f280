/**
 * The graceful shutdown of an HTTP and WebSocket server (`HttpServerFactory.shutdown`, which
 * `reactor.stop()` runs as a `before shutdown` trigger), as bodies run on every world of the
 * conformance suite: under load (clients pipelining requests without pause, WebSocket clients
 * connected), the reactor is stopped in the middle. Every request must be answered completely
 * or never started (none truncated), every connection closed cleanly within the deadline, and
 * every WebSocket client must get a close frame with 1001.
 */

import { afterEach, beforeEach, expect, it } from "vitest";

import { Deferred } from "../../runtime/deferred.js";
import { ConnectionDone, ConnectionLost, ConnectionResetError, HttpResponseParseError } from "../../runtime/errors.js";
import { Factory } from "../../runtime/protocol.js";
import { HttpClientProtocol } from "../../runtime/protocols/http/http-client.js";
import type { HttpClientResponse } from "../../runtime/protocols/http/http-client.js";
import { CloseCode } from "../../runtime/protocols/websocket/close-codes.js";
import type { WebSocketCloseInfo } from "../../runtime/protocols/websocket/websocket-protocol.js";
import type { Clock } from "../../runtime/reactor.js";
import { deferLater } from "../../runtime/tasks.js";
import { Application } from "../../runtime/web/application.js";
import { RequestHandler } from "../../runtime/web/request-handler.js";
import { WebSocketHandler } from "../../runtime/web/websocket-handler.js";
import { websocketConnect } from "../../runtime/web/websocket-connect.js";
import type { World, WorldMaker } from "./world.js";

/** The server's shutdown deadline, in milliseconds (virtual on the fakes). */
const DEADLINE_MS = 3_000;
/** Bytes of a slow response, sent in two halves some time apart. */
export const SLOW_BODY = 24_000;

/** The body `/slow/<seed>` answers with (the first `length` bytes of it). */
export function body(length: number, seed: number): string {
  let s = "";
  for (let i = 0; s.length < length; i++) s += String.fromCharCode(97 + ((i * 7 + seed) % 26));
  return s.slice(0, length);
}

class Fast extends RequestHandler {
  override get(): void {
    this.write("fast");
  }
}

class Slow extends RequestHandler {
  override async get(n: string): Promise<void> {
    const text = body(SLOW_BODY, Number(n));
    await deferLater(this.clock, 15);
    this.write(text.slice(0, SLOW_BODY / 2));
    await this.flush();
    await deferLater(this.clock, 15);
    this.write(text.slice(SLOW_BODY / 2));
  }
}

class Forever extends RequestHandler {
  /** How many have started (reset by each test). */
  static started = 0;
  override async get(): Promise<void> {
    Forever.started++;
    this.write("started, never finished");
    await this.flush();
    await new Promise<void>(() => undefined);
  }
}

class Echo extends WebSocketHandler {
  override onMessage(message: string | Uint8Array): void {
    // A message that arrives once the server started closing is not answered.
    if (this.webSocket?.readyState === "open") this.writeMessage(message).catch(() => undefined);
  }
}

/**
 * The server under shutdown: `/fast`, `/slow/<n>` (24,000 bytes in two halves 15 ms apart),
 * `/forever` (a handler that never finishes) and `/ws` (a WebSocket echo). Also used by the
 * real-socket test with node:http and ws clients (http-server-shutdown.integration.test.ts).
 */
export function application(): Application {
  return new Application([
    ["/fast", Fast],
    [String.raw`/slow/(\d+)`, Slow],
    ["/forever", Forever],
    ["/ws", Echo],
  ]);
}

interface Outcome {
  readonly target: string;
  readonly sentAt: number;
  response: HttpClientResponse | null;
  error: unknown;
}

/** A client that keeps two requests in flight on one connection until it closes. */
class Pipeliner {
  readonly outcomes: Outcome[] = [];
  private n = 0;
  closedWith: Error | null = null;

  constructor(
    readonly protocol: HttpClientProtocol,
    private readonly clock: Clock,
    private readonly seed: number,
  ) {
    const lost = protocol.connectionLost.bind(protocol);
    protocol.connectionLost = (reason: Error) => {
      this.closedWith = reason;
      lost(reason);
    };
    this.next();
    this.next();
  }

  get completed(): number {
    return this.outcomes.filter((o) => o.response !== null).length;
  }

  private next(): void {
    if (this.closedWith !== null) return;
    const i = this.n++;
    const target = i % 3 === 1 ? "/fast" : `/slow/${this.seed * 1000 + i}`;
    const outcome: Outcome = { target, sentAt: this.clock.now(), response: null, error: null };
    this.outcomes.push(outcome);
    this.protocol.request({ target }).addCallbacks(
      (response) => {
        outcome.response = response;
        this.next();
      },
      (error: unknown) => {
        outcome.error = error;
      },
    );
  }
}

/** Where `endpoint` leads, as a ws:// URL plus the endpoint to dial. */
function wsUrl(endpoint: string): { url: string; endpoint: string } {
  return { url: "ws://wirelab.test/ws", endpoint };
}

/**
 * Defines the graceful-shutdown bodies in the current `describe`, each on a fresh world.
 *
 * @param makeWorld - builds the world for one test.
 */
export function gracefulShutdownSuite(makeWorld: WorldMaker): void {
  let world: World;
  beforeEach(async () => {
    world = await makeWorld();
  });
  afterEach(async () => {
    await world.teardown();
  });

  it("under load, reactor.stop() drains the server: every request answered completely or never started, every connection closed cleanly within the deadline, WebSocket clients get 1001", async () => {
    const server = world.server;
    const factory = application().factory(server, { shutdownTimeout: DEADLINE_MS });
    // How each server-side connection ended.
    const serverEnds: (Error | null)[] = [];
    const build = factory.buildProtocol.bind(factory);
    factory.buildProtocol = (addr) => {
      const protocol = build(addr);
      const i = serverEnds.push(null) - 1;
      const lost = protocol.connectionLost.bind(protocol);
      protocol.connectionLost = (reason: Error) => {
        serverEnds[i] = reason;
        lost(reason);
      };
      return protocol;
    };
    const endpoint = await world.listen(factory);
    const clients: Pipeliner[] = [];
    for (let i = 0; i < 5; i++) {
      const protocol = await world.wait(
        world.client.connect(endpoint, Factory.forProtocol(() => new HttpClientProtocol({ pipelining: 2, host: "wirelab.test" }))),
        "an HTTP client to connect",
      );
      clients.push(new Pipeliner(protocol, world.client, i + 1));
    }
    const sockets = [];
    for (let i = 0; i < 2; i++) {
      const { url, endpoint: dial } = wsUrl(endpoint);
      sockets.push(await world.wait(websocketConnect(world.client, url, { endpoint: dial }), "a WebSocket client to connect"));
    }
    const closes: (WebSocketCloseInfo | null)[] = sockets.map(() => null);
    sockets.forEach((s, i) => {
      void s.protocol.whenClosed().then((info) => {
        closes[i] = info;
      });
    });
    await world.runUntil(() => clients.every((c) => c.completed >= 4), "every client to have some answers");

    const stopAt = server.now();
    const stopped = server.stop();
    let stoppedAt = NaN;
    stopped.addCallback(() => {
      stoppedAt = server.now();
    });
    await world.wait(stopped, "the server's reactor to stop");

    // Within the deadline, and nothing was cut: the slow responses in flight were finished.
    expect(stoppedAt - stopAt).toBeLessThan(DEADLINE_MS);
    // Every server-side connection closed cleanly (none was aborted at the deadline).
    expect(serverEnds.map((e) => e?.constructor.name)).toEqual(serverEnds.map(() => "ConnectionDone"));
    for (const client of clients) {
      // The client read the server's FIN and closed; where it shares the stopping reactor, that
      // reactor may close it first, once the server's side is closed (ConnectionLost).
      const ends = world.client === server ? [ConnectionDone, ConnectionLost] : [ConnectionDone];
      expect(ends.some((type) => client.closedWith instanceof type), String(client.closedWith)).toBe(true);
      for (const o of client.outcomes) {
        if (o.response !== null) {
          expect(o.response.status).toBe(200);
          const expected = o.target === "/fast" ? "fast" : body(SLOW_BODY, Number(o.target.slice(6)));
          expect(new TextDecoder().decode(o.response.body)).toBe(expected);
        } else {
          // Never started: no byte of its response arrived.
          expect(o.error).not.toBeInstanceOf(HttpResponseParseError);
          expect(o.error).not.toBeNull();
        }
      }
    }
    const answeredDuringShutdown = clients.flatMap((c) => c.outcomes).filter((o) => o.response !== null && o.sentAt <= stopAt).length;
    expect(answeredDuringShutdown).toBeGreaterThan(0);
    await world.runUntil(() => closes.every((c) => c !== null), "the WebSocket clients to close");
    for (const info of closes) expect(info).toMatchObject({ code: CloseCode.GOING_AWAY, wasClean: true });
  });

  it("a request still running at the deadline is aborted then, and the reactor stops", async () => {
    Forever.started = 0;
    const server = world.server;
    const endpoint = await world.listen(application().factory(server, { shutdownTimeout: 200 }));
    const client = await world.wait(world.client.connect(endpoint, Factory.forProtocol(() => new HttpClientProtocol({ host: "wirelab.test" }))), "connecting");
    let lost: Error | null = null;
    const connectionLost = client.connectionLost.bind(client);
    client.connectionLost = (reason: Error) => {
      lost = reason;
      connectionLost(reason);
    };
    const forever = client.request({ target: "/forever" });
    const settled = new Deferred<unknown>();
    forever.addCallbacks(
      (r) => settled.callback(r),
      (e: unknown) => settled.callback(e),
    );
    await world.runUntil(() => Forever.started === 1, "the handler to start");
    const stopAt = server.now();
    const stopped = server.stop();
    let stoppedAt = NaN;
    stopped.addCallback(() => {
      stoppedAt = server.now();
    });
    await world.wait(stopped, "the server's reactor to stop");
    expect(stoppedAt - stopAt).toBeGreaterThanOrEqual(200 - 1);
    expect(stoppedAt - stopAt).toBeLessThan(200 + DEADLINE_MS);
    await world.runUntil(() => lost !== null, "the client's connection to end");
    // The response had started: the client sees it cut (never silently complete).
    expect(await world.wait(settled, "the request to settle")).toBeInstanceOf(HttpResponseParseError);
    // A reset (or the end of the stream over unix and TLS); where the client shares the stopping
    // reactor, that reactor's own shutdown may close it first (ConnectionLost).
    expect([ConnectionResetError, ConnectionDone, ConnectionLost].some((type) => lost instanceof type), String(lost)).toBe(true);
  });
}
