/**
 * The contract every framing receiver keeps (FramingReceiver), checked on all of them: any
 * chunking gives the same messages; random bytes never make it throw or buffer past its limit;
 * its first error is final; a too-long message closes the connection with the typed error; a
 * handler that throws aborts the connection; pausing, closing and re-entrant data.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HandlerFailedError } from "../../../runtime/errors.js";
import { CODECS, RecordingTransport, chunk, cutsArb, feedBytewise } from "./framing-helpers.js";

describe.each(CODECS)("$name", (codec) => {
  it("delivers exactly the messages sent, under any chunking, as buffers that stay valid", () => {
    fc.assert(
      fc.property(fc.array(codec.message(64), { maxLength: 30 }), cutsArb, (messages, cuts) => {
        const t = new RecordingTransport();
        const p = t.attach(codec.make());
        const stream = Buffer.concat(messages.map((m) => codec.encode(m)));
        for (const piece of chunk(stream, cuts)) p.dataReceived(piece);
        expect(p.messages).toEqual(messages.map((m) => Buffer.from(m)));
        // Kept without copying, the delivered buffers were not overwritten by later parsing.
        expect(p.delivered).toEqual(p.messages);
        expect(p.bufferedLength).toBe(0);
        expect(p.failure).toBeNull();
        expect(t.loseCalls + t.abortCalls).toBe(0);
      }),
    );
  });

  it("delivers the same messages when fed one byte at a time", () => {
    fc.assert(
      fc.property(fc.array(codec.message(64), { maxLength: 10 }), (messages) => {
        const t = new RecordingTransport();
        const p = t.attach(codec.make());
        feedBytewise(p, Buffer.concat(messages.map((m) => codec.encode(m))));
        expect(p.messages).toEqual(messages.map((m) => Buffer.from(m)));
      }),
    );
  });

  it("never throws on random bytes, never buffers past its limit, and its first error is final", () => {
    fc.assert(
      fc.property(fc.nat({ max: 20 }), fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 20 }), (max, chunks) => {
        const t = new RecordingTransport();
        const p = codec.make(max);
        // Unlike a real one, this transport keeps delivering after a close: the parser must
        // stay silent on its own.
        t.attach(p);
        t.disconnecting = false;
        let eventsAtFailure = -1;
        for (const c of chunks) {
          expect(() => p.dataReceived(c)).not.toThrow();
          t.disconnecting = false;
          expect(p.bufferedLength).toBeLessThanOrEqual(max + codec.overhead(max));
          if (p.failure !== null && eventsAtFailure < 0) eventsAtFailure = p.messages.length + p.hooks.length;
        }
        if (p.failure !== null) {
          expect(p.messages.length + p.hooks.length).toBe(eventsAtFailure);
          expect(t.loseCalls).toBe(1);
          expect(p.hooks).toHaveLength(1);
        } else {
          expect(t.loseCalls).toBe(0);
          expect(p.hooks).toHaveLength(0);
        }
        for (const message of p.messages) expect(message.length).toBeLessThanOrEqual(max);
      }),
    );
  });

  it("closes the connection with the typed error on a message over MAX_LENGTH, under any chunking", () => {
    const arb = fc.nat({ max: 30 }).chain((max) =>
      fc.tuple(fc.constant(max), fc.array(codec.message(max), { maxLength: 5 }), codec.sized(max + 1, max + 10), fc.array(codec.message(max), { maxLength: 3 }), cutsArb),
    );
    fc.assert(
      fc.property(arb, ([max, before, tooLong, after, cuts]) => {
        const t = new RecordingTransport();
        const p = t.attach(codec.make(max));
        const stream = Buffer.concat([...before, tooLong, ...after].map((m) => codec.encode(m)));
        for (const piece of chunk(stream, cuts)) {
          p.dataReceived(piece);
          t.disconnecting = false; // keep feeding: nothing more may come out
        }
        expect(p.messages).toEqual(before.map((m) => Buffer.from(m)));
        expect(p.failure?.code).toBe(codec.tooLongCode);
        expect(p.hooks).toEqual([expect.stringContaining(codec.tooLongCode)]);
        expect(t.loseCalls).toBe(1);
        expect(t.abortCalls).toBe(0);
        expect(p.bufferedLength).toBe(0);
      }),
    );
  });

  it("accepts a message of exactly MAX_LENGTH", () => {
    const t = new RecordingTransport();
    const p = t.attach(codec.make(5));
    const m = Buffer.from("abcde");
    p.dataReceived(codec.encode(m));
    expect(p.messages).toEqual([m]);
    expect(p.failure).toBeNull();
  });

  it("catches a handler's exception, stops for good and aborts the connection", () => {
    const t = new RecordingTransport();
    const p = t.attach(codec.make());
    const boom = new Error("boom");
    p.onMessage = (i) => {
      if (i === 1) throw boom;
    };
    const stream = Buffer.concat(["a", "b", "c"].map((s) => codec.encode(Buffer.from(s))));
    expect(() => p.dataReceived(stream)).not.toThrow();
    expect(p.failure).toBeInstanceOf(HandlerFailedError);
    expect(p.failure?.code).toBe("WL_ERR_HANDLER_FAILED");
    expect(p.failure?.cause).toBe(boom);
    expect(t.abortCalls).toBe(1);
    t.disconnecting = false;
    p.dataReceived(stream);
    expect(p.messages.map((m) => m.toString())).toEqual(["a", "b"]);
  });

  it("aborts even when handlerFailed itself throws", () => {
    const t = new RecordingTransport();
    const p = t.attach(codec.make());
    p.onMessage = () => {
      throw new Error("first");
    };
    p.handlerFailed = () => {
      throw new Error("second");
    };
    expect(() => p.dataReceived(codec.encode(Buffer.from("x")))).not.toThrow();
    expect(t.abortCalls).toBe(1);
    expect(p.failure?.code).toBe("WL_ERR_HANDLER_FAILED");
  });

  it("stops delivering once the transport is disconnecting, even within one chunk", () => {
    const t = new RecordingTransport();
    const p = t.attach(codec.make());
    p.onMessage = (i) => {
      if (i === 1) t.loseConnection();
    };
    p.dataReceived(Buffer.concat(["a", "b", "c", "d"].map((s) => codec.encode(Buffer.from(s)))));
    expect(p.messages.map((m) => m.toString())).toEqual(["a", "b"]);
    p.dataReceived(codec.encode(Buffer.from("e")));
    expect(p.messages).toHaveLength(2);
    expect(p.failure).toBeNull();
  });

  it("pauses mid-chunk, holds what follows, and resumes in order", () => {
    const t = new RecordingTransport();
    const p = t.attach(codec.make());
    p.onMessage = (i) => {
      if (i === 0) p.pauseProducing();
    };
    const enc = (s: string) => codec.encode(Buffer.from(s));
    p.dataReceived(Buffer.concat([enc("a"), enc("b")]));
    expect(p.messages.map((m) => m.toString())).toEqual(["a"]);
    expect(t.paused).toBe(true);
    p.dataReceived(enc("c"));
    expect(p.messages).toHaveLength(1);
    expect(p.bufferedLength).toBe(enc("b").length + enc("c").length);
    p.resumeProducing();
    expect(t.paused).toBe(false);
    expect(p.messages.map((m) => m.toString())).toEqual(["a", "b", "c"]);
    expect(p.bufferedLength).toBe(0);
  });

  it("delivers the same messages under any pattern of pauses and resumes", () => {
    fc.assert(
      fc.property(
        fc.array(codec.message(64), { maxLength: 20 }),
        cutsArb,
        fc.array(fc.boolean(), { minLength: 1, maxLength: 50 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 50 }),
        (messages, cuts, pauseAfter, resumeAfterChunk) => {
          const t = new RecordingTransport();
          const p = t.attach(codec.make());
          let deliveredWhilePaused = false;
          p.onMessage = (i) => {
            if (p.paused) deliveredWhilePaused = true;
            if (pauseAfter[i % pauseAfter.length] === true) p.pauseProducing();
          };
          const pieces = chunk(Buffer.concat(messages.map((m) => codec.encode(m))), cuts);
          pieces.forEach((piece, i) => {
            p.dataReceived(piece);
            if (resumeAfterChunk[i % resumeAfterChunk.length] === true && p.paused) p.resumeProducing();
          });
          // Drain: each resume delivers at least one held message or empties the queue.
          for (let guard = 0; p.paused && guard <= messages.length + 1; guard++) p.resumeProducing();
          expect(p.paused).toBe(false);
          expect(deliveredWhilePaused).toBe(false);
          expect(p.messages).toEqual(messages.map((m) => Buffer.from(m)));
          expect(p.bufferedLength).toBe(0);
        },
      ),
    );
  });

  it("queues data given to dataReceived from inside a handler after the bytes being parsed", () => {
    const t = new RecordingTransport();
    const p = t.attach(codec.make());
    const enc = (s: string) => codec.encode(Buffer.from(s));
    p.onMessage = (i) => {
      if (i === 0) p.dataReceived(enc("z"));
    };
    p.dataReceived(Buffer.concat([enc("a"), enc("b")]));
    expect(p.messages.map((m) => m.toString())).toEqual(["a", "b", "z"]);
  });

  it("stops for good with InvalidOptionError on a bad MAX_LENGTH", () => {
    const t = new RecordingTransport();
    const p = t.attach(codec.make(-1));
    expect(() => p.dataReceived(codec.encode(Buffer.from("a")))).not.toThrow();
    expect(p.failure?.code).toBe("WL_ERR_INVALID_OPTION");
    expect(t.loseCalls).toBe(1);
    expect(p.messages).toHaveLength(0);
  });

  it("delivers nothing after stopProducing", () => {
    const t = new RecordingTransport();
    const p = t.attach(codec.make());
    p.stopProducing();
    expect(t.stopped).toBe(true);
    p.dataReceived(codec.encode(Buffer.from("a")));
    expect(p.messages).toHaveLength(0);
  });
});
