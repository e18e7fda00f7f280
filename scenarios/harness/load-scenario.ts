/**
 * Finding and loading scenario modules: a built-in scenario by name, or a user's module by path
 * (`.js`, `.mjs`, `.ts`, `.mts`), in whichever process needs it (the runner, the server child,
 * each load worker): a scenario is always known by its module URL and its name.
 *
 * TypeScript modules: Node 20 cannot load `.ts` files by itself, so before the first one the
 * harness registers tsx's loader (`tsx/esm/api`, an optional peer dependency; first, because
 * Node remembers a module that failed to load and would not try it again). A Node that strips
 * types itself (`process.features.typescript`), or a process already running wirelab from its
 * TypeScript sources under tsx (a checkout), does without.
 *
 * @module
 */

import { existsSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { InvalidOptionError } from "../../runtime/errors.js";
import type { Scenario } from "./scenario.js";
import { isScenario } from "./scenario.js";

/** The built-in scenarios, in the order `wirelab list` shows them. */
export const BUILTIN_SCENARIOS: readonly string[] = ["tcp-echo", "http-hello", "idle-hold", "line-chat", "ws-broadcast"];

// Run from the sources (a checkout, the tests) the modules are .ts; from the package, .js.
const EXTENSION = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

/** A scenario and where it comes from. */
export interface LoadedScenario {
  /** The URL of its module: what the server child and the load workers import. */
  readonly url: string;
  readonly scenario: Scenario;
}

/**
 * The module URL of a built-in scenario.
 * @param name - e.g. `tcp-echo`.
 * @returns its URL, or undefined for a name that is not built in.
 */
export function builtinScenarioUrl(name: string): string | undefined {
  return BUILTIN_SCENARIOS.includes(name) ? new URL(`../${name}/index${EXTENSION}`, import.meta.url).href : undefined;
}

let typeScriptLoader: Promise<void> | null = null;

/** Registers tsx's ESM loader once. */
async function registerTypeScript(file: string): Promise<void> {
  typeScriptLoader ??= (async () => {
    let api: { register: () => unknown };
    try {
      api = await import("tsx/esm/api");
    } catch {
      typeScriptLoader = null;
      throw new InvalidOptionError(
        "scenario",
        `${file} is TypeScript, which Node ${process.version} cannot load by itself: install tsx next to wirelab (npm install --save-dev tsx), or write the scenario in JavaScript`,
      );
    }
    api.register();
  })();
  return typeScriptLoader;
}

function needsTypeScriptLoader(url: string): boolean {
  if (!/\.[cm]?ts$/.test(new URL(url).pathname)) return false;
  if (EXTENSION === ".ts") return false;
  return !(process.features as { typescript?: unknown }).typescript;
}

async function importModule(url: string): Promise<Record<string, unknown>> {
  if (needsTypeScriptLoader(url)) await registerTypeScript(fileURLToPath(url));
  return (await import(url)) as Record<string, unknown>;
}

/**
 * The scenarios a module exports: its default export first, then its named exports, each once.
 * @param mod - the module's namespace.
 * @returns the scenarios.
 */
export function exportedScenarios(mod: Readonly<Record<string, unknown>>): Scenario[] {
  const out: Scenario[] = [];
  const values = ["default" in mod ? mod["default"] : undefined, ...Object.entries(mod).filter(([k]) => k !== "default").map(([, v]) => v)];
  for (const v of values) if (isScenario(v) && !out.includes(v)) out.push(v);
  return out;
}

/**
 * Imports a scenario module and returns the scenarios it exports.
 * @param url - the module's URL.
 * @param shownAs - how to name it in errors (the path the user gave).
 * @returns its scenarios, at least one.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when it cannot be imported, exports no
 *   scenario or two with one name (the bad definition's own error when `defineScenario` threw).
 */
export async function importScenarios(url: string, shownAs: string = url): Promise<Scenario[]> {
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(url);
  } catch (error) {
    // The loader's own message (tsx missing) says it all; anything else is the module's.
    if (error instanceof InvalidOptionError && error.option === "scenario") throw error;
    const text = error instanceof Error ? error.message : String(error);
    // A .ts file in a CommonJS package is compiled as CommonJS, where `import` cannot be.
    const hint = /require\(\) ES Module|Cannot use import statement outside a module/.test(text) ? ` (a scenario is an ES module: set "type": "module" in package.json, or name it .mts)` : "";
    throw new InvalidOptionError("scenario", `${shownAs} could not be loaded: ${text}${hint}`);
  }
  const scenarios = exportedScenarios(mod);
  if (scenarios.length === 0) {
    throw new InvalidOptionError("scenario", `${shownAs} exports no scenario (export default defineScenario({ ... }) from "wirelab/bench")`);
  }
  const names = scenarios.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new InvalidOptionError("scenario", `${shownAs} exports two scenarios named ${JSON.stringify(twice)}`);
  return scenarios;
}

/**
 * Imports one scenario by module URL and name, as a child process does.
 * @param url - the module's URL.
 * @param name - the scenario's name.
 * @returns the scenario.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) when the module has no scenario by that name.
 */
export async function importScenario(url: string, name: string): Promise<Scenario> {
  const scenario = (await importScenarios(url)).find((s) => s.name === name);
  if (scenario === undefined) throw new InvalidOptionError("scenario", `${url} exports no scenario named ${JSON.stringify(name)}`);
  return scenario;
}

function looksLikePath(ref: string): boolean {
  return ref.includes("/") || ref.includes(path.sep) || /\.[cm]?[jt]s$/.test(ref);
}

/**
 * Resolves what the user named, a built-in name or a path, to scenarios.
 * @param refs - names and paths, in order (a `file:` URL works too).
 * @param cwd - what relative paths are relative to.
 * @returns the scenarios, in order, each once.
 * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a path that does not exist, a name that
 *   is neither built in nor a file, a module without scenarios, two scenarios with one name.
 */
export async function loadScenarios(refs: readonly (string | URL)[], cwd: string = process.cwd()): Promise<LoadedScenario[]> {
  const out: LoadedScenario[] = [];
  for (const ref of refs) {
    const text = ref instanceof URL ? ref.href : ref;
    let url: string;
    const builtin = builtinScenarioUrl(text);
    if (builtin !== undefined) url = builtin;
    else if (text.startsWith("file:")) url = text;
    else {
      const file = path.resolve(cwd, text);
      if (!existsSync(file)) {
        throw new InvalidOptionError(
          "scenario",
          looksLikePath(text) ? `no such file: ${text}` : `unknown scenario ${JSON.stringify(text)}: not a built-in (${BUILTIN_SCENARIOS.join(", ")}) nor a file`,
        );
      }
      if (statSync(file).isDirectory()) throw new InvalidOptionError("scenario", `${text} is a folder; give the scenario module's file`);
      url = pathToFileURL(file).href;
    }
    for (const scenario of await importScenarios(url, text)) {
      const same = out.find((l) => l.scenario.name === scenario.name);
      if (same === undefined) out.push({ url, scenario });
      else if (same.url !== url) throw new InvalidOptionError("scenario", `two scenarios are named ${JSON.stringify(scenario.name)} (${same.url} and ${url})`);
    }
  }
  return out;
}
