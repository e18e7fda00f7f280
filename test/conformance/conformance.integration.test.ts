/**
 * The conformance suite on real sockets: NodeReactor over TCP on 127.0.0.1 (port 0), over a
 * unix socket, and over TLS (a throwaway self-signed certificate; skipped without openssl, or
 * failed with WIRELAB_REQUIRE_PEERS). The bodies are the very ones conformance.test.ts runs on
 * connectPair, MemoryReactor and SimNetwork.
 */

import { describe } from "vitest";

import { boundedBuffersSuite } from "./bounded-buffers.js";
import { gracefulShutdownSuite } from "./graceful-shutdown.js";
import { reactorConformanceSuite } from "./life-cycle.js";
import { haveOpenssl, nodeReactorWorld, nodeWorld } from "./node-worlds.js";
import { conformanceSuite } from "./suite.js";

const REQUIRED = (process.env.WIRELAB_REQUIRE_PEERS ?? "") !== "";
const TLS = haveOpenssl() || REQUIRED;
if (!TLS) console.warn("conformance over TLS SKIPPED: openssl not found (set WIRELAB_REQUIRE_PEERS=1 to make this a failure)");

describe("conformance on TCP 127.0.0.1 (NodeReactor)", () => {
  conformanceSuite(() => nodeWorld("tcp"), "tcp");
});

describe("conformance on a unix socket (NodeReactor)", () => {
  conformanceSuite(() => nodeWorld("unix"), "unix");
});

describe.skipIf(!TLS)("conformance on TLS 127.0.0.1 (NodeReactor)", () => {
  conformanceSuite(() => nodeWorld("tls"), "tls");
});

describe("reactor conformance on NodeReactor", () => {
  reactorConformanceSuite(nodeReactorWorld);
});

describe("graceful shutdown on TCP 127.0.0.1 (NodeReactor)", () => {
  gracefulShutdownSuite(() => nodeWorld("tcp"));
});

describe("graceful shutdown on a unix socket (NodeReactor)", () => {
  gracefulShutdownSuite(() => nodeWorld("unix"));
});

describe.skipIf(!TLS)("graceful shutdown on TLS 127.0.0.1 (NodeReactor)", () => {
  gracefulShutdownSuite(() => nodeWorld("tls"));
});

describe("bounded buffers on TCP 127.0.0.1 (NodeReactor)", () => {
  boundedBuffersSuite(() => nodeWorld("tcp"));
});
