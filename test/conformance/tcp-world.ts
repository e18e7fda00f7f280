/**
 * The real world of the conformance suite: NodeReactor on 127.0.0.1, real sockets, real time.
 * Only integration tests import this.
 */

import type { ListeningPort } from "../../runtime/reactor.js";
import { NodeReactor } from "../../runtime/node/node-reactor.js";
import { WORLD_HIGH_WATER_MARK, WORLD_MAX_WRITE_BUFFER_SIZE } from "./world.js";
import type { World } from "./world.js";

/** How long a real-socket wait may take before the test fails, in milliseconds. */
export const TCP_WAIT_LIMIT_MS = 10_000;

/** NodeReactor on loopback: the same bodies, on the kernel's TCP. */
export function tcpWorld(): World {
  const errors: Error[] = [];
  const reactor = new NodeReactor({ highWaterMark: WORLD_HIGH_WATER_MARK, maxWriteBufferSize: WORLD_MAX_WRITE_BUFFER_SIZE, errorHook: (error) => errors.push(error) });
  const stopped = reactor.run();
  const ports: ListeningPort[] = [];
  const check = (): void => {
    const error = errors.shift();
    if (error !== undefined) throw error;
  };
  const world: World = {
    name: "TCP 127.0.0.1",
    server: reactor,
    client: reactor,
    async listen(factory) {
      const port = await reactor.listen("tcp:0:interface=127.0.0.1", factory);
      ports.push(port);
      return `tcp:127.0.0.1:${port.getHost().port}`;
    },
    async runUntil(condition, what) {
      const deadline = performance.now() + TCP_WAIT_LIMIT_MS;
      while (!condition()) {
        check();
        if (performance.now() > deadline) throw new Error(`TCP world: gave up after ${TCP_WAIT_LIMIT_MS} ms waiting for ${what}`);
        await new Promise<void>((resolve) => {
          setTimeout(resolve, 1);
        });
      }
      check();
    },
    async wait(promise, what) {
      let done = false;
      const settled = Promise.resolve(promise).finally(() => {
        done = true;
      });
      settled.catch(() => undefined);
      await world.runUntil(() => done, what);
      return settled;
    },
    async teardown() {
      for (const port of ports) await port.stopListening();
      await reactor.stop();
      await stopped;
      check();
    },
  };
  return world;
}
