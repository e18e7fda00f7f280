/**
 * The `baseline-async` style of tcp-echo and idle-hold (node:net with `for await`), on real
 * sockets: it echoes whatever arrives, however it is cut, closes when the peer does, and
 * survives a peer that resets.
 */

import * as net from "node:net";
import { once } from "node:events";
import { describe, expect, it } from "vitest";

import idleHold from "../../scenarios/idle-hold/index.js";
import { startNetEchoAsync as start } from "../../scenarios/tcp-echo/baseline-async.js";

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: "127.0.0.1", port });
  await once(socket, "connect");
  return socket;
}

function readBytes(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      got += chunk.length;
      if (got < n) return;
      socket.off("data", onData);
      socket.off("error", reject);
      resolve(Buffer.concat(chunks));
    };
    socket.on("data", onData);
    socket.on("error", reject);
  });
}

describe("tcp-echo baseline-async (node:net, for await)", () => {
  it("echoes bytes in order across writes, ends when the peer ends, and outlives a reset peer", async () => {
    const server = await start({ host: "127.0.0.1", port: 0 });
    try {
      const a = await connect(server.port);
      const sent = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 251));
      // Written in uneven pieces, more than one socket buffer's worth: the echo has to wait for drain.
      for (let at = 0; at < sent.length; at += 9_973) a.write(sent.subarray(at, at + 9_973));
      const back = await readBytes(a, sent.length);
      expect(back.equals(sent)).toBe(true);
      const closed = once(a, "close");
      a.end();
      await closed;

      const b = await connect(server.port);
      const bClosed = once(b, "close");
      b.resetAndDestroy();
      await bClosed;

      const c = await connect(server.port);
      c.write("still here");
      expect((await readBytes(c, 10)).toString()).toBe("still here");
      c.destroy();
    } finally {
      await server.close();
    }
  });

  it("idle-hold's baseline-async is the same server", () => {
    expect(idleHold.styles.find((s) => s.name === "baseline-async")).toHaveProperty("node", start);
  });
});
