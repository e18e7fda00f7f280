/**
 * The results file `wirelab bench` writes (`DIR/results.json`): one point per scenario × style ×
 * connection count × repeat, with everything a report needs and the provenance to trust it.
 *
 * The format is versioned by `schemaVersion`; README.md ("Results format") documents it, and
 * `reports/` reads it without importing this module.
 *
 * @module
 */

/** The version of the format below. Bump it on any change a reader could notice. */
export const RESULTS_SCHEMA_VERSION = 1;

/** Where and how a results file was produced. */
export interface Environment {
  /** `process.version`, e.g. `v20.20.2`. */
  readonly nodeVersion: string;
  /** The CPU model, from `os.cpus()[0].model`. */
  readonly cpuModel: string;
  /** Logical cores. */
  readonly cores: number;
  /** Total memory in bytes. */
  readonly memoryBytes: number;
  /** `os.platform() os.release() os.arch()`. */
  readonly os: string;
  /** The git commit of wirelab, with `-dirty` when the tree had changes; `unknown` outside git. */
  readonly commit: string;
  /** The exact command line. */
  readonly command: string;
  /** When the run started, ISO 8601. */
  readonly startedAt: string;
  /** Versions of the peers that ran (`twisted`, `tornado`, `autocannon`, `ws`, ...). */
  readonly peers: Readonly<Record<string, string>>;
}

/** Latency percentiles in microseconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** One measured point: a scenario, a style, a connection count, one repeat. */
export interface ResultPoint {
  readonly scenario: string;
  /** `callback`, `async`, `baseline`, `raw`, `twisted` or `tornado`. */
  readonly style: string;
  /** `real` sockets, or `sim` (SimNetwork). */
  readonly mode: "real" | "sim";
  /** Which load generator produced the load (`wirelab`, `autocannon`). */
  readonly loadGenerator: string;
  readonly connections: number;
  /** 0-based repeat index. */
  readonly repeat: number;
  /** Measured duration, after warm-up, in ms. */
  readonly durationMs: number;
  /** Open-loop target rate in operations per second; absent for closed-loop runs. */
  readonly rate?: number;
  /** Completed operations per second. */
  readonly throughput: number;
  /** Completed operations in the measured window. */
  readonly operations: number;
  /**
   * Latency percentiles, in µs. For open-loop runs these count from the intended send time
   * (corrected for coordinated omission).
   */
  readonly latencyUs: LatencySummary;
  /** Open-loop runs only: latency counted from the actual send time (uncorrected). */
  readonly uncorrectedLatencyUs?: LatencySummary;
  /** Failed operations of any kind (connect failures, resets, protocol errors). */
  readonly errors: number;
  /** Operations that got no answer within the operation timeout. */
  readonly timeouts: number;
  /** Answers that did not match what was expected (a wrong echo, a wrong body). */
  readonly mismatches: number;
  /** Server resident set size at the end of the measured window, in bytes. */
  readonly serverRssBytes: number;
  /** Server CPU (user + system) over the window, in percent of one core. */
  readonly serverCpuPercent: number;
  /** Server CPU time per completed operation, in µs. */
  readonly serverCpuUsPerOp: number;
  /** Server event-loop utilization over the window (0..1); absent for non-Node servers. */
  readonly serverEventLoopUtilization?: number;
  /** Load generator CPU over the window, in percent of one core, summed over its workers. */
  readonly clientCpuPercent: number;
  /** Load generator workers used. */
  readonly clientWorkers: number;
  /** True when a load worker used ≥ 90% of a core: the generator, not the server, was the limit. */
  readonly generatorSaturated: boolean;
  /** Scenario-specific figures (e.g. `bytesPerConnection` and `heldConnections` for idle-hold). */
  readonly extra?: Readonly<Record<string, number>>;
  /** The latency histogram (µs), HDR-encoded (hdr-histogram-js `encodeIntoCompressedBase64`). */
  readonly histogram: string;
  /** Open-loop runs only: the uncorrected histogram, encoded likewise. */
  readonly uncorrectedHistogram?: string;
  /** Set when the point failed as a whole; then no figure of it is to be shown as a number. */
  readonly failure?: string;
}

/** A whole results file. */
export interface Results {
  readonly schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  readonly environment: Environment;
  /** The sweep as asked for. */
  readonly parameters: {
    readonly scenarios: readonly string[];
    readonly styles: readonly string[];
    readonly connections: readonly number[];
    readonly durationMs: number;
    readonly warmupMs: number;
    readonly repeat: number;
    readonly rate?: number;
    readonly sim: boolean;
  };
  readonly points: readonly ResultPoint[];
}
