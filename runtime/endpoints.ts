/**
 * Endpoint descriptions: where to listen and where to connect, as strings a user can put on a
 * command line, in Twisted's syntax.
 *
 * Server side:
 * - `tcp:PORT[:interface=HOST][:backlog=N]`, e.g. `tcp:8080:interface=127.0.0.1`
 * - `unix:PATH[:backlog=N][:mode=0660]`
 * - `tls:PORT[:interface=HOST][:backlog=N]:privateKey=KEY.pem:certKey=CERT.pem`
 *
 * Client side:
 * - `tcp:HOST:PORT[:timeout=SECONDS][:bindAddress=HOST]` (also `tcp:host=H:port=P`)
 * - `unix:PATH[:timeout=SECONDS]`
 * - `tls:HOST:PORT[:timeout=SECONDS][:trustRoots=CA.pem][:servername=NAME][:verify=no]`
 *
 * A colon inside a value is escaped with a backslash (`tcp:\:\:1:80` is `::1`, port 80).
 * Descriptions may also be given as objects, which is how keys and certificates held in
 * memory are passed.
 *
 * @module
 */

import { InvalidEndpointError } from "./errors.js";

/** Where to listen. */
export type ServerEndpoint = TcpServerEndpoint | UnixServerEndpoint | TlsServerEndpoint;

/** Where to connect. */
export type ClientEndpoint = TcpClientEndpoint | UnixClientEndpoint | TlsClientEndpoint;

/** `tcp:PORT`: listen on a TCP port. */
export interface TcpServerEndpoint {
  readonly kind: "tcp";
  /** The port; 0 asks the OS for an ephemeral one. */
  readonly port: number;
  /**
   * The local address to bind.
   * @defaultValue "0.0.0.0"
   */
  readonly interface: string;
  /**
   * The listen backlog.
   * @defaultValue 511
   */
  readonly backlog: number;
}

/** `unix:PATH`: listen on a unix-domain socket. */
export interface UnixServerEndpoint {
  readonly kind: "unix";
  readonly path: string;
  /** @defaultValue 511 */
  readonly backlog: number;
  /** File mode of the socket, if it should be changed after binding. */
  readonly mode?: number;
}

/** Key material: a PEM string or bytes, or (in string descriptions) a file path to read. */
export type PemSource = { readonly pem: string | Uint8Array } | { readonly file: string };

/** `tls:PORT`: listen on a TCP port with TLS. */
export interface TlsServerEndpoint extends Omit<TcpServerEndpoint, "kind"> {
  readonly kind: "tls";
  readonly privateKey: PemSource;
  readonly certKey: PemSource;
}

/** `tcp:HOST:PORT`: connect over TCP. */
export interface TcpClientEndpoint {
  readonly kind: "tcp";
  readonly host: string;
  readonly port: number;
  /**
   * Seconds to wait for the connection before failing with `ConnectTimeoutError`.
   * @defaultValue 30
   */
  readonly timeout: number;
  /** The local address to connect from (for using many 127.0.0.x source addresses). */
  readonly bindAddress?: string;
}

/** `unix:PATH`: connect to a unix-domain socket. */
export interface UnixClientEndpoint {
  readonly kind: "unix";
  readonly path: string;
  /** @defaultValue 30 */
  readonly timeout: number;
}

/** `tls:HOST:PORT`: connect over TCP with TLS. */
export interface TlsClientEndpoint extends Omit<TcpClientEndpoint, "kind"> {
  readonly kind: "tls";
  /** Certificates to trust instead of the system's. */
  readonly trustRoots?: PemSource;
  /**
   * The name to verify the certificate against and send as SNI.
   * @defaultValue the host
   */
  readonly servername?: string;
  /**
   * Verify the server's certificate.
   * @defaultValue true
   */
  readonly verify: boolean;
}

/** The listen backlog when none is given, as in Node. */
export const DEFAULT_BACKLOG = 511;
/** The client connect timeout in seconds when none is given, as in Twisted. */
export const DEFAULT_CONNECT_TIMEOUT_S = 30;

interface Parsed {
  readonly kind: string;
  readonly args: string[];
  readonly kwargs: Map<string, string>;
}

/** Splits `kind:a:b:key=value` on unescaped colons. */
function split(description: string): Parsed {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < description.length; i++) {
    const ch = description[i]!;
    if (ch === "\\" && i + 1 < description.length) {
      current += description[++i];
    } else if (ch === ":") {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  const [kind = "", ...rest] = parts;
  const args: string[] = [];
  const kwargs = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf("=");
    if (eq > 0) {
      const key = part.slice(0, eq);
      if (kwargs.has(key)) throw new InvalidEndpointError(description, `${key} given twice`);
      kwargs.set(key, part.slice(eq + 1));
    } else {
      args.push(part);
    }
  }
  return { kind: kind.toLowerCase(), args, kwargs };
}

/** The value given at position `index` or as `key=`, but not both. */
function positional(description: string, p: Parsed, index: number, key: string): string | undefined {
  const byPosition = p.args[index];
  const byKey = p.kwargs.get(key);
  if (byPosition !== undefined && byKey !== undefined) throw new InvalidEndpointError(description, `${key} given twice`);
  return byPosition ?? byKey;
}

function takePort(description: string, value: string | undefined, name = "port"): number {
  if (value === undefined || !/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new InvalidEndpointError(description, `${name} must be an integer from 0 to 65535, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function takeCount(description: string, value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new InvalidEndpointError(description, `${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function takeSeconds(description: string, value: string | undefined): number {
  if (value === undefined) return DEFAULT_CONNECT_TIMEOUT_S;
  const n = Number(value);
  if (value === "" || !Number.isFinite(n) || n <= 0) {
    throw new InvalidEndpointError(description, `timeout must be a positive number of seconds, got ${JSON.stringify(value)}`);
  }
  return n;
}

function rejectUnknown(description: string, p: Parsed, allowed: readonly string[], maxArgs: number): void {
  for (const key of p.kwargs.keys()) {
    if (!allowed.includes(key)) throw new InvalidEndpointError(description, `unknown option ${key}`);
  }
  if (p.args.length > maxArgs) throw new InvalidEndpointError(description, "too many positional parts");
}

/**
 * Parses a server endpoint description.
 *
 * @param description - a string such as `"tcp:8080:interface=127.0.0.1"`, or a parsed object.
 * @returns the parsed endpoint, with defaults filled in.
 * @throws InvalidEndpointError (`WL_ERR_INVALID_ENDPOINT`) naming what is wrong.
 */
export function parseServerEndpoint(description: string | ServerEndpoint): ServerEndpoint {
  if (typeof description !== "string") return description;
  const p = split(description);
  switch (p.kind) {
    case "tcp":
    case "tls": {
      rejectUnknown(description, p, ["port", "interface", "backlog", "privateKey", "certKey"], 1);
      const port = takePort(description, positional(description, p, 0, "port"));
      const iface = p.kwargs.get("interface") ?? "0.0.0.0";
      const backlog = takeCount(description, p.kwargs.get("backlog"), "backlog", DEFAULT_BACKLOG);
      if (p.kind === "tcp") {
        if (p.kwargs.has("privateKey") || p.kwargs.has("certKey")) {
          throw new InvalidEndpointError(description, "privateKey and certKey belong to tls endpoints");
        }
        return { kind: "tcp", port, interface: iface, backlog };
      }
      const key = p.kwargs.get("privateKey");
      const cert = p.kwargs.get("certKey") ?? key;
      if (key === undefined || cert === undefined) throw new InvalidEndpointError(description, "tls needs privateKey=PATH (and certKey=PATH)");
      return { kind: "tls", port, interface: iface, backlog, privateKey: { file: key }, certKey: { file: cert } };
    }
    case "unix": {
      rejectUnknown(description, p, ["address", "backlog", "mode"], 1);
      const path = positional(description, p, 0, "address");
      if (path === undefined || path === "") throw new InvalidEndpointError(description, "unix needs a path");
      const backlog = takeCount(description, p.kwargs.get("backlog"), "backlog", DEFAULT_BACKLOG);
      const mode = p.kwargs.get("mode");
      if (mode !== undefined && !/^[0-7]{3,4}$/.test(mode)) throw new InvalidEndpointError(description, "mode must be octal, like 0660");
      return mode === undefined ? { kind: "unix", path, backlog } : { kind: "unix", path, backlog, mode: parseInt(mode, 8) };
    }
    default:
      throw new InvalidEndpointError(description, `unknown endpoint type ${JSON.stringify(p.kind)} (tcp, unix or tls)`);
  }
}

/**
 * Parses a client endpoint description.
 *
 * @param description - a string such as `"tcp:127.0.0.1:8080:timeout=5"`, or a parsed object.
 * @returns the parsed endpoint, with defaults filled in.
 * @throws InvalidEndpointError (`WL_ERR_INVALID_ENDPOINT`) naming what is wrong.
 */
export function parseClientEndpoint(description: string | ClientEndpoint): ClientEndpoint {
  if (typeof description !== "string") return description;
  const p = split(description);
  switch (p.kind) {
    case "tcp":
    case "tls": {
      rejectUnknown(description, p, ["host", "port", "timeout", "bindAddress", "trustRoots", "servername", "verify"], 2);
      const host = positional(description, p, 0, "host");
      if (host === undefined || host === "") throw new InvalidEndpointError(description, "a host is needed");
      const port = takePort(description, positional(description, p, 1, "port"));
      const timeout = takeSeconds(description, p.kwargs.get("timeout"));
      const bindAddress = p.kwargs.get("bindAddress");
      const base = { host, port, timeout, ...(bindAddress === undefined ? {} : { bindAddress }) };
      if (p.kind === "tcp") {
        for (const key of ["trustRoots", "servername", "verify"]) {
          if (p.kwargs.has(key)) throw new InvalidEndpointError(description, `${key} belongs to tls endpoints`);
        }
        return { kind: "tcp", ...base };
      }
      const verify = p.kwargs.get("verify") ?? "yes";
      if (verify !== "yes" && verify !== "no") throw new InvalidEndpointError(description, "verify must be yes or no");
      const trustRoots = p.kwargs.get("trustRoots");
      const servername = p.kwargs.get("servername");
      return {
        kind: "tls",
        ...base,
        verify: verify === "yes",
        ...(trustRoots === undefined ? {} : { trustRoots: { file: trustRoots } }),
        ...(servername === undefined ? {} : { servername }),
      };
    }
    case "unix": {
      rejectUnknown(description, p, ["path", "timeout"], 1);
      const path = positional(description, p, 0, "path");
      if (path === undefined || path === "") throw new InvalidEndpointError(description, "unix needs a path");
      return { kind: "unix", path, timeout: takeSeconds(description, p.kwargs.get("timeout")) };
    }
    default:
      throw new InvalidEndpointError(description, `unknown endpoint type ${JSON.stringify(p.kind)} (tcp, unix or tls)`);
  }
}
