/**
 * Signed cookies and XSRF protection: the signing functions by themselves, then through an
 * Application on the fakes (round trip, tampering, expiry on the virtual clock, key rotation;
 * XSRF cookie, masked tokens, 403s).
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { Clock, requestApp } from "../../../fakes/index.js";
import { InvalidOptionError } from "../../../runtime/errors.js";
import { Application } from "../../../runtime/web/application.js";
import type { ApplicationSettings } from "../../../runtime/web/application.js";
import { RequestHandler } from "../../../runtime/web/request-handler.js";
import { createSignedValue, decodeSignedValue, signedValueKeyVersion } from "../../../runtime/web/signed-cookie.js";
import { decodeXsrfToken, encodeXsrfToken } from "../../../runtime/web/xsrf.js";

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

describe("signed values", () => {
  it("has the documented format and round-trips", () => {
    const signed = createSignedValue("secret", "user", "alice", T0);
    expect(signed).toMatch(/^2\|1:0\|10:1704067200\|4:user\|8:YWxpY2U=\|[0-9a-f]{64}$/);
    expect(decodeSignedValue("secret", "user", signed, T0)?.toString()).toBe("alice");
  });

  it("refuses another name, another secret, and any changed character", () => {
    const signed = createSignedValue("secret", "user", "alice", T0);
    expect(decodeSignedValue("secret", "other", signed, T0)).toBeNull();
    expect(decodeSignedValue("other secret", "user", signed, T0)).toBeNull();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: signed.length - 1 }), fc.integer({ min: 33, max: 126 }), (at, code) => {
        const c = String.fromCharCode(code);
        fc.pre(signed[at] !== c);
        const tampered = signed.slice(0, at) + c + signed.slice(at + 1);
        expect(decodeSignedValue("secret", "user", tampered, T0)).toBeNull();
      }),
    );
  });

  it("expires after maxAgeDays and refuses timestamps from the future", () => {
    const signed = createSignedValue("secret", "user", "alice", T0);
    expect(decodeSignedValue("secret", "user", signed, T0 + 31 * DAY)).not.toBeNull();
    expect(decodeSignedValue("secret", "user", signed, T0 + 31 * DAY + 1001)).toBeNull();
    expect(decodeSignedValue("secret", "user", signed, T0 + 2 * DAY, 1)).toBeNull();
    expect(decodeSignedValue("secret", "user", signed, T0 - 2 * DAY)).toBeNull();
  });

  it("signs with a chosen key version and accepts every known one", () => {
    const secrets = { 1: "old", 2: "new" };
    const v1 = createSignedValue(secrets, "n", "x", T0, 1);
    const v2 = createSignedValue(secrets, "n", "x", T0, 2);
    expect(signedValueKeyVersion(v1)).toBe(1);
    expect(signedValueKeyVersion(v2)).toBe(2);
    expect(decodeSignedValue(secrets, "n", v1, T0)?.toString()).toBe("x");
    expect(decodeSignedValue({ 2: "new" }, "n", v1, T0)).toBeNull();
    expect(() => createSignedValue(secrets, "n", "x", T0, 3)).toThrow(InvalidOptionError);
  });
});

describe("XSRF tokens", () => {
  it("mask the same token differently and unmask it back", () => {
    const token = new Uint8Array(16).fill(7);
    const a = encodeXsrfToken(token, 100, new Uint8Array(16).fill(1));
    const b = encodeXsrfToken(token, 100, new Uint8Array(16).fill(2));
    expect(a).not.toBe(b);
    expect(decodeXsrfToken(a)?.token).toEqual(Buffer.from(token));
    expect(decodeXsrfToken(b)?.token).toEqual(Buffer.from(token));
    expect(decodeXsrfToken("2|00|00|1")).toBeNull();
    expect(decodeXsrfToken("garbage")).toBeNull();
  });
});

function cookieFrom(setCookies: readonly string[], name: string): string | undefined {
  for (const c of setCookies) {
    const first = c.split(";")[0] ?? "";
    if (first.startsWith(`${name}=`)) return first.slice(name.length + 1);
  }
  return undefined;
}

describe("signed cookies through a handler", () => {
  class Login extends RequestHandler {
    override post(): void {
      this.setSignedCookie("user", this.getArgument("name"), { version: Number(this.getArgument("v", "1")) });
    }
    override get(): void {
      this.write({ user: this.getSignedCookie("user"), week: this.getSignedCookie("user", { maxAgeDays: 7 }) });
    }
  }
  const settings: ApplicationSettings = { cookieSecret: { 1: "old-secret", 2: "new-secret" }, keyVersion: 2 };

  it("round-trips, refuses tampering, expires on the fake clock, and rotates keys", async () => {
    const clock = new Clock({ start: T0 });
    const app = new Application([["/", Login]], settings);
    const login = await requestApp(app, "POST", "/?name=alice&v=1", { clock });
    const cookie = cookieFrom(login.headers.getAll("set-cookie"), "user")!;
    expect(signedValueKeyVersion(cookie)).toBe(1);
    expect(login.headers.get("set-cookie")).toContain("Expires=Wed, 31 Jan 2024 00:00:00 GMT");

    const ok = await requestApp(app, "GET", "/", { clock, headers: { Cookie: `user=${cookie}` } });
    expect(ok.json()).toEqual({ user: "alice", week: "alice" });

    const forged = cookie.replace("YWxpY2U=", "bWFsbG9yeQ==").replace("8:bWFsbG9yeQ==", "12:bWFsbG9yeQ==");
    const tampered = await requestApp(app, "GET", "/", { clock, headers: { Cookie: `user=${forged}` } });
    expect(tampered.json()).toEqual({ user: null, week: null });

    // Key rotation: version 1 is still accepted while it is listed, and refused once dropped.
    const rotated = new Application([["/", Login]], { cookieSecret: { 2: "new-secret" }, keyVersion: 2 });
    expect((await requestApp(rotated, "GET", "/", { clock, headers: { Cookie: `user=${cookie}` } })).json()).toEqual({ user: null, week: null });

    clock.advance(8 * DAY);
    const older = await requestApp(app, "GET", "/", { clock, headers: { Cookie: `user=${cookie}` } });
    expect(older.json()).toEqual({ user: "alice", week: null });
    clock.advance(24 * DAY);
    const expired = await requestApp(app, "GET", "/", { clock, headers: { Cookie: `user=${cookie}` } });
    expect(expired.json()).toEqual({ user: null, week: null });
  });

  it("signs with the keyVersion setting by default", async () => {
    class Set extends RequestHandler {
      override get(): void {
        this.setSignedCookie("k", "v");
      }
    }
    const res = await requestApp(new Application([["/", Set]], settings), "GET", "/");
    expect(signedValueKeyVersion(cookieFrom(res.headers.getAll("set-cookie"), "k")!)).toBe(2);
  });
});

describe("XSRF protection", () => {
  let counter = 0;
  // Deterministic "random" bytes: a counter, so every mask differs and runs repeat.
  const randomBytes = (n: number): Uint8Array => {
    counter++;
    return Uint8Array.from({ length: n }, (_, i) => (counter * 31 + i * 7) & 0xff);
  };
  class Form extends RequestHandler {
    override get(): void {
      this.write(`<form method="post">${this.xsrfFormHtml()}</form>#${this.xsrfToken}`);
    }
    override post(): void {
      this.write("accepted");
    }
  }
  const errors: unknown[] = [];
  const app = new Application([["/", Form]], { xsrfCookies: true, randomBytes, onError: (e) => errors.push(e) });

  it("sets the cookie once, renders a different masked token each time, and accepts them all", async () => {
    const first = await requestApp(app, "GET", "/");
    const cookie = cookieFrom(first.headers.getAll("set-cookie"), "_xsrf")!;
    expect(cookie).toMatch(/^2\|[0-9a-f]{32}\|[0-9a-f]{32}\|\d+$/);
    const token1 = first.text().split("#")[1]!;
    expect(first.text()).toContain(`<input type="hidden" name="_xsrf" value="${token1}"/>`);

    const second = await requestApp(app, "GET", "/", { headers: { Cookie: `_xsrf=${cookie}` } });
    expect(second.headers.has("set-cookie")).toBe(false);
    const token2 = second.text().split("#")[1]!;
    expect(token2).not.toBe(token1);
    expect(decodeXsrfToken(token2)?.token).toEqual(decodeXsrfToken(cookie)?.token);

    for (const token of [token1, token2]) {
      const form = await requestApp(app, "POST", "/", {
        headers: { Cookie: `_xsrf=${cookie}`, "Content-Type": "application/x-www-form-urlencoded" },
        body: `_xsrf=${encodeURIComponent(token)}&x=1`,
      });
      expect(form.status).toBe(200);
      expect(form.text()).toBe("accepted");
    }
    for (const header of ["X-XSRFToken", "X-CSRFToken"]) {
      const viaHeader = await requestApp(app, "POST", "/", { headers: { Cookie: `_xsrf=${cookie}`, [header]: token1 }, body: "" });
      expect(viaHeader.text()).toBe("accepted");
    }
  });

  it("answers 403 when the token is missing, malformed, wrong, or the cookie is missing", async () => {
    const first = await requestApp(app, "GET", "/");
    const cookie = cookieFrom(first.headers.getAll("set-cookie"), "_xsrf")!;
    const token = first.text().split("#")[1]!;
    const other = encodeXsrfToken(new Uint8Array(16).fill(9), 0, new Uint8Array(16));
    const cases: Record<string, string>[] = [
      { Cookie: `_xsrf=${cookie}` },
      { Cookie: `_xsrf=${cookie}`, "X-XSRFToken": "nonsense" },
      { Cookie: `_xsrf=${cookie}`, "X-XSRFToken": other },
      { "X-XSRFToken": token },
    ];
    for (const headers of cases) {
      const res = await requestApp(app, "POST", "/", { headers, body: "x=1" });
      expect(res.status).toBe(403);
      expect(res.text()).not.toContain("accepted");
    }
    // GET, HEAD and OPTIONS need no token.
    class Opt extends RequestHandler {
      override options(): void {
        this.setStatus(204);
      }
    }
    const opts = await requestApp(new Application([["/", Opt]], { xsrfCookies: true }), "OPTIONS", "/");
    expect(opts.status).toBe(204);
    expect(errors).toEqual([]);
  });
});
