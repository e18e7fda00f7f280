/**
 * The framing protocols: lines, netstrings and length-prefixed strings, with Twisted's names,
 * limits and hooks.
 *
 * - `framing-receiver.ts`: `FramingReceiver`, the base: never throws, final first error,
 *   pausing, closing.
 * - `line-receiver.ts`: `LineReceiver` (lines and raw mode).
 * - `line-only-receiver.ts`: `LineOnlyReceiver` (lines only, leaner).
 * - `netstring-receiver.ts`: `NetstringReceiver`.
 * - `int-n-string-receiver.ts`: `Int8StringReceiver`, `Int16StringReceiver`,
 *   `Int32StringReceiver` and their base `IntNStringReceiver`.
 * - `line-splitter.ts`: the delimiter search shared by the line receivers (internal).
 *
 * @module
 */

export { FramingReceiver, SEND_COPY_THRESHOLD } from "./framing-receiver.js";
export { LineReceiver, DEFAULT_LINE_DELIMITER, DEFAULT_LINE_MAX_LENGTH } from "./line-receiver.js";
export { LineOnlyReceiver } from "./line-only-receiver.js";
export { NetstringReceiver, DEFAULT_NETSTRING_MAX_LENGTH } from "./netstring-receiver.js";
export {
  IntNStringReceiver,
  Int8StringReceiver,
  Int16StringReceiver,
  Int32StringReceiver,
  DEFAULT_INT_STRING_MAX_LENGTH,
} from "./int-n-string-receiver.js";
export type { PrefixLength } from "./int-n-string-receiver.js";
