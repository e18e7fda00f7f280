/**
 * Latency histograms: HDR histograms in microseconds (hdr-histogram-js, pure-JS build), their
 * percentile summaries and their serialised form in results files.
 *
 * @module
 */

import * as hdr from "hdr-histogram-js";
import type { Histogram } from "hdr-histogram-js";
import type { LatencySummary } from "../../../reports/results.js";

/**
 * The largest latency a histogram tracks without resizing: 60 s in µs. Larger values still
 * record (the histogram auto-resizes); this only sizes the first allocation.
 */
export const DEFAULT_HIGHEST_TRACKABLE_US = 60_000_000;

/** Significant decimal digits kept: 3 gives 0.1% resolution at every magnitude. */
export const HISTOGRAM_SIGNIFICANT_DIGITS = 3;

/**
 * Makes an empty latency histogram (µs, 1 µs to 60 s at 3 significant digits, pure JS).
 * @returns the histogram.
 */
export function createLatencyHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: DEFAULT_HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: HISTOGRAM_SIGNIFICANT_DIGITS,
    autoResize: true,
    useWebAssembly: false,
  });
}

/**
 * Records one latency, rounding to whole µs and clamping to at least 1 µs (HDR histograms hold
 * positive integers; a sub-µs round trip is below the timer's meaning anyway).
 * @param histogram - where to record.
 * @param us - the latency in µs.
 */
export function recordLatency(histogram: Histogram, us: number): void {
  histogram.recordValue(us < 1 ? 1 : Math.round(us));
}

/**
 * The percentiles a results point carries.
 * @param histogram - the latencies, in µs.
 * @returns p50, p90, p99, p99.9 and max in µs; all 0 for an empty histogram.
 */
export function summarize(histogram: Histogram): LatencySummary {
  if (histogram.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p99: histogram.getValueAtPercentile(99),
    p999: histogram.getValueAtPercentile(99.9),
    max: histogram.maxValue,
  };
}

/**
 * Serialises a histogram for a results file.
 * @param histogram - the histogram.
 * @returns its `encodeIntoCompressedBase64` form.
 */
export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/**
 * Reads back a serialised histogram.
 * @param encoded - what {@link encodeHistogram} returned.
 * @returns the histogram (pure JS).
 */
export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

/**
 * Merges serialised histograms (the workers of one point, or repeats), without averaging
 * percentiles.
 * @param encoded - the serialised histograms.
 * @returns one histogram holding every value.
 */
export function mergeHistograms(encoded: readonly string[]): Histogram {
  const total = createLatencyHistogram();
  for (const e of encoded) total.add(decodeHistogram(e));
  return total;
}
