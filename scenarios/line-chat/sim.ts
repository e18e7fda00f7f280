/**
 * line-chat's sim check: the callback and async chat servers on `SimNetwork` with random
 * chunking and (optionally) resets. Each client joins (its hello comes back), then sends its
 * lines one at a time; the invariants:
 *
 * - every line a client receives is intact, and each sender's lines reach it in order with no
 *   gap and no repeat;
 * - a line is owed to every client whose hello the sender had seen before sending it (that
 *   client was in the server's room), and must reach each of them that is still connected:
 *   "every broadcast delivered to every live subscriber".
 *
 * One operation is one line fully fanned out. A line whose sender was reset before it was
 * delivered everywhere, and the lines a reset sender never sent, are lost to faults.
 *
 * @module
 */

import { ConnectionDone } from "../../runtime/errors.js";
import { Protocol } from "../../runtime/protocol.js";
import { serve } from "../../runtime/stream.js";
import type { Connection } from "../../runtime/stream.js";
import type { SimCheckOptions, SimCheckResult } from "../scenario.js";
import type { SimTally } from "../sim-support.js";
import { runSimStyle } from "../sim-support.js";
import { chatHandler } from "./async.js";
import { ChatFactory } from "./callback.js";
import type { ParsedChatLine } from "./chat-line.js";
import { chatLine, helloLine, LINE_HELLO, LINE_MESSAGE, parseChatLine } from "./chat-line.js";

/** One line in flight: the clients it is still owed to. */
interface PendingLine {
  readonly sender: number;
  readonly seq: number;
  readonly owed: Set<number>;
}

/** What the clients of one sim run share: who is connected, and which lines are owed to whom. */
export class ChatSimRoom {
  /** The clients built so far, by index. */
  readonly clients = new Map<number, ChatChecker>();
  /** Lines sent and not yet delivered to every live client owed them, by `sender:seq`. */
  readonly pending = new Map<string, PendingLine>();

  /**
   * @param connections - the clients the run will build.
   * @param operations - lines each client sends.
   * @param faults - whether resets are injected.
   * @param tally - the check's tally.
   */
  constructor(
    readonly connections: number,
    readonly operations: number,
    readonly faults: boolean,
    readonly tally: SimTally,
  ) {}

  /**
   * Client `receiver` got line `seq` of `sender`.
   * @param receiver - the receiving client.
   * @param sender - the line's sender.
   * @param seq - its sequence number.
   */
  delivered(receiver: number, sender: number, seq: number): void {
    const line = this.pending.get(`${sender}:${seq}`);
    if (line === undefined) return;
    line.owed.delete(receiver);
    this.settle(line);
  }

  /**
   * Client `index` is gone: it is owed nothing more; its own line in flight is lost.
   * @param index - the client.
   */
  lost(index: number): void {
    for (const line of [...this.pending.values()]) {
      if (line.sender === index) {
        this.pending.delete(`${line.sender}:${line.seq}`);
        this.tally.lostToFaults++;
        continue;
      }
      if (line.owed.delete(index)) this.settle(line);
    }
    this.maybeFinish();
  }

  /** Closes every client once every client is done or gone. */
  maybeFinish(): void {
    if (this.clients.size < this.connections || this.pending.size > 0) return;
    for (const c of this.clients.values()) if (c.live && !c.doneSending) return;
    for (const c of this.clients.values()) if (c.live) c.transport.loseConnection();
  }

  private settle(line: PendingLine): void {
    if (line.owed.size > 0) return;
    this.pending.delete(`${line.sender}:${line.seq}`);
    this.tally.operations++;
    this.clients.get(line.sender)?.lineSettled(line.seq);
  }
}

/** A chat client of the sim check: joins, sends its lines one after another, checks what it gets. */
export class ChatChecker extends Protocol {
  /** Connected (client side). */
  live = false;
  /** Sent all its lines and saw each of them settled. */
  doneSending = false;
  private joined = false;
  private sent = 0;
  private buffered: Buffer = Buffer.alloc(0);
  /** Clients whose hello this one has seen: they are in the server's room. */
  private readonly seen = new Set<number>();
  /** The last sequence number received from each sender. */
  private readonly lastSeq = new Map<number, number>();
  private readonly parsed: ParsedChatLine = { worker: 0, client: 0, seq: 0 };

  /**
   * @param index - this client's index.
   * @param room - what the run's clients share.
   */
  constructor(
    private readonly index: number,
    private readonly room: ChatSimRoom,
  ) {
    super();
  }

  override connectionMade(): void {
    this.live = true;
    this.room.clients.set(this.index, this);
    this.transport.write(helloLine(0, this.index));
  }

  override dataReceived(data: Uint8Array): void {
    this.buffered = this.buffered.length === 0 ? Buffer.from(data) : Buffer.concat([this.buffered, data]);
    let from = 0;
    let nl = this.buffered.indexOf(0x0a);
    while (nl >= 0 && this.live) {
      this.lineReceived(this.buffered, from, nl + 1);
      from = nl + 1;
      nl = this.buffered.indexOf(0x0a, from);
    }
    this.buffered = this.buffered.subarray(from);
  }

  override connectionLost(reason: Error): void {
    this.live = false;
    const left = this.room.operations - this.sent;
    if (left > 0) {
      if (this.room.faults && !(reason instanceof ConnectionDone)) this.room.tally.lostToFaults += left;
      else this.room.tally.violation(`client ${this.index}: connection ended (${reason.name}) with ${left} line(s) unsent`);
    }
    this.room.lost(this.index);
  }

  /**
   * This client's line `seq` reached every live client owed it: send the next one.
   * @param seq - the settled line.
   */
  lineSettled(seq: number): void {
    if (!this.live || seq !== this.sent - 1) return;
    this.sendNext();
  }

  private sendNext(): void {
    if (this.sent === this.room.operations) {
      this.doneSending = true;
      this.room.maybeFinish();
      return;
    }
    const seq = this.sent++;
    const owed = new Set<number>();
    for (const i of this.seen) if (this.room.clients.get(i)?.live === true) owed.add(i);
    this.room.pending.set(`${this.index}:${seq}`, { sender: this.index, seq, owed });
    this.transport.write(chatLine(0, this.index, seq));
  }

  private lineReceived(buf: Buffer, start: number, end: number): void {
    const p = this.parsed;
    const kind = parseChatLine(buf, start, end, p);
    const fail = (text: string): void => {
      this.room.tally.violation(`client ${this.index}: ${text}`);
      this.live = false;
      this.transport.abortConnection();
    };
    if (kind === LINE_HELLO) {
      this.seen.add(p.client);
      if (p.client === this.index && !this.joined) {
        this.joined = true;
        this.sendNext();
      }
      return;
    }
    if (kind !== LINE_MESSAGE || p.worker !== 0) {
      fail(`a corrupt line ${JSON.stringify(buf.toString("latin1", start, end))}`);
      return;
    }
    const last = this.lastSeq.get(p.client);
    if (last !== undefined && p.seq !== last + 1) {
      fail(`line ${p.seq} of client ${p.client} after line ${last}`);
      return;
    }
    this.lastSeq.set(p.client, p.seq);
    this.room.delivered(this.index, p.client, p.seq);
  }
}

/**
 * Runs the check on both wirelab styles.
 * @param options - seed, sizes, faults.
 * @returns one result per style.
 */
export async function simCheck(options: SimCheckOptions): Promise<readonly SimCheckResult[]> {
  const run = (style: "callback" | "async", listen: Parameters<typeof runSimStyle>[2]): Promise<SimCheckResult> => {
    let room: ChatSimRoom | null = null;
    return runSimStyle(style, options, listen, (i, tally) => {
      room ??= new ChatSimRoom(options.connections, options.operations, options.faults, tally);
      return new ChatChecker(i, room);
    });
  };
  return [
    await run("callback", (reactor, endpoint) => reactor.listen(endpoint, new ChatFactory())),
    await run("async", (reactor, endpoint) => serve(reactor, endpoint, chatHandler(new Set<Connection>()))),
  ];
}
