/**
 * `SimHost`: one host of a simulated network, a full `Reactor`: timed calls on the network's
 * one virtual clock, TCP listen/connect by the same endpoint strings as `NodeReactor`, UDP, and
 * Twisted's life cycle. Its ports and ephemeral ports are its own.
 *
 * @module
 */

import type { Deferred } from "../runtime/deferred.js";
import { fail, succeed } from "../runtime/deferred.js";
import { parseClientEndpoint, parseServerEndpoint } from "../runtime/endpoints.js";
import type { ClientEndpoint, ServerEndpoint, TcpClientEndpoint } from "../runtime/endpoints.js";
import {
  CancelledError,
  CannotListenError,
  ConnectionLost,
  InvalidEndpointError,
  ReactorStateError,
  SystemSocketError,
  UnhandledReactorError,
} from "../runtime/errors.js";
import type { Address, ClientFactory, DatagramProtocol, Factory, Protocol, Transport } from "../runtime/protocol.js";
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
import { EphemeralPorts } from "./ephemeral-ports.js";
import { MemoryUDPPort } from "./memory-reactor.js";
import type { RandomSource } from "./random.js";
import type { SimScheduler } from "./sim-scheduler.js";

/** The loopback address every simulated host answers on, for itself only. */
export const LOOPBACK_ADDRESS = "127.0.0.1";

const WILDCARDS = new Set(["0.0.0.0", "::", ""]);
const LOOPBACK_NAMES = new Set([LOOPBACK_ADDRESS, "localhost", "::1"]);

/** @internal True for the names a host answers on for itself only (127.0.0.1, localhost, ::1). */
export function isLoopbackName(host: string): boolean {
  return LOOPBACK_NAMES.has(host);
}

/**
 * What a host needs from the simulated network it is part of. The network's engine implements
 * it; hosts depend on this, not on the engine (which depends on them).
 */
export interface HostWorld {
  /** The virtual time. */
  readonly current: number;
  /** The one seeded generator. */
  readonly random: RandomSource;
  /** The one event queue (leftover checks look for a host's timers in it). */
  readonly scheduler: SimScheduler;
  /** The first ephemeral port of every host. */
  readonly firstEphemeralPort: number;
  /** Queues a timed call of `host`. */
  addTimer(host: SimHost, ms: number, fn: (...args: unknown[]) => void, args: unknown[]): DelayedCall;
  /** Cancels every queued timed call of `host`. */
  cancelTimersOf(host: SimHost): void;
  /** The host with `address`, if any. */
  hostByAddress(address: string): SimHost | undefined;
  /** The open connections with an end on `host`. */
  connectionsOf(host: SimHost): Iterable<HostConnection>;
  /** Starts a connection attempt from `host` (its SYN crosses the network). */
  dial<P extends Protocol>(host: SimHost, endpoint: TcpClientEndpoint, factory: Factory<P> | ClientFactory<P>, target: SimHost | null, localAddress: string, localPort: number): Deferred<P>;
  /** Sends a UDP datagram from `port`. */
  sendDatagram(port: SimUDPPort, data: Uint8Array | string, addr: { host: string; port: number }): void;
  /** Makes the current (or next) run fail with `error`. */
  fail(error: Error): void;
  /** Adds a note from `host` to the trace. */
  note(text: string, host: SimHost): void;
}

/** What a host knows of a connection with an end on it. */
export interface HostConnection {
  /** @returns the end on `host`. */
  sideOn(host: SimHost): Transport;
  /** Closes at once the end (both, for a connection to itself) on `host`; its protocol gets `reason`. */
  forceCloseOn(host: SimHost, reason: Error): void;
  /** @returns the connection for reports, such as `c0 10.0.0.2:49152 -> 10.0.0.1:80`. */
  describe(): string;
}

/** What a host knows of one of its connection attempts. */
export interface HostAttempt {
  /** `"connecting"` until it is connected or has failed. */
  readonly state: string;
  /** The attempt's local address. */
  readonly hostAddress: Address;
  /** Ends the attempt without telling anyone (its host crashed). */
  kill(): void;
  /** Fails the attempt with `error` (its host is shutting down). */
  fail(error: Error): void;
}

/** Options for `SimNetwork.host`. */
export interface SimHostOptions {
  /**
   * The host's program: run (as a simulation event at the current time) when the host is
   * created and again each time it restarts after a crash. A returned promise that rejects
   * is reported through the host's error hook.
   */
  boot?: (host: SimHost) => unknown;
  /**
   * Start the reactor (as `run()` would) just before `boot` runs, so `running` is true and
   * `callWhenRunning` calls run at once. Set false for programs that call `run()` themselves.
   * @defaultValue true
   */
  autoRun?: boolean;
}

/** A simulated host. Everything a protocol can do with a reactor, it can do with one. */
export class SimHost implements Reactor {
  /** How many times it was (re)started after a crash; bumps on every crash. */
  incarnation = 0;
  /** False while crashed. */
  up = true;
  /** @internal */ readonly listeners: SimListeningPort[] = [];
  /** @internal */ readonly udpPorts: SimUDPPort[] = [];
  /** @internal */ readonly attempts = new Set<HostAttempt>();
  /** @internal */ readonly clientPorts = new Set<number>();
  private life: ReactorLifeCycle;
  private hook: ReactorErrorHook;
  private readonly ports: EphemeralPorts;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    /** @internal The engine of the network it is part of. */
    readonly world: HostWorld,
    /** A number unique in the network (`h<id>` internally; the trace prints addresses). */
    readonly id: number,
    /** Its address, such as `"10.0.0.1"`. */
    readonly address: string,
    /** Its options. */
    readonly options: SimHostOptions,
  ) {
    this.hook = (error) => {
      world.fail(error);
    };
    this.ports = new EphemeralPorts(world.firstEphemeralPort);
    this.life = this.newLifeCycle();
  }

  /** True from the `during startup` phase until the `during shutdown` phase (never while crashed). */
  get running(): boolean {
    return this.up && this.life.running;
  }

  now(): number {
    return this.world.current;
  }

  /**
   * Schedules `fn(...args)` on the network's clock; it belongs to this host (a crash cancels
   * it). On a crashed host the call is never queued.
   *
   * @throws RangeError when `ms` is NaN.
   */
  callLater<A extends unknown[]>(ms: number, fn: (...args: A) => void, ...args: A): DelayedCall {
    if (Number.isNaN(ms)) throw new RangeError("callLater() delay is NaN");
    if (!this.life.acceptingWork) return new DormantDelayedCall(this, ms);
    return this.world.addTimer(this, ms > 0 ? ms : 0, fn as (...args: unknown[]) => void, args);
  }

  /** @returns a number in [0, 1) from the network's one seeded generator. */
  random(): number {
    return this.world.random.next();
  }

  /**
   * Adds a line to the network's trace, stamped with the virtual time and this host's address:
   * an application event worth seeing next to the network's (`note 10.0.0.1: lease renewed`).
   * It is part of the trace hash.
   */
  note(text: string): void {
    this.world.note(text, this);
  }

  /** Replaces the hook; the default makes the running `SimNetwork.run` fail with the error. */
  setErrorHook(hook: ReactorErrorHook): void {
    this.hook = hook;
  }

  /** @internal Hands an error to the hook. */
  report(error: Error): void {
    this.hook(error);
  }

  /** Hands `error`, wrapped in an `UnhandledReactorError`, to the error hook. */
  reportError(where: string, error: unknown): void {
    this.hook(new UnhandledReactorError(where, error));
  }

  // -------------------------------------------------------------------------------------------
  // Network

  /**
   * Listens on a TCP port of this host (`tcp:PORT[:interface=ADDR]`); port 0 takes an
   * ephemeral one. The interface may be this host's address, a wildcard, or 127.0.0.1 (then
   * only this host can connect).
   *
   * @returns a Deferred of the port.
   * @throws (through the Deferred) InvalidEndpointError (`WL_ERR_INVALID_ENDPOINT`) for a
   *   non-TCP endpoint, CannotListenError (`WL_ERR_CANNOT_LISTEN`: `EADDRINUSE`, or
   *   `EADDRNOTAVAIL` for an interface this host does not have), ReactorStateError while down.
   */
  listen(endpoint: string | ServerEndpoint, factory: Factory): Deferred<ListeningPort> {
    if (!this.up) return fail(new ReactorStateError(`host ${this.address} is down`));
    let parsed: ServerEndpoint;
    try {
      parsed = parseServerEndpoint(endpoint);
    } catch (error) {
      return fail(error);
    }
    if (parsed.kind !== "tcp") {
      return fail(new InvalidEndpointError(typeof endpoint === "string" ? endpoint : parsed.kind, "a simulated host listens on tcp endpoints only"));
    }
    if (!this.life.acceptingWork) return fail(closedError("listen"));
    const iface = parsed.interface;
    if (!WILDCARDS.has(iface) && iface !== this.address && !LOOPBACK_NAMES.has(iface)) {
      return fail(new CannotListenError("EADDRNOTAVAIL", `host ${this.address} has no interface ${iface}`));
    }
    let port: number;
    try {
      port = parsed.port === 0 ? this.ephemeralPort() : parsed.port;
    } catch (error) {
      return fail(error);
    }
    if (this.tcpPortInUse(iface, port)) return fail(new CannotListenError("EADDRINUSE", `address ${iface}:${port} is in use on ${this.address}`));
    const listening = new SimListeningPort(this, factory, { type: "tcp", host: iface, port });
    this.listeners.push(listening);
    factory.doStart();
    return succeed<ListeningPort>(listening);
  }

  /**
   * Connects over the simulated network (`tcp:HOST:PORT[:timeout=S][:bindAddress=ADDR]`).
   * The SYN crosses the link; a closed port answers with a reset (`ConnectionRefusedError`
   * after a round trip); a host that is down, unknown, or cut off by a partition never answers,
   * and the attempt fails with `ConnectTimeoutError` after the endpoint's timeout (30 s by
   * default). A name that is not an address of any host fails with `DNSLookupError`.
   *
   * @returns a Deferred of the protocol, fired after its `connectionMade`.
   * @throws (through the Deferred) InvalidEndpointError (`WL_ERR_INVALID_ENDPOINT`),
   *   ConnectionRefusedError (`WL_ERR_CONNECTION_REFUSED`), ConnectTimeoutError
   *   (`WL_ERR_CONNECT_TIMEOUT`), DNSLookupError (`WL_ERR_DNS_LOOKUP`), SystemSocketError
   *   (`EADDRNOTAVAIL` for a bindAddress this host does not have), ReactorStateError while down.
   */
  connect<P extends Protocol>(endpoint: string | ClientEndpoint, factory: Factory<P> | ClientFactory<P>): Deferred<P> {
    if (!this.up) return fail(new ReactorStateError(`host ${this.address} is down`));
    let parsed: ClientEndpoint;
    try {
      parsed = parseClientEndpoint(endpoint);
    } catch (error) {
      return fail(error);
    }
    if (parsed.kind !== "tcp") {
      return fail(new InvalidEndpointError(typeof endpoint === "string" ? endpoint : parsed.kind, "a simulated host connects to tcp endpoints only"));
    }
    if (!this.life.acceptingWork) return fail(closedError("connect"));
    const target = LOOPBACK_NAMES.has(parsed.host) ? this : (this.world.hostByAddress(parsed.host) ?? null);
    const bind = parsed.bindAddress;
    if (bind !== undefined && !WILDCARDS.has(bind) && bind !== this.address && !LOOPBACK_NAMES.has(bind)) {
      return fail(new SystemSocketError("EADDRNOTAVAIL", `host ${this.address} has no address ${bind}`));
    }
    const localAddress = LOOPBACK_NAMES.has(parsed.host) ? LOOPBACK_ADDRESS : this.address;
    let localPort: number;
    try {
      localPort = this.ephemeralPort();
    } catch (error) {
      return fail(error);
    }
    this.clientPorts.add(localPort);
    return this.world.dial(this, parsed, factory, target, localAddress, localPort);
  }

  /**
   * Binds a UDP port of this host (0 for an ephemeral one). Datagrams cross links with their
   * latency (so jitter reorders them), may be lost (`udpLossProbability`), are dropped by a
   * partition, and wait while a link is held.
   *
   * @returns a Deferred of the port's transport.
   * @throws (through the Deferred) CannotListenError (`WL_ERR_CANNOT_LISTEN`, `EADDRINUSE`),
   *   ReactorStateError while down.
   */
  listenUDP(port: number, protocol: DatagramProtocol, options: UDPOptions = {}): Deferred<DatagramTransport> {
    if (!this.up) return fail(new ReactorStateError(`host ${this.address} is down`));
    if (!this.life.acceptingWork) return fail(closedError("listen"));
    const iface = options.interface ?? "0.0.0.0";
    let number: number;
    try {
      number = port === 0 ? this.ephemeralPort() : port;
    } catch (error) {
      return fail(error);
    }
    if (this.udpPorts.some((u) => u.listening && u.address.port === number && clash(u.address.host, iface))) {
      return fail(new CannotListenError("EADDRINUSE", `udp address ${iface}:${number} is in use on ${this.address}`));
    }
    const transport = new SimUDPPort(this, protocol, { type: "udp", host: iface, port: number }, options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE);
    this.udpPorts.push(transport);
    protocol.makeConnection(transport);
    return succeed<DatagramTransport>(transport);
  }

  /** @internal The port a SYN to `port` at `address` reaches, if any. */
  findListener(port: number, address: string): SimListeningPort | undefined {
    return this.listeners.find((l) => l.listening && l.address.port === port && (WILDCARDS.has(l.address.host) || l.address.host === address || (LOOPBACK_NAMES.has(l.address.host) && LOOPBACK_NAMES.has(address))));
  }

  /** @internal The UDP port a datagram to `port` reaches, if any. */
  findUDPPort(port: number, address: string): SimUDPPort | undefined {
    return this.udpPorts.find((u) => u.listening && u.address.port === port && (WILDCARDS.has(u.address.host) || u.address.host === address || (LOOPBACK_NAMES.has(u.address.host) && LOOPBACK_NAMES.has(address))));
  }

  /** @internal */
  attemptSettled(attempt: HostAttempt): void {
    this.attempts.delete(attempt);
    if (attempt.state === "failed") this.clientPorts.delete(attempt.hostAddress.port);
  }

  /** @internal Hands out the next free ephemeral port. */
  ephemeralPort(): number {
    return this.ports.take(
      (port) => this.clientPorts.has(port) || this.tcpPortInUse("0.0.0.0", port) || this.udpPorts.some((u) => u.listening && u.address.port === port),
      this.address,
    );
  }

  private tcpPortInUse(iface: string, port: number): boolean {
    return this.listeners.some((l) => l.listening && l.address.port === port && clash(l.address.host, iface));
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
   * Starts the host's reactor (see `ReactorLifeCycle`). Hosts with `autoRun`, the default, are
   * started by the network just before their boot function.
   *
   * @returns a Deferred that fires once the host has stopped (never, if it crashes first).
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when it is down, running, or has run
   *   (a restart after a crash is a fresh reactor, which runs again).
   */
  run(): Deferred<void> {
    if (!this.up) throw new ReactorStateError(`host ${this.address} is down`);
    return this.life.run();
  }

  /**
   * Shuts the host's reactor down (see `ReactorLifeCycle`); its own part, in the `during
   * shutdown` phase, stops its ports, fails its pending connection attempts with
   * `CancelledError`, closes its connections at once (its protocols get `ConnectionLost`; each
   * peer reads the end of the stream when the FIN reaches it) and cancels its timed calls.
   *
   * @returns a Deferred that fires once shutdown is complete.
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when it is down, never ran, or has stopped.
   */
  stop(): Deferred<void> {
    if (!this.up) throw new ReactorStateError(`host ${this.address} is down`);
    return this.life.stop();
  }

  private newLifeCycle(): ReactorLifeCycle {
    return new ReactorLifeCycle({
      shutDown: () => {
        this.shutDownEverything();
      },
      reportError: (where, error) => {
        this.reportError(where, error);
      },
    });
  }

  private shutDownEverything(): void {
    for (const port of this.listeners) if (port.listening) void port.stopListening();
    for (const port of this.udpPorts) if (port.listening) void port.stopListening();
    for (const attempt of [...this.attempts]) attempt.fail(new CancelledError("the reactor is shutting down"));
    const reason = new ConnectionLost("Connection was closed because the reactor is shutting down.");
    for (const conn of [...this.world.connectionsOf(this)]) conn.forceCloseOn(this, reason);
    this.world.cancelTimersOf(this);
  }

  /** @internal The network crashed this host: forget everything, tell nobody. */
  crashed(): void {
    this.up = false;
    this.incarnation++;
    for (const port of this.listeners) port.listening = false;
    for (const port of this.udpPorts) port.listening = false;
    this.listeners.length = 0;
    this.udpPorts.length = 0;
    for (const attempt of this.attempts) attempt.kill();
    this.attempts.clear();
  }

  /** @internal The network restarted this host: a fresh reactor on the same address. */
  restarted(): void {
    this.up = true;
    this.life = this.newLifeCycle();
    this.clientPorts.clear();
  }

  /** @internal Runs the boot function (and starts the reactor first, with `autoRun`). */
  boot(): void {
    if ((this.options.autoRun ?? true) && this.life.state === "idle") this.run().addErrback(() => undefined);
    const boot = this.options.boot;
    if (boot === undefined) return;
    const result = boot(this);
    if (isThenable(result)) {
      result.then(undefined, (error: unknown) => {
        this.report(new UnhandledReactorError(`the boot function of ${this.address}`, error));
      });
    }
  }
}

/** Why a port or connection cannot be opened from the `during shutdown` phase on. */
function closedError(what: "listen" | "connect"): ReactorStateError {
  return new ReactorStateError(`cannot ${what}: the reactor is shutting down, or has stopped`);
}

function clash(a: string, b: string): boolean {
  return a === b || WILDCARDS.has(a) || WILDCARDS.has(b);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as { then?: unknown }).then === "function";
}

/** A listening TCP port of a simulated host. */
export class SimListeningPort implements ListeningPort {
  /** True until `stopListening()` (or a crash). */
  listening = true;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    /** The host it listens on. */
    readonly host: SimHost,
    /** The factory it builds protocols with. */
    readonly factory: Factory,
    /** Its address, with the assigned port. */
    readonly address: Address,
  ) {}

  getHost(): Address {
    return this.address;
  }

  /** Stops accepting; open connections stay open. A second call does nothing more. */
  stopListening(): Deferred<void> {
    if (this.listening) {
      this.listening = false;
      this.factory.doStop();
    }
    return succeed(undefined);
  }
}

/** A UDP port of a simulated host: `write` sends a datagram across the network. */
export class SimUDPPort extends MemoryUDPPort {
  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    /** The host it is bound on. */
    readonly host: SimHost,
    protocol: DatagramProtocol,
    address: Address,
    maxPacketSize: number,
  ) {
    super(protocol, address, maxPacketSize);
  }

  /** Sends one datagram; nothing is recorded (unlike `MemoryUDPPort`), it is in the trace. */
  override write(data: Uint8Array | string, addr: { host: string; port: number }): void {
    if (!this.listening) return;
    this.host.world.sendDatagram(this, data, addr);
  }
}
