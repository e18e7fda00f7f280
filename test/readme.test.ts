import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");

/** The codes an error file defines: every `"WL_ERR_..."` string in it. */
function definedCodes(source: string): string[] {
  return [...new Set([...source.matchAll(/"(WL_ERR_[A-Z0-9_]+)"/g)].map((m) => m[1]!))];
}

describe("README", () => {
  const readme = read("README.md");

  it("lists every error code the runtime and the reports define, in its table", () => {
    const codes = [...definedCodes(read("runtime/errors.ts")), ...definedCodes(read("reports/errors.ts"))];
    expect(codes.length).toBeGreaterThan(40);
    const listed = new Set([...readme.matchAll(/^\| `(WL_ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
    expect(codes.filter((code) => !listed.has(code))).toEqual([]);
    expect([...listed].filter((code) => !codes.includes(code))).toEqual([]);
  });

  it("gives the two commands a new user runs", () => {
    expect(readme).toContain("npm ci && npm test");
    expect(readme).toContain("npm ci && npm run bench");
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    expect(scripts["test"]).toBeDefined();
    expect(scripts["bench"]).toBeDefined();
  });
});
