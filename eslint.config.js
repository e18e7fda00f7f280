// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/*
 * The layering rules: what makes the fakes honest (README.md, "Map of the code"). Each folder
 * says what it may not reach; test/lint/layering.test.ts shows that a violation fails.
 */

/** Imports that only `runtime/node/` may make: the operating system's sockets, timers, threads, processes. */
const SYSTEM_MODULES = ["net", "tls", "dgram", "timers", "timers/promises", "perf_hooks", "worker_threads", "child_process", "cluster"].flatMap(
  (name) => [name, `node:${name}`],
);

/** A relative import of another top-level folder, from any depth. */
const folder = (...names) => ({ regex: `^(\\.\\./)+(${names.join("|")})(/|$)` });

export const layering = [
  {
    files: ["runtime/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [{ name: "wirelab/fakes", message: "runtime/ never imports fakes/: the fakes depend on the runtime, not the other way." }],
          patterns: [{ ...folder("fakes", "scenarios", "reports"), message: "runtime/ never imports fakes/, scenarios/ or reports/." }],
        },
      ],
    },
  },
  {
    files: ["runtime/**/*.ts"],
    ignores: ["runtime/node/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [
            { name: "wirelab/fakes", message: "runtime/ never imports fakes/: the fakes depend on the runtime, not the other way." },
            ...SYSTEM_MODULES.map((name) => ({
              name,
              message: "only runtime/node/ touches sockets, timers, threads and processes; a protocol reaches them through its Reactor and Transport.",
            })),
          ],
          patterns: [{ ...folder("fakes", "scenarios", "reports"), message: "runtime/ never imports fakes/, scenarios/ or reports/." }],
        },
      ],
      "no-restricted-globals": [
        "error",
        ...["setTimeout", "setInterval", "setImmediate", "clearTimeout", "clearInterval", "clearImmediate"].map((name) => ({
          name,
          message: "real timers are runtime/node/'s: use the reactor's callLater, so the fakes can run the code on virtual time.",
        })),
        { name: "performance", message: "the real clock is runtime/node/'s: use the reactor's now()." },
      ],
      "no-restricted-properties": [
        "error",
        { object: "Date", property: "now", message: "the real clock is runtime/node/'s: use the reactor's now()." },
        { object: "Math", property: "random", message: "randomness is the reactor's: use reactor.random(), seeded and replayable on the fakes." },
        ...["setTimeout", "setInterval", "setImmediate", "performance"].map((property) => ({
          object: "globalThis",
          property,
          message: "real time is runtime/node/'s: use the reactor.",
        })),
      ],
      "no-restricted-syntax": [
        "error",
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: "new Date() reads the real clock: use the reactor's now()." },
      ],
    },
  },
  {
    files: ["fakes/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ ...folder("scenarios", "reports"), message: "fakes/ depends on runtime/ only." }] }],
    },
  },
  {
    // The built-in scenarios are written as a user writes one: on the package's public entries.
    files: ["scenarios/*/**/*.ts"],
    ignores: ["scenarios/harness/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^(\\.\\./)+(runtime|fakes|reports|scenarios|harness|index(\\.[jt]s)?)(/|$)",
              message: "a scenario imports wirelab as its users do: from \"wirelab\", \"wirelab/fakes\", \"wirelab/bench\" (another scenario's files are fine).",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["reports/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: ["wirelab", "wirelab/fakes"].map((name) => ({ name, message: "reports/ reads results files; it imports neither the runtime nor the scenarios." })),
          patterns: [{ ...folder("runtime", "fakes", "scenarios"), message: "reports/ reads results files; it imports neither the runtime nor the scenarios." }],
        },
      ],
    },
  },
];

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "results/", "coverage/", "**/*.py", "test/artillery/stubs/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      // Deferred is a thenable by design: awaiting it is the whole point.
      "@typescript-eslint/await-thenable": "off",
      "@typescript-eslint/only-throw-error": "off",
      "@typescript-eslint/prefer-promise-reject-errors": "off",
      "@typescript-eslint/no-this-alias": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // CommonJS entry points that other tools require (the Artillery engine).
    files: ["**/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", module: "writable", __dirname: "readonly", console: "readonly" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  ...layering,
);
