/**
 * The line-chat wire format, shared by the load workload and the sim check. Every line ends in
 * `"\n"`; the server treats lines as opaque and broadcasts each one to every connected client.
 *
 * - a **message** line is {@link CHAT_LINE_SIZE} bytes: `M`, the sender's worker (4 hex
 *   digits), the sender's index in that worker (6 hex digits), the sequence number (8 hex
 *   digits), a filler whose pattern depends on sender and sequence (so a truncated, shifted or
 *   mixed-up line does not pass), then `"\n"`;
 * - a **hello** line is `H`, worker (4 hex), client (6 hex), `"\n"`: a client sends it once
 *   connected, and seeing its own hello come back proves the server has it in its room.
 *
 * @module
 */

/** Bytes in one message line, `"\n"` included. */
export const CHAT_LINE_SIZE = 64;
/** Bytes in one hello line, `"\n"` included. */
export const HELLO_LINE_SIZE = 12;
/** The longest line a chat server accepts, in bytes (without the delimiter). */
export const CHAT_MAX_LINE_LENGTH = 1024;

const NEWLINE = 0x0a;
const M = 0x4d;
const H = 0x48;
const WORKER_AT = 1;
const SENDER_AT = 5;
const SEQ_AT = 11;
const FILLER_AT = 19;
const HEX = "0123456789abcdef";

/** {@link parseChatLine}: a message line. */
export const LINE_MESSAGE = 0;
/** {@link parseChatLine}: a hello line. */
export const LINE_HELLO = 1;
/** {@link parseChatLine}: anything else (corrupt, truncated, unknown). */
export const LINE_BAD = 2;

/** What {@link parseChatLine} found; reused between calls, so a hot loop allocates nothing. */
export interface ParsedChatLine {
  /** The sender's (or hello's) worker index. */
  worker: number;
  /** The sender's (or hello's) client index within its worker. */
  client: number;
  /** A message's sequence number (0 for a hello). */
  seq: number;
}

function putHex(buf: Uint8Array, at: number, digits: number, value: number): void {
  for (let i = digits - 1; i >= 0; i--) {
    buf[at + i] = HEX.charCodeAt(value & 15);
    value = Math.floor(value / 16);
  }
}

function getHex(buf: Uint8Array, at: number, digits: number): number {
  let value = 0;
  for (let i = 0; i < digits; i++) {
    const c = buf[at + i]!;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (d < 0) return -1;
    value = value * 16 + d;
  }
  return value;
}

function fillerByte(client: number, seq: number, i: number): number {
  return 0x61 + ((seq + client * 3 + i * 7) % 26);
}

/**
 * Writes message line `seq` of sender (`worker`, `client`) into `buf` (at least
 * {@link CHAT_LINE_SIZE} bytes; the line fills its first {@link CHAT_LINE_SIZE}).
 * @param buf - where to write.
 * @param worker - the sender's worker index (< 65536).
 * @param client - the sender's index in its worker (< 2^24).
 * @param seq - the sequence number (< 2^32).
 * @returns `buf`.
 */
export function writeChatLine(buf: Uint8Array, worker: number, client: number, seq: number): Uint8Array {
  buf[0] = M;
  putHex(buf, WORKER_AT, 4, worker);
  putHex(buf, SENDER_AT, 6, client);
  putHex(buf, SEQ_AT, 8, seq);
  for (let i = FILLER_AT; i < CHAT_LINE_SIZE - 1; i++) buf[i] = fillerByte(client, seq, i);
  buf[CHAT_LINE_SIZE - 1] = NEWLINE;
  return buf;
}

/**
 * A new message line.
 * @param worker - the sender's worker index.
 * @param client - the sender's index in its worker.
 * @param seq - the sequence number.
 * @returns the {@link CHAT_LINE_SIZE} bytes.
 */
export function chatLine(worker: number, client: number, seq: number): Buffer {
  const buf = Buffer.allocUnsafe(CHAT_LINE_SIZE);
  writeChatLine(buf, worker, client, seq);
  return buf;
}

/**
 * A new hello line.
 * @param worker - the client's worker index.
 * @param client - the client's index in its worker.
 * @returns the {@link HELLO_LINE_SIZE} bytes.
 */
export function helloLine(worker: number, client: number): Buffer {
  const buf = Buffer.allocUnsafe(HELLO_LINE_SIZE);
  buf[0] = H;
  putHex(buf, WORKER_AT, 4, worker);
  putHex(buf, SENDER_AT, 6, client);
  buf[HELLO_LINE_SIZE - 1] = NEWLINE;
  return buf;
}

/**
 * Parses and checks one line, `"\n"` included: `buf[start .. end)`.
 * @param buf - the bytes.
 * @param start - where the line starts.
 * @param end - just after its `"\n"`.
 * @param out - filled in for a message or a hello.
 * @returns {@link LINE_MESSAGE}, {@link LINE_HELLO} or {@link LINE_BAD}.
 */
export function parseChatLine(buf: Uint8Array, start: number, end: number, out: ParsedChatLine): number {
  const length = end - start;
  if (length < 1 || buf[end - 1] !== NEWLINE) return LINE_BAD;
  const kind = buf[start];
  if (kind === H) {
    if (length !== HELLO_LINE_SIZE) return LINE_BAD;
    const worker = getHex(buf, start + WORKER_AT, 4);
    const client = getHex(buf, start + SENDER_AT, 6);
    if (worker < 0 || client < 0) return LINE_BAD;
    out.worker = worker;
    out.client = client;
    out.seq = 0;
    return LINE_HELLO;
  }
  if (kind !== M || length !== CHAT_LINE_SIZE) return LINE_BAD;
  const worker = getHex(buf, start + WORKER_AT, 4);
  const client = getHex(buf, start + SENDER_AT, 6);
  const seq = getHex(buf, start + SEQ_AT, 8);
  if (worker < 0 || client < 0 || seq < 0) return LINE_BAD;
  for (let i = FILLER_AT; i < CHAT_LINE_SIZE - 1; i++) if (buf[start + i] !== fillerByte(client, seq, i)) return LINE_BAD;
  out.worker = worker;
  out.client = client;
  out.seq = seq;
  return LINE_MESSAGE;
}
