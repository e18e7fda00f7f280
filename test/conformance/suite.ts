/**
 * The conformance suite: each test body is written once and runs in every world (connectPair,
 * SimNetwork, real TCP). A body asserts only what TCP guarantees (bytes, their order, how a
 * connection ends), never timing or how bytes were cut into reads, so what passes on the fakes
 * must pass on real sockets.
 */

import { afterEach, beforeEach, expect, it } from "vitest";

import { ConnectionAborted, ConnectionDone, ConnectionResetError } from "../../runtime/errors.js";
import { Factory, Protocol } from "../../runtime/protocol.js";
import type { PushProducer } from "../../runtime/protocol.js";
import { LineReceiver } from "../../runtime/protocols/line-receiver.js";
import { dial, streamFactory } from "../../runtime/stream.js";
import { connect } from "./world.js";
import type { World, WorldMaker } from "./world.js";

const dec = new TextDecoder();

/** Deterministic, position-dependent bytes: a reordering or a loss changes them. */
function pattern(offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const k = offset + i;
    out[i] = (k * 31 + (k >>> 8)) & 0xff;
  }
  return out;
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

/** Records what a connection hears. */
class Recorder extends Protocol {
  readonly chunks: Uint8Array[] = [];
  readonly events: string[] = [];
  reason: Error | null = null;
  override connectionMade(): void {
    this.events.push("made");
  }
  override dataReceived(data: Uint8Array): void {
    this.chunks.push(data.slice());
    if (this.events.at(-1) !== "data") this.events.push("data");
  }
  override connectionLost(reason: Error): void {
    this.reason = reason;
    this.events.push(`lost:${reason.constructor.name}`);
  }
  get received(): Uint8Array {
    return concat(this.chunks);
  }
  get receivedLength(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
}

class EchoServer extends Recorder {
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

/** Writes `pieces` on connect, and closes once it has read `expect` bytes back. */
class EchoClient extends Recorder {
  constructor(
    private readonly pieces: readonly Uint8Array[],
    private readonly expectLength: number,
  ) {
    super();
  }
  override connectionMade(): void {
    super.connectionMade();
    this.transport.writeSequence(this.pieces.slice(0, 1));
    for (const p of this.pieces.slice(1)) this.transport.write(p);
  }
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    if (this.receivedLength >= this.expectLength) this.transport.loseConnection();
  }
}

/** Keeps every protocol a factory builds, in order. */
function recording<P extends Protocol>(make: () => P): { factory: Factory<P>; made: P[] } {
  const made: P[] = [];
  return {
    made,
    factory: Factory.forProtocol(() => {
      const p = make();
      made.push(p);
      return p;
    }),
  };
}

/**
 * Defines the suite's tests in the current `describe`, each on a fresh world from `makeWorld`.
 *
 * @param makeWorld - builds the world for one test.
 */
export function conformanceSuite(makeWorld: WorldMaker): void {
  let world: World;
  beforeEach(async () => {
    world = await makeWorld();
  });
  afterEach(async () => {
    await world.teardown();
  });

  it("echo, Protocol callback style: every byte comes back in order; both sides end with ConnectionDone", async () => {
    const servers = recording(() => new EchoServer());
    const endpoint = await world.listen(servers.factory);
    const pieces = [pattern(0, 1), pattern(1, 1000), pattern(1001, 30_000), pattern(31_001, 7)];
    const total = 31_008;
    const client = await connect(world, endpoint, () => new EchoClient(pieces, total));
    await world.runUntil(() => client.reason !== null && servers.made[0]?.reason != null, "both sides to close");
    expect(client.received).toEqual(pattern(0, total));
    expect(servers.made).toHaveLength(1);
    expect(servers.made[0]!.received).toEqual(pattern(0, total));
    expect(client.reason).toBeInstanceOf(ConnectionDone);
    expect(servers.made[0]!.reason).toBeInstanceOf(ConnectionDone);
  });

  it("echo, async/await style (serve/dial): what is written is read back exactly; closing ends the server's loop", async () => {
    let handlerDone = false;
    const endpoint = await world.listen(
      streamFactory(world.server, async (conn) => {
        for await (const chunk of conn) await conn.write(chunk);
        handlerDone = true;
      }),
    );
    const conn = await world.wait(dial(world.client, endpoint), "dial");
    const exchange = async (): Promise<string[]> => {
      const replies: string[] = [];
      for (const size of [1, 10, 5000, 40_000]) {
        await conn.write(pattern(size, size));
        const back = await conn.readExactly(size);
        replies.push(back.length === size && Buffer.from(back).equals(Buffer.from(pattern(size, size))) ? "ok" : "corrupt");
      }
      await conn.write("line one\nline two\n");
      replies.push(dec.decode(await conn.readLine()), dec.decode(await conn.readLine()));
      await conn.close();
      return replies;
    };
    expect(await world.wait(exchange(), "the async exchange")).toEqual(["ok", "ok", "ok", "ok", "line one", "line two"]);
    await world.runUntil(() => handlerDone, "the server's handler to finish");
    await world.wait(conn.closed, "the client connection to close");
    expect(conn.closeReason).toBeInstanceOf(ConnectionDone);
  });

  it("half-close, async/await style: closeWrite() ends the server's reads, and its reply still arrives", async () => {
    const endpoint = await world.listen(
      streamFactory(world.server, async (conn) => {
        const parts: string[] = [];
        for await (const chunk of conn) parts.push(dec.decode(chunk));
        const request = parts.join("");
        await conn.write(`got ${request.length} bytes: ${request.toUpperCase()}`);
      }),
    );
    const conn = await world.wait(dial(world.client, endpoint), "dial");
    const talk = async (): Promise<string> => {
      await conn.write("what ");
      await conn.write("time is it");
      conn.closeWrite();
      const parts: string[] = [];
      for await (const chunk of conn) parts.push(dec.decode(chunk));
      return parts.join("");
    };
    expect(await world.wait(talk(), "the reply")).toBe("got 15 bytes: WHAT TIME IS IT");
    await world.wait(conn.closed, "both halves to close");
    expect(conn.closeReason).toBeInstanceOf(ConnectionDone);
  });

  it("a line protocol (LineReceiver): every line answered in order, then closed on request", async () => {
    class Server extends LineReceiver {
      override lineReceived(line: Buffer): void {
        const text = line.toString("latin1");
        if (text === "quit") {
          this.sendLine("bye");
          this.transport.loseConnection();
        } else {
          this.sendLine(`echo: ${text}`);
        }
      }
    }
    class Client extends LineReceiver {
      readonly lines: string[] = [];
      reason: Error | null = null;
      constructor(private readonly toSend: readonly string[]) {
        super();
      }
      override connectionMade(): void {
        for (const l of this.toSend) this.sendLine(l);
      }
      override lineReceived(line: Buffer): void {
        this.lines.push(line.toString("latin1"));
      }
      override connectionLost(reason: Error): void {
        this.reason = reason;
      }
    }
    const endpoint = await world.listen(Factory.forProtocol(() => new Server()));
    const sent = ["hello", "", "x".repeat(3000), "tab\there", "last", "quit"];
    const client = await connect(world, endpoint, () => new Client(sent));
    await world.runUntil(() => client.reason !== null, "the server to close");
    expect(client.lines).toEqual(["echo: hello", "echo: ", `echo: ${"x".repeat(3000)}`, "echo: tab\there", "echo: last", "bye"]);
    expect(client.reason).toBeInstanceOf(ConnectionDone);
    expect(client.failure).toBeNull();
  });

  it("backpressure: a reader that stops reading pauses the writer's push producer; resuming delivers everything", async () => {
    const CHUNK = 64 * 1024;
    // Real sockets buffer megabytes in the kernel before the writer's own buffer fills.
    const LIMIT = 64 * 1024 * 1024;
    const AFTER_PAUSE = 4;
    class Flood extends Protocol implements PushProducer {
      sent = 0;
      pauses = 0;
      resumes = 0;
      paused = false;
      done = false;
      private extra = AFTER_PAUSE;
      override connectionMade(): void {
        this.transport.registerProducer(this, true);
        this.produce();
      }
      pauseProducing(): void {
        this.paused = true;
        this.pauses++;
      }
      resumeProducing(): void {
        this.paused = false;
        this.resumes++;
        this.produce();
      }
      stopProducing(): void {
        this.done = true;
      }
      private produce(): void {
        while (!this.paused && !this.done) {
          if ((this.pauses > 0 && this.extra-- <= 0) || this.sent >= LIMIT) {
            this.done = true;
            this.transport.unregisterProducer();
            this.transport.loseConnection();
            return;
          }
          this.transport.write(pattern(this.sent, CHUNK));
          this.sent += CHUNK;
        }
      }
    }
    class PausedReader extends Protocol {
      received = 0;
      ok = true;
      reason: Error | null = null;
      override connectionMade(): void {
        this.transport.pauseProducing();
      }
      override dataReceived(data: Uint8Array): void {
        // Check each byte against the pattern at its stream offset, without keeping them.
        for (let i = 0; i < data.length; i += 997) {
          const k = this.received + i;
          if (data[i] !== ((k * 31 + (k >>> 8)) & 0xff)) this.ok = false;
        }
        this.received += data.length;
      }
      override connectionLost(reason: Error): void {
        this.reason = reason;
      }
    }
    const writers = recording(() => new Flood());
    const endpoint = await world.listen(writers.factory);
    const reader = await connect(world, endpoint, () => new PausedReader());
    await world.runUntil(() => writers.made[0] !== undefined && (writers.made[0].pauses > 0 || writers.made[0].done), "the writer to be paused");
    const writer = writers.made[0]!;
    expect(writer.pauses).toBeGreaterThanOrEqual(1);
    expect(writer.done).toBe(false);
    expect(reader.received).toBeLessThan(writer.sent);
    reader.transport.resumeProducing();
    await world.runUntil(() => reader.reason !== null, "every byte to arrive and the writer to close");
    expect(writer.done).toBe(true);
    expect(writer.resumes).toBeGreaterThanOrEqual(1);
    expect(reader.received).toBe(writer.sent);
    expect(reader.ok).toBe(true);
    expect(reader.reason).toBeInstanceOf(ConnectionDone);
  });

  it("close: bytes written before loseConnection are all delivered before the peer's ConnectionDone", async () => {
    class WriteAndClose extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.write(pattern(0, 100));
        this.transport.write(pattern(100, 20_000));
        this.transport.write("");
        this.transport.write(pattern(20_100, 1));
        this.transport.loseConnection();
        this.transport.write("ignored after loseConnection");
      }
    }
    const servers = recording(() => new Recorder());
    const endpoint = await world.listen(servers.factory);
    const client = await connect(world, endpoint, () => new WriteAndClose());
    await world.runUntil(() => servers.made[0]?.reason != null && client.reason !== null, "both sides to close");
    const server = servers.made[0]!;
    expect(server.received).toEqual(pattern(0, 20_101));
    expect(server.reason).toBeInstanceOf(ConnectionDone);
    expect(client.reason).toBeInstanceOf(ConnectionDone);
    expect(server.events[0]).toBe("made");
    expect(server.events.at(-1)).toBe("lost:ConnectionDone");
  });

  it("abort: the aborting side sees ConnectionAborted, the peer ConnectionResetError", async () => {
    const servers = recording(() => new Recorder());
    const endpoint = await world.listen(servers.factory);
    const client = await connect(world, endpoint, () => new Recorder());
    await world.runUntil(() => servers.made.length === 1, "the server to accept");
    client.transport.abortConnection();
    await world.runUntil(() => client.reason !== null && servers.made[0]!.reason !== null, "both sides to be lost");
    expect(client.reason).toBeInstanceOf(ConnectionAborted);
    expect(servers.made[0]!.reason).toBeInstanceOf(ConnectionResetError);
    expect((servers.made[0]!.reason as ConnectionResetError).errno).toBe("ECONNRESET");
  });

  it("half-close: the server hears readConnectionLost, and its reply still arrives", async () => {
    class Replier extends Recorder {
      override readConnectionLost(): void {
        this.events.push("readLost");
        const request = dec.decode(this.received);
        this.transport.write(`got ${request.length} bytes: ${request.toUpperCase()}`);
        this.transport.loseConnection();
      }
    }
    class Asker extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.write("what ");
        this.transport.write("time is it");
        this.transport.loseWriteConnection();
        this.transport.write("ignored after the half-close");
      }
      override readConnectionLost(): void {
        this.events.push("readLost");
      }
    }
    const servers = recording(() => new Replier());
    const endpoint = await world.listen(servers.factory);
    const client = await connect(world, endpoint, () => new Asker());
    await world.runUntil(() => client.reason !== null && servers.made[0]?.reason != null, "the reply and both closes");
    const server = servers.made[0]!;
    expect(dec.decode(server.received)).toBe("what time is it");
    expect(server.events).toEqual(["made", "data", "readLost", "lost:ConnectionDone"]);
    expect(dec.decode(client.received)).toBe("got 15 bytes: WHAT TIME IS IT");
    // The client reads the server's FIN (EOF) before its connection is over.
    expect(client.events.filter((e) => e === "readLost" || e.startsWith("lost:"))).toEqual(["readLost", "lost:ConnectionDone"]);
    expect(client.reason).toBeInstanceOf(ConnectionDone);
  });
}
