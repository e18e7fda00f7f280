/**
 * Spawning the benchmark's Node children (server child, load workers): TypeScript through tsx,
 * an IPC channel, and the descriptor limit raised to the hard cap first.
 *
 * @module
 */

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** What to run and how. */
export interface SpawnNodeOptions {
  /** Extra Node flags, e.g. `--expose-gc`, `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  /** Arguments after the script. */
  readonly args?: readonly string[];
  /** CPUs to run on (`taskset -c` syntax, e.g. `0` or `1-3`); absent: anywhere. */
  readonly cpus?: string;
}

/**
 * Spawns `node --import tsx SCRIPT ARGS` with an IPC channel, through `bash -c 'ulimit -n …;
 * exec …'` so that the child may open as many descriptors as the hard limit allows (Node
 * cannot raise its own), and through `taskset` when `cpus` is given. `exec` (and taskset's own
 * exec) keeps the PID, so `/proc/PID` is the Node process's.
 * @param script - the entry module's URL.
 * @param options - flags and arguments.
 * @returns the child; stdout and stderr are inherited.
 */
export function spawnNode(script: string, options: SpawnNodeOptions = {}): ChildProcess {
  const tsx = import.meta.resolve("tsx");
  const node = [process.execPath, ...(options.nodeFlags ?? []), "--import", tsx, fileURLToPath(script), ...(options.args ?? [])];
  const argv = options.cpus === undefined ? node : ["taskset", "-c", options.cpus, ...node];
  return spawn("bash", ["-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', "bash", ...argv], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}
