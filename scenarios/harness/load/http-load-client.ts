/**
 * `HttpLoadClient`: the lean HTTP/1.1 load client on `node:net`: keep-alive, one request in
 * flight (no pipelining), a preformatted request buffer written as is, and responses counted by
 * a small byte-level counter (status line, `Content-Length`, body compared with the expected
 * one) instead of a full parse, so that the client costs less than the servers it loads.
 *
 * Only what a benchmark server sends is understood: responses with `Content-Length`. A chunked
 * or length-less response counts as a failed operation.
 *
 * @module
 */

import { OUTCOME_FAILED, OUTCOME_MISMATCH, OUTCOME_OK } from "./load-client.js";
import type { Outcome } from "./load-client.js";
import type { ConnectTarget } from "./tcp-load-client.js";
import { SocketLoadClient } from "./tcp-load-client.js";

/** The longest response head the counter accepts, in bytes. */
export const MAX_RESPONSE_HEAD = 8 * 1024;

const CR = 13;
const LF = 10;
const CONTENT_LENGTH = Buffer.from("\r\ncontent-length:", "latin1");

/**
 * Builds the bytes of a keep-alive GET request.
 * @param host - the `Host` value.
 * @param path - the request target.
 * @returns the whole request.
 */
export function formatGetRequest(host: string, path: string): Buffer {
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, "latin1");
}

/**
 * Finds `Content-Length` in a response head (case-insensitive name, optional spaces).
 * @param head - the head's bytes, status line first.
 * @param length - how many bytes of `head` are the head.
 * @returns the length, or -1 when absent or malformed.
 */
export function findContentLength(head: Uint8Array, length: number): number {
  const n = CONTENT_LENGTH.length;
  outer: for (let i = 0; i + n <= length; i++) {
    for (let j = 0; j < n; j++) {
      let b = head[i + j]!;
      if (b >= 65 && b <= 90) b += 32;
      if (b !== CONTENT_LENGTH[j]) continue outer;
    }
    let k = i + n;
    while (k < length && head[k] === 32) k++;
    let value = -1;
    while (k < length) {
      const d = head[k]! - 48;
      if (d < 0 || d > 9) break;
      value = (value < 0 ? 0 : value * 10) + d;
      k++;
    }
    return value;
  }
  return -1;
}

/** HTTP client that GETs a fixed request and checks the status and body of each response. */
export class HttpLoadClient extends SocketLoadClient {
  private readonly head = Buffer.allocUnsafe(MAX_RESPONSE_HEAD);
  private headLength = 0;
  /** -1 while reading the head; else body bytes still to come. */
  private bodyLeft = -1;
  private bodyAt = 0;
  private outcome: Outcome = OUTCOME_OK;

  /**
   * @param target - where to connect.
   * @param request - the whole request, preformatted (see {@link formatGetRequest}).
   * @param expectedStatus - the status a right answer has.
   * @param expectedBody - the body a right answer has.
   */
  constructor(
    target: ConnectTarget,
    private readonly request: Buffer,
    private readonly expectedStatus: number,
    private readonly expectedBody: Buffer,
  ) {
    super(target);
  }


  send(): void {
    this.headLength = 0;
    this.bodyLeft = -1;
    this.bodyAt = 0;
    this.outcome = OUTCOME_OK;
    this.socket!.write(this.request);
  }

  protected override onRead(data: Buffer, n: number): void {
    if (!this.busy) return;
    let i = 0;
    if (this.bodyLeft < 0) {
      const head = this.head;
      let at = this.headLength;
      for (; i < n; i++) {
        if (at >= MAX_RESPONSE_HEAD) {
          this.fail();
          return;
        }
        const b = data[i]!;
        head[at++] = b;
        if (b === LF && at >= 4 && head[at - 2] === CR && head[at - 3] === LF && head[at - 4] === CR) {
          i++;
          break;
        }
      }
      this.headLength = at;
      if (at < 4 || head[at - 1] !== LF || head[at - 2] !== CR || head[at - 3] !== LF) return;
      // "HTTP/1.1 200 ": the status is bytes 9..11.
      const status = (head[9]! - 48) * 100 + (head[10]! - 48) * 10 + (head[11]! - 48);
      if (status !== this.expectedStatus) this.outcome = OUTCOME_MISMATCH;
      const length = findContentLength(head, at);
      if (length < 0) {
        this.fail();
        return;
      }
      if (length !== this.expectedBody.length) this.outcome = OUTCOME_MISMATCH;
      this.bodyLeft = length;
    }
    const expected = this.expectedBody;
    let left = this.bodyLeft;
    let at = this.bodyAt;
    for (; i < n && left > 0; i++, left--, at++) {
      if (data[i] !== expected[at]) this.outcome = OUTCOME_MISMATCH;
    }
    this.bodyLeft = left;
    this.bodyAt = at;
    if (left === 0) {
      this.bodyLeft = -1;
      this.listener.operationDone(this, this.outcome);
    }
  }

  private fail(): void {
    this.listener.operationDone(this, OUTCOME_FAILED);
    this.abort();
  }
}
