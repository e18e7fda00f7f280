/**
 * `SimWorld`: the state and the engine of a simulated network, behind the small public front
 * of `SimNetwork`. It holds the virtual clock, the one seeded generator, the event queue, the
 * hosts, links and open connections, and it routes what the events carry: SYNs and refusals,
 * resets, datagrams, faults and boots. Hosts, connections, pipes, packets and timers see it
 * through the narrow interfaces they declare (`HostWorld`, `ConnectionWorld`, `PipeWorld`,
 * `PacketWorld`, `TimerWorld`), so every `sim-*` file depends one way: the world on them, never
 * them on the world.
 *
 * @module
 */

import type { Deferred } from "../runtime/deferred.js";
import type { TcpClientEndpoint } from "../runtime/endpoints.js";
import {
  ConnectionRefusedError,
  ConnectionResetError,
  DNSLookupError,
  ReactorStalledError,
  ReactorStateError,
  UnhandledReactorError,
} from "../runtime/errors.js";
import type { Address, ClientFactory, Factory, Protocol } from "../runtime/protocol.js";
import { toBytes } from "./chunking.js";
import type { ChunkingPolicy } from "./chunking.js";
import type { PairBufferOptions } from "./loopback.js";
import type { SeededRandom } from "./random.js";
import { REASON_NAMES, REFUSED_WRITE_REASONS, SimConnectAttempt, SimConnection } from "./sim-connection.js";
import type { ConnectionWorld } from "./sim-connection.js";
import { describeFault } from "./sim-faults.js";
import type { SimFault } from "./sim-faults.js";
import { LOOPBACK_ADDRESS, SimHost, isLoopbackName } from "./sim-host.js";
import type { HostWorld, SimHostOptions, SimUDPPort } from "./sim-host.js";
import type { LatencyModel } from "./sim-latency.js";
import { SimLink } from "./sim-link.js";
import { SimPacket } from "./sim-packet.js";
import type { PacketWorld, SimPacketBody } from "./sim-packet.js";
import { SimPipe } from "./sim-pipe.js";
import type { ConnectionEnd, SimEvent } from "./sim-scheduler.js";
import { SimScheduler } from "./sim-scheduler.js";
import { SimTimer } from "./sim-timer.js";
import type { TimerWorld } from "./sim-timer.js";
import { SimTrace, TraceKind } from "./sim-trace.js";
import type { TraceMode, TraceRecord } from "./sim-trace.js";

/** Counters of what a network did. */
export interface SimStats {
  /** Every event processed. */
  events: number;
  /** Timed calls that ran. */
  timersFired: number;
  /** Reads delivered to protocols (`dataReceived` calls). */
  chunksDelivered: number;
  /** Bytes delivered to protocols. */
  bytesDelivered: number;
  /** UDP datagrams delivered. */
  datagramsDelivered: number;
  /** UDP datagrams lost, dropped by a partition, or sent nowhere. */
  datagramsDropped: number;
  /** Connections accepted. */
  connectionsAccepted: number;
  /** Faults that struck. */
  faults: number;
}

/** A timed call that outlived the connection whose code set it. */
export interface LeakedTimer {
  /** Its function's name, or `anonymous`. */
  readonly timer: string;
  /** The host it was set on. */
  readonly host: string;
  /** The connection end that set it, such as `c0 server side`. */
  readonly connection: string;
  /** When that end was lost, in virtual milliseconds. */
  readonly lostAt: number;
  /** When it fired; NaN while it is still pending. */
  readonly firedAt: number;
  /** When it is (or was) due. */
  readonly dueAt: number;
}

/** The most leaked timers a network keeps (a leak in a loop is reported, not hoarded). */
export const MAX_LEAKED_TIMERS = 100;

/** What the front hands the engine, every option resolved and checked. */
export interface SimWorldOptions {
  readonly random: SeededRandom;
  readonly shuffleTies: boolean;
  readonly trace: TraceMode;
  readonly maxTraceLines: number;
  readonly chunking: ChunkingPolicy;
  readonly start: number;
  readonly firstEphemeralPort: number;
  readonly latency: LatencyModel;
  readonly linkOverrides: ReadonlyMap<string, LatencyModel>;
  readonly udpLossProbability: number;
  /** The write-buffer bounds of every connection's two transports. */
  readonly buffers: PairBufferOptions;
  /** Payload bytes shown per delivery in the trace's lines. */
  readonly payloadPreview: number;
}

const IP_LIKE = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+:[0-9a-fA-F:]*)$/;

/** @returns the key of the unordered pair of addresses `a` and `b`. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** The state and engine of one simulated network. */
export class SimWorld implements HostWorld, ConnectionWorld, PacketWorld, TimerWorld {
  readonly random: SeededRandom;
  readonly scheduler: SimScheduler;
  readonly tracer: SimTrace;
  readonly chunking: ChunkingPolicy;
  readonly firstEphemeralPort: number;
  /** The virtual time. */
  current: number;
  /** The connection end whose code runs now: timers set meanwhile belong to it. Every event sets it as it fires. */
  owner: ConnectionEnd | null = null;
  /** Timers that fired after their connection end was lost, oldest first (at most {@link MAX_LEAKED_TIMERS}). */
  readonly leaks: LeakedTimer[] = [];
  readonly stats: SimStats = {
    events: 0,
    timersFired: 0,
    chunksDelivered: 0,
    bytesDelivered: 0,
    datagramsDelivered: 0,
    datagramsDropped: 0,
    connectionsAccepted: 0,
    faults: 0,
  };
  readonly hosts: SimHost[] = [];
  private readonly byAddress = new Map<string, SimHost>();
  private readonly links = new Map<number, SimLink>();
  private readonly linkOverrides: Map<string, LatencyModel>;
  private readonly defaultLatency: LatencyModel;
  /** The open connections, by id (ids grow, so this is oldest first). */
  readonly conns = new Map<number, SimConnection>();
  /** The open connections of each host's current life. */
  private readonly byHost = new Map<SimHost, Set<SimConnection>>();
  private readonly labels: string[][] = [];
  private readonly udpLoss: number;
  private readonly buffers: PairBufferOptions;
  private readonly payloadPreview: number;
  /** True when deliveries keep a payload preview (lines kept, preview wanted). */
  private readonly previewing: boolean;
  private readonly hashBytes = (segment: Uint8Array, start: number, end: number): void => {
    this.tracer.bytes(segment, start, end);
  };
  private failure: Error | null = null;
  private connectionIds = 0;
  private timerIds = 0;

  constructor(options: SimWorldOptions) {
    this.random = options.random;
    const random = options.random;
    this.scheduler = new SimScheduler(options.shuffleTies ? () => random.next() : null);
    this.tracer = new SimTrace(options.trace, options.maxTraceLines, (r) => this.formatRecord(r));
    this.chunking = options.chunking;
    this.current = options.start;
    this.firstEphemeralPort = options.firstEphemeralPort;
    this.defaultLatency = options.latency;
    this.linkOverrides = new Map(options.linkOverrides);
    this.udpLoss = options.udpLossProbability;
    this.buffers = options.buffers;
    this.payloadPreview = options.payloadPreview;
    this.previewing = options.trace === "lines" && options.payloadPreview > 0;
  }

  // -------------------------------------------------------------------------------------------
  // Hosts and links

  /** Adds a host, whose boot runs as an event at the current time. */
  addHost(address: string, options: SimHostOptions): SimHost {
    const host = new SimHost(this, this.hosts.length, address, options);
    this.hosts.push(host);
    this.byAddress.set(address, host);
    this.byHost.set(host, new Set());
    this.schedulePacket({ kind: "boot", host, incarnation: host.incarnation }, null, this.current);
    return host;
  }

  hostByAddress(address: string): SimHost | undefined {
    return this.byAddress.get(address);
  }

  /** @throws ReactorStateError (`WL_ERR_REACTOR_STATE`) for an unknown address. */
  requireHost(address: string): SimHost {
    const host = this.byAddress.get(address);
    if (host === undefined) throw new ReactorStateError(`no host has address ${address}`);
    return host;
  }

  connectionsOf(host: SimHost): ReadonlySet<SimConnection> {
    return this.byHost.get(host)!;
  }

  /** One draw of the link's latency. */
  latency(link: SimLink): number {
    // sampleLatency, by hand: this is on every write's path.
    const m = link.model;
    return m.kind === "fixed" ? m.ms : m.min + this.random.next() * (m.max - m.min);
  }

  /** The link between two hosts, made on first use. */
  linkBetween(a: SimHost, b: SimHost): SimLink {
    const key = a.id < b.id ? a.id * 1_048_576 + b.id : b.id * 1_048_576 + a.id;
    let link = this.links.get(key);
    if (link === undefined) {
      link = new SimLink(a.address, b.address, this.linkOverrides.get(pairKey(a.address, b.address)) ?? this.defaultLatency);
      this.links.set(key, link);
    }
    return link;
  }

  /** Sets the latency model between `a` and `b`, for their link now and if it is made later. */
  setLatency(a: string, b: string, model: LatencyModel): void {
    this.linkOverrides.set(pairKey(a, b), model);
    this.linkBetween(this.requireHost(a), this.requireHost(b)).model = model;
  }

  // -------------------------------------------------------------------------------------------
  // Events

  /** Runs one event: takes it off the queue, moves the clock, fires it. */
  step(event: SimEvent): void {
    this.scheduler.pop();
    if (event.time > this.current) this.current = event.time;
    this.stats.events++;
    try {
      event.fire();
    } catch (error) {
      const site = event.errorSite();
      const wrapped = error instanceof UnhandledReactorError ? error : new UnhandledReactorError(site.where, error);
      if (site.host === null) this.fail(wrapped);
      else site.host.report(wrapped);
    }
  }

  /** Makes the current (or next) run fail with `error`; the first error wins. */
  fail(error: Error): void {
    if (this.failure === null) this.failure = error;
  }

  /** @returns the error a run must fail with, if any, forgetting it. */
  takeFailure(): Error | null {
    const failure = this.failure;
    this.failure = null;
    return failure;
  }

  /** @returns the error of a run stopped at its step bound, saying where it got. */
  stalled(steps: number): ReactorStalledError {
    const next = this.scheduler.peek();
    const what = next === undefined ? "nothing" : `${next.describe()} due at ${next.time} ms`;
    return new ReactorStalledError(steps, `virtual time ${this.current} ms, ${this.scheduler.size} events pending, next: ${what}`);
  }

  /** Schedules `fault` at virtual time `ms`. */
  scheduleFault(ms: number, fault: SimFault): void {
    this.schedulePacket({ kind: "fault", fault }, null, ms);
  }

  private schedulePacket(body: SimPacketBody, link: SimLink | null, time: number, owner: ConnectionEnd | null = null): void {
    const packet = new SimPacket(this, body, link);
    packet.owner = owner;
    this.scheduler.push(packet, time);
  }

  /** Adds a note to the trace, from `host` or from the test. */
  note(text: string, host: SimHost | null): void {
    this.tracer.note(this.current, TraceKind.note, text, host === null ? 0 : host.id + 1);
  }

  /** @returns the timers that outlived their connection: those that fired, then those still pending. */
  leakedTimers(): LeakedTimer[] {
    const pending: LeakedTimer[] = [];
    for (const event of this.scheduler.entries()) {
      if (event instanceof SimTimer && event.owner !== null && event.owner.lost) pending.push(this.leak(event, NaN));
    }
    pending.sort((a, b) => a.dueAt - b.dueAt);
    return [...this.leaks, ...pending];
  }

  private leak(timer: SimTimer, firedAt: number): LeakedTimer {
    const owner = timer.owner!;
    return { timer: timer.label === "" ? "anonymous" : timer.label, host: timer.host.address, connection: owner.name, lostAt: owner.lostAt, firedAt, dueAt: timer.time };
  }

  // -------------------------------------------------------------------------------------------
  // Timers

  addTimer(host: SimHost, ms: number, fn: (...args: unknown[]) => void, args: unknown[]): SimTimer {
    // A timer set by a connection end's code belongs to it, unless the end is lost already (a
    // retry scheduled from connectionLost is not a leak). An event may run both ends' code (a
    // FIN that closes both): the end on the timer's host is the one that set it.
    let owner = this.owner;
    if (owner !== null && owner.host !== host) owner = owner.peer.host === host ? owner.peer : null;
    if (owner !== null && owner.lost) owner = null;
    const timer = new SimTimer(this, host, this.timerIds++, fn, args, owner);
    if (host.up) this.scheduler.push(timer, this.current + ms);
    else timer.time = this.current + ms;
    return timer;
  }

  cancelTimersOf(host: SimHost): void {
    for (const event of this.scheduler.entries().slice()) {
      if (event instanceof SimTimer && event.host === host) {
        event.state = "cancelled";
        this.scheduler.remove(event);
      }
    }
  }

  timerFired(timer: SimTimer): void {
    this.stats.timersFired++;
    const owner = timer.owner;
    this.owner = owner;
    const leaked = owner !== null && owner.lost;
    const tracer = this.tracer;
    tracer.record(this.current, TraceKind.timer, timer.host.id, timer.id, leaked ? 1 : 0);
    if (tracer.keeping) {
      const name = timer.label === "" ? "anonymous" : timer.label;
      const whose = owner === null ? "" : leaked ? ` (${owner.name}, lost at ${owner.lostAt.toFixed(3)}ms): it outlived its connection` : ` (${owner.name})`;
      tracer.keep(`${name} fired on ${timer.host.address}${whose}`);
    }
    if (leaked && this.leaks.length < MAX_LEAKED_TIMERS) this.leaks.push(this.leak(timer, this.current));
  }

  // -------------------------------------------------------------------------------------------
  // TCP

  dial<P extends Protocol>(host: SimHost, endpoint: TcpClientEndpoint, factory: Factory<P> | ClientFactory<P>, target: SimHost | null, localAddress: string, localPort: number): Deferred<P> {
    const attempt = new SimConnectAttempt<P>(this, host, this.connectionIds++, endpoint, factory, target, localAddress, localPort);
    host.attempts.add(attempt);
    attempt.start();
    return attempt.deferred;
  }

  chunkDelivered(pipe: SimPipe, n: number): void {
    this.stats.chunksDelivered++;
    this.stats.bytesDelivered += n;
    const tracer = this.tracer;
    if (tracer.mode === "off") return;
    tracer.record(this.current, TraceKind.deliver, pipe.connection.id, pipe.direction, n);
    const queue = pipe.src.outgoing;
    queue.forEachRange(n, this.hashBytes);
    if (this.previewing && tracer.keeping) {
      const preview = new Uint8Array(Math.min(n, this.payloadPreview));
      let at = 0;
      queue.forEachRange(preview.length, (segment, start, end) => {
        preview.set(segment.subarray(start, end), at);
        at += end - start;
      });
      tracer.keep(preview);
    }
  }

  /** Hashes a datagram's bytes into the last record and keeps their preview. */
  private datagramBytes(bytes: Uint8Array): void {
    this.tracer.bytes(bytes);
    if (this.payloadPreview > 0) this.tracer.keep(bytes.slice(0, this.payloadPreview));
  }

  connectionClosed(conn: SimConnection): void {
    this.conns.delete(conn.id);
    const client = conn.clientHost;
    this.byHost.get(client)!.delete(conn);
    this.byHost.get(conn.serverHost)!.delete(conn);
    if (conn.attempt.incarnation === client.incarnation) client.clientPorts.delete(conn.attempt.hostAddress.port);
  }

  sendSyn(attempt: SimConnectAttempt): void {
    const now = this.current;
    const target = attempt.target;
    const local = attempt.hostAddress;
    this.labels[attempt.id] = [`${local.host}:${local.port}`, `${attempt.endpoint.host}:${attempt.endpoint.port}`];
    if (target === null) {
      if (IP_LIKE.test(attempt.endpoint.host)) {
        this.tracer.record(now, TraceKind.synLost, attempt.id);
      } else {
        this.schedulePacket({ kind: "dnsFail", attempt }, null, now);
      }
      return;
    }
    const link = this.linkBetween(attempt.host, target);
    this.tracer.record(now, TraceKind.syn, attempt.id, attempt.host.id, target.id, attempt.endpoint.port);
    this.schedulePacket({ kind: "syn", attempt }, link, now + this.latency(link));
  }

  packetArrived(packet: SimPacket): void {
    this.owner = packet.owner;
    const body = packet.body;
    const link = packet.link;
    const now = this.current;
    if (link !== null && link.blocked) {
      if (body.kind === "datagram" && link.partitioned) {
        this.datagramDropped(body.from, body.to, body.port, body.data.length);
        return;
      }
      link.parked.push(packet);
      return;
    }
    switch (body.kind) {
      case "syn":
        this.synArrived(body.attempt, link!);
        return;
      case "refuse":
        body.attempt.fail(new ConnectionRefusedError(`connection to ${body.attempt.endpoint.host}:${body.attempt.endpoint.port} was refused`));
        return;
      case "dnsFail":
        body.attempt.fail(new DNSLookupError(`no simulated host is called ${JSON.stringify(body.attempt.endpoint.host)}`));
        return;
      case "peerReset":
        if (!body.transport.lost) {
          this.tracer.record(now, TraceKind.rst, body.connectionId, body.side === 0 ? 1 : 0);
          body.transport.finish(new ConnectionResetError());
        }
        return;
      case "datagram": {
        const to = body.to;
        const port = to.up ? to.findUDPPort(body.port, body.toAddress) : undefined;
        const from = body.from;
        if (port === undefined || !port.deliver(body.data, { host: body.fromAddress, port: from.address.port })) {
          this.datagramDropped(from, to, body.port, body.data.length);
          return;
        }
        this.stats.datagramsDelivered++;
        this.tracer.record(now, TraceKind.udpDeliver, from.host.id, from.address.port, to.id, body.port, body.data.length);
        this.datagramBytes(body.data);
        return;
      }
      case "fault":
        this.inject(body.fault);
        return;
      case "boot":
        if (!body.host.up || body.host.incarnation !== body.incarnation) return;
        this.tracer.record(now, TraceKind.boot, body.host.id, body.incarnation);
        body.host.boot();
        return;
    }
  }

  private synArrived(attempt: SimConnectAttempt, link: SimLink): void {
    const now = this.current;
    const target = attempt.target!;
    if (!target.up) {
      this.tracer.record(now, TraceKind.synLost, attempt.id);
      return;
    }
    const loopback = isLoopbackName(attempt.endpoint.host);
    const listener = target.findListener(attempt.endpoint.port, loopback ? LOOPBACK_ADDRESS : target.address);
    if (listener === undefined) {
      this.schedulePacket({ kind: "refuse", attempt }, link, now + this.latency(link));
      return;
    }
    const serverAddress: Address = { type: "tcp", host: loopback ? LOOPBACK_ADDRESS : target.address, port: attempt.endpoint.port };
    const conn = new SimConnection(this, attempt.id, attempt, target, link, serverAddress, this.buffers);
    attempt.connection = conn;
    this.conns.set(conn.id, conn);
    this.byHost.get(attempt.host)!.add(conn);
    this.byHost.get(target)!.add(conn);
    this.stats.connectionsAccepted++;
    this.tracer.record(now, TraceKind.accept, conn.id);
    this.owner = conn.serverEnd;
    // The SYN-ACK goes first: whatever the server writes in connectionMade queues behind it.
    conn.down.holdUntil(now + this.latency(link));
    const protocol = listener.factory.buildProtocol(attempt.hostAddress);
    if (protocol === null) conn.server.loseConnection();
    else conn.server.attach(protocol);
  }

  // -------------------------------------------------------------------------------------------
  // UDP

  sendDatagram(port: SimUDPPort, data: Uint8Array | string, addr: { host: string; port: number }): void {
    const host = port.host;
    if (!host.up) return;
    const now = this.current;
    const bytes = toBytes(data).slice();
    const loopback = isLoopbackName(addr.host);
    const to = loopback ? host : this.byAddress.get(addr.host);
    this.tracer.record(now, TraceKind.udpSend, host.id, port.address.port, to === undefined ? -1 : to.id, addr.port, bytes.length);
    this.datagramBytes(bytes);
    if (to === undefined) {
      this.datagramDropped(port, null, addr.port, bytes.length);
      return;
    }
    const link = this.linkBetween(host, to);
    if (link.partitioned || (this.udpLoss > 0 && this.random.next() < this.udpLoss)) {
      this.datagramDropped(port, to, addr.port, bytes.length);
      return;
    }
    this.schedulePacket(
      {
        kind: "datagram",
        from: port,
        fromAddress: loopback ? LOOPBACK_ADDRESS : host.address,
        to,
        toAddress: loopback ? LOOPBACK_ADDRESS : to.address,
        port: addr.port,
        data: bytes,
      },
      link,
      now + this.latency(link),
    );
  }

  private datagramDropped(from: SimUDPPort, to: SimHost | null, port: number, length: number): void {
    this.stats.datagramsDropped++;
    this.tracer.record(this.current, TraceKind.udpDrop, from.host.id, from.address.port, to === null ? -1 : to.id, port, length);
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  /** Strikes with `fault` now. */
  inject(fault: SimFault): void {
    this.stats.faults++;
    const now = this.current;
    if (fault.kind === "reset" || fault.kind === "halfClose") {
      // The trace names the connection the fault picked.
      const conn = this.pickConnection(fault.host, fault.pick);
      const side = fault.kind === "halfClose" && fault.side === "server" ? 1 : 0;
      const target = conn === undefined ? "no open connection" : fault.kind === "reset" ? `c${conn.id}` : `c${conn.id} ${side === 0 ? "client" : "server"} side`;
      this.tracer.note(now, TraceKind.fault, `${describeFault(fault)} -> ${target}`);
      if (conn === undefined) return;
      if (fault.kind === "halfClose") {
        conn.shutWrite(side);
        return;
      }
      for (const t of [conn.client, conn.server]) {
        if (!t.lost) {
          this.tracer.record(now, TraceKind.rst, conn.id, t === conn.client ? 1 : 0);
          t.finish(new ConnectionResetError("the network reset the connection"));
        }
      }
      return;
    }
    this.tracer.note(now, TraceKind.fault, describeFault(fault));
    switch (fault.kind) {
      case "partition":
        for (const a of fault.a) for (const b of fault.b) if (a !== b) this.linkBetween(this.requireHost(a), this.requireHost(b)).partitioned = true;
        return;
      case "heal":
        if (fault.a === undefined && fault.b === undefined) {
          for (const link of this.links.values()) {
            if (!link.partitioned) continue;
            link.partitioned = false;
            this.opened(link);
          }
          return;
        }
        for (const a of fault.a ?? []) {
          for (const b of fault.b ?? []) {
            if (a === b) continue;
            const link = this.linkBetween(this.requireHost(a), this.requireHost(b));
            link.partitioned = false;
            this.opened(link);
          }
        }
        return;
      case "hold":
        this.linkBetween(this.requireHost(fault.a), this.requireHost(fault.b)).held = true;
        return;
      case "release": {
        const link = this.linkBetween(this.requireHost(fault.a), this.requireHost(fault.b));
        link.held = false;
        this.opened(link);
        return;
      }
      case "crash":
        this.crashHost(this.requireHost(fault.host), fault.restartAfter);
        return;
      case "restart":
        this.restartHost(this.requireHost(fault.host));
        return;
    }
  }

  private pickConnection(host: string | undefined, pick: number | undefined): SimConnection | undefined {
    const list: SimConnection[] = [];
    for (const c of this.conns.values()) {
      if (host === undefined || c.clientHost.address === host || c.serverHost.address === host) list.push(c);
    }
    const n = list.length;
    if (n === 0) return undefined;
    const i = pick === undefined ? this.random.int(0, n - 1) : ((Math.trunc(pick) % n) + n) % n;
    return list[i];
  }

  private opened(link: SimLink): void {
    if (link.blocked || link.parked.length === 0) return;
    const parked = link.parked;
    link.parked = [];
    for (const event of parked) {
      if (event instanceof SimPipe) event.unpark();
      else if (!event.scheduled) this.scheduler.push(event, this.current);
    }
  }

  private crashHost(host: SimHost, restartAfter: number | undefined): void {
    if (!host.up) return;
    const now = this.current;
    this.tracer.record(now, TraceKind.crash, host.id, host.incarnation);
    host.crashed();
    for (const conn of [...this.connectionsOf(host)]) {
      const clientHere = conn.clientHost === host;
      const serverHere = conn.serverHost === host;
      if (clientHere) conn.silence(0);
      if (serverHere) conn.silence(1);
      if (clientHere && serverHere) continue;
      const peer = clientHere ? conn.server : conn.client;
      if (peer.lost) continue;
      const to = clientHere ? conn.serverHost : conn.clientHost;
      const peerEnd = clientHere ? conn.serverEnd : conn.clientEnd;
      this.schedulePacket({ kind: "peerReset", transport: peer, connectionId: conn.id, side: clientHere ? 1 : 0, to }, conn.link, now + this.latency(conn.link), peerEnd);
    }
    this.cancelTimersOf(host);
    if (restartAfter !== undefined) this.scheduleFault(now + Math.max(0, restartAfter), { kind: "restart", host: host.address });
  }

  private restartHost(host: SimHost): void {
    if (host.up) return;
    this.tracer.record(this.current, TraceKind.restart, host.id, host.incarnation);
    host.restarted();
    this.byHost.get(host)!.clear();
    this.schedulePacket({ kind: "boot", host, incarnation: host.incarnation }, null, this.current);
  }

  // -------------------------------------------------------------------------------------------
  // The trace's wording

  private formatRecord(r: TraceRecord): string {
    const t = `${r.time.toFixed(3)}ms`;
    const host = (id: number): string => this.hosts[id]?.address ?? "?";
    const label = (id: number, direction: number): string => {
      const l = this.labels[id];
      if (l === undefined) return "";
      return direction === 0 ? `${l[0]} -> ${l[1]}` : `${l[1]} -> ${l[0]}`;
    };
    switch (r.kind) {
      case TraceKind.syn:
        return `${t} SYN c${r.a} ${label(r.a, 0)}`;
      case TraceKind.synLost:
        return `${t} SYN c${r.a} ${label(r.a, 0)} goes nowhere`;
      case TraceKind.accept:
        return `${t} accept c${r.a} ${label(r.a, 0)}`;
      case TraceKind.connected:
        return `${t} connected c${r.a} ${label(r.a, 0)}`;
      case TraceKind.connectFailed:
        return `${t} connect c${r.a} ${label(r.a, 0)} failed: ${REASON_NAMES[r.b] ?? "?"}`;
      case TraceKind.deliver:
        return `${t} deliver c${r.a} ${label(r.a, r.b)} ${r.c} bytes${preview(r)}`;
      case TraceKind.fin:
        return `${t} FIN c${r.a} ${label(r.a, r.b)}`;
      case TraceKind.rst:
        return `${t} RST c${r.a} ${label(r.a, r.b)}`;
      case TraceKind.lost:
        return `${t} lost c${r.a} ${r.b === 0 ? "client" : "server"} side: ${REASON_NAMES[r.c] ?? "?"}`;
      case TraceKind.timer:
        return `${t} timer #${r.b} ${r.text ?? `fired on ${host(r.a)}`}`;
      case TraceKind.udpSend:
        return `${t} udp send ${host(r.a)}:${r.b} -> ${r.c < 0 ? "nowhere" : host(r.c)}:${r.d} ${r.e} bytes${preview(r)}`;
      case TraceKind.udpDeliver:
        return `${t} udp deliver ${host(r.a)}:${r.b} -> ${host(r.c)}:${r.d} ${r.e} bytes${preview(r)}`;
      case TraceKind.udpDrop:
        return `${t} udp drop ${host(r.a)}:${r.b} -> ${r.c < 0 ? "nowhere" : host(r.c)}:${r.d} ${r.e} bytes`;
      case TraceKind.fault:
        return `${t} fault ${r.text ?? ""}`;
      case TraceKind.crash:
        return `${t} crash ${host(r.a)}`;
      case TraceKind.restart:
        return `${t} restart ${host(r.a)}`;
      case TraceKind.boot:
        return `${t} boot ${host(r.a)} (life ${r.b})`;
      case TraceKind.note:
        return `${t} note${r.a > 0 ? ` ${host(r.a - 1)}` : ""}: ${r.text ?? ""}`;
      case TraceKind.writeRefused:
        return `${t} c${r.a} ${r.b === 0 ? "client" : "server"} side: write of ${r.c} bytes ${REFUSED_WRITE_REASONS[r.d] ?? "?"}`;
      default:
        return `${t} record ${r.kind} ${r.a} ${r.b} ${r.c} ${r.d} ${r.e}`;
    }
  }
}

/** A payload preview for a trace line: ` "..."` with the bytes escaped, `...` when cut short. */
function preview(r: TraceRecord): string {
  const bytes = r.bytes;
  if (bytes === undefined) return "";
  const total = r.kind === TraceKind.deliver ? r.c : r.e;
  return ` "${escapeBytes(bytes)}${total > bytes.length ? "..." : ""}"`;
}

const ESCAPES: Record<number, string> = { 0x09: "\\t", 0x0a: "\\n", 0x0d: "\\r", 0x22: '\\"', 0x5c: "\\\\" };

/** @returns `bytes` as printable ASCII, with `\r`, `\n`, `\t`, `\"`, `\\` and `\xNN` escapes. */
function escapeBytes(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    const escape = ESCAPES[b];
    if (escape !== undefined) out += escape;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return out;
}
