/**
 * WebSocket masking (RFC 6455 section 5.3), shared by the frame parser and the frame writer.
 *
 * @module
 */

/**
 * XORs `buf[start, start + n)` in place with a WebSocket masking key (RFC 6455 section 5.3);
 * masking and unmasking are the same operation.
 *
 * @param buf - the bytes to (un)mask, changed in place.
 * @param start - where the payload piece starts in `buf`.
 * @param n - how many bytes to (un)mask.
 * @param mask - the 4-byte masking key.
 * @param phase - the piece's offset within the frame's payload, which picks the key byte.
 */
export function applyMask(buf: Uint8Array, start: number, n: number, mask: Uint8Array, phase: number): void {
  const m0 = mask[0] ?? 0;
  const m1 = mask[1] ?? 0;
  const m2 = mask[2] ?? 0;
  const m3 = mask[3] ?? 0;
  const m = [m0, m1, m2, m3];
  let i = 0;
  // Bring the phase to 0, then go four bytes at a time.
  for (; i < n && ((phase + i) & 3) !== 0; i++) buf[start + i] = (buf[start + i] ?? 0) ^ (m[(phase + i) & 3] ?? 0);
  const stop = n - 3;
  for (; i < stop; i += 4) {
    const at = start + i;
    buf[at] = (buf[at] ?? 0) ^ m0;
    buf[at + 1] = (buf[at + 1] ?? 0) ^ m1;
    buf[at + 2] = (buf[at + 2] ?? 0) ^ m2;
    buf[at + 3] = (buf[at + 3] ?? 0) ^ m3;
  }
  for (; i < n; i++) buf[start + i] = (buf[start + i] ?? 0) ^ (m[(phase + i) & 3] ?? 0);
}

