/**
 * `SimHost`: one host of a simulated network, a full `Reactor`: timed calls on the network's
 * one virtual clock, TCP listen/connect by the same endpoint strings as `NodeReactor`, UDP, and
 * Twisted's life cycle. Its ports and ephemeral ports are its own.
 *
 * @module
 */

import { Deferred, fail, succeed } from "../runtime/deferred.js";
import { parseClientEndpoint, parseServerEndpoint } from "../runtime/endpoints.js";
import type { ClientEndpoint, ServerEndpoint } from "../runtime/endpoints.js";
import {
  CannotListenError,
  InvalidEndpointError,
  ReactorStateError,
  SystemSocketError,
  UnhandledReactorError,
} from "../runtime/errors.js";
import type { Address, ClientFactory, DatagramProtocol, Factory, Protocol } from "../runtime/protocol.js";
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
import { MemoryUDPPort } from "./memory-reactor.js";
import { DEFAULT_MAX_PACKET_SIZE } from "./memory-reactor.js";
import { SimConnectAttempt } from "./sim-connection.js";
import type { SimConnection } from "./sim-connection.js";
import { SystemEventTriggers } from "./system-event-triggers.js";
import type { SimNetwork } from "./simulation.js";

/** The loopback address every simulated host answers on, for itself only. */
export const LOOPBACK_ADDRESS = "127.0.0.1";

const WILDCARDS = new Set(["0.0.0.0", "::", ""]);
const LOOPBACK_NAMES = new Set([LOOPBACK_ADDRESS, "localhost", "::1"]);

/** Options for {@link SimNetwork.host}. */
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

type Phase = "idle" | "running" | "stopping" | "stopped" | "crashed";

/** A simulated host. Everything a protocol can do with a reactor, it can do with one. */
export class SimHost implements Reactor {
  /** How many times it was (re)started after a crash; bumps on every crash. */
  incarnation = 0;
  /** False while crashed. */
  up = true;
  /** @internal */ readonly listeners: SimListeningPort[] = [];
  /** @internal */ readonly udpPorts: SimUDPPort[] = [];
  /** @internal */ readonly connections = new Set<SimConnection>();
  /** @internal */ readonly attempts = new Set<SimConnectAttempt>();
  /** @internal */ readonly clientPorts = new Set<number>();
  private phase: Phase = "idle";
  private readonly triggers = new SystemEventTriggers();
  private whenStopped = new Deferred<void>();
  private hook: ReactorErrorHook;
  private nextPort: number;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    /** The network it is part of. */
    readonly network: SimNetwork,
    /** A number unique in the network (`h<id>` internally; the trace prints addresses). */
    readonly id: number,
    /** Its address, such as `"10.0.0.1"`. */
    readonly address: string,
    /** Its options. */
    readonly options: SimHostOptions,
  ) {
    this.hook = (error) => {
      network.fail(error);
    };
    this.nextPort = network.firstEphemeralPort;
  }

  /** True from `run()` until shutdown completes (and never while crashed). */
  get running(): boolean {
    return this.phase === "running" || this.phase === "stopping";
  }

  now(): number {
    return this.network.current;
  }

  /**
   * Schedules `fn(...args)` on the network's clock; it belongs to this host (a crash cancels
   * it). On a crashed host the call is never queued.
   *
   * @throws RangeError when `ms` is NaN.
   */
  callLater<A extends unknown[]>(ms: number, fn: (...args: A) => void, ...args: A): DelayedCall {
    if (Number.isNaN(ms)) throw new RangeError("callLater() delay is NaN");
    return this.network.addTimer(this, ms > 0 ? ms : 0, fn as (...args: unknown[]) => void, args);
  }

  /** @returns a number in [0, 1) from the network's one seeded generator. */
  random(): number {
    return this.network.random.next();
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
    const target = LOOPBACK_NAMES.has(parsed.host) ? this : (this.network.hostByAddress(parsed.host) ?? null);
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
    const attempt = new SimConnectAttempt<P>(this.network, this, this.network.nextConnectionId(), parsed, factory, target, localAddress, localPort);
    this.attempts.add(attempt);
    attempt.start();
    return attempt.deferred;
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
  attemptSettled(attempt: SimConnectAttempt): void {
    this.attempts.delete(attempt);
    if (attempt.state === "failed") this.clientPorts.delete(attempt.hostAddress.port);
  }

  /** @internal Hands out the next free ephemeral port. */
  ephemeralPort(): number {
    const first = this.network.firstEphemeralPort;
    for (let tries = 0; tries <= 65535; tries++) {
      const port = this.nextPort;
      this.nextPort = port >= 65535 ? first : port + 1;
      if (!this.clientPorts.has(port) && !this.tcpPortInUse("0.0.0.0", port) && !this.udpPorts.some((u) => u.listening && u.address.port === port)) return port;
    }
    throw new CannotListenError("EADDRNOTAVAIL", `no ephemeral port is free on ${this.address}`);
  }

  private tcpPortInUse(iface: string, port: number): boolean {
    return this.listeners.some((l) => l.listening && l.address.port === port && clash(l.address.host, iface));
  }

  // -------------------------------------------------------------------------------------------
  // Life cycle

  /** Runs `fn` now if running, otherwise once started. */
  callWhenRunning(fn: () => void): void {
    if (this.running) fn();
    else this.addSystemEventTrigger("after", "startup", fn);
  }

  addSystemEventTrigger(phase: TriggerPhase, event: SystemEvent, fn: () => unknown): TriggerHandle {
    return this.triggers.add(phase, event, fn);
  }

  removeSystemEventTrigger(handle: TriggerHandle): void {
    this.triggers.remove(handle);
  }

  /**
   * Starts the host's reactor: startup triggers, then `running`. (Hosts with `autoRun`, the
   * default, are started by the network just before their boot function.)
   *
   * @returns a Deferred that fires once the host has stopped (never, if it crashes first).
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when it already ran, or is down.
   */
  run(): Deferred<void> {
    if (this.phase !== "idle") throw new ReactorStateError(this.phase === "running" ? "the host is already running" : `the host is ${this.phase}`);
    this.phase = "running";
    this.triggers
      .fire("startup", () => undefined, undefined, (error) => {
        this.report(error);
      })
      .addErrback((error: unknown) => {
        this.report(error instanceof Error ? error : new UnhandledReactorError("startup", error));
      });
    return this.whenStopped;
  }

  /**
   * Shuts the host down: `before` triggers (waited for), then its ports stop, its connections
   * close (after flushing) and its timed calls are cancelled (`during`), then `after` triggers.
   *
   * @returns a Deferred that fires once shutdown is complete.
   * @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) when it is not running.
   */
  stop(): Deferred<void> {
    if (this.phase !== "running") throw new ReactorStateError(this.phase === "stopping" ? "the host is already stopping" : "the host is not running");
    this.phase = "stopping";
    return this.triggers
      .fire(
        "shutdown",
        () => {
          for (const port of this.listeners) if (port.listening) port.stopListening().addErrback(() => undefined);
          for (const port of this.udpPorts) if (port.listening) port.stopListening().addErrback(() => undefined);
          for (const conn of this.connections) {
            const t = conn.sideOn(this);
            if (!t.disconnecting) t.loseConnection();
          }
        },
        () => {
          this.network.cancelTimersOf(this);
        },
        (error) => {
          this.report(error);
        },
      )
      .addBoth((result) => {
        this.phase = "stopped";
        if (!this.whenStopped.called) this.whenStopped.callback(undefined);
        if (result instanceof Error) throw result;
      });
  }

  /** @internal The network crashed this host: forget everything, tell nobody. */
  crashed(): void {
    this.up = false;
    this.phase = "crashed";
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
    this.phase = "idle";
    this.triggers.clear();
    this.whenStopped = new Deferred<void>();
    this.clientPorts.clear();
    this.connections.clear();
  }

  /** @internal Runs the boot function (and starts the reactor first, with `autoRun`). */
  boot(): void {
    if ((this.options.autoRun ?? true) && this.phase === "idle") this.run().addErrback(() => undefined);
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
    this.host.network.sendDatagram(this, data, addr);
  }
}
