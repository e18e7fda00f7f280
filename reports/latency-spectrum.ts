/**
 * Latency spectra from HDR histograms: the histograms of every run of a point are decoded and
 * merged (adding counts, which is exact for HDR histograms), so percentiles are of all requests of
 * all runs, not averages of percentiles.
 *
 * @module
 */

import * as hdr from "hdr-histogram-js";

/** The percentiles of a spectrum, in display order. */
export const SPECTRUM_PERCENTILES: readonly { readonly label: string; readonly percentile: number }[] = [
  { label: "p50", percentile: 50 },
  { label: "p75", percentile: 75 },
  { label: "p90", percentile: 90 },
  { label: "p99", percentile: 99 },
  { label: "p99.9", percentile: 99.9 },
  { label: "p99.99", percentile: 99.99 },
  { label: "max", percentile: 100 },
];

/** One percentile of a merged histogram, in µs. */
export interface SpectrumValue {
  readonly label: string;
  readonly percentile: number;
  readonly valueUs: number;
}

/** The merged latency distribution of several runs. */
export interface LatencySpectrum {
  /** Requests recorded, over all runs merged. */
  readonly count: number;
  /** Runs merged. */
  readonly runs: number;
  readonly values: readonly SpectrumValue[];
}

/**
 * Decodes and merges HDR histograms and reads their percentile spectrum.
 *
 * @param encoded - Histograms as `encodeIntoCompressedBase64` wrote them.
 * @returns The spectrum, or `undefined` when nothing was given or nothing was recorded.
 * @throws Error from hdr-histogram-js when a histogram cannot be decoded.
 */
export function mergeHistograms(encoded: readonly string[]): LatencySpectrum | undefined {
  if (encoded.length === 0) return undefined;
  const merged = hdr.build({ useWebAssembly: false, autoResize: true, numberOfSignificantValueDigits: 3 });
  try {
    for (const text of encoded) {
      const h = hdr.decodeFromCompressedBase64(text, 32, false);
      try {
        merged.add(h);
      } finally {
        h.destroy();
      }
    }
    if (merged.totalCount === 0) return undefined;
    const max = merged.maxValue;
    // A percentile is reported as the top of its HDR bucket, which can overshoot the largest value
    // recorded; clamp so the spectrum never rises above its own max.
    const values = SPECTRUM_PERCENTILES.map(({ label, percentile }) => ({
      label,
      percentile,
      valueUs: percentile === 100 ? max : Math.min(merged.getValueAtPercentile(percentile), max),
    }));
    return { count: merged.totalCount, runs: encoded.length, values };
  } finally {
    merged.destroy();
  }
}
