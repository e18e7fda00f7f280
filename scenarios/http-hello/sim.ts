/**
 * http-hello's sim check: the callback and async HTTP servers on `SimNetwork` with random
 * chunking and resets, loaded by wirelab's `HttpClientProtocol` over keep-alive connections;
 * every response must be `200` with the exact body.
 *
 * @module
 */

import { HttpClientProtocol } from "../../runtime/protocols/http/http-client.js";
import type { HttpClientResponse } from "../../runtime/protocols/http/http-client.js";
import type { SimCheckOptions, SimCheckResult } from "../scenario.js";
import type { SimTally } from "../sim-support.js";
import { clientLostEarly, runSimStyle } from "../sim-support.js";
import { helloFactoryAsync } from "./async.js";
import { helloFactory } from "./callback.js";
import { HELLO_BODY, HELLO_PATH } from "./hello.js";

/** GETs `/` `operations` times in a row on one connection, checking each response. */
class HelloChecker extends HttpClientProtocol {
  private op = 0;
  private done = false;

  constructor(
    private readonly index: number,
    private readonly operations: number,
    private readonly faults: boolean,
    private readonly tally: SimTally,
  ) {
    super({ host: "sim" });
  }

  override connectionMade(): void {
    super.connectionMade();
    this.next();
  }

  override connectionLost(reason: Error): void {
    super.connectionLost(reason);
    if (!this.done) clientLostEarly(this.tally, this.faults, reason, this.operations - this.op, `client ${this.index}`);
  }

  private next(): void {
    if (this.op === this.operations) {
      this.done = true;
      this.tally.finished++;
      this.close();
      return;
    }
    this.request({ target: HELLO_PATH }).addCallbacks(
      (response: HttpClientResponse) => {
        const body = Buffer.from(response.body).toString("utf8");
        if (response.status !== 200 || body !== HELLO_BODY) {
          this.tally.violation(`client ${this.index}, request ${this.op}: got ${response.status} ${JSON.stringify(body)}`);
          this.done = true;
          this.transport.abortConnection();
          return;
        }
        this.tally.operations++;
        this.op++;
        this.next();
      },
      () => {
        // The connection's loss is accounted for in connectionLost.
      },
    );
  }
}

/**
 * Runs the check on both wirelab styles.
 * @param options - seed, sizes, faults.
 * @returns one result per style.
 */
export async function simCheck(options: SimCheckOptions): Promise<readonly SimCheckResult[]> {
  const make = (i: number, tally: SimTally): HttpClientProtocol => new HelloChecker(i, options.operations, options.faults, tally);
  return [
    await runSimStyle("callback", options, (reactor, endpoint) => reactor.listen(endpoint, helloFactory(reactor)), make),
    await runSimStyle("async", options, (reactor, endpoint) => reactor.listen(endpoint, helloFactoryAsync(reactor)), make),
  ];
}
