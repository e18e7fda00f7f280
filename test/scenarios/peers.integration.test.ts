/**
 * The Twisted and Tornado peer servers of the scenario benchmarks (scenarios/peers/*.py, run by
 * /usr/bin/python3) keep the contract the runner relies on: the first stdout line is
 * `listening on PORT`; tcp-echo peers echo what they get; http-hello peers answer `GET /` with
 * 200 `Hello, world` (text/plain) over a connection that stays open for the next request; and
 * every peer exits 0 soon after SIGTERM or SIGINT, even with a client still connected.
 *
 * Without Twisted or Tornado for /usr/bin/python3 the suite is skipped with a warning, unless
 * WIRELAB_REQUIRE_PEERS is set, in which case it runs and fails. Every peer is killed by the
 * test that started it (by its PID) if it is still running when the test ends.
 */

import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { connect } from "node:net";
import type { Socket } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const PYTHON = "/usr/bin/python3";
const REQUIRED = (process.env.WIRELAB_REQUIRE_PEERS ?? "") !== "";
const HAVE_PEERS = spawnSync(PYTHON, ["-c", "import twisted, tornado"], { timeout: 20_000 }).status === 0;
const SKIP = !HAVE_PEERS && !REQUIRED;
if (SKIP) {
  console.warn(
    `Peer server tests SKIPPED: ${PYTHON} cannot import twisted and tornado (install python3-twisted and python3-tornado, or set WIRELAB_REQUIRE_PEERS=1 to make this a failure)`,
  );
}

/** How long a peer may take to print its `listening on` line, in ms (Twisted imports are slow). */
const START_TIMEOUT_MS = 15_000;
/** How long one exchange may take, in ms. */
const EXCHANGE_TIMEOUT_MS = 10_000;
/** How soon a peer must exit after SIGTERM or SIGINT, in ms. */
const EXIT_TIMEOUT_MS = 5_000;
/** The tcp-echo workload's message size, in bytes. */
const MESSAGE_BYTES = 64;
/** Ping-pong rounds per echo check. */
const ROUNDS = 5;

type Kind = "tcp-echo" | "http-hello";

const SCRIPTS: readonly { script: string; kind: Kind }[] = [
  { script: "twisted_tcp_echo.py", kind: "tcp-echo" },
  { script: "twisted_http_hello.py", kind: "http-hello" },
  { script: "tornado_tcp_echo.py", kind: "tcp-echo" },
  { script: "tornado_http_hello.py", kind: "http-hello" },
];

interface Peer {
  readonly child: ChildProcess;
  readonly port: number;
  /** Everything the peer wrote on stderr so far, for failure messages. */
  stderr(): string;
  /** Resolves with the exit code and signal, or rejects after EXIT_TIMEOUT_MS. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: ChildProcess[] = [];

afterEach(() => {
  // A peer still running here means its test failed; kill it by PID so nothing is left behind.
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

/** Rejects with `what` after `ms` unless `promise` settles first. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts `script` on 127.0.0.1 port 0 and waits for its `listening on PORT` line. */
async function startPeer(script: string): Promise<Peer> {
  const path = fileURLToPath(new URL(`../../scenarios/peers/${script}`, import.meta.url));
  const child = spawn(PYTHON, [path, "--host", "127.0.0.1", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const lines = createInterface({ input: child.stdout });
  const first = new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    void exit.then(({ code, signal }) => reject(new Error(`${script} exited (${code ?? signal}) before listening: ${stderr}`)));
  });
  const line = await within(START_TIMEOUT_MS, `${script} to print its first line`, first);
  const match = /^listening on (\d+)$/.exec(line);
  expect(match, `first line of ${script}: ${JSON.stringify(line)}`).not.toBeNull();
  const port = Number(match![1]);
  expect(port).toBeGreaterThan(0);
  return {
    child,
    port,
    stderr: () => stderr,
    exited: () => within(EXIT_TIMEOUT_MS, `${script} to exit`, exit),
  };
}

/** Connects to 127.0.0.1:`port`. */
async function open(port: number): Promise<Socket> {
  const socket = connect({ host: "127.0.0.1", port });
  await within(EXCHANGE_TIMEOUT_MS, "connect", new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve).once("error", reject);
  }));
  return socket;
}

/**
 * Reads from `socket` until `complete(buffered)` returns how many bytes make a whole message,
 * and resolves with that message; rejects if the socket ends or fails first.
 */
function readMessage(socket: Socket, complete: (buffered: Buffer) => number | null): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const size = complete(buffered);
      if (size === null) return;
      cleanup();
      // Nothing was asked for beyond this message, so nothing more may have come.
      if (buffered.length !== size) reject(new Error(`${buffered.length - size} bytes beyond the expected message`));
      else resolve(buffered);
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error(`connection ended after ${buffered.length} bytes: ${JSON.stringify(buffered.toString("latin1"))}`));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const cleanup = (): void => {
      socket.off("data", onData).off("end", onEnd).off("error", onError);
    };
    socket.on("data", onData).on("end", onEnd).on("error", onError);
  });
}

/** The length of the first complete HTTP/1.1 response in `buffered` (Content-Length framed). */
function httpResponseLength(buffered: Buffer): number | null {
  const headerEnd = buffered.indexOf("\r\n\r\n");
  if (headerEnd < 0) return null;
  const head = buffered.subarray(0, headerEnd).toString("latin1");
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length === null) throw new Error(`response without Content-Length: ${head}`);
  const total = headerEnd + 4 + Number(length[1]);
  return buffered.length >= total ? total : null;
}

/** Echoes ROUNDS messages of MESSAGE_BYTES distinct bytes, one at a time, over one connection. */
async function checkEcho(port: number): Promise<void> {
  const socket = await open(port);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const message = Buffer.from(Array.from({ length: MESSAGE_BYTES }, (_, i) => (i * 37 + round * 11) % 256));
      const reply = readMessage(socket, (b) => (b.length >= MESSAGE_BYTES ? b.length : null));
      socket.write(message);
      expect(await within(EXCHANGE_TIMEOUT_MS, `echo round ${round}`, reply)).toEqual(message);
    }
  } finally {
    socket.destroy();
  }
}

/** GET / with fetch, then two requests on one raw connection, which must stay open between them. */
async function checkHello(port: number): Promise<void> {
  const response = await within(EXCHANGE_TIMEOUT_MS, "fetch", fetch(`http://127.0.0.1:${port}/`));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain\b/);
  expect(response.headers.get("connection")?.toLowerCase() ?? "").not.toBe("close");
  expect(await response.text()).toBe("Hello, world");

  const socket = await open(port);
  try {
    for (let request = 0; request < 2; request++) {
      const reply = readMessage(socket, httpResponseLength);
      socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      const text = (await within(EXCHANGE_TIMEOUT_MS, `request ${request} on one connection`, reply)).toString("latin1");
      expect(text).toMatch(/^HTTP\/1\.1 200 /);
      expect(text).not.toMatch(/\r\nconnection:\s*close/i);
      expect(text.endsWith("\r\n\r\nHello, world")).toBe(true);
    }
  } finally {
    socket.destroy();
  }
}

describe.skipIf(SKIP)("scenario peer servers (Twisted, Tornado)", () => {
  for (const { script, kind } of SCRIPTS) {
    it(`${script}: announces its port, serves ${kind}, exits 0 on SIGTERM`, async () => {
      const peer = await startPeer(script);
      if (kind === "tcp-echo") await checkEcho(peer.port);
      else await checkHello(peer.port);
      expect(peer.child.kill("SIGTERM")).toBe(true);
      expect(await peer.exited(), peer.stderr()).toEqual({ code: 0, signal: null });
      expect(peer.stderr()).toBe("");
    });

    it(`${script}: exits 0 on SIGINT with a client still connected`, async () => {
      const peer = await startPeer(script);
      const socket = await open(peer.port);
      const closedByPeer = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      socket.on("error", () => {
        // The peer closing under us may reset the connection; closing it is what we expect.
      });
      try {
        expect(peer.child.kill("SIGINT")).toBe(true);
        expect(await peer.exited(), peer.stderr()).toEqual({ code: 0, signal: null });
        await within(EXCHANGE_TIMEOUT_MS, "the peer to close the client's connection", closedByPeer);
        expect(peer.stderr()).toBe("");
      } finally {
        socket.destroy();
      }
    });
  }
});
