/**
 * The conformance suite's reactor bodies: the life cycle and its triggers, timed calls, and
 * UDP, each written once and run on every reactor (MemoryReactor, SimNetwork, NodeReactor).
 * The decisions they hold are in runtime/README.md ("The reactor's life cycle"); suite.ts has
 * the connection bodies and the table of what runs where.
 */

import { afterEach, beforeEach, expect, it } from "vitest";

import { Deferred } from "../../runtime/deferred.js";
import {
  CancelledError,
  ConnectionLost,
  ConnectionRefusedError,
  DelayedCallCancelledError,
  DelayedCallRanError,
  ReactorStateError,
  UnhandledReactorError,
} from "../../runtime/errors.js";
import { DatagramProtocol, Factory, Protocol } from "../../runtime/protocol.js";
import type { Address } from "../../runtime/protocol.js";
import type { DelayedCall } from "../../runtime/reactor.js";
import { Recorder } from "./world.js";
import type { ReactorWorld, ReactorWorldMaker } from "./world.js";

/** A Deferred that fires after `ms` on `world`'s reactor clock. */
function later(world: ReactorWorld, ms: number): Deferred<void> {
  const d = new Deferred<void>();
  world.reactor.callLater(ms, () => {
    d.callback(undefined);
  });
  return d;
}

/** The error a promise rejects with (it must reject). */
async function rejection(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/**
 * Defines the reactor bodies in the current `describe`, each on a fresh reactor world.
 *
 * @param makeWorld - builds the world for one test.
 */
export function reactorConformanceSuite(makeWorld: ReactorWorldMaker): void {
  let world: ReactorWorld;
  beforeEach(async () => {
    world = await makeWorld();
  });
  afterEach(async () => {
    await world.teardown();
  });

  // -- Life cycle ------------------------------------------------------------------------------

  it("startup: before (not running yet), during (running), then the after triggers and callWhenRunning calls in the order added; later callWhenRunning calls run at once", async () => {
    const r = world.reactor;
    const log: string[] = [];
    r.callWhenRunning(() => log.push(`when-running-1 running=${r.running}`));
    r.addSystemEventTrigger("after", "startup", () => log.push("after"));
    r.addSystemEventTrigger("during", "startup", () => log.push(`during running=${r.running}`));
    r.addSystemEventTrigger("before", "startup", () => log.push(`before running=${r.running}`));
    r.callWhenRunning(() => log.push("when-running-2"));
    expect(r.running).toBe(false);
    void r.run();
    expect(log).toEqual(["before running=false", "during running=true", "when-running-1 running=true", "after", "when-running-2"]);
    r.callWhenRunning(() => log.push("now"));
    expect(log.at(-1)).toBe("now");
    await world.wait(r.stop(), "the reactor to stop");
  });

  it("startup waits for a before trigger's Deferred; a trigger added to a phase while it runs runs too; a removed one does not", async () => {
    const r = world.reactor;
    const log: string[] = [];
    const gate = new Deferred<void>();
    r.addSystemEventTrigger("before", "startup", () => {
      log.push("before");
      r.addSystemEventTrigger("before", "startup", () => log.push("before, added meanwhile"));
      return gate;
    });
    const removed = r.addSystemEventTrigger("during", "startup", () => log.push("removed"));
    r.addSystemEventTrigger("during", "startup", () => {
      log.push("during");
      r.removeSystemEventTrigger(removed);
    });
    r.removeSystemEventTrigger(removed);
    r.callWhenRunning(() => log.push("running"));
    void r.run();
    expect(log).toEqual(["before", "before, added meanwhile"]);
    expect(r.running).toBe(false);
    // Time goes on while startup waits.
    await world.wait(later(world, 5), "a timed call during startup");
    expect(log).toEqual(["before", "before, added meanwhile"]);
    gate.callback(undefined);
    await world.runUntil(() => log.includes("running"), "startup to finish");
    expect(log).toEqual(["before", "before, added meanwhile", "during", "running"]);
    await world.wait(r.stop(), "the reactor to stop");
  });

  it("a trigger that throws, or whose Deferred or Promise fails, is reported through the error hook at once, and the event goes on", async () => {
    const r = world.reactor;
    const log: string[] = [];
    r.addSystemEventTrigger("before", "startup", () => {
      throw new Error("thrown");
    });
    r.addSystemEventTrigger("before", "startup", () => Promise.reject(new Error("rejected")));
    r.addSystemEventTrigger("during", "startup", () => {
      log.push(`during, ${world.errors.length} reported`);
    });
    r.addSystemEventTrigger("after", "startup", () => {
      throw new Error("after");
    });
    r.callWhenRunning(() => log.push("running"));
    void r.run();
    await world.runUntil(() => log.includes("running"), "startup to finish");
    expect(log).toEqual(["during, 2 reported", "running"]);
    expect(world.errors.map((e) => (e as UnhandledReactorError).cause instanceof Error && ((e as UnhandledReactorError).cause as Error).message)).toEqual(["thrown", "rejected", "after"]);
    expect(world.errors.every((e) => e instanceof UnhandledReactorError)).toBe(true);
    world.errors.length = 0;
    await world.wait(r.stop(), "the reactor to stop");
  });

  it("shutdown: before triggers are waited for (still running, timers still run), then the reactor closes its ports and connections at once (ConnectionLost), then during and after; then stop() and run() fire", async () => {
    const r = world.reactor;
    const ran = r.run();
    let runFired = false;
    ran.addCallback(() => {
      runFired = true;
    });
    const servers: Recorder[] = [];
    const port = await world.wait(
      r.listen(
        world.listenEndpoint,
        Factory.forProtocol(() => {
          const p = new Recorder();
          servers.push(p);
          return p;
        }),
      ),
      "listening",
    );
    const endpoint = world.connectEndpoint(port);
    const client = await world.wait(world.peer.connect(endpoint, Factory.forProtocol(() => new Recorder())), "connecting");
    await world.runUntil(() => servers.length === 1, "the connection to be accepted");
    const log: string[] = [];
    r.addSystemEventTrigger("before", "shutdown", () => {
      log.push(`before running=${r.running}`);
      return later(world, 5).addCallback(() => {
        log.push(`timer in before, server ${servers[0]!.reason === null ? "open" : "closed"}`);
      });
    });
    r.addSystemEventTrigger("during", "shutdown", () => {
      log.push(`during running=${r.running}, server lost with ${servers[0]!.reason?.constructor.name}`);
    });
    r.addSystemEventTrigger("after", "shutdown", () => log.push("after"));
    const stopped = r.stop();
    expect(log).toEqual(["before running=true"]);
    await world.wait(stopped, "the reactor to stop");
    expect(log).toEqual(["before running=true", "timer in before, server open", "during running=false, server lost with ConnectionLost", "after"]);
    expect(runFired).toBe(true);
    expect(servers[0]!.reason).toBeInstanceOf(ConnectionLost);
    await world.runUntil(() => client.reason !== null, "the peer's connection to end");
    // The port is closed: nothing answers there any more. (On MemoryReactor the peer is the
    // reactor itself, which can no longer dial; its unit tests check the port stopped.)
    if (world.peer !== r) {
      const refused = await world.wait(rejection(world.peer.connect(endpoint, Factory.forProtocol(() => new Protocol()))), "a connect to the closed port");
      expect(refused).toBeInstanceOf(ConnectionRefusedError);
    }
  });

  it("shutdown abandons a connection attempt in progress: it fails with CancelledError", async () => {
    const r = world.reactor;
    void r.run();
    const peerPort = await world.wait(world.peer.listen(world.peerListenEndpoint, Factory.forProtocol(() => new Protocol())), "the peer to listen");
    const attempt = r.connect(world.peerConnectEndpoint(peerPort), Factory.forProtocol(() => new Protocol()));
    const stopped = r.stop();
    const error = await world.wait(rejection(attempt), "the attempt to fail");
    expect(error).toBeInstanceOf(CancelledError);
    await world.wait(stopped, "the reactor to stop");
    await world.wait(peerPort.stopListening(), "the peer to stop listening");
  });

  it("from the during-shutdown phase on: listen, connect and listenUDP fail with ReactorStateError, and callLater's calls never run", async () => {
    const r = world.reactor;
    void r.run();
    const attempts: Promise<unknown>[] = [];
    let dormant: DelayedCall | null = null;
    let ran = false;
    r.addSystemEventTrigger("during", "shutdown", () => {
      attempts.push(rejection(r.listen(world.listenEndpoint, Factory.forProtocol(() => new Protocol()))));
      attempts.push(rejection(r.connect("tcp:127.0.0.1:1", Factory.forProtocol(() => new Protocol()))));
      attempts.push(rejection(r.listenUDP(0, new DatagramProtocol())));
      dormant = r.callLater(0, () => {
        ran = true;
      });
    });
    await world.wait(r.stop(), "the reactor to stop");
    for (const error of await Promise.all(attempts)) expect(error).toBeInstanceOf(ReactorStateError);
    const after = r.callLater(1, () => {
      ran = true;
    });
    await world.elapse(20);
    expect(ran).toBe(false);
    expect(dormant!.active()).toBe(true);
    dormant!.cancel();
    after.cancel();
    expect(() => after.cancel()).toThrow(DelayedCallCancelledError);
  });

  it("runs once: stop() before run() throws, run() twice throws, a second stop() waits for the same shutdown, run() and stop() after it throw", async () => {
    const r = world.reactor;
    expect(() => r.stop()).toThrow(ReactorStateError);
    void r.run();
    expect(() => r.run()).toThrow(ReactorStateError);
    const gate = new Deferred<void>();
    r.addSystemEventTrigger("before", "shutdown", () => gate);
    const first = r.stop();
    const second = r.stop();
    expect(first.called || second.called).toBe(false);
    gate.callback(undefined);
    await world.wait(first, "the shutdown");
    await world.wait(second, "the second stop()");
    expect(() => r.run()).toThrow(ReactorStateError);
    expect(() => r.stop()).toThrow(ReactorStateError);
  });

  it("stop() while startup waits on a before trigger: startup finishes (callWhenRunning calls run), then the reactor shuts down", async () => {
    const r = world.reactor;
    const log: string[] = [];
    const gate = new Deferred<void>();
    r.addSystemEventTrigger("before", "startup", () => gate);
    r.callWhenRunning(() => log.push("running"));
    r.addSystemEventTrigger("after", "shutdown", () => log.push("stopped"));
    void r.run();
    const stopped = r.stop();
    expect(log).toEqual([]);
    gate.callback(undefined);
    await world.wait(stopped, "the shutdown");
    expect(log).toEqual(["running", "stopped"]);
  });

  // -- Timed calls -----------------------------------------------------------------------------

  it("timed calls: equal due times run in the order scheduled, earlier ones first, a negative delay counts as 0, arguments are passed", async () => {
    const r = world.reactor;
    const log: string[] = [];
    const push = (name: string): void => {
      log.push(name);
    };
    r.callLater(10, push, "a");
    r.callLater(5, push, "b");
    r.callLater(10, push, "c");
    r.callLater(0, push, "d");
    r.callLater(-5, push, "e");
    await world.runUntil(() => log.length === 5, "every call to run");
    expect(log).toEqual(["d", "e", "b", "a", "c"]);
  });

  it("timed calls: cancel() makes a call inactive; cancel/reset/delay on a cancelled call throw DelayedCallCancelledError, on a call that ran DelayedCallRanError", async () => {
    const r = world.reactor;
    let ran = 0;
    const cancelled = r.callLater(5, () => {
      ran++;
    });
    expect(cancelled.active()).toBe(true);
    cancelled.cancel();
    expect(cancelled.active()).toBe(false);
    expect(() => cancelled.cancel()).toThrow(DelayedCallCancelledError);
    expect(() => cancelled.reset(1)).toThrow(DelayedCallCancelledError);
    expect(() => cancelled.delay(1)).toThrow(DelayedCallCancelledError);
    const done = r.callLater(0, () => {
      ran++;
    });
    await world.runUntil(() => ran === 1, "the call to run");
    expect(done.active()).toBe(false);
    expect(() => done.cancel()).toThrow(DelayedCallRanError);
    expect(() => done.reset(1)).toThrow(DelayedCallRanError);
    expect(() => done.delay(1)).toThrow(DelayedCallRanError);
    await world.elapse(10);
    expect(ran).toBe(1);
  });

  it("timed calls: reset(ms) counts from now and delay(ms) from the due time, both moving `time`; the order follows", async () => {
    const r = world.reactor;
    const log: string[] = [];
    const a = r.callLater(5, () => log.push("a"));
    const b = r.callLater(10, () => log.push("b"));
    const c = r.callLater(15, () => log.push("c"));
    const start = r.now();
    a.reset(30);
    expect(a.time).toBeGreaterThanOrEqual(start + 30);
    const bTime = b.time;
    b.delay(30);
    expect(b.time).toBe(bTime + 30);
    await world.runUntil(() => log.length === 3, "every call to run");
    expect(log).toEqual(["c", "a", "b"]);
    expect(c.active() || a.active() || b.active()).toBe(false);
  });

  it("timed calls: one that throws is reported through the error hook, and the calls after it still run", async () => {
    const r = world.reactor;
    const log: string[] = [];
    r.callLater(1, () => {
      throw new Error("timer");
    });
    r.callLater(2, () => log.push("after"));
    await world.runUntil(() => log.length === 1, "the second call");
    expect(world.errors).toHaveLength(1);
    expect(world.errors[0]).toBeInstanceOf(UnhandledReactorError);
    expect(((world.errors[0] as UnhandledReactorError).cause as Error).message).toBe("timer");
    world.errors.length = 0;
  });

  // -- UDP -------------------------------------------------------------------------------------

  it("UDP: a datagram arrives whole, with its sender's address; one past maxPacketSize is dropped; after stopListening nothing arrives and the protocol heard stopProtocol", async () => {
    const r = world.reactor;
    class Inbox extends DatagramProtocol {
      readonly got: { text: string; from: Address }[] = [];
      started = 0;
      stopped = 0;
      override startProtocol(): void {
        this.started++;
      }
      override stopProtocol(): void {
        this.stopped++;
      }
      override datagramReceived(data: Uint8Array, from: Address): void {
        this.got.push({ text: new TextDecoder().decode(data), from });
      }
    }
    const sender = new Inbox();
    const receiver = new Inbox();
    const a = await world.wait(r.listenUDP(0, sender, { interface: world.udpInterface }), "binding the sender");
    const b = await world.wait(r.listenUDP(0, receiver, { interface: world.udpInterface, maxPacketSize: 10 }), "binding the receiver");
    expect(sender.started).toBe(1);
    const to = world.udpAddress(b.getHost().port);
    a.write("x".repeat(11), to);
    a.write("hello", to);
    a.write("end", to);
    await world.runUntil(() => receiver.got.length === 2, "two datagrams");
    expect(receiver.got.map((g) => g.text).sort()).toEqual(["end", "hello"]);
    expect(receiver.got[0]!.from.port).toBe(a.getHost().port);
    expect(receiver.got[0]!.from.type).toBe("udp");
    await world.wait(b.stopListening(), "the receiver to stop");
    expect(receiver.stopped).toBe(1);
    a.write("late", to);
    await world.elapse(20);
    expect(receiver.got.map((g) => g.text)).not.toContain("late");
    await world.wait(a.stopListening(), "the sender to stop");
  });
}
