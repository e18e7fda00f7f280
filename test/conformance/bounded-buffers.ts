/**
 * The conformance suite's bounded-buffers bodies: a peer that writes and never reads must not
 * grow the server without bound, in any world. Each body floods the server from a client whose
 * reading is paused, waits until the server has stopped (or dropped the client), asserts that
 * the server's buffered bytes stayed under the bound the whole time, then lets the client read
 * and checks that every byte the server accepted to send arrives, in order.
 *
 * Like suite.ts, a body asserts nothing about timing or how bytes were cut into reads. The
 * floods are sized past what the kernel's socket buffers absorb on loopback (about 4 MB with
 * Linux's default `tcp_wmem`, measured: a 16 MiB echo flood, 22 MB of HTTP responses and 8 MB
 * of pongs each leave at least twice that), so that on real TCP the server's own buffer is
 * what fills.
 */

import { afterEach, beforeEach, expect, it } from "vitest";

import { WebSocketBufferFullError, WriteBufferOverflowError } from "../../runtime/errors.js";
import { Factory, Protocol } from "../../runtime/protocol.js";
import type { PushProducer, Transport } from "../../runtime/protocol.js";
import { DEFAULT_MAX_PENDING_RESPONSE_BYTES, HttpServerFactory } from "../../runtime/protocols/http/http-server-factory.js";
import type { HttpServerProtocol } from "../../runtime/protocols/http/http-server-protocol.js";
import { ResponseParser } from "../../runtime/protocols/http/response-parser.js";
import { FrameParser } from "../../runtime/protocols/websocket/frame-parser.js";
import { FrameWriter } from "../../runtime/protocols/websocket/frame-writer.js";
import { acceptUpgradeRequest } from "../../runtime/protocols/websocket/handshake.js";
import { WebSocketProtocol } from "../../runtime/protocols/websocket/websocket-protocol.js";
import type { Clock, DelayedCall } from "../../runtime/reactor.js";
import { streamFactory } from "../../runtime/stream.js";
import { connect, WORLD_HIGH_WATER_MARK, WORLD_MAX_WRITE_BUFFER_SIZE } from "./world.js";
import type { World, WorldMaker } from "./world.js";

/** The most bytes one read hands a protocol: 64 KiB on Node sockets, less on the fakes. */
const ONE_READ = 64 * 1024;
/** What the HTTP server queues during one dispatch before writing it (its MAX_BATCH_BYTES). */
const HTTP_BATCH = 16 * 1024;

const latin1 = new TextDecoder("latin1");

/** The byte at stream offset `k` of the test pattern: a reordering or a loss changes it. */
function patternByte(k: number): number {
  return (k * 31 + (k >>> 8)) & 0xff;
}

function pattern(offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = patternByte(offset + i);
  return out;
}

/** True while a transport holds reading until its write buffer drains (TcpTransport, MemoryTransport). */
function readsHeld(transport: Transport): boolean {
  return (transport as Partial<{ readsHeld: boolean }>).readsHeld === true;
}

/** Keeps every protocol a factory builds. */
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
 * A client that does not read until told to, and writes what `next()` gives as fast as its
 * own transport takes it (a push producer, so the client's buffer stays bounded too).
 */
class Flooder extends Protocol implements PushProducer {
  readonly chunks: Uint8Array[] = [];
  received = 0;
  reason: Error | null = null;
  private paused = false;
  private done = false;

  constructor(private readonly next: () => Uint8Array | null) {
    super();
  }

  override connectionMade(): void {
    this.transport.pauseProducing();
    this.transport.registerProducer(this, true);
    this.produce();
  }

  override dataReceived(data: Uint8Array): void {
    this.received += data.length;
    this.onData(data);
  }

  /** What to do with received bytes; keeps them by default. */
  onData(data: Uint8Array): void {
    this.chunks.push(data.slice());
  }

  override connectionLost(reason: Error): void {
    this.reason = reason;
  }

  /** Starts reading. */
  read(): void {
    this.transport.resumeProducing();
  }

  pauseProducing(): void {
    this.paused = true;
  }

  resumeProducing(): void {
    this.paused = false;
    this.produce();
  }

  stopProducing(): void {
    this.done = true;
  }

  private produce(): void {
    while (!this.paused && !this.done) {
      const piece = this.next();
      if (piece === null) {
        this.done = true;
        this.transport.unregisterProducer();
        return;
      }
      this.transport.write(piece);
    }
  }
}

/** Hands out `total` bytes of the pattern, `size` at a time. */
function patternPieces(total: number, size: number): () => Uint8Array | null {
  let at = 0;
  return () => {
    if (at >= total) return null;
    const n = Math.min(size, total - at);
    const piece = pattern(at, n);
    at += n;
    return piece;
  };
}

/** A server that echoes and records the largest write buffer it ever had. */
class BoundedEcho extends Protocol {
  received = 0;
  maxBuffered = 0;
  reason: Error | null = null;
  override dataReceived(data: Uint8Array): void {
    this.received += data.length;
    this.transport.write(data);
    this.maxBuffered = Math.max(this.maxBuffered, this.transport.writeBufferSize);
  }
  override connectionLost(reason: Error): void {
    this.reason = reason;
  }
}

/** Checks received bytes against the pattern, without keeping them. */
function patternChecker(): { check(data: Uint8Array): void; readonly at: number; readonly ok: boolean } {
  let at = 0;
  let ok = true;
  return {
    check(data) {
      for (let i = 0; i < data.length; i++) if (data[i] !== patternByte(at + i)) ok = false;
      at += data.length;
    },
    get at() {
      return at;
    },
    get ok() {
      return ok;
    },
  };
}

const UPGRADE_REQUEST =
  "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/** An HTTP server whose every request becomes a WebSocket built by `make`. */
function webSocketServer<W extends WebSocketProtocol>(clock: Clock, make: () => W): { factory: HttpServerFactory; sockets: W[] } {
  const sockets: W[] = [];
  const factory = new HttpServerFactory(clock, (request, response) => {
    const handshake = acceptUpgradeRequest({ method: request.method, versionMajor: 1, versionMinor: request.versionMinor, headers: request.headers }, { perMessageDeflate: false });
    const ws = make();
    sockets.push(ws);
    const fields: string[] = [];
    for (const [name, value] of handshake.responseHeaders) fields.push(name, value);
    response.upgrade(ws, fields);
  });
  return { factory, sockets };
}

/** Reads a server's WebSocket stream as a client does: the 101 head, then frames. */
function webSocketReader(handlers: { onMessage?: (data: Uint8Array) => void; onPong?: (data: Uint8Array) => void; onClose?: (code: number) => void }): (data: Uint8Array) => void {
  let head = Buffer.alloc(0);
  let open = false;
  const parser = new FrameParser(
    { role: "client" },
    {
      onMessage: (data) => handlers.onMessage?.(typeof data === "string" ? new TextEncoder().encode(data) : data),
      onPing: () => undefined,
      onPong: (data) => handlers.onPong?.(data),
      onClose: (code) => handlers.onClose?.(code),
      onError: (error) => {
        throw error;
      },
    },
  );
  return (data) => {
    if (open) {
      parser.feed(data);
      return;
    }
    head = Buffer.concat([head, data]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) return;
    expect(head.subarray(0, 13).toString("latin1")).toBe("HTTP/1.1 101 ");
    open = true;
    if (head.length > end + 4) parser.feed(head.subarray(end + 4));
  };
}

/** A masked ping from a client, 125 bytes of payload starting with its sequence number. */
function maskedPing(seq: number): Uint8Array {
  const frame = new Uint8Array(6 + 125);
  frame[0] = 0x89;
  frame[1] = 0x80 | 125;
  // A zero masking key is a valid key: the payload goes out as it is.
  const payload = new TextEncoder().encode(String(seq).padStart(10, "0"));
  frame.set(payload, 6);
  frame.fill(0x2e, 6 + payload.length);
  return frame;
}

/**
 * Defines the bounded-buffers tests in the current `describe`, each on a fresh world.
 *
 * @param makeWorld - builds the world for one test.
 */
export function boundedBuffersSuite(makeWorld: WorldMaker): void {
  let world: World;
  beforeEach(async () => {
    world = await makeWorld();
  });
  afterEach(async () => {
    await world.teardown();
  });

  it("echo, callback style (no producer), to a client that does not read: the server stops reading at its high-water mark; then every byte comes back in order", async () => {
    const TOTAL = 16 * 1024 * 1024;
    const servers = recording(() => new BoundedEcho());
    const endpoint = await world.listen(servers.factory);
    const checker = patternChecker();
    const client = await connect(world, endpoint, () => {
      const f = new Flooder(patternPieces(TOTAL, 4096));
      f.onData = (data) => checker.check(data);
      return f;
    });
    await world.runUntil(() => servers.made[0] !== undefined && readsHeld(servers.made[0].transport), "the server to stop reading");
    const server = servers.made[0]!;
    expect(server.received).toBeLessThan(TOTAL);
    expect(server.maxBuffered).toBeLessThanOrEqual(WORLD_HIGH_WATER_MARK + ONE_READ);
    client.read();
    await world.runUntil(() => client.received === TOTAL, "every byte to come back");
    expect(checker.ok).toBe(true);
    expect(server.maxBuffered).toBeLessThanOrEqual(WORLD_HIGH_WATER_MARK + ONE_READ);
    client.transport.loseConnection();
    await world.runUntil(() => client.reason !== null && server.reason !== null, "both sides to close");
  });

  it("echo, async/await style, to a client that does not read: `await write()` holds the server's buffers; then every byte comes back in order", async () => {
    const TOTAL = 16 * 1024 * 1024;
    let maxWrite = 0;
    let maxRead = 0;
    let writePaused = false;
    const endpoint = await world.listen(
      streamFactory(world.server, async (conn) => {
        for await (const chunk of conn) {
          maxRead = Math.max(maxRead, conn.bufferedBytes);
          const written = conn.write(chunk);
          maxWrite = Math.max(maxWrite, conn.transport.writeBufferSize);
          writePaused = conn.transport.writeBufferSize >= conn.transport.highWaterMark;
          await written;
        }
      }),
    );
    const checker = patternChecker();
    const client = await connect(world, endpoint, () => {
      const f = new Flooder(patternPieces(TOTAL, 4096));
      f.onData = (data) => checker.check(data);
      return f;
    });
    await world.runUntil(() => writePaused, "the server's writes to wait");
    expect(maxWrite).toBeLessThanOrEqual(WORLD_HIGH_WATER_MARK + ONE_READ);
    client.read();
    await world.runUntil(() => client.received === TOTAL, "every byte to come back");
    expect(checker.ok).toBe(true);
    expect(maxWrite).toBeLessThanOrEqual(WORLD_HIGH_WATER_MARK + ONE_READ);
    expect(maxRead).toBeLessThanOrEqual(64 * 1024 + ONE_READ);
    client.transport.loseConnection();
    await world.runUntil(() => client.reason !== null, "the client to close");
  });

  it("HTTP, a client that pipelines requests and does not read: the server stops taking requests at its bound; then every response arrives in order", async () => {
    const REQUESTS = 20_000;
    const BODY = "b".repeat(1000);
    let handled = 0;
    let maxPending = 0;
    let server: HttpServerProtocol | null = null;
    const factory = new HttpServerFactory(world.server, (request, response) => {
      handled++;
      if (server !== null) maxPending = Math.max(maxPending, server.pendingResponseBytes);
      response.end(`${request.path} ${BODY}`);
    });
    const build = factory.buildProtocol.bind(factory);
    factory.buildProtocol = (addr) => (server = build(addr));
    const endpoint = await world.listen(factory);
    let sent = 0;
    let body = "";
    let answered = 0;
    let mismatch: string | null = null;
    const parser = new ResponseParser({
      onResponseHead: () => {
        body = "";
      },
      onBody: (chunk) => {
        body += latin1.decode(chunk);
      },
      onResponseComplete: () => {
        if (body !== `/${answered} ${BODY}`) mismatch ??= `response #${answered} was ${body.slice(0, 20)}`;
        answered++;
      },
      onError: (error) => {
        mismatch ??= error.message;
      },
    });
    const client = await connect(world, endpoint, () => {
      const f = new Flooder(() => {
        if (sent === REQUESTS) return null;
        let batch = "";
        for (let i = 0; i < 100 && sent < REQUESTS; i++) batch += `GET /${sent++} HTTP/1.1\r\nHost: x\r\n\r\n`;
        return new TextEncoder().encode(batch);
      });
      f.onData = (data) => parser.execute(data);
      return f;
    });
    await world.runUntil(() => server?.waitingForDrain === true || handled === REQUESTS, "the server to stop taking requests");
    const held = server as unknown as HttpServerProtocol;
    const bound = Math.max(DEFAULT_MAX_PENDING_RESPONSE_BYTES, WORLD_HIGH_WATER_MARK) + HTTP_BATCH + 2 * BODY.length;
    expect(handled).toBeLessThan(REQUESTS);
    expect(held.waitingForDrain).toBe(true);
    expect(held.pendingResponseBytes).toBeLessThanOrEqual(bound);
    expect(held.unparsedBytes).toBeLessThanOrEqual(ONE_READ);
    client.read();
    await world.runUntil(() => answered === REQUESTS || mismatch !== null, "every response");
    expect(mismatch).toBeNull();
    expect(handled).toBe(REQUESTS);
    expect(maxPending).toBeLessThanOrEqual(bound);
    client.transport.loseConnection();
    await world.runUntil(() => client.reason !== null, "the client to close");
  });

  it("WebSocket ping flood from a client that does not read the pongs: the server stops reading frames; then every pong arrives in order", async () => {
    const PINGS = 64_000;
    let pings = 0;
    let maxBuffered = 0;
    class PingCounter extends WebSocketProtocol {
      override onPing(): void {
        pings++;
        maxBuffered = Math.max(maxBuffered, this.bufferedAmount);
      }
    }
    const { factory, sockets } = webSocketServer(world.server, () => new PingCounter({ role: "server", clock: world.server }));
    const endpoint = await world.listen(factory);
    let sent = -1;
    let pongs = 0;
    let outOfOrder = false;
    const read = webSocketReader({
      onPong: (data) => {
        if (latin1.decode(data.subarray(0, 10)) !== String(pongs).padStart(10, "0")) outOfOrder = true;
        pongs++;
      },
    });
    const client = await connect(world, endpoint, () => {
      const f = new Flooder(() => {
        if (sent === -1) {
          sent = 0;
          return new TextEncoder().encode(UPGRADE_REQUEST);
        }
        if (sent === PINGS) return null;
        const frames: Uint8Array[] = [];
        for (let i = 0; i < 32 && sent < PINGS; i++) frames.push(maskedPing(sent++));
        return Buffer.concat(frames);
      });
      f.onData = read;
      return f;
    });
    await world.runUntil(() => (sockets[0]?.readingPaused === true && sockets[0].bufferedAmount >= WORLD_HIGH_WATER_MARK) || pings === PINGS, "the server to stop reading");
    expect(pings).toBeLessThan(PINGS);
    // A pong is 127 bytes; reading stops at the frame whose pong crossed the mark.
    expect(maxBuffered).toBeLessThanOrEqual(WORLD_HIGH_WATER_MARK + 1024);
    client.read();
    await world.runUntil(() => pongs === PINGS, "every pong");
    expect(outOfOrder).toBe(false);
    expect(maxBuffered).toBeLessThanOrEqual(WORLD_HIGH_WATER_MARK + 1024);
    client.transport.loseConnection();
    await world.runUntil(() => client.reason !== null && sockets[0]!.readyState === "closed", "both sides to close");
  });

  it("WebSocket broadcast to a subscriber that does not read: dropped with 1013 past maxBufferedAmount; what was sent before arrives in order", async () => {
    const LIMIT = 256 * 1024;
    const MESSAGE = 1024;
    const { factory, sockets } = webSocketServer(world.server, () => new WebSocketProtocol({ role: "server", clock: world.server, maxBufferedAmount: LIMIT }));
    const endpoint = await world.listen(factory);
    const received: number[] = [];
    let closeCode = 0;
    const read = webSocketReader({
      onMessage: (data) => received.push(Number(latin1.decode(data.subarray(0, 10)))),
      onClose: (code) => {
        closeCode = code;
      },
    });
    let upgradeSent = false;
    const client = await connect(world, endpoint, () => {
      const f = new Flooder(() => {
        if (upgradeSent) return null;
        upgradeSent = true;
        return new TextEncoder().encode(UPGRADE_REQUEST);
      });
      f.onData = read;
      return f;
    });
    await world.runUntil(() => sockets[0]?.readyState === "open", "the subscriber to be open");
    const subscriber = sockets[0]!;
    let accepted = 0;
    let maxBuffered = 0;
    // A publisher that does not wait for anyone: the server is what must bound the backlog.
    for (let batch = 0; batch < 100_000; batch++) {
      for (let i = 0; i < 64 && subscriber.failure === null; i++) {
        maxBuffered = Math.max(maxBuffered, subscriber.bufferedAmount);
        const data = new Uint8Array(MESSAGE).fill(0x2e);
        data.set(new TextEncoder().encode(String(accepted).padStart(10, "0")));
        subscriber.sendPrepared(FrameWriter.prepare(data));
        if (subscriber.failure === null) accepted++;
      }
      // Once failed, the world must not idle on: the close timeout would abort the backlog.
      if (subscriber.failure !== null) break;
      await world.wait(Promise.resolve(), "a turn of the world");
    }
    expect(subscriber.failure).toBeInstanceOf(WebSocketBufferFullError);
    expect((subscriber.failure as WebSocketBufferFullError).closeCode).toBe(1013);
    expect(maxBuffered).toBeLessThanOrEqual(LIMIT + MESSAGE + 16);
    expect(subscriber.bufferedAmount).toBeLessThanOrEqual(LIMIT + 2 * MESSAGE);
    client.read();
    await world.runUntil(() => closeCode !== 0 && client.reason !== null, "the backlog, the close frame and the close");
    expect(received).toEqual(Array.from({ length: accepted }, (_, i) => i));
    expect(closeCode).toBe(1013);
  });

  it("a writer that does not wait for its reader (a timer), to a client that does not read: aborted with WriteBufferOverflowError past maxWriteBufferSize", async () => {
    const CHUNK = 64 * 1024;
    class TimedFlood extends Protocol {
      reason: Error | null = null;
      maxBuffered = 0;
      private timer: DelayedCall | null = null;
      override connectionMade(): void {
        this.tick();
      }
      override connectionLost(reason: Error): void {
        this.reason = reason;
        if (this.timer?.active() === true) this.timer.cancel();
      }
      private tick(): void {
        this.timer = null;
        for (let i = 0; i < 16 && !this.transport.disconnecting; i++) {
          this.maxBuffered = Math.max(this.maxBuffered, this.transport.writeBufferSize);
          this.transport.write(pattern(0, CHUNK));
        }
        if (this.connected && !this.transport.disconnecting) this.timer = world.server.callLater(1, () => this.tick());
      }
    }
    const servers = recording(() => new TimedFlood());
    const endpoint = await world.listen(servers.factory);
    const client = await connect(world, endpoint, () => new Flooder(() => null));
    await world.runUntil(() => servers.made[0]?.reason != null, "the server's connection to be aborted");
    const server = servers.made[0]!;
    expect(server.reason).toBeInstanceOf(WriteBufferOverflowError);
    expect((server.reason as WriteBufferOverflowError).limit).toBe(WORLD_MAX_WRITE_BUFFER_SIZE);
    expect(server.maxBuffered).toBeLessThanOrEqual(WORLD_MAX_WRITE_BUFFER_SIZE);
    // A socket that does not read does not notice the reset either: once it reads, it does.
    client.read();
    await world.runUntil(() => client.reason !== null, "the client to see the connection end");
  });
}
