/**
 * Progress output of `wirelab bench`: a bar redrawn in place on a terminal, one plain line per
 * point otherwise (CI logs).
 *
 * @module
 */

import type { BenchProgress } from "./runner.js";
import type { ResultPoint } from "../../reports/results.js";

/** Width of the bar, in characters. */
export const PROGRESS_BAR_WIDTH = 24;

/**
 * One line describing a finished point.
 * @param point - the point.
 * @returns e.g. `tcp-echo/callback c=100 #0: 41,200 ops/s p99 3,100 µs server 97% client 88%`.
 */
export function describePoint(point: ResultPoint): string {
  const head = `${point.scenario}/${point.style} c=${point.connections} #${point.repeat}`;
  if (point.failure !== undefined) return `${head}: FAILED ${point.failure}`;
  const n = (x: number): string => Math.round(x).toLocaleString("en-US");
  if (point.mode === "sim") {
    return `${head} (sim, seed ${point.extra?.["seed"] ?? "?"}): ${n(point.operations)} operations checked in ${n(point.durationMs)} virtual ms, ${n(point.extra?.["lostToFaults"] ?? 0)} lost to resets, invariants hold`;
  }
  const idle = point.extra?.["bytesPerConnection"];
  if (idle !== undefined) {
    // An idle window has no operations: memory and what was held are its figures.
    const heap = point.extra?.["heapBytesPerConnection"];
    return `${head}: held ${n(point.extra?.["heldConnections"] ?? 0)}, ${n(idle)} B/conn${heap === undefined ? "" : ` (heap ${n(heap)} B)`}, server ${point.serverCpuPercent === null ? "cpu unknown" : `${n(point.serverCpuPercent)}% cpu`}`;
  }
  const parts = [`${n(point.throughput)} ops/s`, `p99 ${n(point.latencyUs.p99)} µs`];
  if (point.mode === "real") {
    if (point.serverCpuPercent === null || point.serverCpuUsPerOp === null) parts.push("server cpu unknown");
    else parts.push(`server ${n(point.serverCpuPercent)}% cpu, ${point.operations > 0 ? `${point.serverCpuUsPerOp.toFixed(1)} µs/op` : "no operations"}`);
    parts.push(`client ${n(point.clientCpuPercent)}%`);
  }
  const bad = point.errors + point.timeouts + point.mismatches;
  if (bad > 0) parts.push(`errors ${point.errors}, timeouts ${point.timeouts}, mismatches ${point.mismatches}`);
  if (point.generatorSaturated) parts.push("GENERATOR SATURATED");
  return `${head}: ${parts.join(", ")}`;
}

/**
 * Builds the progress reporter for a stream.
 * @param out - where to write (stderr, so that stdout stays for results paths).
 * @returns the reporter.
 */
export function createProgress(out: NodeJS.WriteStream): BenchProgress {
  const tty = out.isTTY;
  let total = 0;
  let done = 0;
  const bar = (label: string): void => {
    const filled = total === 0 ? 0 : Math.round((done / total) * PROGRESS_BAR_WIDTH);
    const line = `[${"#".repeat(filled)}${" ".repeat(PROGRESS_BAR_WIDTH - filled)}] ${done}/${total} ${label}`;
    out.write(`\r\x1b[2K${line.slice(0, (out.columns || 120) - 1)}`);
  };
  return {
    begin(n) {
      total = n;
      if (tty) bar("starting");
      else out.write(`wirelab bench: ${n} points\n`);
    },
    point(point) {
      done++;
      if (tty) {
        out.write(`\r\x1b[2K${describePoint(point)}\n`);
        bar("");
        if (done === total) out.write("\r\x1b[2K");
      } else out.write(`[${done}/${total}] ${describePoint(point)}\n`);
    },
    note(text) {
      if (tty) out.write(`\r\x1b[2K${text}\n`);
      else out.write(`${text}\n`);
      if (tty && done < total) bar("");
    },
  };
}
