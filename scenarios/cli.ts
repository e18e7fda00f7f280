/**
 * `wirelab`: the command line.
 *
 * ```
 * wirelab bench [SCENARIO ...] [--styles callback,async,baseline] [--connections 1,10,100,1000]
 *               [--duration 5s] [--warmup 1s] [--repeat 3] [--rate N] [--sim] [--workers N]
 *               [--load wirelab|autocannon] [--out DIR] [--no-report]
 * wirelab list
 * wirelab serve SCENARIO --style STYLE --port PORT [--host 127.0.0.1]
 * wirelab report RESULTS.json ... --out DIR
 * ```
 *
 * Exit codes: 0 done; 1 a run failed (a point failed, or an invariant was violated in --sim);
 * 2 a bad command line (the message names the option).
 *
 * @module
 */

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { InvalidOptionError } from "../runtime/errors.js";
import { parseBenchArgs, parseServeArgs } from "./cli-options.js";
import { createProgress } from "./progress.js";
import { SCENARIOS } from "./registry.js";
import { runBench } from "./runner.js";
import type { ServerModule } from "./scenario.js";
import { DEFAULT_PEER_PYTHON } from "./scenario.js";
import { peerUnavailable } from "./server-under-test.js";

/** The usage text. */
export const USAGE = `usage:
  wirelab bench [SCENARIO ...] [options]   run a sweep, write DIR/results.json (and the report)
  wirelab list                             list scenarios and their styles
  wirelab serve SCENARIO --style STYLE --port PORT [--host H]
                                           run one server alone until SIGINT/SIGTERM
  wirelab report RESULTS.json ... --out DIR
                                           write report.md and report.html from results

bench options:
  --styles LIST        styles to run (callback,async,baseline,raw,twisted,tornado); default: all
  --connections LIST   connection counts, e.g. 1,10,100,1000; SCENARIO=LIST for one scenario
                       (repeatable); default: each scenario's own (1,10,100,1000; idle-hold 1000,10000)
  --duration D         measured window per point (300ms, 5s, 2m; a bare number is seconds); default 5s
  --warmup D           warm-up before each window; default 1s
  --repeat N           repeats per point; default 3
  --rate N             open loop: N operations/s over all connections (latency from intended send time)
  --sim                run the sim checks on SimNetwork instead (chunking, resets, invariants)
  --workers N          load worker processes; default: cores - 1 (at least 1)
  --load G             load generator: wirelab (default) or autocannon (HTTP scenarios)
  --timeout D          an operation unanswered this long is a timeout; default 10s
  --host H             loopback address servers listen on; default 127.0.0.1
  --seed N             first seed of --sim runs; default 1
  --server-cpu-prof DIR  run Node servers with --cpu-prof, profiles in DIR
  --load-cpu-prof DIR    run load workers with --cpu-prof, profiles in DIR
  --no-pin             do not pin the server to CPU 0 and the load to the other CPUs
  --out DIR            output folder; default results/<timestamp> (and results/latest)
  --no-report          do not write the report after the results`;

/** Where the CLI writes; injectable for tests. */
export interface CliIo {
  readonly log: (line: string) => void;
  readonly error: (line: string) => void;
}

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-");
}

async function bench(argv: readonly string[], io: CliIo): Promise<number> {
  const command = ["wirelab", "bench", ...argv].join(" ");
  const { options, out, report } = parseBenchArgs(argv, command);
  const dir = path.resolve(out ?? path.join(REPO_ROOT, "results", timestamp()));
  mkdirSync(dir, { recursive: true });
  const results = await runBench(options, createProgress(process.stderr));
  const file = path.join(dir, "results.json");
  writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
  if (out === null) {
    const latest = path.join(REPO_ROOT, "results", "latest");
    rmSync(latest, { force: true, recursive: false });
    symlinkSync(path.basename(dir), latest);
  }
  io.log(file);
  const failed = results.points.filter((p) => p.failure !== undefined).length;
  if (report && results.points.length > 0) {
    const reportCli = new URL("../reports/cli.ts", import.meta.url);
    if (existsSync(fileURLToPath(reportCli))) {
      const mod = (await import(reportCli.href)) as { main: (argv: string[], io: CliIo) => Promise<number> };
      const code = await mod.main([file, "--out", dir], io);
      if (code !== 0) io.error(`wirelab bench: the report failed (exit ${code}); the results are in ${file}`);
    } else io.error("wirelab bench: reports/cli.ts is not there yet; no report written");
  }
  if (failed > 0) {
    io.error(`wirelab bench: ${failed} point(s) failed (see "failure" in ${file})`);
    return 1;
  }
  return 0;
}

function list(io: CliIo): number {
  for (const s of SCENARIOS) {
    io.log(`${s.name}: ${s.summary}`);
    io.log(`  one operation: ${s.operation}${s.autocannon === undefined ? "" : "; loads: wirelab, autocannon"}`);
    const width = Math.max(9, ...Object.keys(s.styles).map((name) => name.length));
    for (const [name, style] of Object.entries(s.styles)) {
      const why = style.kind === "peer" ? peerUnavailable(style) : null;
      io.log(`  ${name.padEnd(width)} ${style.description}${why === null ? "" : ` (unavailable: ${why})`}`);
    }
  }
  return 0;
}

async function serve(argv: readonly string[], io: CliIo): Promise<number> {
  const { scenario, style, host, port } = parseServeArgs(argv);
  const spec = scenario.styles[style]!;
  if (spec.kind === "peer") {
    const why = peerUnavailable(spec);
    if (why !== null) {
      io.error(`wirelab serve: ${scenario.name}/${style} is unavailable: ${why}`);
      return 1;
    }
    const child = spawn(spec.python ?? DEFAULT_PEER_PYTHON, [spec.script, "--host", host, "--port", String(port)], { stdio: "inherit" });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    return new Promise((resolve) => {
      child.on("exit", (code) => resolve(code ?? 0));
    });
  }
  const mod = (await import(spec.module)) as ServerModule;
  const server = await mod.start({ host, port });
  io.log(`${scenario.name}/${style} listening on ${host}:${server.port}`);
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
        return await bench(rest, io);
      case "list":
        return list(io);
      case "serve":
        return await serve(rest, io);
      case "report": {
        const reportCli = new URL("../reports/cli.ts", import.meta.url);
        const mod = (await import(reportCli.href)) as { main: (argv: string[], io: CliIo) => Promise<number> };
        return await mod.main([...rest], io);
      }
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

const entry = process.argv[1];
if (entry !== undefined && path.resolve(entry) === fileURLToPath(import.meta.url)) {
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
