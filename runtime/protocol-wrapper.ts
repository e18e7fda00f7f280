/**
 * `ProtocolWrapper` and `WrappingFactory`: the base of Twisted-style policies. A wrapper sits
 * between a transport and a protocol, is the protocol's transport and the transport's
 * protocol, and forwards every event both ways, producers included, so the wrapped protocol
 * cannot tell it is there. A policy overrides the events it cares about.
 *
 * @module
 */

import { ClientFactory, Protocol } from "./protocol.js";
import type { Address, Connector, Factory, Producer, Transport } from "./protocol.js";

/**
 * A protocol that wraps another: it hands the wrapped protocol itself as transport and passes
 * everything through. Subclasses override events (calling `super`) to add a policy.
 */
export class ProtocolWrapper extends Protocol implements Transport {
  /**
   * @param wrappingFactory - the factory that built this wrapper; told when the connection
   *   is made and lost.
   * @param wrappedProtocol - the protocol this wrapper stands in front of.
   */
  constructor(
    readonly wrappingFactory: WrappingFactory,
    readonly wrappedProtocol: Protocol,
  ) {
    super();
    // Transports look for these optional hooks to decide how to half-close, so the wrapper has
    // them exactly when the wrapped protocol does.
    if (wrappedProtocol.readConnectionLost !== undefined) {
      this.readConnectionLost = () => {
        wrappedProtocol.readConnectionLost?.();
      };
    }
    if (wrappedProtocol.writeConnectionLost !== undefined) {
      this.writeConnectionLost = () => {
        wrappedProtocol.writeConnectionLost?.();
      };
    }
  }

  // --- the transport's protocol ---------------------------------------------------------------

  override makeConnection(transport: Transport): void {
    this.wrappingFactory.registerProtocol(this);
    super.makeConnection(transport);
  }

  override connectionMade(): void {
    this.wrappedProtocol.makeConnection(this);
  }

  override dataReceived(data: Uint8Array): void {
    this.wrappedProtocol.dataReceived(data);
  }

  override connectionLost(reason: Error): void {
    this.connected = false;
    this.wrappingFactory.unregisterProtocol(this);
    this.wrappedProtocol.connected = false;
    this.wrappedProtocol.connectionLost(reason);
  }

  // --- the wrapped protocol's transport -----------------------------------------------------

  write(data: Uint8Array | string): void {
    this.transport.write(data);
  }

  writeSequence(data: Iterable<Uint8Array | string>): void {
    this.transport.writeSequence(data);
  }

  loseConnection(): void {
    this.transport.loseConnection();
  }

  abortConnection(): void {
    this.transport.abortConnection();
  }

  loseWriteConnection(): void {
    this.transport.loseWriteConnection();
  }

  getPeer(): Address {
    return this.transport.getPeer();
  }

  getHost(): Address {
    return this.transport.getHost();
  }

  setTcpNoDelay(enabled: boolean): void {
    this.transport.setTcpNoDelay(enabled);
  }

  registerProducer(producer: Producer, streaming: boolean): void {
    this.transport.registerProducer(producer, streaming);
  }

  unregisterProducer(): void {
    this.transport.unregisterProducer();
  }

  pauseProducing(): void {
    this.transport.pauseProducing();
  }

  resumeProducing(): void {
    this.transport.resumeProducing();
  }

  stopProducing(): void {
    this.transport.stopProducing();
  }

  get writeBufferSize(): number {
    return this.transport.writeBufferSize;
  }

  get highWaterMark(): number {
    return this.transport.highWaterMark;
  }

  get disconnecting(): boolean {
    return this.transport.disconnecting;
  }
}

/**
 * A factory that wraps another: each protocol the wrapped factory builds is wrapped in a
 * `ProtocolWrapper` (or what `wrapProtocol` returns). Start/stop and the client hooks are
 * forwarded, so it can stand in for a server or a client factory.
 */
export class WrappingFactory<W extends ProtocolWrapper = ProtocolWrapper> extends ClientFactory<W> {
  /** The live wrappers, from `makeConnection` to `connectionLost`. */
  readonly protocols = new Set<W>();

  /** @param wrappedFactory - the factory whose protocols are wrapped. */
  constructor(readonly wrappedFactory: Factory) {
    super();
  }

  /** Builds the wrapped protocol and wraps it; null when the wrapped factory refuses. */
  override buildProtocol(addr: Address): W | null {
    const wrapped = this.wrappedFactory.buildProtocol(addr);
    if (wrapped === null) return null;
    return this.wrapProtocol(wrapped);
  }

  /**
   * Wraps one protocol. Subclasses return their own `ProtocolWrapper` subclass here.
   *
   * @param wrapped - the protocol built by the wrapped factory.
   * @returns the wrapper.
   */
  wrapProtocol(wrapped: Protocol): W {
    return new ProtocolWrapper(this, wrapped) as W;
  }

  /** A wrapper's connection was made. */
  registerProtocol(protocol: ProtocolWrapper): void {
    this.protocols.add(protocol as W);
  }

  /** A wrapper's connection was lost. */
  unregisterProtocol(protocol: ProtocolWrapper): void {
    this.protocols.delete(protocol as W);
  }

  override doStart(): void {
    this.wrappedFactory.doStart();
    super.doStart();
  }

  override doStop(): void {
    this.wrappedFactory.doStop();
    super.doStop();
  }

  override startedConnecting(connector: Connector): void {
    if (this.wrappedFactory instanceof ClientFactory) this.wrappedFactory.startedConnecting(connector);
  }

  override clientConnectionFailed(connector: Connector, reason: Error): void {
    if (this.wrappedFactory instanceof ClientFactory) this.wrappedFactory.clientConnectionFailed(connector, reason);
  }

  override clientConnectionLost(connector: Connector, reason: Error): void {
    if (this.wrappedFactory instanceof ClientFactory) this.wrappedFactory.clientConnectionLost(connector, reason);
  }
}
