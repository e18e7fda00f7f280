/**
 * Reading a process's CPU time and resident memory from `/proc`, for any server under test
 * (Node or not).
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Clock ticks per second of `/proc/PID/stat` times (`getconf CLK_TCK`; 100 on Linux). */
export const CLOCK_TICKS_PER_SECOND = readClockTicks();

function readClockTicks(): number {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** A process's counters at one moment. */
export interface ProcSample {
  /** User + system CPU time, in µs (resolution: one clock tick, 10 ms). */
  readonly cpuUs: number;
  /** Resident set size, in bytes. */
  readonly rssBytes: number;
}

/**
 * Parses `/proc/PID/stat` for user + system time.
 * @param stat - the file's text.
 * @returns CPU time in clock ticks.
 * @throws Error when the text is not a stat line.
 */
export function parseStatTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const close = stat.lastIndexOf(")");
  if (close < 0) throw new Error("not a /proc/PID/stat line");
  const fields = stat.slice(close + 2).split(" ");
  // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error("no utime/stime in /proc/PID/stat");
  return utime + stime;
}

/**
 * Parses `/proc/PID/status` for `VmRSS`.
 * @param status - the file's text.
 * @returns the resident set size in bytes, or 0 when absent.
 */
export function parseStatusRss(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m === null ? 0 : Number(m[1]) * 1024;
}

/**
 * Samples a process.
 * @param pid - the process.
 * @returns its CPU time and RSS; zeros when it is gone.
 */
export function sampleProc(pid: number): ProcSample {
  try {
    const ticks = parseStatTicks(readFileSync(`/proc/${pid}/stat`, "utf8"));
    const rssBytes = parseStatusRss(readFileSync(`/proc/${pid}/status`, "utf8"));
    return { cpuUs: (ticks * 1e6) / CLOCK_TICKS_PER_SECOND, rssBytes };
  } catch {
    return { cpuUs: 0, rssBytes: 0 };
  }
}
