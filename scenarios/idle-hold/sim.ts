/**
 * idle-hold's sim check: connections to the callback and async servers stay silent for a while
 * (virtual time), then each sends a probe byte; every connection not reset by a fault must
 * still be there and answer it.
 *
 * @module
 */

import { Protocol } from "../../runtime/protocol.js";
import type { Reactor } from "../../runtime/reactor.js";
import { serve } from "../../runtime/stream.js";
import type { SimCheckOptions, SimCheckResult } from "../scenario.js";
import type { SimTally } from "../sim-support.js";
import { clientLostEarly, runSimStyle } from "../sim-support.js";
import { echoHandler } from "../tcp-echo/async.js";
import { echoFactory } from "../tcp-echo/callback.js";

/** How long each connection stays silent, virtual ms: long enough for the resets to strike. */
export const SIM_HOLD_MS = 50;

const PROBE = 0x2a;

/** Holds its connection silent, then probes it once per operation. */
class IdleChecker extends Protocol {
  private op = 0;

  constructor(
    private readonly index: number,
    private readonly operations: number,
    private readonly faults: boolean,
    private readonly tally: SimTally,
    private readonly reactor: Reactor,
  ) {
    super();
  }

  override connectionMade(): void {
    this.reactor.callLater(SIM_HOLD_MS, () => {
      if (this.connected) this.probe();
    });
  }

  override dataReceived(data: Uint8Array): void {
    for (const byte of data) {
      if (byte !== PROBE || this.op >= this.operations) {
        this.tally.violation(`client ${this.index}: unexpected byte ${byte}`);
        this.transport.abortConnection();
        return;
      }
      this.tally.operations++;
      if (++this.op === this.operations) {
        this.tally.finished++;
        this.transport.loseConnection();
      } else this.probe();
    }
  }

  override connectionLost(reason: Error): void {
    clientLostEarly(this.tally, this.faults, reason, this.operations - this.op, `client ${this.index}`);
  }

  private probe(): void {
    this.transport.write(Uint8Array.of(PROBE));
  }
}

/**
 * Runs the check on both wirelab styles.
 * @param options - seed, sizes, faults.
 * @returns one result per style.
 */
export async function simCheck(options: SimCheckOptions): Promise<readonly SimCheckResult[]> {
  // A few probes per connection are enough: the hold is what is being checked.
  const held = { ...options, operations: Math.max(1, Math.min(options.operations, 3)) };
  const make = (i: number, tally: SimTally, reactor: Reactor): Protocol => new IdleChecker(i, held.operations, options.faults, tally, reactor);
  return [
    await runSimStyle("callback", held, (reactor, endpoint) => reactor.listen(endpoint, echoFactory()), make),
    await runSimStyle("async", held, (reactor, endpoint) => serve(reactor, endpoint, echoHandler), make),
  ];
}
