/**
 * `wirelab`: the command line.
 *
 * ```
 * wirelab bench [SCENARIO|PATH ...] [options]     (wirelab bench --help)
 * wirelab list [SCENARIO|PATH ...]
 * wirelab serve SCENARIO|PATH --style STYLE --port PORT [--host 127.0.0.1]
 * wirelab report RESULTS.json ... [--baseline OLD.json [--fail-on-regression 5%]] --out DIR
 * ```
 *
 * Exit codes: 0 done; 1 a run failed (a point failed, or an invariant was violated in --sim);
 * 2 a bad command line or scenario (the message names the option, the file or the style);
 * 3 (`wirelab report --fail-on-regression`) a figure regressed.
 *
 * @module
 */

import { spawn } from "node:child_process";
import * as path from "node:path";
import type * as ReportCli from "../../reports/cli.js";
import { InvalidOptionError } from "../../runtime/errors.js";
import { bench } from "./runner.js";
import { BENCH_USAGE, LIST_USAGE, SERVE_USAGE, parseBenchArgs, parseListArgs, parseServeArgs } from "./cli-options.js";
import { BUILTIN_SCENARIOS, loadScenarios } from "./load-scenario.js";
import { SERVER_DID_NOT_START } from "./point.js";
import { createProgress } from "./progress.js";
import { writeResultsFile } from "./results-writer.js";
import { styleKind } from "./scenario.js";
import type { CommandStyle } from "./scenario.js";
import { commandUnavailable } from "./server-under-test.js";
import { startStyle } from "./start-style.js";

/** The usage text. */
export const USAGE = `usage: wirelab COMMAND [options]

  wirelab bench [SCENARIO|PATH ...]   run scenarios, write DIR/results.json and the report
  wirelab list [SCENARIO|PATH ...]    list scenarios and their styles
  wirelab serve SCENARIO|PATH --style STYLE --port PORT
                                      run one server alone until SIGINT/SIGTERM
  wirelab report RESULTS.json ... [--baseline OLD.json [--fail-on-regression 5%]] --out DIR
                                      write report.md and report.html from results; with
                                      --fail-on-regression, exit 3 on a regression

A SCENARIO is a built-in name (${BUILTIN_SCENARIOS.join(", ")}); a PATH is a scenario module
(.js, or .ts with tsx installed). \`wirelab COMMAND --help\` shows a command's options.`;

/** Where the CLI writes; injectable for tests. */
export interface CliIo {
  readonly log: (line: string) => void;
  readonly error: (line: string) => void;
}

// The report (and the chart libraries it loads) is imported only when a report is written.
const loadReportCli = (): Promise<typeof ReportCli> => import("../../reports/cli.js");

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-");
}

async function benchCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const command = ["wirelab", "bench", ...argv].join(" ");
  const parsed = parseBenchArgs(argv, command);
  if (parsed === "help") {
    io.log(BENCH_USAGE);
    return 0;
  }
  const { options, out, report } = parsed;
  const results = await bench({ ...options, progress: createProgress(process.stderr) });
  const dir = path.resolve(out ?? path.join("results", timestamp()));
  const file = writeResultsFile(results, dir, out === null);
  io.log(file);
  if (report && results.points.length > 0) {
    const code = await (await loadReportCli()).main([file, "--out", dir], io);
    if (code !== 0) io.error(`wirelab bench: the report failed (exit ${code}); the results are in ${file}`);
  }
  const failed = results.points.filter((p) => p.failure !== undefined);
  if (failed.length === 0) return 0;
  io.error(`wirelab bench: ${failed.length} point(s) failed (see "failure" in ${file})`);
  // A style that throws when it starts is a bad scenario, like a bad option: exit 2.
  return failed.some((p) => p.failure!.startsWith(SERVER_DID_NOT_START)) ? 2 : 1;
}

async function listCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const refs = parseListArgs(argv);
  if (refs === "help") {
    io.log(LIST_USAGE);
    return 0;
  }
  for (const { scenario: s, url } of await loadScenarios(refs.length === 0 ? BUILTIN_SCENARIOS : refs)) {
    io.log(`${s.name}: ${s.summary}`);
    io.log(`  one operation: ${s.operation}`);
    io.log(`  module: ${url}`);
    const loads = [s.generator === undefined ? null : "generator", "client", s.autocannon === undefined ? null : "autocannon"].filter((x) => x !== null);
    io.log(`  loads: ${loads.join(", ")}${s.generator === undefined ? "" : " (generator by default)"}`);
    const width = Math.max(9, ...s.styles.map((style) => style.name.length));
    for (const style of s.styles) {
      const kind = styleKind(style);
      const why = kind === "command" ? commandUnavailable(style as CommandStyle) : null;
      const where = kind === "wirelab" ? "wirelab, also --sim" : kind === "node" ? "raw Node" : "command";
      io.log(`  ${style.name.padEnd(width)} ${style.description ?? ""} [${where}]${why === null ? "" : ` (unavailable: ${why})`}`);
    }
    if (s.compare.length > 0) io.log(`  compares: ${s.compare.map(([a, b]) => `${a} vs ${b}`).join(", ")}`);
  }
  return 0;
}

async function serveCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseServeArgs(argv);
  if (parsed === "help") {
    io.log(SERVE_USAGE);
    return 0;
  }
  const { scenario: ref, style: styleName, host, port } = parsed;
  const [loaded] = await loadScenarios([ref]);
  const scenario = loaded!.scenario;
  const style = scenario.styles.find((s) => s.name === styleName);
  if (style === undefined) throw new InvalidOptionError("--style", `${scenario.name} has no style ${styleName} (it has ${scenario.styles.map((s) => s.name).join(", ")})`);
  if (styleKind(style) === "command") {
    const command = style as CommandStyle;
    const why = commandUnavailable(command);
    if (why !== null) {
      io.error(`wirelab serve: ${scenario.name}/${styleName} is unavailable: ${why}`);
      return 1;
    }
    const argvOut = command.command.map((a) => a.replaceAll("{host}", host).replaceAll("{port}", String(port)));
    const child = spawn(argvOut[0]!, argvOut.slice(1), { stdio: "inherit" });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    return new Promise((resolve) => {
      child.on("exit", (code) => resolve(code ?? 0));
    });
  }
  const server = await startStyle(style, { host, port });
  // The first line is what command styles print, so `wirelab serve` can itself be one.
  io.log(`listening on ${server.port}`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await server.close();
  return 0;
}

/**
 * Runs the CLI.
 * @param argv - the arguments after the program name.
 * @param io - where to print.
 * @returns the exit code.
 */
export async function main(argv: readonly string[], io: CliIo = console): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "bench":
        return await benchCommand(rest, io);
      case "list":
        return await listCommand(rest, io);
      case "serve":
        return await serveCommand(rest, io);
      case "report":
        return await (await loadReportCli()).main([...rest], io);
      case undefined:
      case "-h":
      case "--help":
      case "help":
        io.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new InvalidOptionError("command", `unknown command ${JSON.stringify(command)}; expected bench, list, serve or report`);
    }
  } catch (error) {
    if (error instanceof InvalidOptionError) {
      io.error(`wirelab: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
