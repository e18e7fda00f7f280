import { describe, expect, it } from "vitest";

import { Deferred, fail, flushUnhandledErrors } from "../../runtime/deferred.js";
import { UncleanReactorError } from "../../runtime/errors.js";
import { Factory, Protocol } from "../../runtime/protocol.js";
import { Clock } from "../../fakes/clock.js";
import { connectPair } from "../../fakes/loopback.js";
import { MemoryReactor } from "../../fakes/memory-reactor.js";
import { SimNetwork } from "../../fakes/simulation.js";
import {
  assertClean,
  checkRegistered,
  findLeftovers,
  registeredCount,
  useClean,
} from "../../fakes/assert-clean.js";
import { Echo, Recorder } from "./simulation-helpers.js";

function tick(): void {}
function flushBuffers(): void {}

/** The error `fn` throws, which must be an UncleanReactorError. */
function unclean(fn: () => void): UncleanReactorError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UncleanReactorError);
    return error as UncleanReactorError;
  }
  throw new Error("expected an UncleanReactorError");
}

describe("assertClean on a Clock", () => {
  it("passes when nothing is pending, including calls that ran or were cancelled", () => {
    const clock = new Clock();
    clock.callLater(5, tick);
    clock.callLater(10, tick).cancel();
    clock.advance(5);
    expect(() => assertClean(clock)).not.toThrow();
  });

  it("names each pending call by its time and function name, earliest first", () => {
    const clock = new Clock();
    clock.advance(500);
    clock.callLater(1500, flushBuffers);
    clock.callLater(1000, tick);
    clock.callLater(2000, () => undefined);
    const error = unclean(() => assertClean(clock));
    expect(error.code).toBe("WL_ERR_UNCLEAN_REACTOR");
    expect(error.message).toBe(
      "the Clock was left unclean: 3 delayed calls pending: at 1500 ms (tick), at 2000 ms (flushBuffers), at 2500 ms (anonymous)",
    );
    expect(error.leftovers).toHaveLength(1);
  });

  it("counts the rest past maxNamed, and can ignore a kind", () => {
    const clock = new Clock();
    for (let i = 1; i <= 4; i++) clock.callLater(i, tick);
    expect(unclean(() => assertClean(clock, { maxNamed: 2 })).message).toContain("4 delayed calls pending: at 1 ms (tick), at 2 ms (tick), ... and 2 more");
    expect(() => assertClean(clock, { ignore: ["delayedCalls"] })).not.toThrow();
  });
});

describe("assertClean on a MemoryReactor", () => {
  it("names listening ports, open connections and pending calls", async () => {
    const reactor = new MemoryReactor();
    await reactor.listen("tcp:8080", Factory.forProtocol(() => new Protocol()));
    await reactor.listen("tcp:0:interface=127.0.0.1", Factory.forProtocol(() => new Protocol()));
    await reactor.listen("unix:/tmp/s.sock", Factory.forProtocol(() => new Protocol()));
    const d = reactor.connect("tcp:example.com:80:timeout=3", Factory.forProtocol(() => new Protocol()));
    const error = unclean(() => assertClean(reactor));
    expect(error.leftovers).toEqual([
      "1 delayed call pending: at 3000 ms (anonymous)",
      "3 listening ports tcp:8080, tcp:49152:interface=127.0.0.1, unix:/tmp/s.sock",
    ]);
    reactor.tcpClients[0]!.complete();
    await d;
    const again = unclean(() => assertClean(reactor));
    expect(again.leftovers[0]).toMatch(/^1 connection open: 127\.0\.0\.1:\d+ -> example\.com:80$/);
  });

  it("passes once everything is stopped and closed", async () => {
    const reactor = new MemoryReactor();
    const port = await reactor.listen("tcp:8080", Factory.forProtocol(() => new Echo()));
    const d = reactor.connect("tcp:127.0.0.1:8080", Factory.forProtocol(() => new Recorder()));
    const pump = reactor.tcpClients[0]!.completePair();
    const client = await d;
    client.transport.write("hi");
    pump.flush();
    client.transport.loseConnection();
    pump.flush();
    await port.stopListening();
    expect(findLeftovers(reactor)).toEqual([]);
    expect(() => assertClean(reactor)).not.toThrow();
  });
});

describe("assertClean on a connectPair pump", () => {
  it("names the sides still open, and passes once closed", () => {
    const pump = connectPair(new Echo(), new Recorder());
    expect(unclean(() => assertClean(pump)).leftovers).toEqual([
      "2 connections open: 127.0.0.1:8080 -> 127.0.0.1:49152, 127.0.0.1:49152 -> 127.0.0.1:8080",
    ]);
    pump.client.loseConnection();
    expect(unclean(() => assertClean(pump)).leftovers[0]).toContain("(disconnecting)");
    pump.flush();
    expect(() => assertClean(pump)).not.toThrow();
  });
});

describe("assertClean on a SimNetwork and its hosts", () => {
  it("names timers by host, open connections, listening ports and events in flight", async () => {
    const net = new SimNetwork();
    const server = net.host("10.0.0.1", { boot: (h) => h.listen("tcp:7", Factory.forProtocol(() => new Echo())) });
    const client = net.host("10.0.0.2");
    const done = client.connect("tcp:10.0.0.1:7", Factory.forProtocol(() => new Recorder()));
    await net.run({ until: 5 });
    const p = await done;
    client.callLater(100, tick);
    p.transport.write("x");
    const error = unclean(() => assertClean(net));
    expect(error.message).toMatch(/^SimNetwork \(seed 1\) was left unclean: /);
    expect(error.leftovers).toEqual([
      "1 delayed call pending: at 105 ms (tick) on 10.0.0.2",
      "1 simulation event pending: 1 other event (bytes, packets or faults in flight)",
      "1 connection open: c0 10.0.0.2:49152 -> 10.0.0.1:7",
      "1 listening port tcp:7 on 10.0.0.1",
    ]);
    // A host sees only its own timers and ports.
    expect(unclean(() => assertClean(server)).leftovers).toEqual(["1 connection open: c0 10.0.0.2:49152 -> 10.0.0.1:7", "1 listening port tcp:7 on 10.0.0.1"]);
    expect(unclean(() => assertClean(client)).leftovers[0]).toBe("1 delayed call pending: at 105 ms (tick) on 10.0.0.2");

    p.transport.loseConnection();
    await net.runUntilIdle();
    await server.stop();
    expect(() => assertClean(net)).not.toThrow();
  });

  it("does not count the ports of a crashed host", async () => {
    const net = new SimNetwork();
    net.host("10.0.0.1", { boot: (h) => h.listen("tcp:7", Factory.forProtocol(() => new Echo())) });
    await net.runUntilIdle();
    net.crash("10.0.0.1");
    expect(() => assertClean(net)).not.toThrow();
  });
});

describe("unhandled Deferred errors", () => {
  it("fail assertClean, which flushes them (each is reported once)", () => {
    const clock = new Clock();
    fail(new Error("nobody listens"));
    const error = unclean(() => assertClean(clock));
    expect(error.leftovers).toEqual(["1 unhandled Deferred error Unhandled error in Deferred: Error: nobody listens"]);
    expect(() => assertClean(clock)).not.toThrow();
  });

  it("are not counted once handled", () => {
    const d = new Deferred<void>();
    d.errback(new Error("late"));
    d.addErrback(() => undefined);
    expect(() => assertClean(new Clock())).not.toThrow();
  });

  it("can be ignored", () => {
    fail(new Error("expected"));
    expect(() => assertClean(new Clock(), { ignore: ["unhandledErrors"] })).not.toThrow();
    // The setup file's afterEach would fail this test on it: flush it here.
    expect(() => assertClean(new Clock())).toThrow(/expected/);
  });
});

describe("useClean and checkRegistered", () => {
  it("checks every registered fake once, naming each unclean one", () => {
    const a = useClean(new Clock());
    const b = useClean(new Clock());
    useClean(new Clock());
    a.callLater(10, tick);
    b.callLater(20, tick);
    expect(registeredCount()).toBe(3);
    const error = unclean(() => checkRegistered());
    expect(error.message).toBe(
      "2 fakes registered with useClean was left unclean: the Clock: 1 delayed call pending: at 10 ms (tick); the Clock: 1 delayed call pending: at 20 ms (tick)",
    );
    expect(registeredCount()).toBe(0);
    expect(() => checkRegistered()).not.toThrow();
  });

  it("passes options on, and returns the fake", () => {
    const clock = useClean(new Clock(), { ignore: ["delayedCalls"] });
    clock.callLater(1, tick);
    expect(clock).toBeInstanceOf(Clock);
    expect(() => checkRegistered()).not.toThrow();
  });

  it("leaves a clean registered fake to the setup file's afterEach, which passes it", () => {
    const clock = useClean(new Clock());
    clock.callLater(1, tick);
    clock.advance(1);
    expect(registeredCount()).toBe(1);
  });
});

describe("the setup file (test/setup.ts, wired in vitest.config.ts)", () => {
  it("turns unhandled-error tracking on for every test", () => {
    fail(new Error("tracked"));
    // With tracking off, flush returns nothing and the error would surface only at GC.
    expect(flushUnhandledErrors().map((e) => e.message)).toEqual(["Unhandled error in Deferred: Error: tracked"]);
  });
});
