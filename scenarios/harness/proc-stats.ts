/**
 * A server process's CPU time and resident memory, for any server under test (Node or not, one
 * the harness started or one given with `--server-pid`), read with pidusage.
 *
 * pidusage reads what `/proc/PID/stat` says on Linux (utime + stime, at one clock tick's
 * resolution; RSS pages × page size, which is `VmRSS`), and asks `ps` on macOS and the BSDs, so
 * the figures also exist where there is no `/proc`. Its `ctime` is the cumulative CPU time the
 * windows subtract; its per-call `cpu` percentage is not used.
 *
 * @module
 */

import pidusage from "pidusage";

/** A process's counters at one moment. */
export interface ProcSample {
  /** User + system CPU time, in µs (resolution: one clock tick, 10 ms on Linux). */
  readonly cpuUs: number;
  /** Resident set size, in bytes. */
  readonly rssBytes: number;
}

/**
 * Samples a process.
 * @param pid - the process.
 * @returns its CPU time and RSS, or null when it cannot be read (gone, or not ours to read).
 */
export async function sampleProcess(pid: number): Promise<ProcSample | null> {
  try {
    const s = await pidusage(pid);
    return { cpuUs: s.ctime * 1000, rssBytes: s.memory };
  } catch {
    return null;
  }
}

/** Forgets every process sampled so far (pidusage keeps their `/proc` files open between calls). */
export function forgetProcesses(): void {
  pidusage.clear();
}
