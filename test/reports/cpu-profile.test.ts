import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { flameGraphSvg, isMainThread, mergeProfiles, parseCpuProfile, topSelfTime, type CpuProfile } from "../../reports/cpu-profile.js";
import { readResults } from "../../reports/read-results.js";
import type { Results } from "../../reports/results.js";
import { writeReport } from "../../reports/write-report.js";

const fixtures = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const frame = (functionName: string, url = "", lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0, scriptId: "0" });

/**
 * (root) → main → { write (self 300 µs), parse → decode (self 200 µs) }, (idle) 1000 µs,
 * (garbage collector) 100 µs. Each sample's time is the delta to the next sample.
 */
function profile(writeUrl = "file:///app/runtime/node/tcp-transport.ts"): CpuProfile {
  const nodes = [
    { id: 1, callFrame: frame("(root)"), children: [2, 6, 7] },
    { id: 2, callFrame: frame("main", "file:///app/scenarios/tcp-echo/callback.ts", 9), children: [3, 4] },
    { id: 3, callFrame: frame("write", writeUrl, 41) },
    { id: 4, callFrame: frame("parse", "node:internal/streams/readable", 100), children: [5] },
    { id: 5, callFrame: frame("", "node:internal/streams/readable", 120) },
    { id: 6, callFrame: frame("(idle)") },
    { id: 7, callFrame: frame("(garbage collector)") },
  ];
  // samples:   write write write decode decode idle×10 gc (end)
  const samples = [3, 3, 3, 5, 5, ...Array<number>(10).fill(6), 7, 2];
  const timeDeltas = [0, ...Array<number>(samples.length - 1).fill(100)];
  return { nodes, samples, timeDeltas };
}

describe("V8 CPU profiles", () => {
  it("merge into a call tree with self and total time, idle left out", () => {
    const root = mergeProfiles([profile()]);
    expect(root.total).toBe(600);
    const main = root.children.get("main|tcp-echo/callback.ts:10");
    expect(main?.total).toBe(500);
    expect(main?.children.get("write|node/tcp-transport.ts:42")?.self).toBe(300);
    expect(main?.children.get("parse|streams/readable:101")?.children.get("(anonymous)|streams/readable:121")?.self).toBe(200);
    expect(root.children.get("(garbage collector)|")?.self).toBe(100);
    expect([...root.children.keys()].some((k) => k.startsWith("(idle)"))).toBe(false);
  });

  it("sum self time per function across profiles and places", () => {
    const root = mergeProfiles([profile(), profile()]);
    expect(topSelfTime(root, 3)).toEqual([
      { name: "write", where: "node/tcp-transport.ts:42", selfUs: 600, share: 0.5 },
      { name: "(anonymous)", where: "streams/readable:121", selfUs: 400, share: 400 / 1200 },
      { name: "(garbage collector)", where: "", selfUs: 200, share: 200 / 1200 },
    ]);
  });

  it("draw as an SVG flame graph whose frames say what they are without a script", () => {
    const svg = flameGraphSvg(mergeProfiles([profile()]), { title: "tcp-echo / callback", width: 600 });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).not.toContain("<script");
    // all, main, write, parse, (anonymous), (garbage collector): one rect each.
    expect(svg.match(/<rect /g)).toHaveLength(6);
    expect(svg).toContain("<title>write (node/tcp-transport.ts:42): 0.3 ms, 50.0% (self 0.3 ms)</title>");
    // write is half of 600 px wide.
    expect(svg).toMatch(/<title>write [^<]*<\/title><rect x="[\d.]+" y="\d+" width="300.00"/);
  });

  it("keep main threads only: a worker thread's profile (tsx's loader hooks) serves no request", () => {
    expect(isMainThread("CPU.20261203.072604.8601.0.001.cpuprofile")).toBe(true);
    expect(isMainThread("CPU.20261203.072604.8601.1.002.cpuprofile")).toBe(false);
    expect(isMainThread("server.cpuprofile")).toBe(true);
  });

  it("reject what is not a profile, naming the field", () => {
    expect(() => parseCpuProfile({ nodes: [] }, "x.cpuprofile")).toThrow(/samples/);
    expect(() => parseCpuProfile({ samples: [] }, "x.cpuprofile")).toThrow(/nodes/);
  });
});

describe("the report with --server-cpu-prof", () => {
  it("shows the top self-time functions side by side and a flame graph per style", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wirelab-prof-"));
    for (const [style, url] of [["callback", "file:///app/runtime/protocol.ts"], ["async", "file:///app/runtime/connection.ts"]] as const) {
      mkdirSync(join(dir, "tcp-echo", style), { recursive: true });
      writeFileSync(join(dir, "tcp-echo", style, "CPU.1.cpuprofile"), JSON.stringify(profile(url)));
    }
    const r = (await readResults(fixtures("results.json"))) as Results;
    const out = join(dir, "report");
    const written = await writeReport({ results: { ...r, parameters: { ...r.parameters, serverCpuProfile: dir } }, out });
    const md = readFileSync(written.markdown, "utf8");
    const html = readFileSync(written.html, "utf8");
    expect(md).toContain("## Where the time goes");
    expect(md).toContain("| # | callback (1 ms sampled) | async (1 ms sampled) |");
    expect(md).toContain("| 1 | **50.0%** `write` runtime/protocol.ts:42 | **50.0%** `write` runtime/connection.ts:42 |");
    expect(md).toContain("![tcp-echo / callback: server CPU flame graph](charts/flame-tcp-echo-callback.svg)");
    expect(readFileSync(join(out, "charts", "flame-tcp-echo-async.svg"), "utf8")).toContain("<svg");
    expect(html.match(/<figure class="flame"/g)).toHaveLength(2);
    expect(html).not.toContain("<script");
  });

  it("says so when the folder the results name has no profiles", async () => {
    const r = (await readResults(fixtures("results.json"))) as Results;
    const out = mkdtempSync(join(tmpdir(), "wirelab-prof-none-"));
    const written = await writeReport({ results: { ...r, parameters: { ...r.parameters, serverCpuProfile: join(out, "nowhere") } }, out });
    expect(readFileSync(written.markdown, "utf8")).toContain("No CPU profile found under");
  });
});
