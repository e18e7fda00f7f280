/**
 * The `Date` header: IMF-fixdate formatting (RFC 9110 §5.6.7) and a per-second cache of the
 * formatted header line, read from an injected clock.
 *
 * @module
 */

import type { Clock } from "../../reactor.js";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Formats a time as an HTTP date, such as `Sun, 06 Nov 1994 08:49:37 GMT`.
 * @param ms - milliseconds since the Unix epoch (from a `Clock`, never read from the system here).
 * @returns the IMF-fixdate text.
 */
export function formatHttpDate(ms: number): string {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  const y = year < 1000 ? String(year).padStart(4, "0") : String(year);
  return (
    `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${y} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`
  );
}

/**
 * The `Date: ...\r\n` header line for the current second, formatted once per second however
 * many responses use it. One per server, shared by its connections.
 */
export class HttpDateCache {
  private second = Number.NaN;
  private cached = "";

  /** @param clock - where the time comes from (the reactor, or a fake clock in tests). */
  constructor(private readonly clock: Clock) {}

  /**
   * The header line for a time already read from the clock, so a caller that needs `now()`
   * for something else (a timeout) reads the clock once.
   * @param now - milliseconds, from this cache's clock.
   * @returns `Date: <IMF-fixdate>\r\n`.
   */
  lineAt(now: number): string {
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.cached = `Date: ${formatHttpDate(second * 1000)}\r\n`;
    }
    return this.cached;
  }

  /**
   * The header line for the clock's current time.
   * @returns `Date: <IMF-fixdate>\r\n`.
   */
  line(): string {
    return this.lineAt(this.clock.now());
  }
}
