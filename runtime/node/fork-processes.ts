/**
 * `forkProcesses`: one server run across N processes with `node:cluster`, with Tornado's
 * `fork_processes` semantics.
 *
 * The same script runs in the primary and in every child. In the primary, `forkProcesses(n)`
 * forks `n` children, each with a stable *task id* `0..n-1` (in the environment variable
 * {@link TASK_ID_ENV}); a child that crashes (exits non-zero, or is killed by a signal) is
 * forked again *with the same id*, up to `maxRestarts` restarts in all; a child that exits with
 * code 0 is not replaced. In a child, `forkProcesses(n)` returns its task id at once, and the
 * script goes on to listen: cluster children listening on the same address share one port
 * (even port 0), and the primary hands out connections (round-robin, except on Windows).
 * Children run `process.argv[1]` again with the primary's `execArgv` (so `node --import tsx
 * server.ts` forks TypeScript children); change that with `cluster.setupPrimary()` first.
 *
 * Tornado's version blocks the parent until every child is gone and then exits the process. A
 * Node process cannot block, so here the primary gets a Deferred instead, which fires with
 * `null` once every child has exited cleanly, and fails with `TooManyRestartsError` when the
 * children crash too often (the remaining children are then killed). What to do next (usually
 * `process.exit`) is the caller's choice.
 *
 * @example
 * ```ts
 * const id = await forkProcesses(4);
 * if (id === null) process.exit(0);  // the primary: every child has exited cleanly
 * // a child, with task id `id`: listen on the shared port
 * reactor.listenTCP(8080, factory);
 * ```
 *
 * @module
 */

import cluster from "node:cluster";
import type { Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import { Deferred, fail, succeed } from "../deferred.js";
import { ForkStateError, InvalidOptionError, TooManyRestartsError, WorkerExitedError } from "../errors.js";

/** The environment variable that carries a child's task id (`"0"` to `"n-1"`). */
export const TASK_ID_ENV = "WIRELAB_TASK_ID";

/** How many child restarts, in all, the primary allows before giving up (Tornado's default). */
export const DEFAULT_MAX_RESTARTS = 100;

/** What the primary knows about a child that crashed and is being forked again. */
export interface ChildRestart {
  /** The task id of the child, kept by its replacement. */
  readonly taskId: number;
  /** The process id of the child that crashed. */
  readonly pid: number | undefined;
  /** Its exit code, or null when a signal killed it. */
  readonly exitCode: number | null;
  /** The signal that killed it, or null. */
  readonly signal: string | null;
  /** Restarts so far, this one included. */
  readonly restarts: number;
}

/** Options for {@link forkProcesses}. */
export interface ForkProcessesOptions {
  /**
   * Most restarts of crashed children, counted over all children together; one more crash
   * and the primary gives up. `Infinity` restarts for ever.
   * @defaultValue {@link DEFAULT_MAX_RESTARTS} (100)
   */
  maxRestarts?: number;
  /**
   * Called in the primary each time a crashed child is about to be forked again, for logging
   * (Tornado logs a warning). It must not throw: it runs in a cluster event handler.
   * @defaultValue none
   */
  onRestart?: (restart: ChildRestart) => void;
}

let primaryRunning = false;

/**
 * The task id of this process: `0..n-1` in a child forked by {@link forkProcesses}, `null`
 * elsewhere (in the primary, or in a process that was not forked by it).
 *
 * @returns the task id, or null.
 */
export function taskId(): number | null {
  if (!cluster.isWorker) return null;
  return parseTaskId(process.env[TASK_ID_ENV]);
}

/**
 * Forks `n` copies of this script and supervises them (in the primary), or returns this
 * child's task id (in a child).
 *
 * @param n - how many children; `0` or less (or leaving it out) means one per CPU,
 *   `os.availableParallelism()`, as in Tornado.
 * @param options - see {@link ForkProcessesOptions}.
 * @returns in a child, a Deferred that has already fired with its task id. In the primary, a
 *   Deferred that fires with `null` once every child has exited cleanly; it fails with
 *   `TooManyRestartsError` (`WL_ERR_TOO_MANY_RESTARTS`, the last crash in `cause`) when more
 *   than `maxRestarts` restarts would be needed, after sending SIGTERM to the children left.
 *   Cancelling it stops the restarts and sends SIGTERM to every child. It fails with
 *   `ForkStateError` (`WL_ERR_FORK_STATE`) when called twice in the primary, or in a cluster
 *   worker that has no task id.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `n` or `maxRestarts` is not a
 *   number of the right kind.
 */
export function forkProcesses(n?: number, options: ForkProcessesOptions = {}): Deferred<number | null> {
  const count = n === undefined || n <= 0 ? availableParallelism() : n;
  if (!Number.isInteger(count)) throw new InvalidOptionError("n", `must be an integer, got ${n}`);
  const maxRestarts = options.maxRestarts ?? DEFAULT_MAX_RESTARTS;
  if (!(Number.isInteger(maxRestarts) || maxRestarts === Infinity) || maxRestarts < 0) {
    throw new InvalidOptionError("maxRestarts", `must be an integer >= 0 or Infinity, got ${maxRestarts}`);
  }

  if (cluster.isWorker) {
    const id = taskId();
    if (id === null) {
      return fail(new ForkStateError(`forkProcesses() in a cluster worker without a valid ${TASK_ID_ENV}: it was not forked by forkProcesses()`));
    }
    return succeed<number | null>(id);
  }
  if (primaryRunning) return fail(new ForkStateError("forkProcesses() is already supervising children in this process"));
  primaryRunning = true;
  return supervise(count, maxRestarts, options.onRestart);
}

function supervise(count: number, maxRestarts: number, onRestart: ((restart: ChildRestart) => void) | undefined): Deferred<number | null> {
  const live = new Map<Worker, number>();
  let restarts = 0;
  let stopped = false;

  const stopAll = (): void => {
    stopped = true;
    primaryRunning = false;
    for (const worker of live.keys()) {
      if (!worker.isDead()) worker.process.kill("SIGTERM");
    }
  };

  const done = new Deferred<number | null>(() => {
    stopAll();
  });

  const start = (id: number): void => {
    const worker = cluster.fork({ [TASK_ID_ENV]: String(id) });
    live.set(worker, id);
    worker.once("exit", (code: number | null, signal: string | null) => {
      live.delete(worker);
      if (stopped) return;
      const crashed = signal !== null || code !== 0;
      if (crashed) {
        restarts++;
        const crash = new WorkerExitedError(
          `child ${id} (pid ${worker.process.pid}) ${signal !== null ? `was killed by ${signal}` : `exited with code ${code}`}`,
        );
        if (restarts > maxRestarts) {
          stopAll();
          done.errback(new TooManyRestartsError(maxRestarts, { cause: crash }));
          return;
        }
        onRestart?.({ taskId: id, pid: worker.process.pid, exitCode: code, signal, restarts });
        start(id);
        return;
      }
      if (live.size === 0) {
        stopped = true;
        primaryRunning = false;
        done.callback(null);
      }
    });
  };

  for (let id = 0; id < count; id++) start(id);
  return done;
}

function parseTaskId(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value)) return null;
  return Number(value);
}
