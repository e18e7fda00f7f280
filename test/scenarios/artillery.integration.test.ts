/**
 * The wirelab engine inside the real Artillery (2.0.21, installed in `test/artillery/` by
 * `.ci/run`): Artillery loads `artillery-engine-wirelab` from NODE_PATH, as the README says, out
 * of a build of this checkout laid out as an installed package. Against servers on loopback:
 * a user's scenario module, whose counts and latency agree with `wirelab bench` on the same
 * server; tcp-echo from three Artillery runs at once, merged by `wirelab report` into one point
 * whose counts add up; and bad input (an unknown scenario, a module that fails to load, a
 * refused connection), each failing every virtual user with its error while the run ends.
 *
 * Without `test/artillery/node_modules` the suite is skipped with a warning, unless
 * WIRELAB_REQUIRE_PEERS is set, which makes it run (and fail). Every Artillery run has a time
 * limit, so a hang fails the test instead of stalling it.
 */

import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, cpSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Factory, LineOnlyReceiver } from "../../runtime/index.js";
import { NodeReactor } from "../../runtime/node/node-reactor.js";
import type { ListeningPort } from "../../runtime/reactor.js";
import { loadResults } from "../../reports/write-report.js";
import { main as reportMain } from "../../reports/cli.js";
import type { Results } from "../../reports/results.js";
import { listenEcho } from "../../scenarios/tcp-echo/callback.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ARTILLERY = path.join(ROOT, "test", "artillery", "node_modules", ".bin", "artillery");
const HAVE_ARTILLERY = existsSync(ARTILLERY);
const REQUIRED = (process.env.WIRELAB_REQUIRE_PEERS ?? "") !== "";
if (!HAVE_ARTILLERY && !REQUIRED) {
  console.warn("Artillery engine tests SKIPPED: test/artillery is not installed (cd test/artillery && npm ci), or set WIRELAB_REQUIRE_PEERS=1 to make this a failure");
}

/** An Artillery run longer than this is a hang. */
const RUN_LIMIT_MS = 90_000;
/** The user scenario's server answers after this long: a latency no unit mistake survives. */
const DELAY_MS = 20;

interface ArtilleryReport {
  readonly counters: Record<string, number>;
  readonly summaries: Record<string, { count: number; p50: number; max: number }>;
}

interface Run {
  readonly code: number | string;
  readonly output: string;
  readonly report: ArtilleryReport | null;
}

const SLOW_SCENARIO = `// A user's protocol: every line comes back after ${DELAY_MS} ms, with how many lines this
// connection sent so far.
import { Factory, LineOnlyReceiver } from "wirelab";
import { defineScenario } from "wirelab/bench";

class SlowCounter extends LineOnlyReceiver {
  override delimiter = "\\n";
  private n = 0;
  override lineReceived(line: Uint8Array): void {
    const answer = \`\${Buffer.from(line).toString()} \${++this.n}\`;
    this.factory?.reactor.callLater(${DELAY_MS}, () => this.sendLine(answer));
  }
}

export default defineScenario({
  name: "slow-counter",
  operation: "one line, answered with its number after ${DELAY_MS} ms",
  styles: [{ name: "protocol", listen: (reactor, endpoint) => reactor.listen(endpoint, Factory.forProtocol(() => new SlowCounter())) }],
  client: {
    async operation(conn, ctx) {
      await conn.write(\`line\\n\`);
      const answer = Buffer.from(await conn.readLine()).toString();
      if (answer !== \`line \${ctx.sequence + 1}\`) ctx.mismatch(answer);
    },
  },
});
`;

/** The same server, run by the test on the checkout's sources. */
class SlowCounter extends LineOnlyReceiver {
  override delimiter = "\n";
  private n = 0;
  constructor(private readonly reactor: NodeReactor) {
    super();
  }
  override lineReceived(line: Uint8Array): void {
    const answer = `${Buffer.from(line).toString()} ${++this.n}`;
    this.reactor.callLater(DELAY_MS, () => this.sendLine(answer));
  }
}

function script(target: string, engine: Record<string, unknown>, vusers: number): string {
  return JSON.stringify({
    config: { target, phases: [{ duration: 1, arrivalCount: vusers }], engines: { wirelab: engine } },
    scenarios: [{ name: "wirelab", engine: "wirelab" }],
  });
}

/** A free loopback port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(!HAVE_ARTILLERY && !REQUIRED)("Artillery with engine: wirelab", () => {
  let work: string;
  let project: string;
  let nodePath: string;
  const reactor = new NodeReactor();
  const ports: ListeningPort[] = [];

  /** `artillery run NAME.json --output NAME.out.json` in the project, bounded. */
  function artillery(name: string, text: string): Promise<Run> {
    const file = path.join(project, `${name}.json`);
    const out = path.join(project, `${name}.out.json`);
    writeFileSync(file, text);
    return new Promise((resolve) => {
      execFile(
        ARTILLERY,
        ["run", file, "--output", out],
        { cwd: project, timeout: RUN_LIMIT_MS, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NODE_PATH: nodePath, NO_COLOR: "1", FORCE_COLOR: "0" } },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : error.killed ? "killed (time limit)" : typeof error.code === "number" ? error.code : 1;
          const report = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as { aggregate: ArtilleryReport }).aggregate : null;
          resolve({ code, output: stdout + stderr, report });
        },
      );
    });
  }

  /** Starts a server on the test's reactor; its port. */
  async function listen(start: (reactor: NodeReactor, endpoint: string) => PromiseLike<ListeningPort>): Promise<number> {
    const port = await start(reactor, "tcp:0:interface=127.0.0.1");
    ports.push(port);
    return port.getHost().port;
  }

  beforeAll(async () => {
    if (!HAVE_ARTILLERY) throw new Error(`Artillery is not installed in test/artillery (${ARTILLERY} is missing): cd test/artillery && npm ci`);
    // A build of the checkout laid out as an installed package, its dependencies linked beside it.
    work = mkdtempSync(path.join(os.tmpdir(), "wirelab-artillery-"));
    const modules = path.join(work, "node_modules");
    const pkg = path.join(modules, "wirelab");
    mkdirSync(pkg, { recursive: true });
    for (const entry of readdirSync(path.join(ROOT, "node_modules"))) {
      if (entry !== "wirelab" && !entry.startsWith(".")) symlinkSync(path.join(ROOT, "node_modules", entry), path.join(modules, entry));
    }
    const tsc = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(ROOT, "tsconfig.build.json"), "--outDir", path.join(pkg, "dist")], { timeout: 300_000 }, (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : 1, output: stdout + stderr }),
      );
    });
    expect(tsc.code, tsc.output).toBe(0);
    cpSync(path.join(ROOT, "package.json"), path.join(pkg, "package.json"));
    cpSync(path.join(ROOT, "scenarios", "artillery"), path.join(pkg, "scenarios", "artillery"), { recursive: true });
    // What the README tells users to put on NODE_PATH.
    nodePath = path.join(pkg, "scenarios", "artillery");
    project = path.join(work, "project");
    mkdirSync(project);
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "artillery-user", private: true, type: "module" }));
    mkdirSync(path.join(project, "node_modules"));
    symlinkSync(pkg, path.join(project, "node_modules", "wirelab"));
    writeFileSync(path.join(project, "slow-counter.ts"), SLOW_SCENARIO);
    writeFileSync(path.join(project, "broken.mjs"), `throw new Error("this scenario module fails as it loads");\n`);
    void reactor.run();
  }, 600_000);

  afterAll(async () => {
    for (const port of ports) await port.stopListening();
    await reactor.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it("runs a user's scenario module: every operation counted, its latency in ms as wirelab bench measures it on the same server", async () => {
    const port = await listen((r, endpoint) => r.listen(endpoint, Factory.forProtocol(() => new SlowCounter(reactor))));
    const run = await artillery("slow", script(`tcp://127.0.0.1:${port}`, { scenario: "./slow-counter.ts", operations: 25, style: "protocol" }, 4));
    expect(run.code, run.output).toBe(0);
    const c = run.report!.counters;
    expect(c["vusers.created"]).toBe(4);
    expect(c["vusers.completed"]).toBe(4);
    expect(c["vusers.failed"]).toBe(0);
    expect(c["wirelab.slow-counter/protocol.connections"]).toBe(4);
    expect(c["wirelab.slow-counter/protocol.operations"]).toBe(100);
    for (const m of ["errors", "timeouts", "mismatches"]) expect(c[`wirelab.slow-counter/protocol.${m}`], m).toBe(0);
    const latency = run.report!.summaries["wirelab.slow-counter/protocol.latency"]!;
    expect(latency.count).toBe(100);
    expect(latency.p50).toBeGreaterThanOrEqual(DELAY_MS - 0.5);
    expect(latency.p50).toBeLessThan(DELAY_MS * 2);

    // wirelab bench of the same build, its client workload against the same server.
    const benchOut = path.join(project, "bench");
    const args = ["bench", "./slow-counter.ts", "--target", `protocol=127.0.0.1:${port}`, "--load", "client", "--connections", "4", "--duration", "1s", "--warmup", "200ms", "--repeat", "1", "--workers", "1", "--no-pin", "--no-report", "--out", benchOut];
    const benched = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [path.join(project, "node_modules", "wirelab", "dist", "scenarios", "harness", "bin.js"), ...args], { cwd: project, timeout: RUN_LIMIT_MS }, (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : 1, output: stdout + stderr }),
      );
    });
    expect(benched.code, benched.output).toBe(0);
    const point = (JSON.parse(readFileSync(path.join(benchOut, "results.json"), "utf8")) as Results).points[0]!;
    expect(point.failure).toBeUndefined();
    expect(point.errors + point.timeouts + point.mismatches).toBe(0);
    expect(point.operations).toBeGreaterThan(0);
    // Both measure the same 20 ms wait: within a quarter of each other (the rest is noise).
    expect(Math.abs(latency.p50 * 1000 - point.latencyUs.p50) / point.latencyUs.p50).toBeLessThan(0.25);
  }, 240_000);

  it("three Artillery runs at once against one tcp-echo server merge into one report whose counts add up", async () => {
    const port = await listen(listenEcho);
    const target = `tcp://127.0.0.1:${port}`;
    const runs = await Promise.all([1, 2, 3].map((i) => artillery(`echo-${i}`, script(target, { scenario: "tcp-echo", operations: 200 }, 3))));
    for (const run of runs) {
      expect(run.code, run.output).toBe(0);
      expect(run.report!.counters["wirelab.tcp-echo.operations"]).toBe(600);
      expect(run.report!.counters["wirelab.tcp-echo.errors"]).toBe(0);
    }
    const files = [1, 2, 3].map((i) => path.join(project, `echo-${i}.out.json`));
    const [merged] = await loadResults(files);
    const point = merged!.points[0]!;
    expect(point).toMatchObject({ scenario: "tcp-echo", style: "artillery", loadGenerator: "artillery", connections: 9, operations: 1800, errors: 0, timeouts: 0, mismatches: 0 });
    expect(point.extra).toMatchObject({ artilleryRuns: 3, virtualUsers: 9, virtualUsersFailed: 0, latencyCount: 1800 });

    const out = path.join(project, "report");
    const lines: string[] = [];
    const code = await reportMain([...files, "--out", out], { log: (l) => lines.push(l), error: (l) => lines.push(l) });
    expect(code, lines.join("\n")).toBe(0);
    const md = readFileSync(path.join(out, "report.md"), "utf8");
    expect(md).toContain("tcp-echo");
    expect(md).toContain("not HDR histograms");
    expect(md).toContain("3 files merged");
  }, 240_000);

  it("runs the shipped 100,000-connection example, scaled down with --overrides", async () => {
    const echo = `tcp://127.0.0.1:${await listen(listenEcho)}`;
    const example = readFileSync(path.join(ROOT, "scenarios", "artillery", "hold-100k.yml"), "utf8");
    writeFileSync(path.join(project, "hold-100k.yml"), example);
    const overrides = JSON.stringify({ config: { phases: [{ duration: 1, arrivalRate: 3 }], engines: { wirelab: { scenario: "tcp-echo", duration: "1s", thinkTime: "100ms" } } } });
    const out = path.join(project, "hold-100k.out.json");
    const run = await new Promise<{ code: number | string; output: string }>((resolve) => {
      execFile(ARTILLERY, ["run", "hold-100k.yml", "--target", echo, "--overrides", overrides, "--output", out], { cwd: project, timeout: RUN_LIMIT_MS, killSignal: "SIGKILL", env: { ...process.env, NODE_PATH: nodePath } }, (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : error.killed ? "killed (time limit)" : 1, output: stdout + stderr }),
      );
    });
    expect(run.code, run.output).toBe(0);
    const counters = (JSON.parse(readFileSync(out, "utf8")) as { aggregate: ArtilleryReport }).aggregate.counters;
    expect(counters).toMatchObject({ "vusers.created": 3, "vusers.completed": 3, "wirelab.tcp-echo.connections": 3, "wirelab.tcp-echo.errors": 0 });
    // One second of operations 100 ms apart per connection.
    expect(counters["wirelab.tcp-echo.operations"]).toBeGreaterThanOrEqual(3 * 8);
    expect(counters["wirelab.tcp-echo.operations"]).toBeLessThanOrEqual(3 * 11);
  }, 120_000);

  it("bad input fails every virtual user with its error, and the run ends: an unknown scenario, a module that fails to load, a refused connection", async () => {
    const echo = `tcp://127.0.0.1:${await listen(listenEcho)}`;
    const [unknown, broken, refused] = await Promise.all([
      artillery("unknown", script(echo, { scenario: "no-such-scenario" }, 3)),
      artillery("broken", script(echo, { scenario: "./broken.mjs" }, 3)),
      artillery("refused", script(`tcp://127.0.0.1:${await closedPort()}`, { scenario: "tcp-echo", operations: 5 }, 3)),
    ]);
    for (const [run, code] of [
      [unknown, "WL_ERR_INVALID_OPTION"],
      [broken, "WL_ERR_INVALID_OPTION"],
      [refused, "ECONNREFUSED"],
    ] as const) {
      expect(run.code, run.output).toBe(0);
      expect(run.report!.counters).toMatchObject({ "vusers.created": 3, "vusers.failed": 3, [`errors.${code}`]: 3 });
    }
    expect(unknown.output).toContain(`unknown scenario "no-such-scenario"`);
    expect(broken.output).toContain("this scenario module fails as it loads");
    expect(refused.report!.counters["wirelab.tcp-echo.errors"]).toBe(3);
    expect(refused.report!.counters["wirelab.tcp-echo.connections"]).toBeUndefined();
  }, 240_000);
});
