/**
 * `StringTransport`: a test helper transport that records what a protocol does to it (bytes
 * written, producers, closes) and lets the test play the network's part by hand.
 *
 * @module
 */

import { ConnectionAborted, ConnectionDone, ProducerRegisteredError } from "../runtime/errors.js";
import type { Address, Producer, Protocol, PushProducer, Transport } from "../runtime/protocol.js";
import { DEFAULT_HIGH_WATER_MARK } from "../runtime/write-buffer.js";
import { toBytes } from "./chunking.js";

/** The default local address of a {@link StringTransport}. */
export const DEFAULT_STRING_TRANSPORT_HOST: Address = { type: "tcp", host: "10.0.0.1", port: 12345 };
/** The default remote address of a {@link StringTransport}. */
export const DEFAULT_STRING_TRANSPORT_PEER: Address = { type: "tcp", host: "10.0.0.2", port: 80 };
export { DEFAULT_HIGH_WATER_MARK } from "../runtime/write-buffer.js";

/** A producer's state, as a fake transport records it. */
export type ProducerState = "producing" | "paused" | "stopped";

/** Options for {@link StringTransport}. */
export interface StringTransportOptions {
  /**
   * The local address.
   * @defaultValue {@link DEFAULT_STRING_TRANSPORT_HOST}
   */
  host?: Address;
  /**
   * The remote address.
   * @defaultValue {@link DEFAULT_STRING_TRANSPORT_PEER}
   */
  peer?: Address;
  /**
   * The value of `highWaterMark`. The transport never pauses a producer, stops reading or
   * aborts on its own (none of the bounds of `runtime/write-buffer.ts` apply: nothing is ever
   * sent); the test plays the full buffer with `simulateBufferFull()`.
   * @defaultValue {@link DEFAULT_HIGH_WATER_MARK}
   */
  highWaterMark?: number;
  /**
   * Like Twisted's `StringTransportWithDisconnection`: `loseConnection()` delivers
   * `connectionLost(ConnectionDone)` at once, `abortConnection()` delivers
   * `connectionLost(ConnectionAborted)`, and `loseWriteConnection()` calls `writeConnectionLost`.
   * Otherwise they are only recorded, and the test calls `reportConnectionLost()`.
   * @defaultValue false
   */
  disconnectOnClose?: boolean;
}

/**
 * A `Transport` that records everything and sends nothing. For protocol unit tests.
 *
 * @example
 * ```ts
 * const transport = new StringTransport();
 * const proto = transport.attach(new Echo());
 * proto.dataReceived(new TextEncoder().encode("hi"));
 * expect(transport.text()).toBe("hi");
 * ```
 */
export class StringTransport implements Transport {
  /** The protocol attached with `attach()`, if any. */
  protocol: Protocol | null = null;
  /** The registered producer, if any. */
  producer: Producer | null = null;
  /** Whether the registered producer is a push (streaming) producer. */
  streaming = false;
  /**
   * The state this transport last asked of the registered producer (`null` when none):
   * `paused` after `simulateBufferFull()`, `stopped` once the connection is lost.
   */
  registeredProducerState: ProducerState | null = null;
  /**
   * This transport's own state as a producer of incoming data, as the protocol set it with
   * `pauseProducing()`, `resumeProducing()` or `stopProducing()`.
   */
  producerState: ProducerState = "producing";
  /** True once `loseConnection()` or `abortConnection()` was called, or the connection is lost. */
  disconnecting = false;
  /** True once `abortConnection()` was called. */
  aborted = false;
  /** True once `loseWriteConnection()` was called. */
  writeDisconnected = false;
  /** True once `connectionLost` was delivered. */
  lost = false;
  /** The reason `connectionLost` got, once it did. */
  lostReason: Error | null = null;
  /** The last value given to `setTcpNoDelay`, or null. */
  tcpNoDelay: boolean | null = null;
  /** How many writes were ignored because the connection was closing or closed. */
  writesAfterClose = 0;
  /** Called after `connectionLost` is delivered; the fake reactors use it for client factories. */
  onConnectionLost: ((reason: Error) => void) | null = null;
  readonly highWaterMark: number;

  private chunks: Uint8Array[] = [];
  private size = 0;
  private readonly host: Address;
  private readonly peer: Address;
  private readonly disconnectOnClose: boolean;

  /** @param options - see {@link StringTransportOptions}. */
  constructor(options: StringTransportOptions = {}) {
    this.host = options.host ?? DEFAULT_STRING_TRANSPORT_HOST;
    this.peer = options.peer ?? DEFAULT_STRING_TRANSPORT_PEER;
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.disconnectOnClose = options.disconnectOnClose ?? false;
  }

  /**
   * Connects `protocol` to this transport (`protocol.makeConnection(this)`).
   *
   * @returns the protocol, for chaining.
   */
  attach<P extends Protocol>(protocol: P): P {
    this.protocol = protocol;
    protocol.makeConnection(this);
    return protocol;
  }

  /** Bytes written and not yet cleared: what a real transport would still have to send. */
  get writeBufferSize(): number {
    return this.size;
  }

  /** @returns every byte written since the last `clear()`. */
  value(): Uint8Array {
    if (this.chunks.length !== 1) {
      const all = new Uint8Array(this.size);
      let at = 0;
      for (const chunk of this.chunks) {
        all.set(chunk, at);
        at += chunk.length;
      }
      this.chunks = this.size === 0 ? [] : [all];
    }
    return this.chunks[0] ?? new Uint8Array(0);
  }

  /** @returns `value()` decoded as UTF-8. */
  text(): string {
    return new TextDecoder().decode(this.value());
  }

  /** Forgets the bytes written so far. */
  clear(): void {
    this.chunks = [];
    this.size = 0;
  }

  /**
   * Hands bytes to the attached protocol's `dataReceived`, as if they came from the peer.
   *
   * @throws Error when no protocol is attached.
   */
  receive(data: Uint8Array | string): void {
    this.requireProtocol().dataReceived(toBytes(data));
  }

  write(data: Uint8Array | string): void {
    if (this.disconnecting || this.writeDisconnected) {
      this.writesAfterClose++;
      return;
    }
    const bytes = toBytes(data);
    if (bytes.length === 0) return;
    this.chunks.push(bytes.slice());
    this.size += bytes.length;
  }

  writeSequence(data: Iterable<Uint8Array | string>): void {
    for (const piece of data) this.write(piece);
  }

  loseConnection(): void {
    if (this.disconnecting) return;
    this.disconnecting = true;
    if (this.disconnectOnClose) this.reportConnectionLost(new ConnectionDone());
  }

  abortConnection(): void {
    if (this.aborted || this.lost) return;
    this.aborted = true;
    this.disconnecting = true;
    if (this.disconnectOnClose) this.reportConnectionLost(new ConnectionAborted());
  }

  loseWriteConnection(): void {
    if (this.writeDisconnected || this.disconnecting) return;
    this.writeDisconnected = true;
    if (this.disconnectOnClose) this.protocol?.writeConnectionLost?.();
  }

  /** The remote address; it stays available after the connection is lost. */
  getPeer(): Address {
    return this.peer;
  }

  /** The local address; it stays available after the connection is lost. */
  getHost(): Address {
    return this.host;
  }

  setTcpNoDelay(enabled: boolean): void {
    this.tcpNoDelay = enabled;
  }

  /** @throws ProducerRegisteredError (`WL_ERR_PRODUCER_REGISTERED`) when one is registered. */
  registerProducer(producer: Producer, streaming: boolean): void {
    if (this.producer !== null) throw new ProducerRegisteredError();
    this.producer = producer;
    this.streaming = streaming;
    this.registeredProducerState = "producing";
  }

  unregisterProducer(): void {
    this.producer = null;
    this.streaming = false;
    this.registeredProducerState = null;
  }

  pauseProducing(): void {
    if (this.producerState === "producing") this.producerState = "paused";
  }

  resumeProducing(): void {
    if (this.producerState === "paused") this.producerState = "producing";
  }

  stopProducing(): void {
    this.producerState = "stopped";
    this.loseConnection();
  }

  /**
   * Plays the buffer passing the high-water mark: a registered push producer gets
   * `pauseProducing()` (once, until drained). A pull producer is simply not asked for more.
   */
  simulateBufferFull(): void {
    if (this.producer === null || this.registeredProducerState !== "producing") return;
    if (this.streaming) {
      this.registeredProducerState = "paused";
      (this.producer as PushProducer).pauseProducing();
    }
  }

  /**
   * Plays the buffer draining: a paused push producer gets `resumeProducing()`; a pull
   * producer gets `resumeProducing()` to ask for its next piece.
   */
  simulateBufferDrained(): void {
    if (this.producer === null) return;
    if (this.streaming) {
      if (this.registeredProducerState !== "paused") return;
      this.registeredProducerState = "producing";
    }
    this.producer.resumeProducing();
  }

  /**
   * Delivers `connectionLost(reason)` to the attached protocol, once; later calls do nothing.
   * A registered producer is stopped first, as a real transport does.
   *
   * @param reason - the reason to report.
   * @defaultValue reason a new `ConnectionDone`
   */
  reportConnectionLost(reason: Error = new ConnectionDone()): void {
    if (this.lost) return;
    this.lost = true;
    this.lostReason = reason;
    this.disconnecting = true;
    const producer = this.producer;
    if (producer !== null) {
      this.registeredProducerState = "stopped";
      producer.stopProducing();
    }
    const protocol = this.protocol;
    if (protocol !== null) {
      protocol.connected = false;
      protocol.connectionLost(reason);
    }
    this.onConnectionLost?.(reason);
  }

  /**
   * The reactor's shutdown closes this connection at once: `connectionLost(reason)` now (as
   * `reportConnectionLost`), whatever `disconnectOnClose` says.
   */
  forceClose(reason: Error): void {
    this.reportConnectionLost(reason);
  }

  private requireProtocol(): Protocol {
    if (this.protocol === null) throw new Error("StringTransport has no protocol: call attach(protocol) first");
    return this.protocol;
  }
}
