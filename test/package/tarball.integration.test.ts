/**
 * The package as a user gets it: `npm pack` (which builds), the tarball installed into a fresh
 * project with its declared dependencies and the peers the project uses, and then what a user
 * does there: import every entry (types checked by tsc, without skipLibCheck), a vitest suite on
 * `wirelab/vitest` and the fakes, a protocol of this test's own benchmarked with `npx wirelab
 * bench` on real sockets, with `--sim`, and against `--target` of the same server started
 * separately, `npx wirelab report`; the README's "Benchmark your own protocol" scenario; and bad
 * input, each with its error and exit code 2. Loopback only; every command has a time limit;
 * the benchmarks take the machine's benchmark lock.
 *
 * npm runs offline from its cache (`--prefer-offline`): after `npm ci` every package installed
 * here is in it, at the version this repository's lock file has.
 */

import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Results } from "../../reports/results.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BENCH_LOCK = "/tmp/wirelab-bench.lock";
const LOCK_WAIT_S = 600;

/** The peers and tools the user project installs, at the versions this repository tests with. */
const PEERS = ["tsx", "vitest", "vega", "vega-lite", "fast-check", "typescript", "@types/node"];
const version = (name: string): string => (JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, [...args], { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `npx wirelab ARGS` in the project; benchmarks on real sockets under the benchmark lock. */
function wirelab(project: string, args: readonly string[], lock = false): Promise<Run> {
  const npx = ["npx", "--no-install", "wirelab", ...args];
  return lock ? run("flock", ["-w", String(LOCK_WAIT_S), BENCH_LOCK, ...npx], project, (LOCK_WAIT_S + 120) * 1000) : run(npx[0]!, npx.slice(1), project, 120_000);
}

function readResults(file: string): Results {
  return JSON.parse(readFileSync(file, "utf8")) as Results;
}

/** A free loopback port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const COUNTER_SCENARIO = `// A protocol of this test's own: "INCR key\\n" answers the key's new count, keys kept per
// connection, so every answer is known: a connection's n-th INCR of a key answers n.
import * as net from "node:net";
import { Factory, LineOnlyReceiver, serve } from "wirelab";
import { defineScenario, listenNodeServer } from "wirelab/bench";

function incr(counts: Map<string, number>, line: string): string {
  const key = line.slice("INCR ".length);
  const n = (counts.get(key) ?? 0) + 1;
  counts.set(key, n);
  return String(n);
}

class Counter extends LineOnlyReceiver {
  override delimiter = "\\n";
  private readonly counts = new Map<string, number>();
  override lineReceived(line: Uint8Array): void {
    this.sendLine(incr(this.counts, Buffer.from(line).toString()));
  }
}

export default defineScenario({
  name: "counter",
  summary: "INCR key, answered with the key's new count",
  operation: "one INCR and its answer",
  styles: [
    { name: "protocol", description: "LineOnlyReceiver", listen: (reactor, endpoint) => reactor.listen(endpoint, Factory.forProtocol(() => new Counter())) },
    {
      name: "stream",
      description: "serve() handler",
      listen: (reactor, endpoint) =>
        serve(reactor, endpoint, async (conn) => {
          const counts = new Map<string, number>();
          for await (const line of conn.lines()) await conn.write(incr(counts, Buffer.from(line).toString()) + "\\n");
        }),
    },
    {
      name: "plain-node",
      description: "node:net",
      node: (options) => {
        const sockets = new Set<net.Socket>();
        const server = net.createServer((socket) => {
          sockets.add(socket);
          socket.setNoDelay(true);
          const counts = new Map<string, number>();
          let partial = "";
          socket.on("data", (data) => {
            const lines = (partial + data.toString()).split("\\n");
            partial = lines.pop() ?? "";
            for (const line of lines) socket.write(incr(counts, line) + "\\n");
          });
          socket.on("error", () => {});
          socket.on("close", () => sockets.delete(socket));
        });
        return listenNodeServer(server, options, () => {
          for (const s of sockets) s.destroy();
        });
      },
    },
  ],
  client: {
    async operation(conn, ctx) {
      await conn.write(\`INCR k\${ctx.index}\\n\`);
      const answer = Buffer.from(await conn.readLine()).toString();
      const expected = ctx.sequence + 1;
      if (answer !== String(expected)) ctx.mismatch(\`INCR number \${expected} answered \${answer}\`);
    },
  },
  compare: [["stream", "protocol"], ["protocol", "plain-node"]],
});
`;

const ENTRIES = `// Every entry of the package, used: tsc checks the types a user sees.
import { Deferred, NodeReactor, dial } from "wirelab";
import type { Connection, Reactor } from "wirelab";
import { Clock, SimNetwork, connectPair, simConfigArb } from "wirelab/fakes";
import { bench, checkScenario, defineScenario, runConnection, TcpEchoClient } from "wirelab/bench";
import type { ClientWorkload, Recorder, Scenario, SimCheckResult } from "wirelab/bench";
import { report, readResults, RESULTS_SCHEMA_VERSION } from "wirelab/report";
import type { Results, ResultPoint } from "wirelab/report";
import { simTest } from "wirelab/vitest";

const d: Deferred<number> = new Deferred<number>();
const clock = new Clock();
const reactorType: (r: Reactor) => void = () => {};
const workload: ClientWorkload = { operation: async (conn: Connection) => { await conn.write("x"); } };
const recorder: Recorder = { measuring: true, success() {}, error() {}, timeout() {}, mismatch() {} };
const bad: unknown = (p: ResultPoint): number | null => p.serverCpuUsPerOp;
export const used = [d, clock, reactorType, workload, recorder, bad, NodeReactor, dial, SimNetwork, connectPair, simConfigArb, bench, checkScenario, defineScenario, runConnection, TcpEchoClient, report, readResults, RESULTS_SCHEMA_VERSION, simTest];
export type Used = [Scenario, SimCheckResult, Results];
`;

const VITEST_SUITE = `import { expect, it } from "vitest";
import { Protocol } from "wirelab";
import { byteByByte, Clock, connectPair, simConfigArb, simNetworkOptions } from "wirelab/fakes";
import { checkScenario } from "wirelab/bench";
import { simTest } from "wirelab/vitest";
import counter from "./counter-scenario.js";

class Collect extends Protocol {
  text = "";
  override dataReceived(data: Uint8Array): void {
    this.text += Buffer.from(data).toString();
  }
}

it("runs the fakes: a clock, and a pair cut byte by byte", () => {
  const clock = new Clock();
  let fired = 0;
  clock.callLater(5, () => fired++);
  clock.advance(5);
  expect(fired).toBe(1);
  const server = new Collect();
  const client = new Collect();
  const pump = connectPair(server, client, { chunking: byteByByte() });
  client.transport.write("hello");
  pump.flush();
  expect(server.text).toBe("hello");
});

it("checks the counter scenario on SimNetwork", async () => {
  for (const r of await checkScenario(counter, { seed: 3, connections: 4, operations: 5 })) expect(r.violations).toEqual([]);
});

simTest.prop({ config: simConfigArb() }, { numRuns: 5, replayDir: null })("a simulated network runs whatever configuration is drawn", async ({ config }, ctx) => {
  const net = ctx.network(simNetworkOptions(config));
  net.host("10.0.0.1");
  await net.runUntilIdle();
});
`;

const LEFTOVER_SUITE = `import { it } from "vitest";
import { Deferred } from "wirelab";

it("leaves a failed Deferred nobody handles", () => {
  new Deferred<void>().errback(new Error("nobody handles me"));
});
`;

const BAD = {
  "no-export.ts": `export const notAScenario = { name: "x" };\n`,
  "two-styles.ts": `import { defineScenario } from "wirelab/bench";
export default defineScenario({
  name: "twice",
  operation: "nothing",
  styles: [
    { name: "same", listen: (reactor, endpoint) => reactor.listen(endpoint, null as never) },
    { name: "same", listen: (reactor, endpoint) => reactor.listen(endpoint, null as never) },
  ],
  client: { operation: async () => {} },
});
`,
  "bad-compare.ts": `import { defineScenario } from "wirelab/bench";
export default defineScenario({
  name: "compare",
  operation: "nothing",
  styles: [{ name: "only", listen: (reactor, endpoint) => reactor.listen(endpoint, null as never) }],
  client: { operation: async () => {} },
  compare: [["only", "missing" as "only"]],
});
`,
  "throwing-style.ts": `import counter from "./counter-scenario.js";
import { defineScenario } from "wirelab/bench";
import type { ServerStyle } from "wirelab/bench";
const working: ServerStyle = counter.styles[0]!;
export default defineScenario({
  name: "half-broken",
  operation: counter.operation,
  styles: [working, { name: "broken", listen: () => { throw new Error("this style cannot start"); } }],
  client: counter.client,
});
`,
};

describe("the packed package, installed into a fresh project", () => {
  let work: string;
  let project: string;
  let tarball: string;

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), "wirelab-package-"));
    const pack = await run("npm", ["pack", "--pack-destination", work, "--prefer-offline", "--silent"], ROOT, 300_000);
    expect(pack.code, pack.stderr).toBe(0);
    tarball = path.join(work, readdirSync(work).find((f) => f.endsWith(".tgz"))!);
    project = path.join(work, "project");
    mkdirSync(project);
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "wirelab-user", private: true, type: "module" }, null, 2));
    const install = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--save-dev", tarball, ...PEERS.map((p) => `${p}@${version(p)}`)], project, 300_000);
    expect(install.code, install.stderr).toBe(0);
    writeFileSync(
      path.join(project, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: false, noEmit: true, types: ["node"] } }, null, 2),
    );
    writeFileSync(path.join(project, "counter-scenario.ts"), COUNTER_SCENARIO);
    writeFileSync(path.join(project, "entries.ts"), ENTRIES);
    writeFileSync(path.join(project, "counter.test.ts"), VITEST_SUITE);
    mkdirSync(path.join(project, "leftover"));
    writeFileSync(path.join(project, "leftover", "leftover.test.ts"), LEFTOVER_SUITE);
    writeFileSync(path.join(project, "vitest.config.ts"), `import { defineConfig } from "vitest/config";\nexport default defineConfig({ test: { setupFiles: ["wirelab/vitest"] } });\n`);
    for (const [name, text] of Object.entries(BAD)) writeFileSync(path.join(project, name), text);
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const block = /<!-- readme:scenario\.ts -->\n```ts\n([\s\S]*?)\n```/.exec(readme)?.[1];
    expect(block, "the README's scenario.ts block").toBeDefined();
    writeFileSync(path.join(project, "scenario.ts"), block!);
  }, 600_000);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it("ships compiled code, its sources (for the source maps) and the license; declares no chart or load library as a dependency", () => {
    const root = path.join(project, "node_modules", "wirelab");
    for (const f of ["LICENSE", "dist/scenarios/harness/bin.js", "dist/runtime/index.d.ts", "dist/scenarios/peers/twisted_tcp_echo.py", "runtime/index.ts"]) expect(existsSync(path.join(root, f)), f).toBe(true);
    const map = JSON.parse(readFileSync(path.join(root, "dist/runtime/deferred.js.map"), "utf8")) as { sources: string[] };
    for (const source of map.sources) expect(existsSync(path.resolve(root, "dist/runtime", source)), source).toBe(true);
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["hdr-histogram-js", "pidusage", "simple-statistics"]);
  });

  it("passes publint and @arethetypeswrong/cli (ESM only, as the package is)", async () => {
    const bin = (name: string): string => path.join(ROOT, "node_modules", ".bin", name);
    const publint = await run(bin("publint"), [path.join(project, "node_modules", "wirelab"), "--pack", "false", "--strict"], project);
    expect(publint.code, publint.stdout + publint.stderr).toBe(0);
    expect(publint.stdout).toContain("All good!");
    const attw = await run(bin("attw"), [tarball, "--profile", "esm-only", "--format", "table-flipped"], project, 120_000);
    // attw exits 1 on any problem in the resolutions an ESM-only package supports.
    expect(attw.code, attw.stdout + attw.stderr).toBe(0);
  }, 150_000);

  it("imports every entry, types checked by tsc", async () => {
    const tsc = await run("npx", ["--no-install", "tsc", "-p", "."], project, 180_000);
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
  }, 200_000);

  it("loads neither the chart libraries nor autocannon nor tsx on import of any entry", async () => {
    writeFileSync(path.join(project, "hooks.mjs"), `export async function resolve(specifier, context, next) {\n  if (/^(vega|vega-lite|autocannon|tsx)(\\/|$)/.test(specifier)) console.log("LOADED " + specifier);\n  return next(specifier, context);\n}\n`);
    writeFileSync(
      path.join(project, "import-all.mjs"),
      `import { register } from "node:module";\nregister("./hooks.mjs", import.meta.url);\nfor (const entry of ["wirelab", "wirelab/fakes", "wirelab/bench", "wirelab/report"]) await import(entry);\nconsole.log("imported");\n`,
    );
    const r = await run(process.execPath, ["import-all.mjs"], project);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("imported");
  });

  it("runs a vitest suite on wirelab/vitest and the fakes; the setup fails a test that leaves an unhandled error", async () => {
    const ok = await run("npx", ["--no-install", "vitest", "run", "counter.test.ts"], project, 180_000);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const leftover = await run("npx", ["--no-install", "vitest", "run", "leftover"], project, 180_000);
    expect(leftover.code).not.toBe(0);
    expect(leftover.stdout + leftover.stderr).toMatch(/UncleanReactorError: the test was left unclean: 1 unhandled Deferred error: .*nobody handles me/);
  }, 400_000);

  it("benchmarks the project's own scenario on real sockets, writes results and the report", async () => {
    const r = await wirelab(project, ["bench", "./counter-scenario.ts", "--connections", "1,10", "--duration", "300ms", "--warmup", "100ms", "--repeat", "1", "--out", "r-real"], true);
    expect(r.code, r.stderr).toBe(0);
    const results = readResults(path.join(project, "r-real", "results.json"));
    expect(results.points.map((p) => `${p.style}/${p.connections}`).sort()).toEqual(["plain-node/1", "plain-node/10", "protocol/1", "protocol/10", "stream/1", "stream/10"]);
    for (const p of results.points) {
      expect(p.failure).toBeUndefined();
      expect(p.loadGenerator).toBe("client");
      expect(p.operations).toBeGreaterThan(0);
      expect([p.errors, p.timeouts, p.mismatches]).toEqual([0, 0, 0]);
      expect(p.serverCpuUsPerOp).toBeGreaterThan(0);
    }
    expect(results.scenarios[0]!.comparisons).toEqual([
      { subject: "stream", reference: "protocol" },
      { subject: "protocol", reference: "plain-node" },
    ]);
    const md = readFileSync(path.join(project, "r-real", "report.md"), "utf8");
    expect(md).toContain("### counter: stream vs protocol");
    expect(readdirSync(path.join(project, "r-real", "charts")).length).toBeGreaterThan(0);
  }, (LOCK_WAIT_S + 180) * 1000);

  it("runs the same scenario on SimNetwork with --sim, skipping the Node style visibly", async () => {
    const r = await wirelab(project, ["bench", "./counter-scenario.ts", "--sim", "--connections", "1,10", "--repeat", "1", "--out", "r-sim", "--no-report"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("skipping counter/plain-node in --sim: it needs raw Node");
    const results = readResults(path.join(project, "r-sim", "results.json"));
    expect(results.points.map((p) => `${p.style}/${p.connections}/${p.mode}`).sort()).toEqual(["protocol/1/sim", "protocol/10/sim", "stream/1/sim", "stream/10/sim"]);
    expect(results.points.every((p) => p.failure === undefined && p.operations > 0)).toBe(true);
  }, 200_000);

  it("loads the same server started separately with --target: CPU from --server-pid, else unknown; then wirelab report", async () => {
    const server = spawn(path.join(project, "node_modules", ".bin", "wirelab"), ["serve", "./counter-scenario.ts", "--style", "protocol", "--port", "0"], { cwd: project, stdio: ["ignore", "pipe", "inherit"] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let text = "";
        server.stdout.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          const m = /listening on (\d+)/.exec(text);
          if (m !== null) resolve(Number(m[1]));
        });
        server.once("exit", (code) => reject(new Error(`wirelab serve exited with ${String(code)}`)));
      });
      const common = ["--connections", "1,10", "--duration", "300ms", "--warmup", "100ms", "--repeat", "1", "--no-report"];
      const withPid = await wirelab(project, ["bench", "./counter-scenario.ts", "--target", `served=127.0.0.1:${port}`, "--server-pid", String(server.pid), ...common, "--out", "r-target"], true);
      expect(withPid.code, withPid.stderr).toBe(0);
      const known = readResults(path.join(project, "r-target", "results.json"));
      expect(known.points.map((p) => p.style)).toEqual(["served", "served"]);
      for (const p of known.points) {
        expect(p.failure).toBeUndefined();
        expect(p.serverCpuUsPerOp).toBeGreaterThan(0);
        expect(p.serverRssBytes).toBeGreaterThan(1024 * 1024);
      }
      expect(known.scenarios[0]!.styles).toEqual([{ name: "served", description: `127.0.0.1:${port} (pid ${String(server.pid)})`, runsOn: "target" }]);
      const noPid = await wirelab(project, ["bench", "./counter-scenario.ts", "--target", `127.0.0.1:${port}`, ...common, "--out", "r-unknown"], true);
      expect(noPid.code, noPid.stderr).toBe(0);
      for (const p of readResults(path.join(project, "r-unknown", "results.json")).points) {
        expect(p.operations).toBeGreaterThan(0);
        expect([p.serverCpuPercent, p.serverCpuUsPerOp, p.serverRssBytes]).toEqual([null, null, null]);
      }
      expect(noPid.stderr).toMatch(/server cpu unknown/);
    } finally {
      server.kill("SIGTERM");
    }
    const rep = await wirelab(project, ["report", "r-real/results.json", "r-unknown/results.json", "--out", "rep"]);
    expect(rep.code, rep.stderr).toBe(0);
    const md = readFileSync(path.join(project, "rep", "report.md"), "utf8");
    expect(md).toMatch(/^\| 10 \| target \| .* \| unknown \| unknown \| 1 \| .*$/m);
    expect(existsSync(path.join(project, "rep", "report.html"))).toBe(true);
  }, 2 * (LOCK_WAIT_S + 120) * 1000);

  it("runs the README's scenario as the README says: --sim, then real sockets with its report", async () => {
    const sim = await wirelab(project, ["bench", "./scenario.ts", "--sim", "--connections", "1,5", "--repeat", "1", "--out", "readme-sim", "--no-report"]);
    expect(sim.code, sim.stderr).toBe(0);
    expect(readResults(path.join(project, "readme-sim", "results.json")).points.every((p) => p.failure === undefined)).toBe(true);
    const real = await wirelab(project, ["bench", "./scenario.ts", "--connections", "1,10", "--duration", "300ms", "--warmup", "100ms", "--repeat", "1", "--out", "readme-real"], true);
    expect(real.code, real.stderr).toBe(0);
    expect(readFileSync(path.join(project, "readme-real", "report.md"), "utf8")).toContain("### shout: async vs callback");
    const list = await wirelab(project, ["list", "./scenario.ts"]);
    expect(list.stdout).toMatch(/^shout: one line shouted back$/m);
  }, (LOCK_WAIT_S + 300) * 1000);

  it("answers bad input with a clear error and exit code 2", async () => {
    const cases: [string[], RegExp][] = [
      [["bench", "./missing.ts"], /invalid option scenario: no such file: \.\/missing\.ts/],
      [["bench", "./no-export.ts"], /\.\/no-export\.ts exports no scenario \(export default defineScenario/],
      [["bench", "./two-styles.ts"], /invalid option styles\[1\]\.name: two styles are named "same"/],
      [["bench", "./bad-compare.ts"], /invalid option compare\[0\]: names a style the scenario does not have: "missing"/],
      [["bench", "./counter-scenario.ts", "--target", `127.0.0.1:${await closedPort()}`], /invalid option --target: nothing listens at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/],
      [["bench", "./counter-scenario.ts", "--duration", "fast"], /invalid option --duration/],
    ];
    for (const [args, message] of cases) {
      const r = await wirelab(project, args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  }, 300_000);

  it("a style that throws at start fails its points, named; the rest of the sweep runs; exit 2", async () => {
    const r = await wirelab(project, ["bench", "./throwing-style.ts", "--connections", "1", "--duration", "200ms", "--warmup", "50ms", "--repeat", "1", "--out", "r-throw", "--no-report"], true);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/half-broken\/broken: the server did not start: .*this style cannot start/);
    const results = readResults(path.join(project, "r-throw", "results.json"));
    const broken = results.points.find((p) => p.style === "broken")!;
    expect(broken.failure).toMatch(/^server did not start: .*Error: this style cannot start/);
    const ok = results.points.find((p) => p.style === "protocol")!;
    expect(ok.failure).toBeUndefined();
    expect(ok.operations).toBeGreaterThan(0);
  }, (LOCK_WAIT_S + 120) * 1000);
});
