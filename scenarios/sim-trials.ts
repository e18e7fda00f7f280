/**
 * Trials of the simulation on protocols with known answers, for `scenarios/swarm-bench.ts`,
 * `scenarios/sim-soak.ts` and their tests:
 *
 * - a correct echo, and a correct request/response protocol with retries (a ledger: each
 *   operation applied exactly once, replies in request order, retried on a new connection after
 *   any failure), which must pass every run whatever the faults: no false alarms;
 * - the same ledger with one planted bug each, which a property must find, shrink and replay:
 *   `double-apply` (no deduplication: a retry after a reset that lands between apply and ack
 *   applies twice), `reorder` (replies written as operations complete: out of order under
 *   pipelining when a slow operation precedes a fast one), `split-prefix` (a frame parser that
 *   drops a length prefix split between two reads).
 *
 * Wire format: frames with a 4-byte big-endian length prefix; a request is `op <id> <slow>`,
 * a reply `ok <id>`. Workload features (for swarm testing, see `simProperty`'s `swarm`):
 * `pipeline` (the client sends every pending operation at once) and `slow` (operations drawn
 * slow take {@link SLOW_OP_MS} to apply).
 *
 * @module
 */

import fc from "fast-check";
import { chunkingArb, faultPlanArb, simConfigArb, simNetworkOptions } from "../fakes/arbitraries.js";
import type { ScriptedChunking, SimConfig } from "../fakes/arbitraries.js";
import type { SimCaseBody, SimCaseContext } from "../fakes/replay.js";
import type { FaultPlan } from "../fakes/sim-faults.js";
import type { SimHost } from "../fakes/sim-host.js";
import type { SimNetwork } from "../fakes/simulation.js";
import { Factory, Protocol } from "../runtime/protocol.js";
import { Int32StringReceiver } from "../runtime/protocols/int-n-string-receiver.js";
import type { DelayedCall } from "../runtime/reactor.js";

/** The server's address. */
export const SERVER = "10.0.0.1";
/** The client's address. */
export const CLIENT = "10.0.0.2";
/** The service's port. */
export const PORT = 7000;
/** How long a slow operation takes to apply, in virtual milliseconds. */
export const SLOW_OP_MS = 3;
/** How long the client waits before it reconnects. */
export const RETRY_MS = 5;
/** Connection attempts after which the client gives up (a server that never comes back). */
export const MAX_ATTEMPTS = 20;
/** The workload features of the trials. */
export const TRIAL_FEATURES = ["pipeline", "slow"] as const;

/** The ledger's planted bugs; `none` is the correct protocol. */
export type LedgerBug = "none" | "double-apply" | "reorder" | "split-prefix";

/** One drawn case of a trial. */
export interface TrialInputs extends Record<string, unknown> {
  readonly config: SimConfig;
  readonly chunking: ScriptedChunking;
  readonly faults: FaultPlan;
  /** The operations (ledger) or messages (echo); `slow` matters with the `slow` feature. */
  readonly ops: readonly { readonly slow: boolean }[];
}

/**
 * The arbitraries of a trial: a configuration, a chunking, a fault plan of every kind (drawn
 * with swarm testing or uniformly), and up to six operations.
 *
 * @param swarm - draw each plan from a subset of the fault kinds.
 * @returns the arbitraries, by input name.
 */
export function trialArbs(swarm: boolean): { [K in keyof TrialInputs]: fc.Arbitrary<TrialInputs[K]> } {
  return {
    config: simConfigArb({ maxLatency: 4 }),
    chunking: chunkingArb({ maxReadSize: 8 }),
    faults: faultPlanArb({ hosts: [SERVER, CLIENT], maxFaults: 4, minTime: 1, maxTime: 40, maxDuration: 30, swarm }),
    ops: fc.array(fc.record({ slow: fc.boolean() }), { minLength: 1, maxLength: 6 }),
  };
}

/** What a trial's invariants found wrong. */
class Violations {
  readonly found: string[] = [];
  add(text: string): void {
    if (this.found.length < 10) this.found.push(text);
  }
}

// ---------------------------------------------------------------------------------------------
// The ledger

/** The server's durable state: it survives a crash of its host (a disk). */
class LedgerStore {
  /** How many times each operation was applied. */
  readonly applied = new Map<number, number>();
}

/** The ledger server: applies each operation once and replies in request order. */
class LedgerServer extends Int32StringReceiver {
  private readonly queue: { id: number; done: boolean }[] = [];
  private readonly slowOps = new Set<DelayedCall>();

  constructor(
    private readonly store: LedgerStore,
    private readonly host: SimHost,
    private readonly bug: LedgerBug,
  ) {
    super();
  }

  override stringReceived(frame: Buffer): void {
    const [verb, idText, slowText] = frame.toString("latin1").split(" ");
    if (verb !== "op") {
      this.transport.loseConnection();
      return;
    }
    const id = Number(idText);
    const entry = { id, done: false };
    this.queue.push(entry);
    const apply = (): void => {
      const times = this.store.applied.get(id) ?? 0;
      if (times === 0 || this.bug === "double-apply") this.store.applied.set(id, times + 1);
      entry.done = true;
      this.reply(entry);
    };
    if (slowText !== "1") {
      apply();
      return;
    }
    const call = this.host.callLater(SLOW_OP_MS, () => {
      this.slowOps.delete(call);
      apply();
    });
    this.slowOps.add(call);
  }

  override connectionLost(): void {
    for (const call of this.slowOps) call.cancel();
    this.slowOps.clear();
  }

  private reply(entry: { id: number; done: boolean }): void {
    if (this.bug === "reorder") {
      this.queue.splice(this.queue.indexOf(entry), 1);
      this.sendString(`ok ${entry.id}`);
      return;
    }
    while (this.queue[0]?.done === true) this.sendString(`ok ${this.queue.shift()!.id}`);
  }
}

/** The `split-prefix` bug: a frame parser that drops a length prefix split between two reads. */
class SplitPrefixLedgerServer extends LedgerServer {
  private want = -1;
  private parts: Buffer[] = [];
  private have = 0;

  override dataReceived(data: Uint8Array): void {
    const chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let pos = 0;
    while (pos < chunk.length) {
      if (this.want < 0) {
        // The planted bug: it expects a whole prefix in one read.
        if (chunk.length - pos < 4) return;
        this.want = chunk.readUInt32BE(pos);
        pos += 4;
      }
      const take = Math.min(this.want - this.have, chunk.length - pos);
      this.parts.push(chunk.subarray(pos, pos + take));
      this.have += take;
      pos += take;
      if (this.have === this.want) {
        const frame = Buffer.concat(this.parts);
        this.want = -1;
        this.parts = [];
        this.have = 0;
        this.stringReceived(frame);
      }
    }
  }
}

/** The ledger client: sends every operation until each is acknowledged, reconnecting as needed. */
class LedgerClient {
  readonly acked = new Set<number>();
  done = false;
  gaveUp = false;
  private attempts = 0;

  constructor(
    private readonly host: SimHost,
    readonly ops: readonly { readonly slow: boolean }[],
    readonly pipeline: boolean,
    readonly violations: Violations,
  ) {}

  start(): void {
    if (this.done || this.gaveUp) return;
    this.attempts++;
    this.host.connect(`tcp:${SERVER}:${PORT}:timeout=1`, Factory.forProtocol(() => new LedgerClientProtocol(this))).addErrback(() => {
      this.retryLater();
    });
  }

  /** The connection (or the attempt) ended before every operation was acknowledged. */
  retryLater(): void {
    if (this.done) return;
    if (this.attempts >= MAX_ATTEMPTS) {
      this.gaveUp = true;
      return;
    }
    this.host.callLater(RETRY_MS, () => {
      this.start();
    });
  }
}

/** One connection of the ledger client. */
class LedgerClientProtocol extends Int32StringReceiver {
  private readonly inFlight: number[] = [];

  constructor(private readonly client: LedgerClient) {
    super();
  }

  override connectionMade(): void {
    this.sendMore();
  }

  override stringReceived(frame: Buffer): void {
    const client = this.client;
    const id = Number(frame.toString("latin1").split(" ")[1]);
    const expected = this.inFlight.shift();
    if (id !== expected) client.violations.add(`reply for op ${id} where op ${expected ?? "(none)"} was expected: replies out of order`);
    client.acked.add(id);
    if (client.acked.size === client.ops.length) {
      client.done = true;
      this.transport.loseConnection();
      return;
    }
    this.sendMore();
  }

  override connectionLost(): void {
    this.client.retryLater();
  }

  private sendMore(): void {
    const client = this.client;
    if (!client.pipeline && this.inFlight.length > 0) return;
    for (let id = 0; id < client.ops.length; id++) {
      if (client.acked.has(id) || this.inFlight.includes(id)) continue;
      this.inFlight.push(id);
      this.sendString(`op ${id} ${client.ops[id]!.slow ? 1 : 0}`);
      if (!client.pipeline) return;
    }
  }
}

/**
 * Sets up one ledger case on `net`: the server on {@link SERVER}, the client on {@link CLIENT}
 * dialing at 1 ms, and the drawn faults.
 *
 * @param net - a fresh network.
 * @param inputs - the drawn case.
 * @param bug - the planted bug, or `none`.
 * @param enabled - which workload features are on.
 * @returns the check to run once the network is idle: it returns what the invariants found
 *   wrong (no operation applied twice, every acknowledged one applied, replies in order, and,
 *   unless a host crashed for good, every operation acknowledged) and a summary line.
 */
export function ledgerScenario(net: SimNetwork, inputs: TrialInputs, bug: LedgerBug, enabled: (feature: string) => boolean): () => { violations: string[]; summary: string } {
  const { faults, ops } = inputs;
  const store = new LedgerStore();
  const violations = new Violations();
  const slow = enabled("slow");
  const work = ops.map((op) => ({ slow: slow && op.slow }));
  let client: LedgerClient | null = null;
  net.host(SERVER, {
    boot: (h) => {
      const make = bug === "split-prefix" ? (): LedgerServer => new SplitPrefixLedgerServer(store, h, bug) : (): LedgerServer => new LedgerServer(store, h, bug);
      return h.listen(`tcp:${PORT}`, Factory.forProtocol(make));
    },
  });
  net.host(CLIENT, {
    boot: (h) => {
      // The client's progress survives a crash of its host too (it restarts where it was).
      client ??= new LedgerClient(h, work, enabled("pipeline"), violations);
      const c = client;
      h.callLater(1, () => {
        c.start();
      });
    },
  });
  net.plan(faults);
  return () => {
    const c = client;
    for (const [id, times] of store.applied) if (times > 1) violations.add(`op ${id} applied ${times} times`);
    for (const id of c?.acked ?? []) if (!store.applied.has(id)) violations.add(`op ${id} acknowledged but never applied`);
    const crashedForGood = faults.some((f) => f.fault.kind === "crash" && f.fault.restartAfter === undefined);
    if (!crashedForGood && c?.done !== true) violations.add(`only ${c?.acked.size ?? 0} of ${ops.length} ops acknowledged${c?.gaveUp === true ? " (gave up)" : ""}`);
    const summary = `acknowledged ${c?.acked.size ?? 0}/${ops.length}, applied ${[...store.applied].map(([id, n]) => `${id}x${n}`).join(" ")}`;
    return { violations: violations.found, summary };
  };
}

/**
 * One ledger case as a property body: {@link ledgerScenario} on a network of the case, run to
 * idle, then its invariants.
 *
 * @param bug - the planted bug, or `none`.
 * @returns the property body.
 */
export function ledgerBody(bug: LedgerBug): SimCaseBody<TrialInputs> {
  return async (inputs, ctx: SimCaseContext): Promise<void> => {
    const net = ctx.network(simNetworkOptions(inputs.config, { chunking: inputs.chunking }));
    const check = ledgerScenario(net, inputs, bug, (feature) => ctx.enabled(feature));
    await net.runUntilIdle();
    const { violations, summary } = check();
    ctx.log(summary);
    if (violations.length > 0) throw new Error(violations.join("; "));
  };
}

// ---------------------------------------------------------------------------------------------
// The echo

class EchoServer extends Protocol {
  override dataReceived(data: Uint8Array): void {
    this.transport.write(data);
  }
}

/** Sends its messages (all at once, or each after the previous came back) and closes once all came back. */
class EchoClient extends Protocol {
  readonly sent: number[] = [];
  readonly received: number[] = [];
  lost: Error | null = null;
  private next = 0;

  constructor(
    private readonly messages: readonly Uint8Array[],
    private readonly pipeline: boolean,
  ) {
    super();
  }

  override connectionMade(): void {
    this.sendMore();
  }

  override dataReceived(data: Uint8Array): void {
    this.received.push(...data);
    if (this.received.length === this.total()) this.transport.loseConnection();
    else if (this.received.length === this.sent.length) this.sendMore();
  }

  override connectionLost(reason: Error): void {
    this.lost = reason;
  }

  private total(): number {
    return this.messages.reduce((n, m) => n + m.length, 0);
  }

  private sendMore(): void {
    while (this.next < this.messages.length) {
      const m = this.messages[this.next++]!;
      this.sent.push(...m);
      this.transport.write(m);
      if (!this.pipeline) return;
    }
  }
}

/**
 * One echo case: a client sends one message per drawn op (each 1 to 40 bytes, their bytes
 * numbered), then the invariants: what came back is a prefix of what was sent, and, with no
 * fault at all, all of it, with a clean close.
 *
 * @returns the property body.
 */
export function echoBody(): SimCaseBody<TrialInputs> {
  return async ({ config, chunking, faults, ops }, ctx: SimCaseContext): Promise<void> => {
    const net = ctx.network(simNetworkOptions(config, { chunking }));
    let counter = 0;
    const messages = ops.map((op, i) => Uint8Array.from({ length: op.slow ? 40 : 1 + i }, () => counter++ & 0xff));
    let client: EchoClient | null = null;
    net.host(SERVER, { boot: (h) => h.listen(`tcp:${PORT}`, Factory.forProtocol(() => new EchoServer())) });
    net.host(CLIENT, {
      boot: (h) => {
        h.callLater(1, () => {
          h.connect(`tcp:${SERVER}:${PORT}:timeout=1`, Factory.forProtocol(() => (client = new EchoClient(messages, ctx.enabled("pipeline"))))).addErrback(() => undefined);
        });
      },
    });
    net.plan(faults);
    await net.runUntilIdle();
    const c = client as EchoClient | null;
    if (c === null) {
      if (faults.length === 0) throw new Error("no connection without any fault");
      return;
    }
    const prefix = c.sent.slice(0, c.received.length);
    if (c.received.some((b, i) => b !== prefix[i])) throw new Error(`received bytes that are not a prefix of those sent: ${c.received.join(",")}`);
    if (faults.length === 0 && (c.received.length !== c.sent.length || c.sent.length !== messages.reduce((n, m) => n + m.length, 0) || c.lost?.name !== "ConnectionDone")) {
      throw new Error(`without faults: received ${c.received.length} of ${c.sent.length} bytes, lost with ${c.lost?.name ?? "nothing"}`);
    }
  };
}
