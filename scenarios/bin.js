#!/usr/bin/env node
// The `wirelab` bin: registers tsx (the package is TypeScript, run from source) and runs the CLI.
import process from "node:process";
import { register } from "tsx/esm/api";

// `wirelab list | head` closes stdout early: that is not an error.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
register();
const { main } = await import("./cli.ts");
process.exitCode = await main(process.argv.slice(2));
