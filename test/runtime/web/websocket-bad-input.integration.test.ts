/**
 * Bad WebSocket input on real sockets: a WebSocketHandler on NodeReactor (127.0.0.1, port 0)
 * gets hand-built malformed frames from a raw `node:net` client after a hand-written upgrade.
 * Each must be answered with the right close code (RFC 6455 section 7.4.1), after which the
 * server closes TCP on its own; a frame announcing more than the message limit is refused from
 * its header alone. Afterwards the server still echoes for a well-behaved client and nothing was
 * reported as an error.
 */

import { connect } from "node:net";
import type { Socket } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { NodeReactor } from "../../../runtime/node/node-reactor.js";
import type { ListeningPort } from "../../../runtime/reactor.js";
import { Application } from "../../../runtime/web/application.js";
import { WebSocketHandler } from "../../../runtime/web/websocket-handler.js";

/** The server's message limit: small, so that a 1009 needs only a few bytes of header. */
const MAX_MESSAGE_SIZE = 1024;
/** How long the server may take to close TCP after its close frame. */
const CLOSE_WITHIN_MS = 2000;

class Echo extends WebSocketHandler {
  override onMessage(message: string | Uint8Array): void {
    void this.writeMessage(message, typeof message !== "string");
  }
}

interface FrameSpec {
  fin?: boolean;
  /** RSV1..RSV3 as the 3-bit value placed in bits 6..4 of the first byte. */
  rsv?: number;
  opcode: number;
  /** Client frames must be masked; false writes an unmasked frame. */
  mask?: boolean;
  payload?: Uint8Array;
  /** Announce this length instead of the payload's (the payload is written as given). */
  announcedLength?: number;
}

/** Test helper: builds one frame byte by byte (fixed masking key, so runs are reproducible). */
function frame(spec: FrameSpec): Buffer {
  const payload = spec.payload ?? new Uint8Array(0);
  const length = spec.announcedLength ?? payload.length;
  const masked = spec.mask ?? true;
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode];
  const maskBit = masked ? 0x80 : 0;
  if (length < 126) {
    head.push(maskBit | length);
  } else if (length < 0x10000) {
    head.push(maskBit | 126, length >> 8, length & 0xff);
  } else {
    head.push(maskBit | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(length));
    head.push(...big);
  }
  const key = [0x37, 0xfa, 0x21, 0x3d];
  if (masked) head.push(...key);
  const body = Buffer.from(payload);
  if (masked) for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ key[i % 4]!;
  return Buffer.concat([Buffer.from(head), body]);
}

function closePayload(code: number, reason = ""): Uint8Array {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
}

interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/** Parses the (unmasked, short) frames a server sent; stops at an incomplete one. */
function parseServerFrames(bytes: Buffer): ServerFrame[] {
  const frames: ServerFrame[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    let length = bytes[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      if (start + 2 > bytes.length) break;
      length = bytes.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (start + 8 > bytes.length) break;
      length = Number(bytes.readBigUInt64BE(start));
      start += 8;
    }
    if (start + length > bytes.length) break;
    frames.push({ opcode, payload: bytes.subarray(start, start + length) });
    at = start + length;
  }
  return frames;
}

/** A raw client connection after a successful hand-written upgrade. */
interface RawClient {
  socket: Socket;
  /** Bytes received after the 101 response head. */
  received(): Buffer;
  /** Resolves when the server closed TCP; rejects if it has not within `CLOSE_WITHIN_MS`. */
  closed: Promise<void>;
}

async function upgrade(port: number): Promise<RawClient> {
  const socket = connect({ host: "127.0.0.1", port });
  // Writes into a socket the server has already closed may fail with EPIPE/ECONNRESET: expected here.
  socket.on("error", () => {});
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const closedOnce = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  socket.setNoDelay(true);
  socket.write(
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  const headEnd = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no 101 response head within ${CLOSE_WITHIN_MS} ms`)), CLOSE_WITHIN_MS);
    const check = (): void => {
      const end = Buffer.concat(chunks).indexOf("\r\n\r\n");
      if (end < 0) return;
      clearTimeout(timer);
      socket.off("data", check);
      resolve(end);
    };
    socket.on("data", check);
    check();
  });
  const all = Buffer.concat(chunks);
  const head = all.subarray(0, headEnd).toString("latin1");
  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  expect(head).toMatch(/\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
  const bodyStart = headEnd + 4;
  return {
    socket,
    received: () => Buffer.concat(chunks).subarray(bodyStart),
    closed: new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`server did not close TCP within ${CLOSE_WITHIN_MS} ms`));
      }, CLOSE_WITHIN_MS);
      // The client never calls end() or destroy(): a close means the server closed TCP.
      void closedOnce.then(() => {
        clearTimeout(timer);
        resolve();
      });
    }),
  };
}

/** Writes `bytes` after the handshake and returns the close frame's code and reason. */
async function sendBad(port: number, bytes: Buffer): Promise<{ code: number; reason: string; frames: ServerFrame[] }> {
  const client = await upgrade(port);
  client.socket.write(bytes);
  await client.closed;
  const frames = parseServerFrames(client.received());
  const close = frames.find((f) => f.opcode === 0x8);
  expect(close, "the server sent a close frame").toBeDefined();
  expect(close!.payload.length).toBeGreaterThanOrEqual(2);
  return { code: close!.payload.readUInt16BE(0), reason: close!.payload.subarray(2).toString("utf8"), frames };
}

describe("malformed WebSocket input on real sockets", () => {
  let reactor: NodeReactor;
  let listening: ListeningPort;
  let port: number;
  const reactorErrors: unknown[] = [];
  const appErrors: unknown[] = [];

  beforeAll(async () => {
    reactor = new NodeReactor();
    reactor.setErrorHook((e) => reactorErrors.push(e));
    void reactor.run();
    const app = new Application([["/ws", Echo]], { websocketMaxMessageSize: MAX_MESSAGE_SIZE, onError: (e) => appErrors.push(e) });
    listening = await app.listen(reactor, "tcp:0:interface=127.0.0.1");
    port = listening.getHost().port;
  });

  afterAll(async () => {
    await reactor.stop();
  });

  const text = (s: string): Uint8Array => Buffer.from(s, "utf8");

  const cases: [string, () => Buffer, number][] = [
    ["an unmasked client frame", () => frame({ opcode: 0x1, mask: false, payload: text("hi") }), 1002],
    ["reserved bits without an extension (RSV1)", () => frame({ opcode: 0x1, rsv: 0b100, payload: text("hi") }), 1002],
    ["reserved bits without an extension (RSV3)", () => frame({ opcode: 0x2, rsv: 0b001, payload: text("hi") }), 1002],
    ["an unknown opcode (0x3)", () => frame({ opcode: 0x3, payload: text("hi") }), 1002],
    ["an unknown control opcode (0xB)", () => frame({ opcode: 0xb }), 1002],
    ["a fragmented control frame (ping, FIN=0)", () => frame({ opcode: 0x9, fin: false, payload: text("p") }), 1002],
    ["a control frame payload over 125 bytes", () => frame({ opcode: 0x9, payload: new Uint8Array(126) }), 1002],
    ["a continuation with no message started", () => frame({ opcode: 0x0, payload: text("x") }), 1002],
    [
      "a new data frame inside a fragmented message",
      () => Buffer.concat([frame({ opcode: 0x1, fin: false, payload: text("a") }), frame({ opcode: 0x1, payload: text("b") })]),
      1002,
    ],
    ["a text frame with invalid UTF-8 (0xC3 0x28)", () => frame({ opcode: 0x1, payload: Uint8Array.of(0xc3, 0x28) }), 1007],
    ["a close frame with code 1005 on the wire", () => frame({ opcode: 0x8, payload: closePayload(1005) }), 1002],
    ["a close frame with code 999", () => frame({ opcode: 0x8, payload: closePayload(999) }), 1002],
    ["a close frame with a 1-byte payload", () => frame({ opcode: 0x8, payload: Uint8Array.of(0x03) }), 1002],
    ["a close frame with an invalid UTF-8 reason", () => frame({ opcode: 0x8, payload: Buffer.concat([closePayload(1000), Buffer.of(0xff)]) }), 1007],
  ];

  it.each(cases)("%s is closed with the right code", async (_name, build, expected) => {
    const { code } = await sendBad(port, build());
    expect(code).toBe(expected);
  });

  it("a frame announcing more than maxMessageSize is a 1009 from its header alone", async () => {
    // Only the header: the server must not wait for a payload that never comes.
    const { code } = await sendBad(port, frame({ opcode: 0x2, announcedLength: MAX_MESSAGE_SIZE + 1 }));
    expect(code).toBe(1009);
    const { code: huge } = await sendBad(port, frame({ opcode: 0x2, announcedLength: 2 ** 40 }));
    expect(huge).toBe(1009);
  });

  it("fragments whose sum exceeds maxMessageSize are a 1009", async () => {
    const half = new Uint8Array(MAX_MESSAGE_SIZE / 2 + 1);
    const { code } = await sendBad(port, Buffer.concat([frame({ opcode: 0x2, fin: false, payload: half }), frame({ opcode: 0x0, payload: half })]));
    expect(code).toBe(1009);
  });

  it("500 KiB of garbage in one write is closed with 1002", async () => {
    const garbage = Buffer.alloc(500 * 1024);
    // First byte 0x0f: FIN=0, opcode 0xF (reserved); the rest a fixed pseudo-random pattern.
    let x = 0x2545f491;
    for (let i = 0; i < garbage.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      garbage[i] = x & 0xff;
    }
    garbage[0] = 0x0f;
    const { code } = await sendBad(port, garbage);
    expect(code).toBe(1002);
  });

  it("still echoes for a well-behaved client, and nothing was reported", async () => {
    const client = await upgrade(port);
    client.socket.write(frame({ opcode: 0x1, payload: text("still here") }));
    client.socket.write(frame({ opcode: 0x8, payload: closePayload(1000, "bye") }));
    await client.closed;
    const frames = parseServerFrames(client.received());
    expect(frames.map((f) => f.opcode)).toEqual([0x1, 0x8]);
    expect(frames[0]!.payload.toString("utf8")).toBe("still here");
    expect(frames[1]!.payload.readUInt16BE(0)).toBe(1000);
    expect(frames[1]!.payload.subarray(2).toString("utf8")).toBe("bye");
    expect(reactorErrors).toEqual([]);
    expect(appErrors).toEqual([]);
  });
});
