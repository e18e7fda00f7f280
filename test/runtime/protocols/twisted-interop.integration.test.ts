/**
 * Interop with an implementation nobody here wrote: Twisted's own LineReceiver,
 * NetstringReceiver and Int32StringReceiver (test/peers/twisted_framing.py, run by
 * /usr/bin/python3) exchange messages with ours over real TCP on 127.0.0.1, with wirelab as the
 * client and as the server.
 *
 * Each run checks both directions at once: Twisted sends its greetings (framed by Twisted) and
 * then echoes, re-framed by Twisted, every message it parsed from us; we check that we parsed
 * exactly its greetings followed by exactly our messages.
 *
 * How the messages get split: the Twisted peer sets TCP_NODELAY and writes its short greetings
 * one byte per write, 2 ms apart (reactor.callLater), so each byte leaves in its own segment;
 * our side sets TCP_NODELAY and writes one of its messages one byte per write, 1 ms apart
 * (reactor.callLater on the real reactor), so Twisted reads it byte by byte too. Both sides log
 * how many reads the bytes arrived in. TCP may still merge segments under load; the assertions
 * hold for any split, which is the point.
 *
 * Without Twisted the suite is skipped with a warning, unless WIRELAB_REQUIRE_PEERS is set, in
 * which case it runs and fails. Every peer process is killed by the test that started it (by
 * its PID), and exits by itself after 20 s anyway.
 */

import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Factory } from "../../../runtime/protocol.js";
import type { Reactor } from "../../../runtime/reactor.js";
import { NodeReactor } from "../../../runtime/node/node-reactor.js";
import type { FramingReceiver } from "../../../runtime/protocols/framing-receiver.js";
import { LineReceiver } from "../../../runtime/protocols/line-receiver.js";
import { NetstringReceiver } from "../../../runtime/protocols/netstring-receiver.js";
import { Int32StringReceiver } from "../../../runtime/protocols/int-n-string-receiver.js";
import { RecordingTransport } from "./framing-helpers.js";

const PYTHON = "/usr/bin/python3";
const PEER = fileURLToPath(new URL("../../peers/twisted_framing.py", import.meta.url));
const REQUIRED = (process.env.WIRELAB_REQUIRE_PEERS ?? "") !== "";
const HAVE_TWISTED = spawnSync(PYTHON, ["-c", "import twisted"], { timeout: 20_000 }).status === 0;
const SKIP = !HAVE_TWISTED && !REQUIRED;
if (SKIP) {
  console.warn(
    `Twisted interop tests SKIPPED: ${PYTHON} cannot import twisted (install python3-twisted, or set WIRELAB_REQUIRE_PEERS=1 to make this a failure)`,
  );
}

/** How long one exchange may take before the test gives up, in ms. */
const EXCHANGE_TIMEOUT_MS = 15_000;
/** The pause between two one-byte writes on our side, in ms. */
const BYTE_STEP_MS = 1;

type Kind = "line" | "netstring" | "int32";

/** What the peer sends first; must match greetings() in twisted_framing.py. */
function greetings(kind: Kind): { short: Buffer[]; long: Buffer } {
  let binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  if (kind === "line") binary = Buffer.from([...binary].filter((x) => x !== 10 && x !== 13));
  const short = [Buffer.from("hello"), Buffer.alloc(0), Buffer.from("with:colon,comma"), binary.subarray(0, 40), Buffer.from([0xff, 0x00, 0xfe])];
  let long = Buffer.from(Array.from({ length: 10000 }, (_, i) => (i * 7) % 256));
  if (kind === "line") long = Buffer.from([...long].map((x) => (x === 10 || x === 13 ? 32 : x)));
  return { short, long };
}

/** What we send; the last is "bye", after which the peer closes. */
function ourMessages(kind: Kind): { normal: Buffer[]; split: Buffer } {
  const binary = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 31 + 5) % 256).filter((x) => kind !== "line" || (x !== 10 && x !== 13)));
  const long = Buffer.alloc(9000, 0x41);
  return { normal: [Buffer.from("first"), Buffer.alloc(0), binary, long], split: Buffer.from("split:at,every\u0001byte") };
}

interface Receiver extends FramingReceiver {
  MAX_LENGTH: number;
  readonly messages: Buffer[];
  reads: number;
  send(message: Uint8Array): void;
}

/** Builds our receiver of `kind`, recording messages and reads. */
function makeReceiver(kind: Kind): Receiver {
  // One small adapter per framing, so that the test body is the same for all three.
  switch (kind) {
    case "line":
      return new (class extends LineReceiver implements Receiver {
        readonly messages: Buffer[] = [];
        reads = 0;
        override dataReceived(data: Uint8Array): void {
          this.reads++;
          super.dataReceived(data);
        }
        override lineReceived(line: Buffer): void {
          this.messages.push(Buffer.from(line));
        }
        send(message: Uint8Array): void {
          this.sendLine(message);
        }
      })();
    case "netstring":
      return new (class extends NetstringReceiver implements Receiver {
        readonly messages: Buffer[] = [];
        reads = 0;
        override dataReceived(data: Uint8Array): void {
          this.reads++;
          super.dataReceived(data);
        }
        override stringReceived(data: Buffer): void {
          this.messages.push(Buffer.from(data));
        }
        send(message: Uint8Array): void {
          this.sendString(message);
        }
      })();
    case "int32":
      return new (class extends Int32StringReceiver implements Receiver {
        readonly messages: Buffer[] = [];
        reads = 0;
        override dataReceived(data: Uint8Array): void {
          this.reads++;
          super.dataReceived(data);
        }
        override stringReceived(data: Buffer): void {
          this.messages.push(Buffer.from(data));
        }
        send(message: Uint8Array): void {
          this.sendString(message);
        }
      })();
  }
}

/** The bytes our receiver of `kind` writes for `message`, captured on a recording transport. */
function ourFrame(kind: Kind, message: Uint8Array): Buffer {
  const t = new RecordingTransport();
  const r = t.attach(makeReceiver(kind));
  r.send(message);
  return t.value();
}

/** A running peer process and its stdout lines. */
interface Peer {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first stdout line matching `pattern`. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  readonly exited: Promise<number | null>;
}

const started: ChildProcess[] = [];

function startPeer(args: string[]): Peer {
  const child = spawn(PYTHON, [PEER, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => resolve(code));
    // A peer that cannot start (no python) never exits: count that as an exit.
    child.on("error", (error) => {
      stderr += String(error);
      resolve(null);
    });
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const w of [...waiters]) {
      const m = w.pattern.exec(line);
      if (m !== null) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  return {
    child,
    lines,
    exited,
    waitFor(pattern) {
      const seen = lines.map((l) => pattern.exec(l)).find((m) => m !== null);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then((code) => reject(new Error(`peer exited (${code}) before printing ${pattern}; stderr: ${stderr}`)));
      });
    },
  };
}

/** Resolves when `p` loses its connection; rejects after EXCHANGE_TIMEOUT_MS. */
function whenLost(reactor: Reactor, p: Receiver): Promise<Error> {
  return new Promise((resolve, reject) => {
    const timer = reactor.callLater(EXCHANGE_TIMEOUT_MS, () => reject(new Error(`exchange timed out; got ${p.messages.length} messages`)));
    const previous = p.connectionLost.bind(p);
    p.connectionLost = (reason: Error) => {
      previous(reason);
      if (timer.active()) timer.cancel();
      resolve(reason);
    };
  });
}

/** On connection: sends our messages, one of them a byte per write, then "bye". */
function talk(reactor: Reactor, kind: Kind, p: Receiver): void {
  const previous = p.connectionMade.bind(p);
  p.connectionMade = () => {
    previous();
    p.transport.setTcpNoDelay(true);
    const { normal, split } = ourMessages(kind);
    for (const m of normal) p.send(m);
    const bytes = ourFrame(kind, split);
    let i = 0;
    const step = (): void => {
      if (i < bytes.length) {
        p.transport.write(bytes.subarray(i, i + 1));
        i++;
        reactor.callLater(BYTE_STEP_MS, step);
      } else {
        p.send(Buffer.from("bye"));
      }
    };
    step();
  };
}

function expectedFromPeer(kind: Kind): Buffer[] {
  const { short, long } = greetings(kind);
  const { normal, split } = ourMessages(kind);
  return [...short, long, ...normal, split, Buffer.from("bye")];
}

describe.skipIf(SKIP)("Twisted framing interop", () => {
  let reactor: NodeReactor;

  beforeAll(() => {
    reactor = new NodeReactor();
    void reactor.run();
  });

  afterAll(async () => {
    if (reactor.running) await reactor.stop();
  });

  afterEach(async () => {
    for (const child of started.splice(0)) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, "SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
    }
  });

  it("finds Twisted at /usr/bin/python3", () => {
    expect(HAVE_TWISTED).toBe(true);
  });

  describe.each(["line", "netstring", "int32"] as const)("%s", (kind) => {
    it("wirelab client, Twisted server: each side parses what the other framed, split at every byte", async () => {
      const peer = startPeer([kind, "serve"]);
      const port = Number((await peer.waitFor(/^port (\d+)$/))[1]);
      const p = makeReceiver(kind);
      talk(reactor, kind, p);
      const lost = whenLost(reactor, p);
      await reactor.connect(`tcp:127.0.0.1:${port}:timeout=10`, Factory.forProtocol(() => p));
      const reason = await lost;
      expect(p.failure).toBeNull();
      expect(p.messages.map((m) => m.toString("hex"))).toEqual(expectedFromPeer(kind).map((m) => m.toString("hex")));
      expect(reason.constructor.name).toBe("ConnectionDone");
      expect(await peer.exited).toBe(0);
      const echoed = peer.lines.filter((l) => l.startsWith("received ")).map((l) => l.slice("received ".length));
      const { normal, split } = ourMessages(kind);
      expect(echoed).toEqual([...normal, split, Buffer.from("bye")].map((m) => m.toString("hex")));
      console.info(`${kind}: we read ${p.reads} chunks; Twisted ${peer.lines.find((l) => l.startsWith("reads "))}`);
    });

    it("Twisted client, wirelab server: each side parses what the other framed, split at every byte", async () => {
      const p = makeReceiver(kind);
      talk(reactor, kind, p);
      const lost = whenLost(reactor, p);
      const port = await reactor.listen("tcp:0:interface=127.0.0.1", Factory.forProtocol(() => p));
      try {
        const peer = startPeer([kind, "connect", String(port.getHost().port)]);
        // A peer that fails (or cannot start) ends the wait at once.
        await Promise.race([lost, peer.exited.then((code) => (code === 0 ? lost : Promise.reject(new Error(`peer exited with ${code}`))))]);
        expect(p.failure).toBeNull();
        expect(p.messages.map((m) => m.toString("hex"))).toEqual(expectedFromPeer(kind).map((m) => m.toString("hex")));
        expect(await peer.exited).toBe(0);
      } finally {
        await port.stopListening();
      }
    });

    it("closes with the typed error when Twisted sends a message over our MAX_LENGTH", async () => {
      const peer = startPeer([kind, "serve"]);
      const port = Number((await peer.waitFor(/^port (\d+)$/))[1]);
      const p = makeReceiver(kind);
      p.MAX_LENGTH = 1000;
      const lost = whenLost(reactor, p);
      await reactor.connect(`tcp:127.0.0.1:${port}:timeout=10`, Factory.forProtocol(() => p));
      await lost;
      expect(p.messages.map((m) => m.toString("hex"))).toEqual(greetings(kind).short.map((m) => m.toString("hex")));
      expect(p.failure?.code).toBe(kind === "line" ? "WL_ERR_LINE_TOO_LONG" : "WL_ERR_LENGTH_LIMIT");
      expect(await peer.exited).toBe(0);
    });
  });
});
