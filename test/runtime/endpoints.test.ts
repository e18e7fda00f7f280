import { describe, expect, it } from "vitest";

import {
  DEFAULT_BACKLOG,
  DEFAULT_CONNECT_TIMEOUT_S,
  parseClientEndpoint,
  parseServerEndpoint,
} from "../../runtime/endpoints.js";
import type { ClientEndpoint, ServerEndpoint } from "../../runtime/endpoints.js";
import { InvalidEndpointError } from "../../runtime/errors.js";

function serverError(description: string): InvalidEndpointError {
  try {
    parseServerEndpoint(description);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEndpointError);
    return error as InvalidEndpointError;
  }
  throw new Error(`expected ${JSON.stringify(description)} to be rejected`);
}

function clientError(description: string): InvalidEndpointError {
  try {
    parseClientEndpoint(description);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEndpointError);
    return error as InvalidEndpointError;
  }
  throw new Error(`expected ${JSON.stringify(description)} to be rejected`);
}

describe("parseServerEndpoint", () => {
  it("parses tcp with defaults", () => {
    expect(parseServerEndpoint("tcp:8080")).toEqual({ kind: "tcp", port: 8080, interface: "0.0.0.0", backlog: DEFAULT_BACKLOG });
    expect(DEFAULT_BACKLOG).toBe(511);
  });

  it("parses tcp port 0, interface and backlog, in any order and case of the kind", () => {
    expect(parseServerEndpoint("tcp:0:interface=127.0.0.1:backlog=64")).toEqual({ kind: "tcp", port: 0, interface: "127.0.0.1", backlog: 64 });
    expect(parseServerEndpoint("TCP:backlog=8:port=65535")).toEqual({ kind: "tcp", port: 65535, interface: "0.0.0.0", backlog: 8 });
  });

  it("unescapes colons, so an IPv6 interface can be given", () => {
    expect(parseServerEndpoint("tcp:80:interface=\\:\\:1")).toMatchObject({ interface: "::1", port: 80 });
  });

  it("parses unix with backlog and octal mode", () => {
    expect(parseServerEndpoint("unix:/tmp/s.sock")).toEqual({ kind: "unix", path: "/tmp/s.sock", backlog: DEFAULT_BACKLOG });
    expect(parseServerEndpoint("unix:/tmp/s.sock:backlog=5:mode=0660")).toEqual({ kind: "unix", path: "/tmp/s.sock", backlog: 5, mode: 0o660 });
    expect(parseServerEndpoint("unix:address=/tmp/a:mode=600")).toEqual({ kind: "unix", path: "/tmp/a", backlog: DEFAULT_BACKLOG, mode: 0o600 });
  });

  it("parses tls with key files; certKey defaults to the private key file", () => {
    expect(parseServerEndpoint("tls:443:privateKey=k.pem:certKey=c.pem:interface=127.0.0.1")).toEqual({
      kind: "tls",
      port: 443,
      interface: "127.0.0.1",
      backlog: DEFAULT_BACKLOG,
      privateKey: { file: "k.pem" },
      certKey: { file: "c.pem" },
    });
    expect(parseServerEndpoint("tls:0:privateKey=both.pem")).toMatchObject({ privateKey: { file: "both.pem" }, certKey: { file: "both.pem" } });
  });

  it("returns endpoint objects as they are (how in-memory PEM is passed)", () => {
    const ep: ServerEndpoint = {
      kind: "tls",
      port: 0,
      interface: "127.0.0.1",
      backlog: 10,
      privateKey: { pem: "-----BEGIN PRIVATE KEY-----" },
      certKey: { pem: new Uint8Array([1, 2]) },
    };
    expect(parseServerEndpoint(ep)).toBe(ep);
  });

  it.each([
    ["", /unknown endpoint type ""/],
    ["udp:53", /unknown endpoint type "udp"/],
    ["tcp", /port must be an integer/],
    ["tcp:", /port must be an integer/],
    ["tcp:http", /port must be an integer/],
    ["tcp:65536", /port must be an integer/],
    ["tcp:-1", /port must be an integer/],
    ["tcp:123456", /port must be an integer/],
    ["tcp:80:81", /too many positional parts/],
    ["tcp:80:colour=blue", /unknown option colour/],
    ["tcp:80:backlog=0", /backlog must be a positive integer/],
    ["tcp:80:backlog=ten", /backlog must be a positive integer/],
    ["tcp:80:interface=a:interface=b", /interface given twice/],
    ["tcp:80:port=81", /port given twice/],
    ["unix:/a:address=/b", /address given twice/],
    ["tcp:80:privateKey=k.pem", /belong to tls endpoints/],
    ["tcp:80:certKey=c.pem", /belong to tls endpoints/],
    ["tls:443", /tls needs privateKey/],
    ["tls:443:certKey=c.pem", /tls needs privateKey/],
    ["unix", /unix needs a path/],
    ["unix:", /unix needs a path/],
    ["unix:/a:/b", /too many positional parts/],
    ["unix:/a:mode=999", /mode must be octal/],
    ["unix:/a:mode=rw", /mode must be octal/],
    ["unix:/a:backlog=-3", /backlog must be a positive integer/],
    ["unix:/a:interface=x", /unknown option interface/],
  ])("rejects %j", (description, message) => {
    const error = serverError(description);
    expect(error.code).toBe("WL_ERR_INVALID_ENDPOINT");
    expect(error.message).toMatch(message);
    expect(error.message).toContain(JSON.stringify(description));
  });
});

describe("parseClientEndpoint", () => {
  it("parses tcp with the default timeout", () => {
    expect(parseClientEndpoint("tcp:127.0.0.1:8080")).toEqual({ kind: "tcp", host: "127.0.0.1", port: 8080, timeout: DEFAULT_CONNECT_TIMEOUT_S });
    expect(DEFAULT_CONNECT_TIMEOUT_S).toBe(30);
  });

  it("parses tcp keyword forms, timeout and bindAddress", () => {
    expect(parseClientEndpoint("tcp:host=example.org:port=80:timeout=2.5:bindAddress=127.0.0.2")).toEqual({
      kind: "tcp",
      host: "example.org",
      port: 80,
      timeout: 2.5,
      bindAddress: "127.0.0.2",
    });
    expect(parseClientEndpoint("tcp:\\:\\:1:80")).toMatchObject({ host: "::1", port: 80 });
  });

  it("parses unix with a timeout", () => {
    expect(parseClientEndpoint("unix:/tmp/s.sock")).toEqual({ kind: "unix", path: "/tmp/s.sock", timeout: DEFAULT_CONNECT_TIMEOUT_S });
    expect(parseClientEndpoint("unix:path=/tmp/s.sock:timeout=1")).toEqual({ kind: "unix", path: "/tmp/s.sock", timeout: 1 });
  });

  it("parses tls: verification on by default, trust roots, servername, verify=no", () => {
    expect(parseClientEndpoint("tls:example.org:443")).toEqual({
      kind: "tls",
      host: "example.org",
      port: 443,
      timeout: DEFAULT_CONNECT_TIMEOUT_S,
      verify: true,
    });
    expect(parseClientEndpoint("tls:127.0.0.1:8443:trustRoots=ca.pem:servername=localhost:verify=no:timeout=3:bindAddress=127.0.0.3")).toEqual({
      kind: "tls",
      host: "127.0.0.1",
      port: 8443,
      timeout: 3,
      bindAddress: "127.0.0.3",
      verify: false,
      trustRoots: { file: "ca.pem" },
      servername: "localhost",
    });
    expect(parseClientEndpoint("tls:h:1:verify=yes")).toMatchObject({ verify: true });
  });

  it("returns endpoint objects as they are", () => {
    const ep: ClientEndpoint = { kind: "tls", host: "h", port: 1, timeout: 1, verify: true, trustRoots: { pem: "x" } };
    expect(parseClientEndpoint(ep)).toBe(ep);
  });

  it.each([
    ["", /unknown endpoint type ""/],
    ["ssl:h:1", /unknown endpoint type "ssl"/],
    ["tcp", /a host is needed/],
    ["tcp::80", /a host is needed/],
    ["tcp:host=:port=80", /a host is needed/],
    ["tcp:h", /port must be an integer/],
    ["tcp:h:port", /port must be an integer/],
    ["tcp:h:70000", /port must be an integer/],
    ["tcp:h:80:90", /too many positional parts/],
    ["tcp:h:80:port=81", /port given twice/],
    ["tcp:h:80:host=g", /host given twice/],
    ["unix:/a:path=/b", /path given twice/],
    ["tcp:h:80:timeout=0", /timeout must be a positive number/],
    ["tcp:h:80:timeout=-1", /timeout must be a positive number/],
    ["tcp:h:80:timeout=", /timeout must be a positive number/],
    ["tcp:h:80:timeout=soon", /timeout must be a positive number/],
    ["tcp:h:80:timeout=Infinity", /timeout must be a positive number/],
    ["tcp:h:80:interface=x", /unknown option interface/],
    ["tcp:h:80:trustRoots=ca.pem", /trustRoots belongs to tls/],
    ["tcp:h:80:servername=x", /servername belongs to tls/],
    ["tcp:h:80:verify=no", /verify belongs to tls/],
    ["tls:h:443:verify=maybe", /verify must be yes or no/],
    ["unix", /unix needs a path/],
    ["unix:", /unix needs a path/],
    ["unix:/a:/b", /too many positional parts/],
    ["unix:/a:timeout=0", /timeout must be a positive number/],
    ["unix:/a:bindAddress=x", /unknown option bindAddress/],
  ])("rejects %j", (description, message) => {
    const error = clientError(description);
    expect(error.code).toBe("WL_ERR_INVALID_ENDPOINT");
    expect(error.message).toMatch(message);
  });
});
