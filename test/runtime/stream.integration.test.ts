import { afterEach, describe, expect, it } from "vitest";
import { ConnectionDone, StreamClosedError } from "../../runtime/errors.js";
import { NodeReactor } from "../../runtime/node/node-reactor.js";
import type { ListeningPort } from "../../runtime/reactor.js";
import { dial, serve } from "../../runtime/stream.js";
import type { Connection } from "../../runtime/stream.js";

/** Deterministic bytes for client `id`: a small LCG, so a failure names exact offsets. */
function payload(id: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (id * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe("async/await echo on NodeReactor", () => {
  let reactor: NodeReactor | null = null;

  afterEach(async () => {
    if (reactor?.running === true) await reactor.stop();
    reactor = null;
  });

  it("200 concurrent clients each get back every byte they sent", async () => {
    const r = new NodeReactor();
    reactor = r;
    const errors: unknown[] = [];
    r.setErrorHook((error) => errors.push(error));
    void r.run();
    let serverBytes = 0;
    let handlersDone = 0;
    const port: ListeningPort = await serve(
      r,
      "tcp:0:interface=127.0.0.1",
      async (conn) => {
        for await (const chunk of conn) {
          serverBytes += chunk.length;
          await conn.write(chunk);
        }
        handlersDone++;
      },
      { onError: (error) => errors.push(error) },
    );
    const { port: portNumber } = port.getHost();
    expect(portNumber).toBeGreaterThan(0);

    const clients = 200;
    const size = (id: number): number => 4096 + ((id * 7919) % 28_000);
    const runClient = async (id: number): Promise<number> => {
      const conn: Connection = await dial(r, `tcp:127.0.0.1:${portNumber}`);
      const data = payload(id, size(id));
      const writer = (async () => {
        // Uneven pieces, so reads and writes never line up.
        let at = 0;
        let piece = 1 + (id % 13);
        while (at < data.length) {
          const end = Math.min(data.length, at + piece);
          await conn.write(data.subarray(at, end));
          at = end;
          piece = (piece * 3 + 101) % 9000 + 1;
        }
        conn.closeWrite();
      })();
      const echoed = await conn.readExactly(data.length);
      await writer;
      // Nothing more: the server closes once it has seen our FIN and echoed everything.
      const end = await conn.readSome().catch((error: unknown) => error);
      expect(end).toBeInstanceOf(StreamClosedError);
      expect((end as StreamClosedError).partial).toHaveLength(0);
      await conn.closed;
      expect(conn.closeReason).toBeInstanceOf(ConnectionDone);
      if (!bytesEqual(echoed, data)) throw new Error(`client ${id}: echoed bytes differ from the ones sent`);
      return echoed.length;
    };
    const results = await Promise.all(Array.from({ length: clients }, (_, id) => runClient(id)));
    const expected = Array.from({ length: clients }, (_, id) => size(id));
    expect(results).toEqual(expected);
    const total = expected.reduce((a, b) => a + b, 0);
    expect(serverBytes).toBe(total);
    await waitFor(() => handlersDone === clients);
    expect(errors).toEqual([]);
    await port.stopListening();
  });

  it("awaiting write keeps the socket's buffer bounded while the peer falls behind", async () => {
    const r = new NodeReactor({ highWaterMark: 64 * 1024 });
    reactor = r;
    void r.run();
    const chunk = payload(1, 64 * 1024);
    const count = 256; // 16 MiB: well past what loopback socket buffers absorb
    let maxBuffered = 0;
    let waited = 0;
    const port = await serve(r, "tcp:0:interface=127.0.0.1", async (conn) => {
      for (let i = 0; i < count; i++) {
        const pending = conn.write(chunk);
        maxBuffered = Math.max(maxBuffered, conn.transport.writeBufferSize);
        let settled = false;
        void pending.then(() => {
          settled = true;
        });
        await Promise.resolve();
        if (!settled) waited++;
        await pending;
      }
    });
    const conn = await dial(r, `tcp:127.0.0.1:${port.getHost().port}`, { readHighWaterMark: 16 * 1024 });
    const all = await conn.readExactly(count * chunk.length);
    expect(all.length).toBe(count * chunk.length);
    expect(bytesEqual(all.subarray(5 * chunk.length, 6 * chunk.length), chunk)).toBe(true);
    // Without backpressure every write would resolve at once and the 16 MiB would pile up.
    expect(waited).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThanOrEqual(64 * 1024 + chunk.length);
    // The server's handler returned, so it closed; the client half-closes no further by itself.
    await expect(conn.readSome()).rejects.toBeInstanceOf(StreamClosedError);
    await conn.close();
    expect(conn.closeReason).toBeInstanceOf(ConnectionDone);
    await port.stopListening();
  });
});

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Waits (on real I/O turns, not timers) until `condition` holds; gives up after many turns. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100_000 && !condition(); i++) {
    await new Promise<void>((resolve) => {
      setImmediate(resolve);
    });
  }
  expect(condition()).toBe(true);
}
