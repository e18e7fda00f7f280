/**
 * idle-hold, callback style: the tcp-echo callback server, which holds connections that say nothing and
 * answers the liveness probe at the end of the window.
 *
 * @module
 */

export { start } from "../tcp-echo/callback.js";
