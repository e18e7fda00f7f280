import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { byteByByte, coalesceAll, fixedChunks, randomChunks, wholeWrites } from "../../fakes/chunking.js";
import type { ChunkingPolicy } from "../../fakes/chunking.js";
import { ScriptedChunking } from "../../fakes/arbitraries.js";
import { DEFAULT_HIGH_WATER_MARK } from "../../fakes/string-transport.js";
import { connectPair, DEFAULT_SERVER_ADDRESS, MemoryTransport, Pump } from "../../fakes/loopback.js";
import {
  ConnectionAborted,
  ConnectionDone,
  ConnectionResetError,
  InvalidOptionError,
  ProducerRegisteredError,
  ReactorStalledError,
  WriteBufferOverflowError,
} from "../../runtime/errors.js";
import { DEFAULT_MAX_WRITE_BUFFER_SIZE } from "../../runtime/write-buffer.js";
import { Protocol } from "../../runtime/protocol.js";
import { StreamProtocol } from "../../runtime/stream.js";
import type { PullProducer, PushProducer } from "../../runtime/protocol.js";

const dec = new TextDecoder();

class Recorder extends Protocol {
  events: string[] = [];
  chunks: Uint8Array[] = [];
  reason: Error | null = null;
  override connectionMade(): void {
    this.events.push("made");
  }
  override dataReceived(data: Uint8Array): void {
    this.chunks.push(data);
    this.events.push(`data:${dec.decode(data)}`);
  }
  override connectionLost(reason: Error): void {
    this.reason = reason;
    this.events.push(`lost:${reason.constructor.name}`);
  }
  received(): Uint8Array {
    return concat(this.chunks);
  }
  text(): string {
    return dec.decode(this.received());
  }
}

class HalfCloser extends Recorder {
  override readConnectionLost(): void {
    this.events.push("readLost");
  }
  override writeConnectionLost(): void {
    this.events.push("writeLost");
  }
}

class Echo extends Recorder {
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

describe("connectPair", () => {
  it("calls connectionMade on the server, then the client, and delivers nothing before pumping", () => {
    const order: string[] = [];
    class Named extends Recorder {
      constructor(readonly label: string) {
        super();
      }
      override connectionMade(): void {
        order.push(this.label);
        this.transport.write(`hello from ${this.label}`);
      }
    }
    const server = new Named("server");
    const client = new Named("client");
    const pump = connectPair(server, client);
    expect(order).toEqual(["server", "client"]);
    expect(server.chunks).toHaveLength(0);
    expect(pump.idle).toBe(false);
    expect(pump.flush()).toBeGreaterThan(0);
    expect(pump.idle).toBe(true);
    expect(server.text()).toBe("hello from client");
    expect(client.text()).toBe("hello from server");
  });

  it("pump() moves at most one read per direction per round", () => {
    const server = new Recorder();
    const client = new Recorder();
    const pump = connectPair(server, client);
    client.transport.write("a");
    client.transport.write("b");
    server.transport.write("x");
    expect(pump.pump()).toBe(true);
    expect(server.text()).toBe("a");
    expect(client.text()).toBe("x");
    expect(pump.pump()).toBe(true);
    expect(server.text()).toBe("ab");
    expect(pump.pump()).toBe(false);
  });

  it("gives plausible addresses, configurable, mirrored on both sides", () => {
    const server = new Recorder();
    const client = new Recorder();
    connectPair(server, client);
    expect(server.transport.getHost()).toEqual({ type: "tcp", host: "127.0.0.1", port: 8080 });
    expect(server.transport.getPeer()).toEqual(client.transport.getHost());
    expect(client.transport.getPeer()).toEqual(server.transport.getHost());

    const s2 = new Recorder();
    const c2 = new Recorder();
    connectPair(s2, c2, { serverAddress: { type: "tcp", host: "10.0.0.1", port: 443 }, clientAddress: { type: "tcp", host: "10.0.0.2", port: 50000 } });
    expect(c2.transport.getPeer()).toEqual({ type: "tcp", host: "10.0.0.1", port: 443 });
    expect(s2.transport.getPeer()).toEqual({ type: "tcp", host: "10.0.0.2", port: 50000 });
  });

  it("echoes through a round trip", () => {
    const server = new Echo();
    const client = new Recorder();
    const pump = connectPair(server, client, { chunking: byteByByte() });
    client.transport.write("ping");
    pump.flush();
    expect(client.text()).toBe("ping");
    expect(client.chunks).toHaveLength(4);
  });

  it("a flush that never settles throws ReactorStalledError with the step count", () => {
    const server = new Echo();
    const client = new Echo();
    const pump = connectPair(server, client, { maxSteps: 25 });
    client.transport.write("ball");
    let error: unknown;
    try {
      pump.flush();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReactorStalledError);
    expect((error as ReactorStalledError).steps).toBe(25);
  });

  it("validates its options", () => {
    expect(() => connectPair(new Recorder(), new Recorder(), { maxSteps: 0 })).toThrow(InvalidOptionError);
    expect(() => connectPair(new Recorder(), new Recorder(), { highWaterMark: 10, lowWaterMark: 20 })).toThrow(InvalidOptionError);
  });
});

describe("closing", () => {
  it("loseConnection: data written before it arrives before the peer's connectionLost(ConnectionDone)", () => {
    const server = new Recorder();
    const client = new Recorder();
    const pump = connectPair(server, client, { chunking: byteByByte() });
    client.transport.write("bye");
    client.transport.loseConnection();
    client.transport.write("ignored");
    expect(client.transport.disconnecting).toBe(true);
    pump.flush();
    expect(server.events).toEqual(["made", "data:b", "data:y", "data:e", "lost:ConnectionDone"]);
    expect(client.events).toEqual(["made", "lost:ConnectionDone"]);
    expect(server.reason).toBeInstanceOf(ConnectionDone);
    expect(client.transport.disconnecting).toBe(true);
    expect(server.transport.disconnecting).toBe(true);
    expect(server.connected).toBe(false);
    expect((client.transport as MemoryTransport).writesAfterClose).toBe(1);
  });

  it("writes after the connection is lost are ignored, and getPeer/getHost still answer", () => {
    const server = new Recorder();
    const client = new Recorder();
    const pump = connectPair(server, client);
    server.transport.loseConnection();
    pump.flush();
    client.transport.write("late");
    expect(pump.flush()).toBe(0);
    expect(server.chunks).toHaveLength(0);
    expect(client.transport.getPeer()).toEqual(DEFAULT_SERVER_ADDRESS);
    expect(server.transport.getHost()).toEqual(DEFAULT_SERVER_ADDRESS);
  });

  it("abortConnection discards unsent bytes: the aborter sees ConnectionAborted, the peer ConnectionResetError", () => {
    const server = new Recorder();
    const client = new Recorder();
    const pump = connectPair(server, client);
    client.transport.write("sent");
    pump.flush();
    client.transport.write("never sent");
    server.transport.write("also dropped");
    client.transport.abortConnection();
    expect(client.transport.writeBufferSize).toBe(0);
    pump.flush();
    expect(server.text()).toBe("sent");
    expect(client.text()).toBe("");
    expect(client.reason).toBeInstanceOf(ConnectionAborted);
    expect(server.reason).toBeInstanceOf(ConnectionResetError);
    expect((server.reason as ConnectionResetError).errno).toBe("ECONNRESET");
    expect(client.events.filter((e) => e.startsWith("lost"))).toHaveLength(1);
  });

  it("abortConnection after loseConnection still resets", () => {
    const server = new Recorder();
    const client = new Recorder();
    const pump = connectPair(server, client);
    client.transport.write("pending");
    client.transport.loseConnection();
    client.transport.abortConnection();
    pump.flush();
    expect(server.chunks).toHaveLength(0);
    expect(server.reason).toBeInstanceOf(ConnectionResetError);
    expect(client.reason).toBeInstanceOf(ConnectionAborted);
  });

  it("half-close: a peer with readConnectionLost keeps the connection and can still answer", () => {
    const server = new HalfCloser();
    const client = new HalfCloser();
    const pump = connectPair(server, client);
    client.transport.write("request");
    client.transport.loseWriteConnection();
    client.transport.write("ignored");
    expect(client.transport.disconnecting).toBe(false);
    pump.flush();
    expect(server.events).toEqual(["made", "data:request", "readLost"]);
    expect(client.events).toEqual(["made", "writeLost"]);
    server.transport.write("response");
    server.transport.loseConnection();
    pump.flush();
    // The client reads the server's FIN (EOF) before the connection is over, as on real TCP.
    expect(client.events).toEqual(["made", "writeLost", "data:response", "readLost", "lost:ConnectionDone"]);
    expect(server.events.at(-1)).toBe("lost:ConnectionDone");
  });

  it("half-close: both halves closed loses the connection on both sides", () => {
    const server = new HalfCloser();
    const client = new HalfCloser();
    const pump = connectPair(server, client);
    client.transport.loseWriteConnection();
    pump.flush();
    server.transport.write("last");
    server.transport.loseWriteConnection();
    pump.flush();
    expect(client.events).toEqual(["made", "writeLost", "data:last", "readLost", "lost:ConnectionDone"]);
    expect(server.events).toEqual(["made", "readLost", "writeLost", "lost:ConnectionDone"]);
  });

  it("half-close: a peer without readConnectionLost closes its side, after flushing what it had", () => {
    const server = new Recorder();
    const client = new HalfCloser();
    const pump = connectPair(server, client);
    server.transport.write("queued");
    client.transport.loseWriteConnection();
    pump.flush();
    // The client's FIN goes first (its buffer is empty); the server then flushes and closes.
    expect(client.events).toEqual(["made", "writeLost", "data:queued", "readLost", "lost:ConnectionDone"]);
    expect(server.events).toEqual(["made", "lost:ConnectionDone"]);
  });

  it("onConnectionLost hooks run after the protocol's connectionLost", () => {
    const server = new Recorder();
    const client = new Recorder();
    const pump = connectPair(server, client);
    const seen: string[] = [];
    pump.client.onConnectionLost = (r) => seen.push(`client:${r.constructor.name}:${client.events.at(-1)}`);
    client.transport.loseConnection();
    pump.flush();
    expect(seen).toEqual(["client:ConnectionDone:lost:ConnectionDone"]);
  });
});

describe("flow control", () => {
  function makeProducer(log: string[]): PushProducer {
    return {
      pauseProducing: () => log.push("pause"),
      resumeProducing: () => log.push("resume"),
      stopProducing: () => log.push("stop"),
    };
  }

  it("defaults to a 64 KiB high-water mark", () => {
    const server = new Recorder();
    connectPair(server, new Recorder());
    expect(server.transport.highWaterMark).toBe(DEFAULT_HIGH_WATER_MARK);
    expect(DEFAULT_HIGH_WATER_MARK).toBe(65536);
  });

  it("pauses a push producer past the high-water mark and resumes it once drained", () => {
    const server = new Recorder();
    const client = new Recorder();
    const pump = connectPair(server, client, { highWaterMark: 10, chunking: fixedChunks(4) });
    const log: string[] = [];
    client.transport.registerProducer(makeProducer(log), true);
    expect(() => client.transport.registerProducer(makeProducer([]), true)).toThrow(ProducerRegisteredError);
    client.transport.write("0123456789"); // exactly at the mark: not past it
    expect(log).toEqual([]);
    client.transport.write("A");
    expect(log).toEqual(["pause"]);
    client.transport.write("B"); // already paused: no second pause
    expect(client.transport.writeBufferSize).toBe(12);
    pump.pump();
    pump.pump();
    expect(client.transport.writeBufferSize).toBe(4);
    expect(log).toEqual(["pause"]); // not drained yet
    pump.pump();
    expect(log).toEqual(["pause", "resume"]);
    expect(server.text()).toBe("0123456789AB");
  });

  it("a receiver that pauses its transport stops reading, so the sender's producer gets paused", () => {
    const server = new Recorder();
    const client = new Recorder();
    const pump = connectPair(server, client, { highWaterMark: 5 });
    const log: string[] = [];
    client.transport.registerProducer(makeProducer(log), true);
    server.transport.pauseProducing();
    client.transport.write("abc");
    pump.flush();
    expect(server.chunks).toHaveLength(0);
    expect(pump.idle).toBe(true); // blocked, not pending
    client.transport.write("def");
    expect(log).toEqual(["pause"]);
    server.transport.resumeProducing();
    expect(pump.idle).toBe(false);
    pump.flush();
    expect(server.text()).toBe("abcdef");
    expect(log).toEqual(["pause", "resume"]);
  });

  it("a paused reader also holds back the FIN until it reads again", () => {
    const server = new Recorder();
    const client = new Recorder();
    const pump = connectPair(server, client);
    server.transport.pauseProducing();
    client.transport.write("x");
    client.transport.loseConnection();
    pump.flush();
    expect(server.events).toEqual(["made"]);
    server.transport.resumeProducing();
    pump.flush();
    expect(server.events).toEqual(["made", "data:x", "lost:ConnectionDone"]);
  });

  it("asks a pull producer for a piece at registration and each time the buffer drains", () => {
    const server = new Recorder();
    const client = new Recorder();
    const pump = connectPair(server, client);
    const pieces = ["one,", "two,", "three"];
    let asked = 0;
    const pull: PullProducer = {
      resumeProducing: () => {
        asked++;
        const next = pieces.shift();
        if (next === undefined) client.transport.unregisterProducer();
        else client.transport.write(next);
      },
      stopProducing: () => undefined,
    };
    client.transport.registerProducer(pull, false);
    expect(asked).toBe(1);
    pump.flush();
    expect(server.text()).toBe("one,two,three");
    expect(asked).toBe(4);
  });

  it("stops the producer when the connection is lost", () => {
    const server = new Recorder();
    const client = new Recorder();
    const pump = connectPair(server, client);
    const log: string[] = [];
    client.transport.registerProducer(makeProducer(log), true);
    server.transport.abortConnection();
    pump.flush();
    expect(log).toEqual(["stop"]);
    const late: string[] = [];
    client.transport.registerProducer(makeProducer(late), true);
    expect(late).toEqual(["stop"]);
  });

  it("transport.stopProducing closes the connection", () => {
    const server = new Recorder();
    const client = new Recorder();
    const pump = connectPair(server, client);
    server.transport.stopProducing();
    pump.flush();
    expect(client.reason).toBeInstanceOf(ConnectionDone);
  });
});

describe("write-buffer bounds (runtime/write-buffer.ts)", () => {
  /** A peer that does not read, and writes `total` bytes in `size` pieces when told. */
  class Flood extends Recorder {
    override connectionMade(): void {
      super.connectionMade();
      this.transport.pauseProducing();
    }
    send(total: number, size: number): void {
      for (let at = 0; at < total; at += size) this.transport.write(new Uint8Array(Math.min(size, total - at)).fill(at & 0xff));
    }
  }

  it("by default the server side stops reading while its bytes in flight are past the mark, and reads again once they drain", () => {
    const server = new Echo();
    const client = new Flood();
    const pump = connectPair(server, client, { highWaterMark: 1000 });
    client.send(10_000, 100);
    pump.flush();
    expect(pump.server.readsHeld).toBe(true);
    expect(pump.server.reading).toBe(false);
    expect(server.received().length).toBeLessThan(10_000);
    expect(pump.server.outgoing.length).toBeLessThanOrEqual(1000 + 100);
    // The protocol resuming does not undo the hold; its own pause outlives the drain.
    pump.server.pauseProducing();
    pump.server.resumeProducing();
    expect(pump.server.readsHeld).toBe(true);
    client.transport.resumeProducing();
    pump.flush();
    expect(server.received().length).toBe(10_000);
    expect(client.received()).toEqual(server.received());
    expect(pump.server.readsHeld).toBe(false);
  });

  it("the client side does not, unless pauseReadsOnFullBuffer is \"all\"; \"none\" turns it off for both", () => {
    for (const [policy, serverHolds, clientHolds] of [
      ["accepted", true, false],
      ["all", true, true],
      ["none", false, false],
    ] as const) {
      const pump = connectPair(new Echo(), new Echo(), { highWaterMark: 1000, pauseReadsOnFullBuffer: policy });
      expect([pump.server.pauseReadsWhenFull, pump.client.pauseReadsWhenFull]).toEqual([serverHolds, clientHolds]);
    }
    const client = new Echo();
    const server = new Flood();
    const pump = connectPair(server, client, { highWaterMark: 1000 });
    server.send(10_000, 100);
    pump.flush();
    expect(pump.client.readsHeld).toBe(false);
    expect(client.received().length).toBe(10_000);
  });

  it("a registered push producer is paused instead, and reading goes on", () => {
    class ProducingEcho extends Echo implements PushProducer {
      pauses = 0;
      override connectionMade(): void {
        super.connectionMade();
        this.transport.registerProducer(this, true);
      }
      pauseProducing(): void {
        this.pauses++;
      }
      resumeProducing(): void {}
      stopProducing(): void {}
    }
    const server = new ProducingEcho();
    const client = new Flood();
    const pump = connectPair(server, client, { highWaterMark: 1000 });
    client.send(10_000, 100);
    pump.flush();
    expect(server.pauses).toBe(1);
    expect(pump.server.readsHeld).toBe(false);
    expect(server.received().length).toBe(10_000);
  });

  it("a write past maxWriteBufferSize aborts the writer with WriteBufferOverflowError; the peer sees a reset", () => {
    const server = new Recorder();
    const client = new Flood();
    const pump = connectPair(server, client, { highWaterMark: 1000, maxWriteBufferSize: 5000 });
    server.transport.write(new Uint8Array(4000));
    server.transport.write(new Uint8Array(1001));
    pump.flush();
    expect(server.reason).toBeInstanceOf(WriteBufferOverflowError);
    expect((server.reason as WriteBufferOverflowError).bufferedBytes).toBe(5001);
    expect((server.reason as WriteBufferOverflowError).limit).toBe(5000);
    expect(client.reason).toBeInstanceOf(ConnectionResetError);
    expect(client.received()).toHaveLength(0);
  });

  it("validates maxWriteBufferSize and pauseReadsOnFullBuffer", () => {
    expect(() => connectPair(new Recorder(), new Recorder(), { highWaterMark: 1000, maxWriteBufferSize: 999 })).toThrow(/maxWriteBufferSize/);
    expect(() => connectPair(new Recorder(), new Recorder(), { pauseReadsOnFullBuffer: "server" as "all" })).toThrow(InvalidOptionError);
    const pump = connectPair(new Recorder(), new Recorder(), { maxWriteBufferSize: Infinity });
    expect(pump.server.maxWriteBufferSize).toBe(Infinity);
    expect(connectPair(new Recorder(), new Recorder()).client.maxWriteBufferSize).toBe(DEFAULT_MAX_WRITE_BUFFER_SIZE);
    // A lone transport applies no read pause unless asked.
    expect(new MemoryTransport({ type: "tcp", host: "a", port: 1 }, { type: "tcp", host: "b", port: 2 }).pauseReadsWhenFull).toBe(false);
  });
});

describe("chunking policies over a pair", () => {
  const policies: [string, () => ChunkingPolicy][] = [
    ["whole writes", wholeWrites],
    ["byte by byte", byteByByte],
    ["coalesce all", coalesceAll],
    ["fixed 3", () => fixedChunks(3)],
    ["random", () => randomChunks(7)],
  ];

  it.each(policies)("%s preserves the byte stream", (_name, make) => {
    const server = new Recorder();
    const client = new Recorder();
    const pump = connectPair(server, client, { chunking: make() });
    for (const w of ["alpha", "", "beta", "gamma-delta", "e"]) client.transport.write(w);
    pump.flush();
    expect(server.text()).toBe("alphabetagamma-deltae");
  });

  it("whole writes delivers each write as one read; coalesce-all merges them", () => {
    const s1 = new Recorder();
    const c1 = new Recorder();
    const p1 = connectPair(s1, c1);
    c1.transport.write("ab");
    c1.transport.writeSequence(["c", "d"]);
    p1.flush();
    expect(s1.chunks.map((c) => dec.decode(c))).toEqual(["ab", "cd"]);

    const s2 = new Recorder();
    const c2 = new Recorder();
    const p2 = connectPair(s2, c2, { chunking: coalesceAll() });
    c2.transport.write("ab");
    c2.transport.write("cd");
    p2.flush();
    expect(s2.chunks.map((c) => dec.decode(c))).toEqual(["abcd"]);
  });

  it("property: for any writes and any seed, the bytes received equal the bytes sent, both ways", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }),
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }),
        fc.integer(),
        (up, down, seed) => {
          const server = new Recorder();
          const client = new Recorder();
          const pump = connectPair(server, client, { chunking: randomChunks(seed), highWaterMark: 16 });
          for (const w of up) client.transport.write(w);
          for (const w of down) server.transport.write(w);
          client.transport.loseConnection();
          pump.flush();
          expect(server.received()).toEqual(concat(up));
          expect(server.reason).toBeInstanceOf(ConnectionDone);
          // The client closed fully: what the server had in flight may be cut, but never reordered.
          const got = client.received();
          expect(got).toEqual(concat(down).subarray(0, got.length));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("property: random chunking both splits and merges writes", () => {
    const server = new Recorder();
    const client = new Recorder();
    const pump = connectPair(server, client, { chunking: randomChunks(3, { mergeProbability: 0.5 }) });
    const writes = Array.from({ length: 200 }, (_, i) => `w${i};`);
    for (const w of writes) client.transport.write(w);
    pump.flush();
    const sizes = server.chunks.map((c) => c.length);
    const writeSizes = new Set(writes.map((w) => w.length));
    expect(sizes.some((n) => n > 5)).toBe(true); // a merge: longer than any single write
    expect(sizes.some((n) => !writeSizes.has(n))).toBe(true);
    expect(sizes.some((n) => n < 3)).toBe(true); // a split
    expect(server.text()).toBe(writes.join(""));
  });
});

describe("Pump over hand-built transports", () => {
  it("drives MemoryTransports linked by hand, as a simulated network would", () => {
    const a = new MemoryTransport({ type: "tcp", host: "10.0.0.1", port: 1 }, { type: "tcp", host: "10.0.0.2", port: 2 });
    const b = new MemoryTransport({ type: "tcp", host: "10.0.0.2", port: 2 }, { type: "tcp", host: "10.0.0.1", port: 1 });
    MemoryTransport.link(a, b);
    let activity = 0;
    b.onActivity = () => activity++;
    const pa = a.attach(new Recorder());
    const pb = b.attach(new Recorder());
    b.write("hi");
    expect(activity).toBe(1);
    expect(b.canSendData()).toBe(true);
    expect(dec.decode(b.sendData(1))).toBe("h");
    expect(() => b.sendFin()).toThrow();
    const pump = new Pump(a, b);
    pump.flush();
    expect(pa.text()).toBe("hi");
    expect(pb.events).toEqual(["made"]);
  });
});

describe("connectPair and stateful chunking policies", () => {
  it("cuts with a fresh copy, so the same policy object gives the same reads in every pair", () => {
    for (const policy of [randomChunks(5), new ScriptedChunking([1, 2, 1])]) {
      const sizes: number[][] = [];
      for (let run = 0; run < 2; run++) {
        const server = new Recorder();
        const client = new Recorder();
        const pump = connectPair(server, client, { chunking: policy });
        client.transport.write("abcdefghij");
        client.transport.write("klmnop");
        pump.flush();
        sizes.push(server.chunks.map((c) => c.length));
      }
      expect(sizes[1], policy.name).toEqual(sizes[0]);
      expect(sizes[0]!.length, policy.name).toBeGreaterThan(2);
    }
  });
});

describe("Pump.flushAsync", () => {
  it("lets await continuations run between rounds: an async client and server finish with no hand-written loop", async () => {
    const server = new StreamProtocol({}, (conn) => {
      void (async () => {
        for await (const line of conn.lines()) await conn.write(`${dec.decode(line).toUpperCase()}\n`);
        await conn.close();
      })();
    });
    const client = new StreamProtocol();
    const pump = connectPair(server, client, { chunking: byteByByte() });
    const replies = (async () => {
      const conn = client.connection;
      const got: string[] = [];
      for (const word of ["one", "two", "three"]) {
        await conn.write(`${word}\n`);
        got.push(dec.decode(await conn.readLine()));
      }
      await conn.close();
      return got;
    })();
    const rounds = await pump.flushAsync();
    expect(rounds).toBeGreaterThan(10);
    expect(await replies).toEqual(["ONE", "TWO", "THREE"]);
    expect(pump.idle).toBe(true);
    expect(pump.client.lost && pump.server.lost).toBe(true);
  });

  it("stops at its step bound when two async sides keep each other busy", async () => {
    class PingForever extends Protocol {
      override connectionMade(): void {
        this.transport.write("x");
      }
      override dataReceived(data: Uint8Array): void {
        void Promise.resolve().then(() => {
          this.transport.write(data);
        });
      }
    }
    const pump = connectPair(new PingForever(), new PingForever(), { maxSteps: 50 });
    await expect(pump.flushAsync()).rejects.toThrow(/WL_ERR_REACTOR_STALLED|gave up/);
  });
});
