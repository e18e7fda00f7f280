/**
 * Number formatting shared by the Markdown and HTML reports, so both say the same thing the same
 * way: three significant figures, thousands separators, units chosen by magnitude.
 *
 * @module
 */

import type { Interval } from "./statistics.js";

/**
 * A number with about three significant figures and thousands separators.
 *
 * @param x - The number.
 * @returns E.g. `12,300`, `4.56`, `0.0123`.
 */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? "∞" : x < 0 ? "−∞" : "n/a";
  const abs = Math.abs(x);
  if (abs >= 1000) return Math.round(x).toLocaleString("en-US");
  if (abs === 0) return "0";
  const digits = Math.max(0, 2 - Math.floor(Math.log10(abs)));
  return x.toFixed(Math.min(digits, 6));
}

/**
 * A latency given in µs, in µs below 1 ms and in ms above.
 *
 * @param us - Microseconds.
 * @returns E.g. `850 µs`, `1.23 ms`.
 */
export function formatLatency(us: number): string {
  return us < 1000 ? `${formatNumber(us)} µs` : `${formatNumber(us / 1000)} ms`;
}

/**
 * A size in bytes, in B, KiB or MiB.
 *
 * @param bytes - Bytes.
 * @returns E.g. `512 B`, `3.2 KiB`.
 */
export function formatBytes(bytes: number): string {
  if (Math.abs(bytes) < 1024) return `${formatNumber(bytes)} B`;
  if (Math.abs(bytes) < 1024 * 1024) return `${formatNumber(bytes / 1024)} KiB`;
  return `${formatNumber(bytes / (1024 * 1024))} MiB`;
}

/**
 * A ratio, hyperfine style.
 *
 * @param r - The ratio.
 * @returns E.g. `1.23×`.
 */
export function formatRatio(r: number): string {
  return `${r.toFixed(2)}×`;
}

/**
 * A ratio as a signed percentage change, criterion style.
 *
 * @param r - new / old.
 * @returns E.g. `+3.10%`, `−12.0%`.
 */
export function formatChange(r: number): string {
  if (!Number.isFinite(r)) return "n/a";
  const pct = (r - 1) * 100;
  const text = Math.abs(pct) >= 10 ? Math.abs(pct).toFixed(1) : Math.abs(pct).toFixed(2);
  return `${pct < 0 ? "−" : "+"}${text}%`;
}

/**
 * An interval as `[low, high]` with a formatter.
 *
 * @param i - The interval.
 * @param f - How to format each end.
 * @returns E.g. `[1.02×, 1.10×]`.
 */
export function formatInterval(i: Interval, f: (x: number) => string): string {
  return `[${f(i.low)}, ${f(i.high)}]`;
}

/**
 * A p-value.
 *
 * @param p - The p-value.
 * @returns E.g. `p = 0.03`, `p < 0.001`.
 */
export function formatP(p: number): string {
  return p < 0.001 ? "p < 0.001" : `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`;
}

/**
 * An integer count with thousands separators.
 *
 * @param n - The count.
 * @returns E.g. `1`, `1,000`.
 */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
