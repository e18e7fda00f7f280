import { defineConfig } from "vitest/config";

export default defineConfig({
  // Imports of "wirelab", "wirelab/bench", ... resolve to the TypeScript sources (package.json
  // "exports", condition "wirelab-source"), as they do for tsc (customConditions) and for the
  // benchmark children run from source (node --conditions=wirelab-source).
  ssr: { resolve: { conditions: ["wirelab-source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Test hygiene after every test: unhandled Deferred errors fail the test that left them, and
    // fakes registered with useClean() are checked with assertClean() (see test/setup.ts).
    setupFiles: ["test/setup.ts"],
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-results.json" },
  },
});
