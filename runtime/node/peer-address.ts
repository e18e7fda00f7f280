/**
 * Reads a connected socket's remote and local addresses without leaving a copy on the socket.
 *
 * @module
 */

import type { Socket } from "node:net";

import type { Address } from "../protocol.js";

/** The slice of Node's native TCP handle used here: each fills `out`, and returns 0 on success. */
interface PeerNameHandle {
  getpeername?(out: { address?: string; port?: number }): number;
  getsockname?(out: { address?: string; port?: number }): number;
}

/**
 * The remote TCP address of `socket`, for `buildProtocol`.
 *
 * `socket.remoteAddress` caches the peer name on the socket for the socket's whole life, about
 * 100 bytes per connection that a server which never asks for it again pays for nothing; so
 * this asks the native handle directly (what `remoteAddress` does underneath) and only falls
 * back to the cached getters when the handle does not offer `getpeername`.
 *
 * @param socket - a connected TCP or TLS socket.
 * @returns a fresh `Address`; host `""` and port 0 when the socket has no peer any more.
 */
export function tcpPeerAddress(socket: Socket): Address {
  const handle = (socket as unknown as { _handle?: PeerNameHandle | null })._handle;
  if (handle?.getpeername !== undefined) {
    const out: { address?: string; port?: number } = {};
    if (handle.getpeername(out) === 0) return { type: "tcp", host: out.address ?? "", port: out.port ?? 0 };
  }
  return { type: "tcp", host: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
}

/**
 * The local TCP address of `socket`, read from the native handle as {@link tcpPeerAddress}
 * reads the remote one (nothing is cached on the socket).
 *
 * @param socket - a connected TCP or TLS socket.
 * @returns a fresh `Address`; host `""` and port 0 when the socket is closed.
 */
export function tcpLocalAddress(socket: Socket): Address {
  const handle = (socket as unknown as { _handle?: PeerNameHandle | null })._handle;
  if (handle?.getsockname !== undefined) {
    const out: { address?: string; port?: number } = {};
    if (handle.getsockname(out) === 0) return { type: "tcp", host: out.address ?? "", port: out.port ?? 0 };
  }
  return { type: "tcp", host: socket.localAddress ?? "", port: socket.localPort ?? 0 };
}
