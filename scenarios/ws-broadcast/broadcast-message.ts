/**
 * The ws-broadcast message: a 64-byte binary WebSocket message the publisher sends and the
 * server relays unchanged to every subscriber: sequence number, intended and actual publish
 * times (on the machine-wide monotonic clock, see `monotonic-clock.ts`), and a filler whose
 * pattern depends on the sequence number, so a corrupt or mixed-up message does not pass.
 *
 * @module
 */

/** The path subscribers connect to. */
export const SUBSCRIBE_PATH = "/";
/** The path the publisher connects to: its messages are broadcast to every subscriber. */
export const PUBLISH_PATH = "/publish";
/** Bytes in one message's payload. */
export const BROADCAST_MESSAGE_SIZE = 64;
/** Messages per second the publisher sends when the run gives no `--rate`. */
export const DEFAULT_PUBLISH_RATE = 100;

const SEQ_AT = 0;
const INTENDED_AT = 4;
const SENT_AT = 12;
const FILLER_AT = 20;

/** What {@link readBroadcastMessage} found; reused between calls. */
export interface BroadcastFields {
  /** The sequence number, from 0. */
  seq: number;
  /** When the message was due, monotonic ms. */
  intendedMs: number;
  /** When the publisher sent it, monotonic ms. */
  sentMs: number;
}

function fillerByte(seq: number, i: number): number {
  return (seq * 13 + i * 29 + 7) & 0xff;
}

/**
 * Writes message `seq` into `buf` at `at`.
 * @param buf - where to write ({@link BROADCAST_MESSAGE_SIZE} bytes from `at`).
 * @param at - the offset.
 * @param seq - the sequence number (< 2^32).
 * @param intendedMs - when it was due, monotonic ms.
 * @param sentMs - when it is sent, monotonic ms.
 */
export function writeBroadcastMessage(buf: Buffer, at: number, seq: number, intendedMs: number, sentMs: number): void {
  buf.writeUInt32BE(seq >>> 0, at + SEQ_AT);
  buf.writeDoubleBE(intendedMs, at + INTENDED_AT);
  buf.writeDoubleBE(sentMs, at + SENT_AT);
  for (let i = FILLER_AT; i < BROADCAST_MESSAGE_SIZE; i++) buf[at + i] = fillerByte(seq, i);
}

/**
 * A new message.
 * @param seq - the sequence number.
 * @param intendedMs - when it was due.
 * @param sentMs - when it is sent.
 * @returns its {@link BROADCAST_MESSAGE_SIZE} bytes.
 */
export function broadcastMessage(seq: number, intendedMs: number, sentMs: number): Buffer {
  const buf = Buffer.allocUnsafe(BROADCAST_MESSAGE_SIZE);
  writeBroadcastMessage(buf, 0, seq, intendedMs, sentMs);
  return buf;
}

/**
 * Reads and checks a message.
 * @param buf - the bytes.
 * @param at - where the payload starts.
 * @param length - the payload's length.
 * @param out - filled in when the message is intact.
 * @returns whether it is an intact message.
 */
export function readBroadcastMessage(buf: Uint8Array, at: number, length: number, out: BroadcastFields): boolean {
  if (length !== BROADCAST_MESSAGE_SIZE) return false;
  const view = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const seq = view.readUInt32BE(at + SEQ_AT);
  for (let i = FILLER_AT; i < BROADCAST_MESSAGE_SIZE; i++) if (view[at + i] !== fillerByte(seq, i)) return false;
  out.seq = seq;
  out.intendedMs = view.readDoubleBE(at + INTENDED_AT);
  out.sentMs = view.readDoubleBE(at + SENT_AT);
  return true;
}
