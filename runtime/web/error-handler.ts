/**
 * `ErrorHandler`: answers every request with one error status; the application's default
 * handler (404 for paths no route matches), as Tornado's.
 *
 * @module
 */

import { RequestHandler } from "./request-handler.js";
import type { HandlerOptions } from "./routing.js";

/** The status {@link ErrorHandler} answers with when its options give none. */
export const DEFAULT_ERROR_HANDLER_STATUS = 404;

/**
 * Answers every request, whatever its method, with `options.status` (404 by default) through
 * `sendError`, so an application's error page applies. The body, if any, is not read.
 */
export class ErrorHandler extends RequestHandler {
  /** The status answered. */
  errorStatus = DEFAULT_ERROR_HANDLER_STATUS;

  /** @param options - `status`: the status to answer with. */
  override initialize(options: HandlerOptions): void {
    const status = options.status;
    if (typeof status === "number") this.errorStatus = status;
  }

  override async execute(): Promise<void> {
    await this.sendError(this.errorStatus);
  }
}
