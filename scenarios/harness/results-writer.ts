/**
 * The "write" stage of a sweep: the results object (provenance, the sweep, what each scenario
 * declared, the points) and its file, `DIR/results.json`, in the format `reports/results.ts`
 * defines.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Environment, Parameters, ResultPoint, Results, ScenarioInfo } from "../../reports/results.js";
import { RESULTS_SCHEMA_VERSION } from "../../reports/results.js";
import type { PlannedScenario } from "./plan.js";
import { styleKind } from "./scenario.js";

const PACKAGE_ROOT = new URL(import.meta.url.endsWith(".ts") ? "../../" : "../../../", import.meta.url);

function wirelabVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("package.json", PACKAGE_ROOT), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/**
 * The commit of wirelab when it runs from a git checkout (`-dirty` with changes), else its
 * package version (`wirelab@0.1.0`).
 * @returns the commit or version.
 */
export function wirelabCommit(): string {
  try {
    const cwd = PACKAGE_ROOT;
    const top = execFileSync("git", ["rev-parse", "--show-toplevel"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    // An installed package inside someone else's repository is not a checkout of wirelab.
    if (path.resolve(top) !== path.resolve(fileURLToPath(PACKAGE_ROOT))) throw new Error("not wirelab's checkout");
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return dirty === "" ? head : `${head}-dirty`;
  } catch {
    return `wirelab@${wirelabVersion()}`;
  }
}

/**
 * Describes the machine and the run.
 * @param command - the command line.
 * @param peers - versions of the peers that ran.
 * @returns the environment.
 */
export function describeEnvironment(command: string, peers: Readonly<Record<string, string>>): Environment {
  const cpus = os.cpus();
  return {
    nodeVersion: process.version,
    cpuModel: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
    commit: wirelabCommit(),
    command,
    startedAt: new Date().toISOString(),
    peers,
  };
}

/**
 * What a planned scenario declares in the results: its styles that ran (in declared order) and
 * its comparisons between them.
 * @param planned - the scenario as planned.
 * @returns its entry.
 */
export function scenarioInfo(planned: PlannedScenario): ScenarioInfo {
  const s = planned.loaded.scenario;
  const ran = new Set(planned.styles.map((st) => st.name));
  const styles = planned.styles.map((st) => {
    if (st.run === "target") return { name: st.name, description: `${st.target.host}:${st.target.port}${st.target.pid === undefined ? "" : ` (pid ${st.target.pid})`}`, runsOn: "target" as const };
    return { name: st.name, ...(st.style.description === undefined ? {} : { description: st.style.description }), runsOn: styleKind(st.style) };
  });
  const comparisons = s.compare.filter(([a, b]) => ran.has(a) && ran.has(b)).map(([subject, reference]) => ({ subject, reference }));
  return { name: s.name, summary: s.summary, operation: s.operation, kind: s.kind, styles, comparisons };
}

/**
 * Assembles the results object.
 * @param environment - the provenance.
 * @param parameters - the sweep as asked.
 * @param scenarios - the planned scenarios.
 * @param points - every point, in the order made.
 * @returns the results.
 */
export function assembleResults(environment: Environment, parameters: Parameters, scenarios: readonly PlannedScenario[], points: readonly ResultPoint[]): Results {
  return { schemaVersion: RESULTS_SCHEMA_VERSION, environment, parameters, scenarios: scenarios.map(scenarioInfo), points };
}

/**
 * Writes `DIR/results.json` (creating DIR), and with `latest` links `PARENT/latest` to DIR.
 * @param results - the results.
 * @param dir - the folder.
 * @param latest - whether to point `latest` (beside DIR) at it.
 * @returns the file's path.
 */
export function writeResultsFile(results: Results, dir: string, latest = false): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "results.json");
  writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
  if (latest) {
    const link = path.join(path.dirname(dir), "latest");
    rmSync(link, { force: true, recursive: false });
    symlinkSync(path.basename(dir), link);
  }
  return file;
}
