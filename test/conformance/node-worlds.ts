/**
 * The real worlds of the conformance suite: NodeReactor on 127.0.0.1 over TCP, over a unix
 * socket, and over TLS (a throwaway self-signed certificate made with openssl); real sockets,
 * real time. Only integration tests import this.
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Factory, Protocol } from "../../runtime/protocol.js";
import type { ListeningPort } from "../../runtime/reactor.js";
import { NodeReactor } from "../../runtime/node/node-reactor.js";
import { CONNECT_TIMEOUT_S, WORLD_HIGH_WATER_MARK, WORLD_MAX_WRITE_BUFFER_SIZE, settle } from "./world.js";
import type { ReactorWorld, TransportKind, World } from "./world.js";

/** How long a real-socket wait may take before the test fails, in milliseconds. */
export const TCP_WAIT_LIMIT_MS = 10_000;

/** Polls `condition` on real time, rethrowing errors the reactor reported. */
async function poll(condition: () => boolean, what: string, errors: Error[], label: string): Promise<void> {
  const deadline = performance.now() + TCP_WAIT_LIMIT_MS;
  const check = (): void => {
    const error = errors.shift();
    if (error !== undefined) throw error;
  };
  while (!condition()) {
    check();
    if (performance.now() > deadline) throw new Error(`${label}: gave up after ${TCP_WAIT_LIMIT_MS} ms waiting for ${what}`);
    await new Promise<void>((resolve) => {
      setTimeout(resolve, 1);
    });
  }
  check();
}

/** A directory for unix sockets and TLS files, removed at teardown. */
function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), "wirelab-conformance-"));
}

let tlsFiles: { key: string; cert: string } | null = null;

/** Whether openssl is there to make the TLS world's certificate. */
export function haveOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed key and certificate for 127.0.0.1, made once per test run. */
function tlsCertificate(): { key: string; cert: string } {
  if (tlsFiles !== null) return tlsFiles;
  const dir = scratchDir();
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
    { stdio: "ignore" },
  );
  tlsFiles = { key, cert };
  return tlsFiles;
}

/** A protocol that aborts its connection as soon as it is made. */
class Resetter extends Protocol {
  override connectionMade(): void {
    this.transport.abortConnection();
  }
}

/** NodeReactor over `kind`: the same bodies, on the kernel's sockets. */
export function nodeWorld(kind: TransportKind): World {
  const errors: Error[] = [];
  const reactor = new NodeReactor({ highWaterMark: WORLD_HIGH_WATER_MARK, maxWriteBufferSize: WORLD_MAX_WRITE_BUFFER_SIZE, errorHook: (error) => errors.push(error) });
  const stopped = reactor.run();
  const ports: ListeningPort[] = [];
  const dir = kind === "unix" ? scratchDir() : null;
  let sockets = 0;
  const label = kind === "tcp" ? "TCP 127.0.0.1" : kind === "unix" ? "unix socket" : "TLS 127.0.0.1";
  const serverEndpoint = (): string => {
    if (kind === "unix") return `unix:${join(dir!, `s${sockets++}.sock`)}`;
    if (kind === "tls") {
      const { key, cert } = tlsCertificate();
      return `tls:0:interface=127.0.0.1:privateKey=${key}:certKey=${cert}`;
    }
    return "tcp:0:interface=127.0.0.1";
  };
  const clientEndpoint = (port: ListeningPort): string => {
    if (kind === "unix") return `unix:${port.getHost().host}`;
    if (kind === "tls") return `tls:127.0.0.1:${port.getHost().port}:trustRoots=${tlsCertificate().cert}`;
    return `tcp:127.0.0.1:${port.getHost().port}`;
  };
  /** A plain TCP port whose protocol `make` builds, for the TLS client to meet. */
  const plainPort = async (make: () => Protocol): Promise<ListeningPort> => {
    const port = await reactor.listen("tcp:0:interface=127.0.0.1", Factory.forProtocol(make));
    ports.push(port);
    return port;
  };
  const world: World = {
    name: label,
    kind,
    server: reactor,
    client: reactor,
    async listen(factory) {
      const port = await reactor.listen(serverEndpoint(), factory);
      ports.push(port);
      return clientEndpoint(port);
    },
    async refusedEndpoint() {
      // A port that listened, and stopped: nothing is there now.
      const port = await reactor.listen(serverEndpoint(), Factory.forProtocol(() => new Protocol()));
      const endpoint = clientEndpoint(port);
      await port.stopListening();
      return endpoint;
    },
    // On loopback a SYN is always answered; a TLS server that never speaks is the one case.
    neverAnsweringEndpoint:
      kind === "tls"
        ? async () => `tls:127.0.0.1:${(await plainPort(() => new Protocol())).getHost().port}:verify=no:timeout=${CONNECT_TIMEOUT_S}`
        : null,
    // The kernel completes the TCP handshake before any code runs; a TLS handshake can be cut.
    resettingEndpoint: kind === "tls" ? async () => `tls:127.0.0.1:${(await plainPort(() => new Resetter())).getHost().port}:verify=no` : null,
    runUntil: (condition, what) => poll(condition, what, errors, label),
    wait(promise, what) {
      return settle((condition, label) => world.runUntil(condition, label), promise, what);
    },
    async teardown() {
      for (const port of ports) await port.stopListening();
      // A body may have stopped the reactor already.
      if (reactor.running) await reactor.stop();
      await stopped;
      if (dir !== null) rmSync(dir, { recursive: true, force: true });
      const error = errors.shift();
      if (error !== undefined) throw error;
    },
  };
  return world;
}

/** A NodeReactor that has not run, and a running peer NodeReactor. */
export function nodeReactorWorld(): ReactorWorld {
  const errors: Error[] = [];
  const reactor = new NodeReactor({ highWaterMark: WORLD_HIGH_WATER_MARK, errorHook: (error) => errors.push(error) });
  const peerErrors: Error[] = [];
  const peer = new NodeReactor({ errorHook: (error) => peerErrors.push(error) });
  const peerStopped = peer.run();
  const world: ReactorWorld = {
    name: "NodeReactor",
    reactor,
    errors,
    peer,
    listenEndpoint: "tcp:0:interface=127.0.0.1",
    connectEndpoint: (port) => `tcp:127.0.0.1:${port.getHost().port}`,
    peerListenEndpoint: "tcp:0:interface=127.0.0.1",
    peerConnectEndpoint: (port) => `tcp:127.0.0.1:${port.getHost().port}`,
    udpInterface: "127.0.0.1",
    udpAddress: (port) => ({ host: "127.0.0.1", port }),
    runUntil: (condition, what) => poll(condition, what, peerErrors, "NodeReactor"),
    wait(promise, what) {
      return settle((condition, label) => world.runUntil(condition, label), promise, what);
    },
    async elapse(ms) {
      await new Promise<void>((resolve) => {
        setTimeout(resolve, ms);
      });
    },
    async teardown() {
      if (reactor.running) await reactor.stop();
      await peer.stop();
      await peerStopped;
      const error = peerErrors.shift();
      if (error !== undefined) throw error;
    },
  };
  return world;
}
