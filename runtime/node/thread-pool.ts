/**
 * `ThreadPool` and `deferToThread`: CPU-bound work offloaded to `node:worker_threads`, with the
 * result delivered as a {@link Deferred}.
 *
 * A function cannot be sent to a thread; only data can. So the pool is built around a *worker
 * module*: an ES module whose named exports are the functions a worker can run. The main thread
 * names the function and sends structured-cloneable arguments:
 *
 * ```ts
 * // work.ts
 * export function fib(n: number): number { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
 *
 * // main.ts
 * import type * as Work from "./work.js";
 * const pool = new ThreadPool<typeof Work>({ module: new URL("./work.js", import.meta.url) });
 * const n = await pool.run("fib", 30);
 * await pool.close();
 * ```
 *
 * For one-off work, {@link deferToThread} (and {@link ThreadPool.runFunction}) send a function's
 * *source text* (`fn.toString()`) and recompile it in the worker. That only works for
 * self-contained functions: the function sees its arguments and the worker's globals, never the
 * variables around it where it was written (no closures, no imported bindings).
 *
 * Errors cross the thread boundary as data: a task that throws fails its Deferred with a
 * `WorkerTaskError` whose `cause` is an `Error` rebuilt with the worker error's `name`,
 * `message`, `stack` and `code`. A worker that exits while running a task (`process.exit()`, an
 * uncaught exception, running out of memory) fails that task with `WorkerExitedError` and is
 * replaced by a fresh worker when there is more work.
 *
 * Worker modules written in TypeScript: Node 20 cannot load `.ts` in a worker thread, and
 * `--import tsx` in a worker's `execArgv` does not help there (tsx only installs its hooks on the
 * main thread before Node 22). So for a module ending in `.ts`, `.mts` or `.cts` each worker
 * registers tsx's ESM hooks itself (`tsx/esm/api`) before importing the module, when tsx can be
 * resolved; see {@link ThreadPoolOptions.tsx}. Plain `.js`/`.mjs` modules need nothing.
 *
 * @module
 */

import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { Transferable, WorkerOptions } from "node:worker_threads";
import { Deferred, fail } from "../deferred.js";
import {
  InvalidOptionError,
  WorkerExitedError,
  WorkerPoolClosedError,
  WorkerQueueFullError,
  WorkerTaskError,
} from "../errors.js";

/** How many tasks may wait for a free worker, unless `maxQueue` says otherwise. */
export const DEFAULT_THREAD_POOL_MAX_QUEUE = 1024;

/** How many compiled `runFunction` sources each worker keeps, unless told otherwise. */
export const DEFAULT_FUNCTION_CACHE_SIZE = 64;

// ---------------------------------------------------------------------------------------------
// Transferables

const TRANSFER_MARK = "__wirelabTransfer__";

/**
 * A value together with the objects to *move* (not copy) to the other thread. Made by
 * {@link transfer}; recognised in task arguments on the main thread and in return values in
 * the worker.
 *
 * @typeParam T - the value carried.
 */
export interface Transferring<T> {
  /** Marks the wrapper, so that a worker module needs no import to build one. */
  readonly [TRANSFER_MARK]: true;
  /** The value sent. */
  readonly value: T;
  /** Objects inside `value` whose ownership moves, such as `ArrayBuffer`s or `MessagePort`s. */
  readonly transferList: readonly Transferable[];
}

/**
 * Wraps a value so that the listed objects are transferred rather than copied.
 *
 * After the transfer the sender's `ArrayBuffer` is detached (its `byteLength` is 0): that is
 * the price of not copying. Use it as an argument (`pool.run("sum", transfer(buf, [buf]))`) or
 * as a worker function's return value (`return transfer(out, [out.buffer])`).
 *
 * @param value - the value to send.
 * @param transferList - the objects inside `value` to move.
 * @returns the wrapper; the receiving side sees only `value`.
 */
export function transfer<T>(value: T, transferList: readonly Transferable[]): Transferring<T> {
  return { [TRANSFER_MARK]: true, value, transferList };
}

function isTransferring(value: unknown): value is Transferring<unknown> {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[TRANSFER_MARK] === true;
}

/** Each argument may be given as is or wrapped by {@link transfer}. */
export type TransferArgs<P extends readonly unknown[]> = { [I in keyof P]: P[I] | Transferring<P[I]> };

/** What a worker function's result looks like on the main thread: awaited, and unwrapped. */
export type WorkerResult<R> = Awaited<R> extends Transferring<infer U> ? U : Awaited<R>;

/** The names of a worker module's exports that are functions. */
export type WorkerFunctionName<M> = {
  [K in keyof M]: M[K] extends (...args: never[]) => unknown ? K : never;
}[keyof M] &
  string;

type ArgsOf<F> = F extends (...args: infer P) => unknown ? TransferArgs<P> : never;
type ResultOf<F> = F extends (...args: never[]) => infer R ? WorkerResult<R> : never;

/** The shape of a worker module when its type is not given: any named function. */
export type AnyWorkerModule = Record<string, (...args: unknown[]) => unknown>;

// ---------------------------------------------------------------------------------------------
// What travels between the threads

interface CallRequest {
  readonly id: number;
  readonly fn: string;
  readonly args: unknown[];
}

interface SourceRequest {
  readonly id: number;
  readonly source: string;
  readonly args: unknown[];
}

type Request = CallRequest | SourceRequest;

interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly code: string | number | undefined;
}

type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

interface WorkerBoot {
  readonly moduleUrl: string | null;
  readonly tsxApiUrl: string | null;
  readonly functionCacheSize: number;
}

interface WorkerPort {
  on(event: "message", listener: (request: Request) => void): void;
  postMessage(reply: Reply, transferList?: readonly Transferable[]): void;
}

/**
 * The worker thread's side. It is shipped to the worker as source text (see `BOOTSTRAP`), so it
 * must be self-contained: it sees only its parameters and the worker's globals. Written here,
 * not in a string, so that it is type-checked and linted like the rest. `import()` comes in as
 * a parameter because test runners rewrite the `import()` syntax in the code they load.
 */
function workerMain(port: WorkerPort, boot: WorkerBoot, importModule: (url: string) => Promise<unknown>): void {
  const loading: Promise<Record<string, unknown> | null> = (async () => {
    if (boot.tsxApiUrl !== null) {
      const api = (await importModule(boot.tsxApiUrl)) as { register: () => unknown };
      api.register();
    }
    if (boot.moduleUrl === null) return null;
    return (await importModule(boot.moduleUrl)) as Record<string, unknown>;
  })();
  // Each task awaits `loading` and reports its failure; this stops an unhandled rejection.
  loading.catch(() => undefined);

  const compiled = new Map<string, (...args: unknown[]) => unknown>();
  // Sources written under tsx or vitest were rewritten by them: esbuild may insert calls to a
  // `__name` helper, and vite turns `import()` into a call to its own function.
  const nameShim = (fn: unknown): unknown => fn;
  const importShim = (url: string): Promise<unknown> => importModule(url);

  const compile = (source: string): ((...args: unknown[]) => unknown) => {
    const cached = compiled.get(source);
    if (cached !== undefined) return cached;
    let fn: unknown;
    try {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      const factory = new Function("__name", "__vite_ssr_dynamic_import__", `"use strict"; return (${source}\n);`);
      fn = (factory as (...shims: unknown[]) => unknown)(nameShim, importShim);
    } catch (error) {
      if (error instanceof SyntaxError) {
        error.message = `cannot compile the function sent to the thread (it must be a function expression or arrow function, not a method): ${error.message}`;
      }
      throw error;
    }
    if (typeof fn !== "function") throw new TypeError("the source sent to the thread is not a function");
    if (compiled.size >= boot.functionCacheSize) {
      const oldest = compiled.keys().next();
      if (oldest.done !== true) compiled.delete(oldest.value);
    }
    const callable = fn as (...args: unknown[]) => unknown;
    if (boot.functionCacheSize > 0) compiled.set(source, callable);
    return callable;
  };

  const serialize = (error: unknown): SerializedError => {
    if (error instanceof Error) {
      const code = (error as { code?: unknown }).code;
      return {
        name: error.name,
        message: error.message,
        stack: error.stack,
        code: typeof code === "string" || typeof code === "number" ? code : undefined,
      };
    }
    return { name: "Error", message: `non-Error thrown: ${String(error)}`, stack: undefined, code: undefined };
  };

  const handle = async (request: Request): Promise<void> => {
    try {
      let fn: (...args: unknown[]) => unknown;
      if ("source" in request) {
        fn = compile(request.source);
      } else {
        const mod = await loading;
        const found = mod === null ? undefined : mod[request.fn];
        if (typeof found !== "function") {
          throw new TypeError(`worker module ${String(boot.moduleUrl)} has no exported function ${JSON.stringify(request.fn)}`);
        }
        fn = found as (...args: unknown[]) => unknown;
      }
      const result = await fn(...request.args);
      const marked =
        typeof result === "object" && result !== null && (result as Record<string, unknown>)["__wirelabTransfer__"] === true;
      if (marked) {
        const wrapped = result as { value: unknown; transferList: readonly Transferable[] };
        port.postMessage({ id: request.id, ok: true, value: wrapped.value }, wrapped.transferList);
      } else {
        port.postMessage({ id: request.id, ok: true, value: result });
      }
    } catch (error) {
      // Also reached when the result cannot be cloned (a DataCloneError from postMessage).
      port.postMessage({ id: request.id, ok: false, error: serialize(error) });
    }
  };

  port.on("message", (request) => {
    void handle(request);
  });
}

/**
 * An ES module in a `data:` URL: unlike an `eval: true` script, it loads the same way whatever
 * `execArgv` the worker inherits (`--input-type=module` turns eval'd scripts into modules, where
 * `require` is missing). `sourceURL` keeps its stack frames short and readable.
 */
const BOOTSTRAP = new URL(
  "data:text/javascript," +
    encodeURIComponent(
      [
        'import { parentPort, workerData } from "node:worker_threads";',
        "var __name = (fn) => fn;",
        `(${workerMain.toString()})(parentPort, workerData, (url) => import(url));`,
        "//# sourceURL=wirelab-thread-pool-worker.js",
      ].join("\n"),
    ),
);

// ---------------------------------------------------------------------------------------------
// The pool

/** Options for {@link ThreadPool}. */
export interface ThreadPoolOptions {
  /**
   * The worker module: a `file:` URL (or an absolute path) of an ES module whose named exports
   * are the functions `run()` may call. Leave it out for a pool that only runs
   * `runFunction()`.
   * @defaultValue none
   */
  module?: URL | string;
  /**
   * Most worker threads alive at once. Workers start on demand, so an idle pool costs nothing.
   * @defaultValue `os.availableParallelism()`
   */
  size?: number;
  /**
   * Most tasks waiting for a free worker (not counting the ones running); past it, `run()`
   * fails with `WorkerQueueFullError`. `0` means: only run a task if a worker is free;
   * `Infinity` lifts the bound.
   * @defaultValue {@link DEFAULT_THREAD_POOL_MAX_QUEUE} (1024)
   */
  maxQueue?: number;
  /**
   * Register tsx's ESM hooks in each worker before loading the module, so that a TypeScript
   * worker module loads. `true` requires tsx to be resolvable from wirelab (it throws
   * otherwise); `false` never registers (for Node versions that load TypeScript themselves).
   * @defaultValue true when `module` ends in `.ts`, `.mts` or `.cts` and tsx can be resolved
   */
  tsx?: boolean;
  /**
   * How many distinct function sources (from `runFunction`/`deferToThread`) each worker keeps
   * compiled; the oldest is dropped first.
   * @defaultValue {@link DEFAULT_FUNCTION_CACHE_SIZE} (64)
   */
  functionCacheSize?: number;
  /**
   * Passed to each `Worker`: `execArgv`, `resourceLimits`, `env`, `stdout`, `stderr`, ...
   * `workerData` is the pool's own (it tells the worker what to load) and cannot be set.
   * @defaultValue {}
   */
  workerOptions?: Omit<WorkerOptions, "workerData" | "eval" | "transferList">;
}

/** A snapshot of what a pool is doing. */
export interface ThreadPoolStats {
  /** Worker threads alive (busy or idle). */
  readonly workers: number;
  /** Workers running a task now. */
  readonly busy: number;
  /** Tasks waiting for a free worker. */
  readonly queued: number;
}

interface Task {
  readonly label: string;
  readonly build: (id: number) => Request;
  readonly transferList: Transferable[];
  readonly deferred: Deferred<unknown>;
  abandoned: boolean;
}

interface Slot {
  readonly worker: Worker;
  task: { readonly id: number; readonly task: Task } | null;
  uncaught: unknown;
  terminating: boolean;
}

/**
 * A pool of worker threads that run the named functions of one worker module.
 *
 * Tasks run in the order they were submitted, one per worker at a time. Idle workers do not
 * keep the process alive; a busy one does. Cancelling a task's Deferred takes a waiting task
 * out of the queue; a running task cannot be interrupted (threads share nothing that could stop
 * it), so it runs to its end and its result is thrown away.
 *
 * @typeParam M - the worker module's type (`typeof Work` after `import type * as Work from
 *   "./work.js"`), which types `run()`; without it any name and arguments are accepted.
 *
 * @example
 * ```ts
 * import type * as Hash from "./hash.js";
 * const pool = new ThreadPool<typeof Hash>({ module: new URL("./hash.js", import.meta.url), size: 4 });
 * const digest = await pool.run("sha256", transfer(bytes.buffer, [bytes.buffer]));
 * await pool.close();
 * ```
 */
export class ThreadPool<M extends object = AnyWorkerModule> {
  /** Most worker threads alive at once. */
  readonly size: number;
  /** Most tasks waiting for a free worker. */
  readonly maxQueue: number;

  private readonly boot: WorkerBoot;
  private readonly workerOptions: Omit<WorkerOptions, "workerData" | "eval" | "transferList">;
  private readonly queue: Task[] = [];
  private readonly slots = new Set<Slot>();
  private nextId = 1;
  private closing = false;
  private readonly closeWaiters: Deferred<void>[] = [];

  /**
   * @param options - see {@link ThreadPoolOptions}.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when an option is out of bounds, or
   *   `tsx: true` is asked for and tsx cannot be resolved.
   */
  constructor(options: ThreadPoolOptions = {}) {
    const size = options.size ?? availableParallelism();
    if (!Number.isInteger(size) || size < 1) throw new InvalidOptionError("size", `must be an integer >= 1, got ${size}`);
    const maxQueue = options.maxQueue ?? DEFAULT_THREAD_POOL_MAX_QUEUE;
    if (!(Number.isInteger(maxQueue) || maxQueue === Infinity) || maxQueue < 0) {
      throw new InvalidOptionError("maxQueue", `must be an integer >= 0 or Infinity, got ${maxQueue}`);
    }
    const cacheSize = options.functionCacheSize ?? DEFAULT_FUNCTION_CACHE_SIZE;
    if (!Number.isInteger(cacheSize) || cacheSize < 0) {
      throw new InvalidOptionError("functionCacheSize", `must be an integer >= 0, got ${cacheSize}`);
    }
    const moduleUrl = options.module === undefined ? null : toModuleUrl(options.module);
    const isTypeScript = moduleUrl !== null && /\.[mc]?ts$/.test(new URL(moduleUrl).pathname);
    let tsxApiUrl: string | null = null;
    if (options.tsx === true || (options.tsx === undefined && isTypeScript)) {
      tsxApiUrl = resolveTsxApi();
      if (tsxApiUrl === null && options.tsx === true) {
        throw new InvalidOptionError("tsx", "tsx was asked for but cannot be resolved (npm install -D tsx)");
      }
    }
    this.size = size;
    this.maxQueue = maxQueue;
    this.boot = { moduleUrl, tsxApiUrl, functionCacheSize: cacheSize };
    this.workerOptions = options.workerOptions ?? {};
  }

  /** True once `close()` or `terminate()` was called: the pool takes no more tasks. */
  get closed(): boolean {
    return this.closing;
  }

  /** What the pool is doing now. */
  get stats(): ThreadPoolStats {
    let busy = 0;
    for (const slot of this.slots) if (slot.task !== null) busy++;
    return { workers: this.slots.size, busy, queued: this.queue.length };
  }

  /**
   * Runs the worker module's export `name` with `args` on a worker thread.
   *
   * Arguments and the result are structured-cloned; wrap them with {@link transfer} to move
   * `ArrayBuffer`s instead. An async function is awaited in the worker.
   *
   * @param name - the name of a function the worker module exports.
   * @param args - its arguments.
   * @returns a Deferred of the function's result. It fails with `WorkerTaskError`
   *   (`WL_ERR_WORKER_TASK`) when the function throws, or the export is missing, or the module
   *   fails to load; `WorkerExitedError` (`WL_ERR_WORKER_EXITED`) when the worker dies during the
   *   task; `WorkerQueueFullError` (`WL_ERR_WORKER_QUEUE_FULL`) when `maxQueue` tasks already
   *   wait; `WorkerPoolClosedError` (`WL_ERR_WORKER_POOL_CLOSED`) after `close()`; a
   *   `DataCloneError` when an argument cannot be cloned.
   */
  run<K extends WorkerFunctionName<M>>(name: K, ...args: ArgsOf<M[K]>): Deferred<ResultOf<M[K]>> {
    if (this.boot.moduleUrl === null) {
      return fail(new InvalidOptionError("module", "run() needs a worker module; use runFunction() without one"));
    }
    const [plain, transferList] = unwrapArgs(args);
    return this.submit(name, (id) => ({ id, fn: name, args: plain }), transferList) as Deferred<ResultOf<M[K]>>;
  }

  /**
   * Runs a self-contained function on a worker thread by sending its source text.
   *
   * The function is rebuilt from `fn.toString()` in the worker, so it must not use anything
   * from the scope it was written in: no closed-over variables, no imported bindings, no
   * `this`. It may use its arguments, globals, and `await import("node:...")`. Methods written
   * in shorthand (`{ f() {} }`), bound and native functions and classes cannot be sent. Code
   * coverage tools that rewrite function bodies break this.
   *
   * @param fn - a function expression, arrow function or function declaration.
   * @param args - its arguments (structured-cloned, or moved with {@link transfer}).
   * @returns a Deferred of the result, failing as {@link ThreadPool.run} does.
   * @throws TypeError when `fn` is not a function whose source can be sent.
   */
  runFunction<A extends unknown[], R>(fn: (...args: A) => R, ...args: TransferArgs<A>): Deferred<WorkerResult<R>> {
    const source = functionSource(fn);
    const [plain, transferList] = unwrapArgs(args);
    const label = fn.name === "" ? "anonymous function" : `function ${fn.name}`;
    return this.submit(label, (id) => ({ id, source, args: plain }), transferList) as Deferred<WorkerResult<R>>;
  }

  /**
   * Stops taking tasks, lets the queued and running ones finish, then terminates the workers.
   *
   * @returns a Deferred that fires once every worker has exited; calling it again returns
   *   another Deferred for the same moment.
   */
  close(): Deferred<void> {
    this.closing = true;
    const d = new Deferred<void>();
    this.closeWaiters.push(d);
    this.settle();
    return d;
  }

  /**
   * Stops now: queued tasks fail with `WorkerPoolClosedError`, running ones with
   * `WorkerExitedError`, and every worker is terminated.
   *
   * @returns a Deferred that fires once every worker has exited.
   */
  terminate(): Deferred<void> {
    this.closing = true;
    for (const task of this.queue.splice(0)) {
      if (!task.abandoned) task.deferred.errback(new WorkerPoolClosedError("thread pool was terminated before the task ran"));
    }
    for (const slot of this.slots) this.stop(slot);
    return this.close();
  }

  // -------------------------------------------------------------------------------------------

  private submit(label: string, build: (id: number) => Request, transferList: Transferable[]): Deferred<unknown> {
    if (this.closing) return fail(new WorkerPoolClosedError());
    const waiting = this.queue.length + (this.hasFreeCapacity() ? 0 : 1);
    if (waiting > this.maxQueue) return fail(new WorkerQueueFullError(this.maxQueue));
    const task: Task = {
      label,
      build,
      transferList,
      deferred: new Deferred<unknown>(() => {
        task.abandoned = true;
        const i = this.queue.indexOf(task);
        if (i >= 0) this.queue.splice(i, 1);
      }),
      abandoned: false,
    };
    this.queue.push(task);
    this.pump();
    return task.deferred;
  }

  private hasFreeCapacity(): boolean {
    if (this.slots.size < this.size) return true;
    for (const slot of this.slots) if (slot.task === null && !slot.terminating) return true;
    return false;
  }

  /** Hands queued tasks to idle workers, starting workers up to `size`. */
  private pump(): void {
    while (this.queue.length > 0) {
      let slot: Slot | undefined;
      for (const candidate of this.slots) {
        if (candidate.task === null && !candidate.terminating) {
          slot = candidate;
          break;
        }
      }
      if (slot === undefined) {
        if (this.slots.size >= this.size) return;
        slot = this.spawn();
      }
      const task = this.queue.shift()!;
      const id = this.nextId++;
      try {
        slot.worker.postMessage(task.build(id), task.transferList);
      } catch (error) {
        // An argument could not be cloned: the task never left this thread.
        task.deferred.errback(error);
        continue;
      }
      slot.task = { id, task };
      slot.worker.ref();
    }
  }

  private spawn(): Slot {
    const worker = new Worker(BOOTSTRAP, { ...this.workerOptions, workerData: this.boot });
    const slot: Slot = { worker, task: null, uncaught: undefined, terminating: false };
    this.slots.add(slot);
    worker.on("message", (reply: Reply) => {
      this.onReply(slot, reply);
    });
    worker.on("messageerror", (error) => {
      this.finishTask(slot, (task) => new WorkerTaskError(`the result of ${task.label} could not be received`, { cause: error }));
    });
    worker.on("error", (error) => {
      // An uncaught exception (or a failure to start); "exit" follows and reports it.
      slot.uncaught = error;
    });
    worker.on("exit", (code) => {
      this.slots.delete(slot);
      const running = slot.task;
      slot.task = null;
      if (running !== null && !running.task.abandoned) {
        const why = slot.uncaught === undefined ? "" : `: ${describe(slot.uncaught)}`;
        const options = slot.uncaught === undefined ? undefined : { cause: slot.uncaught };
        running.task.deferred.errback(
          new WorkerExitedError(`worker thread exited with code ${code} while running ${running.task.label}${why}`, options),
        );
      }
      this.pump();
      this.settle();
    });
    return slot;
  }

  private onReply(slot: Slot, reply: Reply): void {
    if (slot.task === null || slot.task.id !== reply.id) return;
    if (reply.ok) {
      this.finishTask(slot, null, reply.value);
    } else {
      this.finishTask(slot, (task) => {
        const cause = rebuildError(reply.error);
        return new WorkerTaskError(`${task.label} failed in a worker thread: ${reply.error.name}: ${reply.error.message}`, { cause });
      });
    }
  }

  private finishTask(slot: Slot, failure: ((task: Task) => unknown) | null, value?: unknown): void {
    const running = slot.task;
    if (running === null) return;
    slot.task = null;
    slot.worker.unref();
    if (!running.task.abandoned) {
      if (failure === null) running.task.deferred.callback(value);
      else running.task.deferred.errback(failure(running.task));
    }
    this.pump();
    this.settle();
  }

  /** While closing: terminates idle workers once no work is left, and fires `close()`. */
  private settle(): void {
    if (!this.closing) return;
    if (this.queue.length === 0) {
      for (const slot of this.slots) if (slot.task === null) this.stop(slot);
    }
    if (this.slots.size === 0 && this.queue.length === 0) {
      for (const d of this.closeWaiters.splice(0)) d.callback(undefined);
    }
  }

  private stop(slot: Slot): void {
    if (slot.terminating) return;
    slot.terminating = true;
    // The "exit" event does the bookkeeping; the promise only repeats it.
    slot.worker.terminate().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// deferToThread

let defaultPool: ThreadPool | null = null;

/**
 * The process-wide pool used by {@link deferToThread}, created on first use with the default
 * size (`os.availableParallelism()`) and queue bound. Its idle workers do not keep the process
 * alive; `close()` it to release them, after which the next call makes a new one.
 *
 * @returns the shared pool.
 */
export function defaultThreadPool(): ThreadPool {
  if (defaultPool === null || defaultPool.closed) defaultPool = new ThreadPool();
  return defaultPool;
}

/**
 * Runs a self-contained function on a worker thread of the {@link defaultThreadPool}: Twisted's
 * `deferToThread`, for CPU-bound work.
 *
 * The function travels as source text (`fn.toString()`), so it must be self-contained: no
 * closures over outer variables or imports, no `this`. Pass what it needs as arguments.
 *
 * @example
 * ```ts
 * const primes = await deferToThread((limit: number) => {
 *   let count = 0;
 *   for (let n = 2; n < limit; n++) { let p = true; for (let d = 2; d * d <= n; d++) if (n % d === 0) { p = false; break; } if (p) count++; }
 *   return count;
 * }, 1_000_000);
 * ```
 *
 * @param fn - the function to run.
 * @param args - its arguments (structured-cloned, or moved with {@link transfer}).
 * @returns a Deferred of the result; failures as in {@link ThreadPool.run}.
 * @throws TypeError when `fn`'s source cannot be sent (native, bound, class, method shorthand).
 */
export function deferToThread<A extends unknown[], R>(fn: (...args: A) => R, ...args: TransferArgs<A>): Deferred<WorkerResult<R>> {
  return defaultThreadPool().runFunction(fn, ...args);
}

// ---------------------------------------------------------------------------------------------
// Helpers

function toModuleUrl(module: URL | string): string {
  if (module instanceof URL) {
    if (module.protocol !== "file:" && module.protocol !== "data:") {
      throw new InvalidOptionError("module", `must be a file: or data: URL, got ${module.protocol}`);
    }
    return module.href;
  }
  if (module.startsWith("file:") || module.startsWith("data:")) return module;
  if (module.startsWith("/")) return pathToFileURL(module).href;
  throw new InvalidOptionError("module", `must be a URL or an absolute path, got ${JSON.stringify(module)}`);
}

let tsxApiCache: string | null | undefined;

/** Finds tsx's ESM API (`tsx/esm/api`, import condition) without loading it here. */
function resolveTsxApi(): string | null {
  if (tsxApiCache !== undefined) return tsxApiCache;
  tsxApiCache = null;
  try {
    const require = createRequire(import.meta.url);
    const manifestPath = require.resolve("tsx/package.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
      exports?: Record<string, { import?: { default?: string } | string } | string>;
    };
    const entry = manifest.exports?.["./esm/api"];
    const target = typeof entry === "object" ? entry.import : undefined;
    const file = typeof target === "object" ? target.default : target;
    if (file !== undefined) tsxApiCache = new URL(file, pathToFileURL(manifestPath)).href;
  } catch {
    // Not installed: TypeScript worker modules will fail to load, with Node's own error.
  }
  return tsxApiCache;
}

function functionSource(fn: unknown): string {
  if (typeof fn !== "function") throw new TypeError("deferToThread needs a function");
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new TypeError("cannot send a native or bound function to a thread: its source is not available");
  }
  if (/^class\b/.test(source)) throw new TypeError("cannot send a class to a thread, only a function");
  return source;
}

function unwrapArgs(args: readonly unknown[]): [unknown[], Transferable[]] {
  const transferList: Transferable[] = [];
  const plain = args.map((arg) => {
    if (!isTransferring(arg)) return arg;
    transferList.push(...arg.transferList);
    return arg.value;
  });
  return [plain, transferList];
}

/** Built-in error classes are rebuilt as themselves, so `instanceof TypeError` still works. */
const BUILTIN_ERRORS: ReadonlyMap<string, ErrorConstructor> = new Map<string, ErrorConstructor>([
  ["Error", Error],
  ["TypeError", TypeError],
  ["RangeError", RangeError],
  ["SyntaxError", SyntaxError],
  ["ReferenceError", ReferenceError],
  ["EvalError", EvalError],
  ["URIError", URIError],
]);

function rebuildError(serialized: SerializedError): Error {
  const error = new (BUILTIN_ERRORS.get(serialized.name) ?? Error)(serialized.message);
  error.name = serialized.name;
  error.stack = serialized.stack ?? `${serialized.name}: ${serialized.message}`;
  if (serialized.code !== undefined) {
    Object.defineProperty(error, "code", { value: serialized.code, enumerable: true, writable: true, configurable: true });
  }
  return error;
}

function describe(value: unknown): string {
  return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
}
