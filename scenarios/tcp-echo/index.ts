/**
 * tcp-echo: 64-byte ping-pong per connection. The client workload (one round trip over a wirelab
 * `Connection`) checks every echo and runs the sim check; the lean `TcpEchoClient` generator makes
 * the benchmark's load, where the client's own cost per operation must stay far below the
 * server's.
 *
 * @module
 */

import { defineScenario, pythonPeer, RequestWorkload, TcpEchoClient } from "wirelab/bench";
import { serveEcho } from "./async.js";
import { startNetEcho } from "./baseline.js";
import { startNetEchoAsync } from "./baseline-async.js";
import { listenEcho } from "./callback.js";
import { ECHO_PAYLOAD_SIZE, echoPayload } from "./payload.js";

const peer = (name: string): URL => new URL(`../peers/${name}`, import.meta.url);

/** The tcp-echo scenario. */
export default defineScenario({
  name: "tcp-echo",
  summary: "64-byte ping-pong per connection",
  operation: "one 64-byte round trip",
  styles: [
    { name: "callback", description: "wirelab Protocol (dataReceived → transport.write)", listen: listenEcho },
    { name: "async", description: "wirelab serve() handler (for await … conn.write)", listen: serveEcho },
    { name: "baseline", description: "raw node:net", node: startNetEcho },
    { name: "baseline-async", description: "node:net with for await … socket.write (Node's own async)", node: startNetEchoAsync },
    pythonPeer({ name: "twisted", script: peer("twisted_tcp_echo.py"), module: "twisted", description: "Twisted Protocol (peer)" }),
    pythonPeer({ name: "tornado", script: peer("tornado_tcp_echo.py"), module: "tornado", description: "Tornado TCPServer (peer)" }),
  ],
  client: {
    async operation(conn, ctx) {
      // A different pattern per connection and operation: a shifted or mixed-up echo shows.
      const payload = echoPayload(ctx.index * 1000 + ctx.sequence);
      await conn.write(payload);
      const echo = await conn.readExactly(ECHO_PAYLOAD_SIZE);
      if (!payload.equals(echo)) ctx.mismatch(`echo of operation ${ctx.sequence} differs`);
    },
  },
  generator: (context) => {
    const payload = echoPayload();
    return new RequestWorkload(context, (target) => new TcpEchoClient(target, payload));
  },
  compare: [
    ["async", "callback"],
    ["callback", "baseline"],
    ["async", "baseline"],
    ["async", "baseline-async"],
    ["twisted", "baseline"],
    ["tornado", "baseline"],
  ],
});
