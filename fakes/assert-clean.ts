/**
 * Test hygiene: `assertClean` fails a test that leaves work behind on a fake reactor (timed
 * calls still pending, connections still open, ports still listening, Deferred errors nobody
 * handled), naming each leftover, so the failure lands on the test that caused it rather than
 * on whichever test runs next. `useClean` registers a fake for the check after each test (the
 * repository's `test/setup.ts` runs {@link checkRegistered} in an `afterEach`).
 *
 * @module
 */

import { flushUnhandledErrors } from "../runtime/deferred.js";
import { UncleanReactorError } from "../runtime/errors.js";
import type { Address, Transport } from "../runtime/protocol.js";
import { Clock } from "./clock.js";
import type { FakeDelayedCall } from "./clock.js";
import { Pump } from "./loopback.js";
import { MemoryReactor } from "./memory-reactor.js";
import { SimHost } from "./sim-host.js";
import type { HostConnection } from "./sim-host.js";
import type { SimScheduler } from "./sim-scheduler.js";
import { SimTimer } from "./sim-timer.js";
import { SimNetwork } from "./simulation.js";

/** What {@link assertClean} can check. */
export type CleanTarget = Clock | MemoryReactor | SimNetwork | SimHost | Pump;

/** A kind of leftover, for {@link AssertCleanOptions.ignore}. */
export type LeftoverKind = "delayedCalls" | "connections" | "ports" | "events" | "unhandledErrors";

/** Options for {@link assertClean}. */
export interface AssertCleanOptions {
  /**
   * Kinds of leftover not to count (a test that deliberately keeps a server listening, say).
   * @defaultValue none: every kind counts
   */
  ignore?: readonly LeftoverKind[];
  /**
   * Most items named per kind; the rest are counted ("... and 7 more").
   * @defaultValue {@link DEFAULT_MAX_NAMED_LEFTOVERS}
   */
  maxNamed?: number;
}

/** The default bound on leftovers named per kind in a report. */
export const DEFAULT_MAX_NAMED_LEFTOVERS = 5;

/** One kind of leftover and the items of it, as {@link findLeftovers} reports them. */
export interface Leftover {
  readonly kind: LeftoverKind;
  /** Each item, readable: `at 1500 ms (tick)`, `tcp:8080`, `127.0.0.1:49152 -> 127.0.0.1:8080`. */
  readonly items: readonly string[];
}

const NOUNS: Record<LeftoverKind, readonly [string, string, string]> = {
  delayedCalls: ["delayed call", "delayed calls", "pending"],
  connections: ["connection", "connections", "open"],
  ports: ["listening port", "listening ports", ""],
  events: ["simulation event", "simulation events", "pending"],
  unhandledErrors: ["unhandled Deferred error", "unhandled Deferred errors", ""],
};

/**
 * Lists what `target` left behind, without the unhandled Deferred errors (which are global, not
 * per reactor; {@link assertClean} adds them).
 *
 * - Clock: active timed calls.
 * - MemoryReactor: its clock's calls, listening TCP/unix/UDP ports, connections not yet lost.
 * - SimNetwork: timed calls of every host, other pending events (bytes or packets in flight,
 *   faults not yet struck), open connections, listening ports of every host that is up.
 * - SimHost: the same, for that one host.
 * - Pump (from `connectPair`): the sides whose connection is not lost.
 *
 * @param target - the fake to inspect.
 * @returns one entry per kind that has leftovers; empty when clean.
 */
export function findLeftovers(target: CleanTarget): Leftover[] {
  const out: Leftover[] = [];
  const add = (kind: LeftoverKind, items: string[]): void => {
    if (items.length > 0) out.push({ kind, items });
  };
  if (target instanceof Clock) {
    add("delayedCalls", clockCalls(target));
  } else if (target instanceof MemoryReactor) {
    add("delayedCalls", clockCalls(target.clock));
    add("connections", target.connections.filter((t) => !isLost(t)).map(describeTransport));
    add("ports", [
      ...target.listeners.filter((p) => p.listening).map((p) => describePort(p.address)),
      ...target.udpPorts.filter((p) => p.listening).map((p) => describePort(p.address)),
    ]);
  } else if (target instanceof Pump) {
    add("connections", [target.server, target.client].filter((t) => !t.lost).map(describeTransport));
  } else if (target instanceof SimNetwork) {
    simLeftovers(add, target.world.scheduler, null, target.connections(), target.hostList());
  } else {
    simLeftovers(add, target.world.scheduler, target, [...target.world.connectionsOf(target)], [target]);
  }
  return out;
}

/** The leftovers of a simulated network, or of its host `only`. */
function simLeftovers(
  add: (kind: LeftoverKind, items: string[]) => void,
  scheduler: SimScheduler,
  only: SimHost | null,
  conns: readonly HostConnection[],
  hosts: readonly SimHost[],
): void {
  const timers: SimTimer[] = [];
  let others = 0;
  for (const event of scheduler.entries()) {
    if (event instanceof SimTimer) {
      if (only === null || event.host === only) timers.push(event);
    } else if (only === null) {
      others++;
    }
  }
  timers.sort((a, b) => a.time - b.time || a.seq - b.seq);
  add(
    "delayedCalls",
    timers.map((t) => `at ${t.time} ms (${t.label === "" ? "anonymous" : t.label}) on ${t.host.address}`),
  );
  if (others > 0) add("events", [`${others} other event${others === 1 ? "" : "s"} (bytes, packets or faults in flight)`]);
  add(
    "connections",
    conns.map((c) => c.describe()),
  );
  const ports: string[] = [];
  for (const host of hosts) {
    if (!host.up) continue;
    for (const p of host.listeners) if (p.listening) ports.push(`${describePort(p.address)} on ${host.address}`);
    for (const p of host.udpPorts) if (p.listening) ports.push(`${describePort(p.address)} on ${host.address}`);
  }
  add("ports", ports);
}

/**
 * Fails when `target` left work behind, or when Deferred errors are left unhandled (those are
 * counted only while `trackUnhandledErrors(true)` is on; they are flushed, so each is reported
 * once).
 *
 * @param target - the fake to check.
 * @param options - kinds to ignore, and how many items to name.
 * @throws UncleanReactorError (`WL_ERR_UNCLEAN_REACTOR`) naming what was left, such as
 *   `2 delayed calls pending: at 1500 ms (tick), at 2000 ms (anonymous); 1 listening port tcp:8080`.
 *
 * @example
 * ```ts
 * afterEach(() => assertClean(reactor));
 * ```
 */
export function assertClean(target: CleanTarget, options: AssertCleanOptions = {}): void {
  const ignore = new Set(options.ignore ?? []);
  const leftovers = findLeftovers(target).filter((l) => !ignore.has(l.kind));
  if (!ignore.has("unhandledErrors")) {
    const errors = flushUnhandledErrors();
    if (errors.length > 0) leftovers.push({ kind: "unhandledErrors", items: errors.map((e) => e.message) });
  }
  if (leftovers.length === 0) return;
  throw new UncleanReactorError(describeTarget(target), formatLeftovers(leftovers, options.maxNamed ?? DEFAULT_MAX_NAMED_LEFTOVERS));
}

/**
 * Turns leftovers into report lines, one per kind.
 *
 * @param leftovers - from {@link findLeftovers}.
 * @param maxNamed - most items named per kind.
 * @returns lines such as `1 listening port tcp:8080`.
 */
export function formatLeftovers(leftovers: readonly Leftover[], maxNamed: number = DEFAULT_MAX_NAMED_LEFTOVERS): string[] {
  return leftovers.map(({ kind, items }) => {
    const [one, many, adjective] = NOUNS[kind];
    const n = items.length;
    const head = `${n} ${n === 1 ? one : many}${adjective === "" ? "" : ` ${adjective}`}`;
    const named = items.slice(0, maxNamed).join(", ");
    const rest = n > maxNamed ? `, ... and ${n - maxNamed} more` : "";
    return `${head}${adjective === "" ? " " : ": "}${named}${rest}`;
  });
}

// ---------------------------------------------------------------------------------------------
// The per-test registry

const registry: { target: CleanTarget; options: AssertCleanOptions }[] = [];

/**
 * Registers a fake to be checked with {@link assertClean} once the current test ends (by
 * {@link checkRegistered}, which `test/setup.ts` runs after each test).
 *
 * @param target - the fake.
 * @param options - passed on to `assertClean`.
 * @returns `target`, so a test can write `const clock = useClean(new Clock())`.
 */
export function useClean<T extends CleanTarget>(target: T, options: AssertCleanOptions = {}): T {
  registry.push({ target, options });
  return target;
}

/**
 * Checks every fake registered with {@link useClean} since the last call, and forgets them.
 * Every target is checked even when an earlier one fails; the first failure is thrown.
 *
 * @throws UncleanReactorError (`WL_ERR_UNCLEAN_REACTOR`) for the first unclean target.
 */
export function checkRegistered(): void {
  const entries = registry.splice(0);
  const problems: string[] = [];
  for (const { target, options } of entries) {
    const leftovers = findLeftovers(target).filter((l) => !(options.ignore ?? []).includes(l.kind));
    if (leftovers.length > 0) {
      problems.push(`${describeTarget(target)}: ${formatLeftovers(leftovers, options.maxNamed ?? DEFAULT_MAX_NAMED_LEFTOVERS).join("; ")}`);
    }
  }
  if (problems.length > 0) throw new UncleanReactorError(`${problems.length === 1 ? "a fake" : `${problems.length} fakes`} registered with useClean`, problems);
}

/** @returns how many fakes are registered with {@link useClean} and not yet checked. */
export function registeredCount(): number {
  return registry.length;
}

// ---------------------------------------------------------------------------------------------

function clockCalls(clock: Clock): string[] {
  return clock
    .pendingCalls()
    .filter((c: FakeDelayedCall) => c.active())
    .map((c) => `at ${c.time} ms (${c.label === "" ? "anonymous" : c.label})`);
}

function isLost(t: Transport): boolean {
  return (t as { lost?: unknown }).lost === true;
}

function describeTransport(t: Transport): string {
  const state = t.disconnecting ? " (disconnecting)" : "";
  try {
    return `${addr(t.getHost())} -> ${addr(t.getPeer())}${state}`;
  } catch {
    return `a transport${state}`;
  }
}

function addr(a: Address): string {
  return a.type === "unix" ? `unix:${a.host}` : `${a.host}:${a.port}`;
}

function describePort(a: Address): string {
  return a.type === "unix" ? `unix:${a.host}` : `${a.type}:${a.port}${a.host === "0.0.0.0" || a.host === "" ? "" : `:interface=${a.host}`}`;
}

function describeTarget(target: CleanTarget): string {
  if (target instanceof Clock) return "the Clock";
  if (target instanceof MemoryReactor) return "the MemoryReactor";
  if (target instanceof Pump) return "the connectPair pump";
  if (target instanceof SimHost) return `SimHost ${target.address}`;
  return `SimNetwork (seed ${target.seed})`;
}
