/**
 * The wirelab engine for Artillery, driven the way Artillery drives it (`createScenario(spec,
 * events)`, then `(context, callback)` per virtual user) by this test instead of Artillery: the
 * events each virtual user emits, against real servers on loopback. `artillery.integration.test.ts`
 * runs it under the real Artillery.
 */

import * as net from "node:net";
import { threadId } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Factory, Protocol } from "../../runtime/index.js";
import { NodeReactor } from "../../runtime/node/node-reactor.js";
import type { ListeningPort } from "../../runtime/reactor.js";
import { ArtilleryEngine, parseArtilleryTarget, resolveArtilleryOptions } from "../../scenarios/harness/artillery-engine.js";
import { listenEcho } from "../../scenarios/tcp-echo/callback.js";

type Event = [string, ...unknown[]];

/** What one virtual user emitted, and how it ended. */
async function virtualUser(reactor: NodeReactor, engine: Record<string, unknown>, target: string): Promise<{ events: Event[]; error: Error | null }> {
  const events: Event[] = [];
  const artillery = new ArtilleryEngine({ config: { target, engines: { wirelab: engine } } }, undefined, undefined, reactor);
  const run = artillery.createScenario({ name: "s" }, { emit: (...e: unknown[]) => events.push(e as Event) });
  const error = await new Promise<Error | null>((resolve) => run({ vars: { target } }, (e) => resolve(e)));
  return { events, error };
}

function counter(events: readonly Event[], name: string): number {
  return events.filter((e) => e[0] === "counter" && e[1] === name).reduce((a, e) => a + (e[2] as number), 0);
}

/** Answers nothing: every operation on it times out. */
class Mute extends Protocol {}

describe("ArtilleryEngine, one virtual user at a time", () => {
  const reactor = new NodeReactor();
  const ports: ListeningPort[] = [];
  let echo: string;
  let mute: string;

  beforeAll(async () => {
    void reactor.run();
    for (const start of [listenEcho, (r: NodeReactor, e: string) => r.listen(e, Factory.forProtocol(() => new Mute()))]) ports.push(await start(reactor, "tcp:0:interface=127.0.0.1"));
    echo = `tcp://127.0.0.1:${ports[0]!.getHost().port}`;
    mute = `tcp://127.0.0.1:${ports[1]!.getHost().port}`;
  });

  afterAll(async () => {
    for (const p of ports) await p.stopListening();
    await reactor.stop();
  });

  it("emits started first, then a connection, then per operation its latency in ms, a count and a rate; zero error counters; no error", async () => {
    const { events, error } = await virtualUser(reactor, { scenario: "tcp-echo", operations: 5 }, echo);
    expect(error).toBeNull();
    expect(events[0]).toEqual(["started"]);
    expect(events.filter((e) => e[0] === "started")).toHaveLength(1);
    expect(counter(events, "wirelab.tcp-echo.connections")).toBe(1);
    expect(counter(events, "wirelab.tcp-echo.operations")).toBe(5);
    for (const m of ["errors", "timeouts", "mismatches"]) {
      expect(events.some((e) => e[0] === "counter" && e[1] === `wirelab.tcp-echo.${m}`), m).toBe(true);
      expect(counter(events, `wirelab.tcp-echo.${m}`)).toBe(0);
    }
    const latencies = events.filter((e) => e[0] === "histogram").map((e) => e[2] as number);
    expect(events.filter((e) => e[0] === "histogram").every((e) => e[1] === "wirelab.tcp-echo.latency")).toBe(true);
    expect(latencies).toHaveLength(5);
    // Milliseconds: a loopback echo takes well under a second, and more than nothing.
    for (const ms of latencies) {
      expect(ms).toBeGreaterThan(0);
      expect(ms).toBeLessThan(1000);
    }
    expect(events.filter((e) => e[0] === "rate")).toEqual(Array.from({ length: 5 }, () => ["rate", "wirelab.tcp-echo.operation_rate"]));
  });

  it("runs until its duration is up, thinkTime apart", async () => {
    const { events, error } = await virtualUser(reactor, { scenario: "tcp-echo", duration: "300ms", thinkTime: "100ms", style: "callback" }, echo);
    expect(error).toBeNull();
    const ops = counter(events, "wirelab.tcp-echo/callback.operations");
    // 0, 100, 200 ms (and 300 when the clock is generous): never back to back.
    expect(ops).toBeGreaterThanOrEqual(2);
    expect(ops).toBeLessThanOrEqual(4);
  });

  it("holds a hold scenario's connection silent for its duration, then runs its probe", async () => {
    const started = Date.now();
    const { events, error } = await virtualUser(reactor, { scenario: "idle-hold", duration: "200ms" }, echo);
    expect(error).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(counter(events, "wirelab.idle-hold.operations")).toBe(1);
  });

  it("fails a virtual user whose one operation threw a mismatch (the connection is closed): the last operation counts too", async () => {
    const scenario = new URL("../fixtures/thrown-mismatch-scenario.ts", import.meta.url).pathname;
    const { events, error } = await virtualUser(reactor, { scenario, operations: 1 }, echo);
    expect(error).toBeInstanceOf(Error);
    expect(events).toContainEqual(["error", "WL_ERR_MISMATCH"]);
    expect(counter(events, "wirelab.thrown-mismatch.mismatches")).toBe(1);
  });

  it("fails a virtual user whose connection is refused: ECONNREFUSED, counted as one error", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const { events, error } = await virtualUser(reactor, { scenario: "tcp-echo", operations: 5 }, `tcp://127.0.0.1:${port}`);
    expect(error).toBeInstanceOf(Error);
    expect(events).toContainEqual(["error", "ECONNREFUSED"]);
    expect(counter(events, "wirelab.tcp-echo.errors")).toBe(1);
    expect(counter(events, "wirelab.tcp-echo.connections")).toBe(0);
  });

  it("fails a virtual user whose operation times out: WL_ERR_TIMEOUT, counted as a timeout, the connection closed", async () => {
    const { events, error } = await virtualUser(reactor, { scenario: "tcp-echo", operations: 5, timeout: "100ms" }, mute);
    expect(error?.message).toMatch(/no answer within 100 ms/);
    expect(events).toContainEqual(["error", "WL_ERR_TIMEOUT"]);
    expect(counter(events, "wirelab.tcp-echo.timeouts")).toBe(1);
    expect(counter(events, "wirelab.tcp-echo.operations")).toBe(0);
  });

  it("fails every virtual user of a bad script with WL_ERR_INVALID_OPTION, started first", async () => {
    for (const [engine, target] of [
      [{ scenario: "tcp-echo", opertions: 5 }, echo],
      [{ scenario: "no-such-scenario" }, echo],
      [{}, echo],
      [{ scenario: "tcp-echo" }, "tcp://127.0.0.1"],
    ] as const) {
      const { events, error } = await virtualUser(reactor, engine, target);
      expect(error, JSON.stringify(engine)).toBeInstanceOf(Error);
      expect(events).toEqual([["started"], ["error", "WL_ERR_INVALID_OPTION"]]);
    }
  });
});

describe("the engine's options", () => {
  it("defaults: one operation without a duration, unbounded with one, 10 s timeout; hold scenarios probe once", () => {
    const { group, ...rest } = resolveArtilleryOptions({ scenario: "tcp-echo" });
    expect(rest).toEqual({ scenario: "tcp-echo", operations: 1, thinkTimeMs: 0, timeoutMs: 10_000, firstIndex: 0 });
    expect(group).toBe((process.pid * 64 + threadId) % 65_536);
    expect(resolveArtilleryOptions({ scenario: "tcp-echo", duration: 30 })).toMatchObject({ operations: Infinity, durationMs: 30_000 });
    expect(resolveArtilleryOptions({ scenario: "idle-hold", duration: "2m" }, "hold")).toMatchObject({ operations: 1, durationMs: 120_000 });
    expect(resolveArtilleryOptions({ scenario: "idle-hold", operations: 0 }, "hold")).toMatchObject({ operations: 0 });
    expect(resolveArtilleryOptions({ scenario: "x", operations: "7", thinkTime: "250ms", timeout: 2, style: "async", name: "shout", firstIndex: 100, group: 7 })).toEqual({
      scenario: "x",
      name: "shout",
      style: "async",
      operations: 7,
      thinkTimeMs: 250,
      timeoutMs: 2000,
      firstIndex: 100,
      group: 7,
    });
  });

  it("names the bad option", () => {
    for (const [raw, message] of [
      [{}, /scenario.*needs config\.engines\.wirelab\.scenario/],
      [{ scenario: "x", operations: 0 }, /operations.*integer from 1/],
      [{ scenario: "x", operations: 1.5 }, /operations/],
      [{ scenario: "x", duration: "soon" }, /duration.*such as 300ms/],
      [{ scenario: "x", timeout: 0 }, /timeout.*more than 0/],
      [{ scenario: "x", style: "a/b" }, /style.*without "\/"/],
      [{ scenario: "x", ops: 3 }, /ops.*not an option of the wirelab engine/],
      [{ scenario: "x", group: 65_536 }, /group.*integer from 0 to 65535/],
    ] as const) {
      expect(() => resolveArtilleryOptions(raw), JSON.stringify(raw)).toThrow(message);
    }
  });

  it("reads Artillery's target in its usual forms", () => {
    expect(parseArtilleryTarget("tcp://127.0.0.1:7000")).toEqual({ host: "127.0.0.1", port: 7000 });
    expect(parseArtilleryTarget("http://localhost:8080/")).toEqual({ host: "localhost", port: 8080 });
    expect(parseArtilleryTarget("ws://[::1]:9000")).toEqual({ host: "::1", port: 9000 });
    expect(parseArtilleryTarget("127.0.0.2:81")).toEqual({ host: "127.0.0.2", port: 81 });
    // A URL drops its scheme's default port; the target still means it.
    expect(parseArtilleryTarget("http://127.0.0.1:80")).toEqual({ host: "127.0.0.1", port: 80 });
    expect(parseArtilleryTarget("ws://example.test")).toEqual({ host: "example.test", port: 80 });
    expect(parseArtilleryTarget("wss://example.test")).toEqual({ host: "example.test", port: 443 });
    for (const bad of ["tcp://127.0.0.1", "nothing here", 7000, undefined]) expect(() => parseArtilleryTarget(bad), String(bad)).toThrow(/target/);
  });
});
