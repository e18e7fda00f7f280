/**
 * The results format: what `wirelab bench` writes (`DIR/results.json`, or the object `bench()`
 * returns) and what the reports read. This is its one definition: the harness writes these types
 * and `read-results.ts` validates a file into them; `reports/` owns it because the reports
 * depend on nothing but the file.
 *
 * One point per scenario × style × connection count × repeat, with everything a report needs and
 * the provenance to trust it. Each scenario's declared comparisons travel in the file, so a report
 * learns style names and what to compare from the file alone.
 *
 * Versions: 2 added `scenarios` (styles and comparisons) and `parameters.load`/`targets`, and
 * made the server's CPU and memory figures nullable (unknown: a `--target` server without
 * `--server-pid`). Version 1 files are still read (no comparisons: none were declared then).
 *
 * @module
 */

/** The version written. Bump it on any change a reader could notice. */
export const RESULTS_SCHEMA_VERSION = 2;

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
  /** The git commit of wirelab, with `-dirty` when the tree had changes; its version outside git. */
  readonly commit: string;
  /** The exact command line. */
  readonly command: string;
  /** When the run started, ISO 8601. */
  readonly startedAt: string;
  /** Versions of the peers that ran (a command style's version, `autocannon`, ...). */
  readonly peers: Readonly<Record<string, string>>;
}

/**
 * How a style ran: on wirelab, on raw Node, as a command, or as an outside server (`--target`);
 * `unknown` in version 1 files, which did not say.
 */
export type StyleRunsOn = "wirelab" | "node" | "command" | "target" | "unknown";

/** One server style of a scenario, as declared. */
export interface StyleInfo {
  readonly name: string;
  readonly description?: string;
  readonly runsOn: StyleRunsOn;
}

/** A comparison a scenario declared: subject / reference. */
export interface Comparison {
  readonly subject: string;
  readonly reference: string;
}

/** What a scenario declared: its styles in order, and the comparisons its report makes. */
export interface ScenarioInfo {
  readonly name: string;
  readonly summary: string;
  /** What one operation is. */
  readonly operation: string;
  /** `throughput` or `hold`. */
  readonly kind: string;
  readonly styles: readonly StyleInfo[];
  readonly comparisons: readonly Comparison[];
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
  /** Any name the scenario gave the style. */
  readonly style: string;
  /** `real` sockets, or `sim` (SimNetwork). */
  readonly mode: "real" | "sim";
  /** Which load made the load: `generator`, `client`, `autocannon`, `sim`. */
  readonly loadGenerator: string;
  readonly connections: number;
  /** 0-based repeat index. */
  readonly repeat: number;
  /** Measured duration, after warm-up, in ms (virtual ms in sim). */
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
  /** Server resident set size at the end of the measured window, in bytes; null: unknown. */
  readonly serverRssBytes: number | null;
  /** Server CPU (user + system) over the window, in percent of one core; null: unknown. */
  readonly serverCpuPercent: number | null;
  /** Server CPU time per completed operation, in µs; null: unknown. */
  readonly serverCpuUsPerOp: number | null;
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
  /**
   * The latency histogram (µs), HDR-encoded (hdr-histogram-js `encodeIntoCompressedBase64`); empty
   * for a point read from Artillery's output, which keeps none.
   */
  readonly histogram: string;
  /** Open-loop runs only: the uncorrected histogram, encoded likewise. */
  readonly uncorrectedHistogram?: string;
  /** Set when the point failed as a whole; then no figure of it is to be shown as a number. */
  readonly failure?: string;
}

/** The sweep as asked for. */
export interface Parameters {
  readonly scenarios: readonly string[];
  readonly styles: readonly string[];
  readonly connections: readonly number[];
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly repeat: number;
  readonly rate?: number;
  readonly sim: boolean;
  /** The load asked for (`generator`, `client`, `autocannon`); absent in version 1 files. */
  readonly load?: string;
  /** `--target` servers, `NAME=HOST:PORT`; absent when the harness started the servers. */
  readonly targets?: readonly string[];
  /** `--server-cpu-prof`: the folder of the servers' CPU profiles, `DIR/<scenario>/<style>/*.cpuprofile`. */
  readonly serverCpuProfile?: string;
}

/** How auto-sampling (`--precision`) ended for one scenario at one connection count. */
export interface PrecisionResult {
  readonly scenario: string;
  readonly connections: number;
  readonly rounds: number;
  readonly elapsedMs: number;
  /** `met`: every interval within the target; `time`: the budget ran out; `rounds`: the round limit. */
  readonly stoppedBy: string;
  /** Each comparison's ratio and relative half-width of its 95% interval at the end (null: none). */
  readonly comparisons: readonly { readonly subject: string; readonly reference: string; readonly figure: string; readonly ratio: number | null; readonly halfWidth: number | null }[];
}

/** A whole results file. */
export interface Results {
  readonly schemaVersion: number;
  readonly environment: Environment;
  readonly parameters: Parameters;
  /** The scenarios that ran, with their styles and comparisons. */
  readonly scenarios: readonly ScenarioInfo[];
  readonly points: readonly ResultPoint[];
  /** Present when the sweep auto-sampled (`--precision`): the target and how each group ended. */
  readonly precision?: { readonly target: number; readonly maxTimeMs: number; readonly outcomes: readonly PrecisionResult[] };
}
