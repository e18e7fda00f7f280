/**
 * idle-hold, Node's own async baseline: the tcp-echo `for await` server on `node:net`, each
 * held connection an iterator waiting for its next chunk, as wirelab's async style waits in a
 * pending read.
 *
 * @module
 */

export { start } from "../tcp-echo/baseline-async.js";
