import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../../runtime/errors.js";
import { DEFAULT_MAX_RESTARTS, TASK_ID_ENV, forkProcesses, taskId } from "../../../runtime/node/fork-processes.js";

const FIXTURE = fileURLToPath(new URL("../../fixtures/fork-processes-server.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** The fixture bounds itself at 20 s; this bounds the fixture. */
const RUN_LIMIT_MS = 25_000;

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly lines: string[];
  readonly stderr: string;
}

const dirs: string[] = [];

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/**
 * Runs the fixture in its own process group, so that on overrun the whole group (the primary
 * we started and the children it forked) is killed through the primary's pid.
 */
async function runFixture(mode: string): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), "wirelab-fork-"));
  dirs.push(dir);
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, mode, dir], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const overrun = setTimeout(() => {
    if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  }, RUN_LIMIT_MS);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (exitCode, exitSignal) => {
        resolve([exitCode, exitSignal]);
      });
    });
    return { code, signal, lines: stdout.split("\n").filter((line) => line !== ""), stderr };
  } finally {
    clearTimeout(overrun);
  }
}

function field(line: string, name: string): string | undefined {
  return new RegExp(`(?:^| )${name}=(\\S+)`).exec(line)?.[1];
}

describe("forkProcesses across real processes", () => {
  it("forks 2 children on one shared port, restarts a crashed one with the same task id, and fires null when all exit cleanly", async () => {
    const run = await runFixture("restart");
    const context = `stdout:\n${run.lines.join("\n")}\nstderr:\n${run.stderr}`;
    expect(run.code, context).toBe(0);
    const lines = run.lines;

    // Each child saw its stable id in the environment and through taskId(); the primary has none.
    expect(lines.filter((l) => l.startsWith("primary pid=")).map((l) => field(l, "taskId\\(\\)")), context).toEqual(["null"]);
    const children = lines.filter((l) => l.startsWith("child "));
    expect(children.map((l) => field(l, "task")).sort(), context).toEqual(["0", "1", "1"]);
    for (const line of children) {
      expect(field(line, "env")).toBe(field(line, "task"));
      expect(field(line, "taskId\\(\\)")).toBe(field(line, "task"));
    }

    // Child 1 crashed once with exit code 3 and was forked again as task 1, in a new process.
    const crash = lines.filter((l) => l.startsWith("crash "));
    expect(crash, context).toHaveLength(1);
    const crashedPid = field(crash[0]!, "pid");
    const restart = lines.filter((l) => l.startsWith("restart "));
    expect(restart, context).toEqual([`restart task=1 pid=${crashedPid} code=3 signal=null restarts=1`]);
    const listening = lines.filter((l) => l.startsWith("listening "));
    expect(listening.map((l) => field(l, "task")).sort(), context).toEqual(["0", "1"]);
    const secondLife = listening.find((l) => field(l, "task") === "1")!;
    expect(field(secondLife, "pid")).not.toBe(crashedPid);
    expect(lines.indexOf(secondLife)).toBeGreaterThan(lines.indexOf(restart[0]!));

    // Both children listened on the same port, and connections to it reached both of them.
    const ports = new Set(listening.map((l) => field(l, "port")));
    expect(ports.size, context).toBe(1);
    const replies = lines.filter((l) => l.startsWith("reply ")).map((l) => l.slice("reply ".length));
    expect(replies, context).toHaveLength(4);
    expect(new Set(replies), context).toEqual(new Set(["served-by 0", "served-by 1"]));

    // Both exited cleanly (not restarted), and only then did the primary's Deferred fire, with null.
    expect(lines.filter((l) => l.startsWith("exit ")).map((l) => field(l, "task")).sort(), context).toEqual(["0", "1"]);
    expect(lines.at(-1), context).toBe("primary done result=null");
  });

  it("gives up with TooManyRestartsError once crashes (by signal) exceed maxRestarts", async () => {
    const run = await runFixture("give-up");
    const context = `stdout:\n${run.lines.join("\n")}\nstderr:\n${run.stderr}`;
    expect(run.code, context).toBe(0);
    const lines = run.lines;
    // maxRestarts 2: the first life and 2 restarts, then the third crash is one too many.
    expect(lines.filter((l) => l.startsWith("child task=0")), context).toHaveLength(3);
    const restarts = lines.filter((l) => l.startsWith("restart "));
    expect(restarts.map((l) => [field(l, "task"), field(l, "signal"), field(l, "code"), field(l, "restarts")]), context).toEqual([
      ["0", "SIGKILL", "null", "1"],
      ["0", "SIGKILL", "null", "2"],
    ]);
    const gaveUp = lines.filter((l) => l.startsWith("gave-up "));
    expect(gaveUp, context).toHaveLength(1);
    expect(gaveUp[0]).toMatch(/^gave-up code=WL_ERR_TOO_MANY_RESTARTS maxRestarts=2 cause=child 0 \(pid \d+\) was killed by SIGKILL$/);
    expect(lines).not.toContain("unexpected-success");
  });
});

describe("cancelling the primary's Deferred", () => {
  it("sends SIGTERM to every child and restarts none", async () => {
    const run = await runFixture("cancel");
    const context = `stdout:\n${run.lines.join("\n")}\nstderr:\n${run.stderr}`;
    expect(run.code, context).toBe(0);
    const lines = run.lines;
    expect(lines.filter((l) => l.startsWith("listening ")), context).toHaveLength(2);
    expect(lines, context).toContain("cancelled code=WL_ERR_CANCELLED");
    expect(lines.filter((l) => l.startsWith("child-exit ")), context).toEqual([
      "child-exit code=null signal=SIGTERM",
      "child-exit code=null signal=SIGTERM",
    ]);
    expect(lines.filter((l) => l.startsWith("restart ") || l.startsWith("child task=")), context).toHaveLength(2);
    expect(lines.at(-1), context).toBe("all-stopped");
  });
});

describe("forkProcesses in this (non-cluster) process", () => {
  it("taskId() is null outside a forked child, even with the variable set", () => {
    const saved = process.env[TASK_ID_ENV];
    process.env[TASK_ID_ENV] = "3";
    try {
      expect(taskId()).toBeNull();
    } finally {
      if (saved === undefined) delete process.env[TASK_ID_ENV];
      else process.env[TASK_ID_ENV] = saved;
    }
  });

  it("validates its options before forking anything", () => {
    expect(() => forkProcesses(1.5)).toThrow(InvalidOptionError);
    expect(() => forkProcesses(Number.NaN)).toThrow(/\bn\b/);
    expect(() => forkProcesses(2, { maxRestarts: -1 })).toThrow(/maxRestarts/);
    expect(() => forkProcesses(2, { maxRestarts: 0.5 })).toThrow(/maxRestarts/);
    expect(DEFAULT_MAX_RESTARTS).toBe(100);
  });
});
