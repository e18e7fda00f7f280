import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { CancelledError, Deferred } from "../../../runtime/index.js";
import {
  InvalidOptionError,
  WorkerExitedError,
  WorkerPoolClosedError,
  WorkerQueueFullError,
  WorkerTaskError,
} from "../../../runtime/errors.js";
import {
  DEFAULT_THREAD_POOL_MAX_QUEUE,
  ThreadPool,
  defaultThreadPool,
  deferToThread,
  transfer,
} from "../../../runtime/node/thread-pool.js";

import type * as WorkModule from "../../fixtures/thread-pool-work.js";

type Work = typeof WorkModule;

const TS_MODULE = new URL("../../fixtures/thread-pool-work.ts", import.meta.url);
const JS_MODULE = new URL("../../fixtures/thread-pool-work.js", import.meta.url);
/** Bounds every blocked worker, so a broken test fails instead of hanging. */
const BLOCK_LIMIT_MS = 10_000;

const pools: ThreadPool<object>[] = [];

function tsPool(options: { size?: number; maxQueue?: number } = {}): ThreadPool<Work> {
  const pool = new ThreadPool<Work>({ module: TS_MODULE, ...options });
  pools.push(pool);
  return pool;
}

afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.terminate();
  await defaultThreadPool().close();
});

/** `Atomics.waitAsync` (ES2024, in Node 20) without blocking this thread's event loop. */
async function waitAsync(cells: Int32Array, index: number, value: number, timeoutMs: number): Promise<string> {
  const atomics = Atomics as unknown as {
    waitAsync(cells: Int32Array, index: number, value: number, timeoutMs: number): { value: string | Promise<string> };
  };
  return atomics.waitAsync(cells, index, value, timeoutMs).value;
}

/** A SharedArrayBuffer through which the test holds `block` tasks and sees them start. */
class Gate {
  readonly buffer = new SharedArrayBuffer(12);
  private readonly cells = new Int32Array(this.buffer);

  get runs(): number {
    return Atomics.load(this.cells, 2);
  }

  /** Resolves once `count` block tasks have started, in all. */
  async started(count: number): Promise<void> {
    for (;;) {
      const seen = Atomics.load(this.cells, 0);
      if (seen >= count) return;
      if ((await waitAsync(this.cells, 0, seen, BLOCK_LIMIT_MS)) === "timed-out") throw new Error(`only ${seen} of ${count} tasks started`);
    }
  }

  release(): void {
    Atomics.store(this.cells, 1, 1);
    Atomics.notify(this.cells, 1);
  }
}

async function failureOf(d: Deferred<unknown> | PromiseLike<unknown>): Promise<unknown> {
  try {
    await d;
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure, got a result");
}

describe("ThreadPool.run", () => {
  it("runs a named export of a TypeScript worker module and fires a Deferred", async () => {
    const pool = tsPool({ size: 1 });
    const d = pool.run("add", 2, 3);
    expect(d).toBeInstanceOf(Deferred);
    expect(await d).toBe(5);
    expect(await pool.run("addLater", 20, 22)).toBe(42);
    expect(pool.stats).toEqual({ workers: 1, busy: 0, queued: 0 });
  });

  it("loads a plain JavaScript worker module without tsx", async () => {
    const pool = new ThreadPool({ module: JS_MODULE, size: 1 });
    pools.push(pool);
    expect(await pool.run("multiply", 6, 7)).toBe(42);
  });

  it("runs tasks on at most `size` workers, and all of them complete", async () => {
    const pool = tsPool({ size: 2 });
    const gate = new Gate();
    const blocked = [pool.run("block", gate.buffer, "a", BLOCK_LIMIT_MS), pool.run("block", gate.buffer, "b", BLOCK_LIMIT_MS)];
    const third = pool.run("block", gate.buffer, "c", BLOCK_LIMIT_MS);
    await gate.started(2);
    expect(pool.stats).toEqual({ workers: 2, busy: 2, queued: 1 });
    expect(gate.runs).toBe(2);
    gate.release();
    expect(await Promise.all([...blocked, third].map((d) => d.asPromise()))).toEqual(["a", "b", "c"]);
    expect(pool.stats.workers).toBe(2);
  });

  it("carries a thrown error's name, message, stack and code across as WorkerTaskError", async () => {
    const pool = tsPool({ size: 1 });
    const error = await failureOf(pool.run("failWithCode", "out of range", "E_FIXTURE"));
    expect(error).toBeInstanceOf(WorkerTaskError);
    const taskError = error as WorkerTaskError;
    expect(taskError.code).toBe("WL_ERR_WORKER_TASK");
    expect(taskError.message).toContain("RangeError: out of range");
    const cause = taskError.cause as Error & { code?: unknown };
    expect(cause).toBeInstanceOf(Error);
    expect(cause).toBeInstanceOf(RangeError);
    expect(cause.name).toBe("RangeError");
    expect(cause.message).toBe("out of range");
    expect(cause.code).toBe("E_FIXTURE");
    // The worker's own stack, not one made on this thread.
    expect(cause.stack).toContain("failWithCode");
    expect(cause.stack).toContain("thread-pool-work.ts");
  });

  it("carries an async rejection and a thrown non-Error", async () => {
    const pool = tsPool({ size: 1 });
    const rejected = (await failureOf(pool.run("rejectLater", "later"))) as WorkerTaskError;
    expect(rejected).toBeInstanceOf(WorkerTaskError);
    expect((rejected.cause as Error).name).toBe("TypeError");
    expect((rejected.cause as Error).message).toBe("later");
    const thrown = (await failureOf(pool.run("throwString"))) as WorkerTaskError;
    expect(thrown).toBeInstanceOf(WorkerTaskError);
    expect((thrown.cause as Error).message).toContain("just a string");
  });

  it("fails a call to a missing export, and a result that cannot be cloned, and goes on working", async () => {
    const pool = new ThreadPool({ module: TS_MODULE, size: 1 });
    pools.push(pool);
    const missing = (await failureOf(pool.run("noSuchFunction"))) as WorkerTaskError;
    expect(missing).toBeInstanceOf(WorkerTaskError);
    expect((missing.cause as Error).name).toBe("TypeError");
    expect((missing.cause as Error).message).toContain("noSuchFunction");
    const uncloneable = (await failureOf(pool.run("returnUncloneable"))) as WorkerTaskError;
    expect(uncloneable).toBeInstanceOf(WorkerTaskError);
    expect((uncloneable.cause as Error).name).toBe("DataCloneError");
    expect(await pool.run("add", 1, 1)).toBe(2);
  });

  it("fails every task with WorkerTaskError when the module cannot be loaded", async () => {
    const pool = new ThreadPool({ module: new URL("../../fixtures/does-not-exist.js", import.meta.url), size: 1 });
    pools.push(pool);
    const error = (await failureOf(pool.run("anything"))) as WorkerTaskError;
    expect(error).toBeInstanceOf(WorkerTaskError);
    expect((error.cause as { code?: unknown }).code).toBe("ERR_MODULE_NOT_FOUND");
  });

  it("fails an argument that cannot be cloned without losing the worker", async () => {
    const pool = new ThreadPool({ module: TS_MODULE, size: 1 });
    pools.push(pool);
    const error = await failureOf(pool.run("add", () => 1, 2));
    expect((error as Error).name).toBe("DataCloneError");
    expect(await pool.run("add", 1, 2)).toBe(3);
  });
});

describe("workers that exit", () => {
  it("fails the running task with WorkerExitedError and replaces the worker", async () => {
    const pool = tsPool({ size: 1 });
    const first = await pool.run("whoAmI");
    const error = await failureOf(pool.run("exitWith", 7));
    expect(error).toBeInstanceOf(WorkerExitedError);
    expect((error as WorkerExitedError).code).toBe("WL_ERR_WORKER_EXITED");
    expect((error as Error).message).toContain("code 7");
    expect(pool.stats.workers).toBe(0);
    const second = await pool.run("whoAmI");
    expect(second).not.toBe(first);
    expect(await pool.run("add", 2, 2)).toBe(4);
  });

  it("reports the uncaught exception that killed the worker as the cause", async () => {
    const pool = tsPool({ size: 1 });
    const error = (await failureOf(pool.run("crashUncaught", "kaboom"))) as WorkerExitedError;
    expect(error).toBeInstanceOf(WorkerExitedError);
    expect((error.cause as Error).message).toBe("kaboom");
    expect(await pool.run("add", 3, 3)).toBe(6);
  });

  it("starts a replacement at once for the tasks queued behind the one that died", async () => {
    const pool = tsPool({ size: 1 });
    const dying = pool.run("exitWith", 3);
    const next = pool.run("add", 10, 5);
    expect(await failureOf(dying)).toBeInstanceOf(WorkerExitedError);
    expect(await next).toBe(15);
  });
});

describe("transferables", () => {
  it("moves an ArrayBuffer argument instead of copying it", async () => {
    const pool = tsPool({ size: 1 });
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const d = pool.run("byteSum", transfer(bytes.buffer, [bytes.buffer]));
    expect(bytes.buffer.byteLength).toBe(0);
    expect(await d).toBe(10);
    const copied = new Uint8Array([5, 5]);
    expect(await pool.run("byteSum", copied.buffer)).toBe(10);
    expect(copied.buffer.byteLength).toBe(2);
  });

  it("moves a result marked with transfer() back, from TypeScript and plain JavaScript modules", async () => {
    const pool = tsPool({ size: 1 });
    const buffer = await pool.run("filled", 3, 9);
    expect(buffer).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(buffer)]).toEqual([9, 9, 9]);
    const js = new ThreadPool({ module: JS_MODULE, size: 1 });
    pools.push(js);
    expect([...((await js.run("reversed", 4)) as Uint8Array)]).toEqual([3, 2, 1, 0]);
  });
});

describe("the bounded queue", () => {
  it("fails run() with WorkerQueueFullError past maxQueue waiting tasks", async () => {
    const pool = tsPool({ size: 1, maxQueue: 1 });
    const gate = new Gate();
    const running = pool.run("block", gate.buffer, "running", BLOCK_LIMIT_MS);
    const waiting = pool.run("block", gate.buffer, "waiting", BLOCK_LIMIT_MS);
    const refused = pool.run("add", 1, 1);
    expect(refused.called).toBe(true);
    const error = await failureOf(refused);
    expect(error).toBeInstanceOf(WorkerQueueFullError);
    expect((error as WorkerQueueFullError).code).toBe("WL_ERR_WORKER_QUEUE_FULL");
    expect((error as WorkerQueueFullError).maxQueue).toBe(1);
    await gate.started(1);
    gate.release();
    expect(await running).toBe("running");
    expect(await waiting).toBe("waiting");
  });

  it("with maxQueue 0 takes a task only when a worker is free", async () => {
    const pool = tsPool({ size: 1, maxQueue: 0 });
    const gate = new Gate();
    const running = pool.run("block", gate.buffer, "only", BLOCK_LIMIT_MS);
    expect(await failureOf(pool.run("add", 1, 1))).toBeInstanceOf(WorkerQueueFullError);
    gate.release();
    expect(await running).toBe("only");
    expect(await pool.run("add", 1, 1)).toBe(2);
  });

  it("documents its defaults", () => {
    const pool = new ThreadPool({ module: TS_MODULE });
    expect(pool.size).toBe(availableParallelism());
    expect(pool.maxQueue).toBe(DEFAULT_THREAD_POOL_MAX_QUEUE);
    expect(DEFAULT_THREAD_POOL_MAX_QUEUE).toBe(1024);
  });

  it("rejects options out of bounds, naming them", () => {
    expect(() => new ThreadPool({ size: 0 })).toThrow(InvalidOptionError);
    expect(() => new ThreadPool({ size: 1.5 })).toThrow(/size/);
    expect(() => new ThreadPool({ maxQueue: -1 })).toThrow(/maxQueue/);
    expect(() => new ThreadPool({ module: "relative/work.js" })).toThrow(/module/);
    expect(() => new ThreadPool({ module: new URL("https://example.com/work.js") })).toThrow(/module/);
  });
});

describe("cancellation", () => {
  it("takes a cancelled task out of the queue before it runs", async () => {
    const pool = tsPool({ size: 1 });
    const gate = new Gate();
    const running = pool.run("block", gate.buffer, "first", BLOCK_LIMIT_MS);
    const queued = pool.run("block", gate.buffer, "second", BLOCK_LIMIT_MS);
    await gate.started(1);
    queued.cancel();
    expect(await failureOf(queued)).toBeInstanceOf(CancelledError);
    expect(pool.stats.queued).toBe(0);
    gate.release();
    expect(await running).toBe("first");
    expect(await pool.run("add", 0, 0)).toBe(0);
    expect(gate.runs).toBe(1);
  });

  it("fails a cancelled running task at once and throws its late result away", async () => {
    const pool = tsPool({ size: 1 });
    const gate = new Gate();
    const running = pool.run("block", gate.buffer, "late", BLOCK_LIMIT_MS);
    await gate.started(1);
    running.cancel();
    expect(await failureOf(running)).toBeInstanceOf(CancelledError);
    gate.release();
    expect(await pool.run("add", 4, 4)).toBe(8);
  });
});

describe("the process's life", () => {
  it("an idle pool that was never closed does not keep the process alive", async () => {
    const script = [
      `import { ThreadPool } from ${JSON.stringify(new URL("../../../runtime/node/thread-pool.ts", import.meta.url).href)};`,
      `const pool = new ThreadPool({ module: new URL(${JSON.stringify(TS_MODULE.href)}), size: 2 });`,
      'console.log(await pool.run("add", 20, 22));',
    ].join("\n");
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("../../../", import.meta.url)),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    // Bounds the test: a pool that held the process open would be killed here, and fail.
    const overrun = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => {
      child.on("close", (exitCode, exitSignal) => {
        resolve([exitCode, exitSignal]);
      });
    });
    clearTimeout(overrun);
    expect({ code, signal, output: output.trim() }).toEqual({ code: 0, signal: null, output: "42" });
  });
});

describe("close and terminate", () => {
  it("close() waits for running and queued tasks, then terminates the workers", async () => {
    const pool = tsPool({ size: 1 });
    const gate = new Gate();
    const running = pool.run("block", gate.buffer, "running", BLOCK_LIMIT_MS);
    const queued = pool.run("add", 1, 2);
    await gate.started(1);
    const closed = pool.close();
    expect(closed.called).toBe(false);
    expect(pool.closed).toBe(true);
    const refused = await failureOf(pool.run("add", 1, 1));
    expect(refused).toBeInstanceOf(WorkerPoolClosedError);
    expect((refused as WorkerPoolClosedError).code).toBe("WL_ERR_WORKER_POOL_CLOSED");
    expect(closed.called).toBe(false);
    gate.release();
    await closed;
    expect(running.called && queued.called).toBe(true);
    expect(await running).toBe("running");
    expect(await queued).toBe(3);
    expect(pool.stats).toEqual({ workers: 0, busy: 0, queued: 0 });
    // A second close() fires too.
    await pool.close();
  });

  it("close() of a pool that never ran anything fires at once", () => {
    const pool = tsPool({ size: 1 });
    expect(pool.close().called).toBe(true);
  });

  it("terminate() fails the queued and the running tasks and stops the workers", async () => {
    const pool = tsPool({ size: 1 });
    const gate = new Gate();
    const running = pool.run("block", gate.buffer, "never", BLOCK_LIMIT_MS);
    const queued = pool.run("add", 1, 2);
    await gate.started(1);
    const done = pool.terminate();
    expect(await failureOf(queued)).toBeInstanceOf(WorkerPoolClosedError);
    await done;
    expect(await failureOf(running)).toBeInstanceOf(WorkerExitedError);
    expect(pool.stats.workers).toBe(0);
  });
});

describe("runFunction and deferToThread", () => {
  it("runs a self-contained function from its source, with arguments", async () => {
    const result = await deferToThread((limit: number) => {
      let count = 0;
      for (let n = 2; n < limit; n++) {
        let prime = true;
        for (let d = 2; d * d <= n; d++) {
          if (n % d === 0) {
            prime = false;
            break;
          }
        }
        if (prime) count++;
      }
      return count;
    }, 100);
    expect(result).toBe(25);
  });

  it("runs async functions and function declarations, and uses the worker's globals", async () => {
    async function threadName(prefix: string): Promise<string> {
      const threads = await import("node:worker_threads");
      return `${prefix}${threads.isMainThread ? "main" : "worker"}`;
    }
    expect(await deferToThread(threadName, "on ")).toBe("on worker");
  });

  it("fails a function that uses a closed-over variable, since only its source travels", async () => {
    const outside = 41;
    const error = (await failureOf(deferToThread(() => outside + 1))) as WorkerTaskError;
    expect(error).toBeInstanceOf(WorkerTaskError);
    expect((error.cause as Error).name).toBe("ReferenceError");
  });

  it("refuses what has no sendable source", () => {
    expect(() => deferToThread(Math.max, 1, 2)).toThrow(TypeError);
    expect(() => deferToThread((() => 1).bind(null))).toThrow(TypeError);
    expect(() => deferToThread(class Thing {} as unknown as () => void)).toThrow(TypeError);
  });

  it("reports method shorthand as a compile failure", async () => {
    const holder = {
      triple(this: void, n: number): number {
        return n * 3;
      },
    };
    const error = (await failureOf(deferToThread(holder.triple, 2))) as WorkerTaskError;
    expect((error.cause as Error).name).toBe("SyntaxError");
    expect((error.cause as Error).message).toContain("not a method");
  });

  it("moves transferables both ways", async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const pool = new ThreadPool({ size: 1 });
    pools.push(pool);
    const doubled = await pool.runFunction(
      (buffer: ArrayBuffer) => {
        const out = new Uint8Array(buffer).map((b) => b * 2);
        return { __wirelabTransfer__: true as const, value: out, transferList: [out.buffer] };
      },
      transfer(bytes.buffer, [bytes.buffer]),
    );
    expect(bytes.byteLength).toBe(0);
    expect([...doubled]).toEqual([2, 4, 6]);
  });

  it("a pool without a module refuses run()", async () => {
    const pool = new ThreadPool({ size: 1 });
    pools.push(pool);
    expect(await failureOf(pool.run("anything"))).toBeInstanceOf(InvalidOptionError);
  });

  it("the default pool is remade after it is closed", async () => {
    const first = defaultThreadPool();
    expect(defaultThreadPool()).toBe(first);
    await first.close();
    const second = defaultThreadPool();
    expect(second).not.toBe(first);
    expect(await deferToThread((a: number, b: number) => a - b, 5, 3)).toBe(2);
  });
});
