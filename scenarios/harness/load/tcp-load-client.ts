/**
 * `TcpEchoClient`: the lean echo load client on `node:net`: one preallocated payload written per
 * operation, the echo compared byte by byte as it arrives, no allocation per operation.
 *
 * @module
 */

import * as net from "node:net";
import { LoadClient, OUTCOME_MISMATCH, OUTCOME_OK } from "./load-client.js";

/** Where a load client connects. */
export interface ConnectTarget {
  /** The server's address. */
  readonly host: string;
  /** The server's port. */
  readonly port: number;
  /** A local address to connect from; absent lets the OS choose. */
  readonly localAddress?: string;
}

/** Bytes of the buffer each load connection reads into (Node's `onread`). */
export const READ_BUFFER_SIZE = 16 * 1024;

/**
 * Called with each read: `buffer`'s first `nread` bytes are valid until the callback returns.
 */
export type ReadCallback = (nread: number, buffer: Buffer) => void;

/**
 * Opens a `node:net` connection with Nagle off.
 * @param target - where to connect.
 * @param onRead - when given, reads go into one preallocated buffer per connection and to this
 *   callback (Node's `onread`), skipping the stream machinery and a Buffer allocation per read:
 *   the cheapest way for a load client to read; no `data` events are emitted then.
 * @returns the socket, once connected.
 * @throws (rejects) the socket's error (`ECONNREFUSED`, `EADDRNOTAVAIL`, `EMFILE`, ...).
 */
export function connectSocket(target: ConnectTarget, onRead?: ReadCallback): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const options: net.NetConnectOpts = { host: target.host, port: target.port, noDelay: true };
    if (target.localAddress !== undefined) options.localAddress = target.localAddress;
    if (onRead !== undefined) {
      options.onread = {
        buffer: Buffer.allocUnsafe(READ_BUFFER_SIZE),
        callback: (nread: number, buffer: Uint8Array) => {
          onRead(nread, buffer as Buffer);
          // Returning false would pause reading.
          return true;
        },
      };
    }
    const socket = net.connect(options);
    const onError = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

/**
 * Closes a load connection with a reset rather than a FIN, so that the load side keeps no
 * `TIME_WAIT` socket: thousands of them from earlier points would use up the ephemeral ports
 * that later points need.
 * @param socket - the connection, if it was opened.
 * @returns a promise that resolves once it is closed.
 */
export function closeWithReset(socket: net.Socket | null): Promise<void> {
  return closeSocket(socket, "reset");
}

/**
 * Closes a load connection with a FIN (`end()`) or a reset, and waits until it is closed.
 * @param socket - the connection, if it was opened.
 * @param how - `end` for a FIN after queued bytes, `reset` to drop it at once.
 * @returns a promise that resolves once it is closed.
 */
export function closeSocket(socket: net.Socket | null, how: "end" | "reset"): Promise<void> {
  if (socket === null || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once("close", () => {
      resolve();
    });
    if (how === "end") socket.end();
    else socket.resetAndDestroy();
  });
}

/**
 * A load client on one `node:net` socket that reads through one preallocated buffer
 * (`connectSocket`'s `onread`) and closes with a reset.
 */
export abstract class SocketLoadClient extends LoadClient {
  protected socket: net.Socket | null = null;

  /** @param target - where to connect. */
  constructor(private readonly target: ConnectTarget) {
    super();
  }

  async connect(): Promise<void> {
    const socket = await connectSocket(this.target, (nread, buffer) => {
      this.onRead(buffer, nread);
    });
    this.socket = socket;
    this.alive = true;
    socket.on("error", () => {});
    socket.on("close", () => {
      this.alive = false;
      this.listener.clientLost(this);
    });
  }

  close(): Promise<void> {
    return closeWithReset(this.socket);
  }

  abort(): void {
    this.socket?.destroy();
  }

  /** Bytes arrived: the first `n` bytes of `data`, a buffer reused for every read. */
  protected abstract onRead(data: Buffer, n: number): void;
}

/** Echo client: sends `payload`, expects exactly `payload` back. */
export class TcpEchoClient extends SocketLoadClient {
  private received = 0;
  private wrong = false;

  /**
   * @param target - where to connect.
   * @param payload - the bytes of one operation (shared by all clients; never modified).
   */
  constructor(
    target: ConnectTarget,
    private readonly payload: Buffer,
  ) {
    super(target);
  }


  send(): void {
    this.received = 0;
    this.wrong = false;
    this.socket!.write(this.payload);
  }

  protected override onRead(data: Buffer, n: number): void {
    // Bytes nobody asked for (a broken server, or the tail of a timed-out echo) are dropped.
    if (!this.busy) return;
    const payload = this.payload;
    let at = this.received;
    for (let i = 0; i < n; i++) {
      if (at >= payload.length || data[i] !== payload[at]) this.wrong = true;
      at++;
    }
    this.received = at;
    if (at >= payload.length) this.listener.operationDone(this, this.wrong || at > payload.length ? OUTCOME_MISMATCH : OUTCOME_OK);
  }
}
