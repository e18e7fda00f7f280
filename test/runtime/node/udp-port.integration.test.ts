import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { Deferred } from "../../../runtime/deferred.js";
import { CannotListenError, InvalidOptionError, ReactorStateError } from "../../../runtime/errors.js";
import { NodeReactor } from "../../../runtime/node/node-reactor.js";
import { DatagramProtocol } from "../../../runtime/protocol.js";
import type { Address } from "../../../runtime/protocol.js";

class EchoUDP extends DatagramProtocol {
  started = 0;
  stopped = 0;
  override startProtocol(): void {
    this.started++;
  }
  override stopProtocol(): void {
    this.stopped++;
  }
  override datagramReceived(data: Uint8Array, addr: Address): void {
    this.transport.write(data, addr);
  }
}

class Collector extends DatagramProtocol {
  readonly got: [string, Address][] = [];
  readonly all = new Deferred<void>();
  constructor(private readonly expected: number) {
    super();
  }
  override datagramReceived(data: Uint8Array, addr: Address): void {
    this.got.push([Buffer.from(data).toString(), addr]);
    if (this.got.length === this.expected) this.all.callback(undefined);
  }
}

/** UDP sockets open now. */
function udpHandles(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === "UDPWrap").length;
}

describe("UDP on NodeReactor", () => {
  let reactor: NodeReactor;
  let baseline = 0;

  beforeEach(() => {
    baseline = udpHandles();
  });

  afterEach(async () => {
    if (reactor.running) await reactor.stop();
    // Every UDP socket the test opened is closed (handles go a few loop turns after 'close').
    for (let turn = 0; turn < 10 && udpHandles() !== baseline; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(udpHandles()).toBe(baseline);
  });

  it("echo: every datagram comes back whole, from the server's address", async () => {
    reactor = new NodeReactor();
    void reactor.run();
    const echo = new EchoUDP();
    const server = await reactor.listenUDP(0, echo, { interface: "127.0.0.1" });
    expect(echo.started).toBe(1);
    expect(echo.transport).toBe(server);
    const host = server.getHost();
    expect(host.type).toBe("udp");
    expect(host.host).toBe("127.0.0.1");
    expect(host.port).toBeGreaterThan(0);

    const messages = Array.from({ length: 20 }, (_, i) => `datagram ${i} ${"x".repeat(i * 50)}`);
    const collector = new Collector(messages.length);
    const client = await reactor.listenUDP(0, collector, { interface: "127.0.0.1" });
    for (const m of messages) client.write(m, { host: "127.0.0.1", port: host.port });
    await collector.all;
    // Loopback UDP neither loses nor reorders, but compare as sets to say only what UDP promises.
    expect(collector.got.map(([m]) => m).sort()).toEqual([...messages].sort());
    for (const [, addr] of collector.got) expect(addr).toEqual({ type: "udp", host: "127.0.0.1", port: host.port });

    await server.stopListening();
    expect(echo.stopped).toBe(1);
    // Writes after closing are ignored.
    server.write("late", { host: "127.0.0.1", port: client.getHost().port });
  });

  it("drops datagrams longer than maxPacketSize", async () => {
    reactor = new NodeReactor();
    const small = new Collector(1);
    const server = await reactor.listenUDP(0, small, { interface: "127.0.0.1", maxPacketSize: 10 });
    const sender = await reactor.listenUDP(0, new DatagramProtocol(), { interface: "127.0.0.1" });
    const to = { host: "127.0.0.1", port: server.getHost().port };
    sender.write("this one is far too long", to);
    sender.write("short", to);
    await small.all;
    expect(small.got.map(([m]) => m)).toEqual(["short"]);
    await server.stopListening();
    await sender.stopListening();
  });

  it("fails with CannotListenError on a taken port, InvalidOptionError on a bad limit", async () => {
    reactor = new NodeReactor();
    const first = await reactor.listenUDP(0, new DatagramProtocol(), { interface: "127.0.0.1" });
    const error = await reactor.listenUDP(first.getHost().port, new DatagramProtocol(), { interface: "127.0.0.1" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CannotListenError);
    expect((error as CannotListenError).errno).toBe("EADDRINUSE");
    await expect(reactor.listenUDP(0, new DatagramProtocol(), { maxPacketSize: 0 })).rejects.toBeInstanceOf(InvalidOptionError);
    await first.stopListening();
  });

  it("stop() while a UDP port is still binding abandons it", async () => {
    reactor = new NodeReactor();
    void reactor.run();
    const protocol = new EchoUDP();
    const pending = reactor.listenUDP(0, protocol, { interface: "127.0.0.1" });
    await reactor.stop();
    await expect(pending).rejects.toMatchObject({ code: "WL_ERR_CANNOT_LISTEN", errno: "ECANCELED" });
    expect(protocol.started).toBe(0);
  });

  it("stop() closes UDP ports and stops their protocols; listenUDP during shutdown is refused", async () => {
    reactor = new NodeReactor();
    void reactor.run();
    const echo = new EchoUDP();
    await reactor.listenUDP(0, echo, { interface: "127.0.0.1" });
    let refused: unknown = null;
    reactor.addSystemEventTrigger("during", "shutdown", () => {
      reactor.listenUDP(0, new DatagramProtocol()).addErrback((e: unknown) => {
        refused = e;
      });
    });
    await reactor.stop();
    expect(echo.stopped).toBe(1);
    expect(refused).toBeInstanceOf(ReactorStateError);
  });
});
