/**
 * The lean WebSocket load clients of ws-broadcast, on `node:net`: the opening handshake
 * written by hand, then a subscriber that parses the server's (unmasked) frames with no
 * allocation when a frame lies in one read, and a publisher that sends masked binary frames.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import type * as net from "node:net";
import { computeAcceptKey } from "wirelab";
import { closeSocket, connectSocket } from "wirelab/bench";
import type { ConnectTarget } from "wirelab/bench";

/** The largest handshake response head accepted, in bytes. */
export const MAX_HANDSHAKE_RESPONSE = 4096;
/** The largest frame payload a subscriber accepts (the messages are 64 bytes). */
export const MAX_SUBSCRIBER_PAYLOAD = 64 * 1024;

const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;

/**
 * Connects and runs the WebSocket opening handshake.
 * @param target - where to connect.
 * @param path - the request path.
 * @returns the socket, and any bytes that followed the 101 response.
 * @throws (rejects) a socket error, or an Error when the server does not answer 101 with the
 *   right `Sec-WebSocket-Accept`.
 */
export async function openWebSocket(target: ConnectTarget, path: string): Promise<{ socket: net.Socket; rest: Buffer }> {
  const socket = await connectSocket(target);
  const key = randomBytes(16).toString("base64");
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const fail = (error: Error): void => {
      socket.off("data", onData);
      socket.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > MAX_HANDSHAKE_RESPONSE) fail(new Error("handshake response too long"));
        return;
      }
      socket.off("data", onData);
      socket.off("error", fail);
      socket.off("close", onClose);
      const text = head.toString("latin1", 0, end);
      const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(text)?.[1];
      if (!text.startsWith("HTTP/1.1 101") || accept !== computeAcceptKey(key)) {
        fail(new Error(`handshake refused: ${text.split("\r\n")[0] ?? ""}`));
        return;
      }
      resolve({ socket, rest: head.subarray(end + 4) });
    };
    const onClose = (): void => fail(new Error("closed during the handshake"));
    socket.on("data", onData);
    socket.once("error", fail);
    socket.once("close", onClose);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  });
}

/** What a subscriber hands its owner. */
export interface SubscriberSink {
  /** A complete binary message: `buf[at .. at + length)`, valid only during the call. */
  message(subscriber: WsSubscriber, buf: Buffer, at: number, length: number): void;
  /** A frame no broadcast should contain (text, fragmented, masked, too big). */
  badFrame(subscriber: WsSubscriber): void;
  /** The connection is gone. */
  lost(subscriber: WsSubscriber): void;
}

/** A subscriber connection: reads frames, answers pings, never sends data. */
export class WsSubscriber {
  /** True while connected. */
  alive = false;
  /** The next sequence number it expects (the owner's state). */
  nextSeq = 0;
  private socket: net.Socket | null = null;
  private carry: Buffer | null = null;

  /**
   * @param target - where to connect.
   * @param path - the subscribe path.
   * @param sink - told of messages and losses.
   */
  constructor(
    private readonly target: ConnectTarget,
    private readonly path: string,
    private readonly sink: SubscriberSink,
  ) {}

  /** Connects and upgrades; rejects when either fails. */
  async connect(): Promise<void> {
    const { socket, rest } = await openWebSocket(this.target, this.path);
    this.socket = socket;
    this.alive = true;
    socket.on("data", (data: Buffer) => {
      this.onData(data);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.alive = false;
      this.sink.lost(this);
    });
    if (rest.length > 0) this.onData(rest);
  }

  /** Closes the TCP connection (the benchmark does not wait for a closing handshake). */
  close(): Promise<void> {
    return closeSocket(this.socket, "end");
  }

  /** Drops the connection now. */
  abort(): void {
    this.alive = false;
    this.socket?.destroy();
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    const n = buf.length;
    let pos = 0;
    while (n - pos >= 2) {
      const b0 = buf[pos]!;
      const b1 = buf[pos + 1]!;
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (n - pos < 4) break;
        length = buf.readUInt16BE(pos + 2);
        header = 4;
      } else if (length === 127) {
        if (n - pos < 10) break;
        length = Number(buf.readBigUInt64BE(pos + 2));
        header = 10;
      }
      if ((b1 & 0x80) !== 0 || length > MAX_SUBSCRIBER_PAYLOAD) {
        this.sink.badFrame(this);
        this.abort();
        return;
      }
      if (n - pos < header + length) break;
      const opcode = b0 & 0x0f;
      const at = pos + header;
      pos = at + length;
      if (opcode === OPCODE_BINARY && (b0 & 0x80) !== 0) this.sink.message(this, buf, at, length);
      else if (opcode === OPCODE_PING) this.socket?.write(maskedFrame(OPCODE_PONG, buf.subarray(at, at + length)));
      else if (opcode === OPCODE_CLOSE) {
        this.abort();
        return;
      } else if (opcode !== OPCODE_PONG) {
        this.sink.badFrame(this);
        this.abort();
        return;
      }
    }
    if (pos < n) this.carry = Buffer.from(buf.subarray(pos));
  }
}

/**
 * Frames `payload` as a client must: FIN, the opcode, a fresh masking key, the masked bytes.
 * @param opcode - the frame's opcode.
 * @param payload - its payload (at most 65535 bytes).
 * @returns the frame.
 */
export function maskedFrame(opcode: number, payload: Uint8Array): Buffer {
  const length = payload.length;
  const header = length < 126 ? 2 : 4;
  const frame = Buffer.allocUnsafe(header + 4 + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) frame[1] = 0x80 | length;
  else {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  }
  const key = randomBytes(4);
  key.copy(frame, header);
  for (let i = 0; i < length; i++) frame[header + 4 + i] = payload[i]! ^ key[i & 3]!;
  return frame;
}

/** The publisher connection: sends masked binary messages. */
export class WsPublisher {
  private socket: net.Socket | null = null;
  /** True while connected. */
  alive = false;

  /**
   * @param target - where to connect.
   * @param path - the publish path.
   * @param onLost - told when the connection is gone.
   */
  constructor(
    private readonly target: ConnectTarget,
    private readonly path: string,
    private readonly onLost: () => void,
  ) {}

  /** Connects and upgrades; rejects when either fails. */
  async connect(): Promise<void> {
    const { socket } = await openWebSocket(this.target, this.path);
    this.socket = socket;
    this.alive = true;
    socket.on("error", () => {});
    socket.on("close", () => {
      this.alive = false;
      this.onLost();
    });
  }

  /**
   * Sends one binary message.
   * @param payload - its bytes.
   */
  send(payload: Uint8Array): void {
    this.socket?.write(maskedFrame(OPCODE_BINARY, payload));
  }

  /** Closes the connection. */
  close(): Promise<void> {
    return closeSocket(this.socket, "end");
  }
}
