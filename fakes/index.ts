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
  DEFAULT_LOW_WATER_MARK,
  DEFAULT_SERVER_ADDRESS,
  DEFAULT_CLIENT_ADDRESS,
  DEFAULT_PUMP_MAX_STEPS,
} from "./loopback.js";
export type { MemoryTransportOptions, ConnectPairOptions } from "./loopback.js";
export {
  MemoryReactor,
  MemoryListeningPort,
  MemoryConnectAttempt,
  MemoryUDPPort,
  FIRST_EPHEMERAL_PORT,
  DEFAULT_REACTOR_SEED,
  DEFAULT_MAX_PACKET_SIZE,
} from "./memory-reactor.js";
export type { MemoryReactorOptions, ConnectAttemptState } from "./memory-reactor.js";
