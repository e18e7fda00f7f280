/**
 * What a scenario is, as a user writes one: `defineScenario({...})` in one module, with its
 * name, what one operation is, its server styles, its client workload, the comparisons it wants
 * and optionally its own checks. The built-in scenarios (`scenarios/<name>/index.ts`) are written
 * on exactly this API.
 *
 * The pieces run in different places, which is why a scenario is a module the harness loads by
 * path rather than an object handed over: the runner's process plans the sweep; the server
 * child imports the module and starts one style; each load worker imports it and runs the
 * workload for its share of the connections; `--sim` runs styles and workload together on one
 * `SimNetwork` in the runner's process.
 *
 * - A **wirelab style** ({@link WirelabStyle}) gets a `Reactor` and an endpoint and listens: the
 *   same function runs on `NodeReactor` in the server child and on a `SimNetwork` host for
 *   `--sim`.
 * - A **Node style** ({@link NodeStyle}) needs raw Node (`node:net`, `node:http`, `ws`): real
 *   sockets only; `--sim` skips it with a visible line.
 * - A **command style** ({@link CommandStyle}) is any program that prints `listening on PORT`
 *   (the Twisted and Tornado peers; see `pythonPeer`).
 * - The **client** ({@link ClientWorkload}) is one async function per operation over a wirelab
 *   `Connection`, timed by the harness; it runs on `NodeReactor` in the load workers and on
 *   `SimNetwork` for `--sim`.
 * - An optional **generator** is a lean load generator on raw sockets for peak rates
 *   ({@link WorkloadInstance}, with the helpers in `wirelab/bench`); real sockets only.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { Awaitable } from "../../runtime/deferred.js";
import { InvalidOptionError } from "../../runtime/errors.js";
import type { ListeningPort, Reactor } from "../../runtime/reactor.js";
import type { Connection } from "../../runtime/stream.js";

/** The Python that runs peer servers: Debian's, where python3-twisted and python3-tornado live. */
export const DEFAULT_PEER_PYTHON = "/usr/bin/python3";

/** Where a Node style listens: given to {@link NodeStyle.node}. */
export interface ServerStartOptions {
  /** The address to listen on (loopback in benchmarks). */
  readonly host: string;
  /** The port; 0 picks a free one. */
  readonly port: number;
}

/** A running Node-style server, as returned by {@link NodeStyle.node}. */
export interface ServerHandle {
  /** The port it listens on (the real one when 0 was asked for). */
  readonly port: number;
  /** Stops listening and closes every connection; resolves when done. */
  close(): Promise<void>;
}

/** What every style has. */
export interface StyleBase<N extends string = string> {
  /** The style's name in the CLI, the results and the reports (`callback`, `async`, ...): any name. */
  readonly name: N;
  /** One line for `wirelab list`, e.g. "wirelab Protocol + Deferred". */
  readonly description?: string;
}

/**
 * A server written on wirelab: listens on `endpoint` with `reactor`. The harness gives a
 * `NodeReactor` and `tcp:PORT:interface=HOST:backlog=511` in the server child, and a
 * `SimNetwork` host and `tcp:PORT` for `--sim`; it stops listening and stops the reactor itself.
 */
export interface WirelabStyle<N extends string = string> extends StyleBase<N> {
  /**
   * Listens; state shared by the server's connections (a chat room) belongs inside this call.
   * @param reactor - the reactor to listen on.
   * @param endpoint - the server endpoint description.
   * @returns what it listens on.
   */
  listen(reactor: Reactor, endpoint: string): Awaitable<ListeningPort>;
}

/** A server that needs raw Node (`node:net`, `node:http`, a package such as `ws`): real sockets only. */
export interface NodeStyle<N extends string = string> extends StyleBase<N> {
  /**
   * Listens on `options.host:options.port` and serves until `close()`; runs in the server child.
   * @param options - where to listen.
   * @returns the running server.
   */
  node(options: ServerStartOptions): Promise<ServerHandle>;
  /**
   * npm packages the style imports (by `await import(...)` inside `node`); when one cannot be
   * resolved from the scenario's module, the style is skipped with a visible line.
   * @defaultValue []
   */
  readonly requires?: readonly string[];
}

/**
 * A server run as a program: `command` with `{host}` and `{port}` replaced; its first line on
 * stdout must be `listening on PORT`. When `check` is given and does not exit 0, the style is
 * skipped with a visible line.
 */
export interface CommandStyle<N extends string = string> extends StyleBase<N> {
  /** The program and its arguments; `{host}` and `{port}` are replaced (port 0: the program picks). */
  readonly command: readonly string[];
  /** A command that must exit 0 for the style to run, e.g. `python3 -c "import twisted"`. */
  readonly check?: readonly string[];
  /** A command whose stdout is the peer's version, for the results' provenance. */
  readonly version?: readonly string[];
}

/** One server style of a scenario. */
export type ServerStyle<N extends string = string> = WirelabStyle<N> | NodeStyle<N> | CommandStyle<N>;

/** How a style runs: on wirelab (both worlds), on raw Node, as a command. */
export type StyleKind = "wirelab" | "node" | "command";

/**
 * The kind of a style.
 * @param style - the style.
 * @returns `wirelab`, `node` or `command`.
 */
export function styleKind(style: ServerStyle): StyleKind {
  if ("listen" in style) return "wirelab";
  if ("node" in style) return "node";
  return "command";
}

/**
 * Counts and latencies of a workload, kept by whoever runs it (a load worker, the sim, an
 * external load tool): the only way a workload reports. Records outside the measured window
 * (warm-up, drain) are dropped by the recorder itself, so a workload never checks the phase.
 */
export interface Recorder {
  /**
   * One operation completed correctly.
   * @param latencyUs - its latency in µs; for open-loop runs, counted from the intended send time.
   * @param uncorrectedUs - open-loop runs: latency from the actual send time.
   */
  success(latencyUs: number, uncorrectedUs?: number): void;
  /** One operation failed (reset, refused, protocol error). */
  error(): void;
  /** One operation got no answer within the timeout. */
  timeout(): void;
  /** One answer did not match what was expected. */
  mismatch(): void;
  /** True inside the measured window. */
  readonly measuring: boolean;
}

/** What a client workload's `shared` state is made for: one group of connections in one process. */
export interface GroupContext {
  /** Connections in this group (a load worker's share, or all of a sim run's). */
  readonly connections: number;
  /** Connections over all groups. */
  readonly totalConnections: number;
  /** This group's index (the load worker's), 0-based. */
  readonly groupIndex: number;
  /** True on `SimNetwork`. */
  readonly sim: boolean;
  /** True when the sim injects faults (connection resets): a lost connection is then expected. */
  readonly faults: boolean;
}

/** What one client connection knows. */
export interface ConnectionContext<S = undefined> {
  /** The connection's index over all groups, 0-based (use it to vary keys, pick a publisher). */
  readonly index: number;
  /** The group's shared state (from {@link ClientWorkload.shared}). */
  readonly shared: S;
  /** The reactor the connection runs on (`NodeReactor`, or a `SimNetwork` host): its clock too. */
  readonly reactor: Reactor;
  /** True on `SimNetwork`. */
  readonly sim: boolean;
}

/** What one operation knows. */
export interface OperationContext<S = undefined> extends ConnectionContext<S> {
  /** The operation's number on its connection, 0-based. */
  readonly sequence: number;
  /**
   * Counts this operation as a mismatch (a wrong answer) instead of a success; the connection
   * stays usable. Throwing a `MismatchError` does the same and also ends the connection.
   * @param detail - what was wrong, for the sim's violation list.
   */
  mismatch(detail?: string): void;
}

/**
 * A scenario's client: the same code loads a real server from the load workers and checks the
 * server on `SimNetwork`. Per connection: `connect` (default: `dial`), then `operation` again and
 * again, each timed by the harness; a throw is an error (a `MismatchError`: a mismatch), an
 * operation unanswered within the timeout is a timeout and ends its connection.
 *
 * @typeParam C - what `connect` returns: a wirelab `Connection` unless `connect` says otherwise
 *   (a WebSocket client, say).
 * @typeParam S - the group's shared state, for workloads whose connections depend on each other
 *   (fan-out: a line sent on one is awaited on the others).
 */
export interface ClientWorkload<C = Connection, S = undefined> {
  /**
   * Makes the state one group of connections shares (one per load worker, one per sim run).
   * @param group - the group.
   * @returns the state.
   */
  shared?(group: GroupContext): S;
  /**
   * Opens one connection and gets it ready (a handshake, a hello): not timed.
   * @defaultValue `dial(reactor, endpoint)`
   * @param reactor - the reactor to connect with.
   * @param endpoint - the client endpoint of the server (`tcp:HOST:PORT`, maybe `:bindAddress=`).
   * @param ctx - the connection's context.
   * @returns the connection.
   */
  connect?(reactor: Reactor, endpoint: string, ctx: ConnectionContext<S>): Promise<C>;
  /**
   * One operation, timed by the harness.
   * @param conn - the connection.
   * @param ctx - the operation's context.
   */
  operation(conn: C, ctx: OperationContext<S>): Promise<void>;
  /**
   * Closes a connection at the end.
   * @defaultValue `abort()` for a `Connection` (a reset: no TIME_WAIT piles up), else `close()` if it has one
   */
  close?(conn: C, ctx: ConnectionContext<S>): Awaitable<void>;
}

/** A lean load generator's share of the run: see `wirelab/bench`'s lean clients and drivers. */
export interface WorkloadContext {
  /** The server's address. */
  readonly host: string;
  /** The server's port. */
  readonly port: number;
  /** Connections this worker opens. */
  readonly connections: number;
  /** Connections over all workers. */
  readonly totalConnections: number;
  /** This worker's index, 0-based. */
  readonly workerIndex: number;
  /** Workers in the run. */
  readonly workerCount: number;
  /** Open-loop: operations per second this worker sends in total; absent for closed-loop. */
  readonly rate?: number;
  /** An operation with no answer after this many ms counts as a timeout. */
  readonly timeoutMs: number;
  /**
   * Local addresses to connect from (`bindAddress`), spread round-robin over connections, so
   * that more than ~28,000 connections fit the ephemeral port range. Empty: let the OS choose.
   */
  readonly sourceAddresses: readonly string[];
  /** Where to count completions, failures and latencies. */
  readonly recorder: Recorder;
}

/** One worker's running load, driven by the load worker through the run's phases. */
export interface WorkloadInstance {
  /**
   * Opens this worker's connections. Failed connections are counted with `recorder.error()`
   * and do not reject.
   * @returns how many connections are open.
   */
  connect(): Promise<number>;
  /** Starts issuing operations (the warm-up starts here; the measured window comes later). */
  start(): void;
  /** Stops issuing operations; resolves once in-flight operations completed or timed out. */
  stop(): Promise<void>;
  /**
   * Optional: runs after the measured window closed and `stop()` resolved, with the recorder
   * counting again; what it records counts in the point. For checks that belong to the window
   * without being part of its load, such as idle-hold's liveness probe of every held connection.
   */
  finalCheck?(): Promise<void>;
  /** Closes every connection. */
  close(): Promise<void>;
  /** Scenario-specific figures for the point's `extra`, summed over workers by the runner. */
  extra?(): Readonly<Record<string, number>>;
}

/**
 * A lean load generator: builds one worker's share of the load on raw sockets. For peak rates,
 * where the client workload's cost per operation would make the load generator the bottleneck.
 */
export type LoadGenerator = (context: WorkloadContext) => WorkloadInstance;

/**
 * What the harness measures:
 * - `throughput`: operations per second and their latency, closed or open loop;
 * - `hold`: connections opened and held silent through the window; then one operation per held
 *   connection (a liveness probe). The runner samples server memory (after a GC) before
 *   connecting and once every connection is open, and reports `extra.bytesPerConnection`.
 */
export type ScenarioKind = "throughput" | "hold";

/** What a scenario's checks are given after a sim run. */
export interface CheckContext<S = undefined> {
  /** The group's shared state, as the workload left it. */
  readonly shared: S;
  /** Whether faults (connection resets) were injected. */
  readonly faults: boolean;
  /** Operations completed correctly. */
  readonly operations: number;
  /** Operations lost to injected faults. */
  readonly lostToFaults: number;
}

/** The sizes of a scenario's sim check. */
export interface SimSizes {
  /**
   * Operations each connection performs.
   * @defaultValue DEFAULT_SIM_OPERATIONS (20)
   */
  readonly operations?: number;
  /**
   * `hold` scenarios: virtual ms the connections stay silent before they are probed.
   * @defaultValue DEFAULT_SIM_HOLD_MS (50)
   */
  readonly holdMs?: number;
}

/** An HTTP scenario's request, for autocannon (`--load autocannon`). */
export interface AutocannonTarget {
  /** The request path, e.g. `/`. */
  readonly path: string;
  /** The exact expected response body. */
  readonly expectedBody: string;
}

/** What {@link defineScenario} takes. */
export interface ScenarioDefinition<N extends string = string, C = Connection, S = undefined> {
  /** The name in the CLI and the results, e.g. `tcp-echo`: letters, digits, `-`, `_`, `.`. */
  readonly name: string;
  /** One line for `wirelab list`. @defaultValue the operation */
  readonly summary?: string;
  /** What one operation is, e.g. "one 64-byte round trip". */
  readonly operation: string;
  /** @defaultValue "throughput" */
  readonly kind?: ScenarioKind;
  /** The server styles, in the order lists and charts show them. */
  readonly styles: readonly ServerStyle<N>[];
  /** The client workload: real sockets (`--load client`) and `--sim`. */
  readonly client: ClientWorkload<C, S>;
  /** A lean generator for peak rates: real sockets, the default load when present (`--load generator`). */
  readonly generator?: LoadGenerator;
  /**
   * The comparisons the report makes, each `[subject, reference]` (subject / reference), e.g.
   * `[["async", "callback"], ["callback", "baseline"]]`.
   * @defaultValue []
   */
  readonly compare?: readonly (readonly [N, N])[];
  /**
   * Invariants checked after each sim run, beyond each operation's own checks (every line
   * delivered to every live member, say).
   * @param run - the run's shared state and tallies.
   * @returns the violations, in words; empty when all hold.
   */
  checks?(run: CheckContext<S>): readonly string[];
  /** The connection counts swept when the CLI is given none. @defaultValue [1, 10, 100, 1000] */
  readonly defaultConnections?: readonly number[];
  /** The sim check's sizes. */
  readonly sim?: SimSizes;
  /** For HTTP scenarios autocannon can load. */
  readonly autocannon?: AutocannonTarget;
}

/** A validated scenario, as {@link defineScenario} returns it. */
export interface Scenario<N extends string = string, C = unknown, S = unknown> extends Omit<ScenarioDefinition<N, C, S>, "kind" | "compare" | "summary"> {
  readonly summary: string;
  readonly kind: ScenarioKind;
  readonly compare: readonly (readonly [N, N])[];
}

const SCENARIO_BRAND = Symbol.for("wirelab.scenario");
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Whether a value is a scenario made by {@link defineScenario} (in any copy of wirelab).
 * @param value - anything, such as a module's export.
 * @returns true for a scenario.
 */
export function isScenario(value: unknown): value is Scenario {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[SCENARIO_BRAND] === true;
}

function checkName(option: string, name: unknown): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new InvalidOptionError(option, `must be letters, digits, "-", "_" or "." (starting with a letter or digit), got ${JSON.stringify(name)}`);
  }
  return name;
}

function checkCommand(option: string, argv: unknown): void {
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== "string")) {
    throw new InvalidOptionError(option, "must be a non-empty array of strings (the program, then its arguments)");
  }
}

function checkStyle(style: ServerStyle, i: number): void {
  const at = `styles[${i}]`;
  if (typeof style !== "object" || style === null) throw new InvalidOptionError(at, "must be a style object");
  const ways = ["listen", "node", "command"].filter((k) => k in style);
  if (ways.length !== 1) {
    throw new InvalidOptionError(at, `a style has exactly one of listen (wirelab), node (raw Node) or command, got ${ways.length === 0 ? "none" : ways.join(" and ")}`);
  }
  const way = ways[0]!;
  if (way === "command") {
    const c = style as CommandStyle;
    checkCommand(`${at}.command`, c.command);
    if (c.check !== undefined) checkCommand(`${at}.check`, c.check);
    if (c.version !== undefined) checkCommand(`${at}.version`, c.version);
  } else if (typeof (style as unknown as Record<string, unknown>)[way] !== "function") {
    throw new InvalidOptionError(`${at}.${way}`, "must be a function");
  }
}

/**
 * Defines a scenario: checks it and returns it frozen. A scenario module exports it, as its
 * default export or as its only scenario export, and `wirelab bench PATH` runs it.
 *
 * @param definition - the scenario.
 * @returns the scenario.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) naming the bad field: a bad name, no
 *   style, two styles with one name, a style with none or several of listen/node/command, a
 *   comparison naming a missing style or a style with itself, a comparison given twice.
 *
 * @example
 * ```ts
 * import { Factory, Protocol } from "wirelab";
 * import { defineScenario } from "wirelab/bench";
 *
 * class Echo extends Protocol {
 *   override dataReceived(data: Uint8Array): void {
 *     this.transport.write(data);
 *   }
 * }
 *
 * export default defineScenario({
 *   name: "echo",
 *   operation: "one 16-byte round trip",
 *   styles: [{ name: "callback", listen: (reactor, endpoint) => reactor.listen(endpoint, Factory.forProtocol(() => new Echo())) }],
 *   client: {
 *     async operation(conn, ctx) {
 *       await conn.write("0123456789abcdef");
 *       const echo = await conn.readExactly(16);
 *       if (Buffer.from(echo).toString() !== "0123456789abcdef") ctx.mismatch();
 *     },
 *   },
 * });
 * ```
 */
export function defineScenario<const N extends string, C = Connection, S = undefined>(definition: ScenarioDefinition<N, C, S>): Scenario<N, C, S> {
  const name = checkName("name", definition.name);
  if (typeof definition.operation !== "string" || definition.operation === "") throw new InvalidOptionError("operation", "must say what one operation is");
  const kind = definition.kind ?? "throughput";
  if (kind !== "throughput" && kind !== "hold") throw new InvalidOptionError("kind", `must be "throughput" or "hold", got ${JSON.stringify(kind)}`);
  const styles: readonly ServerStyle<N>[] = definition.styles;
  if (!Array.isArray(definition.styles) || styles.length === 0) throw new InvalidOptionError("styles", "a scenario needs at least one server style");
  const names = new Set<string>();
  styles.forEach((style, i) => {
    checkStyle(style, i);
    const n = checkName(`styles[${i}].name`, style.name);
    if (names.has(n)) throw new InvalidOptionError(`styles[${i}].name`, `two styles are named ${JSON.stringify(n)}`);
    names.add(n);
  });
  if (typeof definition.client !== "object" || definition.client === null || typeof definition.client.operation !== "function") {
    throw new InvalidOptionError("client.operation", "a scenario needs a client workload with an operation function");
  }
  if (definition.generator !== undefined && typeof definition.generator !== "function") throw new InvalidOptionError("generator", "must be a function");
  const compare = definition.compare ?? [];
  const pairs = new Set<string>();
  compare.forEach((pair, i) => {
    const at = `compare[${i}]`;
    if (!Array.isArray(pair) || pair.length !== 2) throw new InvalidOptionError(at, "must be [subject, reference]");
    const [subject, reference] = pair as readonly [string, string];
    for (const s of [subject, reference]) {
      if (!names.has(s)) throw new InvalidOptionError(at, `names a style the scenario does not have: ${JSON.stringify(s)} (it has ${[...names].join(", ")})`);
    }
    if (subject === reference) throw new InvalidOptionError(at, `compares ${JSON.stringify(subject)} with itself`);
    const key = `${subject}\u0000${reference}`;
    if (pairs.has(key)) throw new InvalidOptionError(at, `${subject} vs ${reference} is given twice`);
    pairs.add(key);
  });
  if (definition.checks !== undefined && typeof definition.checks !== "function") throw new InvalidOptionError("checks", "must be a function");
  if (definition.defaultConnections !== undefined) {
    const ok = Array.isArray(definition.defaultConnections) && definition.defaultConnections.length > 0 && definition.defaultConnections.every((n) => Number.isInteger(n) && n >= 1);
    if (!ok) throw new InvalidOptionError("defaultConnections", "must be a non-empty list of positive integers");
  }
  const scenario = {
    ...definition,
    name,
    summary: definition.summary ?? definition.operation,
    kind,
    compare,
    [SCENARIO_BRAND]: true,
  };
  return Object.freeze(scenario);
}

/**
 * A command style that runs a Python server script (`PYTHON SCRIPT --host H --port P`), as the
 * Twisted and Tornado peers do; skipped with a visible line when `python -c "import MODULE"`
 * fails.
 * @param options - the style's name, script, the Python module it needs and the interpreter.
 * @returns the style.
 */
export function pythonPeer<const N extends string>(options: {
  readonly name: N;
  /** The script's path (a `file:` URL or a path). */
  readonly script: string | URL;
  /** The Python module the script needs (`twisted`, `tornado`). */
  readonly module: string;
  /** @defaultValue DEFAULT_PEER_PYTHON */
  readonly python?: string;
  readonly description?: string;
}): CommandStyle<N> {
  const python = options.python ?? DEFAULT_PEER_PYTHON;
  const script = options.script instanceof URL || options.script.startsWith("file:") ? fileURLToPath(options.script) : options.script;
  const mod = options.module;
  return {
    name: options.name,
    ...(options.description === undefined ? {} : { description: options.description }),
    command: [python, script, "--host", "{host}", "--port", "{port}"],
    check: [python, "-c", `import ${mod}`],
    version: [python, "-c", `import ${mod}; print(getattr(${mod}, "__version__", None) or getattr(${mod}, "version", "unknown"))`],
  };
}
