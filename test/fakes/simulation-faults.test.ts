import { describe, expect, it } from "vitest";
import { wholeWrites } from "../../fakes/chunking.js";
import { fixedLatency } from "../../fakes/sim-latency.js";
import { SimNetwork } from "../../fakes/simulation.js";
import { BrokenPipeError, ConnectionAborted, ConnectionResetError, ConnectTimeoutError, ReactorStateError } from "../../runtime/errors.js";
import { Factory } from "../../runtime/protocol.js";
import type { Echo } from "./simulation-helpers.js";
import { echoFactory, HalfCloser, Recorder, recorderFactory } from "./simulation-helpers.js";

const A = "10.0.0.1";
const B = "10.0.0.2";

/** A server host (echo on port 80, restartable) and a client host with one connection. */
async function connected(latency = 1): Promise<{ net: SimNetwork; servers: Echo[]; client: Recorder; boots: number[] }> {
  const net = new SimNetwork({ seed: 11, latency: fixedLatency(latency), chunking: wholeWrites() });
  const servers: Echo[] = [];
  const boots: number[] = [];
  net.host(A, {
    boot: (r) => {
      boots.push(r.now());
      r.listen("tcp:80", echoFactory(servers)).addErrback(() => undefined);
    },
  });
  const b = net.host(B);
  const clients: Recorder[] = [];
  b.connect(`tcp:${A}:80:timeout=1`, recorderFactory(() => new Recorder(), clients)).addErrback(() => undefined);
  await net.runUntilIdle();
  return { net, servers, client: clients[0]!, boots };
}

describe("SimNetwork faults", () => {
  it("reset: both ends get ConnectionResetError at once", async () => {
    const { net, servers, client } = await connected();
    net.resetConnection();
    expect(client.reason).toBeInstanceOf(ConnectionResetError);
    expect(servers[0]!.reason).toBeInstanceOf(ConnectionResetError);
    expect(net.connections()).toEqual([]);
    expect(net.traceText()).toContain("fault reset");
  });

  it("abortConnection: the aborting side sees ConnectionAborted, the peer a reset one latency later", async () => {
    const { net, servers, client } = await connected(7);
    const t0 = net.now();
    client.transport.write("discarded");
    client.transport.abortConnection();
    await net.run({ until: t0 });
    expect(client.reason).toBeInstanceOf(ConnectionAborted);
    expect(servers[0]!.reason).toBeNull();
    await net.runUntilIdle();
    expect(servers[0]!.reason).toBeInstanceOf(ConnectionResetError);
    expect(servers[0]!.text()).toBe("");
    expect(net.now()).toBe(t0 + 7);
  });

  it("partition: bytes wait and connects time out; heal lets the bytes through", async () => {
    const { net, servers, client } = await connected();
    net.partition([A], [B]);
    client.transport.write("later");
    const b = net.hostByAddress(B)!;
    let error: unknown;
    b.connect(`tcp:${A}:80:timeout=1`, new Factory(Recorder)).addErrback((e: unknown) => {
      error = e;
    });
    const t0 = net.now();
    await net.runUntilIdle();
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect(net.now()).toBe(t0 + 1000);
    expect(servers[0]!.text()).toBe("");
    expect(net.bytesInFlight()).toBe(5);
    net.heal();
    await net.runUntilIdle();
    expect(servers[0]!.text()).toBe("later");
    expect(client.text()).toBe("later");
  });

  it("a connect made during a partition succeeds if it heals before the timeout", async () => {
    const net = new SimNetwork({ seed: 2 });
    net.host(A, { boot: (r) => void r.listen("tcp:80", echoFactory()) });
    const b = net.host(B);
    net.partition([A], [B]);
    net.at(500, { kind: "heal" });
    let connectedAt = -1;
    b.connect(`tcp:${A}:80:timeout=1`, new Factory(Recorder)).addCallback(() => {
      connectedAt = b.now();
    });
    await net.runUntilIdle();
    expect(connectedAt).toBe(501);
  });

  it("hold and release: traffic on the link waits, then flows", async () => {
    const { net, servers, client } = await connected();
    net.hold(B, A);
    client.transport.write("x");
    await net.run({ until: net.now() + 100 });
    expect(servers[0]!.text()).toBe("");
    net.release(A, B);
    await net.runUntilIdle();
    expect(client.text()).toBe("x");
  });

  it("half-close: the peer hears readConnectionLost and can still answer", async () => {
    const net = new SimNetwork({ chunking: wholeWrites() });
    const servers: HalfCloser[] = [];
    net.host(A, { boot: (r) => void r.listen("tcp:80", recorderFactory(() => new HalfCloser(), servers)) });
    const b = net.host(B);
    const clients: HalfCloser[] = [];
    b.connect(`tcp:${A}:80`, recorderFactory(() => new HalfCloser(), clients)).addCallback((p) => {
      p.transport.write("request");
    });
    net.at(10, { kind: "halfClose", side: "client" });
    await net.runUntilIdle();
    expect(servers[0]!.events).toEqual(["made", "readLost"]);
    servers[0]!.transport.write("answer");
    servers[0]!.transport.loseConnection();
    await net.runUntilIdle();
    expect(clients[0]!.text()).toBe("answer");
    expect(clients[0]!.reason?.constructor.name).toBe("ConnectionDone");
  });

  it("crash: peers get resets, ports and timers are gone, nothing on the host hears it; restart boots again", async () => {
    const { net, servers, client, boots } = await connected(2);
    const a = net.hostByAddress(A)!;
    const b = net.hostByAddress(B)!;
    let timerRan = false;
    a.callLater(5, () => {
      timerRan = true;
    });
    const crashAt = net.now();
    net.crash(A);
    expect(a.up).toBe(false);
    expect(a.running).toBe(false);
    await net.runUntilIdle();
    expect(client.reason).toBeInstanceOf(ConnectionResetError);
    expect(servers[0]!.reason).toBeNull();
    expect(timerRan).toBe(false);
    await expect(a.listen("tcp:81", new Factory(Recorder))).rejects.toBeInstanceOf(ReactorStateError);
    // A crashed host answers nothing: connecting times out.
    let error: unknown;
    b.connect(`tcp:${A}:80:timeout=1`, new Factory(Recorder)).addErrback((e: unknown) => {
      error = e;
    });
    await net.runUntilIdle();
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    net.restart(A);
    const again: Recorder[] = [];
    b.connect(`tcp:${A}:80:timeout=1`, recorderFactory(() => new Recorder(), again)).addCallback((p) => {
      p.transport.write("back");
    });
    await net.runUntilIdle();
    expect(boots).toEqual([0, net.now() - 8]);
    expect(again[0]!.text()).toBe("back");
    expect(a.running).toBe(true);
    expect(net.traceText()).toMatch(new RegExp(`${crashAt.toFixed(3)}ms crash 10\\.0\\.0\\.1`));
  });

  it("runs a fault plan at its times, and a crash with restartAfter", async () => {
    const { net, client, boots } = await connected();
    const t = net.now();
    net.plan([
      { at: t + 10, fault: { kind: "crash", host: A, restartAfter: 20 } },
      { at: t + 5, fault: { kind: "hold", a: A, b: B } },
      { at: t + 6, fault: { kind: "release", a: A, b: B } },
    ]);
    await net.runUntilIdle();
    const faults = net.trace().filter((l) => l.includes(" fault "));
    expect(faults.map((l) => l.replace(/^\S+ /, ""))).toEqual([
      `fault hold ${A} <-> ${B}`,
      `fault release ${A} <-> ${B}`,
      `fault crash ${A} restartAfter=20`,
      `fault restart ${A}`,
    ]);
    expect(boots).toEqual([0, t + 30]);
    expect(client.reason).toBeInstanceOf(ConnectionResetError);
    expect(() => {
      net.at(0, { kind: "heal" });
    }).toThrow(/at/);
  });

  it("a reset between accept and the end of the handshake fails the connect with the reset, at once", async () => {
    const net = new SimNetwork({ latency: fixedLatency(1), chunking: wholeWrites() });
    net.host(A, { boot: (r) => void r.listen("tcp:80", echoFactory()) });
    const b = net.host(B);
    let failure: unknown = null;
    let failedAt = -1;
    // The SYN leaves at 1 ms and is accepted at 2 ms; the SYN-ACK would reach the client at 3 ms.
    b.callLater(1, () => {
      b.connect(`tcp:${A}:80:timeout=30`, new Factory(Recorder)).addErrback((e: unknown) => {
        failure = e;
        failedAt = net.now();
      });
    });
    net.at(2.5, { kind: "reset" });
    await net.runUntilIdle();
    expect(failure).toBeInstanceOf(ConnectionResetError);
    expect(failedAt).toBe(2.5);
    expect(net.traceText()).toMatch(/2\.500ms connect c0 .* failed: ConnectionResetError/);
    expect(net.now()).toBeLessThan(30_000);
  });

  it("a server that crashes before the handshake ends fails the connect with a reset one latency later", async () => {
    const net = new SimNetwork({ latency: fixedLatency(1), chunking: wholeWrites() });
    net.host(A, { boot: (r) => void r.listen("tcp:80", echoFactory()) });
    const b = net.host(B);
    let failure: unknown = null;
    let failedAt = -1;
    b.callLater(1, () => {
      b.connect(`tcp:${A}:80:timeout=30`, new Factory(Recorder)).addErrback((e: unknown) => {
        failure = e;
        failedAt = net.now();
      });
    });
    net.at(2.5, { kind: "crash", host: A });
    await net.runUntilIdle();
    expect(failure).toBeInstanceOf(ConnectionResetError);
    expect(failedAt).toBe(3.5);
  });

  it("half-close fault on the client side: a later write fails the connection with EPIPE, and the trace says so", async () => {
    const net = new SimNetwork({ latency: fixedLatency(1), chunking: wholeWrites() });
    const servers: HalfCloser[] = [];
    net.host(A, { boot: (r) => void r.listen("tcp:80", recorderFactory(() => new HalfCloser(), servers)) });
    const b = net.host(B);
    const clients: Recorder[] = [];
    b.connect(`tcp:${A}:80`, recorderFactory(() => new Recorder(), clients)).addCallback((p) => {
      p.transport.write("first");
      b.callLater(20, () => {
        p.transport.write("late");
      });
    });
    net.at(10, { kind: "halfClose", side: "client" });
    await net.runUntilIdle();
    // The program is told: its write fails the connection, as a write after shutdown does on a socket.
    expect(clients[0]!.reason).toBeInstanceOf(BrokenPipeError);
    expect(servers[0]!.text()).toBe("first");
    expect(servers[0]!.events).toEqual(["made", "readLost", "lost:ConnectionResetError"]);
    const trace = net.traceText();
    expect(trace).toMatch(/halfClose.*c0 client side/);
    expect(trace).toMatch(/c0 client side: write of 4 bytes after its write half was shut/);
    expect(trace).toMatch(/lost c0 client side: BrokenPipeError/);
  });
});
