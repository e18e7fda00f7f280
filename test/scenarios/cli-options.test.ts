import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../runtime/errors.js";
import { parseBenchArgs, parseConnections, parseDuration, parseServeArgs, parseStyles } from "../../scenarios/cli-options.js";
import { main } from "../../scenarios/cli.js";
import { DEFAULT_DURATION_MS, DEFAULT_REPEAT, DEFAULT_WARMUP_MS, connectionsFor, stylesFor } from "../../scenarios/runner.js";
import { SCENARIOS, findScenario } from "../../scenarios/registry.js";

function optionError(fn: () => unknown): InvalidOptionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidOptionError) return error;
    throw error;
  }
  throw new Error("no error thrown");
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

describe("parseConnections and parseStyles", () => {
  it("reads a list for every scenario, or SCENARIO=LIST for one", () => {
    expect(parseConnections("1,10,100")).toEqual({ scenario: "*", counts: [1, 10, 100] });
    expect(parseConnections("idle-hold=1000,10000")).toEqual({ scenario: "idle-hold", counts: [1000, 10000] });
  });

  it("rejects bad counts and unknown scenarios by name", () => {
    expect(optionError(() => parseConnections("1,x")).message).toMatch(/--connections: expected a positive integer, got "x"/);
    expect(optionError(() => parseConnections("0")).message).toMatch(/between 1 and/);
    expect(optionError(() => parseConnections("nope=1")).message).toMatch(/unknown scenario "nope"/);
  });

  it("knows the style names", () => {
    expect(parseStyles("callback,async,callback")).toEqual(["callback", "async"]);
    expect(optionError(() => parseStyles("callback,fast")).message).toMatch(/unknown style "fast"/);
  });
});

describe("parseBenchArgs", () => {
  it("has the documented defaults", () => {
    const { options, out, report } = parseBenchArgs([], "wirelab bench");
    expect(options.scenarios).toBe(SCENARIOS);
    expect(options.styles).toBeNull();
    expect(options.durationMs).toBe(DEFAULT_DURATION_MS);
    expect(options.warmupMs).toBe(DEFAULT_WARMUP_MS);
    expect(options.repeat).toBe(DEFAULT_REPEAT);
    expect(options.rate).toBeUndefined();
    expect(options.sim).toBe(false);
    expect(options.load).toBe("wirelab");
    expect(options.host).toBe("127.0.0.1");
    expect(out).toBeNull();
    expect(report).toBe(true);
    expect(connectionsFor(options, findScenario("tcp-echo")!)).toEqual([1, 10, 100, 1000]);
    expect(connectionsFor(options, findScenario("idle-hold")!)).toEqual([1000, 10000]);
  });

  it("reads every option, in both --flag value and --flag=value forms", () => {
    const { options, out, report } = parseBenchArgs(
      ["tcp-echo", "http-hello", "--styles=callback,raw", "--connections", "1,10", "--connections", "http-hello=100", "--duration", "300ms", "--warmup=0s", "--repeat", "2", "--rate", "5000", "--workers", "2", "--out", "/tmp/x", "--no-report", "--timeout", "2s", "--seed", "9", "--host", "127.0.0.2"],
      "cmd",
    );
    expect(options.scenarios.map((s) => s.name)).toEqual(["tcp-echo", "http-hello"]);
    expect(options.styles).toEqual(["callback", "raw"]);
    expect(connectionsFor(options, options.scenarios[0]!)).toEqual([1, 10]);
    expect(connectionsFor(options, options.scenarios[1]!)).toEqual([100]);
    expect(stylesFor(options, options.scenarios[0]!)).toEqual(["callback"]);
    expect(stylesFor(options, options.scenarios[1]!)).toEqual(["callback", "raw"]);
    expect([options.durationMs, options.warmupMs, options.repeat, options.rate, options.workers, options.timeoutMs, options.seed, options.host]).toEqual([300, 0, 2, 5000, 2, 2000, 9, "127.0.0.2"]);
    expect(out).toBe("/tmp/x");
    expect(report).toBe(false);
    expect(options.command).toBe("cmd");
  });

  it("sim mode keeps the wirelab styles only", () => {
    const { options } = parseBenchArgs(["--sim"], "cmd");
    expect(stylesFor(options, findScenario("http-hello")!)).toEqual(["callback", "async"]);
  });

  it("names the bad option", () => {
    const cases: [string[], string, RegExp][] = [
      [["--rate", "fast"], "--rate", /positive number/],
      [["--rate", "0"], "--rate", /positive number/],
      [["--workers", "0"], "--workers", /between 1 and/],
      [["--repeat", "1.5"], "--repeat", /positive integer/],
      [["--load", "wrk"], "--load", /wirelab or autocannon/],
      [["--host", "10.0.0.1"], "--host", /loopback/],
      [["--frobnicate"], "--frobnicate", /unknown option/],
      [["--duration"], "--duration", /needs a value/],
      [["--sim=yes"], "--sim", /takes no value/],
      [["nope"], "scenario", /unknown scenario "nope"/],
      [["--rate", "100", "--load", "autocannon"], "--rate", /open-loop/],
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
    const c = parseServeArgs(["http-hello", "--style", "raw", "--port", "8080", "--host", "127.0.0.1"]);
    expect([c.scenario.name, c.style, c.port, c.host]).toEqual(["http-hello", "raw", 8080, "127.0.0.1"]);
  });

  it("names what is missing or wrong", () => {
    expect(optionError(() => parseServeArgs(["--style", "callback", "--port", "1"])).option).toBe("scenario");
    expect(optionError(() => parseServeArgs(["tcp-echo", "--port", "1"])).option).toBe("--style");
    expect(optionError(() => parseServeArgs(["tcp-echo", "--style", "callback"])).option).toBe("--port");
    expect(optionError(() => parseServeArgs(["tcp-echo", "--style", "raw", "--port", "1"])).message).toMatch(/tcp-echo has no style raw/);
    expect(optionError(() => parseServeArgs(["tcp-echo", "--style", "callback", "--port", "70000"])).option).toBe("--port");
  });
});

describe("main", () => {
  it("exits 2 with the option named on a bad command line", async () => {
    const errors: string[] = [];
    const code = await main(["bench", "--duration", "soon"], { log: () => {}, error: (l) => errors.push(l) });
    expect(code).toBe(2);
    expect(errors.join("\n")).toMatch(/--duration/);
    expect(await main(["frob"], { log: () => {}, error: () => {} })).toBe(2);
  });

  it("lists every scenario and style", async () => {
    const lines: string[] = [];
    expect(await main(["list"], { log: (l) => lines.push(l), error: () => {} })).toBe(0);
    const text = lines.join("\n");
    for (const s of SCENARIOS) {
      expect(text).toContain(`${s.name}: ${s.summary}`);
      for (const style of Object.keys(s.styles)) expect(text).toMatch(new RegExp(`^  ${style} `, "m"));
    }
  });
});
