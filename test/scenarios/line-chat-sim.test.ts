import { describe, expect, it } from "vitest";
import { ChatFactory, ChatProtocol } from "../../scenarios/line-chat/callback.js";
import { lineChat } from "../../scenarios/line-chat/index.js";
import { ChatChecker, ChatSimRoom } from "../../scenarios/line-chat/sim.js";
import type { SimTally } from "../../scenarios/sim-support.js";
import { runSimStyle } from "../../scenarios/sim-support.js";

describe("line-chat sim check", () => {
  it("delivers every line to every live client, in order, intact (chunking only)", async () => {
    const results = await lineChat.sim({ seed: 11, connections: 5, operations: 4, faults: false });
    expect(results.map((r) => r.style)).toEqual(["callback", "async"]);
    for (const r of results) {
      expect(r.violations).toEqual([]);
      expect(r.operations).toBe(20);
      expect(r.lostToFaults).toBe(0);
    }
  });

  it("accounts for every line under resets", async () => {
    for (const seed of [1, 2, 3]) {
      const results = await lineChat.sim({ seed, connections: 6, operations: 5, faults: true });
      for (const r of results) {
        expect(r.violations).toEqual([]);
        expect(r.operations + r.lostToFaults).toBe(30);
      }
    }
  });
});

describe("line-chat sim check catches broken servers", () => {
  const options = { seed: 5, connections: 4, operations: 3, faults: false };

  it("a server that does not echo a line to its sender leaves lines undelivered", async () => {
    class NotToSelf extends ChatProtocol {
      override lineReceived(line: Buffer): void {
        for (const c of this.chat.clients) if (c !== this) c.sendLine(line);
      }
      private get chat(): ChatFactory {
        return (this as unknown as { room: ChatFactory }).room;
      }
    }
    class Broken extends ChatFactory {
      override buildProtocol(): ChatProtocol {
        const p = new NotToSelf(this);
        p.delimiter = "\n";
        return p;
      }
    }
    const result = await runSimStyle("callback", options, (reactor, endpoint) => reactor.listen(endpoint, new Broken()), (i, tally) => new ChatChecker(i, room(tally)));
    expect(result.violations.join("\n")).toMatch(/operations expected/);
  });

  it("a server that corrupts a byte is caught", async () => {
    class Corrupting extends ChatProtocol {
      override lineReceived(line: Buffer): void {
        const copy = Buffer.from(line);
        if (copy[0] === 0x4d) copy[30] = 0x21;
        super.lineReceived(copy);
      }
    }
    class Broken extends ChatFactory {
      override buildProtocol(): ChatProtocol {
        return new Corrupting(this);
      }
    }
    const result = await runSimStyle("callback", options, (reactor, endpoint) => reactor.listen(endpoint, new Broken()), (i, tally) => new ChatChecker(i, room(tally)));
    expect(result.violations[0]).toMatch(/a corrupt line/);
  });

  it("a server that drops one line for one client is caught as a gap", async () => {
    let dropped = false;
    class Dropping extends ChatProtocol {
      override lineReceived(line: Buffer): void {
        const out = Buffer.concat([line, Buffer.from("\n")]);
        const seq = line[0] === 0x4d ? parseInt(line.toString("latin1", 11, 19), 16) : -1;
        let first = true;
        for (const c of (this as unknown as { room: ChatFactory }).room.clients) {
          if (seq === 1 && first && !dropped) {
            dropped = true;
            first = false;
            continue;
          }
          first = false;
          c.transport.write(out);
        }
      }
    }
    class Broken extends ChatFactory {
      override buildProtocol(): ChatProtocol {
        return new Dropping(this);
      }
    }
    const result = await runSimStyle("callback", options, (reactor, endpoint) => reactor.listen(endpoint, new Broken()), (i, tally) => new ChatChecker(i, room(tally)));
    expect(dropped).toBe(true);
    expect(result.violations.length).toBeGreaterThan(0);
  });

  let shared: { tally: SimTally; room: ChatSimRoom } | null = null;
  function room(tally: SimTally): ChatSimRoom {
    if (shared === null || shared.tally !== tally) shared = { tally, room: new ChatSimRoom(options.connections, options.operations, options.faults, tally) };
    return shared.room;
  }
});
