/**
 * `memory-flood`: how much a server's memory grows under one client that does not read, for
 * the scenario servers (every style): the figures of issue 15, reproducible.
 *
 * ```sh
 * npm run bench:memory -- [--duration 8s]
 *   [--cases http-pipelining,ws-ping-flood,ws-slow-subscriber,tcp-echo-200mib]
 *   [--styles callback,async,baseline]
 * ```
 *
 * Each case starts the style's server (the scenario's style, as `wirelab serve` does) alone in a
 * child process,
 * floods it from this process over loopback for at most `--duration`, and samples the child's
 * resident memory (`VmRSS` in `/proc/PID/status`) every 50 ms:
 *
 * - `http-pipelining` (http-hello): pipelined `GET /` requests, written as fast as the server
 *   takes them; the responses are never read.
 * - `ws-ping-flood` (ws-broadcast): a subscriber that sends 125-byte pings as fast as the server
 *   takes them and never reads the pongs.
 * - `ws-slow-subscriber` (ws-broadcast): a subscriber that never reads, and a publisher sending
 *   64-byte messages as fast as the server takes them.
 * - `tcp-echo-200mib` (tcp-echo): 200 MiB written, the echo never read.
 * - `line-chat-slow-reader` (line-chat): a member of the room that never reads, and another
 *   that sends 64-byte lines as fast as the server takes them (and reads the room).
 *
 * It prints one Markdown table: RSS when idle, the peak during the flood, the growth, how much
 * the server took from the client, and whether the server closed the connection.
 *
 * @module
 */

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import * as net from "node:net";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";

import { builtinScenarioUrl, importScenario } from "./harness/load-scenario.js";
import type { ServerHandle } from "./harness/scenario.js";
import { startStyle } from "./harness/start-style.js";

const CASES = {
  "http-pipelining": { scenario: "http-hello", taken: "requests" },
  "ws-ping-flood": { scenario: "ws-broadcast", taken: "pings" },
  "ws-slow-subscriber": { scenario: "ws-broadcast", taken: "messages" },
  "tcp-echo-200mib": { scenario: "tcp-echo", taken: "MiB" },
  "line-chat-slow-reader": { scenario: "line-chat", taken: "lines" },
} as const;
type CaseName = keyof typeof CASES;

const STYLES = ["callback", "async", "baseline"] as const;
type Style = (typeof STYLES)[number];

const MiB = 1024 * 1024;
const SAMPLE_MS = 50;
const HOST = "127.0.0.1";

/** One case's outcome. */
interface Row {
  readonly name: CaseName;
  readonly style: Style;
  readonly idleRss: number;
  readonly peakRss: number;
  readonly taken: number;
  readonly closedByServer: boolean;
  readonly seconds: number;
}

// ---------------------------------------------------------------------------------------------
// The server child: `memory-flood.ts --serve SCENARIO STYLE` starts the style and prints its port.

async function serve(scenarioName: string, styleName: string): Promise<void> {
  const scenario = await importScenario(builtinScenarioUrl(scenarioName)!, scenarioName);
  const style = scenario.styles.find((s) => s.name === styleName);
  if (style === undefined) throw new Error(`${scenarioName} has no style ${styleName}`);
  const server: ServerHandle = await startStyle(style, { host: HOST, port: 0 });
  process.stdout.write(`listening ${server.port}\n`);
  process.on("SIGTERM", () => {
    process.exit(0);
  });
}

function startServer(scenarioName: string, styleName: string): Promise<{ child: ChildProcess; port: number }> {
  const self = fileURLToPath(import.meta.url);
  const node = [process.execPath, "--conditions=wirelab-source", "--import", "tsx", self, "--serve", scenarioName, styleName];
  // The server alone on CPU 0 when there is another for this process, as the bench does.
  const argv = cpus().length >= 2 ? ["taskset", "-c", "0", ...node] : node;
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (data: Buffer) => {
      out += data.toString();
      const m = /listening (\d+)/.exec(out);
      if (m !== null) resolve({ child, port: Number(m[1]) });
    });
    child.once("exit", (code) => reject(new Error(`server ${scenarioName}/${styleName} exited with ${code}`)));
  });
}

function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

// ---------------------------------------------------------------------------------------------
// Clients

/** A connected socket that is never read (`resume()` is never called). */
async function deafSocket(port: number): Promise<net.Socket> {
  const socket = net.connect(port, HOST);
  socket.setNoDelay(true);
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.pause();
  return socket;
}

/**
 * Writes `next()` as fast as the peer takes it (waiting for `'drain'` whenever the socket's
 * buffer is full) until `deadline`, `next()` returns null or the connection ends.
 * @returns bytes the kernel took from this socket, and whether the connection ended.
 */
async function flood(socket: net.Socket, next: () => Buffer | null, deadline: number): Promise<{ bytes: number; ended: boolean }> {
  let ended = false;
  const end = (): void => {
    ended = true;
  };
  socket.once("close", end);
  socket.once("end", end);
  socket.once("error", end);
  let written = 0;
  while (!ended && performance.now() < deadline) {
    const piece = next();
    if (piece === null) break;
    written += piece.length;
    if (!socket.write(piece)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          socket.off("drain", done);
          socket.off("close", done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, deadline - performance.now()));
        socket.once("drain", done);
        socket.once("close", done);
      });
    }
  }
  return { bytes: written - socket.writableLength, ended };
}

const UPGRADE = (path: string): Buffer =>
  Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`, "latin1");

/** A client frame with a zero masking key (a valid key: the payload goes as it is). */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const head = payload.length < 126 ? Buffer.from([0x80 | opcode, 0x80 | payload.length, 0, 0, 0, 0]) : Buffer.from([0x80 | opcode, 0x80 | 126, payload.length >> 8, payload.length & 0xff, 0, 0, 0, 0]);
  return Buffer.concat([head, payload]);
}

/** Runs one client against a server at `port` until `deadline`; returns what the server took. */
async function runClient(name: CaseName, port: number, deadline: number): Promise<{ taken: number; ended: boolean; end?: number }> {
  switch (name) {
    case "http-pipelining": {
      const request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
      const batch = Buffer.from(request.repeat(256), "latin1");
      const socket = await deafSocket(port);
      const r = await flood(socket, () => batch, deadline);
      socket.destroy();
      return { taken: Math.floor(r.bytes / request.length), ended: r.ended };
    }
    case "ws-ping-flood": {
      const ping = maskedFrame(0x9, Buffer.alloc(125, 0x2e));
      const batch = Buffer.concat(Array.from({ length: 512 }, () => ping));
      const socket = await deafSocket(port);
      socket.write(UPGRADE("/"));
      const r = await flood(socket, () => batch, deadline);
      socket.destroy();
      return { taken: Math.floor(r.bytes / ping.length), ended: r.ended };
    }
    case "ws-slow-subscriber": {
      const subscriber = await deafSocket(port);
      subscriber.write(UPGRADE("/"));
      let subscriberEnded = false;
      const ended = new Promise<void>((resolve) => {
        subscriber.once("close", () => {
          subscriberEnded = true;
          resolve();
        });
      });
      await sleep(200);
      const publisher = net.connect(port, HOST);
      publisher.on("error", () => {});
      publisher.on("data", () => {});
      await new Promise<void>((resolve) => publisher.once("connect", resolve));
      publisher.write(UPGRADE("/publish"));
      const message = maskedFrame(0x2, Buffer.alloc(64, 0x2e));
      const batch = Buffer.concat(Array.from({ length: 256 }, () => message));
      const r = await flood(publisher, () => batch, deadline);
      publisher.destroy();
      const floodEnd = performance.now();
      // A socket that does not read does not see its end either: read what is left, briefly.
      subscriber.on("data", () => {});
      subscriber.resume();
      await Promise.race([ended, sleep(2000)]);
      subscriber.destroy();
      return { taken: Math.floor(r.bytes / message.length), ended: subscriberEnded, end: floodEnd };
    }
    case "line-chat-slow-reader": {
      const deaf = await deafSocket(port);
      let deafEnded = false;
      const ended = new Promise<void>((resolve) => {
        deaf.once("close", () => {
          deafEnded = true;
          resolve();
        });
      });
      const talker = net.connect(port, HOST);
      talker.on("error", () => {});
      talker.on("data", () => {});
      await new Promise<void>((resolve) => talker.once("connect", resolve));
      const line = `${"chat line ".repeat(7)}..\n`;
      const batch = Buffer.from(line.repeat(256), "latin1");
      const r = await flood(talker, () => batch, deadline);
      talker.destroy();
      const floodEnd = performance.now();
      deaf.on("data", () => {});
      deaf.resume();
      await Promise.race([ended, sleep(2000)]);
      deaf.destroy();
      return { taken: Math.floor(r.bytes / line.length), ended: deafEnded, end: floodEnd };
    }
    case "tcp-echo-200mib": {
      const total = 200 * MiB;
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      const socket = await deafSocket(port);
      const r = await flood(
        socket,
        () => {
          if (sent >= total) return null;
          sent += chunk.length;
          return chunk;
        },
        deadline,
      );
      // What was written and not yet taken still goes, until the deadline: the server's choice.
      while (socket.writableLength > 0 && performance.now() < deadline && !socket.destroyed) await sleep(SAMPLE_MS);
      const taken = sent - socket.writableLength;
      socket.destroy();
      return { taken: taken / MiB, ended: r.ended };
    }
  }
}

async function runCase(name: CaseName, style: Style, durationMs: number): Promise<Row> {
  const { child, port } = await startServer(CASES[name].scenario, style);
  const pid = child.pid!;
  try {
    await sleep(300);
    const idleRss = rssOf(pid);
    let peakRss = idleRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssOf(pid));
    }, SAMPLE_MS);
    const started = performance.now();
    const result = await runClient(name, port, started + durationMs);
    const seconds = ((result.end ?? performance.now()) - started) / 1000;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, rssOf(pid));
    return { name, style, idleRss, peakRss, taken: result.taken, closedByServer: result.ended, seconds };
  } finally {
    child.kill("SIGKILL");
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once("exit", () => resolve());
    });
  }
}

function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text);
  if (m === null) throw new Error(`--duration: expected a number of seconds or "300ms"/"8s", got ${text}`);
  return m[2] === "ms" ? Number(m[1]) : Number(m[1]) * 1000;
}

function parseList<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  const items = text.split(",").filter((s) => s !== "");
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`${flag}: unknown ${item} (one of ${allowed.join(", ")})`);
  return items as T[];
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === "--serve") {
    await serve(argv[1]!, argv[2]!);
    return;
  }
  let durationMs = 8000;
  let cases = Object.keys(CASES) as CaseName[];
  let styles: Style[] = [...STYLES];
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--duration") durationMs = parseDuration(value);
    else if (flag === "--cases") cases = parseList(flag, value, Object.keys(CASES) as CaseName[]);
    else if (flag === "--styles") styles = parseList(flag, value, STYLES);
    else throw new Error(`unknown flag ${flag}`);
  }
  console.log(`memory-flood: Node ${process.version}, ${cpus()[0]?.model ?? "?"}, at most ${durationMs / 1000} s per case`);
  console.log("");
  console.log("| case | style | idle RSS (MiB) | peak RSS (MiB) | growth (MiB) | taken by the server | closed by the server | flood s |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |");
  for (const name of cases) {
    for (const style of styles) {
      const row = await runCase(name, style, durationMs);
      const taken = CASES[name].taken === "MiB" ? `${row.taken.toFixed(1)} MiB` : `${row.taken.toLocaleString("en-US")} ${CASES[name].taken}`;
      console.log(
        `| ${name} (${CASES[name].scenario}) | ${style} | ${(row.idleRss / MiB).toFixed(1)} | ${(row.peakRss / MiB).toFixed(1)} | ${((row.peakRss - row.idleRss) / MiB).toFixed(1)} | ${taken} | ${row.closedByServer ? "yes" : "no"} | ${row.seconds.toFixed(1)} |`,
      );
    }
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
});
