/**
 * requestApp: the in-memory entry point runs the whole HTTP stack, so any chunking of the bytes
 * gives the same response; it moves the virtual clock when a handler waits on it, and gives up
 * with ReactorStalledError when nothing can complete the response.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { Clock, requestApp, ScriptedChunking, chunkingArb } from "../../fakes/index.js";
import { Deferred } from "../../runtime/deferred.js";
import { ReactorStalledError } from "../../runtime/errors.js";
import { deferLater } from "../../runtime/tasks.js";
import { Application } from "../../runtime/web/application.js";
import { RequestHandler } from "../../runtime/web/request-handler.js";

class Echo extends RequestHandler {
  override post(word: string): void {
    this.setHeader("X-Word", word);
    this.write({ word, body: this.request.text(), a: this.getArguments("a") });
  }
}
const app = new Application([["/echo/(\\w+)", Echo]]);

describe("requestApp", () => {
  it("gives the same response however the bytes are split", async () => {
    await fc.assert(
      fc.asyncProperty(chunkingArb(), fc.string({ maxLength: 200 }), async (chunking, body) => {
        const res = await requestApp(app, "POST", "/echo/hi?a=1&a=2", { body, chunking: new ScriptedChunking(chunking.sizes, chunking.then) });
        expect(res.status).toBe(200);
        expect(res.headers.get("x-word")).toBe("hi");
        expect(res.json()).toEqual({ word: "hi", body, a: ["1", "2"] });
      }),
      { numRuns: 40 },
    );
  });

  it("moves the virtual clock to the handler's timed calls", async () => {
    class Later extends RequestHandler {
      override async get(): Promise<void> {
        await deferLater(this.clock, 60_000, () => undefined);
        this.write(`at ${this.clock.now()}`);
      }
    }
    const clock = new Clock();
    const res = await requestApp(new Application([["/", Later]]), "GET", "/", { clock });
    expect(res.text()).toBe("at 60000");
    expect(clock.pendingCalls()).toHaveLength(0);
  });

  it("gives up with ReactorStalledError when the response can never complete", async () => {
    class Never extends RequestHandler {
      override get(): Deferred<void> {
        return new Deferred<void>();
      }
    }
    await expect(requestApp(new Application([["/", Never]]), "GET", "/")).rejects.toBeInstanceOf(ReactorStalledError);
  });
});
