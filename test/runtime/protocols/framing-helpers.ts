/**
 * Test helpers for the framing protocol tests: a recording transport, the receivers wired to
 * record what they deliver, their encoders, and fast-check arbitraries for chunkings.
 */

import fc from "fast-check";
import type { Address, Producer, Protocol, Transport } from "../../../runtime/protocol.js";
import type { LengthLimitExceededError, LineLengthExceededError, NetstringParseError } from "../../../runtime/errors.js";
import type { FramingReceiver } from "../../../runtime/protocols/framing-receiver.js";
import { LineReceiver } from "../../../runtime/protocols/line-receiver.js";
import { LineOnlyReceiver } from "../../../runtime/protocols/line-only-receiver.js";
import { NetstringReceiver } from "../../../runtime/protocols/netstring-receiver.js";
import { IntNStringReceiver } from "../../../runtime/protocols/int-n-string-receiver.js";

const ADDRESS: Address = { type: "tcp", host: "127.0.0.1", port: 1 };

/** A test helper transport: records writes, closes and pauses; sends nothing. */
export class RecordingTransport implements Transport {
  readonly writes: Buffer[] = [];
  sequences = 0;
  loseCalls = 0;
  abortCalls = 0;
  paused = false;
  stopped = false;
  disconnecting = false;
  readonly highWaterMark = 65536;

  get writeBufferSize(): number {
    return 0;
  }

  /** Attaches `protocol` to this transport and returns it. */
  attach<P extends Protocol>(protocol: P): P {
    protocol.makeConnection(this);
    return protocol;
  }

  /** Everything written, as one Buffer. */
  value(): Buffer {
    return Buffer.concat(this.writes);
  }

  write(data: Uint8Array | string): void {
    if (this.disconnecting) return;
    this.writes.push(typeof data === "string" ? Buffer.from(data) : Buffer.from(data));
  }

  writeSequence(data: Iterable<Uint8Array | string>): void {
    this.sequences++;
    for (const piece of data) this.write(piece);
  }

  loseConnection(): void {
    this.loseCalls++;
    this.disconnecting = true;
  }

  abortConnection(): void {
    this.abortCalls++;
    this.disconnecting = true;
  }

  loseWriteConnection(): void {}

  getPeer(): Address {
    return ADDRESS;
  }

  getHost(): Address {
    return ADDRESS;
  }

  setTcpNoDelay(_enabled: boolean): void {}

  registerProducer(_producer: Producer, _streaming: boolean): void {}

  unregisterProducer(): void {}

  pauseProducing(): void {
    this.paused = true;
  }

  resumeProducing(): void {
    this.paused = false;
  }

  stopProducing(): void {
    this.stopped = true;
  }
}

/** A receiver that records each message it is given as a copy, and the hooks that ran. */
export interface Recorder {
  /** Copies of the messages, taken during the call. */
  readonly messages: Buffer[];
  /** The Buffers as delivered, kept without copying: they must not change afterwards. */
  readonly delivered: Buffer[];
  /** The limit hooks that ran, with the code of their error. */
  readonly hooks: string[];
  /** Runs after each message is recorded, with its index: a test's way to react. */
  onMessage: ((index: number) => void) | undefined;
}

/** The receivers under test, each built to record, with an encoder for its framing. */
export interface Codec {
  readonly name: string;
  /** Builds a recording receiver with the given limit (undefined keeps the default). */
  make(maxLength?: number): FramingReceiver & Recorder;
  /** Frames one message. */
  encode(message: Uint8Array): Buffer;
  /** An arbitrary message this framing can carry, of at most `maxLength` bytes. */
  message(maxLength: number): fc.Arbitrary<Uint8Array>;
  /** An arbitrary message of `min` to `max` bytes, made carriable (no delimiter in a line). */
  sized(min: number, max: number): fc.Arbitrary<Uint8Array>;
  /** Bytes of framing per message that may be held besides the payload, at most. */
  overhead(maxLength: number): number;
  /** The error a too-long message produces. */
  readonly tooLongCode: string;
}

class RecordingLineReceiver extends LineReceiver implements Recorder {
  readonly messages: Buffer[] = [];
  readonly delivered: Buffer[] = [];
  readonly hooks: string[] = [];
  onMessage: ((index: number) => void) | undefined;
  override lineReceived(line: Buffer): void {
    this.delivered.push(line);
    this.messages.push(Buffer.from(line));
    this.onMessage?.(this.messages.length - 1);
  }
  override lineLengthExceeded(line: Buffer, error: LineLengthExceededError): void {
    this.hooks.push(`lineLengthExceeded:${error.code}`);
    super.lineLengthExceeded(line, error);
  }
}

class RecordingLineOnlyReceiver extends LineOnlyReceiver implements Recorder {
  readonly messages: Buffer[] = [];
  readonly delivered: Buffer[] = [];
  readonly hooks: string[] = [];
  onMessage: ((index: number) => void) | undefined;
  override lineReceived(line: Buffer): void {
    this.delivered.push(line);
    this.messages.push(Buffer.from(line));
    this.onMessage?.(this.messages.length - 1);
  }
  override lineLengthExceeded(line: Buffer, error: LineLengthExceededError): void {
    this.hooks.push(`lineLengthExceeded:${error.code}`);
    super.lineLengthExceeded(line, error);
  }
}

class RecordingNetstringReceiver extends NetstringReceiver implements Recorder {
  readonly messages: Buffer[] = [];
  readonly delivered: Buffer[] = [];
  readonly hooks: string[] = [];
  onMessage: ((index: number) => void) | undefined;
  override stringReceived(data: Buffer): void {
    this.delivered.push(data);
    this.messages.push(Buffer.from(data));
    this.onMessage?.(this.messages.length - 1);
  }
  override lengthLimitExceeded(length: number, error: LengthLimitExceededError): void {
    this.hooks.push(`lengthLimitExceeded:${error.code}`);
    super.lengthLimitExceeded(length, error);
  }
  override netstringParseError(error: NetstringParseError): void {
    this.hooks.push(`netstringParseError:${error.code}`);
    super.netstringParseError(error);
  }
}

abstract class RecordingIntN extends IntNStringReceiver implements Recorder {
  readonly messages: Buffer[] = [];
  readonly delivered: Buffer[] = [];
  readonly hooks: string[] = [];
  onMessage: ((index: number) => void) | undefined;
  override stringReceived(data: Buffer): void {
    this.delivered.push(data);
    this.messages.push(Buffer.from(data));
    this.onMessage?.(this.messages.length - 1);
  }
  override lengthLimitExceeded(length: number, error: LengthLimitExceededError): void {
    this.hooks.push(`lengthLimitExceeded:${error.code}`);
    super.lengthLimitExceeded(length, error);
  }
}

// The same prefix sizes as Int8/16/32StringReceiver, which their own tests check.
class RecordingInt8 extends RecordingIntN {
  override readonly prefixLength = 1;
}
class RecordingInt16 extends RecordingIntN {
  override readonly prefixLength = 2;
}
class RecordingInt32 extends RecordingIntN {
  override readonly prefixLength = 4;
}

function withLimit<P extends FramingReceiver & { MAX_LENGTH: number }>(p: P, maxLength: number | undefined): P {
  if (maxLength !== undefined) p.MAX_LENGTH = maxLength;
  return p;
}

/** A line (no CR, no LF) of `min` to `max` bytes. */
function lineArb(min: number, max: number): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength: min, maxLength: max }).map((b) => b.map((x) => (x === 0x0a || x === 0x0d ? 0x20 : x)));
}

function bytesArb(min: number, max: number): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength: min, maxLength: max });
}

function prefixed(size: 1 | 2 | 4, message: Uint8Array): Buffer {
  const out = Buffer.alloc(size + message.length);
  out.writeUIntBE(message.length, 0, size);
  out.set(message, size);
  return out;
}

/** Every receiver, as the common contract tests see it. */
export const CODECS: readonly Codec[] = [
  {
    name: "LineReceiver",
    make: (max) => withLimit(new RecordingLineReceiver(), max),
    encode: (m) => Buffer.concat([m, Buffer.from("\r\n")]),
    message: (max) => lineArb(0, Math.min(max, 64)),
    sized: lineArb,
    overhead: () => 1,
    tooLongCode: "WL_ERR_LINE_TOO_LONG",
  },
  {
    name: "LineOnlyReceiver",
    make: (max) => withLimit(new RecordingLineOnlyReceiver(), max),
    encode: (m) => Buffer.concat([m, Buffer.from("\r\n")]),
    message: (max) => lineArb(0, Math.min(max, 64)),
    sized: lineArb,
    overhead: () => 1,
    tooLongCode: "WL_ERR_LINE_TOO_LONG",
  },
  {
    name: "NetstringReceiver",
    make: (max) => withLimit(new RecordingNetstringReceiver(), max),
    encode: (m) => Buffer.concat([Buffer.from(`${m.length}:`), m, Buffer.from(",")]),
    message: (max) => bytesArb(0, Math.min(max, 64)),
    sized: bytesArb,
    overhead: (max) => String(max).length,
    tooLongCode: "WL_ERR_LENGTH_LIMIT",
  },
  {
    name: "Int8StringReceiver",
    make: (max) => withLimit(new RecordingInt8(), max),
    encode: (m) => prefixed(1, m),
    message: (max) => bytesArb(0, Math.min(max, 64)),
    sized: bytesArb,
    overhead: () => 0,
    tooLongCode: "WL_ERR_LENGTH_LIMIT",
  },
  {
    name: "Int16StringReceiver",
    make: (max) => withLimit(new RecordingInt16(), max),
    encode: (m) => prefixed(2, m),
    message: (max) => bytesArb(0, Math.min(max, 64)),
    sized: bytesArb,
    overhead: () => 1,
    tooLongCode: "WL_ERR_LENGTH_LIMIT",
  },
  {
    name: "Int32StringReceiver",
    make: (max) => withLimit(new RecordingInt32(), max),
    encode: (m) => prefixed(4, m),
    message: (max) => bytesArb(0, Math.min(max, 64)),
    sized: bytesArb,
    overhead: () => 3,
    tooLongCode: "WL_ERR_LENGTH_LIMIT",
  },
];

/** Cuts `data` at the given points (taken modulo its length) into chunks, as TCP might. */
export function chunk(data: Uint8Array, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (data.length === 0 ? 0 : c % (data.length + 1))))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) out.push(Buffer.from(data.subarray(from, p)));
    from = Math.max(from, p);
  }
  if (from < data.length) out.push(Buffer.from(data.subarray(from)));
  return out;
}

/** Cut points for `chunk`: none, a few, or many. */
export const cutsArb: fc.Arbitrary<number[]> = fc.array(fc.nat({ max: 100_000 }), { maxLength: 40 });

/** Feeds `data` one byte at a time. */
export function feedBytewise(p: Protocol, data: Uint8Array): void {
  for (let i = 0; i < data.length; i++) p.dataReceived(Buffer.from(data.subarray(i, i + 1)));
}

/** UTF-8 helpers for readable vectors. */
export const b = (s: string): Buffer => Buffer.from(s, "latin1");
export const strs = (bufs: readonly Buffer[]): string[] => bufs.map((x) => x.toString("latin1"));
