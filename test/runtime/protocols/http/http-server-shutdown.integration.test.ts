/**
 * Graceful shutdown on real sockets, under load, with clients nobody here wrote: node:http
 * (a keep-alive agent) sends requests without pause on 16 connections and the `ws` package
 * keeps 4 WebSocket connections busy; `reactor.stop()` comes in the middle. Every request must
 * be answered completely or never started (no response cut short), every server connection
 * closed cleanly (no abort) within the deadline, and every WebSocket client must get 1001.
 * The same bodies run on every world, the fakes included, in test/conformance/graceful-shutdown.ts.
 */

import * as http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";

import type { Protocol } from "../../../../runtime/protocol.js";
import { NodeReactor } from "../../../../runtime/node/node-reactor.js";
import { application, body, SLOW_BODY } from "../../../conformance/graceful-shutdown.js";

const DEADLINE_MS = 2_000;
const HTTP_CLIENTS = 16;
const WS_CLIENTS = 4;

interface Outcome {
  readonly target: string;
  readonly sentAt: number;
  started: boolean;
  completed: boolean;
  body: string;
  error: string | null;
}

/** One request with node:http: what came back, and whether any of it did. */
function get(agent: http.Agent, port: number, target: string): Promise<Outcome> {
  const outcome: Outcome = { target, sentAt: performance.now(), started: false, completed: false, body: "", error: null };
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: target, agent }, (res) => {
      outcome.started = true;
      res.setEncoding("latin1");
      res.on("data", (chunk: string) => {
        outcome.body += chunk;
      });
      res.on("end", () => {
        outcome.completed = res.complete && res.statusCode === 200;
        resolve(outcome);
      });
      res.on("aborted", () => {
        outcome.error = "aborted";
      });
      res.on("error", (error) => {
        outcome.error = error.message;
        resolve(outcome);
      });
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      outcome.error = error.code ?? error.message;
      resolve(outcome);
    });
  });
}

describe("graceful shutdown on real sockets, with node:http and ws clients under load", () => {
  let reactor: NodeReactor | null = null;
  afterEach(async () => {
    if (reactor?.running === true) await reactor.stop();
  });

  it("reactor.stop() in the middle: no response cut, every server connection closed cleanly within the deadline, every WebSocket client gets 1001", async () => {
    const errors: Error[] = [];
    reactor = new NodeReactor({ errorHook: (error) => errors.push(error) });
    void reactor.run();
    const factory = application().factory(reactor, { shutdownTimeout: DEADLINE_MS });
    const serverEnds: string[] = [];
    const build = factory.buildProtocol.bind(factory);
    factory.buildProtocol = (addr) => {
      const protocol: Protocol = build(addr);
      const lost = protocol.connectionLost.bind(protocol);
      protocol.connectionLost = (reason: Error) => {
        serverEnds.push(reason.constructor.name);
        lost(reason);
      };
      return protocol as ReturnType<typeof build>;
    };
    const port = (await reactor.listen("tcp:0:interface=127.0.0.1", factory)).getHost().port;

    const agent = new http.Agent({ keepAlive: true, maxSockets: HTTP_CLIENTS });
    const outcomes: Outcome[] = [];
    let n = 0;
    const loop = async (): Promise<void> => {
      for (;;) {
        const i = n++;
        const outcome = await get(agent, port, i % 3 === 0 ? "/fast" : `/slow/${i}`);
        outcomes.push(outcome);
        if (outcome.error !== null) return;
      }
    };
    const loops = Array.from({ length: HTTP_CLIENTS }, () => loop());

    const sockets = await Promise.all(
      Array.from(
        { length: WS_CLIENTS },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
            ws.once("open", () => resolve(ws));
            ws.once("error", reject);
          }),
      ),
    );
    const closes = sockets.map(
      (ws) =>
        new Promise<number>((resolve) => {
          ws.on("message", () => {
            if (ws.readyState === WebSocket.OPEN) ws.send("again");
          });
          ws.on("error", () => undefined);
          ws.once("close", (code) => resolve(code));
          ws.send("hello");
        }),
    );

    // Load for a while, then stop in the middle of it.
    while (outcomes.filter((o) => o.completed).length < 200) await new Promise((r) => setTimeout(r, 5));
    const stopAt = performance.now();
    await reactor.stop();
    const stoppedAfter = performance.now() - stopAt;
    await Promise.all(loops);
    const codes = await Promise.all(closes);
    agent.destroy();

    expect(stoppedAfter).toBeLessThan(DEADLINE_MS);
    const cut = outcomes.filter((o) => o.started && !o.completed);
    expect(cut).toEqual([]);
    for (const o of outcomes.filter((x) => x.completed)) {
      expect(o.body).toBe(o.target === "/fast" ? "fast" : body(SLOW_BODY, Number(o.target.slice(6))));
    }
    // Requests in flight when stop() came were answered.
    expect(outcomes.filter((o) => o.completed && o.sentAt < stopAt && o.target !== "/fast").length).toBeGreaterThan(0);
    // Whatever was not answered never started: the client saw no byte of a response.
    for (const o of outcomes.filter((x) => !x.completed)) expect(o.started).toBe(false);
    expect(serverEnds.length).toBeGreaterThan(HTTP_CLIENTS);
    expect(serverEnds.filter((name) => name !== "ConnectionDone")).toEqual([]);
    expect(codes).toEqual(sockets.map(() => 1001));
    expect(errors).toEqual([]);
  }, 30_000);
});
