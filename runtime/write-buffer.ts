/**
 * The bounds on a transport's write buffer, written once for every transport: `NodeReactor`'s
 * and the fakes' (`connectPair`, `MemoryReactor`, `SimNetwork`).
 *
 * `write` never refuses data, so a peer that stops reading makes the writer's buffer grow for
 * as long as its protocol writes. Three mechanisms bound it:
 *
 * - **A registered producer** is paused once the buffer passes `highWaterMark` and resumed
 *   when it drains (Twisted's producer/consumer; the async face and the HTTP and WebSocket
 *   protocols register one).
 * - **With no producer registered**, a connection stops reading while its buffer is past
 *   `highWaterMark`, and reads again once it drains (`pauseReadsOnFullBuffer`). That bounds
 *   every protocol that writes in answer to what it reads (an echo, a proxy, request and
 *   response) with nothing lost, as Node's `stream.pipe` pauses its source. It cannot bound
 *   writes made for other reasons (a timer, a broadcast from another connection), and two
 *   peers that both write far past the mark without reading would wait on each other, so by
 *   default only accepted connections do it: a server is what a stranger can flood, and a
 *   client's writes are its own program's.
 * - **`maxWriteBufferSize`** is the hard stop for the rest: a write that leaves more than that
 *   buffered aborts the connection, whose `connectionLost` gets `WriteBufferOverflowError`.
 *   Its default (64 MiB) is far above anything a protocol that respects backpressure holds
 *   and above any single message wirelab's own limits admit (16 MiB WebSocket messages and
 *   HTTP client bodies), so it only ends connections that would otherwise grow until the
 *   process dies; set it lower where connections are many and messages small.
 *
 * For comparison: Twisted and Node buffer without bound unless the program registers a
 * producer or heeds `write()` returning false (and `pipe` pauses its source); Tornado's
 * `IOStream` has `max_write_buffer_size`, unbounded by default, past which a write raises
 * `StreamBufferFullError` and closes the stream. `pauseReadsOnFullBuffer: "none"` and
 * `maxWriteBufferSize: Infinity` give Twisted's and Node's behaviour back.
 *
 * @module
 */

import { InvalidOptionError } from "./errors.js";

/** The default `highWaterMark` of every transport: 64 KiB of buffered outgoing bytes. */
export const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

/** The default `maxWriteBufferSize`: 64 MiB buffered on one connection aborts it. */
export const DEFAULT_MAX_WRITE_BUFFER_SIZE = 64 * 1024 * 1024;

/**
 * Which connections stop reading while their write buffer is past its high-water mark and no
 * producer is registered: the ones a port `"accepted"`, `"all"` (outgoing ones too), or
 * `"none"`.
 */
export type ReadPausePolicy = "accepted" | "all" | "none";

/** The default `pauseReadsOnFullBuffer`: accepted connections only. */
export const DEFAULT_PAUSE_READS_ON_FULL_BUFFER: ReadPausePolicy = "accepted";

/** Write-buffer options of a reactor (or of a fake network or pair); see the module doc. */
export interface WriteBufferOptions {
  /**
   * Buffered outgoing bytes past which a registered push producer is paused, and a
   * connection without one stops reading (see `pauseReadsOnFullBuffer`).
   * @defaultValue {@link DEFAULT_HIGH_WATER_MARK} (65536)
   */
  highWaterMark?: number;
  /**
   * Buffered outgoing bytes past which a write aborts the connection with
   * `WriteBufferOverflowError`; at least `highWaterMark`, or `Infinity` for no limit.
   * @defaultValue {@link DEFAULT_MAX_WRITE_BUFFER_SIZE} (64 MiB)
   */
  maxWriteBufferSize?: number;
  /**
   * Which connections stop reading while their buffer is past `highWaterMark` and no producer
   * is registered, until it drains.
   * @defaultValue {@link DEFAULT_PAUSE_READS_ON_FULL_BUFFER} ("accepted")
   */
  pauseReadsOnFullBuffer?: ReadPausePolicy;
}

/** What one transport applies, resolved from {@link WriteBufferOptions} for its side. */
export interface TransportWriteLimits {
  /** See {@link WriteBufferOptions.maxWriteBufferSize}. */
  readonly maxWriteBufferSize: number;
  /** Whether this transport stops reading while its buffer is full and no producer is registered. */
  readonly pauseReadsWhenFull: boolean;
}

/**
 * Checks `maxWriteBufferSize` and `pauseReadsOnFullBuffer` and applies their defaults.
 *
 * @param options - the options given.
 * @param highWaterMark - the high-water mark in force (already checked by the caller).
 * @returns the maximum buffer size and the policy.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming the option out of bounds.
 */
export function writeBufferPolicy(
  options: WriteBufferOptions,
  highWaterMark: number,
): { readonly maxWriteBufferSize: number; readonly pauseReadsOnFullBuffer: ReadPausePolicy } {
  const max = options.maxWriteBufferSize ?? DEFAULT_MAX_WRITE_BUFFER_SIZE;
  if (!(max === Infinity || (Number.isSafeInteger(max) && max >= highWaterMark && max >= 1))) {
    throw new InvalidOptionError("maxWriteBufferSize", `must be an integer >= highWaterMark (${highWaterMark}) or Infinity, got ${String(max)}`);
  }
  const policy = options.pauseReadsOnFullBuffer ?? DEFAULT_PAUSE_READS_ON_FULL_BUFFER;
  if (policy !== "accepted" && policy !== "all" && policy !== "none") {
    throw new InvalidOptionError("pauseReadsOnFullBuffer", `must be "accepted", "all" or "none", got ${JSON.stringify(policy)}`);
  }
  return { maxWriteBufferSize: max, pauseReadsOnFullBuffer: policy };
}

/**
 * The limits one transport applies.
 *
 * @param policy - the resolved options (see {@link writeBufferPolicy}).
 * @param accepted - true for a connection a port accepted, false for one this side opened.
 * @returns the transport's limits.
 */
export function transportWriteLimits(
  policy: { readonly maxWriteBufferSize: number; readonly pauseReadsOnFullBuffer: ReadPausePolicy },
  accepted: boolean,
): TransportWriteLimits {
  const mode = policy.pauseReadsOnFullBuffer;
  return { maxWriteBufferSize: policy.maxWriteBufferSize, pauseReadsWhenFull: mode === "all" || (mode === "accepted" && accepted) };
}
