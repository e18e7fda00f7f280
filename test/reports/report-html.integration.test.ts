/**
 * The HTML report in a real browser: Debian's Chromium driven by playwright-core (no browser
 * download). The page must load with no console error and no request beyond its own file, and
 * every chart must be visible with axes and a legend. Screenshots go to test-output/reports/ for
 * a person to look at.
 *
 * Without /usr/bin/chromium the suite is skipped with a warning, unless WIRELAB_REQUIRE_PEERS is
 * set, which makes it run (and fail).
 *
 * The end-to-end run (a short real `wirelab bench` of two scenarios, then `wirelab report`) is
 * in bench-report.integration.test.ts.
 */

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chartSpecs } from "../../reports/charts.js";
import { analyze } from "../../reports/analyze.js";
import { readResults } from "../../reports/read-results.js";
import { writeReport } from "../../reports/write-report.js";

const CHROMIUM = "/usr/bin/chromium";
const REQUIRED = (process.env.WIRELAB_REQUIRE_PEERS ?? "") !== "";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM && !REQUIRED) console.warn(`report HTML integration SKIPPED: ${CHROMIUM} not found (set WIRELAB_REQUIRE_PEERS=1 to make this a failure)`);

const fixtures = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const OUT = fileURLToPath(new URL("../../test-output/reports/", import.meta.url));

describe.skipIf(!HAVE_CHROMIUM && !REQUIRED)("report.html in headless Chromium", () => {
  let browser: Browser;
  let htmlPath: string;
  let expectedCharts: number;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    const files = [fixtures("results.json"), fixtures("results-extra.json")];
    const written = await writeReport({ results: files, baseline: fixtures("baseline.json"), out: OUT, sloP99Ms: 5 });
    htmlPath = written.html;
    expectedCharts = chartSpecs(analyze(await Promise.all(files.map(readResults)), [await readResults(fixtures("baseline.json"))])).length;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("loads cleanly, and every chart is visible with axes and a legend", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: "load" });

    expect(problems).toEqual([]);
    // Self-contained: the only thing fetched is the page itself.
    expect(requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:"))).toEqual([]);

    const figures = page.locator("figure.chart");
    expect(await figures.count()).toBe(expectedCharts);
    for (let i = 0; i < expectedCharts; i++) {
      const fig = figures.nth(i);
      const id = await fig.getAttribute("id");
      const svg = fig.locator("svg");
      const box = await svg.boundingBox();
      expect(box?.width ?? 0, `${id} width`).toBeGreaterThan(200);
      expect(box?.height ?? 0, `${id} height`).toBeGreaterThan(150);
      expect(await svg.isVisible(), `${id} visible`).toBe(true);
      expect(await fig.locator("g.role-axis").count(), `${id} axes`).toBeGreaterThanOrEqual(2);
      expect(await fig.locator("g.role-legend").count(), `${id} legend`).toBeGreaterThanOrEqual(1);
      const axisTitles = await fig.locator("g.role-axis-title text").allTextContents();
      expect(axisTitles.filter((t) => t.trim() !== "").length, `${id} axis titles`).toBeGreaterThanOrEqual(2);
      // Data is drawn: at least one line or symbol with a real extent.
      const marks = fig.locator("g.mark-line path, g.mark-symbol path");
      expect(await marks.count(), `${id} marks`).toBeGreaterThan(0);
    }

    // The failed point is shown as failed, in red, and never as a number.
    const failed = page.locator("td.tone-failed", { hasText: "failed" });
    expect(await failed.count()).toBeGreaterThan(0);
    expect(await page.locator("td.tone-bad", { hasText: "regressed" }).count()).toBeGreaterThan(0);

    await page.screenshot({ path: join(OUT, "report-top.png") });
    await page.close();
  });

  it("leads with the answer: the verdict table and its chart on the first screen at 1280×800, warnings grouped, no negative figure", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: "load" });
    const table = page.locator("div.row > table").first();
    const chart = page.locator("div.row > figure#chart-verdicts");
    const tableBox = await table.boundingBox();
    const chartBox = await chart.boundingBox();
    expect(tableBox).not.toBeNull();
    expect(chartBox).not.toBeNull();
    // Both start on the first screen, and the chart is beside the table, not under it.
    expect(tableBox!.y).toBeLessThan(300);
    expect(chartBox!.y + 200).toBeLessThan(800);
    expect(chartBox!.x).toBeGreaterThan(tableBox!.x + tableBox!.width - 1);
    expect(await table.locator("thead th").nth(1).textContent()).toBe("Comparison");
    // The first heading after the title is the verdicts.
    expect(await page.locator("h2").first().textContent()).toBe("Verdicts");
    // Grouped: one line per kind above the details, every warning in full below.
    const grouped = await page.locator("h2#warnings + ul > li").allTextContents();
    const full = await page.locator("h2#warnings-in-full + ul > li").allTextContents();
    expect(grouped.length).toBe(new Set(grouped.map((t) => t.split(":")[0])).size);
    expect(grouped.some((t) => /^noisy: \d+ of \d+ points noisy, CV > 10%/.test(t))).toBe(true);
    expect(full.length).toBeGreaterThan(grouped.length);
    // No figure shown as a negative number of bytes, µs or operations.
    const text = await page.locator("body").innerText();
    expect(text.match(/[-−]\d[\d.,]*\s*(B|KiB|MiB|µs|ms|ops)\b/g) ?? []).toEqual([]);
    await page.screenshot({ path: join(OUT, "report-first-screen.png") });
    await page.close();
  });

  it("keeps its screenshots of the details", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: "load" });
    await page.locator("#charts-tcp-echo-real-closed").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(OUT, "report-charts.png") });
    await page.locator("#chart-http-hello-real-rate-2000-open-loop").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(OUT, "report-open-loop.png") });
    await page.screenshot({ path: join(OUT, "report-full.png"), fullPage: true });
    await page.close();
  });
});
