import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../runtime/errors.js";
import { parseBenchArgs, parseListArgs, parseServeArgs } from "../../scenarios/harness/cli-options.js";
import type { BenchCommand, ServeCommand } from "../../scenarios/harness/cli-options.js";
import { main } from "../../scenarios/harness/cli.js";
import { DEFAULT_DURATION_MS, DEFAULT_REPEAT, DEFAULT_WARMUP_MS, connectionsFor, parseConnections, parseDuration, parseStyles, parseTarget, validateBenchOptions } from "../../scenarios/harness/bench-options.js";
import { BUILTIN_SCENARIOS, loadScenarios } from "../../scenarios/harness/load-scenario.js";

function optionError(fn: () => unknown): InvalidOptionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidOptionError) return error;
    throw error;
  }
  throw new Error("no error thrown");
}

function bench(argv: string[], command = "cmd"): BenchCommand {
  const parsed = parseBenchArgs(argv, command);
  if (parsed === "help") throw new Error("help");
  return parsed;
}

describe("parseDuration", () => {
  it("reads ms, s, m and bare seconds", () => {
    expect(parseDuration("--duration", "300ms")).toBe(300);
    expect(parseDuration("--duration", "5s")).toBe(5000);
    expect(parseDuration("--duration", "1.5s")).toBe(1500);
    expect(parseDuration("--duration", "2m")).toBe(120_000);
    expect(parseDuration("--duration", "3")).toBe(3000);
    expect(parseDuration("--warmup", "0s", true)).toBe(0);
  });

  it("names the option it rejects", () => {
    for (const bad of ["5x", "", "-1s", "s", "2h"]) {
      const e = optionError(() => parseDuration("--duration", bad));
      expect(e.option).toBe("--duration");
      expect(e.code).toBe("WL_ERR_INVALID_OPTION");
    }
    expect(optionError(() => parseDuration("--duration", "0ms")).message).toMatch(/more than 0/);
    expect(optionError(() => parseDuration("--duration", "61m")).message).toMatch(/at most 1 hour/);
  });
});

describe("parseConnections, parseStyles and parseTarget", () => {
  it("reads a list for every scenario, or SCENARIO=LIST for one", () => {
    expect(parseConnections("1,10,100")).toEqual({ scenario: "*", counts: [1, 10, 100] });
    expect(parseConnections("idle-hold=1000,10000")).toEqual({ scenario: "idle-hold", counts: [1000, 10000] });
  });

  it("rejects bad counts by name", () => {
    expect(optionError(() => parseConnections("1,x")).message).toMatch(/--connections: expected a positive integer, got "x"/);
    expect(optionError(() => parseConnections("0")).message).toMatch(/between 1 and/);
  });

  it("takes any style names, each once", () => {
    expect(parseStyles("callback,async,callback,my-style")).toEqual(["callback", "async", "my-style"]);
    expect(optionError(() => parseStyles("callback,")).option).toBe("--styles");
  });

  it("reads HOST:PORT and NAME=HOST:PORT targets", () => {
    expect(parseTarget("127.0.0.1:7000")).toEqual({ host: "127.0.0.1", port: 7000 });
    expect(parseTarget("redis=localhost:6379")).toEqual({ name: "redis", host: "localhost", port: 6379 });
    expect(parseTarget("[::1]:80")).toEqual({ host: "::1", port: 80 });
    for (const bad of ["7000", "host:", "host:99999", "a=b=c:1"]) expect(optionError(() => parseTarget(bad)).option).toBe("--target");
  });
});

describe("parseBenchArgs", () => {
  it("has the documented defaults", () => {
    const { options, out, report } = bench([]);
    const sweep = validateBenchOptions(options);
    expect(sweep.scenarios).toBeNull();
    expect(sweep.styles).toBeNull();
    expect(sweep.durationMs).toBe(DEFAULT_DURATION_MS);
    expect(sweep.warmupMs).toBe(DEFAULT_WARMUP_MS);
    expect(sweep.repeat).toBe(DEFAULT_REPEAT);
    expect(sweep.rate).toBeUndefined();
    expect(sweep.sim).toBe(false);
    expect(sweep.load).toBeNull();
    expect(sweep.host).toBe("127.0.0.1");
    expect(sweep.targets).toEqual([]);
    expect(out).toBeNull();
    expect(report).toBe(true);
    expect(connectionsFor(sweep, { name: "tcp-echo" })).toEqual([1, 10, 100, 1000]);
    expect(connectionsFor(sweep, { name: "idle-hold", defaultConnections: [1000, 10000] })).toEqual([1000, 10000]);
  });

  it("reads every option, in both --flag value and --flag=value forms", () => {
    const { options, out, report } = bench(
      ["tcp-echo", "./my-scenario.ts", "--styles=callback,raw", "--connections", "1,10", "--connections", "http-hello=100", "--duration", "300ms", "--warmup=0s", "--repeat", "2", "--rate", "5000", "--workers", "2", "--out", "/tmp/x", "--no-report", "--timeout", "2s", "--seed", "9", "--host", "127.0.0.2", "--load", "client"],
      "cmd",
    );
    const sweep = validateBenchOptions(options);
    expect(sweep.scenarios).toEqual(["tcp-echo", "./my-scenario.ts"]);
    expect(sweep.styles).toEqual(["callback", "raw"]);
    expect(connectionsFor(sweep, { name: "tcp-echo" })).toEqual([1, 10]);
    expect(connectionsFor(sweep, { name: "http-hello" })).toEqual([100]);
    expect([sweep.durationMs, sweep.warmupMs, sweep.repeat, sweep.rate, sweep.workers, sweep.timeoutMs, sweep.seed, sweep.host, sweep.load]).toEqual([300, 0, 2, 5000, 2, 2000, 9, "127.0.0.2", "client"]);
    expect(out).toBe("/tmp/x");
    expect(report).toBe(false);
    expect(sweep.command).toBe("cmd");
  });

  it("reads targets and their PIDs", () => {
    const one = validateBenchOptions(bench(["./kv.ts", "--target", "127.0.0.1:6379", "--server-pid", "42"]).options);
    expect(one.targets).toEqual([{ name: "target", host: "127.0.0.1", port: 6379, pid: 42 }]);
    const two = validateBenchOptions(bench(["./kv.ts", "--target", "a=127.0.0.1:1", "--target", "b=127.0.0.1:2", "--server-pid", "b=7"]).options);
    expect(two.targets).toEqual([
      { name: "a", host: "127.0.0.1", port: 1 },
      { name: "b", host: "127.0.0.1", port: 2, pid: 7 },
    ]);
  });

  it("--help is help", () => {
    expect(parseBenchArgs(["--help"], "cmd")).toBe("help");
    expect(parseBenchArgs(["-h"], "cmd")).toBe("help");
    expect(parseServeArgs(["--help"])).toBe("help");
    expect(parseListArgs(["--help"])).toBe("help");
  });

  it("names the bad option", () => {
    const cases: [string[], string, RegExp][] = [
      [["--rate", "fast"], "--rate", /positive number/],
      [["--rate", "0"], "--rate", /positive number/],
      [["--workers", "0"], "--workers", /between 1 and/],
      [["--workers", "65"], "--workers", /between 1 and 64/],
      [["--repeat", "1.5"], "--repeat", /positive integer/],
      [["--load", "wrk"], "--load", /generator, client or autocannon/],
      [["--host", "10.0.0.1"], "--host", /loopback/],
      [["--frobnicate"], "--frobnicate", /unknown option/],
      [["--duration"], "--duration", /needs a value/],
      [["--duration="], "--duration", /needs a value/],
      [["--sim=yes"], "--sim", /takes no value/],
      [["--rate", "100", "--load", "autocannon"], "--rate", /open-loop/],
      [["--target", "nope"], "--target", /HOST:PORT/],
      [["--server-pid", "12"], "--server-pid", /give --target/],
      [["tcp-echo", "--target", "127.0.0.1:1", "--sim"], "--target", /drop --target or --sim/],
      [["tcp-echo", "http-hello", "--target", "127.0.0.1:1"], "--target", /exactly one scenario/],
      [["tcp-echo", "--target", "127.0.0.1:1", "--target", "127.0.0.1:2"], "--target", /two targets are named "target"/],
    ];
    for (const [argv, option, message] of cases) {
      const e = optionError(() => parseBenchArgs(argv, "cmd"));
      expect(e.option, argv.join(" ")).toBe(option);
      expect(e.message).toMatch(message);
    }
  });
});

describe("parseServeArgs", () => {
  it("reads scenario, style, port and host", () => {
    const c = parseServeArgs(["http-hello", "--style", "raw", "--port", "8080", "--host", "127.0.0.1"]) as ServeCommand;
    expect([c.scenario, c.style, c.port, c.host]).toEqual(["http-hello", "raw", 8080, "127.0.0.1"]);
  });

  it("names what is missing or wrong", () => {
    expect(optionError(() => parseServeArgs(["--style", "callback", "--port", "1"])).option).toBe("scenario");
    expect(optionError(() => parseServeArgs(["tcp-echo", "--port", "1"])).option).toBe("--style");
    expect(optionError(() => parseServeArgs(["tcp-echo", "--style", "callback"])).option).toBe("--port");
    expect(optionError(() => parseServeArgs(["tcp-echo", "--style", "callback", "--port", "70000"])).option).toBe("--port");
  });
});

describe("main", () => {
  const quiet = { log: () => {}, error: () => {} };

  it("exits 2 with the option named on a bad command line", async () => {
    const errors: string[] = [];
    const code = await main(["bench", "--duration", "soon"], { log: () => {}, error: (l) => errors.push(l) });
    expect(code).toBe(2);
    expect(errors.join("\n")).toMatch(/--duration/);
    expect(await main(["frob"], quiet)).toBe(2);
  });

  it("exits 2 naming a scenario that cannot be found, before anything runs", async () => {
    const errors: string[] = [];
    const io = { log: () => {}, error: (l: string) => errors.push(l) };
    expect(await main(["bench", "nope"], io)).toBe(2);
    expect(await main(["bench", "./no/such/scenario.ts"], io)).toBe(2);
    expect(await main(["serve", "tcp-echo", "--style", "raw", "--port", "0"], io)).toBe(2);
    expect(errors).toEqual([
      'wirelab: invalid option scenario: unknown scenario "nope": not a built-in (tcp-echo, http-hello, idle-hold, line-chat, ws-broadcast) nor a file',
      "wirelab: invalid option scenario: no such file: ./no/such/scenario.ts",
      "wirelab: invalid option --style: tcp-echo has no style raw (it has callback, async, baseline, baseline-async, twisted, tornado)",
    ]);
  });

  it("prints each command's help, exit 0", async () => {
    for (const command of ["bench", "list", "serve", "report"]) {
      const lines: string[] = [];
      expect(await main([command, "--help"], { log: (l) => lines.push(l), error: () => {} })).toBe(0);
      expect(lines.join("\n")).toMatch(new RegExp(`^usage: wirelab ${command}`));
    }
  });

  it("lists every built-in scenario and style", async () => {
    const lines: string[] = [];
    expect(await main(["list"], { log: (l) => lines.push(l), error: () => {} })).toBe(0);
    const text = lines.join("\n");
    for (const { scenario: s } of await loadScenarios(BUILTIN_SCENARIOS)) {
      expect(text).toContain(`${s.name}: ${s.summary}`);
      for (const style of s.styles) expect(text).toMatch(new RegExp(`^  ${style.name} `, "m"));
    }
  });
});
