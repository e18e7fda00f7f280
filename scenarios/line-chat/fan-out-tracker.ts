/**
 * `FanOutTracker`: the bookkeeping of line-chat's load in one worker: which of its clients are
 * in the server's room, which line each sender has in flight and how many of the worker's
 * receivers still have to get it, and whether every receiver gets every sender's lines in
 * order. Pure state, no socket, so it is tested on its own.
 *
 * Fan-out is measured within the worker: a line from one of this worker's clients is complete
 * when every client of this worker that was in the room when it was sent has received it (or
 * left); the server also sends it to the other workers' clients, which check it but do not
 * time it (they cannot see when it was sent).
 *
 * @module
 */

import type { Recorder } from "wirelab/bench";
import type { ParsedChatLine } from "./chat-line.js";
import { LINE_HELLO, LINE_MESSAGE, parseChatLine } from "./chat-line.js";

/** What the tracker tells its workload. */
export interface FanOutListener {
  /** Sender `slot`'s line in flight reached every receiver (`ok`), or one got it wrong. */
  lineDone(slot: number, ok: boolean): void;
  /** Client `slot` saw its own hello: the server has it in the room. */
  joined(slot: number): void;
}

/** Fan-out bookkeeping for the `size` clients of one worker (slots `0 .. size - 1`). */
export class FanOutTracker {
  /** Clients of this worker in the room (joined and not lost). */
  joinedCount = 0;
  /** Lines received by this worker's clients inside the measured window (all senders). */
  deliveries = 0;
  private readonly joinedFlags: Uint8Array;
  private readonly pendingSeq: Float64Array;
  private readonly remaining: Int32Array;
  /** `lastSeq[receiver * size + sender]`: the last sequence number received, -1 for none. */
  private readonly lastSeq: Float64Array;
  private readonly parsed: ParsedChatLine = { worker: 0, client: 0, seq: 0 };

  /**
   * @param worker - this worker's index (lines from other workers are checked, not timed).
   * @param size - the worker's clients.
   * @param recorder - counts deliveries only while measuring, and mismatches.
   * @param listener - told of completed lines and joins.
   */
  constructor(
    readonly worker: number,
    readonly size: number,
    private readonly recorder: Recorder,
    private readonly listener: FanOutListener,
  ) {
    this.joinedFlags = new Uint8Array(size);
    this.pendingSeq = new Float64Array(size).fill(-1);
    this.remaining = new Int32Array(size);
    this.lastSeq = new Float64Array(size * size).fill(-1);
  }

  /**
   * Whether client `slot` is in the room.
   * @param slot - the client.
   * @returns true once its hello came back, until it is lost.
   */
  isJoined(slot: number): boolean {
    return this.joinedFlags[slot] === 1;
  }

  /**
   * Sender `slot` sent line `seq`: every client now in the room must receive it.
   * @param slot - the sender.
   * @param seq - the line's sequence number.
   */
  sent(slot: number, seq: number): void {
    this.pendingSeq[slot] = seq;
    this.remaining[slot] = this.joinedCount;
  }

  /**
   * Client `slot` received the line `buf[start .. end)` (`"\n"` included).
   * @param slot - the receiver.
   * @param buf - the bytes.
   * @param start - where the line starts.
   * @param end - just after its `"\n"`.
   */
  received(slot: number, buf: Uint8Array, start: number, end: number): void {
    const p = this.parsed;
    const kind = parseChatLine(buf, start, end, p);
    if (kind === LINE_HELLO) {
      if (p.worker === this.worker && p.client === slot && this.joinedFlags[slot] === 0) {
        this.joinedFlags[slot] = 1;
        this.joinedCount++;
        this.listener.joined(slot);
      }
      return;
    }
    if (kind !== LINE_MESSAGE) {
      this.recorder.mismatch();
      return;
    }
    if (this.recorder.measuring) this.deliveries++;
    if (p.worker !== this.worker) return;
    const sender = p.client;
    if (sender >= this.size) {
      this.recorder.mismatch();
      return;
    }
    const at = slot * this.size + sender;
    const expected = this.lastSeq[at]! + 1;
    this.lastSeq[at] = p.seq;
    // A gap, a repeat or a line out of order: this receiver's view of the sender is wrong.
    const inOrder = p.seq === expected;
    if (this.pendingSeq[sender] !== p.seq) {
      if (!inOrder) this.recorder.mismatch();
      return;
    }
    if (!inOrder) {
      this.finish(sender, false);
      return;
    }
    if (--this.remaining[sender]! <= 0) this.finish(sender, true);
  }

  /**
   * Client `slot`'s connection is gone: it leaves the room, lines in flight stop waiting for
   * it, and its own line in flight (if any) is forgotten (the driver counts it as failed).
   * @param slot - the lost client.
   */
  lost(slot: number): void {
    this.pendingSeq[slot] = -1;
    if (this.joinedFlags[slot] === 0) return;
    this.joinedFlags[slot] = 0;
    this.joinedCount--;
    const base = slot * this.size;
    for (let s = 0; s < this.size; s++) {
      const seq = this.pendingSeq[s]!;
      if (seq >= 0 && this.lastSeq[base + s]! < seq && --this.remaining[s]! <= 0) this.finish(s, true);
    }
  }

  /** A receiver got bytes that cannot be a line (an endless partial line): a mismatch. */
  garbled(): void {
    this.recorder.mismatch();
  }

  private finish(sender: number, ok: boolean): void {
    this.pendingSeq[sender] = -1;
    this.listener.lineDone(sender, ok);
  }
}
