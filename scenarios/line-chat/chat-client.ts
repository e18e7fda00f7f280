/**
 * line-chat's client workload, on wirelab `Connection`s: what `--sim` runs (and `--load client`).
 * Each connection joins (sends its hello and waits to see it come back, which proves the server
 * has it in the room), then reads every line the server broadcasts while its operations send
 * lines; one operation is one line, done when every member of the group it was owed to has it:
 * the members whose hello the sender had seen before sending it, that are still connected.
 *
 * The group's {@link ChatRoom} checks that every line a member receives is intact and that each
 * sender's lines reach it in order with no gap and no repeat; what breaks that is a violation
 * (the scenario's `checks` return them) and fails the line's operation as a mismatch.
 *
 * @module
 */

import { dial, MismatchError } from "wirelab";
import type { Connection, Reactor } from "wirelab";
import type { ClientWorkload } from "wirelab/bench";
import type { ParsedChatLine } from "./chat-line.js";
import { chatLine, CHAT_MAX_LINE_LENGTH, helloLine, LINE_HELLO, LINE_MESSAGE, parseChatLine } from "./chat-line.js";

/** How long a member waits to see its own hello, ms (on the reactor's clock). */
export const JOIN_TIMEOUT_MS = 10_000;

/** How a line's operation ended. */
type LineOutcome = "delivered" | "mismatch" | "lost";

/** One line in flight: the members it is still owed to. */
interface PendingLine {
  readonly sender: number;
  readonly seq: number;
  readonly owed: Set<number>;
  readonly done: (outcome: LineOutcome, detail?: string) => void;
}

/** One member of the room: a connection of this group. */
export class ChatMember {
  /** Connected and reading. */
  live = true;
  /** Members whose hello this one has seen: they are in the server's room. */
  readonly seen = new Set<number>();
  /** The last sequence number received from each sender. */
  readonly lastSeq = new Map<number, number>();
  /** Resolves when its own hello came back. */
  readonly joined: Promise<void>;
  /** @internal */
  markJoined: () => void = () => {};
  /** @internal */
  failJoin: (error: Error) => void = () => {};

  /** @param index - the connection's index over the run. */
  constructor(readonly index: number) {
    this.joined = new Promise((resolve, reject) => {
      this.markJoined = resolve;
      this.failJoin = reject;
    });
    // A member lost before it joined has its connect fail; nobody else awaits this.
    this.joined.catch(() => {});
  }
}

/** What one group's connections share: who is in the room, which lines are owed to whom. */
export class ChatRoom {
  /** The members, by index. */
  readonly members = new Map<number, ChatMember>();
  /** Lines sent and not yet delivered to every live member owed them, by `sender:seq`. */
  readonly pending = new Map<string, PendingLine>();
  /** Invariant violations, in words. */
  readonly violations: string[] = [];
  private readonly parsed: ParsedChatLine = { worker: 0, client: 0, seq: 0 };

  /** @param group - the group's index: written into its lines, so other groups' lines are told apart. */
  constructor(readonly group: number) {}

  /**
   * A new member.
   * @param index - its connection's index.
   * @returns the member.
   */
  join(index: number): ChatMember {
    const member = new ChatMember(index);
    this.members.set(index, member);
    return member;
  }

  /**
   * Member `receiver` got `line` (its `"\n"` included).
   * @param receiver - the member.
   * @param line - the bytes.
   * @returns false when the line breaks an invariant (the member's connection should end).
   */
  received(receiver: ChatMember, line: Uint8Array): boolean {
    const p = this.parsed;
    const kind = parseChatLine(line, 0, line.length, p);
    if (kind === LINE_HELLO) {
      if (p.worker !== this.group) return true;
      receiver.seen.add(p.client);
      if (p.client === receiver.index) receiver.markJoined();
      return true;
    }
    if (kind !== LINE_MESSAGE) {
      this.violation(`client ${receiver.index}: a corrupt line ${JSON.stringify(Buffer.from(line).toString("latin1"))}`);
      return false;
    }
    // Another group's line: intact (parseChatLine checked it), and not ours to time.
    if (p.worker !== this.group) return true;
    const last = receiver.lastSeq.get(p.client);
    if (last !== undefined && p.seq !== last + 1) {
      const text = `client ${receiver.index}: line ${p.seq} of client ${p.client} after line ${last}`;
      this.violation(text);
      this.pending.get(`${p.client}:${p.seq}`)?.done("mismatch", text);
      return false;
    }
    receiver.lastSeq.set(p.client, p.seq);
    const pending = this.pending.get(`${p.client}:${p.seq}`);
    if (pending !== undefined) {
      pending.owed.delete(receiver.index);
      this.settle(pending);
    }
    return true;
  }

  /**
   * Member `member` is gone: it is owed nothing more; its own lines in flight are lost.
   * @param member - the member.
   */
  lost(member: ChatMember): void {
    member.live = false;
    member.failJoin(new Error(`client ${member.index} was lost before it joined`));
    for (const line of [...this.pending.values()]) {
      if (line.sender === member.index) {
        this.pending.delete(`${line.sender}:${line.seq}`);
        line.done("lost");
      } else if (line.owed.delete(member.index)) this.settle(line);
    }
  }

  /**
   * Sends line `seq` of `sender` and resolves once it is delivered to every live member owed it.
   * @param conn - the sender's connection.
   * @param sender - the sender.
   * @param seq - the line's sequence number.
   * @throws (rejects) MismatchError when a member got it wrong; an Error when the sender was lost.
   */
  async send(conn: Connection, sender: ChatMember, seq: number): Promise<void> {
    const owed = new Set<number>();
    for (const i of sender.seen) if (this.members.get(i)?.live === true) owed.add(i);
    const outcome = new Promise<{ outcome: LineOutcome; detail?: string }>((resolve) => {
      this.pending.set(`${sender.index}:${seq}`, { sender: sender.index, seq, owed, done: (o, detail) => resolve({ outcome: o, ...(detail === undefined ? {} : { detail }) }) });
    });
    await conn.write(chatLine(this.group, sender.index, seq));
    const { outcome: o, detail } = await outcome;
    if (o === "mismatch") throw new MismatchError(detail ?? `line ${seq} of client ${sender.index} arrived wrong`);
    if (o === "lost") throw new Error(`client ${sender.index} was lost with line ${seq} in flight`);
  }

  private settle(line: PendingLine): void {
    if (line.owed.size > 0) return;
    this.pending.delete(`${line.sender}:${line.seq}`);
    line.done("delivered");
  }

  private violation(text: string): void {
    if (this.violations.length < 20) this.violations.push(text);
  }
}

async function readLines(conn: Connection, member: ChatMember, room: ChatRoom): Promise<void> {
  try {
    for (;;) {
      const line = await conn.readUntil("\n", CHAT_MAX_LINE_LENGTH + 1);
      if (!room.received(member, line)) {
        await conn.abort();
        return;
      }
    }
  } catch {
    // The connection ended (closed, reset, a line too long): the member leaves.
  } finally {
    room.lost(member);
  }
}

function withTimeout<T>(reactor: Reactor, promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const call = reactor.callLater(ms, () => reject(new Error(`${what} within ${ms} ms`)));
    promise.then(
      (v) => {
        if (call.active()) call.cancel();
        resolve(v);
      },
      (error: unknown) => {
        if (call.active()) call.cancel();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** line-chat's client workload. */
export const chatClient: ClientWorkload<Connection, ChatRoom> = {
  shared: (group) => new ChatRoom(group.groupIndex),
  async connect(reactor, endpoint, ctx) {
    const conn = await dial(reactor, endpoint);
    // Several lines per socket in flight: with Nagle on, delayed ACKs would add 40 ms.
    conn.transport.setTcpNoDelay(true);
    const member = ctx.shared.join(ctx.index);
    void readLines(conn, member, ctx.shared);
    await conn.write(helloLine(ctx.shared.group, ctx.index));
    try {
      await withTimeout(reactor, member.joined, JOIN_TIMEOUT_MS, `client ${ctx.index} did not see its hello come back`);
    } catch (error) {
      await conn.abort();
      throw error;
    }
    return conn;
  },
  operation(conn, ctx) {
    return ctx.shared.send(conn, ctx.shared.members.get(ctx.index)!, ctx.sequence);
  },
};
