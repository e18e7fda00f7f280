import { describe, expect, it } from "vitest";
import { checkScenario, defineScenario } from "wirelab/bench";
import type { WirelabStyle } from "wirelab/bench";
import { ChatFactory, ChatProtocol } from "../../scenarios/line-chat/callback.js";
import lineChat from "../../scenarios/line-chat/index.js";

describe("line-chat sim check (its client workload on SimNetwork)", () => {
  it("delivers every line to every live client, in order, intact (chunking only)", async () => {
    const results = await checkScenario(lineChat, { seed: 11, connections: 5, operations: 4, faults: false });
    expect(results.map((r) => r.style)).toEqual(["callback", "async"]);
    for (const r of results) {
      expect(r.violations).toEqual([]);
      expect(r.operations).toBe(20);
      expect(r.lostToFaults).toBe(0);
    }
  });

  it("accounts for every line under resets", async () => {
    for (const seed of [1, 2, 3]) {
      for (const r of await checkScenario(lineChat, { seed, connections: 6, operations: 5 })) {
        expect(r.violations).toEqual([]);
        expect(r.operations + r.lostToFaults).toBe(30);
      }
    }
  });
});

describe("line-chat sim check catches broken servers", () => {
  const check = async (factory: () => ChatFactory) => {
    const listen: WirelabStyle["listen"] = (reactor, endpoint) => reactor.listen(endpoint, factory());
    const [result] = await checkScenario(defineScenario({ ...lineChat, styles: [{ name: "broken", listen }], compare: [] }), { seed: 5, connections: 4, operations: 3, faults: false });
    return result!;
  };
  const roomOf = (p: ChatProtocol): ChatFactory => (p as unknown as { room: ChatFactory }).room;

  it("a server that does not echo a line to its sender leaves the line undelivered: a timeout", async () => {
    class NotToSelf extends ChatProtocol {
      override lineReceived(line: Buffer): void {
        const out = Buffer.concat([line, Buffer.from("\n")]);
        for (const c of roomOf(this).clients) if (c !== this || line[0] !== 0x4d) c.transport.write(out);
      }
    }
    class Broken extends ChatFactory {
      override buildProtocol(): ChatProtocol {
        return new NotToSelf(this);
      }
    }
    const result = await check(() => new Broken());
    expect(result.violations.join("\n")).toMatch(/operation 0: timeout/);
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
    const result = await check(() => new Broken());
    expect(result.violations.join("\n")).toMatch(/a corrupt line/);
  });

  it("a server that drops one line for one client is caught: its sender waits for it in vain", async () => {
    let dropped = false;
    class Dropping extends ChatProtocol {
      override lineReceived(line: Buffer): void {
        const out = Buffer.concat([line, Buffer.from("\n")]);
        const seq = line[0] === 0x4d ? parseInt(line.toString("latin1", 11, 19), 16) : -1;
        let first = true;
        for (const c of roomOf(this).clients) {
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
    const result = await check(() => new Broken());
    expect(dropped).toBe(true);
    expect(result.violations.join("\n")).toMatch(/client \d, operation 1: timeout/);
  });
});
