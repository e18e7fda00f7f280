/**
 * idle-hold, baseline style: the tcp-echo baseline server, which holds connections that say nothing and
 * answers the liveness probe at the end of the window.
 *
 * @module
 */

export { start } from "../tcp-echo/baseline.js";
