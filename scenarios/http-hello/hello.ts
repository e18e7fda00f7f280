/**
 * What every http-hello server answers to `GET /`.
 *
 * @module
 */

/** The response body. */
export const HELLO_BODY = "Hello, world";

/** The response's content type. */
export const HELLO_CONTENT_TYPE = "text/plain";

/** The request path. */
export const HELLO_PATH = "/";
