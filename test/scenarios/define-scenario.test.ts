import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "wirelab";
import { defineScenario, isScenario, pythonPeer, styleKind } from "wirelab/bench";
import type { ScenarioDefinition } from "wirelab/bench";
import { exportedScenarios } from "../../scenarios/harness/load-scenario.js";

const listen = (): Promise<never> => Promise.reject(new Error("not run"));
const base: ScenarioDefinition<string> = { name: "s", operation: "one thing", styles: [{ name: "a", listen }], client: { operation: () => Promise.resolve() } };

function error(definition: unknown): InvalidOptionError {
  try {
    defineScenario(definition as ScenarioDefinition<string>);
  } catch (e) {
    if (e instanceof InvalidOptionError) return e;
    throw e;
  }
  throw new Error("no error");
}

describe("defineScenario", () => {
  it("returns the scenario frozen, with its defaults, recognisable in any copy of wirelab", () => {
    const s = defineScenario(base);
    expect([s.summary, s.kind, s.compare]).toEqual(["one thing", "throughput", []]);
    expect(Object.isFrozen(s)).toBe(true);
    expect(isScenario(s)).toBe(true);
    expect(isScenario({ ...base })).toBe(false);
    expect(exportedScenarios({ default: s, again: s, other: 1 })).toEqual([s]);
  });

  it("names the bad field", () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ...base, name: "no spaces" }, "name", /letters, digits/],
      [{ ...base, operation: "" }, "operation", /what one operation is/],
      [{ ...base, styles: [] }, "styles", /at least one/],
      [{ ...base, styles: [{ name: "a", listen }, { name: "a", listen }] }, "styles[1].name", /two styles are named "a"/],
      [{ ...base, styles: [{ name: "a" }] }, "styles[0]", /exactly one of listen .* node .* or command, got none/],
      [{ ...base, styles: [{ name: "a", listen, node: listen }] }, "styles[0]", /got listen and node/],
      [{ ...base, styles: [{ name: "a", command: [] }] }, "styles[0].command", /non-empty array/],
      [{ ...base, client: {} }, "client.operation", /operation function/],
      [{ ...base, compare: [["a", "b"]] }, "compare[0]", /names a style the scenario does not have: "b" \(it has a\)/],
      [{ ...base, compare: [["a", "a"]] }, "compare[0]", /with itself/],
      [{ ...base, styles: [{ name: "a", listen }, { name: "b", listen }], compare: [["a", "b"], ["a", "b"]] }, "compare[1]", /given twice/],
      [{ ...base, kind: "idle" }, "kind", /"throughput" or "hold"/],
      [{ ...base, defaultConnections: [0] }, "defaultConnections", /positive integers/],
    ];
    for (const [definition, option, message] of cases) {
      const e = error(definition);
      expect(e.option, option).toBe(option);
      expect(e.message).toMatch(message);
    }
  });

  it("tells the kinds of style apart; pythonPeer makes a command style", () => {
    const peer = pythonPeer({ name: "twisted", script: new URL("file:///peers/echo%20server.py"), module: "twisted" });
    expect(peer.command).toEqual(["/usr/bin/python3", "/peers/echo server.py", "--host", "{host}", "--port", "{port}"]);
    expect(peer.check).toEqual(["/usr/bin/python3", "-c", "import twisted"]);
    expect([styleKind({ name: "a", listen }), styleKind({ name: "b", node: listen }), styleKind(peer)]).toEqual(["wirelab", "node", "command"]);
  });
});
