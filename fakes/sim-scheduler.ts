/**
 * `SimScheduler`: the one event queue of a simulated network, an indexed binary heap ordered by
 * (time, tie key, insertion order).
 *
 * Entries are long-lived objects (a connection's delivery pipe, a timed call) that carry their
 * own heap slot, so scheduling, rescheduling and cancelling are O(log n) and allocate nothing.
 *
 * @module
 */

/** What hears of an error thrown by simulated code: a host's error hook. */
export interface EventHost {
  /** Hands the error to the host's error hook. */
  report(error: Error): void;
}

/** Whom an event's error belongs to, and what the event was doing when its code threw. */
export interface EventErrorSite {
  /** The host whose code threw, or null when the error belongs to the whole network. */
  readonly host: EventHost | null;
  /** What ran, for the error's message, such as `a timed call`. */
  readonly where: string;
}

/**
 * One end of a simulated connection, as the owner of the timers its protocol sets: a timer set
 * while an end's code runs belongs to it, and one that fires after the end was lost outlived
 * its connection.
 */
export interface ConnectionEnd {
  /** Such as `c0 server side`. */
  readonly name: string;
  /** The host the end is on. */
  readonly host: EventHost;
  /** The connection's other end. */
  readonly peer: ConnectionEnd;
  /** True from the moment the end is lost (before its protocol's `connectionLost` runs). */
  readonly lost: boolean;
  /** The virtual time the end was lost at; NaN while it is open. */
  readonly lostAt: number;
}

/** Something the scheduler can run. Subclasses say what happens in `fire()`. */
export abstract class SimEvent {
  /** When it is due, in virtual milliseconds. */
  time = 0;
  /** @internal Orders events due at the same time: the insertion number, or a seeded draw. */
  key = 0;
  /** @internal Insertion number; the last tie-break. */
  seq = 0;
  /** @internal The slot in the heap, or -1 when not scheduled. */
  hi = -1;
  /**
   * @internal Events of one group (a host's timed calls) due at the same time keep their
   * insertion order even when ties are shuffled, as a reactor runs its timers; -1 for none.
   */
  tieGroup = -1;

  /** True while it waits in the scheduler. */
  get scheduled(): boolean {
    return this.hi >= 0;
  }

  /** @internal Runs the event; the scheduler has already taken it off the queue. */
  abstract fire(): void;

  /** @internal A short description for stall reports. */
  abstract describe(): string;

  /** @internal Where an error thrown while it fired is reported. */
  abstract errorSite(): EventErrorSite;
}

function before(a: SimEvent, b: SimEvent): boolean {
  if (a.time !== b.time) return a.time < b.time;
  if (a.key !== b.key) return a.key < b.key;
  return a.seq < b.seq;
}

/**
 * Events in due order. Ties (equal times) run in insertion order, or in an order drawn from
 * `tieBreaker` when one is given (the simulation's "shuffle ties" adversary).
 */
export class SimScheduler {
  private heap: SimEvent[] = [];
  private seq = 0;

  /** Mixed into the tie keys of grouped events, so each seed orders groups differently. */
  private readonly salt: number;

  /** @param tieBreaker - draws a tie key in [0, 1) per insertion; null keeps insertion order. */
  constructor(private readonly tieBreaker: (() => number) | null = null) {
    this.salt = tieBreaker === null ? 0 : Math.floor(tieBreaker() * 0x100000000);
  }

  /** How many events are waiting. */
  get size(): number {
    return this.heap.length;
  }

  /** @returns the next event due, without removing it. */
  peek(): SimEvent | undefined {
    return this.heap[0];
  }

  /** Every waiting event, in heap (not due) order. */
  entries(): readonly SimEvent[] {
    return this.heap;
  }

  /** Queues `event` at `time`; it must not be queued already. */
  push(event: SimEvent, time: number): void {
    event.time = time;
    const seq = this.seq++;
    event.seq = seq;
    if (this.tieBreaker === null) event.key = seq;
    else event.key = event.tieGroup < 0 ? this.tieBreaker() : groupKey(event.tieGroup ^ this.salt, time);
    const i = this.heap.length;
    this.heap.push(event);
    event.hi = i;
    this.up(i);
  }

  /** @returns the next event due, removed from the queue; undefined when empty. */
  pop(): SimEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    top.hi = -1;
    if (last !== top) {
      heap[0] = last;
      last.hi = 0;
      this.down(0);
    }
    return top;
  }

  /** Takes `event` off the queue; does nothing when it is not queued. */
  remove(event: SimEvent): void {
    const i = event.hi;
    if (i < 0) return;
    const heap = this.heap;
    const last = heap.pop()!;
    event.hi = -1;
    if (last === event) return;
    heap[i] = last;
    last.hi = i;
    this.up(i);
    this.down(last.hi);
  }

  /** Moves `event` to `time`, as a fresh insertion (it goes after events already due then). */
  reschedule(event: SimEvent, time: number): void {
    this.remove(event);
    this.push(event, time);
  }

  private up(i: number): void {
    const heap = this.heap;
    const item = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(item, p)) break;
      heap[i] = p;
      p.hi = i;
      i = parent;
    }
    heap[i] = item;
    item.hi = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let child = heap[l]!;
      if (r < n) {
        const rc = heap[r]!;
        if (before(rc, child)) {
          c = r;
          child = rc;
        }
      }
      if (!before(child, item)) break;
      heap[i] = child;
      child.hi = i;
      i = c;
    }
    heap[i] = item;
    item.hi = i;
  }
}

/**
 * One tie key per (group, time), in [0, 1): every event of the group due at that time gets the
 * same key, so they run together and in insertion order, at a seeded place among the others.
 */
function groupKey(group: number, time: number): number {
  const t = Math.floor(time * 1024) | 0;
  let h = Math.imul(group ^ 0x9e3779b9, 0x85ebca6b);
  h ^= Math.imul(t ^ (t >>> 16), 0xc2b2ae35);
  h ^= h >>> 13;
  h = Math.imul(h, 0x27d4eb2f);
  h ^= h >>> 15;
  return (h >>> 0) / 0x100000000;
}
