/**
 * `SimPacket`: a one-off event of a simulated network: a SYN, a refusal, a reset sent to the
 * peer of a crashed host, a UDP datagram, a fault, a host's boot. (The bytes of an established
 * connection travel in its pipes instead, one queued event per direction.)
 *
 * @module
 */

import type { MemoryTransport } from "./loopback.js";
import type { SimConnectAttempt } from "./sim-connection.js";
import type { SimFault } from "./sim-faults.js";
import type { SimHost } from "./sim-host.js";
import type { SimUDPPort } from "./sim-host.js";
import type { SimLink } from "./sim-link.js";
import { SimEvent } from "./sim-scheduler.js";
import type { SimNetwork } from "./simulation.js";

/** What a {@link SimPacket} carries. */
export type SimPacketBody =
  | { readonly kind: "syn"; readonly attempt: SimConnectAttempt }
  | { readonly kind: "refuse"; readonly attempt: SimConnectAttempt }
  | { readonly kind: "dnsFail"; readonly attempt: SimConnectAttempt }
  | { readonly kind: "peerReset"; readonly transport: MemoryTransport; readonly connectionId: number; readonly side: 0 | 1; readonly to: SimHost }
  | {
      readonly kind: "datagram";
      readonly from: SimUDPPort;
      readonly fromAddress: string;
      readonly to: SimHost;
      readonly toAddress: string;
      readonly port: number;
      readonly data: Uint8Array;
    }
  | { readonly kind: "fault"; readonly fault: SimFault }
  | { readonly kind: "boot"; readonly host: SimHost; readonly incarnation: number };

/** One scheduled one-off event; `link` is the link it crosses, if any (it waits while held). */
export class SimPacket extends SimEvent {
  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    private readonly net: SimNetwork,
    /** What it carries. */
    readonly body: SimPacketBody,
    /** The link it crosses, or null for local events. */
    readonly link: SimLink | null,
  ) {
    super();
  }

  /** @internal */
  fire(): void {
    this.net.packetArrived(this);
  }

  /** @internal */
  describe(): string {
    return `${this.body.kind} packet`;
  }
}
