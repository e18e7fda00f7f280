/**
 * Every scenario, by name, in the order `wirelab list` shows them.
 *
 * @module
 */

import { httpHello } from "./http-hello/index.js";
import { idleHold } from "./idle-hold/index.js";
import { lineChat } from "./line-chat/index.js";
import type { Scenario } from "./scenario.js";
import { tcpEcho } from "./tcp-echo/index.js";
import { wsBroadcast } from "./ws-broadcast/index.js";

/** The scenarios. Add a new one here. */
export const SCENARIOS: readonly Scenario[] = [tcpEcho, httpHello, idleHold, lineChat, wsBroadcast];

/**
 * Finds a scenario by name.
 * @param name - e.g. `tcp-echo`.
 * @returns the scenario, or undefined.
 */
export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
