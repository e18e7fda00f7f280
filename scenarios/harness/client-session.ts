/**
 * `ClientSession`: one connection of a scenario's client workload ({@link ClientWorkload}): opens
 * it, runs operations one at a time, times each on the reactor's clock, sorts its outcome into
 * success, error, timeout or mismatch for a {@link Recorder}, and closes it. The same session runs
 * on `NodeReactor` in a load worker and on a `SimNetwork` host in the sim check, and can run in
 * any other process that has a reactor and a recorder (see {@link runConnection}).
 *
 * - An operation that throws is an error, one that throws a `MismatchError` a mismatch; either
 *   way the connection is closed (its state is unknown). `ctx.mismatch()` counts a mismatch and
 *   keeps the connection.
 * - An operation unanswered after `timeoutMs` (on the reactor's clock: virtual time in the sim)
 *   is a timeout, and its connection is closed: a late answer would be taken for the next one's.
 *
 * @module
 */

import type { DelayedCall, Reactor } from "../../runtime/reactor.js";
import { MismatchError } from "../../runtime/errors.js";
import { Connection, dial } from "../../runtime/stream.js";
import type { ClientWorkload, ConnectionContext, OperationContext, Recorder } from "./scenario.js";

/** How an operation ended. */
export type OperationOutcome = "success" | "mismatch" | "error" | "timeout";

/**
 * Told of every operation that did not succeed, with what went wrong (the sim lists them) and,
 * for an error or a thrown mismatch, the error itself (its `code` or `errno` names the kind).
 */
export type FailureListener = (outcome: Exclude<OperationOutcome, "success">, sequence: number, detail: string, cause?: unknown) => void;

const TIMED_OUT = Symbol("timed out");

async function dialNoDelay(reactor: Reactor, endpoint: string): Promise<Connection> {
  const conn = await dial(reactor, endpoint);
  conn.transport.setTcpNoDelay(true);
  return conn;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** One client connection of a workload. */
export class ClientSession<C, S> {
  /** The open connection, or null before `connect` and after it broke. */
  conn: C | null = null;
  /** True while the connection is usable. */
  alive = false;
  /** Operations started on this connection. */
  sequence = 0;
  private closing: Promise<void> | null = null;

  /**
   * @param workload - the scenario's client workload.
   * @param ctx - this connection's index, shared state, reactor.
   * @param endpoint - the server's client endpoint (`tcp:HOST:PORT[:bindAddress=A]`).
   * @param onFailure - told of each operation that did not succeed.
   */
  constructor(
    private readonly workload: ClientWorkload<C, S>,
    readonly ctx: ConnectionContext<S>,
    private readonly endpoint: string,
    private readonly onFailure?: FailureListener,
  ) {}

  /**
   * Opens the connection (the workload's `connect`, else `dial` with Nagle's algorithm off, as
   * every load client has it: one small request in flight must not wait for an ACK); rejects
   * when it cannot.
   */
  async connect(): Promise<void> {
    const { reactor } = this.ctx;
    this.conn = this.workload.connect === undefined ? ((await dialNoDelay(reactor, this.endpoint)) as unknown as C) : await this.workload.connect(reactor, this.endpoint, this.ctx);
    this.alive = true;
  }

  /**
   * Runs one operation and records how it ended.
   * @param recorder - where the outcome goes.
   * @param timeoutMs - how long it may take, on the reactor's clock.
   * @param intendedAt - open loop: when it was due (reactor ms); latency counts from then, and the
   *   latency from its actual start is recorded as uncorrected.
   * @returns how it ended; after anything but a success or a `ctx.mismatch()`, `alive` is false.
   */
  async run(recorder: Recorder, timeoutMs: number, intendedAt?: number): Promise<OperationOutcome> {
    const conn = this.conn;
    if (conn === null || !this.alive) throw new Error("ClientSession.run: the connection is not open");
    const reactor = this.ctx.reactor;
    const sequence = this.sequence++;
    let mismatch: string | null = null;
    const ctx: OperationContext<S> = {
      ...this.ctx,
      sequence,
      mismatch(detail?: string) {
        mismatch ??= detail ?? "the answer did not match";
      },
    };
    const started = reactor.now();
    let timer: DelayedCall | null = null;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = reactor.callLater(timeoutMs, () => resolve(TIMED_OUT));
    });
    const operation = this.workload.operation(conn, ctx);
    try {
      const winner = await Promise.race([operation, timeout]);
      if (winner === TIMED_OUT) {
        // The operation may still settle later; nobody is listening then.
        operation.catch(() => {});
        recorder.timeout();
        this.onFailure?.("timeout", sequence, `no answer within ${timeoutMs} ms`);
        this.discard();
        return "timeout";
      }
    } catch (error) {
      const outcome = error instanceof MismatchError ? "mismatch" : "error";
      if (outcome === "mismatch") recorder.mismatch();
      else recorder.error();
      // A mismatch says what was wrong; an error says what kind of error, too.
      this.onFailure?.(outcome, sequence, outcome === "mismatch" ? (error as Error).message : describe(error), error);
      this.discard();
      return outcome;
    } finally {
      const t = timer as DelayedCall | null;
      if (t?.active() === true) t.cancel();
    }
    if (mismatch !== null) {
      recorder.mismatch();
      this.onFailure?.("mismatch", sequence, mismatch);
      return "mismatch";
    }
    const now = reactor.now();
    if (intendedAt === undefined) recorder.success((now - started) * 1000);
    else recorder.success((now - intendedAt) * 1000, (now - started) * 1000);
    return "success";
  }

  /** Closes the connection (the workload's `close`, else a `Connection`'s `abort()`); never rejects. */
  close(): Promise<void> {
    this.alive = false;
    const conn = this.conn;
    if (conn === null) return Promise.resolve();
    this.closing ??= (async () => {
      try {
        if (this.workload.close !== undefined) await this.workload.close(conn, this.ctx);
        else if (conn instanceof Connection) await conn.abort();
        else await (conn as { close?: () => unknown }).close?.();
      } catch {
        // A connection that is already gone cannot be closed again: nothing is lost.
      }
    })();
    return this.closing;
  }

  private discard(): void {
    void this.close();
  }
}

/**
 * Waits `ms` on a reactor's clock, or until `signal` aborts.
 * @param reactor - the clock.
 * @param ms - how long.
 * @param signal - ends the wait early.
 * @returns a promise that resolves then.
 */
export function sleepOn(reactor: Reactor, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const call = reactor.callLater(Math.max(0, ms), done);
    signal?.addEventListener("abort", done, { once: true });
    function done(): void {
      if (call.active()) call.cancel();
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** Options of {@link runConnection}. */
export interface RunConnectionOptions<S> {
  /** The reactor to connect with (its clock times the operations). */
  readonly reactor: Reactor;
  /** The server: `tcp:HOST:PORT` (with `:bindAddress=A` to pick the source address). */
  readonly endpoint: string;
  /** Where the outcomes go. */
  readonly recorder: Recorder;
  /** The connection's index over the whole run (scenarios pick roles and keys by it). @defaultValue 0 */
  readonly index?: number;
  /** The group's shared state, when the workload has some (see `ClientWorkload.shared`). */
  readonly shared?: S;
  /** Operations to run at most. @defaultValue Infinity (until `signal` aborts) */
  readonly operations?: number;
  /** Stops the loop after the operation in flight. */
  readonly signal?: AbortSignal;
  /** An operation unanswered this long (reactor ms) is a timeout. @defaultValue 10,000 */
  readonly timeoutMs?: number;
  /** Told of each operation that did not succeed (and of a failed connect, as an error). */
  readonly onFailure?: FailureListener;
  /** Told once the connection is open, before the first operation. */
  readonly onConnect?: () => void;
  /**
   * How long the open connection stays silent before its first operation (reactor ms): a held
   * connection, as a `hold` scenario's, probed at the end. @defaultValue 0
   */
  readonly holdMs?: number;
  /** The pause between one operation's end and the next one's start (reactor ms). @defaultValue 0 */
  readonly thinkMs?: number;
}

/** The default operation timeout of {@link runConnection}, ms. */
export const DEFAULT_RUN_CONNECTION_TIMEOUT_MS = 10_000;

/**
 * Runs a client workload on one connection from any process that has a reactor: connects,
 * optionally stays silent `holdMs`, runs operations back to back (closed loop, or `thinkMs`
 * apart) until `operations` are done, `signal` aborts or the connection breaks, and closes. Every outcome goes to `recorder`; a failed connect is one error.
 * This is how a load tool other than wirelab's own workers (or a test) drives a scenario's client.
 *
 * @param workload - the scenario's client (`scenario.client`).
 * @param options - where to connect, what to record, how long to run.
 * @returns the operations started.
 *
 * @example
 * ```ts
 * const reactor = new NodeReactor();
 * void reactor.run();
 * await runConnection(scenario.client, { reactor, endpoint: "tcp:127.0.0.1:7000", recorder, operations: 100 });
 * ```
 */
export async function runConnection<C, S>(workload: ClientWorkload<C, S>, options: RunConnectionOptions<S>): Promise<number> {
  const ctx: ConnectionContext<S> = { index: options.index ?? 0, shared: options.shared as S, reactor: options.reactor, sim: false };
  const session = new ClientSession(workload, ctx, options.endpoint, options.onFailure);
  try {
    await session.connect();
  } catch (error) {
    options.recorder.error();
    options.onFailure?.("error", 0, describe(error), error);
    return 0;
  }
  options.onConnect?.();
  const { reactor, signal } = options;
  const limit = options.operations ?? Infinity;
  const timeoutMs = options.timeoutMs ?? DEFAULT_RUN_CONNECTION_TIMEOUT_MS;
  const thinkMs = options.thinkMs ?? 0;
  const aborted = (): boolean => signal?.aborted === true;
  if ((options.holdMs ?? 0) > 0) await sleepOn(reactor, options.holdMs ?? 0, signal);
  while (session.alive && session.sequence < limit && !aborted()) {
    if (thinkMs > 0 && session.sequence > 0) {
      await sleepOn(reactor, thinkMs, signal);
      if (aborted()) break;
    }
    await session.run(options.recorder, timeoutMs);
  }
  await session.close();
  return session.sequence;
}
