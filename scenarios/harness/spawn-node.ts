/**
 * Spawning the benchmark's Node children (server child, load workers): an IPC channel, the
 * descriptor limit raised to the hard cap first, and the same way of loading wirelab as the
 * parent: from the package, compiled JavaScript; from a checkout's sources, TypeScript through
 * tsx with the `wirelab-source` condition (so that `import "wirelab/bench"` in a scenario finds
 * the sources, see package.json `exports`).
 *
 * @module
 */

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** True when this process runs wirelab from its TypeScript sources (a checkout), not from dist/. */
export const RUNNING_FROM_SOURCE = import.meta.url.endsWith(".ts");

/**
 * The URL of a harness module next to this one, in whichever form this process runs.
 * @param name - the module's name without extension, e.g. `server-process`, `load/load-worker`.
 * @returns its URL.
 */
export function harnessModule(name: string): string {
  return new URL(`./${name}${RUNNING_FROM_SOURCE ? ".ts" : ".js"}`, import.meta.url).href;
}

/** The Node flags that load wirelab the way this process does (see the module's doc). */
export function wirelabNodeFlags(): string[] {
  return RUNNING_FROM_SOURCE ? ["--conditions=wirelab-source", "--import", import.meta.resolve("tsx")] : [];
}

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
 * Spawns `node SCRIPT ARGS` with an IPC channel, through `bash -c 'ulimit -n …;
 * exec …'` so that the child may open as many descriptors as the hard limit allows (Node
 * cannot raise its own), and through `taskset` when `cpus` is given. `exec` (and taskset's own
 * exec) keeps the PID, so `/proc/PID` is the Node process's.
 * @param script - the entry module's URL.
 * @param options - flags and arguments.
 * @returns the child; stdout and stderr are inherited.
 */
export function spawnNode(script: string, options: SpawnNodeOptions = {}): ChildProcess {
  const node = [process.execPath, ...wirelabNodeFlags(), ...(options.nodeFlags ?? []), fileURLToPath(script), ...(options.args ?? [])];
  const argv = options.cpus === undefined ? node : ["taskset", "-c", options.cpus, ...node];
  return spawn("bash", ["-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', "bash", ...argv], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}
