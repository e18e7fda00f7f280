/**
 * http-hello: `GET /` → "Hello, world", keep-alive.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { Scenario } from "../scenario.js";
import { DEFAULT_PEER_PYTHON } from "../scenario.js";
import { HELLO_BODY, HELLO_PATH } from "./hello.js";
import { simCheck } from "./sim.js";

const peer = (name: string): string => fileURLToPath(new URL(`../peers/${name}`, import.meta.url));

/** The http-hello scenario. */
export const httpHello: Scenario = {
  name: "http-hello",
  summary: 'GET / → "Hello, world" over keep-alive HTTP/1.1',
  operation: "one request and its response",
  kind: "throughput",
  styles: {
    callback: { kind: "module", module: new URL("./callback.ts", import.meta.url).href, description: "wirelab HttpServerFactory, plain handler" },
    async: { kind: "module", module: new URL("./async.ts", import.meta.url).href, description: "wirelab HttpServerFactory, async handler" },
    baseline: { kind: "module", module: new URL("./baseline.ts", import.meta.url).href, description: "raw node:http" },
    raw: { kind: "module", module: new URL("./raw.ts", import.meta.url).href, description: "hand-written responder on node:net (the ceiling)" },
    twisted: { kind: "peer", script: peer("twisted_http_hello.py"), requires: "twisted", python: DEFAULT_PEER_PYTHON, description: "Twisted Web (peer)" },
    tornado: { kind: "peer", script: peer("tornado_http_hello.py"), requires: "tornado", python: DEFAULT_PEER_PYTHON, description: "Tornado RequestHandler (peer)" },
  },
  workload: new URL("./workload.ts", import.meta.url).href,
  autocannon: { path: HELLO_PATH, expectedBody: HELLO_BODY },
  sim: simCheck,
};
