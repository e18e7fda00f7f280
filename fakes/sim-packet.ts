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
import type { ConnectionEnd, EventErrorSite, EventHost } from "./sim-scheduler.js";

/** What a packet needs from the simulated network it crosses. */
export interface PacketWorld {
  /** The packet's time has come: deliver it, or park it on a blocked link. */
  packetArrived(packet: SimPacket): void;
}

/** What a {@link SimPacket} carries. */
export type SimPacketBody =
  | { readonly kind: "syn"; readonly attempt: SimConnectAttempt }
  | { readonly kind: "refuse"; readonly attempt: SimConnectAttempt }
  | { readonly kind: "dnsFail"; readonly attempt: SimConnectAttempt }
  | { readonly kind: "peerReset"; readonly transport: MemoryTransport; readonly connectionId: number; readonly side: 0 | 1; readonly to: EventHost }
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
  /** @internal The connection end whose code its delivery runs (a reset's), if any. */
  owner: ConnectionEnd | null = null;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    private readonly net: PacketWorld,
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

  /** @internal */
  errorSite(): EventErrorSite {
    const body = this.body;
    switch (body.kind) {
      case "syn":
        return { host: body.attempt.target, where: "accepting a connection" };
      case "refuse":
      case "dnsFail":
        return { host: body.attempt.host, where: "a failed connection attempt" };
      case "peerReset":
        return { host: body.to, where: "connectionLost" };
      case "datagram":
        return { host: body.to, where: "datagramReceived" };
      case "boot":
        return { host: body.host, where: `the boot function of ${body.host.address}` };
      case "fault":
        return { host: null, where: "a fault" };
    }
  }
}
