/** Router and Route by themselves: anchoring, groups, decoding, order, bad patterns. */

import { describe, expect, it } from "vitest";

import { InvalidOptionError } from "../../../runtime/errors.js";
import { RequestHandler } from "../../../runtime/web/request-handler.js";
import { Route, Router } from "../../../runtime/web/routing.js";

class A extends RequestHandler {}
class B extends RequestHandler {}

describe("Route", () => {
  it("anchors string and RegExp patterns at both ends", () => {
    const r = new Route(["/a/(\\d+)", A]);
    expect(r.match("/a/12")?.args).toEqual(["12"]);
    expect(r.match("/a/12/")).toBeNull();
    expect(r.match("x/a/12")).toBeNull();
    const re = new Route([/\/b|\/c/i, A]);
    expect(re.match("/B")).not.toBeNull();
    expect(re.match("/bc")).toBeNull();
  });

  it("passes named groups only, percent-decoded, and keeps undecodable arguments as sent", () => {
    const r = new Route(["/(?<x>[^/]+)/(\\w+)", A, { k: 1 }]);
    expect(r.match("/a%2Fb/c")).toMatchObject({ args: [], kwargs: { x: "a/b" } });
    expect(r.options).toEqual({ k: 1 });
    expect(new Route(["/(.*)", A]).match("/%E0%A4%A")?.args).toEqual(["%E0%A4%A"]);
    expect(new Route(["/o(x)?", A]).match("/o")?.args).toEqual([""]);
  });

  it("refuses a pattern that is not a regular expression", () => {
    expect(() => new Route(["/(", A])).toThrow(InvalidOptionError);
  });
});

describe("Router", () => {
  it("returns the first matching rule, or null", () => {
    const router = new Router([
      ["/x", A],
      ["/.*", B],
    ]);
    expect(router.find("/x")?.route.handler).toBe(A);
    expect(router.find("/y")?.route.handler).toBe(B);
    expect(new Router([]).find("/")).toBeNull();
  });
});
