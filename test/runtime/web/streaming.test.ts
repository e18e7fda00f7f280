/**
 * Streaming both ways on the fakes, over connectPair: request bodies handed to dataReceived
 * with backpressure, flush() against a client that stops reading, and onConnectionClose when
 * the client goes away.
 */

import { describe, expect, it } from "vitest";

import { Clock, connectPair, fixedChunks } from "../../../fakes/index.js";
import type { Pump } from "../../../fakes/index.js";
import { Deferred } from "../../../runtime/deferred.js";
import { StreamClosedError } from "../../../runtime/errors.js";
import { Protocol } from "../../../runtime/protocol.js";
import { Application } from "../../../runtime/web/application.js";
import { RequestHandler } from "../../../runtime/web/request-handler.js";

/** A client that keeps every byte it receives. */
class RawClient extends Protocol {
  readonly chunks: Buffer[] = [];
  lost: Error | null = null;
  override dataReceived(data: Uint8Array): void {
    this.chunks.push(Buffer.from(data));
  }
  override connectionLost(reason: Error): void {
    this.lost = reason;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("latin1");
  }
}

function serve(app: Application, clock: Clock, chunk = 0, highWaterMark?: number): { pump: Pump; client: RawClient } {
  const client = new RawClient();
  const server = app.factory(clock).buildProtocol({ type: "tcp", host: "127.0.0.1", port: 1 });
  const options = { ...(chunk > 0 ? { chunking: fixedChunks(chunk) } : {}), ...(highWaterMark === undefined ? {} : { highWaterMark }) };
  return { pump: connectPair(server, client, options), client };
}

describe("streamed request bodies", () => {
  it("hands chunks to dataReceived one at a time, pausing the network while one is pending", async () => {
    const pending: Deferred<void>[] = [];
    const seen: number[] = [];
    const events: string[] = [];
    class Upload extends RequestHandler {
      static override streamRequestBody = true;
      total = 0;
      override prepare(): void {
        events.push("prepare");
      }
      override dataReceived(chunk: Uint8Array): Deferred<void> {
        seen.push(chunk.length);
        this.total += chunk.length;
        const d = new Deferred<void>();
        pending.push(d);
        return d;
      }
      override put(): void {
        events.push("put");
        this.write(`got ${this.total}`);
      }
    }
    const errors: unknown[] = [];
    const app = new Application([["/up", Upload]], { onError: (e) => errors.push(e) });
    const clock = new Clock();
    const { pump, client } = serve(app, clock, 100);
    const body = Buffer.alloc(5000, 0x61);
    client.transport.write(`PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
    client.transport.write(body);
    await pump.flushAsync();
    expect(events).toEqual(["prepare"]);
    expect(seen).toHaveLength(1);
    // Reading stopped: most of the body is still on the client's side.
    expect(pump.client.outgoing.length).toBeGreaterThan(4000);
    let rounds = 0;
    while (pending.length > 0 && rounds++ < 200) {
      const d = pending.shift()!;
      expect(pending).toHaveLength(0);
      d.callback(undefined);
      await pump.flushAsync();
    }
    expect(seen.reduce((a, b) => a + b, 0)).toBe(5000);
    expect(events).toEqual(["prepare", "put"]);
    expect(client.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\ngot 5000$/);
    expect(errors).toEqual([]);
  });

  it("checks XSRF before the body and lets prepare refuse an upload before reading it", async () => {
    let received = 0;
    class Upload extends RequestHandler {
      static override streamRequestBody = true;
      override prepare(): void {
        this.setStatus(413);
        void this.finish();
      }
      override dataReceived(chunk: Uint8Array): void {
        received += chunk.length;
      }
      override post(): void {}
    }
    const app = new Application([["/up", Upload]]);
    const { pump, client } = serve(app, new Clock());
    client.transport.write("POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n");
    await pump.flushAsync();
    expect(client.text()).toMatch(/^HTTP\/1\.1 413 /);
    expect(client.text()).not.toContain("100 Continue");
    expect(received).toBe(0);
  });
});

describe("flush()", () => {
  it("resolves only as the client reads, so a streaming handler never outruns it", async () => {
    const piece = Buffer.alloc(16 * 1024, 0x62);
    let flushed = 0;
    class Stream extends RequestHandler {
      override async get(): Promise<void> {
        for (let i = 0; i < 40; i++) {
          this.write(piece);
          await this.flush();
          flushed++;
        }
      }
    }
    const app = new Application([["/", Stream]]);
    const { pump, client } = serve(app, new Clock(), 0, 64 * 1024);
    client.transport.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    pump.flush();
    client.transport.pauseProducing();
    await pump.flushAsync();
    // Stuck after the buffer passed its 64 KiB mark, with the rest never produced.
    expect(flushed).toBeGreaterThan(0);
    expect(flushed).toBeLessThan(8);
    expect(pump.server.outgoing.length).toBeLessThan(128 * 1024);
    const stuckAt = flushed;
    await pump.flushAsync();
    expect(flushed).toBe(stuckAt);
    client.transport.resumeProducing();
    await pump.flushAsync();
    expect(flushed).toBe(40);
    const text = client.text();
    expect(text).toContain("Transfer-Encoding: chunked");
    expect(text.endsWith("0\r\n\r\n")).toBe(true);
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    expect((body.match(/b/g) ?? []).length).toBe(40 * piece.length);
  });
});

describe("pipelined requests from a client that does not read", () => {
  it("a streamed (flush) response and the small ones after it: the server holds the rest unparsed, then answers all in order", async () => {
    const piece = Buffer.alloc(16 * 1024, 0x62);
    const answered: string[] = [];
    class Stream extends RequestHandler {
      override async get(): Promise<void> {
        for (let i = 0; i < 20; i++) {
          this.write(piece);
          await this.flush();
        }
        answered.push("/stream");
      }
    }
    class Small extends RequestHandler {
      override get(n: string): void {
        answered.push(`/small/${n}`);
        this.write(`small ${n};`);
      }
    }
    const app = new Application([
      ["/stream", Stream],
      [String.raw`/small/(\d+)`, Small],
    ]);
    const { pump, client } = serve(app, new Clock(), 0, 64 * 1024);
    client.transport.pauseProducing();
    let requests = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
    for (let i = 0; i < 2000; i++) requests += `GET /small/${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
    client.transport.write(requests);
    await pump.flushAsync();
    // The stream waits for the client; nothing after it is answered, and what is buffered is bounded.
    expect(answered).toEqual([]);
    expect(pump.server.outgoing.length).toBeLessThan(128 * 1024);
    client.transport.resumeProducing();
    await pump.flushAsync();
    expect(answered).toEqual(["/stream", ...Array.from({ length: 2000 }, (_, i) => `/small/${i}`)]);
    const text = client.text();
    const smalls = [...text.matchAll(/small (\d+);/g)].map((m) => Number(m[1]));
    expect(smalls).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(text.split(piece.toString("latin1"))).toHaveLength(21);
  });

  it("small answers to a flood of pipelined requests stop at the bound while the client does not read", async () => {
    let answered = 0;
    class Small extends RequestHandler {
      override get(): void {
        answered++;
        this.write("hello, world");
      }
    }
    const app = new Application([["/", Small]]);
    const { pump, client } = serve(app, new Clock(), 0, 16 * 1024);
    client.transport.pauseProducing();
    const total = 5000;
    client.transport.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(total));
    await pump.flushAsync();
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThan(total);
    // 64 KiB (maxPendingResponseBytes) plus one output batch and one response.
    expect(pump.server.outgoing.length).toBeLessThan(64 * 1024 + 16 * 1024 + 1024);
    client.transport.resumeProducing();
    await pump.flushAsync();
    expect(answered).toBe(total);
    expect(client.text().match(/hello, world/g)).toHaveLength(total);
  });
});

describe("onConnectionClose", () => {
  it("runs when the client goes away mid-response, and flush() then rejects with StreamClosedError", async () => {
    const gate = new Deferred<void>();
    const log: string[] = [];
    let flushError: unknown = null;
    class LongPoll extends RequestHandler {
      override async get(): Promise<void> {
        this.write("waiting...");
        await this.flush();
        await gate;
        try {
          this.write("more");
          await this.flush();
        } catch (e) {
          flushError = e;
        }
      }
      override onConnectionClose(): void {
        log.push("closed");
      }
      override onFinish(): void {
        log.push("finish");
      }
    }
    const errors: unknown[] = [];
    const app = new Application([["/", LongPoll]], { onError: (e) => errors.push(e) });
    const { pump, client } = serve(app, new Clock());
    client.transport.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await pump.flushAsync();
    expect(client.text()).toContain("waiting...");
    client.transport.abortConnection();
    await pump.flushAsync();
    expect(log).toEqual(["closed"]);
    gate.callback(undefined);
    await pump.flushAsync();
    expect(flushError).toBeInstanceOf(StreamClosedError);
    expect(log).toEqual(["closed"]);
    expect(errors).toEqual([]);
  });
});

describe("a client gone before anything was flushed", () => {
  it("makes flush() reject with StreamClosedError and finish() send nothing, without reports", async () => {
    const gate = new Deferred<void>();
    const outcomes: string[] = [];
    class Slow extends RequestHandler {
      override async get(): Promise<void> {
        await gate;
        this.write("never seen");
        await this.flush().then(
          () => outcomes.push("flushed"),
          (e: unknown) => outcomes.push(e instanceof StreamClosedError ? "StreamClosedError" : String(e)),
        );
        await this.finish().catch(() => outcomes.push("finish rejected"));
        outcomes.push(`finished=${this.finished}`);
      }
      override onFinish(): void {
        outcomes.push("onFinish");
      }
    }
    const errors: unknown[] = [];
    const app = new Application([["/", Slow]], { onError: (e) => errors.push(e) });
    const { pump, client } = serve(app, new Clock());
    client.transport.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await pump.flushAsync();
    client.transport.abortConnection();
    await pump.flushAsync();
    gate.callback(undefined);
    await pump.flushAsync();
    expect(outcomes).toEqual(["StreamClosedError", "finish rejected", "finished=true"]);
    expect(client.text()).toBe("");
    expect(errors).toEqual([]);
  });
});
