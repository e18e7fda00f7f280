/**
 * Test helpers for the WebSocket tests: hex decoding, an event recorder for `FrameParser`, and
 * a sink that collects what a `FrameWriter` writes.
 */

import { FrameParser } from "../../../../runtime/protocols/websocket/frame-parser.js";
import type { FrameParserHandlers, FrameParserOptions } from "../../../../runtime/protocols/websocket/frame-parser.js";
import type { FrameSink } from "../../../../runtime/protocols/websocket/frame-writer.js";

/** Bytes from hex, spaces allowed. */
export function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}

/** Hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** One recorded parser event, in a form `toEqual` compares. */
export type ParserEvent =
  | readonly ["text", string]
  | readonly ["binary", string]
  | readonly ["ping", string]
  | readonly ["pong", string]
  | readonly ["close", number, string]
  | readonly ["error", number, string, string];

/** A parser whose events are recorded in `events`. */
export function recordingParser(options: FrameParserOptions, extra: Partial<FrameParserHandlers> = {}): { parser: FrameParser; events: ParserEvent[] } {
  const events: ParserEvent[] = [];
  const parser = new FrameParser(options, {
    onMessage: (data, isBinary) => {
      if (typeof data === "string") {
        if (isBinary) throw new Error("a string message flagged binary");
        events.push(["text", data]);
      } else {
        if (!isBinary) throw new Error("a byte message flagged text");
        events.push(["binary", toHex(data)]);
      }
      extra.onMessage?.(data, isBinary);
    },
    onPing: (data) => {
      events.push(["ping", toHex(data)]);
      extra.onPing?.(data);
    },
    onPong: (data) => {
      events.push(["pong", toHex(data)]);
      extra.onPong?.(data);
    },
    onClose: (code, reason) => {
      events.push(["close", code, reason]);
      extra.onClose?.(code, reason);
    },
    onError: (error) => {
      events.push(["error", error.closeCode, error.reason, error.code]);
      extra.onError?.(error);
    },
  });
  return { parser, events };
}

/** Feeds `data` in one piece and returns the events. */
export function parseAll(options: FrameParserOptions, data: Uint8Array): ParserEvent[] {
  const { parser, events } = recordingParser(options);
  parser.feed(data);
  return events;
}

/** A FrameSink that keeps every byte written, in order. */
export class CollectingSink implements FrameSink {
  readonly chunks: Uint8Array[] = [];
  /** How many write / writeSequence calls were made. */
  writes = 0;
  sequences = 0;

  write(data: Uint8Array | string): void {
    this.writes++;
    this.chunks.push(typeof data === "string" ? Buffer.from(data) : data);
  }

  writeSequence(data: Iterable<Uint8Array | string>): void {
    this.sequences++;
    for (const d of data) this.chunks.push(typeof d === "string" ? Buffer.from(d) : d);
  }

  /** Everything written, joined. */
  bytes(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.chunks));
  }

  clear(): void {
    this.chunks.length = 0;
  }
}

/** A deterministic random source for masks and keys (a small LCG: test helper only). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x1_0000_0000;
  };
}
