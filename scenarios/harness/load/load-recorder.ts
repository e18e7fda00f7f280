/**
 * `LoadRecorder`: the {@link Recorder} of one load worker: counters and latency histograms that
 * only count inside the measured window.
 *
 * @module
 */

import type { Histogram } from "hdr-histogram-js";
import type { Recorder } from "../scenario.js";
import { createLatencyHistogram, encodeHistogram, recordLatency } from "./histogram.js";

/** What one worker measured in one window. */
export interface WorkerCounts {
  /** Operations completed correctly. */
  readonly operations: number;
  /** Failed operations. */
  readonly errors: number;
  /** Operations with no answer within the timeout. */
  readonly timeouts: number;
  /** Wrong answers. */
  readonly mismatches: number;
  /** The latency histogram (µs), encoded. */
  readonly histogram: string;
  /** Open-loop: the uncorrected histogram, encoded; absent when nothing was recorded in it. */
  readonly uncorrectedHistogram?: string;
}

/**
 * Counts operations and records latencies between `begin()` and `end()`; anything recorded
 * outside that window (warm-up, drain) is dropped, so workloads record unconditionally.
 */
export class LoadRecorder implements Recorder {
  /** True inside the measured window. */
  measuring = false;
  private histogram: Histogram = createLatencyHistogram();
  private uncorrected: Histogram = createLatencyHistogram();
  private operations = 0;
  private errors = 0;
  private timeouts = 0;
  private mismatches = 0;

  /** {@inheritDoc Recorder.success} */
  success(latencyUs: number, uncorrectedUs?: number): void {
    if (!this.measuring) return;
    this.operations++;
    recordLatency(this.histogram, latencyUs);
    if (uncorrectedUs !== undefined) recordLatency(this.uncorrected, uncorrectedUs);
  }

  /** {@inheritDoc Recorder.error} */
  error(): void {
    if (this.measuring) this.errors++;
  }

  /** {@inheritDoc Recorder.timeout} */
  timeout(): void {
    if (this.measuring) this.timeouts++;
  }

  /** {@inheritDoc Recorder.mismatch} */
  mismatch(): void {
    if (this.measuring) this.mismatches++;
  }

  /** Starts the measured window: clears every counter and histogram. */
  begin(): void {
    this.histogram = createLatencyHistogram();
    this.uncorrected = createLatencyHistogram();
    this.operations = this.errors = this.timeouts = this.mismatches = 0;
    this.measuring = true;
  }

  /** Counts again, keeping what was counted (for a workload's `finalCheck`). */
  resume(): void {
    this.measuring = true;
  }

  /** Ends the measured window; later records are dropped. */
  end(): void {
    this.measuring = false;
  }

  /**
   * What the window measured.
   * @returns the counters and encoded histograms.
   */
  counts(): WorkerCounts {
    const base = {
      operations: this.operations,
      errors: this.errors,
      timeouts: this.timeouts,
      mismatches: this.mismatches,
      histogram: encodeHistogram(this.histogram),
    };
    return this.uncorrected.totalCount > 0 ? { ...base, uncorrectedHistogram: encodeHistogram(this.uncorrected) } : base;
  }
}
