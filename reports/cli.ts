/**
 * `wirelab report`: the command line face of the reports.
 *
 * ```
 * wirelab report DIR/results.json [MORE.json ...] [--baseline OTHER.json ...] [--slo-p99 MS] --out DIR
 * ```
 *
 * writes `DIR/report.md`, `DIR/report.html` and `DIR/charts/*.svg`, and prints the paths of the
 * two reports. The `wirelab` bin dispatches `wirelab report ...` to {@link main}; this file can
 * also be run directly (`npx tsx reports/cli.ts ...`).
 *
 * @module
 */

import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ReportError, ReportUsageError } from "./errors.js";
import { gateLines } from "./regression-gate.js";
import { writeReport } from "./write-report.js";

/** The usage text. */
export const USAGE = `usage: wirelab report RESULTS.json [MORE.json ...] [--baseline OTHER.json]... [--fail-on-regression PCT] [--slo-p99 MS] --out DIR

Writes DIR/report.md and DIR/report.html (self-contained, inline SVG charts) from benchmark results.
Several results files are pooled: runs of the same point count as repeats, their histograms merged.
Artillery's --output files of runs with the wirelab engine are read too, all of them merged into one run.

  --baseline FILE   a baseline run to compare against (repeatable)
  --fail-on-regression PCT
                    exit 3 when a figure got worse than the baseline's by PCT (e.g. 5%) with
                    significance; prints a GitHub ::error line per regression and a summary
  --slo-p99 MS      report the largest connection count whose p99 stays under MS milliseconds
  --out DIR         output folder (created if missing)
  -h, --help        this text`;

/** Parsed `wirelab report` arguments. */
export interface ReportArguments {
  readonly results: readonly string[];
  readonly baseline: readonly string[];
  readonly out: string;
  readonly sloP99Ms?: number;
  /** The gate's threshold as a fraction (0.05). */
  readonly failOnRegression?: number;
}

/**
 * Parses `wirelab report` arguments (without the `report` word).
 *
 * @param argv - The arguments.
 * @returns The parsed arguments, or `"help"`.
 * @throws {@link ReportUsageError} `WL_ERR_REPORT_USAGE` naming the bad argument.
 */
export function parseReportArguments(argv: readonly string[]): ReportArguments | "help" {
  const results: string[] = [];
  const baseline: string[] = [];
  let out: string | undefined;
  let slo: number | undefined;
  let gate: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inlineValue] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inlineValue ?? argv[++i];
      if (v === undefined || v === "") throw new ReportUsageError(`${flag} needs a value\n\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case "-h":
      case "--help":
        return "help";
      case "--out":
        out = value();
        break;
      case "--baseline":
        baseline.push(value());
        break;
      case "--slo-p99": {
        const text = value();
        const ms = Number(text);
        if (!Number.isFinite(ms) || ms <= 0) throw new ReportUsageError(`--slo-p99 must be a positive number of milliseconds, got ${JSON.stringify(text)}`);
        slo = ms;
        break;
      }
      case "--fail-on-regression":
        gate = parsePercent(flag, value());
        break;
      default:
        if (flag.startsWith("-")) throw new ReportUsageError(`unknown option ${flag}\n\n${USAGE}`);
        results.push(arg);
    }
  }
  if (results.length === 0) throw new ReportUsageError(`no results file given\n\n${USAGE}`);
  if (out === undefined) throw new ReportUsageError(`--out DIR is required\n\n${USAGE}`);
  if (gate !== undefined && baseline.length === 0) throw new ReportUsageError("--fail-on-regression needs a --baseline to compare with");
  return { results, baseline, out, ...(slo === undefined ? {} : { sloP99Ms: slo }), ...(gate === undefined ? {} : { failOnRegression: gate }) };
}

/**
 * Parses a percentage: `5%` or `5` (percent), `0.5%`; within (0, 100).
 *
 * @param flag - The option, for the error.
 * @param text - The value.
 * @returns The fraction (0.05 for 5%).
 * @throws {@link ReportUsageError} `WL_ERR_REPORT_USAGE` otherwise.
 */
export function parsePercent(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  const pct = m === null ? NaN : Number(m[1]);
  if (!(pct > 0 && pct < 100)) throw new ReportUsageError(`${flag} must be a percentage in (0, 100), such as 5%, got ${JSON.stringify(text)}`);
  return pct / 100;
}

/** Where {@link main} writes; injectable for tests. */
export interface ReportConsole {
  readonly log: (line: string) => void;
  readonly error: (line: string) => void;
}

/**
 * Runs `wirelab report`.
 *
 * @param argv - The arguments after `report`.
 * @param io - Where to print. @defaultValue the process console
 * @returns The exit code: 0 on success, 2 on a usage error, 1 when the results cannot be read or
 *   the report cannot be written, 3 when the regression gate failed (the report is written).
 */
export async function main(argv: string[], io: ReportConsole = console): Promise<number> {
  let args: ReportArguments | "help";
  try {
    args = parseReportArguments(argv);
  } catch (error) {
    if (error instanceof ReportUsageError) {
      io.error(`wirelab report: ${error.message}`);
      return 2;
    }
    throw error;
  }
  if (args === "help") {
    io.log(USAGE);
    return 0;
  }
  try {
    const written = await writeReport({
      results: args.results,
      ...(args.baseline.length > 0 ? { baseline: args.baseline } : {}),
      out: args.out,
      ...(args.sloP99Ms === undefined ? {} : { sloP99Ms: args.sloP99Ms }),
      ...(args.failOnRegression === undefined ? {} : { failOnRegression: args.failOnRegression }),
      reportCommand: ["wirelab", "report", ...argv].join(" "),
    });
    io.log(written.markdown);
    io.log(written.html);
    if (written.chartsUnavailable !== undefined) io.error(`wirelab report: no charts: ${written.chartsUnavailable}`);
    if (written.gate !== undefined) {
      for (const line of gateLines(written.gate)) io.log(line);
      if (written.gate.regressions.length > 0) return 3;
    }
    return 0;
  } catch (error) {
    const code = error instanceof ReportError ? ` [${error.code}]` : "";
    io.error(`wirelab report: ${error instanceof Error ? error.message : String(error)}${code}`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
