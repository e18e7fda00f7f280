/**
 * The conformance suite: the specification of what a protocol or an application can observe.
 * Each body is written once and runs on every world where the behaviour exists. A body asserts
 * only what the real thing guarantees (bytes, their order, how a connection ends, the order
 * of events), never timing or how bytes were cut into reads, so what passes on the fakes must
 * pass on real sockets. This file has the connection bodies; life-cycle.ts the reactor bodies;
 * graceful-shutdown.ts the HTTP and WebSocket servers' graceful shutdown.
 * The decisions behind them are in runtime/README.md ("The reactor's life cycle").
 *
 * Worlds: connectPair (a MemoryReactor joining each connect to its listener with an in-memory
 * pair, seeded chunking; two seeds), MemoryReactor (one reactor not yet run, for the reactor
 * bodies), SimNetwork (two simulated hosts, jittered latency, shuffled ties; two seeds), and
 * NodeReactor over TCP on 127.0.0.1, a unix socket and TLS (conformance.integration.test.ts).
 *
 * | behaviour (body)                                                   | pair | Memory | Sim | TCP | unix | TLS |
 * | ------------------------------------------------------------------ | ---- | ------ | --- | --- | ---- | --- |
 * | echo, Protocol style: every byte back, in order; ConnectionDone    |  x   |   =    |  x  |  x  |  x   |  x  |
 * | echo, async/await style (serve/dial)                               |  x   |   =    |  x  |  x  |  x   |  x  |
 * | a line protocol (LineReceiver), closed on request                  |  x   |   =    |  x  |  x  |  x   |  x  |
 * | close: bytes written before loseConnection all arrive first        |  x   |   =    |  x  |  x  |  x   |  x  |
 * | write after close: ignored; no second connectionLost               |  x   |   =    |  x  |  x  |  x   |  x  |
 * | half-close, client side (Protocol and async styles)                |  x   |   =    |  x  |  x  |  x   |  -a |
 * | half-close, server side first                                      |  x   |   =    |  x  |  x  |  x   |  -a |
 * | abort, client side: ConnectionAborted / the peer's reset or end    |  x   |   =    |  x  |  x  |  x   |  x  |
 * | abort, server side with bytes queued: a prefix arrives, then end   |  x   |   =    |  x  |  x  |  x   |  x  |
 * | getPeer/getHost: each end's peer is the other's host; same after   |  x   |   =    |  x  |  x  |  x   |  x  |
 * | push producer: paused by a reader that stops, resumed, all arrives |  x   |   =    |  x  |  x  |  x   |  x  |
 * | pull producer: asked one piece at a time, all arrives in order     |  x   |   =    |  x  |  x  |  x   |  x  |
 * | producers: second registration throws; stopProducing at the close  |  x   |   =    |  x  |  x  |  x   |  x  |
 * | connect refused: ConnectionRefusedError and the factory's hooks    |  x   |   =    |  x  |  x  |  x   |  x  |
 * | connect timeout: ConnectTimeoutError after the endpoint's timeout  |  x   |   =    |  x  |  -b |  -b  |  x  |
 * | reset during connect: ConnectionResetError                         |  x   |   =    |  -c |  -d |  -d  |  x  |
 * | shutdown closes connections at once: ConnectionLost / peer's end   |  x   |   =    |  x  |  x  |  x   |  x  |
 * | HTTP+WebSocket graceful shutdown under load (graceful-shutdown.ts) |  x   |   =    |  x  |  x  |  x   |  x  |
 * | the same, a request past the deadline is aborted then              |  x   |   =    |  x  |  x  |  x   |  x  |
 * | life cycle: startup phases, callWhenRunning, running              |  =   |   x    |  x  |  x  |  =   |  =  |
 * | life cycle: before-trigger Deferreds waited; triggers added/removed |  =   |   x    |  x  |  x  |  =   |  =  |
 * | life cycle: trigger errors reported at once, the event goes on     |  =   |   x    |  x  |  x  |  =   |  =  |
 * | life cycle: shutdown phases, ports and connections closed, Deferreds |  =   |   x    |  x  |  x  |  =   |  =  |
 * | life cycle: shutdown abandons a connect in progress (CancelledError) |  =   |   x    |  x  |  x  |  =   |  =  |
 * | life cycle: nothing new from during-shutdown on; dormant timers    |  =   |   x    |  x  |  x  |  =   |  =  |
 * | life cycle: runs once; a second stop() waits; stop during startup  |  =   |   x    |  x  |  x  |  =   |  =  |
 * | timers: equal times in scheduling order; negative = 0; arguments   |  =   |   x    |  x  |  x  |  =   |  =  |
 * | timers: cancel/reset/delay rules and their errors                  |  =   |   x    |  x  |  x  |  =   |  =  |
 * | timers: reset from now, delay from the due time; `time` follows    |  =   |   x    |  x  |  x  |  =   |  =  |
 * | timers: an error is reported, later calls still run                |  =   |   x    |  x  |  x  |  =   |  =  |
 * | UDP: whole datagrams with their sender; maxPacketSize; stop        |  =   |   x    |  x  |  x  |  -e  |  -e |
 *
 * x: runs there. =: that world is the same code as another column, where the body runs
 * (connectPair's reactor is a MemoryReactor, and a MemoryReactor's connections are
 * connectPair's; the unix and TLS worlds are the TCP world's NodeReactor, whose life cycle,
 * timers and UDP do not depend on the transport). 33 bodies (20 on connections, 13 on
 * reactors); 119 tests on the in-memory worlds, 73 on real sockets (before this table there
 * were 8 bodies).
 *
 * Deliberately not covered, and why:
 * - a: TLS server sockets are not half-open on NodeReactor (a FIN from the client closes the
 *   connection: Node would otherwise keep a socket whose peer left mid-handshake open until
 *   the handshake timeout), so there is no half-close to specify.
 * - b: on loopback every SYN is answered (by a listener or with a reset); a connect that never
 *   completes needs an address off the machine, which tests may not use. The timeout is the
 *   same `callLater` in `TcpConnector` that the TLS world exercises (a server that never
 *   answers the handshake).
 * - c: SimNetwork has no way to reset a connection between its SYN-ACK and the client's
 *   `connectionMade` yet.
 * - d: the kernel completes a TCP (or unix) handshake before any code runs; a reset after it is
 *   the reset of an established connection, which the abort bodies cover.
 * - e: there is no UDP over unix sockets or TLS.
 * - Timing (latencies, how a stream is cut into reads), the values of addresses beyond their
 *   agreement (the fakes make them up), error messages, DNS (a name lookup leaves the
 *   machine; SimNetwork's unknown names are its own tests'), TLS certificate checks (no fake
 *   has TLS; test/runtime/node covers them), processes, signals and threads (not reactor
 *   behaviour).
 */

import { afterEach, beforeEach, expect, it } from "vitest";

import {
  ConnectionAborted,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedError,
  ConnectionResetError,
  ConnectTimeoutError,
  ProducerRegisteredError,
} from "../../runtime/errors.js";
import { ClientFactory, Factory, Protocol } from "../../runtime/protocol.js";
import type { Address, Connector, PullProducer, PushProducer } from "../../runtime/protocol.js";
import { LineReceiver } from "../../runtime/protocols/line-receiver.js";
import { dial, streamFactory } from "../../runtime/stream.js";
import { connect, Recorder } from "./world.js";
import type { TransportKind, World, WorldMaker } from "./world.js";

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
export function conformanceSuite(makeWorld: WorldMaker, kind: TransportKind = "tcp"): void {
  /** TLS server sockets are not half-open: a FIN from the client closes the connection. */
  const halfOpen = kind !== "tls";
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

  it.skipIf(!halfOpen)("half-close, async/await style: closeWrite() ends the server's reads, and its reply still arrives", async () => {
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
      /** What was true when the transport first paused this producer. */
      firstPause: { sent: number; done: boolean } | null = null;
      pauseProducing(): void {
        this.paused = true;
        this.pauses++;
        this.firstPause ??= { sent: this.sent, done: this.done };
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
    // Paused long before it could send everything. (Over TLS, whose layers buffer more, the
    // writer may be resumed a few times before the reader's pause reaches it: it then finishes
    // its few extra chunks, which the paused reader still does not read.)
    expect(writer.firstPause).toEqual({ sent: writer.firstPause!.sent, done: false });
    expect(writer.firstPause!.sent).toBeLessThan(LIMIT);
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

  it("abort: the aborting side sees ConnectionAborted, the peer a reset (TCP) or the end of the stream (unix, TLS)", async () => {
    const servers = recording(() => new Recorder());
    const endpoint = await world.listen(servers.factory);
    const client = await connect(world, endpoint, () => new Recorder());
    await world.runUntil(() => servers.made.length === 1, "the server to accept");
    client.transport.abortConnection();
    await world.runUntil(() => client.reason !== null && servers.made[0]!.reason !== null, "both sides to be lost");
    expect(client.reason).toBeInstanceOf(ConnectionAborted);
    expectPeerOfAbort(servers.made[0]!.reason, world.kind);
  });

  it.skipIf(!halfOpen)("half-close: the server hears readConnectionLost, and its reply still arrives", async () => {
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

  it("addresses: each end's getPeer() is the other's getHost(), and both stay the same after the connection is lost", async () => {
    class Addresses extends Recorder {
      readonly seen: { when: string; host: Address; peer: Address }[] = [];
      private look(when: string): void {
        this.seen.push({ when, host: this.transport.getHost(), peer: this.transport.getPeer() });
      }
      override connectionMade(): void {
        super.connectionMade();
        this.look("made");
      }
      override connectionLost(reason: Error): void {
        super.connectionLost(reason);
        this.look("lost");
      }
    }
    /** Asks only once the connection is over, as a logging `connectionLost` does. */
    class AsksLate extends Recorder {
      late: { host: Address; peer: Address } | null = null;
      override connectionLost(reason: Error): void {
        super.connectionLost(reason);
        this.late = { host: this.transport.getHost(), peer: this.transport.getPeer() };
      }
    }
    const servers = recording(() => new Addresses());
    const endpoint = await world.listen(servers.factory);
    const client = await connect(world, endpoint, () => new Addresses());
    const late = await connect(world, endpoint, () => new AsksLate());
    await world.runUntil(() => servers.made.length === 2, "the server to accept both");
    client.transport.loseConnection();
    late.transport.loseConnection();
    await world.runUntil(() => servers.made.every((p) => p.reason !== null) && client.reason !== null && late.reason !== null, "every side to close");
    const server = servers.made[0]!;
    const [made, lost] = [client.seen[0]!, client.seen[1]!];
    const [serverMade, serverLost] = [server.seen[0]!, server.seen[1]!];
    expect(made.peer).toEqual(serverMade.host);
    expect(made.host).toEqual(serverMade.peer);
    if (world.kind === "unix") {
      expect(`unix:${made.peer.host}`).toBe(endpoint);
    } else {
      // The endpoint dialled names the server's host and port.
      expect(endpoint).toContain(`:${made.peer.host}:${made.peer.port}`);
      expect(made.host.port).toBeGreaterThan(0);
    }
    // After the close (in connectionLost, and later), the same addresses.
    expect(lost).toEqual({ ...made, when: "lost" });
    expect(serverLost).toEqual({ ...serverMade, when: "lost" });
    expect({ host: client.transport.getHost(), peer: client.transport.getPeer() }).toEqual({ host: made.host, peer: made.peer });
    expect(late.late!.peer).toEqual(made.peer);
    expect(late.late!.host.type).toBe(made.host.type);
    expect(client.connected).toBe(false);
  });

  it("write after close: writes after loseConnection, and every call after connectionLost, are ignored; the reason stays", async () => {
    class Closer extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.write("kept");
        this.transport.loseConnection();
        this.transport.write("dropped");
        this.transport.writeSequence(["dropped", "too"]);
        this.transport.loseConnection();
      }
      override connectionLost(reason: Error): void {
        super.connectionLost(reason);
        // The connection is over: none of these may throw, send, or call connectionLost again.
        this.transport.write("after");
        this.transport.writeSequence(["after"]);
        this.transport.loseWriteConnection();
        this.transport.loseConnection();
        this.transport.abortConnection();
      }
    }
    const servers = recording(() => new Recorder());
    const endpoint = await world.listen(servers.factory);
    const client = await connect(world, endpoint, () => new Closer());
    await world.runUntil(() => client.reason !== null && servers.made[0]?.reason != null, "both sides to close");
    client.transport.write("later");
    client.transport.abortConnection();
    const server = servers.made[0]!;
    expect(dec.decode(server.received)).toBe("kept");
    expect(client.reason).toBeInstanceOf(ConnectionDone);
    expect(client.events.filter((e) => e.startsWith("lost"))).toEqual(["lost:ConnectionDone"]);
    expect(server.events.filter((e) => e.startsWith("lost"))).toEqual(["lost:ConnectionDone"]);
  });

  it.skipIf(!halfOpen)("half-close the other way: the server shuts its write side first, the client reads the end, and its reply still arrives", async () => {
    class Announcer extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.write("last words");
        this.transport.loseWriteConnection();
      }
      override readConnectionLost(): void {
        this.events.push("readLost");
        this.transport.loseConnection();
      }
    }
    class Listener extends Recorder {
      override readConnectionLost(): void {
        this.events.push("readLost");
        this.transport.write(`heard: ${dec.decode(this.received)}`);
        this.transport.loseConnection();
      }
    }
    const servers = recording(() => new Announcer());
    const endpoint = await world.listen(servers.factory);
    const client = await connect(world, endpoint, () => new Listener());
    await world.runUntil(() => client.reason !== null && servers.made[0]?.reason != null, "the reply and both closes");
    const server = servers.made[0]!;
    expect(dec.decode(client.received)).toBe("last words");
    expect(client.events).toEqual(["made", "data", "readLost", "lost:ConnectionDone"]);
    expect(dec.decode(server.received)).toBe("heard: last words");
    expect(server.events.filter((e) => e === "readLost" || e.startsWith("lost:"))).toEqual(["readLost", "lost:ConnectionDone"]);
  });

  it("abort from the server side, with bytes still queued: ConnectionAborted there, and the client's connection ends", async () => {
    class Aborter extends Recorder {
      override dataReceived(data: Uint8Array): void {
        super.dataReceived(data);
        this.transport.write(pattern(0, 100_000));
        this.transport.abortConnection();
        this.transport.write("after the abort");
      }
    }
    const servers = recording(() => new Aborter());
    const endpoint = await world.listen(servers.factory);
    const client = await connect(world, endpoint, () => new Recorder());
    client.transport.write("go");
    await world.runUntil(() => client.reason !== null && servers.made[0]?.reason != null, "both sides to be lost");
    expect(servers.made[0]!.reason).toBeInstanceOf(ConnectionAborted);
    expect(servers.made[0]!.events.filter((e) => e.startsWith("lost"))).toHaveLength(1);
    // A reset that comes with bytes not read yet may read as the end of the stream (libuv).
    expect([ConnectionDone, ConnectionResetError].some((type) => client.reason instanceof type)).toBe(true);
    // Whatever of the queued bytes arrived is a prefix of them: an abort discards, never reorders.
    expect(client.received).toEqual(pattern(0, client.receivedLength));
  });

  it("a pull producer is asked for one piece at a time until it unregisters; every piece arrives, in order", async () => {
    const PIECES = 40;
    const SIZE = 3000;
    class Puller extends Recorder implements PullProducer {
      asked = 0;
      stopped = 0;
      override connectionMade(): void {
        super.connectionMade();
        this.transport.registerProducer(this, false);
      }
      resumeProducing(): void {
        this.asked++;
        this.transport.write(pattern(this.asked * SIZE - SIZE, SIZE));
        if (this.asked === PIECES) {
          this.transport.unregisterProducer();
          this.transport.loseConnection();
        }
      }
      stopProducing(): void {
        this.stopped++;
      }
    }
    const servers = recording(() => new Puller());
    const endpoint = await world.listen(servers.factory);
    const client = await connect(world, endpoint, () => new Recorder());
    await world.runUntil(() => client.reason !== null, "every piece and the close");
    const server = servers.made[0]!;
    expect(server.asked).toBe(PIECES);
    expect(server.stopped).toBe(0);
    expect(client.received).toEqual(pattern(0, PIECES * SIZE));
    expect(client.reason).toBeInstanceOf(ConnectionDone);
  });

  it("producers: a second registration throws ProducerRegisteredError; a producer still registered at the close gets stopProducing, once", async () => {
    class Holder extends Recorder implements PushProducer {
      stops = 0;
      secondRegistration: unknown = null;
      override connectionMade(): void {
        super.connectionMade();
        this.transport.registerProducer(this, true);
        try {
          this.transport.registerProducer(this, true);
        } catch (error) {
          this.secondRegistration = error;
        }
      }
      pauseProducing(): void {}
      resumeProducing(): void {}
      stopProducing(): void {
        this.stops++;
      }
    }
    const servers = recording(() => new Holder());
    const endpoint = await world.listen(servers.factory);
    const client = await connect(world, endpoint, () => new Recorder());
    await world.runUntil(() => servers.made.length === 1, "the server to accept");
    client.transport.loseConnection();
    await world.runUntil(() => servers.made[0]!.reason !== null && client.reason !== null, "both sides to close");
    const server = servers.made[0]!;
    expect(server.secondRegistration).toBeInstanceOf(ProducerRegisteredError);
    expect(server.stops).toBe(1);
    // Registered on a transport whose connection is over: stopped at once.
    const late = new Holder();
    server.transport.registerProducer(late, true);
    expect(late.stops).toBe(1);
  });

  it("connect refused: ConnectionRefusedError, and a ClientFactory hears startedConnecting, then clientConnectionFailed with it", async () => {
    const watcher = new Watcher();
    const error = await world.wait(failureOf(world.client.connect(await world.refusedEndpoint(), watcher)), "the refusal");
    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect(watcher.log).toEqual(["doStart", "startedConnecting", "failed:ConnectionRefusedError", "doStop"]);
  });

  it("connect timeout: ConnectTimeoutError once the endpoint's timeout passes with no answer", async (ctx) => {
    if (world.neverAnsweringEndpoint === null) ctx.skip();
    const watcher = new Watcher();
    const endpoint = await world.neverAnsweringEndpoint!();
    const error = await world.wait(failureOf(world.client.connect(endpoint, watcher)), "the timeout");
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect(watcher.log).toEqual(["doStart", "startedConnecting", "failed:ConnectTimeoutError", "doStop"]);
  });

  it("reset during connect: ConnectionResetError", async (ctx) => {
    if (world.resettingEndpoint === null) ctx.skip();
    const watcher = new Watcher();
    const endpoint = await world.resettingEndpoint!();
    const error = await world.wait(failureOf(world.client.connect(endpoint, watcher)), "the reset");
    expect(error).toBeInstanceOf(ConnectionResetError);
    expect(watcher.log).toEqual(["doStart", "startedConnecting", "failed:ConnectionResetError", "doStop"]);
  });

  it("a reactor's shutdown closes its connections at once: ConnectionLost on its side, the end of the stream on the other", async () => {
    const servers = recording(() => new Recorder());
    const endpoint = await world.listen(servers.factory);
    const client = await connect(world, endpoint, () => new Recorder());
    await world.runUntil(() => servers.made.length === 1, "the server to accept");
    client.transport.write("in flight");
    let during: string | null = null;
    world.server.addSystemEventTrigger("during", "shutdown", () => {
      during = servers.made[0]!.reason?.constructor.name ?? "still open";
    });
    await world.wait(world.server.stop(), "the server's reactor to stop");
    // Closed by the reactor's own work, before the during triggers ran.
    expect(during).toBe("ConnectionLost");
    expect(servers.made[0]!.reason).toBeInstanceOf(ConnectionLost);
    await world.runUntil(() => client.reason !== null, "the client's connection to end");
    // Its own reactor (the same one, on connectPair and NodeReactor) closed it, or the FIN did.
    expect([ConnectionLost, ConnectionDone, ConnectionResetError].some((type) => client.reason instanceof type)).toBe(true);
  });
}

/** What the peer of an aborted connection sees: a reset over TCP; unix and TLS sockets cannot send one. */
function expectPeerOfAbort(reason: Error | null, kind: TransportKind): void {
  if (kind === "tcp") {
    expect(reason).toBeInstanceOf(ConnectionResetError);
    expect((reason as ConnectionResetError).errno).toBe("ECONNRESET");
  } else {
    expect([ConnectionDone, ConnectionResetError].some((type) => reason instanceof type)).toBe(true);
  }
}

/** A Deferred's error, as a promise that resolves with it (and rejects if it succeeds). */
function failureOf(d: PromiseLike<unknown>): Promise<unknown> {
  return Promise.resolve(d).then(
    () => {
      throw new Error("expected a failure");
    },
    (error: unknown) => error,
  );
}

/** A ClientFactory that logs what it hears. */
class Watcher extends ClientFactory<Recorder> {
  readonly log: string[] = [];
  override buildProtocol(): Recorder {
    return new Recorder();
  }
  override doStart(): void {
    this.log.push("doStart");
  }
  override doStop(): void {
    this.log.push("doStop");
  }
  override startedConnecting(): void {
    this.log.push("startedConnecting");
  }
  override clientConnectionFailed(_connector: Connector, reason: Error): void {
    this.log.push(`failed:${reason.constructor.name}`);
  }
}
