/**
 * The "plan" stage of a sweep: scenarios × styles × connection counts × repeats, with every style
 * that cannot run here left out and said why (a command whose check fails, a Node style whose
 * package is missing, a style `--sim` cannot simulate, a scenario autocannon cannot load).
 *
 * @module
 */

import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { InvalidOptionError } from "../../runtime/errors.js";
import type { LoadChoice, SweepOptions } from "./bench-options.js";
import { connectionsFor } from "./bench-options.js";
import type { LoadedScenario } from "./load-scenario.js";
import type { LoadKind } from "./load/load-worker.js";
import type { CommandStyle, NodeStyle, ServerStyle } from "./scenario.js";
import { styleKind } from "./scenario.js";
import type { TargetSpec } from "./server-under-test.js";

/** Connections per sim point at most (the sim is a correctness check, not a load). */
export const SIM_MAX_CONNECTIONS = 100;
import { commandUnavailable, commandVersion } from "./server-under-test.js";

/** One style of a planned scenario, and how it runs. */
export type PlannedStyle =
  | { readonly name: string; readonly run: "child"; readonly style: ServerStyle }
  | { readonly name: string; readonly run: "command"; readonly style: CommandStyle }
  | { readonly name: string; readonly run: "sim"; readonly style: ServerStyle }
  | { readonly name: string; readonly run: "target"; readonly target: TargetSpec };

/** One scenario of a plan. */
export interface PlannedScenario {
  readonly loaded: LoadedScenario;
  readonly styles: readonly PlannedStyle[];
  readonly connections: readonly number[];
  /** The load its workers make (`sim` in sim runs). */
  readonly load: LoadKind | "sim";
}

/** A sweep's plan. */
export interface Plan {
  readonly scenarios: readonly PlannedScenario[];
  /** What was left out, and why: one line each, for the user. */
  readonly notes: readonly string[];
  /** Versions of the command styles that will run, by style name. */
  readonly peers: Readonly<Record<string, string>>;
  /** Points the plan will make. */
  readonly total: number;
}

function missingPackage(style: NodeStyle, scenarioUrl: string): string | null {
  if (!scenarioUrl.startsWith("file:")) return null;
  const require = createRequire(fileURLToPath(scenarioUrl));
  for (const name of style.requires ?? []) {
    try {
      require.resolve(`${name}/package.json`);
    } catch {
      try {
        require.resolve(name);
      } catch {
        return `the package ${name} is not installed (npm install --save-dev ${name})`;
      }
    }
  }
  return null;
}

function loadFor(choice: LoadChoice | null, loaded: LoadedScenario, notes: string[]): LoadKind {
  const s = loaded.scenario;
  if (choice === null) return s.generator === undefined ? "client" : "generator";
  if (choice === "generator" && s.generator === undefined) {
    notes.push(`${s.name} has no generator: its client workload makes the load`);
    return "client";
  }
  return choice;
}

/**
 * Plans a sweep.
 * @param sweep - the validated options it needs: what to run, where, how often.
 * @param scenarios - the loaded scenarios, in order.
 * @returns the plan.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when `--connections` names a scenario not in
 *   the sweep.
 */
export function planSweep(sweep: Pick<SweepOptions, "connections" | "targets" | "styles" | "sim" | "load" | "repeat">, scenarios: readonly LoadedScenario[]): Plan {
  for (const name of sweep.connections.keys()) {
    if (name !== "*" && !scenarios.some((l) => l.scenario.name === name)) {
      throw new InvalidOptionError("--connections", `names a scenario that is not in the sweep: ${JSON.stringify(name)} (the sweep has ${scenarios.map((l) => l.scenario.name).join(", ")})`);
    }
  }
  const notes: string[] = [];
  const peers: Record<string, string> = {};
  const planned: PlannedScenario[] = [];
  for (const loaded of scenarios) {
    const s = loaded.scenario;
    // The sim is a correctness check, not a load: its counts stop at SIM_MAX_CONNECTIONS, each once.
    const counts = connectionsFor(sweep, s);
    const connections = sweep.sim ? [...new Set(counts.map((c) => Math.min(c, SIM_MAX_CONNECTIONS)))] : counts;
    if (sweep.targets.length > 0) {
      planned.push({ loaded, styles: sweep.targets.map((target) => ({ name: target.name, run: "target", target })), connections, load: loadFor(sweep.load, loaded, notes) });
      continue;
    }
    if (sweep.styles !== null) {
      const missing = sweep.styles.filter((name) => !s.styles.some((st) => st.name === name));
      if (missing.length > 0) notes.push(`${s.name} has no style ${missing.join(", ")}`);
    }
    const wanted = s.styles.filter((st) => sweep.styles === null || sweep.styles.includes(st.name));
    const styles: PlannedStyle[] = [];
    const load = sweep.sim ? "sim" : loadFor(sweep.load, loaded, notes);
    if (load === "autocannon") {
      try {
        createRequire(import.meta.url).resolve("autocannon");
      } catch {
        throw new InvalidOptionError("--load", "autocannon is an optional peer dependency that is not installed (npm install --save-dev autocannon)");
      }
    }
    if (load === "autocannon" && s.autocannon === undefined) {
      notes.push(`skipping ${s.name}: autocannon loads HTTP scenarios only`);
      continue;
    }
    for (const style of wanted) {
      const name = `${s.name}/${style.name}`;
      const kind = styleKind(style);
      if (sweep.sim) {
        if (kind === "wirelab") styles.push({ name: style.name, run: "sim", style });
        else notes.push(`skipping ${name} in --sim: ${kind === "node" ? "it needs raw Node" : "it is an outside program"}, so it runs on real sockets only`);
        continue;
      }
      if (kind === "command") {
        const why = commandUnavailable(style as CommandStyle);
        if (why !== null) {
          notes.push(`skipping ${name}: ${why}`);
          continue;
        }
        peers[style.name] ??= commandVersion(style as CommandStyle);
        styles.push({ name: style.name, run: "command", style: style as CommandStyle });
        continue;
      }
      if (kind === "node") {
        const why = missingPackage(style as NodeStyle, loaded.url);
        if (why !== null) {
          notes.push(`skipping ${name}: ${why}`);
          continue;
        }
      }
      styles.push({ name: style.name, run: "child", style });
    }
    planned.push({ loaded, styles, connections, load });
  }
  const total = planned.reduce((n, p) => n + p.styles.length * p.connections.length * sweep.repeat, 0);
  return { scenarios: planned, notes, peers, total };
}
