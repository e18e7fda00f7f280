/**
 * Reads key material given as a `PemSource`: in memory already, or a file to read.
 *
 * @module
 */

import { readFileSync } from "node:fs";

import type { PemSource } from "../endpoints.js";

/**
 * Returns the PEM bytes or text of `source`, reading the file when it names one.
 *
 * Files are read synchronously: this runs once per `listen`, or once per TLS connection
 * attempt when trust roots come from a file, and keeps the setup path free of extra turns of
 * the loop. Hold the PEM in memory (`{ pem }`) to avoid the read altogether.
 *
 * @param source - `{ pem }` or `{ file }`.
 * @returns the PEM text or bytes.
 * @throws the `fs` error (with its `code`, such as `ENOENT`) when the file cannot be read.
 */
export function loadPem(source: PemSource): string | Buffer {
  if ("file" in source) return readFileSync(source.file);
  return typeof source.pem === "string" ? source.pem : Buffer.from(source.pem.buffer, source.pem.byteOffset, source.pem.byteLength);
}
