/**
 * tcp-echo's sim check: the callback and async echo servers on `SimNetwork` with random
 * chunking and resets; every echo must come back intact and in order.
 *
 * @module
 */

import { Protocol } from "../../runtime/protocol.js";
import { serve } from "../../runtime/stream.js";
import type { SimCheckOptions, SimCheckResult } from "../scenario.js";
import type { SimTally } from "../sim-support.js";
import { clientLostEarly, runSimStyle } from "../sim-support.js";
import { echoHandler } from "./async.js";
import { echoFactory } from "./callback.js";
import { echoPayload } from "./payload.js";

/** Sends `operations` distinct payloads one after another, checking each echo byte by byte. */
export class EchoChecker extends Protocol {
  private op = 0;
  private at = 0;
  private payload: Buffer;

  constructor(
    private readonly index: number,
    private readonly operations: number,
    private readonly faults: boolean,
    private readonly tally: SimTally,
  ) {
    super();
    this.payload = echoPayload(index * 1000);
  }

  override connectionMade(): void {
    if (this.operations === 0) this.transport.loseConnection();
    else this.transport.write(this.payload);
  }

  override dataReceived(data: Uint8Array): void {
    for (const byte of data) {
      if (this.op >= this.operations) {
        this.tally.violation(`client ${this.index}: unexpected byte after the last echo`);
        this.transport.abortConnection();
        return;
      }
      if (byte !== this.payload[this.at]) {
        this.tally.violation(`client ${this.index}, operation ${this.op}: byte ${this.at} is ${byte}, expected ${this.payload[this.at]}`);
        this.transport.abortConnection();
        return;
      }
      if (++this.at === this.payload.length) {
        this.tally.operations++;
        this.op++;
        this.at = 0;
        if (this.op === this.operations) {
          this.tally.finished++;
          this.transport.loseConnection();
        } else {
          this.payload = echoPayload(this.index * 1000 + this.op);
          this.transport.write(this.payload);
        }
      }
    }
  }

  override connectionLost(reason: Error): void {
    clientLostEarly(this.tally, this.faults, reason, this.operations - this.op, `client ${this.index}`);
  }
}

/**
 * Runs the check on both wirelab styles.
 * @param options - seed, sizes, faults.
 * @returns one result per style.
 */
export async function simCheck(options: SimCheckOptions): Promise<readonly SimCheckResult[]> {
  const make = (i: number, tally: SimTally): Protocol => new EchoChecker(i, options.operations, options.faults, tally);
  return [
    await runSimStyle("callback", options, (reactor, endpoint) => reactor.listen(endpoint, echoFactory()), make),
    await runSimStyle("async", options, (reactor, endpoint) => serve(reactor, endpoint, echoHandler), make),
  ];
}
