/**
 * Routing for the web application layer: a list of `[pattern, Handler, options]` rules, matched
 * in order against the request path, as Tornado's `Application` does.
 *
 * @module
 */

import { InvalidOptionError } from "../errors.js";
import type { RequestHandlerClass } from "./request-handler.js";

/** Options handed to a handler's `initialize()`, per route. */
export type HandlerOptions = Readonly<Record<string, unknown>>;

/**
 * One routing rule: a path pattern, the handler class, and options for its `initialize()`.
 * A string pattern is a regular expression source, anchored at both ends (`/item/(\d+)` matches
 * `/item/12`, not `/item/12/x`).
 */
export type RouteSpec = readonly [pattern: string | RegExp, handler: RequestHandlerClass, options?: HandlerOptions];

/** A path matched by a rule: the rule, and the captured path arguments (percent-decoded). */
export interface RouteMatch {
  /** The rule that matched. */
  readonly route: Route;
  /** The unnamed capture groups, in order (empty when the pattern has named groups). */
  readonly args: readonly string[];
  /** The named capture groups. */
  readonly kwargs: Readonly<Record<string, string>>;
}

/** A compiled routing rule. */
export class Route {
  /** The anchored expression the path is matched against. */
  readonly regex: RegExp;
  /** The handler class. */
  readonly handler: RequestHandlerClass;
  /** The options for the handler's `initialize()`. */
  readonly options: HandlerOptions;

  /**
   * @param spec - the rule.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a pattern that is not a valid regular
   *   expression.
   */
  constructor(spec: RouteSpec) {
    const [pattern, handler, options] = spec;
    const source = typeof pattern === "string" ? pattern : pattern.source;
    const flags = typeof pattern === "string" ? "" : pattern.flags.replace(/[gy]/g, "");
    try {
      // Anchored at both ends, as Tornado appends `$`; a leading `^` or trailing `$` is harmless.
      this.regex = new RegExp(`^(?:${source})$`, flags);
    } catch (error) {
      throw new InvalidOptionError("routes", `pattern ${JSON.stringify(source)} is not a valid regular expression: ${String(error)}`);
    }
    this.handler = handler;
    this.options = options ?? {};
  }

  /**
   * Matches a request path.
   * @param path - the path, as sent (percent-encoded).
   * @returns the match with its arguments, or null. An argument that is not valid
   *   percent-encoding is passed as sent.
   */
  match(path: string): RouteMatch | null {
    const m = this.regex.exec(path);
    if (m === null) return null;
    const groups = m.groups;
    if (groups !== undefined && Object.keys(groups).length > 0) {
      // As Tornado: with named groups, only the named ones are passed.
      const kwargs: Record<string, string> = {};
      for (const [name, value] of Object.entries(groups)) {
        if (value !== undefined) kwargs[name] = decodePathArg(value);
      }
      return { route: this, args: [], kwargs };
    }
    const args: string[] = [];
    for (let i = 1; i < m.length; i++) {
      const value = m[i];
      // An optional group that did not take part is passed as an empty string.
      args.push(value === undefined ? "" : decodePathArg(value));
    }
    return { route: this, args, kwargs: {} };
  }
}

function decodePathArg(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** An ordered list of routing rules: the first that matches wins. */
export class Router {
  /** The rules, in order. */
  readonly routes: readonly Route[];

  /**
   * @param specs - the rules, in order.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad pattern.
   */
  constructor(specs: readonly RouteSpec[]) {
    this.routes = specs.map((spec) => new Route(spec));
  }

  /**
   * Finds the first rule that matches `path`.
   * @param path - the request path (without the query).
   * @returns the match, or null when no rule matches.
   */
  find(path: string): RouteMatch | null {
    for (const route of this.routes) {
      const m = route.match(path);
      if (m !== null) return m;
    }
    return null;
  }
}
