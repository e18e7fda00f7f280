/**
 * The errors `reports/` raises. They mirror the runtime's error convention (a stable `code` that
 * programs may match on, a message for people) but live here because `reports/` imports nothing
 * from `runtime/` (a layering rule: see README.md, "Map of the code").
 *
 * @module
 */

/** The root of every error `reports/` raises. */
export class ReportError extends Error {
  /** A stable identifier, such as `WL_ERR_RESULTS_FORMAT`. */
  readonly code: string;

  /**
   * @param code - The stable code.
   * @param message - A message for people.
   * @param cause - The lower-level error that led to this one, if any.
   */
  constructor(code: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** A results file is not valid JSON, not a results object, or has a bad or unknown field value. */
export class ResultsFormatError extends ReportError {
  /** Where the file came from (a path, or a description). */
  readonly source: string;
  /** The JSON path of the offending field, e.g. `points[3].latencyUs.p99`; `$` for the whole file. */
  readonly field: string;

  /**
   * @param source - Where the file came from.
   * @param field - The JSON path of the offending field.
   * @param problem - What is wrong with it.
   * @param cause - The lower-level error (e.g. a JSON syntax error), if any.
   */
  constructor(source: string, field: string, problem: string, cause?: unknown) {
    super("WL_ERR_RESULTS_FORMAT", `${source}: ${field}: ${problem}`, cause);
    this.source = source;
    this.field = field;
  }
}

/** `wirelab report` was called with arguments it cannot use. */
export class ReportUsageError extends ReportError {
  /**
   * @param message - What is wrong, and how to call the command instead.
   */
  constructor(message: string) {
    super("WL_ERR_REPORT_USAGE", message);
  }
}
