/**
 * The tcp-echo payload: 64 bytes whose pattern changes along the buffer, so that a shifted,
 * truncated or mixed-up echo does not compare equal.
 *
 * @module
 */

/** Bytes in one echo operation. */
export const ECHO_PAYLOAD_SIZE = 64;

/**
 * Builds an echo payload.
 * @param seed - varies the pattern (connection and operation numbers in the sim check).
 * @param size - its length.
 * @returns the bytes.
 */
export function echoPayload(seed = 0, size: number = ECHO_PAYLOAD_SIZE): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (seed * 31 + i * 7 + 1) % 251;
  return bytes;
}
