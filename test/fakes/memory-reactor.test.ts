import { describe, expect, it } from "vitest";
import { MemoryReactor } from "../../fakes/memory-reactor.js";
import type { StringTransport } from "../../fakes/string-transport.js";
import { byteByByte } from "../../fakes/chunking.js";
import { Deferred } from "../../runtime/deferred.js";
import {
  CancelledError,
  CannotListenError,
  ConnectionDone,
  ConnectionLost,
  ConnectionRefusedByFactoryError,
  ConnectionRefusedError,
  ConnectTimeoutError,
  InvalidEndpointError,
  ReactorStateError,
  UnhandledReactorError,
} from "../../runtime/errors.js";
import { ClientFactory, DatagramProtocol, Factory, Protocol } from "../../runtime/protocol.js";
import type { Address, Connector } from "../../runtime/protocol.js";

const dec = new TextDecoder();

class Recorder extends Protocol {
  received = "";
  reason: Error | null = null;
  made = false;
  override connectionMade(): void {
    this.made = true;
  }
  override dataReceived(data: Uint8Array): void {
    this.received += dec.decode(data);
  }
  override connectionLost(reason: Error): void {
    this.reason = reason;
  }
}

class Echo extends Recorder {
  override dataReceived(data: Uint8Array): void {
    super.dataReceived(data);
    this.transport.write(data);
  }
}

class LoggingClientFactory extends ClientFactory<Recorder> {
  log: string[] = [];
  connectors: Connector[] = [];
  constructor() {
    super(Recorder);
  }
  override startedConnecting(connector: Connector): void {
    this.connectors.push(connector);
    this.log.push("started");
  }
  override clientConnectionFailed(_c: Connector, reason: Error): void {
    this.log.push(`failed:${reason.constructor.name}`);
  }
  override clientConnectionLost(_c: Connector, reason: Error): void {
    this.log.push(`lost:${reason.constructor.name}`);
  }
  override startFactory(): void {
    this.log.push("startFactory");
  }
  override stopFactory(): void {
    this.log.push("stopFactory");
  }
}

/** Captures a Deferred's outcome synchronously. */
function outcome<T>(d: Deferred<T>): { value?: T; error?: unknown } {
  const out: { value?: T; error?: unknown } = {};
  d.addCallbacks(
    (v) => {
      out.value = v;
    },
    (e) => {
      out.error = e;
    },
  );
  return out;
}

describe("MemoryReactor: listening", () => {
  it("records TCP, TLS and unix listens with parsed endpoint and factory; port 0 gets 49152 upward", () => {
    const reactor = new MemoryReactor();
    const factory = new Factory(Recorder);
    const a = outcome(reactor.listen("tcp:0:interface=127.0.0.1", factory));
    const b = outcome(reactor.listen("tcp:0", factory));
    const c = outcome(reactor.listen("tcp:8080", factory));
    const d = outcome(reactor.listen("tls:0:privateKey=k.pem", factory));
    const e = outcome(reactor.listen("unix:/tmp/s.sock", factory));
    expect(a.value?.getHost()).toEqual({ type: "tcp", host: "127.0.0.1", port: 49152 });
    expect(b.value?.getHost()).toEqual({ type: "tcp", host: "0.0.0.0", port: 49153 });
    expect(c.value?.getHost().port).toBe(8080);
    expect(d.value?.getHost().port).toBe(49154);
    expect(e.value?.getHost()).toEqual({ type: "unix", host: "/tmp/s.sock", port: 0 });
    expect(reactor.tcpServers.map((p) => p.endpoint)).toEqual([
      { kind: "tcp", port: 0, interface: "127.0.0.1", backlog: 511 },
      { kind: "tcp", port: 0, interface: "0.0.0.0", backlog: 511 },
      { kind: "tcp", port: 8080, interface: "0.0.0.0", backlog: 511 },
    ]);
    expect(reactor.tlsServers).toHaveLength(1);
    expect(reactor.unixServers[0]?.factory).toBe(factory);
    expect(factory.numPorts).toBe(5);
  });

  it("fails through the Deferred for a bad endpoint or an address in use", () => {
    const reactor = new MemoryReactor();
    const factory = new Factory(Recorder);
    expect(outcome(reactor.listen("bogus:1", factory)).error).toBeInstanceOf(InvalidEndpointError);
    outcome(reactor.listen("tcp:80:interface=127.0.0.1", factory));
    const clash = outcome(reactor.listen("tcp:80", factory)).error;
    expect(clash).toBeInstanceOf(CannotListenError);
    expect((clash as CannotListenError).errno).toBe("EADDRINUSE");
    expect(outcome(reactor.listen("tcp:80:interface=10.0.0.1", factory)).value).toBeDefined();
    outcome(reactor.listen("unix:/a", factory));
    expect(outcome(reactor.listen("unix:/a", factory)).error).toBeInstanceOf(CannotListenError);
  });

  it("records stopListening, releases the factory, and frees the port", () => {
    const reactor = new MemoryReactor();
    const log: string[] = [];
    const factory = new Factory(Recorder);
    factory.stopFactory = () => log.push("stopFactory");
    const port = outcome(reactor.listen("tcp:9000", factory)).value!;
    const record = reactor.tcpServers[0]!;
    expect(record).toBe(port);
    expect(record.listening).toBe(true);
    expect(outcome(port.stopListening())).toEqual({ value: undefined });
    expect(record.listening).toBe(false);
    expect(log).toEqual(["stopFactory"]);
    void port.stopListening();
    expect(log).toEqual(["stopFactory"]);
    expect(outcome(reactor.listen("tcp:9000", factory)).value).toBeDefined();
  });

  it("accept() plays an incoming connection into the factory's protocol", () => {
    const reactor = new MemoryReactor();
    outcome(reactor.listen("tcp:7000", new Factory(Echo)));
    const port = reactor.tcpServers[0]!;
    const { protocol, transport } = port.accept({ peer: { type: "tcp", host: "10.1.1.1", port: 5555 } });
    expect(protocol).toBeInstanceOf(Echo);
    expect((protocol as Echo).made).toBe(true);
    transport.receive("hi");
    expect(transport.text()).toBe("hi");
    expect(transport.getPeer()).toEqual({ type: "tcp", host: "10.1.1.1", port: 5555 });
    expect(transport.getHost()).toEqual({ type: "tcp", host: "0.0.0.0", port: 7000 });

    const refusing = Factory.forProtocol<Protocol>(() => new Recorder());
    refusing.buildProtocol = () => null;
    outcome(reactor.listen("tcp:7001", refusing));
    const refused = reactor.tcpServers[1]!.accept();
    expect(refused.protocol).toBeNull();
    expect(refused.transport.disconnecting).toBe(true);
    port.stopListening();
    expect(() => port.accept()).toThrow(ConnectionRefusedError);
  });
});

describe("MemoryReactor: connecting", () => {
  it("records TCP, TLS and unix connects with parsed endpoints; ClientFactory hears startedConnecting", () => {
    const reactor = new MemoryReactor();
    const factory = new LoggingClientFactory();
    void reactor.connect("tcp:example.com:80:timeout=5", factory);
    void reactor.connect("tls:example.com:443", factory);
    void reactor.connect("unix:/run/x.sock", factory);
    expect(reactor.tcpClients[0]?.endpoint).toEqual({ kind: "tcp", host: "example.com", port: 80, timeout: 5 });
    expect(reactor.tlsClients[0]?.endpoint.kind).toBe("tls");
    expect(reactor.unixClients[0]?.peerAddress).toEqual({ type: "unix", host: "/run/x.sock", port: 0 });
    expect(reactor.connects.every((c) => c.state === "connecting" && c.factory === factory)).toBe(true);
    expect(factory.log).toEqual(["startFactory", "started", "started", "started"]);
    expect(factory.connectors[0]?.getDestination()).toBe(reactor.tcpClients[0]?.endpoint);
    expect(outcome(reactor.connect("tcp:nohost", factory)).error).toBeInstanceOf(InvalidEndpointError);
  });

  it("complete() over a StringTransport fires the Deferred after connectionMade; loss reaches clientConnectionLost", () => {
    const reactor = new MemoryReactor();
    const factory = new LoggingClientFactory();
    let madeWhenFired: boolean | undefined;
    const d = reactor.connect("tcp:10.0.0.9:80", factory);
    d.addCallback((p) => {
      madeWhenFired = p.made;
      return p;
    });
    const attempt = reactor.tcpClients[0]!;
    const proto = attempt.complete();
    expect(madeWhenFired).toBe(true);
    expect(attempt.state).toBe("connected");
    expect(attempt.protocol).toBe(proto);
    const transport = attempt.transport as StringTransport;
    expect(transport.getPeer()).toEqual({ type: "tcp", host: "10.0.0.9", port: 80 });
    expect(transport.getHost().port).toBeGreaterThanOrEqual(49152);
    proto.transport.write("GET /");
    expect(transport.text()).toBe("GET /");
    transport.reportConnectionLost(new ConnectionDone());
    expect(attempt.state).toBe("disconnected");
    expect(factory.log).toEqual(["startFactory", "started", "lost:ConnectionDone", "stopFactory"]);
    expect(() => attempt.complete()).toThrow(ReactorStateError);
  });

  it("fail() fails the Deferred with the chosen error and calls clientConnectionFailed", () => {
    const reactor = new MemoryReactor();
    const factory = new LoggingClientFactory();
    const result = outcome(reactor.connect("tcp:10.0.0.9:80", factory));
    reactor.tcpClients[0]!.fail();
    expect(result.error).toBeInstanceOf(ConnectionRefusedError);
    expect((result.error as ConnectionRefusedError).errno).toBe("ECONNREFUSED");
    expect(factory.log).toEqual(["startFactory", "started", "failed:ConnectionRefusedError", "stopFactory"]);
    expect(reactor.tcpClients[0]!.state).toBe("failed");
    expect(() => reactor.tcpClients[0]!.fail()).toThrow(ReactorStateError);

    const custom = new Error("custom");
    const second = outcome(reactor.connect("tcp:10.0.0.9:80", factory));
    reactor.tcpClients[1]!.fail(custom);
    expect(second.error).toBe(custom);
  });

  it("fails with ConnectTimeoutError when the clock reaches the endpoint's timeout", () => {
    const reactor = new MemoryReactor();
    const factory = new LoggingClientFactory();
    const result = outcome(reactor.connect("tcp:10.0.0.9:80:timeout=2", factory));
    reactor.clock.advance(1999);
    expect(result.error).toBeUndefined();
    reactor.clock.advance(1);
    expect(result.error).toBeInstanceOf(ConnectTimeoutError);
    expect(factory.log).toContain("failed:ConnectTimeoutError");

    const ok = outcome(reactor.connect("tcp:10.0.0.9:80:timeout=2", factory));
    reactor.tcpClients[1]!.complete();
    reactor.clock.advance(5000);
    expect(ok.value).toBeInstanceOf(Recorder);
    expect(reactor.clock.pendingCalls()).toHaveLength(0);
  });

  it("cancelling the Deferred, or connector.stopConnecting(), abandons the attempt", () => {
    const reactor = new MemoryReactor();
    const factory = new LoggingClientFactory();
    const d = reactor.connect("tcp:h:1", factory);
    const result = outcome(d);
    d.cancel();
    expect(result.error).toBeInstanceOf(CancelledError);
    expect(reactor.tcpClients[0]!.state).toBe("failed");
    const second = outcome(reactor.connect("tcp:h:1", factory));
    factory.connectors[1]!.stopConnecting();
    expect(second.error).toBeInstanceOf(CancelledError);
    expect(factory.log.filter((l) => l === "failed:CancelledError")).toHaveLength(2);
  });

  it("connector.connect() starts a new recorded attempt with the same factory", () => {
    const reactor = new MemoryReactor();
    const factory = new LoggingClientFactory();
    outcome(reactor.connect("tcp:h:1", factory));
    factory.connectors[0]!.connect();
    expect(reactor.tcpClients).toHaveLength(2);
    expect(reactor.tcpClients[1]!.factory).toBe(factory);
    reactor.tcpClients[1]!.fail(); // its Deferred's failure is consumed by the connector
  });

  it("a factory that refuses fails the attempt with ConnectionRefusedByFactoryError", () => {
    const reactor = new MemoryReactor();
    const factory = new LoggingClientFactory();
    factory.buildProtocol = () => null;
    const result = outcome(reactor.connect("tcp:h:1", factory));
    expect(() => reactor.tcpClients[0]!.complete()).toThrow(ConnectionRefusedByFactoryError);
    expect(result.error).toBeInstanceOf(ConnectionRefusedByFactoryError);
  });

  it("completePair() joins the client to a given server protocol through a Pump", () => {
    const reactor = new MemoryReactor();
    const factory = new LoggingClientFactory();
    const result = outcome(reactor.connect("tcp:10.0.0.9:80", factory));
    const server = new Echo();
    const pump = reactor.tcpClients[0]!.completePair(server, { chunking: byteByByte() });
    const client = result.value!;
    expect(client.transport.getPeer()).toEqual({ type: "tcp", host: "10.0.0.9", port: 80 });
    expect(server.transport.getPeer()).toEqual(client.transport.getHost());
    client.transport.write("ping");
    pump.flush();
    expect(client.received).toBe("ping");
    client.transport.loseConnection();
    pump.flush();
    expect(server.reason).toBeInstanceOf(ConnectionDone);
    expect(factory.log).toEqual(["startFactory", "started", "lost:ConnectionDone", "stopFactory"]);
  });

  it("completePair() without a server finds the recorded listener the endpoint reaches", () => {
    const reactor = new MemoryReactor();
    const built: Address[] = [];
    const serverFactory = Factory.forProtocol(() => new Echo());
    const original = serverFactory.buildProtocol.bind(serverFactory);
    serverFactory.buildProtocol = (addr) => {
      built.push(addr);
      return original(addr);
    };
    outcome(reactor.listen("tcp:0:interface=127.0.0.1", serverFactory));
    const port = reactor.tcpServers[0]!.address.port;
    const result = outcome(reactor.connect(`tcp:127.0.0.1:${port}`, new Factory(Recorder)));
    const pump = reactor.tcpClients[0]!.completePair();
    result.value!.transport.write("via listener");
    pump.flush();
    expect(result.value!.received).toBe("via listener");
    expect(built).toEqual([result.value!.transport.getHost()]);

    outcome(reactor.connect("tcp:127.0.0.1:1", new Factory(Recorder)));
    expect(() => reactor.tcpClients[1]!.completePair()).toThrow(ReactorStateError);
  });
});

describe("MemoryReactor: UDP", () => {
  it("records the port, binds the protocol, records writes and delivers datagrams", () => {
    const reactor = new MemoryReactor();
    const got: string[] = [];
    let stopped = false;
    class Udp extends DatagramProtocol {
      override datagramReceived(data: Uint8Array, addr: Address): void {
        got.push(`${dec.decode(data)}@${addr.host}:${addr.port}`);
        this.transport.write(data, addr);
      }
      override stopProtocol(): void {
        stopped = true;
      }
    }
    const proto = new Udp();
    const t = outcome(reactor.listenUDP(0, proto, { maxPacketSize: 4 })).value!;
    expect(t.getHost()).toEqual({ type: "udp", host: "0.0.0.0", port: 49152 });
    expect(proto.transport).toBe(t);
    const port = reactor.udpPorts[0]!;
    expect(port.deliver("ping", { host: "1.2.3.4", port: 9 })).toBe(true);
    expect(port.deliver("too long", { host: "1.2.3.4", port: 9 })).toBe(false);
    expect(got).toEqual(["ping@1.2.3.4:9"]);
    expect(port.written.map((w) => [dec.decode(w.data), w.addr])).toEqual([["ping", { host: "1.2.3.4", port: 9 }]]);
    expect(outcome(reactor.listenUDP(49152, new Udp())).error).toBeInstanceOf(CannotListenError);
    t.stopListening();
    expect(stopped).toBe(true);
    expect(port.deliver("late", { host: "1.2.3.4", port: 9 })).toBe(false);
  });
});

describe("MemoryReactor: time and randomness", () => {
  it("keeps time on its clock and draws random() from the seed", () => {
    const reactor = new MemoryReactor({ start: 500, seed: 42 });
    const ran: number[] = [];
    reactor.callLater(100, () => ran.push(reactor.now()));
    reactor.clock.advance(100);
    expect(ran).toEqual([600]);
    const a = Array.from({ length: 5 }, () => reactor.random());
    const b = new MemoryReactor({ seed: 42 });
    expect(Array.from({ length: 5 }, () => b.random())).toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it("sends errors from timed calls to the error hook", () => {
    const reactor = new MemoryReactor();
    const errors: Error[] = [];
    reactor.setErrorHook((e) => errors.push(e));
    reactor.callLater(1, () => {
      throw new Error("boom");
    });
    reactor.clock.advance(1);
    expect(errors[0]).toBeInstanceOf(UnhandledReactorError);
  });
});

describe("MemoryReactor: life cycle", () => {
  it("run() fires startup triggers in phase order and callWhenRunning calls; later ones run at once", () => {
    const reactor = new MemoryReactor();
    const log: string[] = [];
    reactor.callWhenRunning(() => log.push(`cwr running=${reactor.running}`));
    reactor.addSystemEventTrigger("after", "startup", () => log.push("after"));
    reactor.addSystemEventTrigger("during", "startup", () => log.push(`during running=${reactor.running}`));
    reactor.addSystemEventTrigger("before", "startup", () => log.push(`before running=${reactor.running}`));
    const removed = reactor.addSystemEventTrigger("before", "startup", () => log.push("removed"));
    reactor.removeSystemEventTrigger(removed);
    expect(reactor.running).toBe(false);
    void reactor.run();
    expect(log).toEqual(["before running=false", "during running=true", "cwr running=true", "after"]);
    reactor.callWhenRunning(() => log.push("now"));
    expect(log.at(-1)).toBe("now");
    expect(() => reactor.run()).toThrow(ReactorStateError);
  });

  it("stop() waits for a before-shutdown Deferred, then closes ports, connections and timed calls", () => {
    const reactor = new MemoryReactor();
    const log: string[] = [];
    const finished = outcome(reactor.run());
    outcome(reactor.listen("tcp:0", new Factory(Recorder)));
    outcome(reactor.connect("tcp:h:1", new Factory(Recorder)));
    reactor.tcpClients[0]!.complete();
    const timer = reactor.callLater(10_000, () => log.push("timer ran"));
    const gate = new Deferred<void>();
    reactor.addSystemEventTrigger("before", "shutdown", () => {
      log.push("before");
      return gate;
    });
    reactor.addSystemEventTrigger("during", "shutdown", () => log.push("during"));
    reactor.addSystemEventTrigger("after", "shutdown", () => log.push("after"));
    const stopped = outcome(reactor.stop());
    // A second stop() waits for the same shutdown.
    const again = outcome(reactor.stop());
    expect(log).toEqual(["before"]);
    expect(reactor.running).toBe(true);
    expect(reactor.tcpServers[0]!.listening).toBe(true);
    gate.callback(undefined);
    expect(log).toEqual(["before", "during", "after"]);
    expect(reactor.tcpServers[0]!.listening).toBe(false);
    // Closed at once, as NodeReactor's shutdown closes a socket: the protocol got ConnectionLost.
    expect((reactor.tcpClients[0]!.transport as StringTransport).lostReason).toBeInstanceOf(ConnectionLost);
    expect(timer.active()).toBe(false);
    expect(again).toEqual({ value: undefined });
    expect(reactor.running).toBe(false);
    expect(stopped).toEqual({ value: undefined });
    expect(finished).toEqual({ value: undefined });
    expect(() => reactor.run()).toThrow(ReactorStateError);
  });

  it("stop() before run() throws ReactorStateError", () => {
    expect(() => new MemoryReactor().stop()).toThrow(ReactorStateError);
  });

  it("a before-shutdown trigger returning a Promise is waited for", async () => {
    const reactor = new MemoryReactor();
    void reactor.run();
    let release!: () => void;
    const log: string[] = [];
    reactor.addSystemEventTrigger("before", "shutdown", () => new Promise<void>((r) => (release = r)));
    reactor.addSystemEventTrigger("after", "shutdown", () => log.push("after"));
    const done = reactor.stop();
    expect(log).toEqual([]);
    release();
    await done;
    expect(log).toEqual(["after"]);
  });

  it("a throwing trigger does not stop the sequence; its error is reported once the event ran", () => {
    const reactor = new MemoryReactor();
    const errors: Error[] = [];
    reactor.setErrorHook((e) => errors.push(e));
    const log: string[] = [];
    reactor.addSystemEventTrigger("before", "startup", () => {
      throw new Error("bad trigger");
    });
    reactor.addSystemEventTrigger("after", "startup", () => log.push("after"));
    void reactor.run();
    expect(log).toEqual(["after"]);
    expect(reactor.running).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(UnhandledReactorError);
  });

  it("with the default hook, a throwing startup trigger surfaces from run() once startup is done", () => {
    const reactor = new MemoryReactor();
    const log: string[] = [];
    reactor.addSystemEventTrigger("during", "startup", () => {
      throw new Error("bad trigger");
    });
    reactor.callWhenRunning(() => log.push("cwr"));
    expect(() => reactor.run()).toThrow(UnhandledReactorError);
    expect(log).toEqual(["cwr"]);
    expect(reactor.running).toBe(true);
  });

  it("with the default hook, a throwing shutdown trigger fails the stop() Deferred after shutdown", () => {
    const reactor = new MemoryReactor();
    void reactor.run();
    reactor.addSystemEventTrigger("during", "shutdown", () => {
      throw new Error("bad trigger");
    });
    const result = outcome(reactor.stop());
    expect(result.error).toBeInstanceOf(UnhandledReactorError);
    expect(reactor.running).toBe(false);
  });
});
