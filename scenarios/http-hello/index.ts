/**
 * http-hello: `GET /` → "Hello, world", keep-alive. The client workload (one request and its
 * response over a wirelab `Connection`, status and body checked) runs the sim check; the lean
 * `HttpLoadClient` generator makes the benchmark's load.
 *
 * @module
 */

import { MismatchError } from "wirelab";
import { defineScenario, formatGetRequest, HttpLoadClient, pythonPeer, RequestWorkload } from "wirelab/bench";
import { listenHelloAsync } from "./async.js";
import { startNodeHttpHello } from "./baseline.js";
import { listenHello } from "./callback.js";
import { HELLO_BODY, HELLO_PATH } from "./hello.js";
import { startRawHello } from "./raw.js";

/** The longest response head the client accepts, in bytes. */
const MAX_HEAD = 8 * 1024;
const REQUEST = `GET ${HELLO_PATH} HTTP/1.1\r\nHost: hello\r\n\r\n`;

const peer = (name: string): URL => new URL(`../peers/${name}`, import.meta.url);

/** The http-hello scenario. */
export default defineScenario({
  name: "http-hello",
  summary: 'GET / → "Hello, world" over keep-alive HTTP/1.1',
  operation: "one request and its response",
  styles: [
    { name: "callback", description: "wirelab HttpServerFactory, plain handler", listen: listenHello },
    { name: "async", description: "wirelab HttpServerFactory, async handler", listen: listenHelloAsync },
    { name: "baseline", description: "raw node:http", node: startNodeHttpHello },
    { name: "raw", description: "hand-written responder on node:net (the ceiling)", node: startRawHello },
    pythonPeer({ name: "twisted", script: peer("twisted_http_hello.py"), module: "twisted", description: "Twisted Web (peer)" }),
    pythonPeer({ name: "tornado", script: peer("tornado_http_hello.py"), module: "tornado", description: "Tornado RequestHandler (peer)" }),
  ],
  client: {
    async operation(conn, ctx) {
      await conn.write(REQUEST);
      const head = Buffer.from(await conn.readUntil("\r\n\r\n", MAX_HEAD)).toString("latin1");
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1];
      const length = /\r\ncontent-length: *(\d+)\r\n/i.exec(head)?.[1];
      // Without a length the response cannot be delimited: the connection is done for.
      if (length === undefined) throw new MismatchError(`a response without Content-Length: ${JSON.stringify(head.split("\r\n")[0])}`);
      const body = Buffer.from(await conn.readExactly(Number(length))).toString("utf8");
      if (status !== "200" || body !== HELLO_BODY) ctx.mismatch(`got ${status ?? "no status"} ${JSON.stringify(body)}`);
    },
  },
  generator: (context) => {
    const request = formatGetRequest(`${context.host}:${context.port}`, HELLO_PATH);
    const body = Buffer.from(HELLO_BODY);
    return new RequestWorkload(context, (target) => new HttpLoadClient(target, request, 200, body));
  },
  autocannon: { path: HELLO_PATH, expectedBody: HELLO_BODY },
  compare: [
    ["async", "callback"],
    ["callback", "baseline"],
    ["async", "baseline"],
    ["twisted", "baseline"],
    ["tornado", "baseline"],
    ["callback", "raw"],
    ["async", "raw"],
    ["twisted", "raw"],
    ["tornado", "raw"],
  ],
});
