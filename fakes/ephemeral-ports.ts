/**
 * `EphemeralPorts`: the port numbers a fake reactor hands out for port 0 and for the local end
 * of its connections, one allocator for `MemoryReactor` and `SimHost`.
 *
 * @module
 */

import { CannotListenError, InvalidOptionError } from "../runtime/errors.js";

/** The first port handed out for port 0: the start of the IANA ephemeral range (RFC 6335). */
export const FIRST_EPHEMERAL_PORT = 49152;

/**
 * Hands out ports from `first` upward, wrapping back to `first` after 65535 and skipping the
 * ones in use, as a kernel walks its ephemeral range.
 */
export class EphemeralPorts {
  private next: number;

  /**
   * @param first - the first port handed out, 1 to 65535.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`, option `firstEphemeralPort`) otherwise.
   */
  constructor(readonly first: number = FIRST_EPHEMERAL_PORT) {
    if (!Number.isInteger(first) || first < 1 || first > 65535) {
      throw new InvalidOptionError("firstEphemeralPort", `must be a port number, got ${first}`);
    }
    this.next = first;
  }

  /**
   * The next port for which `inUse` is false.
   *
   * @param inUse - whether a port is taken in the port space asked for.
   * @param where - names the host in the error.
   * @throws CannotListenError (`WL_ERR_CANNOT_LISTEN`, `EADDRNOTAVAIL`) when every port from
   *   `first` to 65535 is taken.
   */
  take(inUse: (port: number) => boolean, where = ""): number {
    for (let tries = 65536 - this.first; tries > 0; tries--) {
      const port = this.next;
      this.next = port >= 65535 ? this.first : port + 1;
      if (!inUse(port)) return port;
    }
    throw new CannotListenError("EADDRNOTAVAIL", `no ephemeral port is free${where === "" ? "" : ` on ${where}`}`);
  }
}
