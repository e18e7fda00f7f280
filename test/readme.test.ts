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

describe("runtime/README.md", () => {
  const doc = read("runtime/README.md");
  const section = doc.slice(doc.indexOf("## Deferred: differences from Twisted"), doc.indexOf("Where the two agree"));
  const rows = section.split("\n").filter((line) => line.startsWith("| ") && !line.startsWith("| behaviour") && !line.startsWith("| ---"));

  it("names, for every difference from Twisted, a test that exists", () => {
    const tests = read("test/runtime/deferred.test.ts");
    expect(rows.length).toBeGreaterThan(10);
    const missing = rows.filter((row) => {
      const cells = row.split(" | ");
      const name = /"([^"]+)"/.exec(cells[cells.length - 1]!)?.[1]?.replace(/, \.\.\.$/, "").replace(/\.\.\.$/, "");
      return name === undefined || !tests.includes(`it("${name}`);
    });
    expect(missing).toEqual([]);
  });

  it("lists every difference the differential test against Twisted knows", () => {
    const kinds = [...read("test/runtime/deferred-programs.ts").matchAll(/^ {2}\| "([a-z-]+)"/gm)].map((m) => m[1]!);
    expect(kinds.length).toBeGreaterThan(5);
    expect(kinds.filter((kind) => !section.includes(`differential: \`${kind}\``))).toEqual([]);
  });
});
