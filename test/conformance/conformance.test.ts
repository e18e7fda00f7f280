/**
 * The conformance suite on the in-memory worlds: connectPair (a MemoryReactor completing each
 * connection with an in-memory pair) and SimNetwork (two simulated hosts) for the connection
 * bodies; MemoryReactor and a SimNetwork host for the reactor bodies. The same bodies run on
 * real sockets in conformance.integration.test.ts.
 */

import { describe } from "vitest";

import { boundedBuffersSuite } from "./bounded-buffers.js";
import { gracefulShutdownSuite } from "./graceful-shutdown.js";
import { reactorConformanceSuite } from "./life-cycle.js";
import { conformanceSuite } from "./suite.js";
import { memoryReactorWorld, pairWorld, simReactorWorld, simWorld } from "./world.js";
import type { ReactorWorldMaker, WorldMaker } from "./world.js";

const worlds: [string, WorldMaker][] = [
  ["connectPair", () => pairWorld(7)],
  ["connectPair (another chunking seed)", () => pairWorld(1234)],
  ["SimNetwork", () => simWorld(7)],
  ["SimNetwork (another seed)", () => simWorld(99)],
];

describe.each(worlds)("conformance on %s", (_name, makeWorld) => {
  conformanceSuite(makeWorld);
});

const reactorWorlds: [string, ReactorWorldMaker][] = [
  ["MemoryReactor", () => memoryReactorWorld(7)],
  ["SimNetwork", () => simReactorWorld(7)],
  ["SimNetwork (another seed)", () => simReactorWorld(99)],
];

describe.each(reactorWorlds)("reactor conformance on %s", (_name, makeWorld) => {
  reactorConformanceSuite(makeWorld);
});

describe.each(worlds)("graceful shutdown on %s", (_name, makeWorld) => {
  gracefulShutdownSuite(makeWorld);
});

describe.each(worlds)("bounded buffers on %s", (_name, makeWorld) => {
  boundedBuffersSuite(makeWorld);
});
