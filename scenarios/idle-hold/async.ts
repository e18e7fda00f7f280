/**
 * idle-hold, async style: the tcp-echo async server, which holds connections that say nothing and
 * answers the liveness probe at the end of the window.
 *
 * @module
 */

export { start } from "../tcp-echo/async.js";
