/**
 * wirelab/fakes: deterministic doubles of the runtime for tests. Everything here is a test
 * helper: a virtual clock, in-memory transports and reactors, and a seeded simulated network.
 *
 * @module
 */

export { Clock, FakeDelayedCall, drainMicrotasks } from "./clock.js";
export type { ClockOptions } from "./clock.js";
export { SeededRandom } from "./random.js";
export type { RandomSource } from "./random.js";
export {
  ByteQueue,
  toBytes,
  wholeWrites,
  byteByByte,
  coalesceAll,
  fixedChunks,
  randomChunks,
  DEFAULT_MERGE_PROBABILITY,
  DEFAULT_MAX_MERGE,
} from "./chunking.js";
export type { ChunkingPolicy, RandomChunksOptions } from "./chunking.js";
export {
  StringTransport,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_STRING_TRANSPORT_HOST,
  DEFAULT_STRING_TRANSPORT_PEER,
} from "./string-transport.js";
export type { StringTransportOptions, ProducerState } from "./string-transport.js";
export {
  MemoryTransport,
  Pump,
  connectPair,
  linkedTransports,
  DEFAULT_LOW_WATER_MARK,
  DEFAULT_SERVER_ADDRESS,
  DEFAULT_CLIENT_ADDRESS,
  DEFAULT_PUMP_MAX_STEPS,
} from "./loopback.js";
export type { MemoryTransportOptions, ConnectPairOptions, PairBufferOptions } from "./loopback.js";
export {
  MemoryReactor,
  MemoryListeningPort,
  MemoryConnectAttempt,
  MemoryUDPPort,
  DEFAULT_REACTOR_SEED,
} from "./memory-reactor.js";
export { EphemeralPorts, FIRST_EPHEMERAL_PORT } from "./ephemeral-ports.js";
export type { MemoryReactorOptions, ConnectAttemptState } from "./memory-reactor.js";
export {
  SimNetwork,
  checkDeterminism,
  DEFAULT_SIM_SEED,
  DEFAULT_SIM_MAX_STEPS,
  DEFAULT_UDP_LOSS_PROBABILITY,
  DEFAULT_PAYLOAD_PREVIEW,
} from "./simulation.js";
export type {
  SimNetworkOptions,
  SimRunOptions,
  DeterminismReport,
  DrainMode,
  LinkLatency,
} from "./simulation.js";
export { NondeterminismGuard, runAsTestedCode, DEFAULT_MAX_NONDETERMINISM_RECORDS } from "./nondeterminism-guard.js";
export type { NondeterminismGuardOptions, NondeterminismMode, NondeterminismRecord } from "./nondeterminism-guard.js";
export { SimHost, SimListeningPort, SimUDPPort, LOOPBACK_ADDRESS } from "./sim-host.js";
export type { SimHostOptions } from "./sim-host.js";
export { MAX_LEAKED_TIMERS } from "./sim-world.js";
export type { SimStats, LeakedTimer } from "./sim-world.js";
export { SimConnection, SimConnectAttempt } from "./sim-connection.js";
export type { SimAttemptState } from "./sim-connection.js";
export { fixedLatency, uniformLatency, DEFAULT_LATENCY } from "./sim-latency.js";
export type { LatencyModel } from "./sim-latency.js";
export { describeFault } from "./sim-faults.js";
export type { SimFault, PlannedFault, FaultPlan } from "./sim-faults.js";
export { DEFAULT_MAX_TRACE_LINES } from "./sim-trace.js";
export type { TraceMode } from "./sim-trace.js";
export {
  ScriptedChunking,
  chunkingArb,
  faultPlanArb,
  simConfigArb,
  simNetworkOptions,
  ALL_FAULT_KINDS,
  DEFAULT_MAX_SPLITS,
  DEFAULT_MAX_READ_SIZE_ARB,
  DEFAULT_MAX_FAULTS,
  DEFAULT_FAULT_WINDOW,
  DEFAULT_MAX_FAULT_DURATION,
  DEFAULT_MAX_LATENCY_ARB,
} from "./arbitraries.js";
export type {
  ChunkingTail,
  ScriptedChunkingData,
  ChunkingArbOptions,
  FaultKind,
  FaultPlanArbOptions,
  SimConfig,
  SimConfigArbOptions,
} from "./arbitraries.js";
export { simProperty, DEFAULT_SIM_PROPERTY_RUNS, DEFAULT_REPLAY_DIR, DEFAULT_REPORT_TRACE_LINES } from "./property.js";
export type { SimPropertyOptions, SimPropertyResult, FastCheckParameters } from "./property.js";
export {
  SimCaseContext,
  runCase,
  replay,
  firstDivergence,
  readReplayFile,
  writeReplayFile,
  encodeInputs,
  decodeInputs,
  DEFAULT_REPLAY_TRACE_LINES,
} from "./replay.js";
export type { Json, ReplayRecord, SimCaseBody, CaseChecks, ReplayOptions, ReplayOutcome } from "./replay.js";
export {
  assertClean,
  findLeftovers,
  formatLeftovers,
  useClean,
  checkRegistered,
  registeredCount,
  DEFAULT_MAX_NAMED_LEFTOVERS,
} from "./assert-clean.js";
export type { CleanTarget, LeftoverKind, AssertCleanOptions, Leftover } from "./assert-clean.js";
export { requestApp, DEFAULT_APP_REQUEST_MAX_STEPS } from "./app-request.js";
export type { AppRequestOptions, AppResponse } from "./app-request.js";
