#!/usr/bin/env node
/**
 * The `wirelab` bin: runs the CLI (`cli.ts`). From the package it runs as compiled JavaScript;
 * in a checkout, `npm run wirelab -- ARGS` runs it from the sources under tsx.
 *
 * @module
 */

import { main } from "./cli.js";

// `wirelab list | head` closes stdout early: that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
process.exitCode = await main(process.argv.slice(2));
