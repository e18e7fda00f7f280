/**
 * `IpcChannel`: request/reply messages with a child process over Node's IPC channel, for the
 * runner's server child and load workers. One request of a given reply type at a time.
 *
 * @module
 */

import type { ChildProcess } from "node:child_process";
import { BenchChildError } from "../../runtime/errors.js";

/** A message: a `type` and anything JSON. */
export interface IpcMessage {
  readonly type: string;
  readonly [key: string]: unknown;
}

interface Waiter {
  readonly type: string;
  readonly resolve: (message: IpcMessage) => void;
  readonly reject: (error: Error) => void;
}

/** The parent's side of a child's IPC channel. */
export class IpcChannel {
  private readonly waiters: Waiter[] = [];
  private exited: Error | null = null;

  /**
   * @param child - a child spawned with an `"ipc"` stdio entry.
   * @param name - what to call it in errors (e.g. "load worker 0").
   */
  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    child.on("message", (raw: unknown) => {
      const message = raw as IpcMessage;
      if (message.type === "fatal") {
        this.failAll(new BenchChildError(name, String(message["message"])));
        return;
      }
      const i = this.waiters.findIndex((w) => w.type === message.type);
      if (i < 0) return;
      const [waiter] = this.waiters.splice(i, 1);
      waiter!.resolve(message);
    });
    child.on("exit", (code, signal) => {
      this.exited = new BenchChildError(name, `exited (${signal ?? `code ${String(code)}`})`);
      this.failAll(this.exited);
    });
  }

  /**
   * Sends `message` and waits for a reply of type `replyType`.
   * @param message - what to send.
   * @param replyType - the reply's type.
   * @returns the reply.
   * @throws (rejects) BenchChildError (`WL_ERR_BENCH_CHILD`) when the child fails or exits first.
   */
  request(message: IpcMessage, replyType: string): Promise<IpcMessage> {
    const reply = this.waitFor(replyType);
    this.send(message);
    return reply;
  }

  /**
   * Waits for a message of type `type`.
   * @param type - the message type.
   * @returns the message.
   * @throws (rejects) BenchChildError (`WL_ERR_BENCH_CHILD`) when the child fails or exits first.
   */
  waitFor(type: string): Promise<IpcMessage> {
    if (this.exited !== null) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.waiters.push({ type, resolve, reject });
    });
  }

  /**
   * Sends a message and expects no reply.
   * @param message - what to send.
   */
  send(message: IpcMessage): void {
    if (this.exited === null && this.child.connected) this.child.send(message);
  }

  private failAll(error: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(error);
  }
}
