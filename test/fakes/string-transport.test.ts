import { describe, expect, it } from "vitest";
import { StringTransport } from "../../fakes/string-transport.js";
import { ConnectionAborted, ConnectionDone, ConnectionLost, ProducerRegisteredError } from "../../runtime/errors.js";
import { Protocol } from "../../runtime/protocol.js";
import type { PullProducer, PushProducer } from "../../runtime/protocol.js";

class Recorder extends Protocol {
  events: string[] = [];
  reasons: Error[] = [];
  override connectionMade(): void {
    this.events.push("made");
  }
  override dataReceived(data: Uint8Array): void {
    this.events.push(`data:${new TextDecoder().decode(data)}`);
  }
  override connectionLost(reason: Error): void {
    this.events.push("lost");
    this.reasons.push(reason);
  }
}

class HalfCloseRecorder extends Recorder {
  override writeConnectionLost(): void {
    this.events.push("writeLost");
  }
}

function pushProducer(log: string[]): PushProducer {
  return {
    pauseProducing: () => log.push("pause"),
    resumeProducing: () => log.push("resume"),
    stopProducing: () => log.push("stop"),
  };
}

describe("StringTransport", () => {
  it("records written bytes: value(), text(), clear(), writeBufferSize", () => {
    const t = new StringTransport();
    const p = t.attach(new Recorder());
    expect(p.events).toEqual(["made"]);
    expect(p.transport).toBe(t);
    t.write("héllo");
    t.write(new Uint8Array([0x20, 0x21]));
    t.writeSequence(["a", new Uint8Array([0x62])]);
    t.write("");
    expect(t.text()).toBe("héllo !ab");
    expect(Array.from(t.value().subarray(0, 2))).toEqual([0x68, 0xc3]);
    expect(t.writeBufferSize).toBe(t.value().length);
    t.clear();
    expect(t.value()).toEqual(new Uint8Array(0));
    expect(t.writeBufferSize).toBe(0);
  });

  it("copies written buffers, so a writer reusing its buffer does not change the record", () => {
    const t = new StringTransport();
    const buf = new Uint8Array([1, 2, 3]);
    t.write(buf);
    buf[0] = 9;
    expect(Array.from(t.value())).toEqual([1, 2, 3]);
  });

  it("receive() hands bytes to the protocol", () => {
    const t = new StringTransport();
    const p = t.attach(new Recorder());
    t.receive("hi");
    expect(p.events).toEqual(["made", "data:hi"]);
    expect(() => new StringTransport().receive("x")).toThrow(/attach/);
  });

  it("rejects a second producer and records the first", () => {
    const t = new StringTransport();
    const producer = pushProducer([]);
    t.registerProducer(producer, true);
    expect(t.producer).toBe(producer);
    expect(t.streaming).toBe(true);
    expect(t.registeredProducerState).toBe("producing");
    expect(() => t.registerProducer(pushProducer([]), true)).toThrow(ProducerRegisteredError);
    t.unregisterProducer();
    expect(t.producer).toBeNull();
    t.registerProducer(pushProducer([]), false);
    expect(t.streaming).toBe(false);
  });

  it("simulated high-water crossings really pause and resume a push producer, once each", () => {
    const t = new StringTransport();
    const log: string[] = [];
    t.registerProducer(pushProducer(log), true);
    t.simulateBufferFull();
    t.simulateBufferFull();
    expect(t.registeredProducerState).toBe("paused");
    t.simulateBufferDrained();
    t.simulateBufferDrained();
    expect(t.registeredProducerState).toBe("producing");
    expect(log).toEqual(["pause", "resume"]);
  });

  it("asks a pull producer for more on each drain, and never pauses it", () => {
    const t = new StringTransport();
    let asked = 0;
    const pull: PullProducer = {
      resumeProducing: () => {
        asked++;
        t.write("x");
      },
      stopProducing: () => undefined,
    };
    t.registerProducer(pull, false);
    t.simulateBufferFull();
    expect(t.registeredProducerState).toBe("producing");
    t.simulateBufferDrained();
    t.simulateBufferDrained();
    expect(asked).toBe(2);
    expect(t.text()).toBe("xx");
  });

  it("records the protocol pausing its own transport (producerState)", () => {
    const t = new StringTransport();
    expect(t.producerState).toBe("producing");
    t.pauseProducing();
    expect(t.producerState).toBe("paused");
    t.resumeProducing();
    expect(t.producerState).toBe("producing");
    t.stopProducing();
    expect(t.producerState).toBe("stopped");
    expect(t.disconnecting).toBe(true);
  });

  it("records loseConnection, abortConnection, loseWriteConnection and ignores later writes", () => {
    const a = new StringTransport();
    const pa = a.attach(new Recorder());
    a.write("before");
    a.loseConnection();
    a.write("after");
    expect(a.disconnecting).toBe(true);
    expect(a.aborted).toBe(false);
    expect(a.text()).toBe("before");
    expect(a.writesAfterClose).toBe(1);
    expect(pa.events).toEqual(["made"]); // nothing delivered without disconnectOnClose

    const b = new StringTransport();
    b.abortConnection();
    expect(b.aborted).toBe(true);
    expect(b.disconnecting).toBe(true);

    const c = new StringTransport();
    c.loseWriteConnection();
    c.write("x");
    expect(c.writeDisconnected).toBe(true);
    expect(c.disconnecting).toBe(false);
    expect(c.text()).toBe("");
  });

  it("reportConnectionLost delivers connectionLost once, stops the producer; getPeer/getHost still answer", () => {
    const t = new StringTransport({
      host: { type: "tcp", host: "1.2.3.4", port: 1 },
      peer: { type: "tcp", host: "5.6.7.8", port: 2 },
    });
    const p = t.attach(new Recorder());
    const log: string[] = [];
    t.registerProducer(pushProducer(log), true);
    expect(t.getHost()).toEqual({ type: "tcp", host: "1.2.3.4", port: 1 });
    expect(t.getPeer()).toEqual({ type: "tcp", host: "5.6.7.8", port: 2 });
    const reason = new ConnectionLost();
    t.reportConnectionLost(reason);
    t.reportConnectionLost(new ConnectionDone());
    expect(p.events).toEqual(["made", "lost"]);
    expect(p.reasons).toEqual([reason]);
    expect(p.connected).toBe(false);
    expect(t.lostReason).toBe(reason);
    expect(log).toEqual(["stop"]);
    expect(t.registeredProducerState).toBe("stopped");
    // The addresses stay available, as on every world.
    expect(t.getHost()).toEqual({ type: "tcp", host: "1.2.3.4", port: 1 });
    expect(t.getPeer()).toEqual({ type: "tcp", host: "5.6.7.8", port: 2 });
  });

  it("reportConnectionLost defaults to ConnectionDone and calls onConnectionLost", () => {
    const t = new StringTransport();
    const p = t.attach(new Recorder());
    const hooked: Error[] = [];
    t.onConnectionLost = (r) => hooked.push(r);
    t.reportConnectionLost();
    expect(p.reasons[0]).toBeInstanceOf(ConnectionDone);
    expect(hooked[0]).toBe(p.reasons[0]);
  });

  describe("with disconnectOnClose", () => {
    it("loseConnection delivers connectionLost(ConnectionDone) at once", () => {
      const t = new StringTransport({ disconnectOnClose: true });
      const p = t.attach(new Recorder());
      t.loseConnection();
      t.loseConnection();
      expect(p.events).toEqual(["made", "lost"]);
      expect(p.reasons[0]).toBeInstanceOf(ConnectionDone);
    });

    it("abortConnection delivers connectionLost(ConnectionAborted)", () => {
      const t = new StringTransport({ disconnectOnClose: true });
      const p = t.attach(new Recorder());
      t.abortConnection();
      expect(p.reasons.map((r) => r.constructor)).toEqual([ConnectionAborted]);
    });

    it("loseWriteConnection calls writeConnectionLost", () => {
      const t = new StringTransport({ disconnectOnClose: true });
      const p = t.attach(new HalfCloseRecorder());
      t.loseWriteConnection();
      expect(p.events).toEqual(["made", "writeLost"]);
    });
  });
});
