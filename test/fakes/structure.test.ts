/**
 * The fakes depend one way: no file of `fakes/` imports, even for types only, a file that
 * imports it back (the simulation's parts see its engine through interfaces they declare).
 */

import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";

const folder = new URL("../../fakes/", import.meta.url);

/** Each file's imports of other files in the folder. */
function importGraph(): Map<string, string[]> {
  const files = readdirSync(folder).filter((f) => f.endsWith(".ts"));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const source = readFileSync(new URL(file, folder), "utf8");
    const deps = [...source.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+"\.\/([^"]+)\.js";/gms)].map((m) => `${m[1]!}.ts`);
    graph.set(file, [...new Set(deps)].filter((d) => files.includes(d)));
  }
  return graph;
}

/** Every cycle found by a depth-first walk, as `a.ts -> b.ts -> a.ts`. */
function cycles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "open");
    path.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (state.get(dep) === "open") found.push([...path.slice(path.indexOf(dep)), dep].join(" -> "));
      else if (!state.has(dep)) visit(dep);
    }
    path.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

describe("fakes/ structure", () => {
  it("has no import cycle, type-only imports included", () => {
    const graph = importGraph();
    expect(graph.get("simulation.ts")).toContain("sim-world.ts");
    expect(graph.get("sim-world.ts")).toContain("sim-host.ts");
    expect(cycles(graph)).toEqual([]);
  });

  it("finds a cycle when there is one (the check can fail)", () => {
    expect(cycles(new Map([["a.ts", ["b.ts"]], ["b.ts", ["a.ts"]]]))).toEqual(["a.ts -> b.ts -> a.ts"]);
  });
});
