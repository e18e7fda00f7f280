/**
 * Application and RequestHandler on the fakes, through the whole HTTP stack (requestApp):
 * routing, 404/405, the request life cycle, output, errors, arguments, cookies, Etag.
 */

import { describe, expect, it } from "vitest";

import { Clock, requestApp } from "../../../fakes/index.js";
import { deferLater } from "../../../runtime/tasks.js";
import { HttpError, RequestHandlerUsageError } from "../../../runtime/errors.js";
import { Application } from "../../../runtime/web/application.js";
import { RequestHandler } from "../../../runtime/web/request-handler.js";
import type { ErrorInfo } from "../../../runtime/web/request-handler.js";
import type { HandlerOptions } from "../../../runtime/web/routing.js";

function quietApp(routes: ConstructorParameters<typeof Application>[0], settings: ConstructorParameters<typeof Application>[1] = {}): { app: Application; errors: unknown[] } {
  const errors: unknown[] = [];
  return { app: new Application(routes, { onError: (e) => errors.push(e), ...settings }), errors };
}

describe("routing", () => {
  class Args extends RequestHandler {
    override get(...args: string[]): void {
      this.write({ args, kwargs: this.pathKwargs });
    }
  }
  class First extends RequestHandler {
    override get(): void {
      this.write("first");
    }
  }
  class Second extends RequestHandler {
    override get(): void {
      this.write("second");
    }
  }
  const { app } = quietApp([
    [String.raw`/items/(\d+)/(\w+)`, Args],
    [String.raw`/named/(?<year>\d{4})/(?<slug>[^/]+)`, Args],
    ["/dup", First],
    ["/dup", Second],
    ["/d.*", Second],
  ]);

  it("passes unnamed groups as positional arguments, percent-decoded", async () => {
    const res = await requestApp(app, "GET", "/items/42/abc?x=1");
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ args: ["42", "abc"], kwargs: {} });
    expect(res.headers.get("content-type")).toBe("application/json; charset=UTF-8");
    const enc = await requestApp(app, "GET", "/named/2024/hello%20world");
    expect(enc.json()).toEqual({ args: [], kwargs: { year: "2024", slug: "hello world" } });
  });

  it("anchors patterns at both ends and lets the first match win", async () => {
    expect((await requestApp(app, "GET", "/dup")).text()).toBe("first");
    expect((await requestApp(app, "GET", "/dupe")).text()).toBe("second");
    expect((await requestApp(app, "GET", "/items/42/abc/extra")).status).toBe(404);
    expect((await requestApp(app, "GET", "/x/items/42/abc")).status).toBe(404);
  });

  it("answers 404 for unknown paths with the default error page", async () => {
    const res = await requestApp(app, "POST", "/nowhere", { body: "x" });
    expect(res.status).toBe(404);
    expect(res.text()).toBe("<html><title>404: Not Found</title><body>404: Not Found</body></html>");
    expect(res.headers.get("server")).toBe("wirelab");
  });

  it("answers 405 with Allow for methods the handler does not define, HEAD included", async () => {
    const res = await requestApp(app, "POST", "/dup", { body: "x" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
    const head = await requestApp(app, "HEAD", "/dup");
    expect(head.status).toBe(405);
    const unknown = await requestApp(app, "BREW", "/dup");
    expect(unknown.status).toBe(405);
  });
});

describe("the request life cycle", () => {
  it("runs initialize with the route options, awaits an async prepare, then the method", async () => {
    const clock = new Clock({ start: 1_000 });
    const log: string[] = [];
    class H extends RequestHandler {
      greeting = "";
      override initialize(options: HandlerOptions): void {
        this.greeting = String(options.greeting);
        log.push("initialize");
      }
      override async prepare(): Promise<void> {
        log.push(`prepare@${this.clock.now()}`);
        await deferLater(this.clock, 50, () => undefined);
        log.push(`prepared@${this.clock.now()}`);
      }
      override get(): void {
        log.push("get");
        this.write(this.greeting);
      }
      override onFinish(): void {
        log.push("finish");
      }
    }
    const { app } = quietApp([["/", H, { greeting: "hi" }]]);
    const res = await requestApp(app, "GET", "/", { clock });
    expect(res.text()).toBe("hi");
    expect(log).toEqual(["initialize", "prepare@1000", "prepared@1050", "get", "finish"]);
  });

  it("skips the method when prepare finishes the request", async () => {
    let called = false;
    class H extends RequestHandler {
      override prepare(): void {
        this.setStatus(401);
        void this.finish("no");
      }
      override get(): void {
        called = true;
      }
    }
    const res = await requestApp(quietApp([["/", H]]).app, "GET", "/");
    expect(res.status).toBe(401);
    expect(res.text()).toBe("no");
    expect(called).toBe(false);
  });

  it("waits for a returned Promise or Deferred before finishing", async () => {
    class P extends RequestHandler {
      override async get(): Promise<void> {
        await deferLater(this.clock, 10, () => undefined);
        this.write("late");
      }
    }
    class D extends RequestHandler {
      override post(): unknown {
        return deferLater(this.clock, 10, () => this.write(`body=${this.request.text()}`));
      }
    }
    const { app } = quietApp([["/p", P], ["/d", D]]);
    expect((await requestApp(app, "GET", "/p")).text()).toBe("late");
    expect((await requestApp(app, "POST", "/d", { body: "abc" })).text()).toBe("body=abc");
  });

  it("refuses a write or a second finish after finish with a typed error", async () => {
    const seen: unknown[] = [];
    class H extends RequestHandler {
      override get(): void {
        void this.finish("done");
        for (const f of [() => this.write("more"), () => this.finish(), () => this.flush()]) {
          try {
            void f();
          } catch (e) {
            seen.push(e);
          }
        }
      }
    }
    const res = await requestApp(quietApp([["/", H]]).app, "GET", "/");
    expect(res.text()).toBe("done");
    expect(seen).toHaveLength(3);
    for (const e of seen) {
      expect(e).toBeInstanceOf(RequestHandlerUsageError);
      expect((e as RequestHandlerUsageError).code).toBe("WL_ERR_WEB_USAGE");
      expect((e as RequestHandlerUsageError).reason).toBe("finished");
    }
  });
});

describe("output", () => {
  it("sends default headers, Content-Length, and text as UTF-8", async () => {
    class H extends RequestHandler {
      override get(): void {
        this.write("héllo ");
        this.write(new TextEncoder().encode("wörld"));
      }
    }
    const res = await requestApp(quietApp([["/", H]]).app, "GET", "/");
    expect(res.status).toBe(200);
    expect(res.text()).toBe("héllo wörld");
    expect(res.headers.get("content-type")).toBe("text/html; charset=UTF-8");
    expect(res.headers.get("server")).toBe("wirelab");
    expect(res.headers.get("content-length")).toBe(String(Buffer.byteLength("héllo wörld")));
    expect(res.headers.get("date")).toBe("Thu, 01 Jan 1970 00:00:00 GMT");
  });

  it("writes objects as JSON (escaping </) and refuses arrays", async () => {
    let arrayError: unknown = null;
    class H extends RequestHandler {
      override get(): void {
        try {
          this.write([1, 2] as unknown as Record<string, unknown>);
        } catch (e) {
          arrayError = e;
        }
        this.write({ a: 1, html: "</script>" });
      }
    }
    const res = await requestApp(quietApp([["/", H]]).app, "GET", "/");
    expect(res.text()).toBe('{"a":1,"html":"<\\/script>"}');
    expect(res.json()).toEqual({ a: 1, html: "</script>" });
    expect(arrayError).toBeInstanceOf(RequestHandlerUsageError);
    expect((arrayError as RequestHandlerUsageError).reason).toBe("invalid-write");
  });

  it("sets, adds and clears headers, and a custom status", async () => {
    class H extends RequestHandler {
      override get(): void {
        this.setHeader("X-One", "1");
        this.addHeader("X-Many", "a");
        this.addHeader("X-Many", "b");
        this.setHeader("X-Gone", "x");
        this.clearHeader("x-gone");
        this.setStatus(299, "Fine Enough");
        this.write("ok");
      }
    }
    const res = await requestApp(quietApp([["/", H]]).app, "GET", "/");
    expect(res.status).toBe(299);
    expect(res.raw.reason).toBe("Fine Enough");
    expect(res.headers.get("x-one")).toBe("1");
    expect(res.headers.getAll("x-many")).toEqual(["a", "b"]);
    expect(res.headers.has("x-gone")).toBe(false);
  });

  it("redirects, temporarily and permanently", async () => {
    class H extends RequestHandler {
      override get(kind: string): void {
        this.redirect("/elsewhere", kind === "perm");
      }
    }
    const { app } = quietApp([["/r/(\\w+)", H]]);
    const temp = await requestApp(app, "GET", "/r/temp");
    expect(temp.status).toBe(302);
    expect(temp.headers.get("location")).toBe("/elsewhere");
    const perm = await requestApp(app, "GET", "/r/perm");
    expect(perm.status).toBe(301);
  });

  it("adds an Etag and answers 304 to a matching If-None-Match", async () => {
    class H extends RequestHandler {
      override get(): void {
        this.write("cache me");
      }
    }
    const { app } = quietApp([["/", H]]);
    const first = await requestApp(app, "GET", "/");
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]{40}"$/);
    const second = await requestApp(app, "GET", "/", { headers: { "If-None-Match": `W/${etag}, "other"` } });
    expect(second.status).toBe(304);
    expect(second.body.length).toBe(0);
    expect(second.headers.get("etag")).toBe(etag);
    expect(second.headers.has("content-type")).toBe(false);
    const miss = await requestApp(app, "GET", "/", { headers: { "If-None-Match": '"nope"' } });
    expect(miss.status).toBe(200);
  });
});

describe("errors", () => {
  it("turns HttpError into its status and other exceptions into a reported 500", async () => {
    class H extends RequestHandler {
      override get(kind: string): void {
        if (kind === "http") throw new HttpError(418, "tea", { reason: "I'm a teapot" });
        throw new Error("boom");
      }
    }
    const { app, errors } = quietApp([["/(\\w+)", H]]);
    const tea = await requestApp(app, "GET", "/http");
    expect(tea.status).toBe(418);
    expect(tea.text()).toContain("418: I&#39;m a teapot");
    expect(errors).toHaveLength(0);
    const boom = await requestApp(app, "GET", "/boom");
    expect(boom.status).toBe(500);
    expect(boom.text()).toBe("<html><title>500: Internal Server Error</title><body>500: Internal Server Error</body></html>");
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe("boom");
  });

  it("lets writeError be overridden, and clears what the method wrote", async () => {
    class H extends RequestHandler {
      override async get(): Promise<void> {
        this.write("partial");
        this.setHeader("X-Lost", "1");
        await Promise.resolve();
        throw new HttpError(409);
      }
      override writeError(status: number, info: ErrorInfo): void {
        this.write({ status, message: (info.error as HttpError).message });
      }
    }
    class S extends RequestHandler {
      override get(): Promise<void> {
        return this.sendError(503, { reason: "Busy" });
      }
    }
    const { app } = quietApp([["/h", H], ["/s", S]]);
    const res = await requestApp(app, "GET", "/h");
    expect(res.status).toBe(409);
    expect(res.json()).toEqual({ status: 409, message: "HTTP 409" });
    expect(res.headers.has("x-lost")).toBe(false);
    const busy = await requestApp(app, "GET", "/s");
    expect(busy.status).toBe(503);
    expect(busy.raw.reason).toBe("Busy");
  });
});

describe("arguments and cookies", () => {
  it("reads query and form-urlencoded body arguments; a missing one is a 400", async () => {
    class H extends RequestHandler {
      override post(): void {
        this.write({ a: this.getArgument("a"), all: this.getArguments("a"), b: this.getArgument("b", "none"), c: this.getArgument("c", null) });
      }
      override get(): void {
        this.write(this.getArgument("needed"));
      }
    }
    const { app } = quietApp([["/", H]]);
    const res = await requestApp(app, "POST", "/?a=1&a=%C3%A9", {
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "a=+two+&x=y",
    });
    expect(res.json()).toEqual({ a: "two", all: ["1", "é", "two"], b: "none", c: null });
    const missing = await requestApp(app, "GET", "/");
    expect(missing.status).toBe(400);
    expect(missing.raw.reason).toBe("Missing argument needed");
  });

  it("reads cookies, sets them with attributes, and clears them", async () => {
    const clock = new Clock({ start: Date.UTC(2024, 0, 1) });
    class H extends RequestHandler {
      override get(): void {
        this.write(`${this.getCookie("a")}/${this.getCookie("b")}/${this.getCookie("zz", "dflt")}`);
        this.setCookie("session", "abc", { expiresDays: 1, httpOnly: true, secure: true, sameSite: "Lax" });
        this.clearCookie("old");
      }
    }
    let bad: unknown = null;
    class Bad extends RequestHandler {
      override get(): void {
        try {
          this.setCookie("x", "has space; injected=1");
        } catch (e) {
          bad = e;
        }
      }
    }
    const { app } = quietApp([["/", H], ["/bad", Bad]]);
    const res = await requestApp(app, "GET", "/", { clock, headers: { Cookie: 'a=1; b="two"; a=3' } });
    expect(res.text()).toBe("1/two/dflt");
    expect(res.headers.getAll("set-cookie")).toEqual([
      "session=abc; Expires=Tue, 02 Jan 2024 00:00:00 GMT; Path=/; Secure; HttpOnly; SameSite=Lax",
      "old=; Expires=Sun, 01 Jan 2023 00:00:00 GMT; Max-Age=0; Path=/",
    ]);
    await requestApp(app, "GET", "/bad", { clock });
    expect((bad as RequestHandlerUsageError).reason).toBe("invalid-cookie");
  });
});
