import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { Deferred } from "../../../runtime/deferred.js";
import {
  BrokenPipeError,
  CancelledError,
  ConnectTimeoutError,
  ConnectionAborted,
  ConnectionLost,
  ConnectionRefusedByFactoryError,
  ConnectionRefusedError,
  ConnectionResetError,
  InvalidEndpointError,
  InvalidOptionError,
  ProducerRegisteredError,
  ReactorStateError,
  SocketError,
  UnhandledReactorError,
  WriteBufferOverflowError,
} from "../../../runtime/errors.js";
import { DEFAULT_MAX_WRITE_BUFFER_SIZE } from "../../../runtime/write-buffer.js";
import type { WriteBufferOptions } from "../../../runtime/write-buffer.js";
import { NodeReactor } from "../../../runtime/node/node-reactor.js";
import { ReconnectingClientFactory } from "../../../runtime/reconnecting-client-factory.js";
import { ClientFactory, Factory, Protocol, connectionDone } from "../../../runtime/protocol.js";
import type { Address, Connector, PushProducer } from "../../../runtime/protocol.js";

// ---------------------------------------------------------------------------------------------
// Helpers

/** Deterministic bytes for client `id` (a small LCG), so a mismatch names an exact offset. */
function payload(id: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (id * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** The first offset where `a` and `b` differ (or the shorter length), or -1 when equal. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.compare(a, b) === 0) return -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks);
}

/** Records everything that happens to it; `lost` fires with the reason. */
class Recorder extends Protocol {
  readonly chunks: Uint8Array[] = [];
  readonly lost = new Deferred<Error>();
  readonly made = new Deferred<void>();
  lostCalls = 0;

  override connectionMade(): void {
    this.made.callback(undefined);
  }

  override dataReceived(data: Uint8Array): void {
    this.chunks.push(data);
  }

  override connectionLost(reason: Error): void {
    this.lostCalls++;
    this.lost.callback(reason);
  }

  get received(): Uint8Array {
    return concat(this.chunks);
  }

  get receivedLength(): number {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    return n;
  }
}

class Echo extends Recorder {
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

/** A factory that keeps every protocol it built. */
class Keeper<P extends Protocol> extends Factory<P> {
  readonly built: P[] = [];
  readonly addrs: Address[] = [];
  starts = 0;
  stops = 0;

  constructor(private readonly make: () => P) {
    super();
  }

  override buildProtocol(addr: Address): P | null {
    this.addrs.push(addr);
    const p = this.make();
    p.factory = this;
    this.built.push(p);
    return p;
  }

  override startFactory(): void {
    this.starts++;
  }

  override stopFactory(): void {
    this.stops++;
  }
}

const NET_HANDLES = new Set(["TCPSocketWrap", "TCPServerWrap", "PipeWrap", "PipeServerWrap", "UDPWrap", "TLSWrap"]);

/** Network handles open now, by kind (vitest's own IPC pipe is part of the baseline). */
function netHandles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (NET_HANDLES.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

/** Lets Node run its close callbacks (a handle goes a loop turn or two after `destroy()`). */
async function settle(): Promise<void> {
  const same = (): boolean => JSON.stringify([...netHandles()].sort()) === JSON.stringify([...baseline].sort());
  for (let turn = 0; turn < 20 && !same(); turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function haveOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

let tmp = "";
let reactor: NodeReactor;
let reported: Error[] = [];
let baseline: Map<string, number>;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "wirelab-node-"));
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function start(options: WriteBufferOptions = {}): NodeReactor {
  baseline = netHandles();
  reported = [];
  reactor = new NodeReactor({ ...options, errorHook: (error) => reported.push(error) });
  void reactor.run();
  return reactor;
}

afterEach(async () => {
  if (reactor.running) await reactor.stop();
  await settle();
  // Everything the reactor opened is closed: no leaked sockets, servers or UDP ports.
  expect(Object.fromEntries(netHandles())).toEqual(Object.fromEntries(baseline));
});

async function echoServer(r: NodeReactor, description = "tcp:0:interface=127.0.0.1"): Promise<{ port: number; factory: Keeper<Echo> }> {
  const factory = new Keeper(() => new Echo());
  const listening = await r.listen(description, factory);
  return { port: listening.getHost().port, factory };
}

// ---------------------------------------------------------------------------------------------

describe("TCP on NodeReactor", () => {
  it("echo: 200 concurrent clients in the Protocol style, every byte accounted for", async () => {
    const r = start();
    const { port, factory } = await echoServer(r);
    expect(port).toBeGreaterThan(0);

    const clients = 200;
    const size = (id: number): number => 1000 + ((id * 7919) % 20_000);
    class Client extends Recorder {
      constructor(readonly id: number) {
        super();
      }
      readonly done = new Deferred<void>();
      override connectionMade(): void {
        super.connectionMade();
        const data = payload(this.id, size(this.id));
        // Uneven pieces, alternating write and writeSequence.
        const pieces: Uint8Array[] = [];
        for (let at = 0, step = 1 + (this.id % 997); at < data.length; at += step, step = 1 + ((step * 31) % 4096)) {
          pieces.push(data.subarray(at, Math.min(data.length, at + step)));
        }
        if (this.id % 2 === 0) this.transport.writeSequence(pieces);
        else for (const p of pieces) this.transport.write(p);
      }
      override dataReceived(data: Uint8Array): void {
        super.dataReceived(data);
        if (this.receivedLength === size(this.id)) this.transport.loseConnection();
      }
    }
    const protocols = await Promise.all(
      Array.from({ length: clients }, async (_, id) => r.connect(`tcp:127.0.0.1:${port}`, Factory.forProtocol(() => new Client(id)))),
    );
    const reasons = await Promise.all(protocols.map(async (p) => p.lost));
    for (const p of protocols) {
      expect(firstDifference(p.received, payload(p.id, size(p.id)))).toBe(-1);
      expect(p.lostCalls).toBe(1);
      expect(p.connected).toBe(false);
    }
    // A clean close reports the one shared ConnectionDone instance.
    for (const reason of reasons) expect(reason).toBe(connectionDone);
    const serverReasons = await Promise.all(factory.built.map(async (p) => p.lost));
    expect(factory.built).toHaveLength(clients);
    for (const reason of serverReasons) expect(reason).toBe(connectionDone);
    let total = 0;
    for (const p of factory.built) total += p.receivedLength;
    expect(total).toBe(Array.from({ length: clients }, (_, id) => size(id)).reduce((a, b) => a + b, 0));
    expect(r.connectionCount).toBe(0);
    expect(reported).toEqual([]);
  });

  it("addresses: getHost, getPeer and buildProtocol's address agree", async () => {
    const r = start();
    const { port, factory } = await echoServer(r);
    const client = await r.connect(`tcp:127.0.0.1:${port}`, Factory.forProtocol(() => new Recorder()));
    client.transport.write("x");
    const server = await waitFor(() => factory.built[0]);
    await server.made;
    const local = client.transport.getHost();
    expect(local).toEqual({ type: "tcp", host: "127.0.0.1", port: local.port });
    expect(client.transport.getPeer()).toEqual({ type: "tcp", host: "127.0.0.1", port });
    expect(server.transport.getPeer()).toEqual(local);
    expect(factory.addrs[0]).toEqual(local);
    expect(server.transport.getHost()).toEqual({ type: "tcp", host: "127.0.0.1", port });
    client.transport.setTcpNoDelay(true);
    client.transport.loseConnection();
    expect(client.transport.disconnecting).toBe(true);
    await client.lost;
  });

  it("writes strings as UTF-8", async () => {
    const r = start();
    const { port } = await echoServer(r);
    const text = "héllo, wörld ✓";
    const client = await r.connect(`tcp:127.0.0.1:${port}`, Factory.forProtocol(() => new Recorder()));
    client.transport.writeSequence(["héllo, ", "wörld"]);
    client.transport.write(" ✓");
    const expected = Buffer.from(text, "utf8");
    await waitFor(() => client.receivedLength === expected.length || undefined);
    expect(Buffer.from(client.received).toString("utf8")).toBe(text);
  });

  it("connection refused gives ConnectionRefusedError, through the Deferred and clientConnectionFailed", async () => {
    const r = start();
    const listening = await r.listen("tcp:0:interface=127.0.0.1", new Factory(Echo));
    const port = listening.getHost().port;
    await listening.stopListening();
    const events: string[] = [];
    let failedWith: Error | null = null;
    let failedConnector: Connector | null = null;
    class Client extends ClientFactory {
      override startedConnecting(connector: Connector): void {
        events.push(`started ${connector.getDestination().kind}`);
      }
      override clientConnectionFailed(connector: Connector, reason: Error): void {
        events.push("failed");
        failedWith = reason;
        failedConnector = connector;
      }
      override startFactory(): void {
        events.push("start");
      }
      override stopFactory(): void {
        events.push("stop");
      }
    }
    const factory = new Client(Recorder);
    const error = await r.connect(`tcp:127.0.0.1:${port}`, factory).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect((error as ConnectionRefusedError).code).toBe("WL_ERR_CONNECTION_REFUSED");
    expect((error as ConnectionRefusedError).errno).toBe("ECONNREFUSED");
    expect(failedWith).toBe(error);
    expect(failedConnector).not.toBeNull();
    expect(events).toEqual(["start", "started tcp", "failed", "stop"]);
    expect(factory.numPorts).toBe(0);
  });

  it("a connector reconnects with the same factory (what ReconnectingClientFactory relies on)", async () => {
    const r = start();
    const { port, factory: serverFactory } = await echoServer(r);
    const lost: Error[] = [];
    const allDone = new Deferred<void>();
    const connectors = new Set<Connector>();
    /** Each connection closes itself at once; the factory reconnects until it has built three. */
    class Again extends ClientFactory<Recorder> {
      builds = 0;
      override buildProtocol(addr: Address): Recorder {
        this.builds++;
        expect(addr).toEqual({ type: "tcp", host: "127.0.0.1", port });
        return new (class extends Recorder {
          override connectionMade(): void {
            super.connectionMade();
            this.transport.loseConnection();
          }
        })();
      }
      override clientConnectionLost(connector: Connector, reason: Error): void {
        connectors.add(connector);
        lost.push(reason);
        if (this.builds < 3) connector.connect();
        else allDone.callback(undefined);
      }
    }
    const factory = new Again();
    await r.connect(`tcp:127.0.0.1:${port}`, factory);
    expect(factory.numPorts).toBe(1);
    await allDone;
    expect(factory.builds).toBe(3);
    expect(lost).toEqual([connectionDone, connectionDone, connectionDone]);
    expect(connectors.size).toBe(1);
    expect(factory.numPorts).toBe(0);
    await waitFor(() => serverFactory.built.length === 3 || undefined);
  });

  it("ReconnectingClientFactory retries a refused connection until the server is up", async () => {
    const r = start();
    const probe = await r.listen("tcp:0:interface=127.0.0.1", new Factory(Echo));
    const port = probe.getHost().port;
    await probe.stopListening();
    let failures = 0;
    const connected = new Deferred<Recorder>();
    class Retrying extends ReconnectingClientFactory<Recorder> {
      override clientConnectionFailed(connector: Connector, reason: Error): void {
        expect(reason).toBeInstanceOf(ConnectionRefusedError);
        failures++;
        // The server comes up after the first refusal; the retry (5 ms later) finds it.
        if (failures === 1) void r.listen(`tcp:${port}:interface=127.0.0.1`, new Factory(Echo));
        super.clientConnectionFailed(connector, reason);
      }
      override buildProtocol(addr: Address): Recorder | null {
        const p = super.buildProtocol(addr);
        if (p !== null) connected.callback(p);
        return p;
      }
    }
    const factory = new Retrying(r, Recorder, { initialDelay: 5, factor: 1, jitter: 0 });
    await expect(r.connect(`tcp:127.0.0.1:${port}`, factory)).rejects.toBeInstanceOf(ConnectionRefusedError);
    const client = await connected;
    await client.made;
    expect(failures).toBe(1);
    factory.stopTrying();
    client.transport.loseConnection();
    expect(await client.lost).toBe(connectionDone);
    expect(factory.numPorts).toBe(0);
  });

  it("stopConnecting and cancelling the Deferred abandon an attempt with CancelledError", async () => {
    const r = start();
    const silent = await rawSilentServer();
    try {
      // TLS to a server that never answers: the TCP connect succeeds, the handshake never ends.
      const d = r.connect(`tls:127.0.0.1:${silent.port}:verify=no`, new ClientFactory(Recorder));
      d.cancel();
      const error = await d.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CancelledError);
    } finally {
      await silent.close();
    }
  });

  it("a connect timeout gives ConnectTimeoutError", async () => {
    const r = start();
    const silent = await rawSilentServer();
    try {
      const error = await r.connect(`tls:127.0.0.1:${silent.port}:verify=no:timeout=0.05`, Factory.forProtocol(() => new Recorder())).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConnectTimeoutError);
      expect((error as ConnectTimeoutError).errno).toBe("ETIMEDOUT");
    } finally {
      await silent.close();
    }
  });

  it("bad endpoints and listening on a taken port fail the Deferred with typed errors", async () => {
    const r = start();
    await expect(r.listen("tcp:nope", new Factory(Echo))).rejects.toBeInstanceOf(InvalidEndpointError);
    await expect(r.connect("tcp:127.0.0.1", new Factory(Echo))).rejects.toBeInstanceOf(InvalidEndpointError);
    const first = await r.listen("tcp:0:interface=127.0.0.1", new Factory(Echo));
    const factory = new Keeper(() => new Echo());
    const error = await r.listen(`tcp:${first.getHost().port}:interface=127.0.0.1`, factory).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "WL_ERR_CANNOT_LISTEN", errno: "EADDRINUSE" });
    expect(factory.numPorts).toBe(0);
    expect([factory.starts, factory.stops]).toEqual([1, 1]);
    const missing = await r.listen(`tls:0:privateKey=${join(tmp, "absent.pem")}`, new Factory(Echo)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(missing).toMatchObject({ code: "WL_ERR_CANNOT_LISTEN", errno: "ENOENT" });
  });

  it("factory doStart/doStop bracket a listening port", async () => {
    const r = start();
    const factory = new Keeper(() => new Echo());
    const listening = await r.listen("tcp:0:interface=127.0.0.1", factory);
    expect([factory.starts, factory.stops, factory.numPorts]).toEqual([1, 0, 1]);
    await listening.stopListening();
    await listening.stopListening();
    expect([factory.starts, factory.stops, factory.numPorts]).toEqual([1, 1, 0]);
    await expect(r.connect(`tcp:127.0.0.1:${listening.getHost().port}`, new Factory(Recorder))).rejects.toBeInstanceOf(ConnectionRefusedError);
  });

  it("buildProtocol returning null refuses the connection; a client factory's null fails the connect", async () => {
    const r = start();
    let asked = 0;
    const refusing = new Factory<Protocol>();
    refusing.buildProtocol = () => {
      asked++;
      return null;
    };
    const listening = await r.listen("tcp:0:interface=127.0.0.1", refusing);
    const port = listening.getHost().port;
    const client = await r.connect(`tcp:127.0.0.1:${port}`, Factory.forProtocol(() => new Recorder()));
    const reason = await client.lost;
    expect(asked).toBe(1);
    expect(reason === connectionDone || reason instanceof ConnectionResetError).toBe(true);

    const { port: echoPort } = await echoServer(r);
    const nullClient = new Factory<Protocol>();
    nullClient.buildProtocol = () => null;
    await expect(r.connect(`tcp:127.0.0.1:${echoPort}`, nullClient)).rejects.toBeInstanceOf(ConnectionRefusedByFactoryError);
  });

  it("an exception in dataReceived is reported and closes the connection with it as the reason", async () => {
    const r = start();
    const boom = new Error("bad byte");
    const factory = new Keeper(
      () =>
        new (class extends Recorder {
          override dataReceived(): void {
            throw boom;
          }
        })(),
    );
    const listening = await r.listen("tcp:0:interface=127.0.0.1", factory);
    const client = await r.connect(`tcp:127.0.0.1:${listening.getHost().port}`, Factory.forProtocol(() => new Recorder()));
    client.transport.write("hello");
    const server = await waitFor(() => factory.built[0]);
    expect(await server.lost).toBe(boom);
    await client.lost;
    expect(reported).toHaveLength(1);
    expect(reported[0]).toBeInstanceOf(UnhandledReactorError);
    expect(reported[0]?.cause).toBe(boom);
  });

  it("half-close: the client's loseWriteConnection reaches readConnectionLost; the server still answers", async () => {
    const r = start();
    class Summer extends Recorder {
      readConnectionLostCalls = 0;
      override readConnectionLost(): void {
        this.readConnectionLostCalls++;
        // The peer is done sending; everything it sent has arrived.
        this.transport.write(`got ${this.receivedLength}`);
        this.transport.loseConnection();
      }
    }
    const factory = new Keeper(() => new Summer());
    const listening = await r.listen("tcp:0:interface=127.0.0.1", factory);
    class HalfCloser extends Recorder {
      writeClosed = new Deferred<void>();
      override writeConnectionLost(): void {
        this.writeClosed.callback(undefined);
      }
    }
    const client = await r.connect(`tcp:127.0.0.1:${listening.getHost().port}`, Factory.forProtocol(() => new HalfCloser()));
    client.transport.write(payload(1, 5000));
    client.transport.loseWriteConnection();
    // Writes after the write side is shut are ignored, not errors.
    client.transport.write("ignored");
    await client.writeClosed;
    expect(client.transport.disconnecting).toBe(false);
    expect(await client.lost).toBe(connectionDone);
    expect(Buffer.from(client.received).toString()).toBe("got 5000");
    const server = factory.built[0]!;
    expect(await server.lost).toBe(connectionDone);
    expect(server.readConnectionLostCalls).toBe(1);
  });

  it("a protocol without readConnectionLost is closed cleanly when the peer half-closes", async () => {
    const r = start();
    const { port, factory } = await echoServer(r);
    const client = await r.connect(`tcp:127.0.0.1:${port}`, Factory.forProtocol(() => new Recorder()));
    client.transport.write("last words");
    client.transport.loseWriteConnection();
    expect(await client.lost).toBe(connectionDone);
    expect(Buffer.from(client.received).toString()).toBe("last words");
    expect(await factory.built[0]!.lost).toBe(connectionDone);
  });

  it("abortConnection: this side gets ConnectionAborted, the peer ConnectionResetError", async () => {
    const r = start();
    const factory = new Keeper(() => new Recorder());
    const listening = await r.listen("tcp:0:interface=127.0.0.1", factory);
    const client = await r.connect(`tcp:127.0.0.1:${listening.getHost().port}`, Factory.forProtocol(() => new Recorder()));
    client.transport.write("before the reset");
    const server = await waitFor(() => factory.built[0]);
    await waitFor(() => server.receivedLength > 0 || undefined);
    // Nothing is left unread at the client: on Linux an RST that arrives together with unread
    // bytes can be reported to the reader as a plain end of stream.
    server.transport.abortConnection();
    // Written after the abort: discarded, never sent.
    server.transport.write(payload(2, 1000));
    expect(server.transport.disconnecting).toBe(true);
    server.transport.abortConnection();
    const serverReason = await server.lost;
    expect(serverReason).toBeInstanceOf(ConnectionAborted);
    expect((serverReason as ConnectionAborted).code).toBe("WL_ERR_CONNECTION_ABORTED");
    const clientReason = await client.lost;
    expect(clientReason).toBeInstanceOf(ConnectionResetError);
    expect((clientReason as ConnectionResetError).errno).toBe("ECONNRESET");
    expect(server.lostCalls).toBe(1);
    expect(client.lostCalls).toBe(1);
    expect(client.receivedLength).toBe(0);
  });

  it("backpressure: a push producer is paused while the peer does not read, the buffer stays bounded, then all arrives", async () => {
    const r = start();
    const hwm = r.highWaterMark;
    const chunkSize = 16 * 1024;
    // Enough to fill the kernel's buffers on both sides (they grow to a few MiB on loopback).
    const maxTotal = 64 * 1024 * 1024;
    // After the first pause, this much more is sent through a reading peer, then it stops.
    const afterPause = 4 * 1024 * 1024;
    const chunk = (i: number): Uint8Array => new Uint8Array(chunkSize).fill(i & 0xff);
    const finished = new Deferred<number>();

    class Producing extends Recorder implements PushProducer {
      sent = 0;
      chunksSent = 0;
      paused = false;
      pauses = 0;
      resumes = 0;
      maxBuffered = 0;
      sentAtFirstPause = -1;
      readonly bufferedAtPause: number[] = [];
      readonly pausedOnce = new Deferred<void>();

      override connectionMade(): void {
        super.connectionMade();
        this.transport.registerProducer(this, true);
        expect(() => this.transport.registerProducer(this, true)).toThrow(ProducerRegisteredError);
        this.produce();
      }
      pauseProducing(): void {
        this.paused = true;
        this.pauses++;
        this.bufferedAtPause.push(this.transport.writeBufferSize);
        if (this.pauses === 1) {
          this.sentAtFirstPause = this.sent;
          this.pausedOnce.callback(undefined);
        }
      }
      resumeProducing(): void {
        this.paused = false;
        this.resumes++;
        this.produce();
      }
      stopProducing(): void {}
      private produce(): void {
        while (!this.paused) {
          if (this.sent >= maxTotal || (this.sentAtFirstPause >= 0 && this.sent >= this.sentAtFirstPause + afterPause)) {
            this.transport.unregisterProducer();
            this.transport.loseConnection();
            finished.callback(this.sent);
            return;
          }
          this.transport.write(chunk(this.chunksSent++));
          this.sent += chunkSize;
          this.maxBuffered = Math.max(this.maxBuffered, this.transport.writeBufferSize);
        }
      }
    }

    const factory = new Keeper(() => new Producing());
    const listening = await r.listen("tcp:0:interface=127.0.0.1", factory);

    class SlowReader extends Recorder {
      count = 0;
      bad = -1;
      override connectionMade(): void {
        super.connectionMade();
        this.transport.pauseProducing();
      }
      override dataReceived(data: Uint8Array): void {
        // Every 1 KiB sample must carry its chunk's number: nothing lost, duplicated or reordered.
        for (let i = 0; i < data.length; i += 1024) {
          const offset = this.count + i;
          if (this.bad < 0 && data[i] !== (Math.floor(offset / chunkSize) & 0xff)) this.bad = offset;
        }
        this.count += data.length;
      }
    }
    const client = await r.connect(`tcp:127.0.0.1:${listening.getHost().port}`, Factory.forProtocol(() => new SlowReader()));
    const server = await waitFor(() => factory.built[0]);
    await server.pausedOnce;
    expect(server.transport.highWaterMark).toBe(hwm);
    // The peer reads nothing: the producer stays paused and the buffer does not grow.
    const bufferedNow = server.transport.writeBufferSize;
    expect(bufferedNow).toBeGreaterThanOrEqual(hwm);
    await delay(r, 30);
    expect(server.pauses).toBe(1);
    expect(server.resumes).toBe(0);
    expect(server.transport.writeBufferSize).toBe(bufferedNow);
    client.transport.resumeProducing();
    const sent = await finished;
    expect(sent).toBeLessThan(maxTotal);
    expect(await client.lost).toBe(connectionDone);
    expect(client.count).toBe(sent);
    expect(client.bad).toBe(-1);
    expect(server.resumes).toBeGreaterThan(0);
    expect(server.maxBuffered).toBeLessThan(hwm + chunkSize);
    for (const b of server.bufferedAtPause) expect(b).toBeLessThan(hwm + chunkSize);
  });

  it("a pull producer is asked for more once at registration and again each time its writes are flushed", async () => {
    const r = start();
    const pieces = 50;
    class Pulled extends Recorder {
      asked = 0;
      stopped = 0;
      override connectionMade(): void {
        super.connectionMade();
        this.transport.registerProducer(
          {
            resumeProducing: () => {
              this.asked++;
              if (this.asked <= pieces) {
                this.transport.write(payload(this.asked, 1000));
              } else {
                this.transport.unregisterProducer();
                this.transport.loseConnection();
              }
            },
            stopProducing: () => {
              this.stopped++;
            },
          },
          false,
        );
        expect(this.asked).toBe(1);
      }
    }
    const factory = new Keeper(() => new Pulled());
    const listening = await r.listen("tcp:0:interface=127.0.0.1", factory);
    const client = await r.connect(`tcp:127.0.0.1:${listening.getHost().port}`, Factory.forProtocol(() => new Recorder()));
    expect(await client.lost).toBe(connectionDone);
    const expected = concat(Array.from({ length: pieces }, (_, i) => payload(i + 1, 1000)));
    expect(firstDifference(client.received, expected)).toBe(-1);
    const server = factory.built[0]!;
    expect(server.asked).toBe(pieces + 1);
    expect(server.stopped).toBe(0);
  });

  it("a producer still registered when the connection is lost is stopped", async () => {
    const r = start();
    const { port } = await echoServer(r);
    const client = await r.connect(`tcp:127.0.0.1:${port}`, Factory.forProtocol(() => new Recorder()));
    let stopped = 0;
    client.transport.registerProducer({ pauseProducing() {}, resumeProducing() {}, stopProducing: () => stopped++ }, true);
    client.transport.abortConnection();
    await client.lost;
    expect(stopped).toBe(1);
    // Registering on a closed transport stops the producer at once.
    client.transport.unregisterProducer();
    client.transport.registerProducer({ resumeProducing() {}, stopProducing: () => stopped++ }, false);
    expect(stopped).toBe(2);
  });

  it("stop() closes listening ports and every connection, and refuses new work while shutting down", async () => {
    const r = start();
    const { port, factory } = await echoServer(r);
    const clients = await Promise.all([1, 2, 3].map(async () => r.connect(`tcp:127.0.0.1:${port}`, Factory.forProtocol(() => new Recorder()))));
    await waitFor(() => factory.built.length === 3 || undefined);
    expect(r.connectionCount).toBe(6);
    let openAfter = -1;
    r.addSystemEventTrigger("after", "shutdown", () => {
      openAfter = r.connectionCount;
    });
    await r.stop();
    expect(r.running).toBe(false);
    expect(openAfter).toBe(0);
    for (const p of [...clients, ...factory.built]) {
      expect(p.lostCalls).toBe(1);
      const reason = await p.lost;
      expect(reason).toBeInstanceOf(ConnectionLost);
      expect((reason as ConnectionLost).code).toBe("WL_ERR_CONNECTION_LOST");
    }
    expect(r.connectionCount).toBe(0);
    expect(factory.numPorts).toBe(0);
    // The port is closed: a fresh reactor cannot connect to it.
    const other = new NodeReactor();
    await expect(other.connect(`tcp:127.0.0.1:${port}`, new Factory(Recorder))).rejects.toBeInstanceOf(ConnectionRefusedError);
  });

  it("stop() while a port is still being bound abandons it: the listen fails and nothing stays open", async () => {
    const r = start();
    const factory = new Keeper(() => new Echo());
    const pending = r.listen("tcp:0:interface=127.0.0.1", factory);
    const stopped = r.stop();
    const error = await pending.then(
      () => null,
      (e: unknown) => e,
    );
    await stopped;
    expect(error).toMatchObject({ code: "WL_ERR_CANNOT_LISTEN", errno: "ECANCELED" });
    expect([factory.starts, factory.stops, factory.numPorts]).toEqual([1, 1, 0]);
  });

  it("connecting during shutdown fails with ReactorStateError", async () => {
    const r = start();
    let error: unknown = null;
    r.addSystemEventTrigger("during", "shutdown", () => {
      r.connect("tcp:127.0.0.1:1", new Factory(Recorder)).addErrback((e: unknown) => {
        error = e;
      });
    });
    await r.stop();
    expect(error).toBeInstanceOf(ReactorStateError);
  });
});

describe("write-buffer bounds on NodeReactor (runtime/write-buffer.ts)", () => {
  /** More than loopback's kernel buffers absorb (about 4 MB with Linux's default tcp_wmem). */
  const FLOOD = 16 * 1024 * 1024;
  const ONE_READ = 64 * 1024;

  async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = performance.now() + ms;
    while (!condition()) {
      if (performance.now() > deadline) throw new Error(`gave up waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** A raw client that writes `FLOOD` bytes and reads nothing until `read()`. */
  async function rawFlooder(port: number): Promise<{ socket: net.Socket; received: () => number; read(): void }> {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.on("error", () => {});
    socket.pause();
    let received = 0;
    socket.on("data", (d: Buffer) => (received += d.length));
    socket.pause();
    socket.write(payload(1, FLOOD));
    return { socket, received: () => received, read: () => socket.resume() };
  }

  class MaxEcho extends Echo {
    maxBuffered = 0;
    override dataReceived(data: Uint8Array): void {
      super.dataReceived(data);
      this.maxBuffered = Math.max(this.maxBuffered, this.transport.writeBufferSize);
    }
  }

  it("by default an accepted connection with no producer stops reading while its buffer is full, and reads again once it drains", async () => {
    const r = start({ highWaterMark: 16 * 1024 });
    const factory = new Keeper(() => new MaxEcho());
    const listening = await r.listen("tcp:0:interface=127.0.0.1", factory);
    const client = await rawFlooder(listening.getHost().port);
    try {
      const server = await waitFor(() => factory.built[0]);
      const transport = server.transport as unknown as { readsHeld: boolean };
      await until(() => transport.readsHeld, "the server to stop reading");
      expect(server.receivedLength).toBeLessThan(FLOOD);
      expect(server.maxBuffered).toBeLessThanOrEqual(16 * 1024 + ONE_READ);
      // The protocol's own pause and resume do not undo the hold.
      server.transport.pauseProducing();
      server.transport.resumeProducing();
      expect(transport.readsHeld).toBe(true);
      client.read();
      await until(() => client.received() === FLOOD, "every byte to come back");
      expect(server.receivedLength).toBe(FLOOD);
      expect(server.maxBuffered).toBeLessThanOrEqual(16 * 1024 + ONE_READ);
      expect(Buffer.compare(server.received, payload(1, FLOOD))).toBe(0);
    } finally {
      client.socket.destroy();
    }
  });

  it('pauseReadsOnFullBuffer "none" gives the unbounded behaviour back: the echo buffer grows with the flood', async () => {
    const r = start({ highWaterMark: 16 * 1024, pauseReadsOnFullBuffer: "none" });
    const factory = new Keeper(() => new MaxEcho());
    const listening = await r.listen("tcp:0:interface=127.0.0.1", factory);
    const client = await rawFlooder(listening.getHost().port);
    try {
      const server = await waitFor(() => factory.built[0]);
      await until(() => server.receivedLength === FLOOD, "the server to read the whole flood");
      expect(server.maxBuffered).toBeGreaterThan(4 * 1024 * 1024);
      expect((server.transport as unknown as { readsHeld: boolean }).readsHeld).toBe(false);
    } finally {
      client.socket.destroy();
    }
  });

  it.each(["accepted", "all"] as const)('pauseReadsOnFullBuffer "%s": an outgoing connection stops reading only under "all"', async (policy) => {
    const r = start({ highWaterMark: 16 * 1024, pauseReadsOnFullBuffer: policy });
    // A raw server that floods its client and reads nothing.
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.pause();
      socket.write(payload(2, FLOOD));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const client = await r.connect(`tcp:127.0.0.1:${port}`, Factory.forProtocol<MaxEcho>(() => new MaxEcho()));
      const transport = client.transport as unknown as { readsHeld: boolean };
      if (policy === "all") {
        await until(() => transport.readsHeld, "the client to stop reading");
        expect(client.maxBuffered).toBeLessThanOrEqual(16 * 1024 + ONE_READ);
      } else {
        await until(() => client.receivedLength === FLOOD, "the client to read the whole flood");
        expect(transport.readsHeld).toBe(false);
        expect(client.maxBuffered).toBeGreaterThan(16 * 1024 + ONE_READ);
      }
      await r.stop();
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("a registered push producer is paused instead: reading goes on", async () => {
    const r = start({ highWaterMark: 16 * 1024 });
    class ProducingEcho extends MaxEcho implements PushProducer {
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
    const factory = new Keeper(() => new ProducingEcho());
    const listening = await r.listen("tcp:0:interface=127.0.0.1", factory);
    const client = await rawFlooder(listening.getHost().port);
    try {
      const server = await waitFor(() => factory.built[0]);
      // This producer ignores its pause: the transport leaves the bound to it and keeps reading.
      await until(() => server.receivedLength === FLOOD, "the server to read the whole flood");
      expect(server.pauses).toBeGreaterThan(0);
      expect((server.transport as unknown as { readsHeld: boolean }).readsHeld).toBe(false);
    } finally {
      client.socket.destroy();
    }
  });

  it("a write past maxWriteBufferSize aborts the connection with WriteBufferOverflowError", async () => {
    const r = start({ highWaterMark: 16 * 1024, maxWriteBufferSize: 1024 * 1024 });
    class Big extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        // Not all at once: the client must be connected and not reading when they go.
        r.callLater(10, () => {
          for (let i = 0; i < 16 && !this.transport.disconnecting; i++) this.transport.write(new Uint8Array(1024 * 1024));
          this.transport.write("ignored once aborted");
        });
      }
    }
    class NotReading extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        this.transport.pauseProducing();
      }
    }
    const factory = new Keeper(() => new Big());
    const listening = await r.listen("tcp:0:interface=127.0.0.1", factory);
    const client = await r.connect(`tcp:127.0.0.1:${listening.getHost().port}`, Factory.forProtocol(() => new NotReading()));
    const server = await waitFor(() => factory.built[0]);
    const reason = await server.lost;
    client.transport.resumeProducing();
    expect(reason).toBeInstanceOf(WriteBufferOverflowError);
    expect((reason as WriteBufferOverflowError).code).toBe("WL_ERR_WRITE_BUFFER_OVERFLOW");
    expect((reason as WriteBufferOverflowError).limit).toBe(1024 * 1024);
    expect((reason as WriteBufferOverflowError).bufferedBytes).toBeGreaterThan(1024 * 1024);
    expect(server.lostCalls).toBe(1);
    await client.lost;
    expect(reported).toEqual([]);
  });

  it("validates maxWriteBufferSize and pauseReadsOnFullBuffer", () => {
    expect(() => new NodeReactor({ highWaterMark: 1000, maxWriteBufferSize: 999 })).toThrow(/maxWriteBufferSize/);
    expect(() => new NodeReactor({ maxWriteBufferSize: 1.5e9 + 0.5 })).toThrow(InvalidOptionError);
    expect(() => new NodeReactor({ pauseReadsOnFullBuffer: "sometimes" as "all" })).toThrow(/pauseReadsOnFullBuffer/);
    expect(new NodeReactor({ maxWriteBufferSize: Infinity }).acceptedLimits).toEqual({ maxWriteBufferSize: Infinity, pauseReadsWhenFull: true });
    expect(new NodeReactor().outgoingLimits).toEqual({ maxWriteBufferSize: DEFAULT_MAX_WRITE_BUFFER_SIZE, pauseReadsWhenFull: false });
    reactor = start();
  });
});

describe("unix sockets on NodeReactor", () => {
  it("echo over a unix socket in the temp dir; stopListening removes the socket file", async () => {
    const r = start();
    const path = join(tmp, "echo.sock");
    const factory = new Keeper(() => new Echo());
    const listening = await r.listen(`unix:${path}:mode=0600`, factory);
    expect(listening.getHost()).toEqual({ type: "unix", host: path, port: 0 });
    const client = await r.connect(`unix:${path}`, Factory.forProtocol(() => new Recorder()));
    expect(client.transport.getPeer()).toEqual({ type: "unix", host: path, port: 0 });
    const data = payload(9, 100_000);
    client.transport.write(data);
    await waitFor(() => client.receivedLength === data.length || undefined);
    expect(firstDifference(client.received, data)).toBe(-1);
    const server = factory.built[0]!;
    expect(server.transport.getHost()).toEqual({ type: "unix", host: path, port: 0 });
    client.transport.loseConnection();
    expect(await client.lost).toBe(connectionDone);
    expect(await server.lost).toBe(connectionDone);
    await listening.stopListening();
    expect(existsSync(path)).toBe(false);
  });

  it("abortConnection on a unix socket still ends both sides exactly once", async () => {
    const r = start();
    const path = join(tmp, "abort.sock");
    const factory = new Keeper(() => new Recorder());
    await r.listen(`unix:${path}`, factory);
    const client = await r.connect(`unix:${path}`, Factory.forProtocol(() => new Recorder()));
    client.transport.abortConnection();
    expect(await client.lost).toBeInstanceOf(ConnectionAborted);
    const server = await waitFor(() => factory.built[0]);
    await server.lost;
    expect(server.lostCalls).toBe(1);
  });

  it("connecting to a missing unix socket is refused, as on every world: ConnectionRefusedError, the ENOENT as its cause", async () => {
    const r = start();
    const error = await r.connect(`unix:${join(tmp, "nobody-here.sock")}`, new Factory(Recorder)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectionRefusedError);
    expect(((error as ConnectionRefusedError).cause as NodeJS.ErrnoException).code).toBe("ENOENT");
  });
});

describe.skipIf(!haveOpenssl())("TLS on NodeReactor", () => {
  let keyFile = "";
  let certFile = "";

  beforeAll(() => {
    keyFile = join(tmp, "key.pem");
    certFile = join(tmp, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
  });

  it("echo over TLS with key files and trust roots from a file", async () => {
    const r = start();
    const { port, factory } = await echoServer(r, `tls:0:interface=127.0.0.1:privateKey=${keyFile}:certKey=${certFile}`);
    const client = await r.connect(`tls:127.0.0.1:${port}:trustRoots=${certFile}`, Factory.forProtocol(() => new Recorder()));
    const data = payload(3, 50_000);
    client.transport.writeSequence([data.subarray(0, 10), data.subarray(10)]);
    await waitFor(() => client.receivedLength === data.length || undefined);
    expect(firstDifference(client.received, data)).toBe(-1);
    const local = client.transport.getHost();
    expect(local.port).toBeGreaterThan(0);
    expect(factory.addrs[0]).toEqual(local);
    client.transport.loseConnection();
    expect(await client.lost).toBe(connectionDone);
    expect(await factory.built[0]!.lost).toBe(connectionDone);
  });

  it("in-memory PEM objects, servername, and verify=no", async () => {
    const r = start();
    const key = readFileSync(keyFile);
    const cert = readFileSync(certFile, "utf8");
    const factory = new Keeper(() => new Echo());
    const listening = await r.listen(
      { kind: "tls", port: 0, interface: "127.0.0.1", backlog: 16, privateKey: { pem: new Uint8Array(key) }, certKey: { pem: cert } },
      factory,
    );
    const port = listening.getHost().port;
    const named = await r.connect(
      { kind: "tls", host: "127.0.0.1", port, timeout: 5, verify: true, servername: "localhost", trustRoots: { pem: cert } },
      Factory.forProtocol(() => new Recorder()),
    );
    named.transport.write("ping");
    await waitFor(() => named.receivedLength === 4 || undefined);
    named.transport.loseConnection();
    await named.lost;
    const unverified = await r.connect(`tls:127.0.0.1:${port}:verify=no`, Factory.forProtocol(() => new Recorder()));
    unverified.transport.abortConnection();
    expect(await unverified.lost).toBeInstanceOf(ConnectionAborted);
  });

  it("an untrusted certificate fails the connect with a SocketError carrying the TLS code", async () => {
    const r = start();
    const { port } = await echoServer(r, `tls:0:interface=127.0.0.1:privateKey=${keyFile}:certKey=${certFile}`);
    const error = await r.connect(`tls:127.0.0.1:${port}`, new Factory(Recorder)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SocketError);
    expect((error as SocketError).code).toBe("WL_ERR_SOCKET");
    expect((error as SocketError).errno).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
  });
});

describe("error mapping", () => {
  it("writing into a connection the peer reset ends it with ConnectionResetError or BrokenPipeError", async () => {
    const r = start();
    const factory = new Keeper(() => new Recorder());
    const listening = await r.listen("tcp:0:interface=127.0.0.1", factory);
    const client = await r.connect(`tcp:127.0.0.1:${listening.getHost().port}`, Factory.forProtocol(() => new Recorder()));
    const server = await waitFor(() => factory.built[0]);
    await server.made;
    server.transport.abortConnection();
    // Keep writing into the reset connection until the error surfaces.
    const writer = r.callLater(1, function again(): void {
      if (!client.transport.disconnecting) {
        client.transport.write(payload(5, 10_000));
        r.callLater(1, again);
      }
    });
    const reason = await client.lost;
    if (writer.active()) writer.cancel();
    // Whichever the kernel reports first: the reset on read, or EPIPE on a write.
    expect(reason instanceof ConnectionResetError || reason instanceof BrokenPipeError).toBe(true);
    expect((reason as SocketError).errno).toMatch(/^(ECONNRESET|EPIPE)$/);
  });
});

// ---------------------------------------------------------------------------------------------

/** Waits (on the reactor's loop, a turn at a time) until `probe` returns something defined. */
/**
 * Polls `probe` once per turn of the loop until it gives a value, for at most `ms` of real
 * time (turns alone are no measure: with Nagle's algorithm on, a TLS record can wait 40 ms for
 * the peer's delayed ACK).
 */
async function waitFor<T>(probe: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`condition not reached within ${ms} ms`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function delay(r: NodeReactor, ms: number): Deferred<void> {
  const d = new Deferred<void>();
  r.callLater(ms, () => d.callback(undefined));
  return d;
}

/** A plain node:net server that accepts and never says anything: for handshakes that hang. */
async function rawSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
