import { describe, expect, it } from "vitest";
import { Clock } from "../../fakes/clock.js";
import { SeededRandom } from "../../fakes/random.js";
import { ConnectionLost, ConnectionRefusedError, InvalidOptionError } from "../../runtime/errors.js";
import type { ClientEndpoint } from "../../runtime/endpoints.js";
import { Protocol } from "../../runtime/protocol.js";
import type { Address, Connector } from "../../runtime/protocol.js";
import {
  DEFAULT_BACKOFF_FACTOR,
  DEFAULT_INITIAL_DELAY_MS,
  DEFAULT_JITTER,
  DEFAULT_MAX_DELAY_MS,
  ReconnectingClientFactory,
} from "../../runtime/reconnecting-client-factory.js";
import type { RandomClock } from "../../runtime/reconnecting-client-factory.js";

const ADDR: Address = { type: "tcp", host: "127.0.0.1", port: 1 };

class FakeConnector implements Connector {
  connects: number[] = [];
  stops = 0;
  constructor(private readonly clock: Clock) {}
  getDestination(): ClientEndpoint {
    return { kind: "tcp", host: "127.0.0.1", port: 1, timeout: 30 };
  }
  connect(): void {
    this.connects.push(this.clock.now());
  }
  stopConnecting(): void {
    this.stops++;
  }
  disconnect(): void {}
}

function randomClock(random: () => number): RandomClock & Clock {
  const clock = new Clock() as Clock & { random(): number };
  clock.random = random;
  return clock;
}

/** Fails every attempt as soon as it is made, and returns the gaps between attempts. */
function failRepeatedly(factory: ReconnectingClientFactory, clock: Clock, connector: FakeConnector, attempts: number): number[] {
  factory.clientConnectionFailed(connector, new ConnectionRefusedError());
  while (clock.stepToNext() && connector.connects.length < attempts) {
    factory.clientConnectionFailed(connector, new ConnectionRefusedError());
  }
  const times = [0, ...connector.connects];
  return times.slice(1).map((t, i) => t - times[i]!);
}

describe("ReconnectingClientFactory", () => {
  it("has Twisted's defaults, in milliseconds", () => {
    const factory = new ReconnectingClientFactory(randomClock(() => 0.5));
    expect(factory.initialDelay).toBe(1000);
    expect(factory.maxDelay).toBe(3_600_000);
    expect(factory.factor).toBe(2.718281828459045);
    expect(factory.jitter).toBe(0.11962656472);
    expect(factory.maxRetries).toBe(null);
    expect([DEFAULT_INITIAL_DELAY_MS, DEFAULT_MAX_DELAY_MS, DEFAULT_BACKOFF_FACTOR, DEFAULT_JITTER]).toEqual([
      factory.initialDelay,
      factory.maxDelay,
      factory.factor,
      factory.jitter,
    ]);
  });

  it("without jitter, backs off by factor up to maxDelay", () => {
    const clock = randomClock(() => {
      throw new Error("no jitter, no random draws");
    });
    const connector = new FakeConnector(clock);
    const factory = new ReconnectingClientFactory(clock, undefined, { jitter: 0, initialDelay: 100, factor: 2, maxDelay: 1000 });
    expect(failRepeatedly(factory, clock, connector, 6)).toEqual([200, 400, 800, 1000, 1000, 1000]);
    expect(factory.retries).toBe(6);
    expect(clock.pendingCalls()).toHaveLength(0);
  });

  it("draws normal jitter from the clock's random source", () => {
    // u2 = 0.25 gives cos(pi/2) = 0 (no deviation); u2 = 0 with u1 = 1 - e^-0.5 gives exactly +1 sd.
    const draws = [0.5, 0.25, 1 - Math.exp(-0.5), 0];
    const clock = randomClock(() => {
      const next = draws.shift();
      if (next === undefined) throw new Error("out of draws");
      return next;
    });
    const connector = new FakeConnector(clock);
    const factory = new ReconnectingClientFactory(clock);
    const gaps = failRepeatedly(factory, clock, connector, 2);
    const first = 1000 * Math.E;
    expect(gaps[0]).toBeCloseTo(first, 6);
    const second = first * Math.E;
    expect(gaps[1]).toBeCloseTo(second * (1 + DEFAULT_JITTER), 6);
  });

  it("is deterministic for a seed and stays near the unjittered curve", () => {
    const run = (seed: number): number[] => {
      const rng = new SeededRandom(seed);
      const clock = randomClock(() => rng.next());
      return failRepeatedly(new ReconnectingClientFactory(clock), clock, new FakeConnector(clock), 12);
    };
    const a = run(7);
    expect(run(7)).toEqual(a);
    expect(run(8)).not.toEqual(a);
    // Each delay is the previous one times e (capped), times a jitter factor of 1 +- 0.12 sd.
    let previous = 1000;
    for (const gap of a) {
      const expected = Math.min(previous * Math.E, 3_600_000);
      expect(gap / expected).toBeGreaterThan(0.4);
      expect(gap / expected).toBeLessThan(1.6);
      previous = gap;
    }
  });

  it("retries after a lost connection too, and a successful connection resets the delay", () => {
    const clock = randomClock(() => 0.25);
    const connector = new FakeConnector(clock);
    const factory = new ReconnectingClientFactory(clock, Protocol, { jitter: 0, initialDelay: 10, factor: 3 });
    failRepeatedly(factory, clock, connector, 3);
    expect(factory.delay).toBe(270);
    const protocol = factory.buildProtocol(ADDR);
    expect(protocol).toBeInstanceOf(Protocol);
    expect(factory.delay).toBe(10);
    expect(factory.retries).toBe(0);
    const before = connector.connects.length;
    const at = clock.now();
    factory.clientConnectionLost(connector, new ConnectionLost());
    clock.runUntilIdle();
    expect(connector.connects.length).toBe(before + 1);
    expect(connector.connects.at(-1)! - at).toBe(30);
  });

  it("gives up after maxRetries", () => {
    const clock = randomClock(() => 0.25);
    const connector = new FakeConnector(clock);
    const factory = new ReconnectingClientFactory(clock, undefined, { jitter: 0, maxRetries: 3 });
    failRepeatedly(factory, clock, connector, 10);
    expect(connector.connects).toHaveLength(3);
    expect(clock.pendingCalls()).toHaveLength(0);
  });

  it("stopTrying cancels the pending retry, stops the connector and ignores later failures", () => {
    const clock = randomClock(() => 0.25);
    const connector = new FakeConnector(clock);
    const factory = new ReconnectingClientFactory(clock, undefined, { jitter: 0 });
    factory.clientConnectionFailed(connector, new ConnectionRefusedError());
    expect(clock.pendingCalls()).toHaveLength(1);
    factory.stopTrying();
    expect(clock.pendingCalls()).toHaveLength(0);
    expect(connector.stops).toBe(1);
    factory.clientConnectionFailed(connector, new ConnectionRefusedError());
    factory.clientConnectionLost(connector, new ConnectionLost());
    factory.retry();
    clock.advance(10_000_000);
    expect(connector.connects).toEqual([]);
  });

  it("retry without any connector is an error; bad options are refused", () => {
    const clock = randomClock(() => 0.25);
    expect(() => new ReconnectingClientFactory(clock).retry()).toThrow(TypeError);
    expect(() => new ReconnectingClientFactory(clock, undefined, { factor: 0.5 })).toThrow(InvalidOptionError);
    expect(() => new ReconnectingClientFactory(clock, undefined, { jitter: -1 })).toThrow(InvalidOptionError);
    expect(() => new ReconnectingClientFactory(clock, undefined, { initialDelay: -1 })).toThrow(InvalidOptionError);
    expect(() => new ReconnectingClientFactory(clock, undefined, { maxRetries: 1.5 })).toThrow(InvalidOptionError);
  });
});
