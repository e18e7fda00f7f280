/**
 * What a scenario is: a server in several styles plus a client workload, and a correctness
 * check of the same server code on `SimNetwork`.
 *
 * The pieces run in different places, which is why most of them are named by module URL rather
 * than held as functions:
 *
 * - a **server style** runs alone in the server child process (`scenarios/server-process.ts`):
 *   the child imports the style's module and calls its `start` export ({@link ServerModule}),
 *   or runs an external peer command (Twisted, Tornado);
 * - the **workload** runs in load worker threads (`scenarios/load/load-worker.ts`): each worker
 *   imports the workload module and calls its `createWorkload` export ({@link WorkloadModule})
 *   for its share of the connections;
 * - the **sim check** runs in the caller's process, on `SimNetwork`, with no socket.
 *
 * A scenario lives in `scenarios/<name>/`: `callback.ts`, `async.ts`, `baseline.ts`,
 * `workload.ts`, `index.ts` (which exports the {@link Scenario}), and is listed in
 * `scenarios/registry.ts`.
 *
 * @module
 */

/** The style names used by the CLI and in results. */
export const STYLE_NAMES = ["callback", "async", "baseline", "baseline-async", "raw", "twisted", "tornado"] as const;

/**
 * A server style: `callback` (Protocol + Deferred), `async` (the stream face), `baseline` (the
 * raw Node module: `node:net`, `node:http`, `ws`), `baseline-async` (the raw Node module written
 * with `for await`, as Node users write async code), `raw` (a minimal hand-written responder on
 * `node:net`, the ceiling for any Node framework), `twisted`, `tornado` (external peers).
 */
export type StyleName = (typeof STYLE_NAMES)[number];

/** Where a server style listens: given to {@link ServerModule.start}. */
export interface ServerStartOptions {
  /** The address to listen on (loopback in benchmarks). */
  readonly host: string;
  /** The port; 0 picks a free one. */
  readonly port: number;
}

/** A running server, as returned by {@link ServerModule.start}. */
export interface ServerHandle {
  /** The port it listens on (the real one when 0 was asked for). */
  readonly port: number;
  /** Stops listening and closes every connection; resolves when done. */
  close(): Promise<void>;
}

/**
 * What a server style module (`callback.ts`, `async.ts`, `baseline.ts`, `raw.ts`) exports. It
 * is imported in the server child process only, so it may do anything a server does (make a
 * `NodeReactor`, import `node:net`).
 */
export interface ServerModule {
  /**
   * Listens on `options.host:options.port` and serves the scenario until `close()`.
   * @param options - where to listen.
   * @returns the running server.
   */
  start(options: ServerStartOptions): Promise<ServerHandle>;
}

/** A style served by a module of this repository (see {@link ServerModule}). */
export interface ModuleServerStyle {
  readonly kind: "module";
  /** The module's URL, e.g. `new URL("./callback.ts", import.meta.url).href`. */
  readonly module: string;
  /** One line for `wirelab list`, e.g. "wirelab Protocol + Deferred". */
  readonly description: string;
}

/**
 * A style served by an external program (Twisted, Tornado). The runner runs
 * `python SCRIPT --host H --port P`; the program's first line on stdout must be
 * `listening on PORT`. When the script is missing or `python -c "import REQUIRES"` fails, the
 * style is skipped with a visible message.
 */
export interface PeerServerStyle {
  readonly kind: "peer";
  /** Absolute path of the script (e.g. `scenarios/peers/twisted_tcp_echo.py`). */
  readonly script: string;
  /** The Python module the script needs (`twisted`, `tornado`), checked before running it. */
  readonly requires: string;
  /**
   * The interpreter.
   * @defaultValue DEFAULT_PEER_PYTHON (`/usr/bin/python3`, Debian's, which has the packages)
   */
  readonly python?: string;
  /** One line for `wirelab list`. */
  readonly description: string;
}

/** The Python that runs peer servers: Debian's, where python3-twisted and python3-tornado live. */
export const DEFAULT_PEER_PYTHON = "/usr/bin/python3";

/** One server style of a scenario. */
export type ServerStyle = ModuleServerStyle | PeerServerStyle;

/**
 * Counters and latency histograms of one load worker, owned by the worker entry. A workload
 * calls these from its connections; records made outside the measured window (warm-up, drain)
 * are dropped by the recorder itself, so a workload never checks the phase.
 */
export interface Recorder {
  /**
   * One operation completed correctly.
   * @param latencyUs - its latency in µs; for open-loop runs, counted from the intended send time.
   * @param uncorrectedUs - open-loop runs: latency from the actual send time.
   */
  success(latencyUs: number, uncorrectedUs?: number): void;
  /** One operation failed (reset, refused, protocol error). */
  error(): void;
  /** One operation got no answer within the timeout. */
  timeout(): void;
  /** One answer did not match what was expected. */
  mismatch(): void;
  /** True inside the measured window. */
  readonly measuring: boolean;
}

/** What a worker's workload is asked to do (its share of the whole run). */
export interface WorkloadContext {
  /** The server's address. */
  readonly host: string;
  /** The server's port. */
  readonly port: number;
  /** Connections this worker opens. */
  readonly connections: number;
  /** Connections over all workers. */
  readonly totalConnections: number;
  /** This worker's index, 0-based. */
  readonly workerIndex: number;
  /** Workers in the run. */
  readonly workerCount: number;
  /** Open-loop: operations per second this worker sends in total; absent for closed-loop. */
  readonly rate?: number;
  /** An operation with no answer after this many ms counts as a timeout. */
  readonly timeoutMs: number;
  /**
   * Local addresses to connect from (`bindAddress`), spread round-robin over connections, so
   * that more than ~28,000 connections fit the ephemeral port range. Empty: let the OS choose.
   */
  readonly sourceAddresses: readonly string[];
  /** Where to count completions, failures and latencies. */
  readonly recorder: Recorder;
}

/** One worker's running workload, driven by the worker entry through the run's phases. */
export interface WorkloadInstance {
  /**
   * Opens this worker's connections. Failed connections are counted with `recorder.error()`
   * and do not reject.
   * @returns how many connections are open.
   */
  connect(): Promise<number>;
  /** Starts issuing operations (the warm-up starts here; the measured window comes later). */
  start(): void;
  /** Stops issuing operations; resolves once in-flight operations completed or timed out. */
  stop(): Promise<void>;
  /**
   * Optional: runs after the measured window closed and `stop()` resolved, with the recorder
   * counting again; what it records counts in the point. For checks that belong to the window
   * without being part of its load, such as idle-hold's liveness probe of every held connection.
   */
  finalCheck?(): Promise<void>;
  /** Closes every connection. */
  close(): Promise<void>;
  /** Scenario-specific figures for the point's `extra`, summed over workers by the runner. */
  extra?(): Readonly<Record<string, number>>;
}

/** What a workload module (`workload.ts`) exports; it is imported in load worker threads. */
export interface WorkloadModule {
  /**
   * Builds this worker's workload.
   * @param context - the worker's share of the run.
   * @returns the workload, not yet connected.
   */
  createWorkload(context: WorkloadContext): WorkloadInstance;
}

/** Options of a {@link SimCheck} run. */
export interface SimCheckOptions {
  /** The simulation's seed. */
  readonly seed: number;
  /** Client connections to simulate. */
  readonly connections: number;
  /** Operations each connection performs. */
  readonly operations: number;
  /** Whether to inject faults (resets, partitions) besides random chunking. */
  readonly faults: boolean;
}

/** The outcome of one sim check of one style. */
export interface SimCheckResult {
  /** The style checked (`callback` or `async`). */
  readonly style: StyleName;
  /** Operations that completed and passed the invariants. */
  readonly operations: number;
  /** Operations lost to injected faults (allowed: a reset connection loses what was in flight). */
  readonly lostToFaults: number;
  /** Every invariant violation, in words; empty means the check passed. */
  readonly violations: readonly string[];
  /** Virtual milliseconds the run took. */
  readonly virtualMs: number;
}

/**
 * A scenario's correctness check on `SimNetwork`: runs the callback and async servers with the
 * scenario's client, random chunking and (optionally) faults, and checks the invariants (every
 * echo intact, every response right, every broadcast delivered to every live subscriber).
 * Synchronous or not, it must be deterministic for a given seed.
 */
export type SimCheck = (options: SimCheckOptions) => Promise<readonly SimCheckResult[]>;

/** What the runner measures. */
export type ScenarioKind =
  /** Operations per second and their latency (tcp-echo, http-hello, line-chat, ws-broadcast). */
  | "throughput"
  /**
   * Held connections: the runner samples server memory (after a GC) before connecting and once
   * every connection is open, and reports `extra.bytesPerConnection` and `extra.heldConnections`.
   */
  | "idle";

/** An HTTP scenario's request, for the autocannon load generator. */
export interface AutocannonTarget {
  /** The request path, e.g. `/`. */
  readonly path: string;
  /** The exact expected response body; any other counts as a mismatch. */
  readonly expectedBody: string;
}

/** A scenario: name, what one operation is, its server styles, workload and sim check. */
export interface Scenario {
  /** The name used by the CLI and in results, e.g. `tcp-echo`. */
  readonly name: string;
  /** One line for `wirelab list`. */
  readonly summary: string;
  /** What one operation is, e.g. "one 64-byte round trip". */
  readonly operation: string;
  /** What the runner measures. */
  readonly kind: ScenarioKind;
  /** The styles it has, by name. */
  readonly styles: Readonly<Partial<Record<StyleName, ServerStyle>>>;
  /** URL of the workload module ({@link WorkloadModule}). */
  readonly workload: string;
  /** The connection counts swept when the CLI is given none. */
  readonly defaultConnections?: readonly number[];
  /** Set for HTTP scenarios that autocannon can load (`--load autocannon`). */
  readonly autocannon?: AutocannonTarget;
  /** The correctness check on `SimNetwork`. */
  readonly sim: SimCheck;
}
