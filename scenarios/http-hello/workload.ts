/**
 * http-hello load from wirelab's own lean HTTP client: keep-alive, one request in flight per
 * connection, status and body checked.
 *
 * @module
 */

import { formatGetRequest, HttpLoadClient } from "../load/http-load-client.js";
import { RequestWorkload } from "../load/request-workload.js";
import type { WorkloadContext, WorkloadInstance } from "../scenario.js";
import { HELLO_BODY, HELLO_PATH } from "./hello.js";

/**
 * Builds one worker's HTTP load.
 * @param context - the worker's share.
 * @returns the workload.
 */
export function createWorkload(context: WorkloadContext): WorkloadInstance {
  const request = formatGetRequest(`${context.host}:${context.port}`, HELLO_PATH);
  const body = Buffer.from(HELLO_BODY);
  return new RequestWorkload(context, (target) => new HttpLoadClient(target, request, 200, body));
}
