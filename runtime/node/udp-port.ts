/**
 * `UdpPort`: a bound UDP socket of `NodeReactor`, the transport of a `DatagramProtocol`.
 *
 * @module
 */

import * as dgram from "node:dgram";
import { isIPv6 } from "node:net";

import { Deferred, succeed } from "../deferred.js";
import { CannotListenError, InvalidOptionError } from "../errors.js";
import type { Address, DatagramProtocol } from "../protocol.js";
import { DEFAULT_MAX_PACKET_SIZE } from "../reactor.js";
import type { DatagramTransport, UDPOptions } from "../reactor.js";
import { errnoOf } from "./map-socket-error.js";
import type { NodeReactor } from "./node-reactor.js";

/**
 * A UDP port delivering datagrams to a `DatagramProtocol`.
 *
 * Send errors (an unresolvable host, for instance) are reported through the reactor's error
 * hook: UDP has no connection to fail. Datagrams longer than `maxPacketSize` are dropped.
 */
export class UdpPort implements DatagramTransport {
  private open = false;
  private host: Address;
  private closing: Deferred<void> | null = null;
  /** @internal Abandons the bind in progress (set until the port is bound or fails). */
  opening: (() => void) | null = null;

  /** Made by wirelab itself, never by users (kept in the published types: a stripped constructor would read as a public `new()`). */
  constructor(
    private readonly reactor: NodeReactor,
    private readonly socket: dgram.Socket,
    private readonly protocol: DatagramProtocol,
    iface: string,
    port: number,
    private readonly maxPacketSize: number,
  ) {
    this.host = { type: "udp", host: iface, port };
  }

  /**
   * @internal Binds the port.
   *
   * @returns a Deferred of the port, failing with CannotListenError (`WL_ERR_CANNOT_LISTEN`),
   *   or InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad `maxPacketSize`.
   */
  static open(reactor: NodeReactor, port: number, protocol: DatagramProtocol, options: UDPOptions): Deferred<DatagramTransport> {
    const d = new Deferred<DatagramTransport>();
    const iface = options.interface ?? "0.0.0.0";
    const maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    if (!Number.isInteger(maxPacketSize) || maxPacketSize < 1) {
      d.errback(new InvalidOptionError("maxPacketSize", `must be a positive integer, got ${maxPacketSize}`));
      return d;
    }
    const socket = dgram.createSocket({ type: isIPv6(iface) ? "udp6" : "udp4" });
    const udp = new UdpPort(reactor, socket, protocol, iface, port, maxPacketSize);
    const giveUp = (error: Error): void => {
      socket.removeListener("listening", onListening);
      socket.removeListener("error", onBindError);
      // A failed bind may have closed the socket already; a second close() would throw.
      try {
        socket.close();
      } catch {
        // already closed
      }
      udp.opening = null;
      reactor.removeUdpPort(udp);
      d.errback(error);
    };
    const onBindError = (error: Error): void => {
      giveUp(new CannotListenError(errnoOf(error), `cannot bind UDP ${iface}:${port}: ${error.message}`, { cause: error }));
    };
    udp.opening = () => {
      giveUp(new CannotListenError("ECANCELED", `stopped binding UDP ${iface}:${port}: the reactor shut down`));
    };
    const onListening = (): void => {
      udp.opening = null;
      socket.removeListener("error", onBindError);
      socket.on("error", (error) => {
        reactor.reportError("a UDP port", error);
      });
      socket.on("message", (data, rinfo) => {
        udp.received(data, rinfo);
      });
      udp.started();
      d.callback(udp);
    };
    socket.once("error", onBindError);
    socket.once("listening", onListening);
    reactor.addUdpPort(udp);
    socket.bind(port, iface);
    return d;
  }

  /** Sends one datagram to `addr`; ignored once the port is closed. */
  write(data: Uint8Array | string, addr: { host: string; port: number }): void {
    if (!this.open) return;
    this.socket.send(data, addr.port, addr.host);
  }

  getHost(): Address {
    return this.host;
  }

  stopListening(): Deferred<void> {
    if (this.opening !== null) {
      // Still binding: abandon it (its Deferred fails); there is nothing else to close.
      this.opening();
      return succeed(undefined);
    }
    if (this.closing !== null) return this.closing;
    if (!this.open) return succeed(undefined);
    this.open = false;
    this.reactor.removeUdpPort(this);
    const d = new Deferred<void>();
    this.closing = d;
    this.socket.close(() => {
      try {
        this.protocol.stopProtocol();
      } catch (error) {
        this.reactor.reportError("stopProtocol", error);
      }
      d.callback(undefined);
    });
    return d;
  }

  /** @internal */
  received(data: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!this.open || data.length > this.maxPacketSize) return;
    try {
      this.protocol.datagramReceived(data, { type: "udp", host: rinfo.address, port: rinfo.port });
    } catch (error) {
      this.reactor.reportError("datagramReceived", error);
    }
  }

  private started(): void {
    this.open = true;
    const address = this.socket.address();
    this.host = { type: "udp", host: address.address, port: address.port };
    this.reactor.addUdpPort(this);
    try {
      this.protocol.makeConnection(this);
    } catch (error) {
      this.reactor.reportError("startProtocol", error);
    }
  }
}
