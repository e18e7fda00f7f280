#!/usr/bin/env node
// The `wirelab` bin: registers tsx (the package is TypeScript, run from source) and runs the CLI.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./cli.ts");
process.exitCode = await main(process.argv.slice(2));
