/**
 * `SimPipe`: one direction of a simulated TCP connection. It takes the delivery steps of
 * `MemoryTransport` (`sendData`, `sendFin`, reset) on the network's schedule: each write
 * arrives one link latency after it was made (never before an earlier write), arrived bytes are
 * cut into reads by the chunking policy, one read per event, and a close or reset travels
 * behind the bytes. One pipe is queued at most once, so bytes keep their order whatever order
 * the scheduler picks among events due at the same time.
 *
 * @module
 */

import { ConnectionAborted, ConnectionResetError } from "../runtime/errors.js";
import type { ChunkingPolicy } from "./chunking.js";
import type { MemoryTransport } from "./loopback.js";
import type { SimLink } from "./sim-link.js";
import { SimEvent } from "./sim-scheduler.js";
import type { ConnectionEnd, EventErrorSite, EventHost, SimScheduler } from "./sim-scheduler.js";
import { TraceKind } from "./sim-trace.js";
import type { SimTrace } from "./sim-trace.js";

/** What a pipe needs from the simulated network it runs in. */
export interface PipeWorld {
  /** The virtual time. */
  readonly current: number;
  readonly scheduler: SimScheduler;
  readonly tracer: SimTrace;
  /** Cuts arrived bytes into reads. */
  readonly chunking: ChunkingPolicy;
  /** The connection end whose code runs now (timers set meanwhile belong to it); each event sets it. */
  owner: ConnectionEnd | null;
  /** One draw of the link's one-way latency. */
  latency(link: SimLink): number;
  /** Counts and traces one read of the first `n` bytes of `pipe.src.outgoing`, about to be delivered. */
  chunkDelivered(pipe: SimPipe, n: number): void;
}

/** What a pipe knows of the connection it belongs to. */
export interface PipeConnection {
  /** `c<id>` in the trace. */
  readonly id: number;
  /** The SYN-ACK reached the client. */
  established(): void;
}

/** One direction of a connection: from `src`'s writes to `dst`'s protocol. */
export class SimPipe extends SimEvent {
  /** Sizes of the writes in flight (what is left of them), oldest first, from `head`. */
  private sizes: number[] = [];
  /** When each write in flight arrives. */
  private arrivals: number[] = [];
  private head = 0;
  /** One past the last write in flight: the arrays are reused, never truncated. */
  private tail = 0;
  /** Bytes of `src.outgoing` this pipe has registered. */
  private queued = 0;
  private lastArrival = 0;
  /** When the SYN-ACK reaches the client (server-to-client pipe, before it is connected). */
  synAckAt = NaN;
  /** When this side's FIN reaches the peer, once a close was asked. */
  private finAt = NaN;
  /** When this side's RST reaches the peer, after it aborted. */
  private rstAt = NaN;
  /** True while waiting in its link's parked list. */
  private parked = false;
  /** True while bytes wait for `dst` to resume reading. */
  waitingForReader = false;
  /** What `src` is lost with when it aborts: `ConnectionAborted` unless set (a write after a fault shut its write half: EPIPE). */
  abortReason: Error | null = null;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    private readonly net: PipeWorld,
    /** The connection. */
    readonly connection: PipeConnection,
    /** 0: client to server; 1: server to client. */
    readonly direction: 0 | 1,
    /** The writing side. */
    readonly src: MemoryTransport,
    /** The reading side. */
    readonly dst: MemoryTransport,
    /** The link it crosses. */
    readonly link: SimLink,
    /** The host of the reading side, told of errors its protocol throws. */
    readonly dstHost: EventHost,
    /** The writing end, whose code runs when it aborts. */
    private readonly srcEnd: ConnectionEnd,
    /** The reading end, whose code a delivery runs. */
    private readonly dstEnd: ConnectionEnd,
  ) {
    super();
  }

  /** Bytes written and not yet delivered. */
  get inFlight(): number {
    return this.queued;
  }

  /** @internal Holds back everything until `at` (the SYN-ACK must come first). */
  holdUntil(at: number): void {
    this.synAckAt = at;
    if (this.lastArrival < at) this.lastArrival = at;
    this.schedule();
  }

  /** @internal `src` has new work: bytes, a close, an abort. */
  kick(): void {
    const src = this.src;
    const net = this.net;
    const len = src.outgoing.length;
    if (len !== this.queued) {
      if (len > this.queued) {
        let at = net.current + net.latency(this.link);
        if (at < this.lastArrival) at = this.lastArrival;
        this.lastArrival = at;
        this.sizes[this.tail] = len - this.queued;
        this.arrivals[this.tail++] = at;
      } else {
        this.clearSegments();
      }
      this.queued = len;
    }
    if (this.finAt !== this.finAt && (src.closeRequested || src.writeClosed) && !src.aborted && !src.finSent) {
      let at = net.current + net.latency(this.link);
      if (at < this.lastArrival) at = this.lastArrival;
      this.lastArrival = at;
      this.finAt = at;
    }
    this.schedule();
  }

  /** @internal `dst` resumed reading. */
  readerResumed(): void {
    if (!this.waitingForReader) return;
    this.waitingForReader = false;
    this.schedule();
  }

  /** @internal The link opened again. */
  unpark(): void {
    this.parked = false;
    this.schedule();
  }

  /** @internal Queues the pipe for its next step, if it has one. */
  schedule(): void {
    const t = this.nextTime();
    if (t === Infinity) return;
    const net = this.net;
    if (this.hi >= 0) {
      if (t < this.time) net.scheduler.reschedule(this, t);
    } else {
      net.scheduler.push(this, t);
    }
  }

  private nextTime(): number {
    const src = this.src;
    const dst = this.dst;
    const now = this.net.current;
    // An abort closes the aborting side at once, whatever the link does.
    if (src.aborted && !src.lost) return now;
    if (this.parked) return Infinity;
    if (this.rstAt === this.rstAt) return Math.max(this.rstAt, now);
    // A side closed at once by its reactor's shutdown is lost, but its FIN still travels.
    if ((src.lost && !src.forcedClosed) || dst.lost) return Infinity;
    if (this.synAckAt === this.synAckAt) return Math.max(this.synAckAt, now);
    if (this.head < this.tail || (this.finAt === this.finAt && !src.finSent)) {
      if (!dst.reading) {
        this.waitingForReader = true;
        return Infinity;
      }
      const at = this.head < this.tail ? this.arrivals[this.head]! : this.finAt;
      return at > now ? at : now;
    }
    return Infinity;
  }

  /** Runs this event (called by the simulation's scheduler). */
  fire(): void {
    const src = this.src;
    const dst = this.dst;
    const net = this.net;
    const now = net.current;
    net.owner = this.dstEnd;
    if (src.aborted && !src.lost) {
      this.clearSegments();
      this.queued = 0;
      this.rstAt = now + net.latency(this.link);
      net.owner = this.srcEnd;
      try {
        src.finish(this.abortReason ?? src.abortReason ?? new ConnectionAborted());
      } finally {
        this.schedule();
      }
      return;
    }
    if (this.link.partitioned || this.link.held) {
      if (!this.parked) {
        this.parked = true;
        this.link.parked.push(this);
      }
      return;
    }
    if (this.rstAt === this.rstAt) {
      if (this.rstAt > now) {
        this.schedule();
        return;
      }
      this.rstAt = NaN;
      if (!dst.lost) {
        net.tracer.record(now, TraceKind.rst, this.connection.id, this.direction);
        dst.finish(dst.aborted ? new ConnectionAborted() : new ConnectionResetError());
      }
      return;
    }
    if ((src.lost && !src.forcedClosed) || dst.lost) return;
    if (this.synAckAt === this.synAckAt) {
      this.synAckAt = NaN;
      this.schedule();
      this.connection.established();
      return;
    }
    if (this.head < this.tail) {
      if (!dst.reading) {
        this.waitingForReader = true;
        return;
      }
      let arrived = 0;
      const sizes = this.sizes;
      const arrivals = this.arrivals;
      for (let i = this.head; i < this.tail && arrivals[i]! <= now; i++) arrived += sizes[i]!;
      if (arrived === 0) {
        this.schedule();
        return;
      }
      let n = net.chunking.nextReadSize(src.outgoing);
      if (n > arrived) n = arrived;
      this.consume(n);
      net.chunkDelivered(this, n);
      try {
        src.sendData(n);
      } finally {
        this.schedule();
      }
      return;
    }
    if (this.finAt === this.finAt && this.finAt <= now && src.canSendFin()) {
      this.finAt = NaN;
      net.tracer.record(now, TraceKind.fin, this.connection.id, this.direction);
      src.sendFin();
    }
  }

  /** Describes this event for the trace. */
  describe(): string {
    return `pipe c${this.connection.id} ${this.direction === 0 ? "client->server" : "server->client"} (${this.queued} bytes in flight)`;
  }

  /** @internal */
  errorSite(): EventErrorSite {
    return { host: this.dstHost, where: `a protocol of connection c${this.connection.id}` };
  }

  private consume(n: number): void {
    const sizes = this.sizes;
    this.queued -= n;
    while (n > 0) {
      const size = sizes[this.head]!;
      if (size > n) {
        sizes[this.head] = size - n;
        return;
      }
      n -= size;
      this.head++;
    }
    if (this.head === this.tail) {
      this.head = this.tail = 0;
    } else if (this.head > 1024 && this.head * 2 > this.tail) {
      this.sizes = sizes.slice(this.head, this.tail);
      this.arrivals = this.arrivals.slice(this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
  }

  private clearSegments(): void {
    this.head = this.tail = 0;
  }
}
