/**
 * `MemoryReactor`: a test helper reactor that records every listen and connect instead of
 * touching the network, keeps time on a virtual {@link Clock}, and draws randomness from a
 * seeded generator. The test decides how each recorded connection attempt ends.
 *
 * @module
 */

import { Deferred, fail, succeed } from "../runtime/deferred.js";
import { parseClientEndpoint, parseServerEndpoint } from "../runtime/endpoints.js";
import type { ClientEndpoint, ServerEndpoint } from "../runtime/endpoints.js";
import {
  CancelledError,
  CannotListenError,
  ConnectionLost,
  ConnectionRefusedByFactoryError,
  ConnectionRefusedError,
  ConnectTimeoutError,
  ReactorStateError,
  UnhandledReactorError,
} from "../runtime/errors.js";
import { ClientFactory } from "../runtime/protocol.js";
import type { Address, Connector, DatagramProtocol, Factory, Protocol, Transport } from "../runtime/protocol.js";
import type {
  DatagramTransport,
  DelayedCall,
  ListeningPort,
  Reactor,
  ReactorErrorHook,
  SystemEvent,
  TriggerHandle,
  TriggerPhase,
  UDPOptions,
} from "../runtime/reactor.js";
import { DEFAULT_MAX_PACKET_SIZE } from "../runtime/reactor.js";
import { DormantDelayedCall, ReactorLifeCycle } from "../runtime/reactor-life-cycle.js";
import { toBytes } from "./chunking.js";
import { Clock } from "./clock.js";
import { EphemeralPorts, FIRST_EPHEMERAL_PORT } from "./ephemeral-ports.js";
import { linkedTransports, MemoryTransport, Pump } from "./loopback.js";
import type { ConnectPairOptions } from "./loopback.js";
import { SeededRandom } from "./random.js";
import { StringTransport } from "./string-transport.js";

/** The default seed of a MemoryReactor's random source. */
export const DEFAULT_REACTOR_SEED = 1;

/** Options for {@link MemoryReactor}. */
export interface MemoryReactorOptions {
  /**
   * Seed of `random()`.
   * @defaultValue {@link DEFAULT_REACTOR_SEED}
   */
  seed?: number;
  /**
   * The virtual time at start, in milliseconds.
   * @defaultValue 0
   */
  start?: number;
  /**
   * Step bound of the clock's run loops.
   * @defaultValue 1_000_000 (the Clock's default)
   */
  maxSteps?: number;
  /**
   * The first port given out for port 0; later ones count up from it.
   * @defaultValue {@link FIRST_EPHEMERAL_PORT}
   */
  firstEphemeralPort?: number;
}

const WILDCARDS = new Set(["0.0.0.0", "::", ""]);

/**
 * A `Reactor` that records instead of doing network I/O.
 *
 * @example
 * ```ts
 * const reactor = new MemoryReactor();
 * const d = reactor.connect("tcp:example.com:80", factory);
 * const attempt = reactor.tcpClients[0]!;
 * attempt.fail(new ConnectionRefusedError()); // d fails; clientConnectionFailed is called
 * ```
 */
export class MemoryReactor implements Reactor {
  /** The virtual clock behind `now()` and `callLater()`; advance it to move time. */
  readonly clock: Clock;
  /** Every successful `listen`, in order. */
  readonly listeners: MemoryListeningPort[] = [];
  /** Every `connect` with a valid endpoint, in order. */
  readonly connects: MemoryConnectAttempt[] = [];
  /** Every `listenUDP`, in order. */
  readonly udpPorts: MemoryUDPPort[] = [];
  /** Transports of every connection made through this reactor, closed on `stop()`. */
  readonly connections: Transport[] = [];

  private readonly rng: SeededRandom;
  private hook: ReactorErrorHook = (error) => {
    throw error;
  };
  private readonly ports: EphemeralPorts;
  private readonly life = new ReactorLifeCycle({
    shutDown: () => {
      this.shutDownEverything();
    },
    reportError: (where, error) => {
      this.reportError(where, error);
    },
  });

  /**
   * @param options - see {@link MemoryReactorOptions}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for an option out of bounds.
   */
  constructor(options: MemoryReactorOptions = {}) {
    const clockOptions: ConstructorParameters<typeof Clock>[0] = {
      onError: (error) => {
        this.hook(error);
      },
    };
    if (options.start !== undefined) clockOptions.start = options.start;
    if (options.maxSteps !== undefined) clockOptions.maxSteps = options.maxSteps;
    this.clock = new Clock(clockOptions);
    this.rng = new SeededRandom(options.seed ?? DEFAULT_REACTOR_SEED);
    this.ports = new EphemeralPorts(options.firstEphemeralPort ?? FIRST_EPHEMERAL_PORT);
  }

  /** True from the `during startup` phase until the `during shutdown` phase. */
  get running(): boolean {
    return this.life.running;
  }

  /** Recorded listens on TCP. */
  get tcpServers(): MemoryListeningPort[] {
    return this.listeners.filter((p) => p.endpoint.kind === "tcp");
  }

  /** Recorded listens on TLS. */
  get tlsServers(): MemoryListeningPort[] {
    return this.listeners.filter((p) => p.endpoint.kind === "tls");
  }

  /** Recorded listens on unix sockets. */
  get unixServers(): MemoryListeningPort[] {
    return this.listeners.filter((p) => p.endpoint.kind === "unix");
  }

  /** Recorded TCP connection attempts. */
  get tcpClients(): MemoryConnectAttempt[] {
    return this.connects.filter((c) => c.endpoint.kind === "tcp");
  }

  /** Recorded TLS connection attempts. */
  get tlsClients(): MemoryConnectAttempt[] {
    return this.connects.filter((c) => c.endpoint.kind === "tls");
  }

  /** Recorded unix-socket connection attempts. */
  get unixClients(): MemoryConnectAttempt[] {
    return this.connects.filter((c) => c.endpoint.kind === "unix");
  }

  now(): number {
    return this.clock.now();
  }

  /** Schedules `fn(...args)` on the clock; from the `during shutdown` phase on, the call never runs. */
  callLater<A extends unknown[]>(ms: number, fn: (...args: A) => void, ...args: A): DelayedCall {
    if (!this.life.acceptingWork) return new DormantDelayedCall(this.clock, ms);
    return this.clock.callLater(ms, fn, ...args);
  }

  /** @returns a number in [0, 1) from the seeded generator. */
  random(): number {
    return this.rng.next();
  }

  /**
   * Replaces the error hook. The default rethrows, so an error in a timed call surfaces from
   * `clock.advance()`; one in a startup trigger is thrown from `run()` once startup has run,
   * and one in a shutdown trigger fails the Deferred of `stop()` once shutdown has run (see
   * `ReactorLifeCycle`).
   */
  setErrorHook(hook: ReactorErrorHook): void {
    this.hook = hook;
  }

  /** Hands `error`, wrapped in an `UnhandledReactorError`, to the error hook. */
  reportError(where: string, error: unknown): void {
    this.hook(new UnhandledReactorError(where, error));
  }

  // -------------------------------------------------------------------------------------------
  // Network

  /**
   * Records a listening port. Port 0 gets the next ephemeral port (from 49152 upward).
   *
   * @returns a Deferred of the port.
   * @throws (through the Deferred) InvalidEndpointError (`WL_ERR_INVALID_ENDPOINT`), or
   *   CannotListenError (`WL_ERR_CANNOT_LISTEN`, `EADDRINUSE`) when a listening port has it.
   */
  listen(endpoint: string | ServerEndpoint, factory: Factory): Deferred<ListeningPort> {
    let parsed: ServerEndpoint;
    try {
      parsed = parseServerEndpoint(endpoint);
    } catch (error) {
      return fail(error);
    }
    if (!this.life.acceptingWork) return fail(closedError("listen"));
    let address: Address;
    if (parsed.kind === "unix") {
      if (this.listeners.some((p) => p.listening && p.endpoint.kind === "unix" && p.address.host === parsed.path)) {
        return fail(new CannotListenError("EADDRINUSE", `unix socket ${parsed.path} is in use`));
      }
      address = { type: "unix", host: parsed.path, port: 0 };
    } else {
      const iface = parsed.interface;
      let port: number;
      try {
        port = parsed.port === 0 ? this.ephemeralPort("tcp", iface) : parsed.port;
      } catch (error) {
        return fail(error);
      }
      if (this.portInUse("tcp", iface, port)) {
        return fail(new CannotListenError("EADDRINUSE", `address ${iface}:${port} is in use`));
      }
      address = { type: "tcp", host: iface, port };
    }
    const port = new MemoryListeningPort(this, parsed, factory, address);
    this.listeners.push(port);
    factory.doStart();
    return succeed<ListeningPort>(port);
  }

  /**
   * Records a connection attempt; the test ends it with `complete`, `completePair` or `fail`
   * on the record (`connects`, `tcpClients`, ...). It fails with `ConnectTimeoutError` if the
   * clock reaches the endpoint's timeout first.
   *
   * @returns a Deferred of the protocol, fired after its `connectionMade`.
   * @throws (through the Deferred) InvalidEndpointError (`WL_ERR_INVALID_ENDPOINT`), or what
   *   the test fails the attempt with.
   */
  connect<P extends Protocol>(endpoint: string | ClientEndpoint, factory: Factory<P> | ClientFactory<P>): Deferred<P> {
    let parsed: ClientEndpoint;
    try {
      parsed = parseClientEndpoint(endpoint);
    } catch (error) {
      return fail(error);
    }
    if (!this.life.acceptingWork) return fail(closedError("connect"));
    const attempt = new MemoryConnectAttempt<P>(this, parsed, factory);
    this.connects.push(attempt);
    attempt.start();
    return attempt.deferred;
  }

  /**
   * Records a UDP port and binds `protocol` to it.
   *
   * @returns a Deferred of the port's transport.
   * @throws (through the Deferred) CannotListenError (`WL_ERR_CANNOT_LISTEN`, `EADDRINUSE`).
   */
  listenUDP(port: number, protocol: DatagramProtocol, options: UDPOptions = {}): Deferred<DatagramTransport> {
    if (!this.life.acceptingWork) return fail(closedError("listen"));
    const iface = options.interface ?? "0.0.0.0";
    let number: number;
    try {
      number = port === 0 ? this.ephemeralPort("udp", iface) : port;
    } catch (error) {
      return fail(error);
    }
    if (this.portInUse("udp", iface, number)) {
      return fail(new CannotListenError("EADDRINUSE", `udp address ${iface}:${number} is in use`));
    }
    const transport = new MemoryUDPPort(protocol, { type: "udp", host: iface, port: number }, options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE);
    this.udpPorts.push(transport);
    protocol.makeConnection(transport);
    return succeed<DatagramTransport>(transport);
  }

  /**
   * The listening port that a connection to `endpoint` would reach, if any.
   *
   * @returns the port, or undefined.
   */
  findListener(endpoint: ClientEndpoint): MemoryListeningPort | undefined {
    return this.listeners.find((p) => {
      if (!p.listening) return false;
      if (endpoint.kind === "unix") return p.endpoint.kind === "unix" && p.address.host === endpoint.path;
      return (
        p.endpoint.kind === endpoint.kind &&
        p.address.port === endpoint.port &&
        (WILDCARDS.has(p.address.host) || p.address.host === endpoint.host)
      );
    });
  }

  /** @internal Hands out the next free ephemeral port in a port space. */
  ephemeralPort(space: "tcp" | "udp", iface = "0.0.0.0"): number {
    return this.ports.take((port) => this.portInUse(space, iface, port));
  }

  private portInUse(space: "tcp" | "udp", iface: string, port: number): boolean {
    const clash = (host: string, p: number): boolean =>
      p === port && (host === iface || WILDCARDS.has(host) || WILDCARDS.has(iface));
    if (space === "udp") return this.udpPorts.some((u) => u.listening && clash(u.address.host, u.address.port));
    return this.listeners.some((l) => l.listening && l.endpoint.kind !== "unix" && clash(l.address.host, l.address.port));
  }

  // -------------------------------------------------------------------------------------------
  // Life cycle: `ReactorLifeCycle`, as on every reactor

  callWhenRunning(fn: () => void): void {
    this.life.callWhenRunning(fn);
  }

  addSystemEventTrigger(phase: TriggerPhase, event: SystemEvent, fn: () => unknown): TriggerHandle {
    return this.life.addTrigger(phase, event, fn);
  }

  /** Removes a trigger that has not run; a handle that ran or was removed is ignored. */
  removeSystemEventTrigger(handle: TriggerHandle): void {
    this.life.removeTrigger(handle);
  }

  /**
   * Starts the reactor (see `ReactorLifeCycle`).
   *
   * @returns a Deferred that fires once the reactor has stopped.
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when it is running or has run; what
   *   the error hook threw while startup ran.
   */
  run(): Deferred<void> {
    return this.life.run();
  }

  /**
   * Shuts the reactor down (see `ReactorLifeCycle`); its own part, in the `during shutdown`
   * phase, stops every port, fails every pending connection attempt with `CancelledError`,
   * closes every connection at once (its protocol gets `ConnectionLost`; a connectPair peer
   * reads the end of the stream) and cancels every timed call on the clock.
   *
   * @returns a Deferred that fires once shutdown is complete.
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when it never ran, or has stopped.
   */
  stop(): Deferred<void> {
    return this.life.stop();
  }

  private shutDownEverything(): void {
    for (const port of this.listeners) if (port.listening) void port.stopListening();
    for (const port of this.udpPorts) if (port.listening) void port.stopListening();
    for (const attempt of this.connects) if (attempt.state === "connecting") attempt.fail(new CancelledError("the reactor is shutting down"));
    const reason = new ConnectionLost("Connection was closed because the reactor is shutting down.");
    for (const transport of this.connections) {
      if (transport instanceof MemoryTransport || transport instanceof StringTransport) transport.forceClose(reason);
    }
    for (const call of this.clock.pendingCalls()) if (call.active()) call.cancel();
  }
}

/** Why a port or connection cannot be opened from the `during shutdown` phase on. */
function closedError(what: "listen" | "connect"): ReactorStateError {
  return new ReactorStateError(`cannot ${what}: the reactor is shutting down, or has stopped`);
}

/** A port recorded by `MemoryReactor.listen`. */
export class MemoryListeningPort implements ListeningPort {
  /** True until `stopListening()`. */
  listening = true;
  /** Connections accepted with `accept()`. */
  readonly accepted: StringTransport[] = [];

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    private readonly reactor: MemoryReactor,
    /** The parsed endpoint it was asked to listen on. */
    readonly endpoint: ServerEndpoint,
    /** The factory it builds protocols with. */
    readonly factory: Factory,
    /** Its address, with the assigned port. */
    readonly address: Address,
  ) {}

  getHost(): Address {
    return this.address;
  }

  /** Records the stop and releases the factory; a second call does nothing more. */
  stopListening(): Deferred<void> {
    if (this.listening) {
      this.listening = false;
      this.factory.doStop();
    }
    return succeed(undefined);
  }

  /**
   * Plays an incoming connection: builds a protocol with the factory and attaches it to a
   * StringTransport. When the factory refuses (returns null), the transport is closed.
   *
   * @param options - the peer's address and the transport to use.
   * @returns the protocol (null if refused) and its transport.
   * @throws ConnectionRefusedError (`WL_ERR_CONNECTION_REFUSED`) when the port is stopped.
   */
  accept(options: { peer?: Address; transport?: StringTransport } = {}): { protocol: Protocol | null; transport: StringTransport } {
    if (!this.listening) throw new ConnectionRefusedError("the port is no longer listening");
    const peer = options.peer ?? this.defaultPeer();
    const transport = options.transport ?? new StringTransport({ host: this.address, peer });
    const protocol = this.factory.buildProtocol(peer);
    this.accepted.push(transport);
    this.reactor.connections.push(transport);
    if (protocol === null) {
      transport.loseConnection();
      return { protocol: null, transport };
    }
    transport.attach(protocol);
    return { protocol, transport };
  }

  private defaultPeer(): Address {
    if (this.address.type === "unix") return { type: "unix", host: "", port: 0 };
    return { type: "tcp", host: "127.0.0.1", port: this.reactor.ephemeralPort("tcp") };
  }
}

/** How a recorded connection attempt stands. */
export type ConnectAttemptState = "connecting" | "connected" | "failed" | "disconnected";

/** A connection attempt recorded by `MemoryReactor.connect`; the test decides its outcome. */
export class MemoryConnectAttempt<P extends Protocol = Protocol> {
  /** Fires with the protocol after its `connectionMade`, or fails. */
  readonly deferred: Deferred<P>;
  /** What the hooks of a `ClientFactory` receive. */
  readonly connector: Connector;
  /** Where the attempt stands. */
  state: ConnectAttemptState = "connecting";
  /** The connected protocol, once there is one. */
  protocol: P | null = null;
  /** The connection's transport, once there is one. */
  transport: Transport | null = null;
  /** The error the attempt failed with, if it did. */
  failure: Error | null = null;
  /** The local address the connection gets. */
  readonly hostAddress: Address;
  /** The address dialled. */
  readonly peerAddress: Address;
  private timer: DelayedCall | null = null;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    private readonly reactor: MemoryReactor,
    /** The parsed endpoint it connects to. */
    readonly endpoint: ClientEndpoint,
    /** The factory that builds the client protocol. */
    readonly factory: Factory<P> | ClientFactory<P>,
  ) {
    this.deferred = new Deferred<P>(() => {
      this.fail(new CancelledError("the connection attempt was cancelled"));
    });
    if (endpoint.kind === "unix") {
      this.peerAddress = { type: "unix", host: endpoint.path, port: 0 };
      this.hostAddress = { type: "unix", host: "", port: 0 };
    } else {
      this.peerAddress = { type: "tcp", host: endpoint.host, port: endpoint.port };
      this.hostAddress = { type: "tcp", host: endpoint.bindAddress ?? "127.0.0.1", port: reactor.ephemeralPort("tcp") };
    }
    this.connector = {
      getDestination: () => endpoint,
      connect: () => {
        reactor.connect(endpoint, factory).addErrback(() => undefined);
      },
      stopConnecting: () => {
        if (this.state === "connecting") this.fail(new CancelledError("stopConnecting() was called"));
      },
      disconnect: () => {
        if (this.state === "connecting") this.fail(new CancelledError("disconnect() was called while connecting"));
        else if (this.state === "connected") this.transport?.loseConnection();
      },
    };
  }

  /** @internal Starts the factory and the timeout; called once by `connect`. */
  start(): void {
    this.factory.doStart();
    if (this.factory instanceof ClientFactory) this.factory.startedConnecting(this.connector);
    if (this.state !== "connecting") return;
    this.timer = this.reactor.callLater(this.endpoint.timeout * 1000, () => {
      this.timer = null;
      if (this.state === "connecting") this.fail(new ConnectTimeoutError(`connecting timed out after ${this.endpoint.timeout} s`));
    });
  }

  /**
   * Completes the attempt over a StringTransport: builds the protocol, attaches it, and fires
   * the Deferred. When the connection is later lost, `clientConnectionLost` is called.
   *
   * @param transport - the transport to use.
   * @defaultValue transport a new StringTransport with this attempt's addresses
   * @returns the connected protocol.
   * @throws ConnectionRefusedByFactoryError (`WL_ERR_REFUSED_BY_FACTORY`) when the factory
   *   returns null; the attempt has then failed with that error too.
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when the attempt is already settled.
   */
  complete(transport: StringTransport = new StringTransport({ host: this.hostAddress, peer: this.peerAddress })): P {
    const protocol = this.build();
    transport.onConnectionLost = (reason) => {
      this.lost(reason);
    };
    this.connected(protocol, transport, () => transport.attach(protocol));
    return protocol;
  }

  /**
   * Completes the attempt with an in-memory peer: `server` (or, when omitted, a protocol built
   * by the factory of the listening port this endpoint reaches) on the other end.
   *
   * @param server - the server-side protocol.
   * @param options - the pair's options; addresses default to the attempt's.
   * @returns the Pump that moves bytes between the two.
   * @throws ConnectionRefusedByFactoryError as `complete`.
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when the attempt is already settled,
   *   or no server is given and no recorded listener matches the endpoint.
   */
  completePair(server?: Protocol, options: ConnectPairOptions = {}): Pump {
    this.requireConnecting();
    const listener = server === undefined ? this.reactor.findListener(this.endpoint) : undefined;
    if (server === undefined && listener === undefined) {
      throw new ReactorStateError(`no recorded listener matches ${describeEndpoint(this.endpoint)}`);
    }
    const clientAddress = options.clientAddress ?? this.hostAddress;
    const serverAddress = options.serverAddress ?? listener?.address ?? this.peerAddress;
    const serverProtocol = server ?? listener?.factory.buildProtocol(clientAddress) ?? null;
    const protocol = this.build();
    const { server: serverSide, client: clientSide } = linkedTransports(serverAddress, clientAddress, options);
    const pump = new Pump(serverSide, clientSide, options.chunking, options.maxSteps);
    this.reactor.connections.push(serverSide);
    clientSide.onConnectionLost = (reason) => {
      this.lost(reason);
    };
    // A server that refuses still accepted at the TCP level: it closes the connection.
    if (serverProtocol === null) serverSide.loseConnection();
    else serverSide.attach(serverProtocol);
    this.connected(protocol, clientSide, () => clientSide.attach(protocol));
    return pump;
  }

  /**
   * Fails the attempt: `clientConnectionFailed` is called, the factory is released, and the
   * Deferred fails with `error`.
   *
   * @param error - why it failed.
   * @defaultValue error a new ConnectionRefusedError (`ECONNREFUSED`)
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when the attempt is already settled.
   */
  fail(error: Error = new ConnectionRefusedError()): void {
    this.requireConnecting();
    this.state = "failed";
    this.failure = error;
    this.cancelTimer();
    if (this.factory instanceof ClientFactory) this.factory.clientConnectionFailed(this.connector, error);
    this.factory.doStop();
    this.deferred.errback(error);
  }

  private build(): P {
    this.requireConnecting();
    const protocol = this.factory.buildProtocol(this.peerAddress);
    if (protocol === null) {
      const error = new ConnectionRefusedByFactoryError();
      this.fail(error);
      throw error;
    }
    return protocol;
  }

  private connected(protocol: P, transport: Transport, attach: () => void): void {
    this.cancelTimer();
    this.state = "connected";
    this.protocol = protocol;
    this.transport = transport;
    this.reactor.connections.push(transport);
    attach();
    this.deferred.callback(protocol);
  }

  private lost(reason: Error): void {
    if (this.state !== "connected") return;
    this.state = "disconnected";
    if (this.factory instanceof ClientFactory) this.factory.clientConnectionLost(this.connector, reason);
    this.factory.doStop();
  }

  private requireConnecting(): void {
    if (this.state !== "connecting") throw new ReactorStateError(`the connection attempt is already ${this.state}`);
  }

  private cancelTimer(): void {
    if (this.timer?.active() === true) this.timer.cancel();
    this.timer = null;
  }
}

function describeEndpoint(endpoint: ClientEndpoint): string {
  return endpoint.kind === "unix" ? `unix:${endpoint.path}` : `${endpoint.kind}:${endpoint.host}:${endpoint.port}`;
}

/** A UDP port recorded by `MemoryReactor.listenUDP`. */
export class MemoryUDPPort implements DatagramTransport {
  /** Every datagram the protocol sent, in order. */
  readonly written: { data: Uint8Array; addr: { host: string; port: number } }[] = [];
  /** True until `stopListening()`. */
  listening = true;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    /** The protocol bound to the port. */
    readonly protocol: DatagramProtocol,
    /** The bound address, with the assigned port. */
    readonly address: Address,
    /** Datagrams longer than this are dropped on delivery. */
    readonly maxPacketSize: number,
  ) {}

  write(data: Uint8Array | string, addr: { host: string; port: number }): void {
    if (!this.listening) return;
    this.written.push({ data: toBytes(data).slice(), addr: { host: addr.host, port: addr.port } });
  }

  getHost(): Address {
    return this.address;
  }

  stopListening(): Deferred<void> {
    if (this.listening) {
      this.listening = false;
      this.protocol.stopProtocol();
    }
    return succeed(undefined);
  }

  /**
   * Delivers one datagram to the protocol, as if from `from`.
   *
   * @returns false when it was dropped (port stopped, or longer than `maxPacketSize`).
   */
  deliver(data: Uint8Array | string, from: { host: string; port: number }): boolean {
    const bytes = toBytes(data);
    if (!this.listening || bytes.length > this.maxPacketSize) return false;
    this.protocol.datagramReceived(bytes, { type: "udp", host: from.host, port: from.port });
    return true;
  }
}
