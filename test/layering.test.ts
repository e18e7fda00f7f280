/**
 * The layering rules of eslint.config.js (what makes the fakes honest) fail code that breaks
 * them: each case lints a small module, as if it sat in the folder named, with the repository's
 * own ESLint configuration (type-aware rules off, since the module is not on disk).
 */

import { ESLint } from "eslint";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint({
  cwd: new URL("..", import.meta.url).pathname,
  overrideConfig: [{ files: ["**/*.ts"], ...tseslint.configs.disableTypeChecked, languageOptions: { parserOptions: { projectService: false } } }],
});

const LAYERING_RULES = new Set(["no-restricted-imports", "no-restricted-globals", "no-restricted-properties", "no-restricted-syntax"]);

/** The layering rules `code` breaks when it sits at `filePath`. */
async function broken(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId !== null && LAYERING_RULES.has(m.ruleId)).map((m) => m.ruleId!);
}

describe("layering rules (eslint.config.js)", () => {
  it("runtime/ never imports fakes/, scenarios/ or reports/, not even types", async () => {
    for (const file of ["runtime/x.ts", "runtime/node/x.ts", "runtime/protocols/http/x.ts"]) {
      const up = "../".repeat(file.split("/").length - 1);
      expect(await broken(file, `import type { Clock } from "${up}fakes/clock.js";\nexport type C = Clock;\n`)).toEqual(["no-restricted-imports"]);
      expect(await broken(file, `import { x } from "${up}scenarios/x.js";\nexport const y = x;\n`)).toEqual(["no-restricted-imports"]);
      expect(await broken(file, `import { x } from "${up}reports/x.js";\nexport const y = x;\n`)).toEqual(["no-restricted-imports"]);
      expect(await broken(file, `import { Clock } from "wirelab/fakes";\nexport const y = Clock;\n`)).toEqual(["no-restricted-imports"]);
    }
  });

  it("only runtime/node/ touches sockets, real timers, the real clock and Math.random", async () => {
    const offences = [
      `import * as net from "node:net";\nexport const n = net;\n`,
      `import { createSocket } from "dgram";\nexport const s = createSocket;\n`,
      `import { connect } from "node:tls";\nexport const c = connect;\n`,
      `import { setTimeout as wait } from "node:timers/promises";\nexport const w = wait;\n`,
      `setTimeout(() => undefined, 1);\n`,
      `setImmediate(() => undefined);\n`,
      `globalThis.setTimeout(() => undefined, 1);\n`,
      `export const t = Date.now();\n`,
      `export const t = performance.now();\n`,
      `export const d = new Date();\n`,
      `export const r = Math.random();\n`,
    ];
    for (const code of offences) {
      expect(await broken("runtime/protocols/x.ts", code), code).toHaveLength(1);
      expect(await broken("runtime/web/x.ts", code), code).toHaveLength(1);
      expect(await broken("runtime/node/x.ts", code), code).toEqual([]);
    }
    // Formatting a given time is fine; so is a method that happens to be called setTimeout.
    expect(await broken("runtime/x.ts", `export const d = new Date(0).toUTCString();\nexport const o = { setTimeout(): void {} };\no.setTimeout();\n`)).toEqual([]);
  });

  it("fakes/ depends on runtime/ only", async () => {
    expect(await broken("fakes/x.ts", `import { x } from "../scenarios/x.js";\nexport const y = x;\n`)).toEqual(["no-restricted-imports"]);
    expect(await broken("fakes/x.ts", `import { x } from "../reports/x.js";\nexport const y = x;\n`)).toEqual(["no-restricted-imports"]);
    expect(await broken("fakes/x.ts", `import { Deferred } from "../runtime/deferred.js";\nexport const y = Deferred;\n`)).toEqual([]);
  });

  it("a built-in scenario imports wirelab as its users do, through the public entries", async () => {
    const file = "scenarios/tcp-echo/x.ts";
    for (const from of ["../../runtime/deferred.js", "../../fakes/clock.js", "../../reports/results.js", "../harness/plan.js", "../index.js"]) {
      expect(await broken(file, `import { x } from "${from}";\nexport const y = x;\n`), from).toEqual(["no-restricted-imports"]);
    }
    for (const from of ["wirelab", "wirelab/fakes", "wirelab/bench", "../tcp-echo/async.js", "./payload.js", "node:net"]) {
      expect(await broken(file, `import { x } from "${from}";\nexport const y = x;\n`), from).toEqual([]);
    }
    // The harness is the package's own machinery: it may reach the runtime.
    expect(await broken("scenarios/harness/x.ts", `import { x } from "../../runtime/deferred.js";\nexport const y = x;\n`)).toEqual([]);
  });

  it("reports/ imports neither the runtime nor the scenarios", async () => {
    expect(await broken("reports/x.ts", `import { Deferred } from "../runtime/deferred.js";\nexport const y = Deferred;\n`)).toEqual(["no-restricted-imports"]);
    expect(await broken("reports/x.ts", `import { x } from "../scenarios/results.js";\nexport const y = x;\n`)).toEqual(["no-restricted-imports"]);
    expect(await broken("reports/x.ts", `import { NodeReactor } from "wirelab";\nexport const y = NodeReactor;\n`)).toEqual(["no-restricted-imports"]);
    expect(await broken("reports/x.ts", `import { x } from "./statistics.js";\nexport const y = x;\n`)).toEqual([]);
  });
});
