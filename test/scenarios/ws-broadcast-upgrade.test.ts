/**
 * ws-broadcast's callback style upgrades with the runtime's `upgradeWebSocket`, so it answers
 * what `WebSocketHandler` answers: a 426 carries `Sec-WebSocket-Version: 13` (RFC 6455 §4.4).
 */

import { describe, expect, it } from "vitest";

import { Clock, StringTransport } from "../../fakes/index.js";
import { broadcastFactory } from "../../scenarios/ws-broadcast/callback.js";
import { parseResponses } from "../runtime/protocols/http/http-test-helpers.js";

describe("ws-broadcast callback style: the upgrade", () => {
  it("answers an unsupported Sec-WebSocket-Version with 426 and Sec-WebSocket-Version: 13", () => {
    const transport = new StringTransport();
    transport.attach(broadcastFactory(new Clock()).buildProtocol({ type: "tcp", host: "127.0.0.1", port: 1 }));
    transport.receive("GET /subscribe HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
    const [response] = parseResponses(transport.value()).responses;
    expect(response!.status).toBe(426);
    expect(response!.header("sec-websocket-version")).toBe("13");
  });
});
