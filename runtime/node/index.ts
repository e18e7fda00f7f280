/**
 * The Node.js reactor: the only part of wirelab that touches `node:net`, `node:tls`,
 * `node:dgram` and real timers.
 *
 * - `node-reactor.ts`: `NodeReactor`, the `Reactor` over real sockets and timers.
 * - `tcp-transport.ts`: `TcpTransport`, the `Transport` of TCP, TLS and unix connections.
 * - `tcp-port.ts`, `tcp-connector.ts`, `udp-port.ts`: listening ports, connectors, UDP.
 * - `map-socket-error.ts`: Node error codes to wirelab's typed errors.
 * - `peer-address.ts`, `load-pem.ts`: the peer address for `buildProtocol`; key material.
 *
 * @module
 */

export { NodeReactor, DEFAULT_HIGH_WATER_MARK } from "./node-reactor.js";
export type { NodeReactorOptions } from "./node-reactor.js";
export { NodeDelayedCall, MAX_TIMER_MS } from "./node-delayed-call.js";
export { TcpTransport } from "./tcp-transport.js";
export { TcpPort } from "./tcp-port.js";
export { TcpConnector } from "./tcp-connector.js";
export { UdpPort } from "./udp-port.js";
export { mapConnectError, mapConnectionLostError } from "./map-socket-error.js";
