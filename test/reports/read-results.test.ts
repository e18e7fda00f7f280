import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ResultsFormatError } from "../../reports/errors.js";
import { parseResults, readResults } from "../../reports/read-results.js";

const fixture = fileURLToPath(new URL("./fixtures/results.json", import.meta.url));

function load(): Record<string, unknown> {
  return JSON.parse(readFileSync(fixture, "utf8")) as Record<string, unknown>;
}

function points(json: Record<string, unknown>): Record<string, unknown>[] {
  return json["points"] as Record<string, unknown>[];
}

function formatError(json: unknown): ResultsFormatError {
  try {
    parseResults(json, "test.json");
  } catch (error) {
    if (error instanceof ResultsFormatError) return error;
    throw error;
  }
  throw new Error("expected a ResultsFormatError");
}

describe("readResults", () => {
  it("reads the fixture with every kind of point", async () => {
    const r = await readResults(fixture);
    expect(r.schemaVersion).toBe(2);
    expect(r.scenarios.find((x) => x.name === "http-hello")?.comparisons).toContainEqual({ subject: "async", reference: "callback" });
    expect(r.source).toBe(fixture);
    expect(r.environment.nodeVersion).toBe("v20.20.2");
    expect(r.points.some((p) => p.failure !== undefined)).toBe(true);
    expect(r.points.some((p) => p.rate !== undefined && p.uncorrectedLatencyUs !== undefined && p.uncorrectedHistogram !== undefined)).toBe(true);
    expect(r.points.some((p) => p.extra?.["bytesPerConnection"] !== undefined)).toBe(true);
    expect(r.points.some((p) => p.generatorSaturated)).toBe(true);
  });

  it("names the bad field of a malformed point", () => {
    const json = load();
    (points(json)[3] as Record<string, unknown>)["throughput"] = "fast";
    const e = formatError(json);
    expect(e.code).toBe("WL_ERR_RESULTS_FORMAT");
    expect(e.field).toBe("points[3].throughput");
    expect(e.message).toContain('points[3].throughput: expected a finite number, got the string "fast"');
  });

  it("names a missing nested field", () => {
    const json = load();
    delete ((points(json)[0] as Record<string, unknown>)["latencyUs"] as Record<string, unknown>)["p99"];
    expect(formatError(json).field).toBe("points[0].latencyUs.p99");
  });

  it("rejects percentiles that decrease", () => {
    const json = load();
    const lat = (points(json)[1] as Record<string, unknown>)["latencyUs"] as Record<string, number>;
    lat["p99"] = (lat["p50"] ?? 0) - 1;
    expect(formatError(json).field).toBe("points[1].latencyUs.p99");
  });

  it("rejects an unknown schema version and a bad mode", () => {
    expect(formatError({ ...load(), schemaVersion: 3 }).message).toContain("unsupported results schema version 3");
    const json = load();
    (points(json)[0] as Record<string, unknown>)["mode"] = "virtual";
    expect(formatError(json).field).toBe("points[0].mode");
    expect(formatError([]).field).toBe("$");
    expect(formatError({ ...load(), environment: null }).field).toBe("environment");
  });

  it("reads a version 1 file: the styles its points name, no comparisons (none were declared)", async () => {
    const r = await readResults(fileURLToPath(new URL("./fixtures/baseline.json", import.meta.url)));
    expect(r.schemaVersion).toBe(1);
    expect(r.scenarios.map((x) => x.name)).toEqual(["tcp-echo", "http-hello"]);
    expect(r.scenarios[0]!.styles.map((x) => x.name)).toEqual(["callback", "async", "baseline", "twisted", "tornado"]);
    expect(r.scenarios.every((x) => x.comparisons.length === 0 && x.styles.every((st) => st.runsOn === "unknown"))).toBe(true);
  });

  it("reads unknown server figures as null, never as 0", () => {
    const json = load();
    const p = points(json)[0] as Record<string, unknown>;
    p["serverCpuPercent"] = null;
    p["serverCpuUsPerOp"] = null;
    p["serverRssBytes"] = null;
    const r = parseResults(json, "x");
    expect([r.points[0]!.serverCpuPercent, r.points[0]!.serverCpuUsPerOp, r.points[0]!.serverRssBytes]).toEqual([null, null, null]);
  });

  it("rejects a comparison naming a style the scenario does not declare", () => {
    const json = load();
    const scenarios = (json as { scenarios: { comparisons: { subject: string }[] }[] }).scenarios;
    scenarios[0]!.comparisons[0]!.subject = "nope";
    expect(formatError(json).field).toBe("scenarios[0].comparisons[0].subject");
  });

  it("says when a file is not JSON", async () => {
    const path = fileURLToPath(new URL("./fixtures/generate-fixtures.ts", import.meta.url));
    await expect(readResults(path)).rejects.toMatchObject({ code: "WL_ERR_RESULTS_FORMAT", field: "$" });
  });
});
