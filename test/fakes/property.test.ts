import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";

import { NondeterminismError, PropertyFailedError, ReplayMismatchError } from "../../runtime/errors.js";
import { Factory, Protocol } from "../../runtime/protocol.js";
import type { DelayedCall, Reactor } from "../../runtime/reactor.js";
import { LineReceiver } from "../../runtime/protocols/line-receiver.js";
import { ScriptedChunking, chunkingArb, faultPlanArb, simConfigArb, simNetworkOptions } from "../../fakes/arbitraries.js";
import type { SimConfig } from "../../fakes/arbitraries.js";
import { ByteQueue } from "../../fakes/chunking.js";
import { connectPair } from "../../fakes/loopback.js";
import { simProperty } from "../../fakes/property.js";
import { decodeInputs, encodeInputs, readReplayFile, replay } from "../../fakes/replay.js";
import type { SimCaseContext } from "../../fakes/replay.js";

const dec = new TextDecoder();
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "wirelab-replays-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * The planted bug: it splits each read on "\r\n" by itself and glues the pieces to what was
 * pending, so a delimiter cut between two reads ("\r" | "\n") is never seen.
 */
class SplitPerReadParser extends Protocol {
  private pending = "";
  constructor(private readonly lines: string[]) {
    super();
  }
  override dataReceived(data: Uint8Array): void {
    const parts = dec.decode(data).split("\r\n");
    parts[0] = this.pending + (parts[0] ?? "");
    this.pending = parts.pop() ?? "";
    this.lines.push(...parts);
  }
}

/** The same contract, done right. */
class CorrectParser extends LineReceiver {
  constructor(private readonly lines: string[]) {
    super();
  }
  override lineReceived(line: Buffer): void {
    this.lines.push(line.toString("latin1"));
  }
}

class Sender extends Protocol {
  constructor(private readonly messages: readonly string[]) {
    super();
  }
  override connectionMade(): void {
    this.transport.write(this.messages.map((m) => `${m}\r\n`).join(""));
    this.transport.loseConnection();
  }
}

interface LinesCase extends Record<string, unknown> {
  config: SimConfig;
  chunking: ScriptedChunking;
  messages: string[];
}

const linesArbs = {
  config: simConfigArb(),
  chunking: chunkingArb({ maxReadSize: 16 }),
  messages: fc.array(
    fc.array(fc.constantFrom("a", "b", " "), { maxLength: 6 }).map((cs) => cs.join("")),
    { minLength: 1, maxLength: 6 },
  ),
};

/** One case: a client sends lines over a simulated network to a parser, which must see them all. */
function linesBody(makeParser: (lines: string[]) => Protocol) {
  return async ({ config, chunking, messages }: LinesCase, ctx: SimCaseContext): Promise<void> => {
    const net = ctx.network(simNetworkOptions(config, { chunking }));
    const received: string[] = [];
    net.host("10.0.0.1", { boot: (h) => h.listen("tcp:7", Factory.forProtocol(() => makeParser(received))) });
    net.host("10.0.0.2", {
      boot: (h) => {
        // A millisecond after boot, so the server listens whatever order ties run in.
        h.callLater(1, () => {
          h.connect("tcp:10.0.0.1:7", Factory.forProtocol(() => new Sender(messages))).addErrback((e: unknown) => {
            ctx.log(`connect failed: ${String(e)}`);
          });
        });
      },
    });
    await net.runUntilIdle();
    expect(received).toEqual(messages);
  };
}

describe("simProperty finds and shrinks a planted bug", () => {
  it("reports seed, path, shrunk inputs and trace, writes a replay file that reproduces the failure", async () => {
    const dir = tempDir();
    let failure: unknown = null;
    try {
      await simProperty<LinesCase>(linesArbs, linesBody((lines) => new SplitPerReadParser(lines)), {
        name: "lines arrive whole",
        seed: 42,
        numRuns: 300,
        replayDir: dir,
      });
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(PropertyFailedError);
    const error = failure as PropertyFailedError;
    expect(error.code).toBe("WL_ERR_PROPERTY_FAILED");
    expect(error.message).toContain("seed: 42");
    expect(error.message).toMatch(/path: \d+(:\d+)*/);
    expect(error.message).toContain("Shrunk inputs:");
    expect(error.message).toContain("chunking: scripted[");
    expect(error.message).toMatch(/Trace of network 1 \(seed \d+, \d+ lines/);
    expect(error.message).toMatch(/deliver c0 10\.0\.0\.2:\d+ -> 10\.0\.0\.1:7 1 bytes|deliver c0 10\.0\.0\.2:\d+ -> 10\.0\.0\.1:7 2 bytes/);
    expect(error.message).not.toContain("WARNING");
    expect(error.replayFile).not.toBeNull();
    const file = error.replayFile!;
    expect(readdirSync(dir)).toEqual([file.slice(dir.length + 1)]);

    // The shrunk case is minimal: one line of at most one byte, cut once, between "\r" and "\n".
    const record = readReplayFile(file);
    expect(record.seed).toBe(42);
    expect(record.traceHash).toMatch(/^[0-9a-f]{16}$/);
    const inputs = decodeInputs(record.inputs) as LinesCase;
    expect(inputs.messages).toHaveLength(1);
    const line = inputs.messages[0]!;
    expect(line.length).toBeLessThanOrEqual(1);
    expect(inputs.chunking.sizes).toEqual([line.length + 1]);
    expect(inputs.chunking.sizes[0]).toBeLessThanOrEqual(2);
    // Everything else shrank to its simplest too.
    expect(inputs.config).toEqual({ seed: 0, latency: { kind: "fixed", ms: 0 }, shuffleTies: false });

    // The replay file runs that exact case again: the same trace hash, the same failure.
    await expect(replay(file, linesBody((lines) => new SplitPerReadParser(lines)))).rejects.toThrow(/expected \[.*\] to deeply equal/);
    // With the parser fixed, the same case passes, doing the same network events.
    const fixed = await replay(file, linesBody((lines) => new CorrectParser(lines)));
    expect(fixed.traceHash).toBe(record.traceHash);
    expect(fixed.inputs.messages).toEqual(inputs.messages);
  });

  it("a strict replay whose run diverges from the file's trace hash fails with ReplayMismatchError", async () => {
    const dir = tempDir();
    const error = await simProperty<LinesCase>(linesArbs, linesBody((lines) => new SplitPerReadParser(lines)), {
      name: "diverging",
      seed: 7,
      numRuns: 300,
      replayDir: dir,
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PropertyFailedError);
    const file = (error as PropertyFailedError).replayFile!;
    const record = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...record, traceHash: "0000000000000000" }));
    // Not strict, the fixed body passes: the hash is not looked at.
    await expect(replay(file, linesBody((lines) => new CorrectParser(lines)))).resolves.toMatchObject({ sameTrace: false });
    const replayed = replay(file, linesBody((lines) => new CorrectParser(lines)), { strict: true });
    await expect(replayed).rejects.toBeInstanceOf(ReplayMismatchError);
    // The lines agree (only the hash was tampered with), so it cannot say where.
    await expect(replayed).rejects.toThrow(/trace hash [0-9a-f]{16}, the file recorded 0000000000000000; the recorded trace lines do not show where/);
  });
});

describe("simProperty on a property that holds", () => {
  it("runs every case and returns the seed, writing nothing", async () => {
    const dir = tempDir();
    let cases = 0;
    const result = await simProperty<LinesCase>(
      linesArbs,
      async (inputs, ctx) => {
        cases++;
        await linesBody((lines) => new CorrectParser(lines))(inputs, ctx);
      },
      { seed: 3, numRuns: 40, replayDir: dir },
    );
    expect(result).toEqual({ numRuns: 40, seed: 3 });
    expect(cases).toBe(40);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("rejects a numRuns that is not a positive integer", async () => {
    await expect(simProperty({ n: fc.nat() }, () => undefined, { numRuns: 0 })).rejects.toThrow(/numRuns/);
  });
});

describe("simProperty on a body that is not deterministic", () => {
  it("says so when the shrunk case passes when run again", async () => {
    let calls = 0;
    const error = await simProperty(
      { n: fc.nat({ max: 3 }) },
      () => {
        // Fails on its first call only: shared state between runs, the classic flake.
        if (calls++ === 0) throw new Error("flaky");
      },
      { seed: 1, numRuns: 5, replayDir: null },
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PropertyFailedError);
    expect((error as PropertyFailedError).message).toContain("WARNING: the shrunk case passed when run again");
    expect((error as PropertyFailedError).message).toContain("No replay file");
    expect((error as PropertyFailedError).replayFile).toBeNull();
  });
});

describe("a case without a network", () => {
  it("is identified by a hash of its log, which replay checks", async () => {
    const dir = tempDir();
    const body = ({ xs }: { xs: number[] }, ctx: SimCaseContext): void => {
      for (const x of xs) ctx.log(`saw ${x}`);
      if (xs.some((x) => x > 5)) throw new Error("too big");
    };
    const error = await simProperty({ xs: fc.array(fc.nat({ max: 10 })) }, body, { seed: 11, replayDir: dir, name: "no network" }).then(
      () => null,
      (e: unknown) => e,
    );
    const file = (error as PropertyFailedError).replayFile!;
    const record = readReplayFile(file);
    expect(decodeInputs(record.inputs)).toEqual({ xs: [6] });
    expect(record.traceHash).toMatch(/^log:[0-9a-f]{8}$/);
    expect((error as PropertyFailedError).message).toContain("Log:\n  saw 6");
    await expect(replay(file, body)).rejects.toThrow("too big");
  });
});

describe("replay encoding", () => {
  it("round-trips bytes, chunking scripts, special numbers, undefined, bigints and $-keys", () => {
    const value = {
      bytes: new Uint8Array([0, 1, 255]),
      buffer: Buffer.from("hi"),
      chunking: new ScriptedChunking([3, 1], "whole"),
      numbers: [NaN, Infinity, -Infinity, -0, 1.5],
      maybe: undefined,
      big: 12345678901234567890n,
      nested: { $weird: [null, true, "s"] },
    };
    const back = decodeInputs(JSON.parse(JSON.stringify(encodeInputs(value))) as ReturnType<typeof encodeInputs>) as Record<string, unknown>;
    expect(back.bytes).toEqual(new Uint8Array([0, 1, 255]));
    expect(back.buffer).toEqual(new Uint8Array([104, 105]));
    expect(back.chunking).toBeInstanceOf(ScriptedChunking);
    expect((back.chunking as ScriptedChunking).toJSON()).toEqual({ sizes: [3, 1], then: "whole" });
    expect(Object.is((back.numbers as number[])[3], -0)).toBe(true);
    expect(back.numbers).toEqual([NaN, Infinity, -Infinity, -0, 1.5]);
    expect("maybe" in back && back.maybe === undefined).toBe(true);
    expect(back.big).toBe(12345678901234567890n);
    expect(back.nested).toEqual({ $weird: [null, true, "s"] });
  });

  it("refuses what it cannot store, naming where it is", () => {
    expect(() => encodeInputs({ a: [1, () => 2] })).toThrow(/inputs\.a\[1\].*a function/);
    expect(() => encodeInputs({ m: new Map() })).toThrow(/inputs\.m.*Map/);
  });
});

describe("real time in a connectPair case fails the case", () => {
  class Stamper extends Protocol {
    override dataReceived(data: Uint8Array): void {
      this.transport.write(`${Date.now() > 0 ? "stamped" : "?"} ${dec.decode(data)}`);
    }
  }

  it("Date.now in a protocol driven by a Pump inside a simProperty body fails the case with NondeterminismError", async () => {
    const error = await simProperty(
      { text: fc.string({ minLength: 1, maxLength: 4 }) },
      ({ text }) => {
        const client = new Protocol();
        const pump = connectPair(new Stamper(), client);
        client.transport.write(text);
        pump.flush();
      },
      { seed: 2, numRuns: 20, replayDir: null },
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PropertyFailedError);
    expect((error as PropertyFailedError).cause).toBeInstanceOf(NondeterminismError);
    expect((error as PropertyFailedError).message).toMatch(/Date\.now/);
  });
});

describe("stateful inputs are fresh for every run and every shrink step", () => {
  /** The reads a fresh copy of `chunking` cuts 64 one-byte writes into. */
  function expectedReads(chunking: ScriptedChunking): number[] {
    const queue = new ByteQueue();
    for (let i = 0; i < 64; i++) queue.push(new Uint8Array(1));
    const sizes: number[] = [];
    const fresh = chunking.fresh();
    while (queue.length > 0) sizes.push(queue.take(fresh.nextReadSize(queue)).length);
    return sizes;
  }

  /** The reads a connectPair given `chunking` actually delivers for 64 one-byte writes. */
  function pairReads(chunking: ScriptedChunking): number[] {
    const sizes: number[] = [];
    const server = new Protocol();
    server.dataReceived = (data: Uint8Array): void => {
      sizes.push(data.length);
    };
    const client = new Protocol();
    const pump = connectPair(server, client, { chunking });
    for (let i = 0; i < 64; i++) client.transport.write(new Uint8Array(1));
    pump.flush();
    return sizes;
  }

  it("simProperty: every run, shrink steps included, cuts its reads from the start of its script", async () => {
    let runs = 0;
    let stale = 0;
    // Inputs nested in a null-prototype record, as fc.record makes them with noNullPrototype: false.
    const error = await simProperty(
      { setup: fc.record({ chunking: chunkingArb({ maxReadSize: 3 }), n: fc.nat({ max: 50 }) }, { noNullPrototype: false }) },
      ({ setup: { chunking, n } }) => {
        runs++;
        if (JSON.stringify(pairReads(chunking)) !== JSON.stringify(expectedReads(chunking))) stale++;
        if (n > 10 && chunking.sizes.length > 2) throw new Error("planted");
      },
      { seed: 5, numRuns: 200, replayDir: null },
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PropertyFailedError);
    expect((error as PropertyFailedError).message).not.toContain("WARNING");
    expect(runs).toBeGreaterThan(20);
    expect(stale).toBe(0);
  });

  it("a hand-written fc.assert gets the same reads in every run too, with no refresh by the user", () => {
    let stale = 0;
    const details = fc.check(
      fc.property(chunkingArb({ maxReadSize: 3 }), fc.nat({ max: 50 }), (chunking, n) => {
        if (JSON.stringify(pairReads(chunking)) !== JSON.stringify(expectedReads(chunking))) stale++;
        return !(n > 10 && chunking.sizes.length > 2);
      }),
      { seed: 6, numRuns: 200 },
    );
    expect(details.failed).toBe(true);
    expect(details.numShrinks).toBeGreaterThan(0);
    expect(stale).toBe(0);
  });

  it("no input comes back undefined while fast-check shrinks a property mixing a chunking with other inputs", async () => {
    let missing = 0;
    await simProperty(
      { config: simConfigArb(), chunking: chunkingArb(), faults: faultPlanArb({ hosts: ["a", "b"], swarm: true }), n: fc.nat({ max: 10 }) },
      ({ config, faults, n }) => {
        if ((config as unknown) === undefined || (faults as unknown) === undefined || (n as unknown) === undefined) missing++;
        else if (n > 3 && faults.length > 0) throw new Error("planted");
      },
      { seed: 3, numRuns: 300, replayDir: null, swarm: ["x", "y"] },
    ).catch(() => undefined);
    expect(missing).toBe(0);
  });

  it("the same 100 drawn inputs run twice give 100/100 identical traces, payloads included", async () => {
    let runs = 0;
    let identical = 0;
    await simProperty<LinesCase>(
      linesArbs,
      async (inputs, ctx) => {
        const traces: string[][] = [];
        for (let i = 0; i < 2; i++) {
          const before = ctx.networks.length;
          await linesBody((lines) => new CorrectParser(lines))(inputs, ctx);
          traces.push(ctx.networks[before]!.trace());
        }
        runs++;
        if (JSON.stringify(traces[0]) === JSON.stringify(traces[1])) identical++;
      },
      { seed: 17, numRuns: 100, replayDir: null },
    );
    expect(runs).toBe(100);
    expect(identical).toBe(100);
  });
});

describe("timers that outlive their connection", () => {
  /** Echoes, with a 30 s idle timeout it resets on every read and forgets to cancel on close. */
  class IdleEcho extends Protocol {
    private idle: DelayedCall | null = null;
    constructor(
      private readonly reactor: Reactor,
      private readonly cancelOnClose: boolean,
    ) {
      super();
    }
    override connectionMade(): void {
      this.idle = this.reactor.callLater(30_000, function idleTimeout() {
        // Nothing left to time out: the connection is gone.
      });
    }
    override dataReceived(data: Uint8Array): void {
      this.transport.write(data);
      this.idle?.reset(30_000);
    }
    override connectionLost(): void {
      if (this.cancelOnClose && this.idle?.active() === true) this.idle.cancel();
    }
  }

  /** A client that sends one message, reads it back and closes. */
  class Once extends Protocol {
    override connectionMade(): void {
      this.transport.write("ping");
    }
    override dataReceived(): void {
      this.transport.loseConnection();
    }
  }

  function idleBody(cancelOnClose: boolean) {
    return async ({ config }: { config: SimConfig }, ctx: SimCaseContext): Promise<void> => {
      const net = ctx.network(simNetworkOptions(config));
      net.host("10.0.0.1", { boot: (h) => h.listen("tcp:7", Factory.forProtocol(() => new IdleEcho(h, cancelOnClose))) });
      net.host("10.0.0.2", {
        boot: (h) => {
          h.callLater(1, () => {
            h.connect("tcp:10.0.0.1:7", Factory.forProtocol(() => new Once())).addErrback(() => undefined);
          });
        },
      });
      await net.runUntilIdle();
    };
  }

  it("simProperty fails a case whose idle timer was never cancelled on close, naming the timer", async () => {
    const error = await simProperty({ config: simConfigArb() }, idleBody(false), { seed: 8, numRuns: 300, replayDir: null }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PropertyFailedError);
    expect((error as PropertyFailedError).message).toMatch(/idleTimeout/);
    expect((error as PropertyFailedError).message).toMatch(/outlived|outlive/);
  });

  it("passes when the timer is cancelled on close", async () => {
    await simProperty({ config: simConfigArb() }, idleBody(true), { seed: 8, numRuns: 300, replayDir: null });
  });
});

describe("a replay file is a regression test", () => {
  /** The fixed parser, which also acknowledges each line: the fix changes the trace. */
  class AckingParser extends LineReceiver {
    constructor(private readonly lines: string[]) {
      super();
    }
    override lineReceived(line: Buffer): void {
      this.lines.push(line.toString("latin1"));
      this.transport.write("ok\r\n");
    }
  }

  it("replay passes once the bug is fixed, though the fix changed the trace; strict mode says where the runs diverged", async () => {
    const dir = tempDir();
    const error = await simProperty<LinesCase>(linesArbs, linesBody((lines) => new SplitPerReadParser(lines)), {
      name: "regression",
      seed: 42,
      numRuns: 300,
      replayDir: dir,
    }).then(
      () => null,
      (e: unknown) => e,
    );
    const file = (error as PropertyFailedError).replayFile!;
    // Still broken: the failure is reproduced.
    await expect(replay(file, linesBody((lines) => new SplitPerReadParser(lines)))).rejects.toThrow(/to deeply equal/);
    // Fixed: the case passes, although the trace is not the recorded one.
    const fixed = await replay(file, linesBody((lines) => new AckingParser(lines)));
    expect(fixed.traceHash).not.toBe(readReplayFile(file).traceHash);
    // Strict: the run must do what the file recorded, and the error says where it did not.
    const strict = await replay(file, linesBody((lines) => new AckingParser(lines)), { strict: true }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(strict).toBeInstanceOf(ReplayMismatchError);
    const mismatch = strict as ReplayMismatchError;
    expect(mismatch.divergence).not.toBeNull();
    expect(mismatch.divergence!.recorded).not.toBe(mismatch.divergence!.replayed);
    expect(mismatch.message).toContain(`line ${mismatch.divergence!.index + 1}`);
  });
});

describe("a failure that explains itself", () => {
  it("PropertyFailedError carries the report's facts as fields", async () => {
    const dir = tempDir();
    const error = (await simProperty<LinesCase>(linesArbs, linesBody((lines) => new SplitPerReadParser(lines)), {
      name: "fields",
      seed: 42,
      numRuns: 300,
      replayDir: dir,
    }).then(
      () => null,
      (e: unknown) => e,
    )) as PropertyFailedError;
    expect(error).toBeInstanceOf(PropertyFailedError);
    expect(error).toMatchObject({ property: "fields", seed: 42, features: null });
    expect(error.path).toMatch(/^\d+(:\d+)*$/);
    expect(error.numRuns).toBeGreaterThan(0);
    expect(error.numShrinks).toBeGreaterThan(0);
    expect((error.counterexample as LinesCase).messages).toHaveLength(1);
    expect(error.replayFile).toBe(join(dir, "fields-42.json"));
    expect(error.traceExcerpt[0]).toMatch(/^Trace of network 1/);
    expect(error.traceExcerpt.some((l) => / deliver c0 .* bytes "/.test(l))).toBe(true);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it("log lines carry the virtual time of the case's network", async () => {
    const error = (await simProperty(
      { n: fc.constant(1) },
      async (_inputs, ctx) => {
        const net = ctx.network();
        net.host("10.0.0.1").callLater(7, () => undefined);
        ctx.log("before");
        await net.runUntilIdle();
        ctx.log("after");
        throw new Error("planted");
      },
      { numRuns: 1, replayDir: null },
    ).then(
      () => null,
      (e: unknown) => e,
    )) as PropertyFailedError;
    expect(error.message).toContain("Log:\n  0.000ms before\n  7.000ms after");
  });

  it("passes fast-check's own parameters through: examples run first, endOnFailure skips shrinking", async () => {
    const seen: number[] = [];
    const error = (await simProperty(
      { n: fc.nat({ max: 1000 }) },
      ({ n }) => {
        seen.push(n);
        if (n > 500) throw new Error("too big");
      },
      { seed: 4, numRuns: 50, examples: [{ n: 7 }, { n: 999 }], endOnFailure: true, replayDir: null },
    ).then(
      () => null,
      (e: unknown) => e,
    )) as PropertyFailedError;
    expect(seen.slice(0, 2)).toEqual([7, 999]);
    expect(error.numShrinks).toBe(0);
    expect(error.counterexample).toEqual({ n: 999 });
  });
});

describe("swarm testing in simProperty", () => {
  it("draws a subset of the workload features per case, shrinks it, and reports and replays it", async () => {
    const dir = tempDir();
    const drawn = new Set<string>();
    const body = ({ n }: { n: number }, ctx: SimCaseContext): void => {
      drawn.add(["a", "b", "c"].filter((f) => ctx.enabled(f)).join(""));
      if (ctx.enabled("b") && n > 3) throw new Error("b breaks it");
    };
    const error = (await simProperty({ n: fc.nat({ max: 10 }) }, body, { swarm: ["a", "b", "c"], seed: 9, numRuns: 200, replayDir: dir, name: "swarm" }).then(
      () => null,
      (e: unknown) => e,
    )) as PropertyFailedError;
    // Cases ran with different subsets, not always all three.
    expect(drawn.size).toBeGreaterThan(3);
    // Shrunk to the one feature that matters.
    expect(error.features).toEqual(["b"]);
    expect(error.counterexample).toEqual({ n: 4 });
    expect(error.message).toContain("Workload features on: b");
    expect(readReplayFile(error.replayFile!).features).toEqual(["b"]);
    await expect(replay(error.replayFile!, body)).rejects.toThrow("b breaks it");
    // Without swarm, every feature is on.
    let all = "";
    await simProperty({ n: fc.constant(0) }, (_inputs, ctx) => {
      all = ["a", "b"].filter((f) => ctx.enabled(f)).join("");
    }, { numRuns: 1 });
    expect(all).toBe("ab");
  });
});
