/**
 * The WebSocket opening handshake (RFC 6455 section 4) as pure functions: a server validates
 * an upgrade request and computes its 101 response; a client builds its upgrade request and
 * validates the server's response. Subprotocols and `Sec-WebSocket-Extensions` (with
 * permessage-deflate) are negotiated here. No I/O: the HTTP layer reads and writes the bytes.
 *
 * @module
 */

import { createHash } from "node:crypto";

import { InvalidOptionError, WebSocketHandshakeError } from "../../errors.js";
import { HttpHeaders } from "../http/http-headers.js";
import { acceptPerMessageDeflate, negotiatePerMessageDeflate, perMessageDeflateOffer, PERMESSAGE_DEFLATE, validatePerMessageDeflateOptions } from "./permessage-deflate.js";
import type { PerMessageDeflateOptions, PerMessageDeflateParams } from "./permessage-deflate.js";

/** The GUID RFC 6455 appends to `Sec-WebSocket-Key` to compute `Sec-WebSocket-Accept`. */
export const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** The only protocol version this implementation speaks. */
export const WEBSOCKET_VERSION = "13";
/** The default bound on a handshake response head read by {@link parseHandshakeResponse}: 16 KiB. */
export const DEFAULT_MAX_HANDSHAKE_HEAD_SIZE = 16 * 1024;

/** Read access to header fields; `HttpHeaders` from the HTTP parser is one. */
export interface HandshakeHeaders {
  /** The first value of a field (name in any case), or undefined. */
  get(name: string): string | undefined;
  /** Every value of a field, in order. */
  getAll(name: string): string[];
}

/** The parts of a request head the server handshake looks at; the HTTP parser's `RequestHead` is one. */
export interface UpgradeRequestHead {
  /** The request method. */
  readonly method: string;
  /** The HTTP major version. */
  readonly versionMajor: number;
  /** The HTTP minor version. */
  readonly versionMinor: number;
  /** The header fields. */
  readonly headers: HandshakeHeaders;
}

/** One extension from a `Sec-WebSocket-Extensions` list, with its parameters in order. */
export interface ExtensionOffer {
  /** The extension token, lowercased. */
  readonly name: string;
  /** `[name, value]` pairs (name lowercased, value unquoted; null when there was no `=`). */
  readonly params: readonly (readonly [string, string | null])[];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses `Sec-WebSocket-Extensions` values (RFC 6455 section 9.1) into offers, in order.
 *
 * @param values - the field's values (several fields are one comma-separated list).
 * @returns the extensions, each with its parameters.
 * @throws WebSocketHandshakeError (`WL_ERR_WS_HANDSHAKE`, status 400) when the syntax is wrong.
 */
export function parseExtensions(values: string | readonly string[]): ExtensionOffer[] {
  const text = typeof values === "string" ? values : values.join(",");
  const bad = (): WebSocketHandshakeError => new WebSocketHandshakeError(400, "bad-extensions", `malformed Sec-WebSocket-Extensions: ${JSON.stringify(text)}`);
  const out: ExtensionOffer[] = [];
  for (const item of splitOutsideQuotes(text, ",", bad)) {
    if (item.trim() === "") continue;
    const parts = splitOutsideQuotes(item, ";", bad).map((p) => p.trim());
    const name = parts[0] ?? "";
    if (!TOKEN.test(name)) throw bad();
    const params: [string, string | null][] = [];
    for (const part of parts.slice(1)) {
      const eq = part.indexOf("=");
      const key = (eq < 0 ? part : part.slice(0, eq)).trim();
      if (!TOKEN.test(key)) throw bad();
      if (eq < 0) {
        params.push([key.toLowerCase(), null]);
        continue;
      }
      let value = part.slice(eq + 1).trim();
      if (value.startsWith('"')) {
        if (value.length < 2 || !value.endsWith('"')) throw bad();
        value = value.slice(1, -1).replace(/\\(.)/g, "$1");
      }
      // RFC 6455 9.1: a quoted value must still be a token once unquoted.
      if (!TOKEN.test(value)) throw bad();
      params.push([key.toLowerCase(), value]);
    }
    out.push({ name: name.toLowerCase(), params });
  }
  return out;
}

function splitOutsideQuotes(text: string, sep: string, bad: () => Error): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (c === sep) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) throw bad();
  out.push(text.slice(start));
  return out;
}

/** The lowercased, trimmed, non-empty items of comma-separated header values. */
function tokens(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    for (const item of v.split(",")) {
      const t = item.trim().toLowerCase();
      if (t !== "") out.push(t);
    }
  }
  return out;
}

/**
 * Computes `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
 *
 * @param key - the client's key, as sent.
 * @returns base64(SHA-1(key + GUID)).
 */
export function computeAcceptKey(key: string): string {
  return createHash("sha1").update(key + WEBSOCKET_GUID).digest("base64");
}

/**
 * Makes a fresh `Sec-WebSocket-Key`: 16 random bytes in base64.
 *
 * @param random - a source of numbers in [0, 1), such as the reactor's `random()`.
 * @returns the key.
 */
export function generateKey(random: () => number): string {
  const bytes = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) bytes[i] = Math.floor(random() * 256) & 0xff;
  return bytes.toString("base64");
}

/** Options for the server side of the handshake. */
export interface ServerHandshakeOptions {
  /**
   * The subprotocols this server speaks, in its order of preference; the first one the client
   * also offered is chosen. A function gets the client's offers and returns its choice (or
   * null for none).
   * @defaultValue [] (no subprotocol is ever chosen)
   */
  protocols?: readonly string[] | ((offered: readonly string[]) => string | null);
  /**
   * permessage-deflate configuration, or false to never negotiate it.
   * @defaultValue false
   */
  perMessageDeflate?: PerMessageDeflateOptions | false;
  /**
   * Accepts or refuses the request's `Origin` (undefined when it has none); refused requests get 403.
   * @defaultValue every origin is accepted
   */
  checkOrigin?: (origin: string | undefined) => boolean;
}

/** What the server agreed to; `responseHeaders` go into its 101 response. */
export interface ServerHandshake {
  /** The `Sec-WebSocket-Accept` value. */
  readonly accept: string;
  /** The chosen subprotocol, or null. */
  readonly protocol: string | null;
  /** The negotiated permessage-deflate parameters, or null. */
  readonly perMessageDeflate: PerMessageDeflateParams | null;
  /** The response's header fields, in order: Upgrade, Connection, Sec-WebSocket-Accept, ... */
  readonly responseHeaders: readonly (readonly [string, string])[];
}

/**
 * Validates a client's upgrade request (RFC 6455 section 4.2.1) and negotiates the subprotocol
 * and extensions.
 *
 * @param request - the request head.
 * @param options - see {@link ServerHandshakeOptions}.
 * @returns the agreement and the 101 response's header fields.
 * @throws WebSocketHandshakeError (`WL_ERR_WS_HANDSHAKE`) with `status` 400 for a malformed
 *   request, 426 for an unsupported `Sec-WebSocket-Version` (answer with
 *   `Sec-WebSocket-Version: 13`, see {@link formatHandshakeRejection}), 403 for a refused origin.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad permessage-deflate option.
 */
export function acceptUpgradeRequest(request: UpgradeRequestHead, options: ServerHandshakeOptions = {}): ServerHandshake {
  const h = request.headers;
  const refuse = (status: number, reason: string, message: string): WebSocketHandshakeError => new WebSocketHandshakeError(status, reason, message);
  if (request.method !== "GET") throw refuse(400, "method-not-get", `the method must be GET, got ${request.method}`);
  if (request.versionMajor !== 1 || request.versionMinor < 1) throw refuse(400, "bad-http-version", "the request must be HTTP/1.1");
  if (h.get("host") === undefined) throw refuse(400, "missing-host", "the request has no Host");
  if (!tokens(h.getAll("upgrade")).includes("websocket")) throw refuse(400, "bad-upgrade", "Upgrade must be websocket");
  if (!tokens(h.getAll("connection")).includes("upgrade")) throw refuse(400, "bad-connection", "Connection must include upgrade");
  const keys = h.getAll("sec-websocket-key");
  const key = keys[0]?.trim();
  if (keys.length !== 1 || key === undefined || !/^[+/0-9A-Za-z]{21}[AQgw]==$/.test(key)) {
    throw refuse(400, "bad-key", "Sec-WebSocket-Key must be one base64 value of 16 bytes");
  }
  const versions = h.getAll("sec-websocket-version");
  if (versions.length !== 1 || versions[0]?.trim() !== WEBSOCKET_VERSION) {
    throw refuse(426, "unsupported-version", `Sec-WebSocket-Version must be ${WEBSOCKET_VERSION}`);
  }
  if (options.checkOrigin !== undefined && !options.checkOrigin(h.get("origin"))) throw refuse(403, "origin-refused", "the origin is not allowed");

  const offered = h
    .getAll("sec-websocket-protocol")
    .flatMap((v) => v.split(","))
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (offered.some((p) => !TOKEN.test(p))) throw refuse(400, "bad-protocol", "Sec-WebSocket-Protocol must be a list of tokens");
  let protocol: string | null = null;
  if (offered.length > 0 && options.protocols !== undefined) {
    if (typeof options.protocols === "function") {
      protocol = options.protocols(offered);
      if (protocol !== null && !offered.includes(protocol)) throw new InvalidOptionError("protocols", `chose ${protocol}, which the client did not offer`);
    } else {
      protocol = options.protocols.find((p) => offered.includes(p)) ?? null;
    }
  }

  const accept = computeAcceptKey(key);
  const responseHeaders: [string, string][] = [
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Accept", accept],
  ];
  if (protocol !== null) responseHeaders.push(["Sec-WebSocket-Protocol", protocol]);
  let perMessageDeflate: PerMessageDeflateParams | null = null;
  const pmd = options.perMessageDeflate ?? false;
  const extensionValues = h.getAll("sec-websocket-extensions");
  if (pmd !== false) validatePerMessageDeflateOptions(pmd);
  if (pmd !== false && extensionValues.length > 0) {
    const agreement = negotiatePerMessageDeflate(parseExtensions(extensionValues), pmd);
    if (agreement !== null) {
      perMessageDeflate = agreement.params;
      responseHeaders.push(["Sec-WebSocket-Extensions", agreement.response]);
    }
  }
  return { accept, protocol, perMessageDeflate, responseHeaders };
}

/**
 * The bytes of a server's 101 response.
 *
 * @param handshake - what {@link acceptUpgradeRequest} returned.
 * @returns the response head, ending with the empty line.
 */
export function formatServerResponse(handshake: ServerHandshake): string {
  let out = "HTTP/1.1 101 Switching Protocols\r\n";
  for (const [name, value] of handshake.responseHeaders) out += `${name}: ${value}\r\n`;
  return out + "\r\n";
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: "Bad Request", 403: "Forbidden", 426: "Upgrade Required" };

/**
 * The fields a refusal of an upgrade must carry: `Sec-WebSocket-Version: 13` with a 426, so
 * the client knows which version to ask for (RFC 6455 §4.4).
 *
 * @param status - the refusal's status.
 * @returns the fields, as name-value pairs.
 */
export function handshakeRejectionHeaders(status: number): readonly (readonly [string, string])[] {
  return status === 426 ? [["Sec-WebSocket-Version", WEBSOCKET_VERSION]] : [];
}

/**
 * The bytes of a server's refusal, for an error from {@link acceptUpgradeRequest}: the status,
 * `Sec-WebSocket-Version: 13` on a 426, and `Connection: close`.
 *
 * @param error - the handshake error.
 * @returns the whole response (its body is the error message).
 */
export function formatHandshakeRejection(error: WebSocketHandshakeError): string {
  const status = error.status === 0 ? 400 : error.status;
  const body = `${error.message}\n`;
  let out = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\n`;
  for (const [name, value] of handshakeRejectionHeaders(status)) out += `${name}: ${value}\r\n`;
  out += `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  return out + body;
}

/** Options for the client side of the handshake. */
export interface ClientHandshakeOptions {
  /** The `Host` field: the server's host name, with `:port` when not the default. */
  host: string;
  /**
   * The request target (path and query).
   * @defaultValue "/"
   */
  path?: string;
  /** The `Origin` field, if any. */
  origin?: string;
  /**
   * The subprotocols to offer, in order of preference.
   * @defaultValue []
   */
  protocols?: readonly string[];
  /**
   * permessage-deflate configuration to offer, or false not to offer it.
   * @defaultValue false
   */
  perMessageDeflate?: PerMessageDeflateOptions | false;
  /** Extra header fields to send, in order. */
  headers?: readonly (readonly [string, string])[];
  /** The source of the key's 16 random bytes: numbers in [0, 1), such as the reactor's `random()`. */
  random: () => number;
}

/** A client's upgrade request, and what checking the response needs. */
export interface ClientHandshakeRequest {
  /** The `Sec-WebSocket-Key` sent. */
  readonly key: string;
  /** The request head to write, ending with the empty line. */
  readonly request: string;
  /** The options it was built with. */
  readonly options: ClientHandshakeOptions;
}

/** What the server agreed to, from the client's side. */
export interface ClientHandshakeResult {
  /** The subprotocol the server chose, or null. */
  readonly protocol: string | null;
  /** The negotiated permessage-deflate parameters, or null. */
  readonly perMessageDeflate: PerMessageDeflateParams | null;
}

/**
 * Builds a client's upgrade request (RFC 6455 section 4.1).
 *
 * @param options - see {@link ClientHandshakeOptions}.
 * @returns the request and its key.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a subprotocol that is not a token,
 *   a field with CR or LF in it, or a bad permessage-deflate option.
 */
export function buildClientRequest(options: ClientHandshakeOptions): ClientHandshakeRequest {
  const key = generateKey(options.random);
  const path = options.path ?? "/";
  const fields: (readonly [string, string])[] = [
    ["Host", options.host],
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Key", key],
    ["Sec-WebSocket-Version", WEBSOCKET_VERSION],
  ];
  if (options.origin !== undefined) fields.push(["Origin", options.origin]);
  const protocols = options.protocols ?? [];
  for (const p of protocols) if (!TOKEN.test(p)) throw new InvalidOptionError("protocols", `${JSON.stringify(p)} is not a token`);
  if (protocols.length > 0) fields.push(["Sec-WebSocket-Protocol", protocols.join(", ")]);
  if (options.perMessageDeflate !== undefined && options.perMessageDeflate !== false) {
    fields.push(["Sec-WebSocket-Extensions", perMessageDeflateOffer(options.perMessageDeflate)]);
  }
  if (options.headers !== undefined) fields.push(...options.headers);
  if (/[\r\n\s]/.test(path)) throw new InvalidOptionError("path", "must not contain whitespace");
  let request = `GET ${path} HTTP/1.1\r\n`;
  for (const [name, value] of fields) {
    if (/[\r\n]/.test(name + value)) throw new InvalidOptionError("headers", `field ${JSON.stringify(name)} contains CR or LF`);
    request += `${name}: ${value}\r\n`;
  }
  return { key, request: request + "\r\n", options };
}

/** A response head, as read by {@link parseHandshakeResponse}. */
export interface HandshakeResponseHead {
  /** The status code. */
  readonly status: number;
  /** The reason phrase. */
  readonly reason: string;
  /** The header fields, names lowercased. */
  readonly headers: HttpHeaders;
  /** The length of the head in bytes, the empty line included: WebSocket frames start there. */
  readonly headLength: number;
}

/**
 * Reads an HTTP/1.1 response head from the start of `data`: enough HTTP for a WebSocket
 * client's handshake (no bodies, no continuation lines).
 *
 * @param data - the bytes received so far.
 * @param maxHeadSize - the largest head accepted.
 * @returns the head, or null when it is not complete yet.
 * @throws WebSocketHandshakeError (`WL_ERR_WS_HANDSHAKE`, status 0) when the head is malformed
 *   or longer than `maxHeadSize`.
 */
export function parseHandshakeResponse(data: Uint8Array, maxHeadSize = DEFAULT_MAX_HANDSHAKE_HEAD_SIZE): HandshakeResponseHead | null {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const end = buf.indexOf("\r\n\r\n", 0, "latin1");
  if (end < 0 || end + 4 > maxHeadSize) {
    if (buf.length >= maxHeadSize) throw new WebSocketHandshakeError(0, "response-too-large", `response head is longer than ${maxHeadSize} bytes`);
    return null;
  }
  const lines = buf.toString("latin1", 0, end).split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
  if (m === null) throw new WebSocketHandshakeError(0, "bad-response", `malformed status line ${JSON.stringify(lines[0])}`);
  const raw: string[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon);
    if (!TOKEN.test(name)) throw new WebSocketHandshakeError(0, "bad-response", `malformed header line ${JSON.stringify(line)}`);
    raw.push(name.toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(m[1]), reason: m[2] ?? "", headers: new HttpHeaders(raw), headLength: end + 4 };
}

/**
 * Validates a server's response to {@link buildClientRequest} (RFC 6455 section 4.1, the
 * client's checks).
 *
 * @param response - the response's status and header fields.
 * @param request - the request it answers.
 * @returns the subprotocol and extension parameters the server chose.
 * @throws WebSocketHandshakeError (`WL_ERR_WS_HANDSHAKE`, status 0) for anything the client
 *   must refuse: a status other than 101, a wrong Upgrade, Connection or Sec-WebSocket-Accept,
 *   a subprotocol or extension that was not offered.
 */
export function validateServerResponse(response: { readonly status: number; readonly headers: HandshakeHeaders }, request: ClientHandshakeRequest): ClientHandshakeResult {
  const fail = (reason: string, message: string): WebSocketHandshakeError => new WebSocketHandshakeError(0, reason, message);
  const h = response.headers;
  if (response.status !== 101) throw fail("bad-status", `the server answered ${response.status}, not 101`);
  if (!tokens(h.getAll("upgrade")).includes("websocket")) throw fail("bad-upgrade", "Upgrade is not websocket");
  if (!tokens(h.getAll("connection")).includes("upgrade")) throw fail("bad-connection", "Connection does not include upgrade");
  if (h.get("sec-websocket-accept")?.trim() !== computeAcceptKey(request.key)) throw fail("bad-accept", "Sec-WebSocket-Accept does not match the key");
  const protocols = h.getAll("sec-websocket-protocol").map((p) => p.trim());
  let protocol: string | null = null;
  if (protocols.length > 0) {
    protocol = protocols[0] ?? null;
    if (protocols.length > 1 || protocol === null || !(request.options.protocols ?? []).includes(protocol)) {
      throw fail("bad-protocol", `the server chose subprotocol ${JSON.stringify(protocols.join(","))}, which was not offered`);
    }
  }
  let perMessageDeflate: PerMessageDeflateParams | null = null;
  const values = h.getAll("sec-websocket-extensions");
  if (values.length > 0) {
    let extensions;
    try {
      extensions = parseExtensions(values);
    } catch {
      throw fail("bad-extension-response", "malformed Sec-WebSocket-Extensions");
    }
    const offered = request.options.perMessageDeflate;
    for (const ext of extensions) {
      if (ext.name !== PERMESSAGE_DEFLATE || offered === undefined || offered === false || perMessageDeflate !== null) {
        throw fail("unexpected-extension", `the server accepted extension ${ext.name}, which was not offered`);
      }
      perMessageDeflate = acceptPerMessageDeflate(ext, offered);
    }
  }
  return { protocol, perMessageDeflate };
}
