import { describe, expect, it } from "vitest";
import { Clock } from "../../fakes/clock.js";
import { StringTransport } from "../../fakes/string-transport.js";
import { ConnectionDone, InvalidOptionError } from "../../runtime/errors.js";
import { IdleTimeoutFactory, IdleTimeoutProtocol, limitConnections, withIdleTimeout } from "../../runtime/policies.js";
import { ClientFactory, Factory, Protocol } from "../../runtime/protocol.js";
import type { Address, Connector, PushProducer } from "../../runtime/protocol.js";
import { ProtocolWrapper, WrappingFactory } from "../../runtime/protocol-wrapper.js";

const ADDR: Address = { type: "tcp", host: "10.0.0.2", port: 80 };
const enc = new TextEncoder();

class Recorder extends Protocol {
  events: string[] = [];
  override connectionMade(): void {
    this.events.push("made");
  }
  override dataReceived(data: Uint8Array): void {
    this.events.push(`data:${new TextDecoder().decode(data)}`);
  }
  override connectionLost(reason: Error): void {
    this.events.push(`lost:${reason.name}`);
  }
}

function connect<P extends Protocol>(factory: Factory<P>): { proto: P; transport: StringTransport } {
  const proto = factory.buildProtocol(ADDR);
  if (proto === null) throw new Error("refused");
  const transport = new StringTransport({ disconnectOnClose: true });
  transport.attach(proto);
  return { proto, transport };
}

describe("ProtocolWrapper", () => {
  it("forwards events both ways and is the wrapped protocol's transport", () => {
    const inner = new Recorder();
    const factory = new WrappingFactory(Factory.forProtocol(() => inner));
    const { proto: wrapper, transport } = connect(factory);
    expect(inner.transport).toBe(wrapper);
    expect(inner.connected).toBe(true);
    expect(factory.protocols.has(wrapper)).toBe(true);
    transport.receive("hi");
    inner.transport.write("out");
    inner.transport.writeSequence(["a", enc.encode("b")]);
    expect(transport.text()).toBe("outab");
    expect(inner.transport.getPeer()).toEqual(transport.getPeer());
    expect(inner.transport.getHost()).toEqual(transport.getHost());
    expect(inner.transport.highWaterMark).toBe(transport.highWaterMark);
    expect(inner.transport.writeBufferSize).toBe(5);
    inner.transport.setTcpNoDelay(true);
    expect(transport.tcpNoDelay).toBe(true);
    inner.transport.pauseProducing();
    expect(transport.producerState).toBe("paused");
    inner.transport.resumeProducing();
    expect(transport.producerState).toBe("producing");
    inner.transport.loseConnection();
    expect(inner.events).toEqual(["made", "data:hi", "lost:ConnectionDone"]);
    expect(inner.connected).toBe(false);
    expect(factory.protocols.size).toBe(0);
  });

  it("forwards producer registration, so backpressure reaches the wrapped protocol's producer", () => {
    const inner = new Protocol();
    const { transport } = connect(new WrappingFactory(Factory.forProtocol(() => inner)));
    const states: string[] = [];
    const producer: PushProducer = {
      pauseProducing: () => void states.push("pause"),
      resumeProducing: () => void states.push("resume"),
      stopProducing: () => void states.push("stop"),
    };
    inner.transport.registerProducer(producer, true);
    expect(transport.producer).toBe(producer);
    transport.simulateBufferFull();
    transport.simulateBufferDrained();
    inner.transport.unregisterProducer();
    expect(transport.producer).toBe(null);
    expect(states).toEqual(["pause", "resume"]);
  });

  it("offers the half-close hooks exactly when the wrapped protocol has them", () => {
    class HalfClose extends Protocol {
      readLost = 0;
      override readConnectionLost(): void {
        this.readLost++;
      }
    }
    const half = new HalfClose();
    const w1 = new ProtocolWrapper(new WrappingFactory(new Factory()), half);
    expect("readConnectionLost" in w1).toBe(true);
    expect("writeConnectionLost" in w1).toBe(false);
    w1.readConnectionLost?.();
    expect(half.readLost).toBe(1);
    const w2 = new ProtocolWrapper(new WrappingFactory(new Factory()), new Protocol());
    expect("readConnectionLost" in w2).toBe(false);
  });

  it("refuses when the wrapped factory refuses, and forwards start/stop and client hooks", () => {
    const seen: string[] = [];
    class Inner extends ClientFactory {
      override buildProtocol(): Protocol | null {
        return null;
      }
      override startFactory(): void {
        seen.push("start");
      }
      override stopFactory(): void {
        seen.push("stop");
      }
      override startedConnecting(): void {
        seen.push("connecting");
      }
      override clientConnectionFailed(_c: Connector, reason: Error): void {
        seen.push(`failed:${reason.message}`);
      }
      override clientConnectionLost(_c: Connector, reason: Error): void {
        seen.push(`lost:${reason.message}`);
      }
    }
    const factory = new WrappingFactory(new Inner());
    expect(factory.buildProtocol(ADDR)).toBe(null);
    const connector = {} as Connector;
    factory.doStart();
    factory.startedConnecting(connector);
    factory.clientConnectionFailed(connector, new Error("x"));
    factory.clientConnectionLost(connector, new Error("y"));
    factory.doStop();
    expect(seen).toEqual(["start", "connecting", "failed:x", "lost:y", "stop"]);
  });
});

describe("withIdleTimeout", () => {
  it("closes a connection with no traffic after timeoutMs", () => {
    const clock = new Clock();
    const inner = new Recorder();
    const { transport } = connect(withIdleTimeout(Factory.forProtocol(() => inner), { clock, timeoutMs: 1000 }));
    clock.advance(999);
    expect(transport.disconnecting).toBe(false);
    clock.advance(1);
    expect(transport.disconnecting).toBe(true);
    expect(inner.events).toEqual(["made", "lost:ConnectionDone"]);
  });

  it("is reset by received data", () => {
    const clock = new Clock();
    const { transport } = connect(withIdleTimeout(Factory.forProtocol(() => new Protocol()), { clock, timeoutMs: 1000 }));
    clock.advance(600);
    transport.receive("x");
    clock.advance(600); // 1200: 600 since the data
    expect(transport.disconnecting).toBe(false);
    transport.receive("y");
    clock.advance(999); // 2199
    expect(transport.disconnecting).toBe(false);
    clock.advance(1); // 2200: 1000 since the last data
    expect(transport.disconnecting).toBe(true);
    expect(clock.now()).toBe(2200);
  });

  it("is reset by the protocol's writes", () => {
    const clock = new Clock();
    const inner = new Protocol();
    const { transport } = connect(withIdleTimeout(Factory.forProtocol(() => inner), { clock, timeoutMs: 1000 }));
    clock.advance(900);
    inner.transport.write("ping");
    clock.advance(900);
    inner.transport.writeSequence(["p", "q"]);
    clock.advance(999);
    expect(transport.disconnecting).toBe(false);
    clock.advance(1);
    expect(transport.disconnecting).toBe(true);
    expect(transport.text()).toBe("pingpq");
  });

  it("cancels its timer when the connection is lost", () => {
    const clock = new Clock();
    const { transport } = connect(withIdleTimeout(Factory.forProtocol(() => new Protocol()), { clock, timeoutMs: 1000 }));
    transport.reportConnectionLost(new ConnectionDone());
    expect(clock.pendingCalls()).toHaveLength(0);
  });

  it("calls an overridden timeoutConnection, and setTimeout changes or turns off the timeout", () => {
    const clock = new Clock();
    const timedOut: number[] = [];
    class Custom extends IdleTimeoutProtocol {
      override timeoutConnection(): void {
        timedOut.push(this.clock.now());
        this.transport.abortConnection();
      }
    }
    class CustomFactory extends IdleTimeoutFactory {
      override wrapProtocol(wrapped: Protocol): IdleTimeoutProtocol {
        return new Custom(this, wrapped, this.clock, this.timeoutMs);
      }
    }
    const factory = new CustomFactory(Factory.forProtocol(() => new Protocol()), { clock, timeoutMs: 1000 });
    const { proto, transport } = connect(factory);
    expect(proto.setTimeout(null)).toBe(1000);
    clock.advance(5000);
    expect(timedOut).toEqual([]);
    proto.setTimeout(100);
    clock.advance(100);
    expect(timedOut).toEqual([5100]);
    expect(transport.aborted).toBe(true);
  });

  it("validates timeoutMs", () => {
    const clock = new Clock();
    expect(() => withIdleTimeout(new Factory(), { clock, timeoutMs: 0 })).toThrow(InvalidOptionError);
    expect(() => withIdleTimeout(new Factory(), { clock, timeoutMs: Infinity })).toThrow(InvalidOptionError);
  });
});

describe("limitConnections", () => {
  it("refuses connections over the limit and counts down on connectionLost", () => {
    const factory = limitConnections(Factory.forProtocol(() => new Protocol()), 2);
    const a = connect(factory);
    const b = connect(factory);
    expect(factory.connectionCount).toBe(2);
    expect(factory.buildProtocol(ADDR)).toBe(null);
    a.transport.reportConnectionLost(new ConnectionDone());
    expect(factory.connectionCount).toBe(1);
    const c = connect(factory);
    expect(factory.connectionCount).toBe(2);
    b.transport.loseConnection();
    c.transport.loseConnection();
    expect(factory.connectionCount).toBe(0);
  });

  it("hands connections over the limit to an overflow protocol, which does not count", () => {
    class Busy extends Protocol {
      override connectionMade(): void {
        this.transport.write("busy\n");
        this.transport.loseConnection();
      }
    }
    const factory = limitConnections(Factory.forProtocol(() => new Recorder()), 1, { overflowProtocol: () => new Busy() });
    const a = connect(factory);
    const over = connect(factory);
    expect(over.transport.text()).toBe("busy\n");
    expect(over.transport.disconnecting).toBe(true);
    expect(factory.connectionCount).toBe(1);
    a.transport.loseConnection();
    expect(factory.connectionCount).toBe(0);
    const b = connect(factory);
    expect(b.proto.wrappedProtocol).toBeInstanceOf(Recorder);
  });

  it("validates maxConnections", () => {
    expect(() => limitConnections(new Factory(), 0)).toThrow(InvalidOptionError);
    expect(() => limitConnections(new Factory(), 1.5)).toThrow(InvalidOptionError);
  });
});
