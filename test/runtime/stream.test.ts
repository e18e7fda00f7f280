import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { byteByByte, randomChunks } from "../../fakes/chunking.js";
import { drainMicrotasks } from "../../fakes/clock.js";
import { connectPair } from "../../fakes/loopback.js";
import { MemoryReactor } from "../../fakes/memory-reactor.js";
import { StringTransport } from "../../fakes/string-transport.js";
import {
  ConnectionDone,
  ConnectionLost,
  InvalidOptionError,
  ReadLimitExceededError,
  ReadPendingError,
  StreamClosedError,
  UnhandledReactorError,
} from "../../runtime/errors.js";
import { limitConnections, withIdleTimeout } from "../../runtime/policies.js";
import { DEFAULT_READ_HIGH_WATER_MARK, StreamProtocol, dial, serve, streamFactory } from "../../runtime/stream.js";
import type { Connection, ConnectionOptions } from "../../runtime/stream.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (bytes: Uint8Array): string => dec.decode(bytes);

function open(options: ConnectionOptions = {}, disconnectOnClose = true): { transport: StringTransport; conn: Connection } {
  const transport = new StringTransport({ disconnectOnClose });
  const conn = transport.attach(new StreamProtocol(options)).connection;
  return { transport, conn };
}

/** Settles a promise's state without waiting on it: "pending", or its outcome. */
async function state<T>(promise: Promise<T>): Promise<{ status: "pending" } | { status: "fulfilled"; value: T } | { status: "rejected"; reason: unknown }> {
  let result: { status: "pending" } | { status: "fulfilled"; value: T } | { status: "rejected"; reason: unknown } = { status: "pending" };
  promise.then(
    (value) => {
      result = { status: "fulfilled", value };
    },
    (reason: unknown) => {
      result = { status: "rejected", reason };
    },
  );
  await drainMicrotasks();
  return result;
}

function splitAt(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let last = 0;
  for (const p of [...points, data.length]) {
    if (p > last) chunks.push(data.slice(last, p));
    last = Math.max(last, p);
  }
  return chunks;
}

describe("Connection reads", () => {
  it("readLine strips \\n and \\r\\n and returns lines across chunks", async () => {
    const { transport, conn } = open();
    transport.receive("one\r\ntw");
    expect(text(await conn.readLine())).toBe("one");
    const pending = conn.readLine();
    transport.receive("o\nthree\r");
    expect(text(await pending)).toBe("two");
    const third = conn.readLine();
    transport.receive("\n");
    expect(text(await third)).toBe("three");
    transport.receive("\n");
    expect(text(await conn.readLine())).toBe("");
  });

  it("readUntil includes the delimiter, found across chunk boundaries", async () => {
    const { transport, conn } = open();
    const read = conn.readUntil("\r\n\r\n");
    for (const piece of ["GET / HTTP/1.1\r", "\nHost: x\r\n", "\r", "\nbody"]) transport.receive(piece);
    expect(text(await read)).toBe("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(text(await conn.readExactly(4))).toBe("body");
  });

  it("readExactly waits for exactly n bytes; 0 resolves at once", async () => {
    const { transport, conn } = open();
    expect(await conn.readExactly(0)).toHaveLength(0);
    const read = conn.readExactly(5);
    transport.receive("ab");
    expect((await state(read)).status).toBe("pending");
    transport.receive("cdefg");
    expect(text(await read)).toBe("abcde");
    expect(conn.bufferedBytes).toBe(2);
  });

  it("readSome returns one chunk's worth, at most max, without copying", async () => {
    const { transport, conn } = open();
    const chunk = enc.encode("hello");
    const read = conn.readSome();
    transport.receive(chunk);
    expect(await read).toBe(chunk);
    transport.receive("abc");
    transport.receive("def");
    expect(text(await conn.readSome(2))).toBe("ab");
    expect(text(await conn.readSome())).toBe("c");
    expect(text(await conn.readSome())).toBe("def");
  });

  it("any chunking of a stream of framed records gives the same reads", async () => {
    const record = fc.record({
      header: fc.string({ unit: fc.constantFrom("a", "b", "é", " "), maxLength: 20 }),
      crlf: fc.boolean(),
      body: fc.uint8Array({ maxLength: 40 }),
      tail: fc.string({ unit: fc.constantFrom("x", "D", "E"), maxLength: 10 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(record, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 30 }), fc.boolean(), async (records, cuts, upFront) => {
        const parts: Uint8Array[] = [];
        for (const r of records) {
          parts.push(enc.encode(`${r.header}${r.crlf ? "\r\n" : "\n"}${r.body.length}\n`), r.body, enc.encode(`${r.tail}END`));
        }
        const all = concat(parts);
        const { transport, conn } = open({ readHighWaterMark: 16 });
        const chunks = splitAt(all, cuts);
        const reader = (async () => {
          const out: { header: string; body: number[]; tail: string }[] = [];
          for (let i = 0; i < records.length; i++) {
            const header = text(await conn.readLine());
            const length = Number(text(await conn.readLine()));
            const body = Array.from(await conn.readExactly(length));
            const tail = text(await conn.readUntil("END")).slice(0, -3);
            out.push({ header, body, tail });
          }
          return out;
        })();
        for (const chunk of chunks) {
          transport.receive(chunk);
          if (!upFront) await drainMicrotasks();
        }
        const got = await reader;
        expect(got).toEqual(records.map((r) => ({ header: r.header, body: Array.from(r.body), tail: r.tail })));
        expect(conn.bufferedBytes).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it("readSome over any chunking returns every byte, in order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.array(fc.nat(), { maxLength: 20 }), fc.integer({ min: 1, max: 50 }), async (data, cuts, max) => {
        const { transport, conn } = open();
        for (const chunk of splitAt(data, cuts)) transport.receive(chunk);
        transport.reportConnectionLost(new ConnectionDone());
        const got: number[] = [];
        for (;;) {
          try {
            const piece = await conn.readSome(max);
            expect(piece.length).toBeLessThanOrEqual(max);
            expect(piece.length).toBeGreaterThan(0);
            got.push(...piece);
          } catch (error) {
            expect(error).toBeInstanceOf(StreamClosedError);
            break;
          }
        }
        expect(got).toEqual(Array.from(data));
      }),
      { numRuns: 100 },
    );
  });

  it("allows one pending read at a time", async () => {
    const { transport, conn } = open();
    const first = conn.readLine();
    await expect(conn.readExactly(1)).rejects.toBeInstanceOf(ReadPendingError);
    await expect(conn.readSome()).rejects.toMatchObject({ code: "WL_ERR_READ_PENDING" });
    transport.receive("ok\n");
    expect(text(await first)).toBe("ok");
  });

  it("rejects bad arguments", async () => {
    const { conn } = open();
    await expect(conn.readUntil("")).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(conn.readExactly(-1)).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(conn.readSome(0)).rejects.toBeInstanceOf(InvalidOptionError);
    expect(() => open({ readHighWaterMark: 0 })).toThrow(InvalidOptionError);
  });
});

describe("Connection read limits", () => {
  it("readLine accepts max bytes and fails past them, closing the connection", async () => {
    const ok = open();
    ok.transport.receive("12345\r\n123456\n");
    expect(text(await ok.conn.readLine(5))).toBe("12345");
    await expect(ok.conn.readLine(5)).rejects.toBeInstanceOf(ReadLimitExceededError);
    expect(ok.transport.disconnecting).toBe(true);
    const after = ok.conn.readLine();
    await expect(after).rejects.toBeInstanceOf(StreamClosedError);
    await expect(after).rejects.toMatchObject({ cause: expect.any(ReadLimitExceededError) as unknown });
  });

  it("readLine fails as soon as the buffer proves the line too long, without waiting for \\n", async () => {
    const { transport, conn } = open({}, false);
    const read = conn.readLine(4);
    transport.receive("12345"); // could still be "1234" + "5"? no: 5 bytes without \r at the end
    expect((await state(read)).status).toBe("pending"); // "12345" then "\r\n" is too long, but "1234\r" is not ruled out yet
    transport.receive("6");
    await expect(read).rejects.toMatchObject({ code: "WL_ERR_READ_LIMIT" });
    expect(transport.disconnecting).toBe(true);
  });

  it("readUntil counts the delimiter in max", async () => {
    const { transport, conn } = open();
    transport.receive("abc||abcd||");
    expect(text(await conn.readUntil("||", 5))).toBe("abc||");
    await expect(conn.readUntil("||", 5)).rejects.toBeInstanceOf(ReadLimitExceededError);
  });

  it("uses maxReadSize as the default limit", async () => {
    const { transport, conn } = open({ maxReadSize: 3 });
    transport.receive("abcd\n");
    await expect(conn.readLine()).rejects.toBeInstanceOf(ReadLimitExceededError);
  });
});

describe("Connection closing", () => {
  it("a read pending when the peer closes fails with the unread bytes in partial", async () => {
    const { transport, conn } = open();
    const read = conn.readExactly(10);
    transport.receive("abc");
    transport.reportConnectionLost(new ConnectionDone());
    const error = await read.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamClosedError);
    expect(text((error as StreamClosedError).partial)).toBe("abc");
    expect((error as StreamClosedError).cause).toBeInstanceOf(ConnectionDone);
    await conn.closed;
    expect(conn.closeReason).toBeInstanceOf(ConnectionDone);
  });

  it("bytes received before the close can still be read", async () => {
    const { transport, conn } = open();
    transport.receive("line\nrest");
    transport.reportConnectionLost(new ConnectionLost());
    expect(text(await conn.readLine())).toBe("line");
    const error = await conn.readLine().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "WL_ERR_STREAM_CLOSED" });
    expect(text((error as StreamClosedError).partial)).toBe("rest");
    expect((error as StreamClosedError).cause).toBeInstanceOf(ConnectionLost);
    await expect(conn.readSome()).rejects.toBeInstanceOf(StreamClosedError);
  });

  it("close() while a read is pending fails the read and resolves closed once the transport closes", async () => {
    const { transport, conn } = open({}, false);
    const read = conn.readLine();
    const closed = conn.close();
    await expect(read).rejects.toBeInstanceOf(StreamClosedError);
    expect(transport.disconnecting).toBe(true);
    expect(transport.aborted).toBe(false);
    expect((await state(closed)).status).toBe("pending");
    transport.reportConnectionLost(new ConnectionDone());
    await closed;
    await expect(conn.write("x")).rejects.toBeInstanceOf(StreamClosedError);
  });

  it("abort() aborts the transport", async () => {
    const { transport, conn } = open();
    await conn.abort();
    expect(transport.aborted).toBe(true);
    expect(conn.closeReason?.name).toBe("ConnectionAborted");
  });

  it("half-close: the peer's FIN ends reads, and writes go on", async () => {
    const { transport, conn } = open();
    transport.receive("last\n");
    transport.protocol!.readConnectionLost!();
    expect(text(await conn.readLine())).toBe("last");
    await expect(conn.readLine()).rejects.toBeInstanceOf(StreamClosedError);
    await conn.write("still writing");
    expect(transport.text()).toBe("still writing");
    conn.closeWrite();
    expect(transport.writeDisconnected).toBe(true);
  });
});

describe("Connection iteration", () => {
  it("for await yields chunks and ends at a clean close", async () => {
    const { transport, conn } = open();
    transport.receive("ab");
    transport.receive("cd");
    transport.reportConnectionLost(new ConnectionDone());
    const chunks: string[] = [];
    for await (const chunk of conn) chunks.push(text(chunk));
    expect(chunks).toEqual(["ab", "cd"]);
  });

  it("lines() yields each line and an unterminated last one", async () => {
    const { transport, conn } = open();
    transport.receive("a\r\nb\nc");
    transport.reportConnectionLost(new ConnectionDone());
    const lines: string[] = [];
    for await (const line of conn.lines()) lines.push(text(line));
    expect(lines).toEqual(["a", "b", "c"]);
  });

  it("iteration throws when the connection is lost uncleanly", async () => {
    const { transport, conn } = open();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const chunk of conn) seen.push(text(chunk));
    })();
    transport.receive("x");
    await drainMicrotasks();
    transport.reportConnectionLost(new ConnectionLost());
    await expect(loop).rejects.toBeInstanceOf(StreamClosedError);
    expect(seen).toEqual(["x"]);
  });

  it("breaking out of a loop leaves the connection open and readable", async () => {
    const { transport, conn } = open();
    transport.receive("head\nbody");
    for await (const line of conn.lines()) {
      expect(text(line)).toBe("head");
      break;
    }
    expect(transport.disconnecting).toBe(false);
    expect(text(await conn.readExactly(4))).toBe("body");
  });
});

describe("Connection backpressure", () => {
  it("pauses the transport when unread bytes reach the mark, and resumes once read", async () => {
    const { transport, conn } = open({ readHighWaterMark: 8 });
    transport.receive("1234\n");
    expect(transport.producerState).toBe("producing");
    transport.receive("5678\n");
    expect(transport.producerState).toBe("paused");
    expect(text(await conn.readLine())).toBe("1234");
    expect(transport.producerState).toBe("producing");
  });

  it("resumes while a read needs more than the mark", async () => {
    const { transport, conn } = open({ readHighWaterMark: 4 });
    transport.receive("123456");
    expect(transport.producerState).toBe("paused");
    const read = conn.readExactly(10);
    expect(transport.producerState).toBe("producing");
    transport.receive("7890");
    expect(text(await read)).toBe("1234567890");
  });

  it("write resolves at once below the mark, with one shared promise", async () => {
    const { transport, conn } = open();
    expect(transport.producer).toBe(transport.protocol);
    const a = conn.write("a");
    const b = conn.write(enc.encode("b"));
    expect(a).toBe(b);
    await a;
    expect(transport.text()).toBe("ab");
  });

  it("write stays pending while the transport is paused and resolves on resume", async () => {
    const { transport, conn } = open();
    transport.simulateBufferFull();
    const w1 = conn.write("x");
    const w2 = conn.write("y");
    expect(w1).toBe(w2);
    expect((await state(w1)).status).toBe("pending");
    expect(transport.text()).toBe("xy"); // handed over at once all the same
    transport.simulateBufferDrained();
    expect((await state(w1)).status).toBe("fulfilled");
    expect(conn.write("z")).not.toBe(w1);
  });

  it("a write waiting for drain fails if the connection closes, without an unhandled rejection", async () => {
    const { transport, conn } = open();
    transport.simulateBufferFull();
    const waiting = conn.write("x");
    void conn.write("not awaited");
    transport.reportConnectionLost(new ConnectionLost());
    await expect(waiting).rejects.toBeInstanceOf(StreamClosedError);
  });

  it("never buffers more than the mark plus one chunk with no read pending", () => {
    const { transport, conn } = open();
    const chunk = new Uint8Array(1000);
    // A transport that honours pauseProducing stops delivering; count what it would deliver.
    let delivered = 0;
    while (transport.producerState === "producing" && delivered < 10 * DEFAULT_READ_HIGH_WATER_MARK) {
      transport.receive(chunk);
      delivered += chunk.length;
    }
    expect(delivered).toBeGreaterThanOrEqual(DEFAULT_READ_HIGH_WATER_MARK);
    expect(conn.bufferedBytes).toBeLessThan(DEFAULT_READ_HIGH_WATER_MARK + chunk.length);
  });
});

describe("async echo over in-memory pairs", () => {
  it("an async line echo server and client agree on every line, under any chunking", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: fc.constantFrom("a", "b", "\r", " ", "ü"), maxLength: 30 }), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 0, max: 1000 }),
        async (lines, seed) => {
          const server = new StreamProtocol({}, (conn) => {
            void (async () => {
              for await (const line of conn.lines()) await conn.write(concat([line, enc.encode("\n")]));
              await conn.close();
            })();
          });
          const client = new StreamProtocol({ readHighWaterMark: 16 });
          const pump = connectPair(server, client, { chunking: seed % 2 === 0 ? byteByByte() : randomChunks(seed), highWaterMark: 32 });
          const conn = client.connection;
          const echoed: string[] = [];
          const reader = (async () => {
            for await (const line of conn.lines()) echoed.push(text(line));
          })();
          const writer = (async () => {
            for (const line of lines) await conn.write(`${line.replace(/\r/g, "")}\n`);
            conn.closeWrite();
          })();
          await pump.flushAsync();
          await writer;
          await reader;
          expect(echoed).toEqual(lines.map((l) => l.replace(/\r/g, "")));
          await conn.closed;
        },
      ),
      { numRuns: 40 },
    );
  });

  it("serve and dial over the MemoryReactor: echo, and the handler's end closes the connection", async () => {
    const reactor = new MemoryReactor();
    const port = await serve(reactor, "tcp:7000:interface=127.0.0.1", async (conn) => {
      const line = await conn.readLine();
      await conn.write(concat([enc.encode("echo: "), line, enc.encode("\n")]));
    });
    expect(port.getHost().port).toBe(7000);
    const dialing = dial(reactor, "tcp:127.0.0.1:7000");
    const pump = reactor.tcpClients[0]!.completePair();
    const conn = await dialing;
    await conn.write("hi\n");
    await pump.flushAsync();
    expect(text(await conn.readLine())).toBe("echo: hi");
    await conn.closed;
    expect(conn.closeReason).toBeInstanceOf(ConnectionDone);
  });

  it("a handler's rejection closes its connection and is reported through onError", async () => {
    const reactor = new MemoryReactor();
    const errors: unknown[] = [];
    const boom = new Error("handler failed");
    await serve(
      reactor,
      "tcp:7001",
      async (conn) => {
        await conn.readLine();
        throw boom;
      },
      { onError: (error) => errors.push(error) },
    );
    const { transport } = reactor.tcpServers[0]!.accept();
    transport.receive("x\n");
    await drainMicrotasks();
    expect(errors).toEqual([boom]);
    expect(transport.disconnecting).toBe(true);
  });

  it("by default a handler's error goes to the reactor's error hook, but a closed stream does not", async () => {
    const reactor = new MemoryReactor();
    const reported: Error[] = [];
    reactor.setErrorHook((error) => reported.push(error));
    const boom = new Error("handler failed");
    await serve(reactor, "tcp:7002", (conn) => {
      if (conn.transport.getPeer().port === 1) throw boom;
      return conn.readLine().then(() => undefined);
    });
    const listener = reactor.tcpServers[0]!;
    listener.accept({ peer: { type: "tcp", host: "10.0.0.9", port: 1 } });
    const other = listener.accept({ peer: { type: "tcp", host: "10.0.0.9", port: 2 } });
    other.transport.reportConnectionLost(new ConnectionLost());
    await drainMicrotasks();
    reactor.clock.advance(0);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toBeInstanceOf(UnhandledReactorError);
    expect(reported[0]!.cause).toBe(boom);
  });
});

describe("policies around the async face", () => {
  it("an idle timeout closes an idle async connection, failing its pending read", async () => {
    const reactor = new MemoryReactor();
    const outcomes: string[] = [];
    const handler = async (conn: Connection): Promise<void> => {
      await conn.write("hello\n");
      try {
        await conn.readLine();
      } catch (error) {
        outcomes.push((error as StreamClosedError).code);
        throw error;
      }
    };
    await reactor.listen("tcp:7010", withIdleTimeout(streamFactory(reactor, handler), { clock: reactor, timeoutMs: 1000 }));
    const { transport } = reactor.tcpServers[0]!.accept({ transport: new StringTransport({ disconnectOnClose: true }) });
    await reactor.clock.advanceAsync(999);
    expect(transport.disconnecting).toBe(false);
    await reactor.clock.advanceAsync(1);
    expect(transport.disconnecting).toBe(true);
    await drainMicrotasks();
    expect(outcomes).toEqual(["WL_ERR_STREAM_CLOSED"]);
    expect(transport.text()).toBe("hello\n");
  });

  it("a connection limit refuses async connections over it", async () => {
    const reactor = new MemoryReactor();
    const factory = limitConnections(streamFactory(reactor, (conn) => conn.closed), 1);
    await reactor.listen("tcp:7011", factory);
    const first = reactor.tcpServers[0]!.accept({ transport: new StringTransport({ disconnectOnClose: true }) });
    const second = reactor.tcpServers[0]!.accept();
    expect(first.protocol).not.toBe(null);
    expect(second.protocol).toBe(null);
    expect(second.transport.disconnecting).toBe(true);
    first.transport.reportConnectionLost(new ConnectionDone());
    expect(factory.connectionCount).toBe(0);
    expect(reactor.tcpServers[0]!.accept().protocol).not.toBe(null);
  });
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
