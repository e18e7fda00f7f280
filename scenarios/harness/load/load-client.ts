/**
 * `LoadClient`: one load connection as the drivers see it (one operation in flight at a time),
 * and the listener it reports to.
 *
 * The drivers keep their per-operation state in the client's fields rather than in closures or
 * promises, so a closed-loop run allocates nothing per operation.
 *
 * @module
 */

/** The operation completed and its answer was right. */
export const OUTCOME_OK = 0;
/** The operation completed with a wrong answer. */
export const OUTCOME_MISMATCH = 1;
/** The operation failed (the connection broke, the answer did not parse). */
export const OUTCOME_FAILED = 2;

/** How an operation ended: {@link OUTCOME_OK}, {@link OUTCOME_MISMATCH} or {@link OUTCOME_FAILED}. */
export type Outcome = typeof OUTCOME_OK | typeof OUTCOME_MISMATCH | typeof OUTCOME_FAILED;

/** What a client tells its driver. */
export interface OperationListener {
  /** The operation in flight on `client` ended. */
  operationDone(client: LoadClient, outcome: Outcome): void;
  /** The connection is gone (closed by the server, reset, aborted). */
  clientLost(client: LoadClient): void;
}

const NO_LISTENER: OperationListener = {
  operationDone() {},
  clientLost() {},
};

/** One load connection: sends one operation at a time and reports how each ended. */
export abstract class LoadClient {
  /** Told of each operation's end; set by the driver. */
  listener: OperationListener = NO_LISTENER;
  /** True while the connection is open. */
  alive = false;
  /** True while an operation is in flight (driver state). */
  busy = false;
  /** When the operation in flight was sent, `performance.now()` ms (driver state). */
  sentAt = 0;
  /** Open-loop: when it was meant to be sent, ms (driver state). */
  intendedAt = 0;
  /** The client's index among its driver's clients (driver state). */
  index = 0;
  /** Open-loop: operations of this client sent so far (driver state). */
  issued = 0;
  /** Open-loop: operations of this client due so far (driver state). */
  due = 0;

  /** Opens the connection; rejects when it cannot. */
  abstract connect(): Promise<void>;
  /** Sends one operation; called only when no operation is in flight. */
  abstract send(): void;
  /** Closes the connection gracefully; resolves once closed. */
  abstract close(): Promise<void>;
  /** Closes the connection now. */
  abstract abort(): void;
}
