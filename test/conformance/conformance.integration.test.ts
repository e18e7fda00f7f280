/**
 * The conformance suite on real sockets: NodeReactor over TCP on 127.0.0.1, port 0. The bodies
 * are the very ones conformance.test.ts runs on connectPair and SimNetwork.
 */

import { describe } from "vitest";

import { boundedBuffersSuite } from "./bounded-buffers.js";
import { conformanceSuite } from "./suite.js";
import { tcpWorld } from "./tcp-world.js";
import type { WorldMaker } from "./world.js";

const worlds: [string, WorldMaker][] = [["TCP 127.0.0.1 (NodeReactor)", tcpWorld]];

describe.each(worlds)("conformance on %s", (_name, makeWorld) => {
  conformanceSuite(makeWorld);
});

describe.each(worlds)("bounded buffers on %s", (_name, makeWorld) => {
  boundedBuffersSuite(makeWorld);
});
