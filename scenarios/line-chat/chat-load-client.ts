/**
 * `LineChatClient`: one line-chat load connection on `node:net`: sends 64-byte lines when its
 * driver asks, splits what it receives into lines and hands each to the worker's
 * {@link FanOutTracker}. Nothing is allocated per line except when a line straddles two reads.
 *
 * @module
 */

import type * as net from "node:net";
import { closeSocket, connectSocket, LoadClient } from "wirelab/bench";
import type { ConnectTarget } from "wirelab/bench";
import { CHAT_LINE_SIZE, helloLine, writeChatLine } from "./chat-line.js";
import type { FanOutTracker } from "./fan-out-tracker.js";

/** The longest partial line a client keeps between reads; a longer one is a broken server. */
export const MAX_PARTIAL_LINE = 4 * CHAT_LINE_SIZE;

/** A chat client: every line the server broadcasts arrives here, including its own. */
export class LineChatClient extends LoadClient {
  private socket: net.Socket | null = null;
  private seq = 0;
  /** The line in flight; rewritten only once it reached every receiver, this client included. */
  private readonly line = Buffer.allocUnsafe(CHAT_LINE_SIZE);
  private readonly partial = Buffer.allocUnsafe(MAX_PARTIAL_LINE);
  private partialLength = 0;

  /**
   * @param target - where to connect.
   * @param worker - this worker's index (written into every line).
   * @param slot - this client's index in its worker.
   * @param tracker - the worker's fan-out bookkeeping.
   */
  constructor(
    private readonly target: ConnectTarget,
    private readonly worker: number,
    readonly slot: number,
    private readonly tracker: FanOutTracker,
  ) {
    super();
  }

  async connect(): Promise<void> {
    const socket = await connectSocket(this.target);
    this.socket = socket;
    this.alive = true;
    socket.on("data", (data: Buffer) => {
      this.onData(data);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.alive = false;
      this.tracker.lost(this.slot);
      this.listener.clientLost(this);
    });
  }

  /** Sends this client's hello line, to learn when the server has it in the room. */
  hello(): void {
    this.socket?.write(helloLine(this.worker, this.slot));
  }

  send(): void {
    const seq = this.seq++;
    writeChatLine(this.line, this.worker, this.slot, seq);
    this.tracker.sent(this.slot, seq);
    this.socket!.write(this.line);
  }

  close(): Promise<void> {
    return closeSocket(this.socket, "end");
  }

  abort(): void {
    this.alive = false;
    this.socket?.destroy();
  }

  private onData(data: Buffer): void {
    const n = data.length;
    let from = 0;
    let nl = data.indexOf(0x0a);
    if (this.partialLength > 0) {
      const take = nl < 0 ? n : nl + 1;
      if (this.partialLength + take > MAX_PARTIAL_LINE) {
        this.tracker.garbled();
        this.abort();
        return;
      }
      data.copy(this.partial, this.partialLength, 0, take);
      this.partialLength += take;
      if (nl < 0) return;
      const length = this.partialLength;
      this.partialLength = 0;
      this.tracker.received(this.slot, this.partial, 0, length);
      from = nl + 1;
      nl = data.indexOf(0x0a, from);
    }
    while (nl >= 0) {
      this.tracker.received(this.slot, data, from, nl + 1);
      from = nl + 1;
      nl = data.indexOf(0x0a, from);
    }
    if (from < n) {
      if (n - from > MAX_PARTIAL_LINE) {
        this.tracker.garbled();
        this.abort();
        return;
      }
      data.copy(this.partial, 0, from, n);
      this.partialLength = n - from;
    }
  }
}
