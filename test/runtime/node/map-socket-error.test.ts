import { describe, expect, it } from "vitest";

import {
  BrokenPipeError,
  ConnectTimeoutError,
  ConnectionLost,
  ConnectionRefusedError,
  ConnectionResetError,
  DNSLookupError,
  SystemSocketError,
} from "../../../runtime/errors.js";
import { errnoOf, mapConnectError, mapConnectionLostError } from "../../../runtime/node/map-socket-error.js";

function nodeError(code: string | undefined, message = `${code} happened`): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

describe("mapConnectError", () => {
  it.each([
    ["ECONNREFUSED", ConnectionRefusedError, "WL_ERR_CONNECTION_REFUSED"],
    ["ETIMEDOUT", ConnectTimeoutError, "WL_ERR_CONNECT_TIMEOUT"],
    ["ECONNRESET", ConnectionResetError, "WL_ERR_CONNECTION_RESET"],
    ["EPIPE", BrokenPipeError, "WL_ERR_BROKEN_PIPE"],
    ["ENOTFOUND", DNSLookupError, "WL_ERR_DNS_LOOKUP"],
    ["EAI_AGAIN", DNSLookupError, "WL_ERR_DNS_LOOKUP"],
    ["EHOSTUNREACH", SystemSocketError, "WL_ERR_SOCKET"],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", SystemSocketError, "WL_ERR_SOCKET"],
  ])("%s becomes %o", (code, type, wlCode) => {
    const cause = nodeError(code);
    const mapped = mapConnectError(cause);
    expect(mapped).toBeInstanceOf(type);
    expect((mapped as SystemSocketError).code).toBe(wlCode);
    expect(mapped.cause).toBe(cause);
  });

  it("keeps the original code in errno for other failures", () => {
    expect((mapConnectError(nodeError("EHOSTUNREACH")) as SystemSocketError).errno).toBe("EHOSTUNREACH");
    expect((mapConnectError(nodeError(undefined)) as SystemSocketError).errno).toBe("EUNKNOWN");
    expect((mapConnectError("not an error") as SystemSocketError).message).toBe("not an error");
  });
});

describe("mapConnectionLostError", () => {
  it("maps resets and broken pipes, and wraps everything else in ConnectionLost", () => {
    expect(mapConnectionLostError(nodeError("ECONNRESET"))).toBeInstanceOf(ConnectionResetError);
    expect(mapConnectionLostError(nodeError("EPIPE"))).toBeInstanceOf(BrokenPipeError);
    const cause = nodeError("ETIMEDOUT", "read ETIMEDOUT");
    const lost = mapConnectionLostError(cause);
    expect(lost).toBeInstanceOf(ConnectionLost);
    expect(lost.cause).toBe(cause);
    expect(lost.message).toContain("read ETIMEDOUT");
  });
});

describe("errnoOf", () => {
  it("reads a string code, or says EUNKNOWN", () => {
    expect(errnoOf(nodeError("EADDRINUSE"))).toBe("EADDRINUSE");
    expect(errnoOf({ code: 42 })).toBe("EUNKNOWN");
    expect(errnoOf(null)).toBe("EUNKNOWN");
    expect(errnoOf(nodeError(""))).toBe("EUNKNOWN");
  });
});
