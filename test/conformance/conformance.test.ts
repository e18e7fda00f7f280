/**
 * The conformance suite on the in-memory worlds: connectPair (a MemoryReactor completing each
 * connection with an in-memory pair) and SimNetwork (two simulated hosts). The same bodies run
 * on real TCP in conformance.integration.test.ts.
 */

import { describe } from "vitest";

import { boundedBuffersSuite } from "./bounded-buffers.js";
import { conformanceSuite } from "./suite.js";
import { pairWorld, simWorld } from "./world.js";
import type { WorldMaker } from "./world.js";

const worlds: [string, WorldMaker][] = [
  ["connectPair", () => pairWorld(7)],
  ["connectPair (another chunking seed)", () => pairWorld(1234)],
  ["SimNetwork", () => simWorld(7)],
  ["SimNetwork (another seed)", () => simWorld(99)],
];

describe.each(worlds)("conformance on %s", (_name, makeWorld) => {
  conformanceSuite(makeWorld);
});

describe.each(worlds)("bounded buffers on %s", (_name, makeWorld) => {
  boundedBuffersSuite(makeWorld);
});
