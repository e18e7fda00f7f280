/**
 * Test helper: how a test runs the `wirelab` command from the checkout's sources (as `npm run
 * wirelab` does): Node with the `wirelab-source` condition and tsx, then the bin's source.
 */

import { fileURLToPath } from "node:url";

/** The program and arguments before the command's own (`bench`, `list`, ...). */
export const WIRELAB_COMMAND: readonly string[] = [
  process.execPath,
  "--conditions=wirelab-source",
  "--import",
  import.meta.resolve("tsx"),
  fileURLToPath(new URL("../../scenarios/harness/bin.ts", import.meta.url)),
];
