/**
 * tcp-echo: 64-byte ping-pong per connection.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { Scenario } from "../scenario.js";
import { DEFAULT_PEER_PYTHON } from "../scenario.js";
import { simCheck } from "./sim.js";

const peer = (name: string): string => fileURLToPath(new URL(`../peers/${name}`, import.meta.url));

/** The tcp-echo scenario. */
export const tcpEcho: Scenario = {
  name: "tcp-echo",
  summary: "64-byte ping-pong per connection",
  operation: "one 64-byte round trip",
  kind: "throughput",
  styles: {
    callback: { kind: "module", module: new URL("./callback.ts", import.meta.url).href, description: "wirelab Protocol (dataReceived → transport.write)" },
    async: { kind: "module", module: new URL("./async.ts", import.meta.url).href, description: "wirelab serve() handler (for await … conn.write)" },
    baseline: { kind: "module", module: new URL("./baseline.ts", import.meta.url).href, description: "raw node:net" },
    "baseline-async": { kind: "module", module: new URL("./baseline-async.ts", import.meta.url).href, description: "node:net with for await … socket.write (Node's own async)" },
    twisted: { kind: "peer", script: peer("twisted_tcp_echo.py"), requires: "twisted", python: DEFAULT_PEER_PYTHON, description: "Twisted Protocol (peer)" },
    tornado: { kind: "peer", script: peer("tornado_tcp_echo.py"), requires: "tornado", python: DEFAULT_PEER_PYTHON, description: "Tornado TCPServer (peer)" },
  },
  workload: new URL("./workload.ts", import.meta.url).href,
  sim: simCheck,
};
