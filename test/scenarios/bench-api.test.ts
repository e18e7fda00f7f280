import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InvalidOptionError } from "wirelab";
import { SimNetwork } from "wirelab/fakes";
import { bench, runConnection } from "wirelab/bench";
import type { BenchProgress, Recorder } from "wirelab/bench";
import { report } from "wirelab/report";
import tcpEcho from "../../scenarios/tcp-echo/index.js";

const out = mkdtempSync(join(tmpdir(), "wirelab-bench-api-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function silent(notes: string[] = []): BenchProgress {
  return { begin: () => {}, point: () => {}, note: (text) => notes.push(text) };
}

describe("bench() and report(), from a script", () => {
  it("runs a sweep and returns the results object; report() writes the report from it", async () => {
    const notes: string[] = [];
    const results = await bench({ scenarios: ["tcp-echo"], sim: true, connections: [3], repeat: 1, progress: silent(notes), command: "test" });
    expect(notes).toEqual(["skipping tcp-echo/baseline in --sim: it needs raw Node, so it runs on real sockets only", "skipping tcp-echo/baseline-async in --sim: it needs raw Node, so it runs on real sockets only", "skipping tcp-echo/twisted in --sim: it is an outside program, so it runs on real sockets only", "skipping tcp-echo/tornado in --sim: it is an outside program, so it runs on real sockets only"]);
    expect(results.points.map((p) => `${p.style}/${p.mode}/${p.connections}`)).toEqual(["callback/sim/3", "async/sim/3"]);
    expect(results.points.every((p) => p.failure === undefined)).toBe(true);
    expect(results.scenarios[0]!.comparisons).toEqual([{ subject: "async", reference: "callback" }]);
    const written = await report(results, { out });
    expect(readFileSync(written.markdown, "utf8")).toContain("### tcp-echo (sim): async vs callback");
  });

  it("rejects bad options with the error the command line gives", async () => {
    await expect(bench({ scenarios: ["tcp-echo"], duration: "soon", progress: silent() })).rejects.toThrow(InvalidOptionError);
    await expect(bench({ scenarios: ["tcp-echo"], connections: { "line-chat": [1] }, sim: true, progress: silent() })).rejects.toThrow(/--connections: names a scenario that is not in the sweep: "line-chat"/);
  });
});

describe("runConnection: a scenario's client for one connection, from any process with a reactor", () => {
  it("runs tcp-echo's client against the callback style on a simulated network, reporting to a recorder", async () => {
    const net = new SimNetwork({ seed: 4 });
    const server = net.host("10.0.0.1");
    const client = net.host("10.0.0.2");
    const counts = { success: 0, error: 0, timeout: 0, mismatch: 0 };
    const latencies: number[] = [];
    const recorder: Recorder = {
      measuring: true,
      success: (us) => {
        counts.success++;
        latencies.push(us);
      },
      error: () => counts.error++,
      timeout: () => counts.timeout++,
      mismatch: () => counts.mismatch++,
    };
    const style = tcpEcho.styles.find((s) => s.name === "callback")!;
    let ran = -1;
    void (async () => {
      if ("listen" in style) await style.listen(server, "tcp:7");
      ran = await runConnection(tcpEcho.client, { reactor: client, endpoint: "tcp:10.0.0.1:7", recorder, operations: 5, index: 2 });
    })();
    await net.runUntilIdle();
    expect(ran).toBe(5);
    expect(counts).toEqual({ success: 5, error: 0, timeout: 0, mismatch: 0 });
    // Virtual time: each round trip takes the simulated latency, in µs.
    expect(latencies.every((us) => us > 0)).toBe(true);
  });

  it("counts a failed connect as one error", async () => {
    const net = new SimNetwork({ seed: 4 });
    const client = net.host("10.0.0.2");
    net.host("10.0.0.1");
    let errors = 0;
    let ran = -1;
    const recorder: Recorder = { measuring: true, success: () => {}, error: () => errors++, timeout: () => {}, mismatch: () => {} };
    void runConnection(tcpEcho.client, { reactor: client, endpoint: "tcp:10.0.0.1:7", recorder, operations: 5 }).then((n) => (ran = n));
    await net.runUntilIdle();
    expect([ran, errors]).toEqual([0, 1]);
  });
});

describe("planning a sweep", () => {
  it("skips, with a line, a Node style whose package is not installed, and a command whose check fails", async () => {
    const { planSweep } = await import("../../scenarios/harness/plan.js");
    const { validateBenchOptions } = await import("../../scenarios/harness/bench-options.js");
    const { defineScenario } = await import("wirelab/bench");
    const scenario = defineScenario({
      name: "needs",
      operation: "x",
      styles: [
        { name: "here", listen: () => Promise.reject(new Error("not run")) },
        { name: "pkg", node: () => Promise.reject(new Error("not run")), requires: ["no-such-package-wirelab-test"] },
        { name: "cmd", command: ["true"], check: [process.execPath, "-e", "process.exit(3)"] },
      ],
      client: { operation: () => Promise.resolve() },
    });
    const plan = planSweep(validateBenchOptions({ connections: [1], repeat: 1 }), [{ url: import.meta.url, scenario }]);
    expect(plan.scenarios[0]!.styles.map((s) => s.name)).toEqual(["here"]);
    expect(plan.notes).toEqual([
      "skipping needs/pkg: the package no-such-package-wirelab-test is not installed (npm install --save-dev no-such-package-wirelab-test)",
      `skipping needs/cmd: \`${process.execPath} -e process.exit(3)\` failed`,
    ]);
    expect(plan.total).toBe(1);
  });
});

describe("a --sim sweep", () => {
  it("caps connection counts at SIM_MAX_CONNECTIONS, each count once", async () => {
    const results = await bench({ scenarios: ["tcp-echo"], sim: true, connections: [2, 1000, 5000], repeat: 1, styles: ["callback"], progress: silent() });
    expect(results.points.map((p) => p.connections)).toEqual([2, 100]);
  });
});
