/**
 * Latency models of a simulated network's links: how long one packet or write takes one way.
 *
 * @module
 */

import { InvalidOptionError } from "../runtime/errors.js";
import type { RandomSource } from "./random.js";

/** How long a packet takes one way on a link, in milliseconds. */
export type LatencyModel =
  /** Always `ms`. */
  | { readonly kind: "fixed"; readonly ms: number }
  /** Drawn uniformly from [min, max] for each write or datagram. */
  | { readonly kind: "uniform"; readonly min: number; readonly max: number };

/** The default one-way latency of every link: a fixed 1 ms. */
export const DEFAULT_LATENCY: LatencyModel = { kind: "fixed", ms: 1 };

/**
 * @param ms - the one-way delay.
 * @returns a fixed latency model.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `ms` is negative or not finite.
 */
export function fixedLatency(ms: number): LatencyModel {
  const model: LatencyModel = { kind: "fixed", ms };
  validateLatency(model);
  return model;
}

/**
 * @param min - the smallest one-way delay.
 * @param max - the largest one-way delay.
 * @returns a model drawing each delay uniformly from [min, max] (with the simulation's seed).
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) unless 0 <= min <= max, both finite.
 */
export function uniformLatency(min: number, max: number): LatencyModel {
  const model: LatencyModel = { kind: "uniform", min, max };
  validateLatency(model);
  return model;
}

/**
 * Checks a latency model's bounds.
 *
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming the bad bound.
 */
export function validateLatency(model: LatencyModel, option = "latency"): void {
  if (model.kind === "fixed") {
    if (!(Number.isFinite(model.ms) && model.ms >= 0)) throw new InvalidOptionError(`${option}.ms`, `must be a finite number >= 0, got ${model.ms}`);
    return;
  }
  if (!(Number.isFinite(model.min) && model.min >= 0)) throw new InvalidOptionError(`${option}.min`, `must be a finite number >= 0, got ${model.min}`);
  if (!(Number.isFinite(model.max) && model.max >= model.min)) throw new InvalidOptionError(`${option}.max`, `must be a finite number >= min, got ${model.max}`);
}

/**
 * Draws one delay. A fixed model draws nothing from `random`, so adding jitter somewhere does
 * not shift the choices made elsewhere in a fixed-latency run.
 *
 * @returns the one-way delay in milliseconds.
 */
export function sampleLatency(model: LatencyModel, random: RandomSource): number {
  return model.kind === "fixed" ? model.ms : model.min + random.next() * (model.max - model.min);
}
