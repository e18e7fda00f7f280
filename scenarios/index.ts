/**
 * wirelab/bench: benchmark your own protocol. A scenario is one module: `defineScenario({...})`
 * with its name, what one operation is, its server styles, its client workload, the comparisons
 * it wants and optionally its checks; `wirelab bench ./scenario.ts` (or `bench()`) runs it on real
 * sockets, and `--sim` (or `checkScenario()`) runs the same server and client code on
 * `SimNetwork` with random chunking and faults. The built-in scenarios (`scenarios/<name>/`) are
 * written on this entry alone.
 *
 * Map of the harness (`scenarios/harness/`):
 * - `scenario.ts`: `defineScenario` and the types a scenario file uses.
 * - `client-session.ts`, `client-load.ts`: running a client workload (`runConnection` for any
 *   process with a reactor).
 * - `sim-check.ts`: `checkScenario`, the sim check.
 * - `runner.ts`: `bench()`, the sweep as a pipeline: `plan.ts` → `server-under-test.ts` →
 *   `measure.ts` (with the load workers of `load/`) → `point.ts` → `results-writer.ts`.
 * - `load/`: the load workers, and the lean load clients and drivers for peak-rate generators.
 * - `cli.ts`, `cli-options.ts`, `bin.ts`: the `wirelab` command.
 * - `artillery-engine.ts`: the engine for Artillery (`engine: wirelab`), which the CommonJS
 *   entry `scenarios/artillery/artillery-engine-wirelab/` forwards to.
 *
 * @example
 * ```ts
 * import { bench, checkScenario } from "wirelab/bench";
 * import { report } from "wirelab/report";
 * import echo from "./echo-scenario.js";
 *
 * const [callback] = await checkScenario(echo, { seed: 1 }); // on SimNetwork: callback.violations
 * const results = await bench({ scenarios: ["./echo-scenario.ts"], connections: [1, 10], duration: "1s" });
 * await report(results, { out: "echo-report" });
 * ```
 *
 * @module
 */

export { defineScenario, isScenario, pythonPeer, styleKind, DEFAULT_PEER_PYTHON } from "./harness/scenario.js";
export type {
  AutocannonTarget,
  CheckContext,
  ClientWorkload,
  CommandStyle,
  ConnectionContext,
  GroupContext,
  LoadGenerator,
  NodeStyle,
  OperationContext,
  Recorder,
  Scenario,
  ScenarioDefinition,
  ScenarioKind,
  ServerHandle,
  ServerStartOptions,
  ServerStyle,
  SimSizes,
  StyleBase,
  StyleKind,
  WirelabStyle,
  WorkloadContext,
  WorkloadInstance,
} from "./harness/scenario.js";
export { bench, SIM_MAX_CONNECTIONS } from "./harness/runner.js";
export type { BenchProgress, BenchRunOptions } from "./harness/runner.js";
export {
  DEFAULT_CONNECTIONS,
  DEFAULT_DURATION_MS,
  DEFAULT_WARMUP_MS,
  DEFAULT_REPEAT,
  DEFAULT_OPERATION_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_SEED,
  MAX_CONNECTIONS,
  defaultWorkers,
} from "./harness/bench-options.js";
export type { BenchOptions, LoadChoice, TargetOption } from "./harness/bench-options.js";
export { checkScenario, DEFAULT_SIM_OPERATIONS, DEFAULT_SIM_HOLD_MS, SIM_OPERATION_TIMEOUT_MS } from "./harness/sim-check.js";
export type { SimCheckOptions, SimCheckResult } from "./harness/sim-check.js";
export { ClientSession, runConnection, DEFAULT_RUN_CONNECTION_TIMEOUT_MS } from "./harness/client-session.js";
export type { FailureListener, OperationOutcome, RunConnectionOptions } from "./harness/client-session.js";
export { listenNodeServer } from "./harness/node-server.js";
export { ArtilleryEngine, resolveArtilleryOptions, parseArtilleryTarget, ARTILLERY_MAX_OPERATIONS, ARTILLERY_MAX_GROUP } from "./harness/artillery-engine.js";
export type { ArtilleryCallback, ArtilleryContext, ArtilleryEngineOptions, ArtilleryEvents, ArtilleryScenarioSpec, ArtilleryScript } from "./harness/artillery-engine.js";
export { BENCH_BACKLOG } from "./harness/start-style.js";
// The lean load clients and drivers, for peak-rate generators.
export { LoadClient, OUTCOME_OK, OUTCOME_MISMATCH, OUTCOME_FAILED } from "./harness/load/load-client.js";
export type { Outcome, OperationListener } from "./harness/load/load-client.js";
export { ClosedLoopDriver, OpenLoopDriver, TIMEOUT_SWEEP_MAX_MS, OPEN_LOOP_TICK_MS } from "./harness/load/drivers.js";
export type { Driver } from "./harness/load/drivers.js";
export { OpenLoopSchedule } from "./harness/load/open-loop-schedule.js";
export { RequestWorkload, connectAll, globalConnectionIndex, DEFAULT_CONNECT_CONCURRENCY } from "./harness/load/request-workload.js";
export { SocketLoadClient, TcpEchoClient, connectSocket, closeSocket, closeWithReset, READ_BUFFER_SIZE } from "./harness/load/tcp-load-client.js";
export type { ConnectTarget, ReadCallback } from "./harness/load/tcp-load-client.js";
export { HttpLoadClient, formatGetRequest, findContentLength, MAX_RESPONSE_HEAD } from "./harness/load/http-load-client.js";
export { targetFor, sourceAddressesFor } from "./harness/load/source-addresses.js";
