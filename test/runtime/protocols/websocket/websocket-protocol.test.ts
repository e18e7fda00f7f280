import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { Clock } from "../../../../fakes/clock.js";
import { byteByByte, randomChunks, wholeWrites } from "../../../../fakes/chunking.js";
import type { ChunkingPolicy } from "../../../../fakes/chunking.js";
import { connectPair } from "../../../../fakes/loopback.js";
import type { Pump } from "../../../../fakes/loopback.js";
import { ConnectionAborted, InvalidOptionError, ReadPendingError, TimeoutError, WebSocketBufferFullError, WebSocketClosedError, WebSocketProtocolError } from "../../../../runtime/errors.js";
import { Protocol } from "../../../../runtime/protocol.js";
import { FrameWriter } from "../../../../runtime/protocols/websocket/frame-writer.js";
import { WebSocketProtocol } from "../../../../runtime/protocols/websocket/websocket-protocol.js";
import type { WebSocketProtocolOptions } from "../../../../runtime/protocols/websocket/websocket-protocol.js";
import { CollectingSink, hex, parseAll, seededRandom, toHex } from "./helpers.js";

type Event = readonly unknown[];

/** Records every event; messages queue for readMessage (onMessage is not overridden). */
class Recorder extends WebSocketProtocol {
  readonly events: Event[] = [];
  override onOpen(): void {
    this.events.push(["open"]);
  }
  override onPing(data: Uint8Array): void {
    this.events.push(["ping", toHex(data)]);
  }
  override onPong(data: Uint8Array): void {
    this.events.push(["pong", toHex(data)]);
  }
  override onClose(code: number, reason: string, wasClean: boolean): void {
    this.events.push(["close", code, reason, wasClean]);
  }
  override onDrain(): void {
    this.events.push(["drain"]);
  }
}

class Echo extends Recorder {
  override onMessage(data: string | Uint8Array): void {
    this.send(data);
  }
}

/** A peer that speaks raw bytes. */
class Raw extends Protocol {
  readonly received: Uint8Array[] = [];
  lost: Error | null = null;
  override dataReceived(data: Uint8Array): void {
    this.received.push(data.slice());
  }
  override connectionLost(reason: Error): void {
    this.lost = reason;
  }
  bytes(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.received));
  }
}

function setup<S extends WebSocketProtocol, C extends WebSocketProtocol>(
  makeServer: (o: WebSocketProtocolOptions) => S,
  makeClient: (o: WebSocketProtocolOptions) => C,
  extra: Partial<WebSocketProtocolOptions> = {},
  chunking: ChunkingPolicy = wholeWrites(),
  highWaterMark?: number,
): { clock: Clock; server: S; client: C; pump: Pump } {
  const clock = new Clock();
  const server = makeServer({ role: "server", clock, ...extra });
  const client = makeClient({ role: "client", clock, random: seededRandom(42), ...extra });
  const pump = connectPair(server, client, { chunking, maxSteps: 1_000_000, ...(highWaterMark === undefined ? {} : { highWaterMark }) });
  return { clock, server, client, pump };
}

const policies: [string, () => ChunkingPolicy][] = [
  ["whole writes", wholeWrites],
  ["byte by byte", byteByByte],
  ["random chunks", () => randomChunks(1234)],
];

describe("WebSocketProtocol over in-memory pairs", () => {
  for (const [name, policy] of policies) {
    it(`client <-> server echo: text, binary, fragmented, empty (${name})`, async () => {
      const { server, client, pump } = setup(
        (o) => new Echo(o),
        (o) => new Recorder({ ...o, fragmentSize: 7 }),
        {},
        policy(),
      );
      expect(server.events).toEqual([["open"]]);
      expect(client.events).toEqual([["open"]]);
      const big = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff);
      client.send("Hello, wörld ✓ 𝄞");
      client.send(hex("00 01 02 ff"));
      client.send("");
      client.send(big);
      pump.flush();
      expect(await client.readMessage()).toEqual({ data: "Hello, wörld ✓ 𝄞", isBinary: false });
      // Bytes compared as bytes: a message read in one piece is a view of the chunk it came in.
      const binary = await client.readMessage();
      expect(binary.isBinary).toBe(true);
      expect(Buffer.from(binary.data as Uint8Array)).toEqual(Buffer.from(hex("00 01 02 ff")));
      expect(await client.readMessage()).toEqual({ data: "", isBinary: false });
      const echoed = await client.readMessage();
      expect(echoed.isBinary).toBe(true);
      expect(Buffer.from(echoed.data as Uint8Array).equals(Buffer.from(big))).toBe(true);
    });
  }

  it("closing handshake started by the client: the code and reason are echoed, both sides close cleanly", () => {
    const { clock, server, client, pump } = setup(
      (o) => new Recorder(o),
      (o) => new Recorder(o),
    );
    client.close(4001, "bye");
    expect(client.readyState).toBe("closing");
    expect(() => client.send("late")).toThrow(WebSocketClosedError);
    pump.flush();
    expect(server.events.at(-1)).toEqual(["close", 4001, "bye", true]);
    expect(client.events.at(-1)).toEqual(["close", 4001, "bye", true]);
    expect(server.readyState).toBe("closed");
    expect(client.readyState).toBe("closed");
    expect(pump.server.lostReason?.name).toBe("ConnectionDone");
    expect(clock.pendingCalls()).toHaveLength(0);
  });

  it("closing handshake started by the server: the client echoes and the server closes TCP first", () => {
    const { clock, server, client, pump } = setup(
      (o) => new Recorder(o),
      (o) => new Recorder(o),
    );
    // Watch the client's bytes: its reply must be a masked close with the same code.
    const sent: Uint8Array[] = [];
    const write = pump.client.write.bind(pump.client);
    pump.client.write = (data) => {
      sent.push(typeof data === "string" ? Buffer.from(data) : data);
      write(data);
    };
    server.close(1001, "going away");
    pump.flush();
    expect(parseAll({ role: "server" }, new Uint8Array(Buffer.concat(sent)))).toEqual([["close", 1001, "going away"]]);
    expect(server.events.at(-1)).toEqual(["close", 1001, "going away", true]);
    expect(client.events.at(-1)).toEqual(["close", 1001, "going away", true]);
    expect(clock.pendingCalls()).toHaveLength(0);
  });

  it("a close frame without a code is answered with one without a code, and reported as 1005", () => {
    const clock = new Clock();
    const server = new Recorder({ role: "server", clock });
    const raw = new Raw();
    const pump = connectPair(server, raw);
    const sink = new CollectingSink();
    new FrameWriter(sink, { role: "client", random: seededRandom(1) }).close();
    raw.transport.write(sink.bytes());
    pump.flush();
    expect(parseAll({ role: "client" }, raw.bytes())).toEqual([["close", 1005, ""]]);
    expect(toHex(raw.bytes())).toBe("8800");
    expect(server.events.at(-1)).toEqual(["close", 1005, "", true]);
  });

  it("the initiator gives up after closeTimeoutMs when no close comes back", () => {
    const clock = new Clock();
    const server = new Recorder({ role: "server", clock, closeTimeoutMs: 2000 });
    const raw = new Raw();
    const pump = connectPair(server, raw);
    server.close(1000);
    pump.flush();
    expect(server.readyState).toBe("closing");
    clock.advance(1999);
    pump.flush();
    expect(server.readyState).toBe("closing");
    clock.advance(1);
    pump.flush();
    expect(server.readyState).toBe("closed");
    expect(server.events.at(-1)).toEqual(["close", 1006, "", false]);
    expect(server.failure).toBeInstanceOf(TimeoutError);
    expect(pump.server.lostReason).toBeInstanceOf(ConnectionAborted);
  });

  it("a client waits closeTimeoutMs for the server to close TCP after the closing handshake, then closes it", () => {
    const clock = new Clock();
    const raw = new Raw();
    const client = new Recorder({ role: "client", clock, random: seededRandom(9), closeTimeoutMs: 3000 });
    const pump = connectPair(raw, client);
    const sink = new CollectingSink();
    new FrameWriter(sink, { role: "server" }).close(1000, "done");
    raw.transport.write(sink.bytes());
    pump.flush();
    expect(client.readyState).toBe("closing");
    expect(parseAll({ role: "server" }, raw.bytes())).toEqual([["close", 1000, "done"]]);
    clock.advance(3000);
    pump.flush();
    expect(client.events.at(-1)).toEqual(["close", 1000, "done", true]);
    expect(raw.lost?.name).toBe("ConnectionDone");
  });

  it("keepalive: pings every pingIntervalMs, and a peer that answers stays connected", () => {
    const { clock, server, client, pump } = setup(
      (o) => new Recorder({ ...o, pingIntervalMs: 1000, pingTimeoutMs: 500 }),
      (o) => new Recorder(o),
    );
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      pump.flush();
    }
    expect(client.events.filter((e) => e[0] === "ping")).toHaveLength(5);
    expect(server.events.filter((e) => e[0] === "pong")).toHaveLength(5);
    expect(server.readyState).toBe("open");
  });

  it("keepalive: no pong within pingTimeoutMs drops the connection (1006) on the fake clock", () => {
    const { clock, server, client, pump } = setup(
      (o) => new Recorder({ ...o, pingIntervalMs: 1000, pingTimeoutMs: 500 }),
      (o) => new Recorder(o),
    );
    clock.advance(1000);
    pump.flush();
    expect(server.events.filter((e) => e[0] === "pong")).toHaveLength(1);
    pump.client.pauseProducing(); // the client stops reading: no more pongs
    clock.advance(1000);
    pump.flush();
    clock.advance(499);
    pump.flush();
    expect(server.readyState).toBe("open");
    clock.advance(1);
    pump.flush();
    expect(server.readyState).toBe("closed");
    expect(server.events.at(-1)).toEqual(["close", 1006, "", false]);
    expect(server.failure).toBeInstanceOf(TimeoutError);
    expect(client.readyState).toBe("closed");
    expect(client.events.at(-1)).toEqual(["close", 1006, "", false]);
    expect(clock.pendingCalls()).toHaveLength(0);
  });

  it("answers pings with pongs carrying the same data, and reports both", () => {
    const { server, client, pump } = setup(
      (o) => new Recorder(o),
      (o) => new Recorder(o),
    );
    client.ping("are you there");
    pump.flush();
    expect(server.events).toContainEqual(["ping", toHex(Buffer.from("are you there"))]);
    expect(client.events).toContainEqual(["pong", toHex(Buffer.from("are you there"))]);
    expect(() => client.ping(new Uint8Array(126))).toThrow(InvalidOptionError);
  });

  it("a server fails an unmasked client frame with 1002 and closes", () => {
    const clock = new Clock();
    const server = new Recorder({ role: "server", clock });
    const raw = new Raw();
    const pump = connectPair(server, raw);
    raw.transport.write(hex("81 05 48 65 6c 6c 6f"));
    pump.flush();
    expect(parseAll({ role: "client" }, raw.bytes())).toEqual([["close", 1002, "unmasked-frame"]]);
    expect(server.events.at(-1)).toEqual(["close", 1002, "unmasked-frame", false]);
    expect(server.failure).toBeInstanceOf(WebSocketProtocolError);
    expect(raw.lost?.name).toBe("ConnectionDone");
  });

  it("a client fails a masked server frame with 1002, masking its own close frame", () => {
    const clock = new Clock();
    const raw = new Raw();
    const client = new Recorder({ role: "client", clock, random: seededRandom(3) });
    const pump = connectPair(raw, client);
    raw.transport.write(hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"));
    pump.flush();
    expect(parseAll({ role: "server" }, raw.bytes())).toEqual([["close", 1002, "masked-frame"]]);
    expect(client.events.at(-1)).toEqual(["close", 1002, "masked-frame", false]);
  });

  it("a message over maxPayload fails with 1009; invalid UTF-8 with 1007", () => {
    for (const [frame, code] of [
      [hex("82 7e 04 00"), 1009],
      [hex("81 02 c3 28"), 1007],
    ] as const) {
      const clock = new Clock();
      const raw = new Raw();
      const client = new Recorder({ role: "client", clock, random: seededRandom(3), maxPayload: 1000 });
      const pump = connectPair(raw, client);
      raw.transport.write(frame);
      pump.flush();
      expect(parseAll({ role: "server" }, raw.bytes())[0]?.slice(0, 2)).toEqual(["close", code]);
      expect(client.events.at(-1)?.[1]).toBe(code);
    }
  });

  it("an onMessage handler that throws fails the connection with 1011", () => {
    class Throws extends Recorder {
      override onMessage(): void {
        throw new Error("boom");
      }
    }
    const { server, client, pump } = setup(
      (o) => new Throws(o),
      (o) => new Recorder(o),
    );
    client.send("x");
    pump.flush();
    expect(client.events.at(-1)).toEqual(["close", 1011, "internal-error", true]);
    expect(server.failure?.message).toMatch(/boom/);
  });

  it("readMessage: one pending read at a time, queued messages before the close error, iteration ends on close", async () => {
    const { server, client, pump } = setup(
      (o) => new Recorder(o),
      (o) => new Recorder(o),
    );
    const first = server.readMessage();
    await expect(server.readMessage()).rejects.toBeInstanceOf(ReadPendingError);
    client.send("one");
    client.send("two");
    client.send("three");
    pump.flush();
    expect(await first).toEqual({ data: "one", isBinary: false });
    client.close(4000, "end");
    pump.flush();
    const seen: unknown[] = [];
    for await (const m of server) seen.push(m.data);
    expect(seen).toEqual(["two", "three"]);
    const error = await server.readMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebSocketClosedError);
    expect((error as WebSocketClosedError).closeCode).toBe(4000);
    expect((error as WebSocketClosedError).wasClean).toBe(true);
    expect(await server.whenClosed()).toEqual({ code: 4000, reason: "end", wasClean: true });
  });

  it("a pending read is rejected when the connection is lost", async () => {
    const { server, pump } = setup(
      (o) => new Recorder(o),
      (o) => new Recorder(o),
    );
    const read = server.readMessage();
    pump.client.abortConnection();
    pump.flush();
    const error = await read.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebSocketClosedError);
    expect((error as WebSocketClosedError).closeCode).toBe(1006);
  });

  it("the readMessage queue is bounded: reading pauses at maxQueuedMessages and resumes as messages are read", async () => {
    const { server, client, pump } = setup(
      (o) => new Recorder({ ...o, maxQueuedMessages: 2 }),
      (o) => new Recorder(o),
    );
    for (let i = 0; i < 6; i++) client.send(`m${i}`);
    pump.flush();
    expect(pump.server.readingPaused).toBe(true);
    const got: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      got.push((await server.readMessage()).data);
      pump.flush();
    }
    expect(got).toEqual(["m0", "m1", "m2", "m3", "m4", "m5"]);
    expect(pump.server.readingPaused).toBe(false);
  });

  it("backpressure: writable, bufferedAmount, drained() and onDrain follow the transport's water marks", async () => {
    const { server, pump } = setup(
      (o) => new Recorder(o),
      (o) => new Recorder(o),
      {},
      wholeWrites(),
      1024,
    );
    expect(server.writable).toBe(true);
    await server.drained();
    server.send(new Uint8Array(4096));
    expect(server.writable).toBe(false);
    expect(server.bufferedAmount).toBe(4096 + 4);
    let drained = false;
    const wait = server.drained().then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    pump.flush();
    await wait;
    expect(drained).toBe(true);
    expect(server.writable).toBe(true);
    expect(server.events).toContainEqual(["drain"]);
  });

  it("drained() rejects when the connection closes first", async () => {
    const { server, pump } = setup(
      (o) => new Recorder(o),
      (o) => new Recorder(o),
      {},
      wholeWrites(),
      10,
    );
    server.send(new Uint8Array(100));
    const wait = server.drained();
    pump.server.abortConnection();
    pump.flush();
    await expect(wait).rejects.toBeInstanceOf(WebSocketClosedError);
  });

  it("close() checks its arguments and is a no-op once closing", () => {
    const { server, pump } = setup(
      (o) => new Recorder(o),
      (o) => new Recorder(o),
    );
    expect(() => server.close(1005)).toThrow(InvalidOptionError);
    expect(() => server.close(1000, "x".repeat(124))).toThrow(InvalidOptionError);
    server.close(1000);
    server.close(4000);
    pump.flush();
    expect(server.events.at(-1)).toEqual(["close", 1000, "", true]);
  });

  it("permessage-deflate end to end, with and without context takeover", async () => {
    for (const noTakeover of [false, true]) {
      const params = { serverNoContextTakeover: noTakeover, clientNoContextTakeover: noTakeover, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
      const { client, pump } = setup(
        (o) => new Echo(o),
        (o) => new Recorder(o),
        { perMessageDeflate: params, deflateOptions: { threshold: 0 } },
        randomChunks(99),
      );
      const text = "compress me please ".repeat(200);
      const counted: number[] = [];
      const write = pump.client.write.bind(pump.client);
      pump.client.write = (data) => {
        counted.push(typeof data === "string" ? data.length : data.length);
        write(data);
      };
      client.send(text);
      client.send(text);
      pump.flush();
      expect(await client.readMessage()).toEqual({ data: text, isBinary: false });
      expect(await client.readMessage()).toEqual({ data: text, isBinary: false });
      expect(counted[0]).toBeLessThan(text.length / 10);
      if (noTakeover) expect(counted[1]).toBe(counted[0]);
      else expect(counted[1]).toBeLessThan(counted[0]!);
    }
  });

  it("rejects bad options, naming them", () => {
    const clock = new Clock();
    expect(() => new WebSocketProtocol({ role: "client", clock })).toThrow(/random/);
    expect(() => new WebSocketProtocol({ role: "server", clock, pingIntervalMs: -1 })).toThrow(/pingIntervalMs/);
    expect(() => new WebSocketProtocol({ role: "server", clock, maxQueuedMessages: 0 })).toThrow(/maxQueuedMessages/);
    expect(() => new WebSocketProtocol({ role: "server", clock, maxPayload: -5 })).toThrow(/maxPayload/);
  });

  it("property: any messages, any chunking, any fragmentation, with or without deflate, echo back intact and in order", async () => {
    const message = fc.oneof(fc.string({ unit: "grapheme", maxLength: 200 }), fc.uint8Array({ maxLength: 2000 }));
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 15 }), fc.nat(), fc.integer({ min: 0, max: 64 }), fc.boolean(), async (messages, seed, fragmentSize, deflate) => {
        const params = { serverNoContextTakeover: false, clientNoContextTakeover: seed % 2 === 0, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
        const { client, pump } = setup(
          (o) => new Echo({ ...o, fragmentSize }),
          (o) => new Recorder({ ...o, fragmentSize, maxQueuedMessages: 4 }),
          deflate ? { perMessageDeflate: params, deflateOptions: { threshold: 16 } } : {},
          randomChunks(seed),
        );
        const expected = messages.map((m) => (typeof m === "string" ? Buffer.from(m, "utf8").toString("utf8") : m));
        for (const m of messages) client.send(m);
        client.close(4321, "end");
        const got: unknown[] = [];
        for (;;) {
          pump.flush();
          const next = await client.readMessage().catch((e: unknown) => e);
          if (next instanceof WebSocketClosedError) break;
          const msg = next as { data: string | Uint8Array; isBinary: boolean };
          got.push(typeof msg.data === "string" ? msg.data : new Uint8Array(msg.data));
        }
        expect(got).toEqual(expected.map((m) => (typeof m === "string" ? m : new Uint8Array(m))));
        expect(await client.whenClosed()).toEqual({ code: 4321, reason: "end", wasClean: true });
      }),
      { numRuns: 60 },
    );
  });
});

describe("WebSocketProtocol: a peer that does not read", () => {
  /** Pauses its transport's reading at once; counts and sends pings. */
  class Deaf extends Recorder {
    override onOpen(): void {
      super.onOpen();
      this.transport.pauseProducing();
    }
  }

  it("a server stops reading frames (mid-chunk) while its write buffer is full: a ping flood is bounded, and every pong comes once the peer reads", () => {
    const { server, client, pump } = setup(
      (o) => new Recorder(o),
      (o) => new Deaf(o),
      {},
      randomChunks(7),
      1024,
    );
    for (let i = 0; i < 200; i++) client.ping(new Uint8Array(100).fill(i));
    pump.flush();
    const pings = server.events.filter((e) => e[0] === "ping").length;
    expect(pings).toBeLessThan(200);
    expect(server.readingPaused).toBe(true);
    // One pong (102 bytes) past the mark at most: reading stopped at the frame whose pong crossed it.
    expect(server.bufferedAmount).toBeLessThanOrEqual(1024 + 102);
    client.transport.resumeProducing();
    pump.flush();
    expect(server.events.filter((e) => e[0] === "ping")).toHaveLength(200);
    const pongs = client.events.filter((e) => e[0] === "pong").map((e) => (e[1] as string).slice(0, 2));
    expect(pongs).toEqual(Array.from({ length: 200 }, (_, i) => i.toString(16).padStart(2, "0")));
    expect(server.readingPaused).toBe(false);
  });

  it("a client does not by default (two peers that both did could wait on each other); pauseReadsWhenFull decides", () => {
    for (const [pauseReadsWhenFull, expected] of [
      [undefined, false],
      [true, true],
    ] as const) {
      const { server, client, pump } = setup(
        (o) => new Deaf(o),
        (o) => new Recorder(pauseReadsWhenFull === undefined ? o : { ...o, pauseReadsWhenFull }),
        {},
        wholeWrites(),
        1024,
      );
      for (let i = 0; i < 50; i++) server.ping(new Uint8Array(100));
      pump.flush();
      expect(client.readingPaused).toBe(expected);
      expect(client.events.filter((e) => e[0] === "ping").length < 50).toBe(expected);
    }
  });

  it("one pause reason ending does not resume reading another still holds", async () => {
    const { server, client, pump } = setup(
      (o) => new Recorder({ ...o, maxQueuedMessages: 2 }),
      (o) => new Deaf(o),
      {},
      wholeWrites(),
      1024,
    );
    for (let i = 0; i < 40; i++) client.ping(new Uint8Array(100));
    for (let i = 0; i < 4; i++) client.send(`m${i}`);
    pump.flush();
    expect(server.readingPaused).toBe(true);
    // The write hold ends (the client reads), but the queue is still full: still paused.
    client.transport.resumeProducing();
    pump.flush();
    expect(server.readingPaused).toBe(true);
    expect(pump.server.readingPaused).toBe(true);
    const got: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      got.push((await server.readMessage()).data);
      pump.flush();
    }
    expect(got).toEqual(["m0", "m1", "m2", "m3"]);
    expect(server.readingPaused).toBe(false);
  });

  it("a message sent while more than maxBufferedAmount waits unsent is dropped, and the connection fails with 1013", () => {
    const { server, client, pump } = setup(
      (o) => new Recorder({ ...o, maxBufferedAmount: 4096 }),
      (o) => new Deaf(o),
      {},
      wholeWrites(),
      1024,
    );
    const message = new Uint8Array(1000);
    let sent = 0;
    while (server.failure === null) {
      server.send(message);
      if (server.failure === null) sent++;
    }
    pump.flush();
    expect(sent).toBe(5);
    expect(server.failure).toBeInstanceOf(WebSocketBufferFullError);
    expect((server.failure as WebSocketBufferFullError).closeCode).toBe(1013);
    expect((server.failure as WebSocketBufferFullError).code).toBe("WL_ERR_WS_BUFFER_FULL");
    expect(server.readyState).toBe("closing");
    expect(() => server.send(message)).toThrow(WebSocketClosedError);
    client.transport.resumeProducing();
    pump.flush();
    // The client reads the five messages, then the close frame, and answers it: a clean close.
    expect(client.events.at(-1)).toEqual(["close", 1013, "buffer-full", true]);
    expect(server.events.at(-1)).toEqual(["close", 1013, "buffer-full", true]);
  });

  it("maxBufferedAmount: Infinity never drops; bad values are refused", () => {
    const { server, pump } = setup(
      (o) => new Recorder({ ...o, maxBufferedAmount: Infinity }),
      (o) => new Deaf(o),
      {},
      wholeWrites(),
      1024,
    );
    for (let i = 0; i < 100; i++) server.send(new Uint8Array(1000));
    pump.flush();
    expect(server.failure).toBeNull();
    expect(server.bufferedAmount).toBeGreaterThan(90_000);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => new Recorder({ role: "server", clock: new Clock(), maxBufferedAmount: bad })).toThrow(/maxBufferedAmount/);
    }
  });
});
