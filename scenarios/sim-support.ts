/**
 * What the scenarios' sim checks share: a `SimNetwork` with one server host and one client
 * host, seeded random chunking, optional connection resets at random virtual times, and the
 * tally a check fills in.
 *
 * @module
 */

import type { Deferred } from "../runtime/deferred.js";
import { ConnectionDone } from "../runtime/errors.js";
import { ClientFactory } from "../runtime/protocol.js";
import type { Protocol } from "../runtime/protocol.js";
import type { ListeningPort, Reactor } from "../runtime/reactor.js";
import { SimNetwork } from "../fakes/simulation.js";
import type { SimCheckOptions, SimCheckResult, StyleName } from "./scenario.js";

/** The simulated server's address. */
export const SIM_SERVER_ADDRESS = "10.0.0.1";
/** The simulated clients' address. */
export const SIM_CLIENT_ADDRESS = "10.0.0.2";
/** The simulated server's port. */
export const SIM_PORT = 7000;
/** Events a sim check may run before it is declared stuck. */
export const SIM_CHECK_MAX_STEPS = 5_000_000;
/** The most violations a check keeps (the first ones are the useful ones). */
export const MAX_VIOLATIONS = 20;

/** What a sim check's clients fill in. */
export class SimTally {
  /** Operations completed and checked. */
  operations = 0;
  /** Operations lost to injected faults. */
  lostToFaults = 0;
  /** Clients that finished all their operations. */
  finished = 0;
  /** Invariant violations, in words. */
  readonly violations: string[] = [];

  /**
   * Notes a violation.
   * @param text - what went wrong, with enough to find it (connection, operation).
   */
  violation(text: string): void {
    if (this.violations.length < MAX_VIOLATIONS) this.violations.push(text);
  }
}

/**
 * What a client protocol of a sim check is told when its connection ends early.
 * @param tally - the check's tally.
 * @param faults - whether faults were injected (then a reset is allowed).
 * @param reason - the `connectionLost` reason.
 * @param left - operations the client had not finished.
 * @param who - the client's name for messages.
 */
export function clientLostEarly(tally: SimTally, faults: boolean, reason: Error, left: number, who: string): void {
  if (left <= 0) return;
  if (faults && !(reason instanceof ConnectionDone)) tally.lostToFaults += left;
  else tally.violation(`${who}: connection ended (${reason.name}: ${reason.message}) with ${left} operation(s) left`);
}

/**
 * Runs one style's sim check.
 * @param style - the style's name, for the result.
 * @param options - seed, sizes, faults.
 * @param listen - listens with the style's server on the simulated server host.
 * @param makeClient - builds client `index`'s protocol, which fills in `tally`; `reactor` is the
 *   client host (for its clock).
 * @returns the result; a server that would not listen or a run that got stuck is a violation.
 */
export async function runSimStyle(
  style: StyleName,
  options: SimCheckOptions,
  listen: (reactor: Reactor, endpoint: string) => Deferred<ListeningPort>,
  makeClient: (index: number, tally: SimTally, reactor: Reactor) => Protocol,
): Promise<SimCheckResult> {
  const net = new SimNetwork({ seed: options.seed, maxSteps: SIM_CHECK_MAX_STEPS });
  const server = net.host(SIM_SERVER_ADDRESS);
  const client = net.host(SIM_CLIENT_ADDRESS);
  const tally = new SimTally();
  listen(server, `tcp:${SIM_PORT}`).addErrback((error: unknown) => {
    tally.violation(`listen failed: ${String(error)}`);
  });
  for (let i = 0; i < options.connections; i++) {
    const factory = new ClientFactory();
    factory.buildProtocol = () => makeClient(i, tally, client);
    client.connect(`tcp:${SIM_SERVER_ADDRESS}:${SIM_PORT}:timeout=30`, factory).addErrback((error: unknown) => {
      if (options.faults) tally.lostToFaults += options.operations;
      else tally.violation(`client ${i}: connect failed: ${String(error)}`);
    });
  }
  if (options.faults) {
    // Resets of random client connections while the operations run (one round trip is 2 ms).
    const resets = Math.max(1, Math.floor(options.connections / 3));
    for (let r = 0; r < resets; r++) net.at(net.random.int(1, Math.max(2, options.operations * 2)), { kind: "reset", host: SIM_CLIENT_ADDRESS });
  }
  try {
    await net.runUntilIdle();
  } catch (error) {
    tally.violation(`the simulation failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const accounted = tally.operations + tally.lostToFaults;
  const expected = options.connections * options.operations;
  if (accounted !== expected && tally.violations.length === 0) {
    tally.violation(`${expected} operations expected, ${tally.operations} completed and ${tally.lostToFaults} lost to faults`);
  }
  return { style, operations: tally.operations, lostToFaults: tally.lostToFaults, violations: tally.violations, virtualMs: net.now() };
}
