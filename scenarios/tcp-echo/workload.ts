/**
 * tcp-echo load: each connection sends 64 bytes and waits for the same 64 bytes back.
 *
 * @module
 */

import { RequestWorkload } from "../load/request-workload.js";
import { TcpEchoClient } from "../load/tcp-load-client.js";
import type { WorkloadContext, WorkloadInstance } from "../scenario.js";
import { echoPayload } from "./payload.js";

/**
 * Builds one worker's echo load.
 * @param context - the worker's share.
 * @returns the workload.
 */
export function createWorkload(context: WorkloadContext): WorkloadInstance {
  const payload = echoPayload();
  return new RequestWorkload(context, (target) => new TcpEchoClient(target, payload));
}
