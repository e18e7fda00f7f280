/**
 * Spreading load connections over several loopback source addresses, so that a run can hold
 * more connections than one address's ephemeral port range, and so that `TIME_WAIT` sockets of
 * earlier points do not starve later ones.
 *
 * @module
 */

import type { ConnectTarget } from "./tcp-load-client.js";

/**
 * Connections per source address before another address is added: most of one address's
 * ephemeral port range (32768–60999 by default). Below it the OS chooses the source, which is
 * much cheaper: binding a source address first makes Linux search for a free port per bind
 * (Node does not set `IP_BIND_ADDRESS_NO_PORT`), which grows quadratic with held connections.
 */
export const DEFAULT_CONNECTIONS_PER_SOURCE_ADDRESS = 25_000;

/** The loopback addresses handed out, in order: 127.0.0.2, 127.0.0.3, ... (127.0.0.1 is the server's). */
export const SOURCE_ADDRESS_PREFIX = "127.0.0.";

/** The most source addresses handed out. */
export const MAX_SOURCE_ADDRESSES = 200;

/**
 * The source addresses for a run of `connections` connections to a loopback server.
 * @param connections - connections over all workers.
 * @param host - the server's address; non-loopback servers get no source addresses.
 * @param perAddress - connections per address.
 * @returns the addresses; empty when one address (the OS's choice) is enough.
 */
export function sourceAddressesFor(connections: number, host: string, perAddress: number = DEFAULT_CONNECTIONS_PER_SOURCE_ADDRESS): string[] {
  if (!host.startsWith("127.")) return [];
  const count = Math.min(MAX_SOURCE_ADDRESSES, Math.ceil(connections / perAddress));
  if (count <= 1) return [];
  return Array.from({ length: count }, (_, i) => `${SOURCE_ADDRESS_PREFIX}${i + 2}`);
}

/**
 * Where connection `index` (over all workers) connects from.
 * @param host - the server's address.
 * @param port - the server's port.
 * @param sourceAddresses - from {@link sourceAddressesFor}.
 * @param index - the connection's index over all workers.
 * @returns its target.
 */
export function targetFor(host: string, port: number, sourceAddresses: readonly string[], index: number): ConnectTarget {
  const localAddress = sourceAddresses.length === 0 ? undefined : sourceAddresses[index % sourceAddresses.length];
  return localAddress === undefined ? { host, port } : { host, port, localAddress };
}
