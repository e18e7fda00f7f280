import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { byteByByte, wholeWrites } from "../../fakes/chunking.js";
import { fixedLatency, uniformLatency } from "../../fakes/sim-latency.js";
import { SimNetwork } from "../../fakes/simulation.js";
import {
  CannotListenError,
  ConnectionRefusedError,
  ConnectTimeoutError,
  DNSLookupError,
  ReactorStalledError,
  ReactorStateError,
  UnhandledReactorError,
} from "../../runtime/errors.js";
import { ClientFactory, DatagramProtocol, Factory } from "../../runtime/protocol.js";
import type { Address, Connector } from "../../runtime/protocol.js";
import { dial, serve } from "../../runtime/stream.js";
import { deferLater } from "../../runtime/tasks.js";
import type { Echo} from "./simulation-helpers.js";
import { dec, echoFactory, Recorder, recorderFactory } from "./simulation-helpers.js";

function twoHosts(options: ConstructorParameters<typeof SimNetwork>[0] = {}): { net: SimNetwork; servers: Echo[] } {
  const net = new SimNetwork({ seed: 1, ...options });
  const servers: Echo[] = [];
  net.host("10.0.0.1", {
    boot: (r) => {
      r.listen("tcp:8080:interface=10.0.0.1", echoFactory(servers)).addErrback(() => undefined);
    },
  });
  net.host("10.0.0.2");
  return { net, servers };
}

describe("SimNetwork: connections between hosts", () => {
  it("echoes with callback protocols, and latency shows on the shared clock", async () => {
    const { net, servers } = twoHosts({ latency: fixedLatency(5), chunking: wholeWrites() });
    const client = net.hostByAddress("10.0.0.2")!;
    await net.runUntilIdle();
    const clients: Recorder[] = [];
    let connectedAt = -1;
    const d = client.connect("tcp:10.0.0.1:8080:timeout=5", recorderFactory(() => new Recorder(), clients));
    d.addCallback((p) => {
      connectedAt = client.now();
      p.transport.write("ping");
    });
    await net.runUntilIdle();
    // SYN 5 ms, SYN-ACK 5 ms; then the ping goes 5 ms and the echo 5 ms.
    expect(connectedAt).toBe(10);
    expect(clients[0]!.text()).toBe("ping");
    expect(servers[0]!.text()).toBe("ping");
    expect(net.now()).toBe(20);
    expect(clients[0]!.transport.getPeer()).toEqual({ type: "tcp", host: "10.0.0.1", port: 8080 });
    expect(servers[0]!.transport.getPeer().host).toBe("10.0.0.2");
    expect(servers[0]!.transport.getPeer().port).toBeGreaterThanOrEqual(49152);
    expect(net.traceText()).toContain("deliver c0 10.0.0.2:49152 -> 10.0.0.1:8080 4 bytes");
  });

  it("echoes through the async/await face (serve/dial)", async () => {
    const net = new SimNetwork({ seed: 9 });
    const server = net.host("10.0.0.1", {
      boot: async (r) => {
        await serve(r, "tcp:7", async (conn) => {
          const line = await conn.readLine();
          await conn.write(line);
          await conn.write("\r\n");
        });
      },
    });
    const client = net.host("10.0.0.2");
    expect(server.running).toBe(false);
    const result = (async () => {
      const conn = await dial(client, "tcp:10.0.0.1:7:timeout=5");
      await conn.write("hello, simulated world\r\n");
      const line = await conn.readLine();
      const at = client.now();
      await conn.closed;
      return { line: dec.decode(line), at };
    })();
    await net.runUntilIdle();
    const { line, at } = await result;
    expect(line).toBe("hello, simulated world");
    expect(at).toBe(4);
    expect(server.running).toBe(true);
    expect(net.bytesInFlight()).toBe(0);
    expect(net.connections()).toEqual([]);
  });

  it("refuses a connection to a closed port with ECONNREFUSED after a round trip", async () => {
    const { net } = twoHosts({ latency: fixedLatency(3) });
    const client = net.hostByAddress("10.0.0.2")!;
    const failures: Error[] = [];
    const factory = new (class extends ClientFactory {
      override clientConnectionFailed(_c: Connector, reason: Error): void {
        failures.push(reason);
      }
    })(Recorder);
    let error: unknown;
    client.connect("tcp:10.0.0.1:9999", factory).addErrback((e: unknown) => {
      error = e;
    });
    await net.runUntilIdle();
    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect((error as ConnectionRefusedError).errno).toBe("ECONNREFUSED");
    expect(failures).toHaveLength(1);
    expect(net.now()).toBe(6);
    expect(factory.numPorts).toBe(0);
  });

  it("times a connection out when the host is unknown, and fails a name with DNSLookupError", async () => {
    const net = new SimNetwork();
    const client = net.host("10.0.0.2");
    let timeout: unknown;
    let dns: unknown;
    client.connect("tcp:10.9.9.9:80:timeout=2", new Factory(Recorder)).addErrback((e: unknown) => {
      timeout = e;
    });
    client.connect("tcp:nowhere.example:80", new Factory(Recorder)).addErrback((e: unknown) => {
      dns = e;
    });
    await net.runUntilIdle();
    expect(timeout).toBeInstanceOf(ConnectTimeoutError);
    expect(net.now()).toBe(2000);
    expect(dns).toBeInstanceOf(DNSLookupError);
  });

  it("gives each host its own ephemeral ports and rejects a taken port or a foreign interface", async () => {
    const net = new SimNetwork();
    const a = net.host("10.0.0.1");
    const b = net.host("10.0.0.2");
    const pa = await a.listen("tcp:0", new Factory(Recorder));
    const pb = await b.listen("tcp:0", new Factory(Recorder));
    expect(pa.getHost().port).toBe(49152);
    expect(pb.getHost().port).toBe(49152);
    await expect(a.listen(`tcp:${pa.getHost().port}`, new Factory(Recorder))).rejects.toBeInstanceOf(CannotListenError);
    await expect(a.listen("tcp:80:interface=10.0.0.2", new Factory(Recorder))).rejects.toMatchObject({ errno: "EADDRNOTAVAIL" });
    await pa.stopListening();
    await expect(a.listen(`tcp:${pa.getHost().port}`, new Factory(Recorder))).resolves.toBeDefined();
  });

  it("connects a host to itself over 127.0.0.1", async () => {
    const net = new SimNetwork({ chunking: wholeWrites() });
    const a = net.host("10.0.0.1");
    const servers: Echo[] = [];
    await a.listen("tcp:80:interface=127.0.0.1", echoFactory(servers));
    const clients: Recorder[] = [];
    a.connect("tcp:127.0.0.1:80", recorderFactory(() => new Recorder(), clients)).addCallback((p) => {
      p.transport.write("self");
    });
    await net.runUntilIdle();
    expect(clients[0]!.text()).toBe("self");
    expect(servers[0]!.transport.getPeer().host).toBe("127.0.0.1");
  });

  it("keeps every byte in order whatever the chunking and latency jitter", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1_000_000 }), fc.array(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 20 }), async (seed, writes) => {
        const { net, servers } = twoHosts({ seed, latency: uniformLatency(0.5, 4) });
        const client = net.hostByAddress("10.0.0.2")!;
        const clients: Recorder[] = [];
        client.connect("tcp:10.0.0.1:8080", recorderFactory(() => new Recorder(), clients)).addCallback((p) => {
          for (const w of writes) p.transport.write(w);
        });
        await net.runUntilIdle();
        expect(servers[0]!.text()).toBe(writes.join(""));
        expect(clients[0]!.text()).toBe(writes.join(""));
      }),
      { numRuns: 40 },
    );
  });

  it("cuts writes differently for different seeds, and identically for the same seed", async () => {
    const cuts = async (seed: number): Promise<number[]> => {
      const { net, servers } = twoHosts({ seed });
      const client = net.hostByAddress("10.0.0.2")!;
      client.connect("tcp:10.0.0.1:8080", new Factory(Recorder)).addCallback((p) => {
        for (let i = 0; i < 10; i++) p.transport.write("0123456789");
      });
      await net.runUntilIdle();
      return servers[0]!.chunks.map((c) => c.length);
    };
    expect(await cuts(5)).toEqual(await cuts(5));
    const distinct = new Set<string>();
    for (let seed = 0; seed < 8; seed++) distinct.add(JSON.stringify(await cuts(seed)));
    expect(distinct.size).toBeGreaterThan(4);
  });

  it("delivers one byte per read with byteByByte chunking", async () => {
    const { net, servers } = twoHosts({ chunking: byteByByte() });
    const client = net.hostByAddress("10.0.0.2")!;
    client.connect("tcp:10.0.0.1:8080", new Factory(Recorder)).addCallback((p) => {
      p.transport.write("abcd");
    });
    await net.runUntilIdle();
    expect(servers[0]!.chunks.map((c) => dec.decode(c))).toEqual(["a", "b", "c", "d"]);
  });

  it("applies per-link latency overrides", async () => {
    const { net } = twoHosts({ links: [{ a: "10.0.0.2", b: "10.0.0.1", latency: fixedLatency(50) }] });
    const client = net.hostByAddress("10.0.0.2")!;
    let at = -1;
    client.connect("tcp:10.0.0.1:8080", new Factory(Recorder)).addCallback(() => {
      at = client.now();
    });
    await net.runUntilIdle();
    expect(at).toBe(100);
  });

  it("pauses delivery while the reader is paused and resumes it", async () => {
    const { net, servers } = twoHosts({ chunking: wholeWrites() });
    const client = net.hostByAddress("10.0.0.2")!;
    await net.runUntilIdle();
    let writer: Recorder | undefined;
    client.connect("tcp:10.0.0.1:8080", new Factory(Recorder)).addCallback((p) => {
      writer = p;
    });
    await net.runUntilIdle();
    servers[0]!.transport.pauseProducing();
    writer!.transport.write("held");
    await net.runUntilIdle();
    expect(servers[0]!.text()).toBe("");
    expect(net.bytesInFlight()).toBe(4);
    servers[0]!.transport.resumeProducing();
    await net.runUntilIdle();
    expect(servers[0]!.text()).toBe("held");
  });
});

describe("SimNetwork: UDP", () => {
  class Collector extends DatagramProtocol {
    got: { data: string; from: Address }[] = [];
    override datagramReceived(data: Uint8Array, addr: Address): void {
      this.got.push({ data: dec.decode(data), from: addr });
    }
  }

  it("delivers datagrams with latency, reorders them with jitter, and loses them when told", async () => {
    const net = new SimNetwork({ seed: 3, latency: uniformLatency(1, 20) });
    const a = net.host("10.0.0.1");
    const b = net.host("10.0.0.2");
    const sink = new Collector();
    await b.listenUDP(5000, sink);
    const src = await a.listenUDP(0, new DatagramProtocol());
    for (let i = 0; i < 20; i++) src.write(`${i}`, { host: "10.0.0.2", port: 5000 });
    await net.runUntilIdle();
    expect(sink.got).toHaveLength(20);
    expect(sink.got[0]!.from).toEqual({ type: "udp", host: "10.0.0.1", port: src.getHost().port });
    const order = sink.got.map((g) => Number(g.data));
    expect(order).not.toEqual([...order].sort((x, y) => x - y));

    const lossy = new SimNetwork({ seed: 3, udpLossProbability: 0.5 });
    const la = lossy.host("10.0.0.1");
    const lb = lossy.host("10.0.0.2");
    const lsink = new Collector();
    await lb.listenUDP(5000, lsink);
    const lsrc = await la.listenUDP(0, new DatagramProtocol());
    for (let i = 0; i < 100; i++) lsrc.write("x", { host: "10.0.0.2", port: 5000 });
    await lossy.runUntilIdle();
    expect(lsink.got.length).toBeGreaterThan(20);
    expect(lsink.got.length).toBeLessThan(80);
    expect(lossy.stats.datagramsDropped).toBe(100 - lsink.got.length);
  });

  it("drops datagrams across a partition and holds them on a held link", async () => {
    const net = new SimNetwork();
    const a = net.host("10.0.0.1");
    const b = net.host("10.0.0.2");
    const sink = new Collector();
    await b.listenUDP(5000, sink);
    const src = await a.listenUDP(0, new DatagramProtocol());
    net.partition(["10.0.0.1"], ["10.0.0.2"]);
    src.write("lost", { host: "10.0.0.2", port: 5000 });
    await net.runUntilIdle();
    net.heal();
    net.hold("10.0.0.1", "10.0.0.2");
    src.write("held", { host: "10.0.0.2", port: 5000 });
    await net.runUntilIdle();
    expect(sink.got).toEqual([]);
    net.release("10.0.0.1", "10.0.0.2");
    await net.runUntilIdle();
    expect(sink.got.map((g) => g.data)).toEqual(["held"]);
  });
});

describe("SimNetwork: running", () => {
  it("runs to a given time and moves the clock there", async () => {
    const net = new SimNetwork();
    const a = net.host("10.0.0.1");
    const fired: number[] = [];
    a.callLater(10, () => fired.push(a.now()));
    a.callLater(30, () => fired.push(a.now()));
    await net.run({ until: 20 });
    expect(fired).toEqual([10]);
    expect(net.now()).toBe(20);
    net.runSync({ until: 40 });
    expect(fired).toEqual([10, 30]);
    expect(net.now()).toBe(40);
  });

  it("throws ReactorStalledError at the step bound, saying where it got", async () => {
    const net = new SimNetwork();
    const a = net.host("10.0.0.1");
    const tick = (): void => {
      a.callLater(1, tick);
    };
    tick();
    const error = await net.runUntilIdle({ maxSteps: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReactorStalledError);
    expect((error as ReactorStalledError).steps).toBe(100);
    expect((error as Error).message).toMatch(/virtual time \d+ ms, 1 events pending, next: timer #\d+ on 10\.0\.0\.1/);
    expect(() => {
      net.runSync({ maxSteps: 10 });
    }).toThrow(ReactorStalledError);
  });

  it("runSync refuses async code, whose continuations it could not run in time", async () => {
    const net = new SimNetwork();
    const a = net.host("10.0.0.1");
    a.callLater(1, () => {
      void Promise.resolve(1);
    });
    expect(() => {
      net.runSync();
    }).toThrow(ReactorStateError);
    await net.runUntilIdle();
  });

  it("fails the run with an error thrown by a timed call, through the host's error hook", async () => {
    const net = new SimNetwork();
    const a = net.host("10.0.0.1");
    a.callLater(1, () => {
      throw new Error("boom");
    });
    await expect(net.runUntilIdle()).rejects.toBeInstanceOf(UnhandledReactorError);
    const seen: Error[] = [];
    a.setErrorHook((e) => seen.push(e));
    a.callLater(1, () => {
      throw new Error("quiet");
    });
    await net.runUntilIdle();
    expect(seen).toHaveLength(1);
  });

  it("supports the reactor life cycle on a host: callWhenRunning, stop closes connections", async () => {
    const net = new SimNetwork({ chunking: wholeWrites() });
    const order: string[] = [];
    const servers: Echo[] = [];
    const a = net.host("10.0.0.1", {
      autoRun: false,
      boot: (r) => {
        r.callWhenRunning(() => order.push("running"));
        r.addSystemEventTrigger("before", "shutdown", () => order.push("before-shutdown"));
        r.listen("tcp:80", echoFactory(servers)).addErrback(() => undefined);
        order.push("boot");
        r.run().addCallback(() => order.push("stopped"));
      },
    });
    const b = net.host("10.0.0.2");
    const clients: Recorder[] = [];
    b.connect("tcp:10.0.0.1:80", recorderFactory(() => new Recorder(), clients)).addErrback(() => undefined);
    await net.runUntilIdle();
    expect(order).toEqual(["boot", "running"]);
    a.stop().addErrback(() => undefined);
    await net.runUntilIdle();
    expect(order).toEqual(["boot", "running", "before-shutdown", "stopped"]);
    expect(clients[0]!.events).toEqual(["made", "lost:ConnectionDone"]);
    expect(() => a.stop()).toThrow(ReactorStateError);
  });

  it("stopping a host closes both ends of a connection it made to itself at once", async () => {
    const net = new SimNetwork({ chunking: wholeWrites() });
    const h = net.host("10.0.0.1");
    const servers: Recorder[] = [];
    const clients: Recorder[] = [];
    await h.listen("tcp:80", recorderFactory(() => new Recorder(), servers));
    h.connect("tcp:127.0.0.1:80", recorderFactory(() => new Recorder(), clients)).addErrback(() => undefined);
    await net.runUntilIdle();
    let during: string[] = [];
    h.addSystemEventTrigger("during", "shutdown", () => {
      during = [servers[0]!.reason?.constructor.name ?? "open", clients[0]!.reason?.constructor.name ?? "open"];
    });
    h.stop().addErrback(() => undefined);
    await net.runUntilIdle();
    expect(during).toEqual(["ConnectionLost", "ConnectionLost"]);
  });
});

describe("SimNetwork: write-buffer options", () => {
  it("gives each connection's sides the limits of their role, and validates the options", async () => {
    const net = new SimNetwork({ seed: 3, highWaterMark: 2048, maxWriteBufferSize: 8192, pauseReadsOnFullBuffer: "all" });
    const server = net.host("10.0.0.1");
    const client = net.host("10.0.0.2");
    const made: Recorder[] = [];
    await server.listen("tcp:8080:interface=10.0.0.1", recorderFactory(() => new Recorder(), made));
    const c = client.connect("tcp:10.0.0.1:8080", Factory.forProtocol(() => new Recorder()));
    await net.runUntilIdle();
    const conn = (await c).transport as unknown as { maxWriteBufferSize: number; pauseReadsWhenFull: boolean; highWaterMark: number };
    expect([conn.highWaterMark, conn.maxWriteBufferSize, conn.pauseReadsWhenFull]).toEqual([2048, 8192, true]);
    const accepted = made[0]!.transport as unknown as { pauseReadsWhenFull: boolean; maxWriteBufferSize: number };
    expect([accepted.maxWriteBufferSize, accepted.pauseReadsWhenFull]).toEqual([8192, true]);
    expect(() => new SimNetwork({ highWaterMark: 2048, maxWriteBufferSize: 100 })).toThrow(/maxWriteBufferSize/);
    expect(() => new SimNetwork({ pauseReadsOnFullBuffer: "yes" as "all" })).toThrow(/pauseReadsOnFullBuffer/);
    (await c).transport.loseConnection();
    await net.runUntilIdle();
  });
});

describe("SimNetwork: a trace that explains", () => {
  /** A server that answers `text` after a named timer, and notes what it does. */
  function exchange(text: string, options: ConstructorParameters<typeof SimNetwork>[0] = {}): SimNetwork {
    const net = new SimNetwork({ chunking: wholeWrites(), ...options });
    net.host("10.0.0.1", {
      boot: (r) =>
        void r.listen(
          "tcp:80",
          Factory.forProtocol(() => {
            const p = new Recorder();
            p.dataReceived = (data: Uint8Array): void => {
              r.note(`got ${data.length} bytes`);
              r.callLater(5, function answerLater() {
                p.transport.write(data);
              });
            };
            return p;
          }),
        ),
    });
    const b = net.host("10.0.0.2");
    b.callLater(1, () => {
      net.note("the client dials");
      b.connect("tcp:10.0.0.1:80", new Factory(Recorder)).addCallback((p) => {
        p.transport.write(text);
      });
    });
    return net;
  }

  it("shows payload previews, escaped and bounded, on deliveries", async () => {
    const net = exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n\u0000\u00ff and then a long tail that goes past the preview");
    await net.runUntilIdle();
    const lines = net.trace().filter((l) => l.includes(" deliver "));
    expect(lines[0]).toMatch(/deliver c0 10\.0\.0\.2:\d+ -> 10\.0\.0\.1:80 \d+ bytes "GET \/ HTTP\/1\.1\\r\\nHost: x\\r\\n\\r\\n\\x00\\xc3\\xbf and then a long t\.\.\."$/);
  });

  it("names timers, with the connection they belong to, and shows notes at their virtual time", async () => {
    const net = exchange("hi");
    await net.runUntilIdle();
    const text = net.traceText();
    expect(text).toMatch(/\d+\.\d{3}ms timer #\d+ answerLater fired on 10\.0\.0\.1 \(c0 server side\)/);
    expect(text).toMatch(/1\.000ms note: the client dials/);
    expect(text).toMatch(/\d+\.\d{3}ms note 10\.0\.0\.1: got 2 bytes/);
  });

  it("hashes payloads: the same events with other bytes give another hash", async () => {
    const a = exchange("abc");
    const b = exchange("abd");
    await a.runUntilIdle();
    await b.runUntilIdle();
    expect(a.trace().map((l) => l.replace(/ ".*"$/, ""))).toEqual(b.trace().map((l) => l.replace(/ ".*"$/, "")));
    expect(a.traceHash()).not.toBe(b.traceHash());
  });

  it("keeps no preview when payloadPreview is 0, and still hashes the bytes", async () => {
    const a = exchange("abc", { payloadPreview: 0 });
    const b = exchange("abd", { payloadPreview: 0 });
    await a.runUntilIdle();
    await b.runUntilIdle();
    expect(a.traceText()).not.toContain('"abc"');
    expect(a.traceHash()).not.toBe(b.traceHash());
  });
});

describe("SimNetwork: timers that outlive their connection", () => {
  /** A server whose protocol sets an idle timeout (cancelled on close or not) and, on close, a retry. */
  function run(cancelOnClose: boolean, until?: number): { net: SimNetwork; done: Promise<void> } {
    const net = new SimNetwork({ chunking: wholeWrites() });
    net.host("10.0.0.1", {
      boot: (r) =>
        void r.listen(
          "tcp:80",
          Factory.forProtocol(() => {
            const p = new Recorder();
            let idle: ReturnType<typeof r.callLater> | null = null;
            p.connectionMade = (): void => {
              idle = r.callLater(30_000, function idleTimeout() {
                p.transport.loseConnection();
              });
            };
            p.connectionLost = (): void => {
              if (cancelOnClose) idle?.cancel();
              // Set once the connection is lost: not a leak.
              r.callLater(100, function afterClose() {});
            };
            return p;
          }),
        ),
    });
    const b = net.host("10.0.0.2");
    b.callLater(1, () => {
      b.connect("tcp:10.0.0.1:80", new Factory(Recorder)).addCallback((p) => {
        p.transport.loseConnection();
      });
    });
    return { net, done: until === undefined ? net.runUntilIdle() : net.run({ until }) };
  }

  it("reports a timer set by a connection's code that fires after the connection was lost", async () => {
    const { net, done } = run(false);
    await done;
    const leaks = net.leakedTimers();
    expect(leaks).toHaveLength(1);
    expect(leaks[0]).toMatchObject({ timer: "idleTimeout", host: "10.0.0.1", connection: "c0 server side" });
    expect(leaks[0]!.firedAt).toBe(leaks[0]!.dueAt);
    expect(leaks[0]!.lostAt).toBeLessThan(leaks[0]!.firedAt);
    expect(net.traceText()).toMatch(/timer #\d+ idleTimeout fired on 10\.0\.0\.1 \(c0 server side, lost at \d+\.\d{3}ms\): it outlived its connection/);
    expect(net.traceText()).toMatch(/timer #\d+ afterClose fired on 10\.0\.0\.1\n/);
  });

  it("reports one still pending when the run stops first", async () => {
    const { net, done } = run(false, 1_000);
    await done;
    const leaks = net.leakedTimers();
    expect(leaks.map((l) => [l.timer, Number.isNaN(l.firedAt)])).toEqual([["idleTimeout", true]]);
  });

  it("counts a timer as set by the end on its host: a client closing sets its retry in the event that delivers its FIN", async () => {
    const net = new SimNetwork({ chunking: wholeWrites() });
    net.host("10.0.0.1", { boot: (r) => void r.listen("tcp:80", echoFactory()) });
    const b = net.host("10.0.0.2");
    b.callLater(1, () => {
      b.connect("tcp:10.0.0.1:80", Factory.forProtocol(() => {
        const p = new Recorder();
        p.connectionMade = (): void => {
          p.transport.loseConnection();
        };
        // Runs in the event that delivers the client's FIN to the server.
        p.connectionLost = (): void => {
          b.callLater(50, function retry() {});
        };
        return p;
      }));
    });
    await net.runUntilIdle();
    expect(net.traceText()).toMatch(/timer #\d+ retry fired on 10\.0\.0\.2$/m);
    expect(net.leakedTimers()).toEqual([]);
  });

  it("reports nothing when the protocol cancels its timer on close", async () => {
    const { net, done } = run(true);
    await done;
    expect(net.leakedTimers()).toEqual([]);
  });
});

describe("SimNetwork: the module's example", () => {
  it("dials after the server booted, so it works whatever order ties run in, at any latency", async () => {
    for (let seed = 0; seed < 40; seed++) {
      // With 0 ms latency a SYN sent at time 0 ties with the server's boot.
      const net = new SimNetwork({ seed, shuffleTies: true, latency: fixedLatency(seed % 2) });
      net.host("10.0.0.1", { boot: (r) => r.listen("tcp:7:interface=10.0.0.1", echoFactory()) });
      const client = net.host("10.0.0.2");
      const done = deferLater(client, 1, () => dial(client, "tcp:10.0.0.1:7:timeout=5")).then(async (conn) => {
        await conn.write("hi");
        const reply = dec.decode(await conn.readExactly(2));
        await conn.close();
        return reply;
      });
      await net.runUntilIdle();
      expect(await done).toBe("hi");
    }
  });
});
