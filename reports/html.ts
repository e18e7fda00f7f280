/**
 * Renders the report document as one self-contained HTML page for a person: inline CSS, charts as
 * inline SVG, no script and nothing fetched from anywhere.
 *
 * @module
 */

import type { Block, Cell, Tone } from "./report-document.js";

/**
 * Escapes text for HTML content and attribute values.
 *
 * @param text - Any text.
 * @returns The escaped text.
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** The inline subset: `code` and **bold**, after escaping. */
function inline(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`]*)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
}

function toneClass(tone: Tone | undefined): string {
  return tone === undefined || tone === "normal" ? "" : ` class="tone-${tone}"`;
}

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1b1f24; margin: 0 auto; padding: 24px 32px 64px; max-width: 1180px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 16px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 16px; margin: 24px 0 8px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; vertical-align: top; }
th { background: #f6f8fa; text-align: left; }
td.right, th.right { text-align: right; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f6f8fa; padding: 1px 4px; border-radius: 4px; word-break: break-all; }
.tone-good { color: #1a7f37; }
.tone-bad { color: #cf222e; font-weight: 600; }
.tone-warn { color: #9a6700; }
.tone-failed { color: #cf222e; background: #ffebe9; }
.tone-muted { color: #57606a; }
p.tone-bad { background: #ffebe9; padding: 8px 12px; border-left: 4px solid #cf222e; }
p.tone-good { background: #dafbe1; padding: 8px 12px; border-left: 4px solid #1a7f37; }
ul { padding-left: 22px; }
li.tone-warn, li.tone-failed { list-style: "⚠ "; }
figure.chart { margin: 12px 0 24px; display: inline-block; vertical-align: top; max-width: 100%; }
figure.chart svg { max-width: 100%; height: auto; border: 1px solid #eaeef2; }
div.row { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 16px; align-items: start; }
div.row > table { width: 100%; margin-top: 8px; font-size: 12.5px; }
div.row > table td, div.row > table th { padding: 3px 6px; }
div.row > figure.chart { margin-top: 8px; width: min-content; }
div.row > figure.chart svg { max-width: none; }
@media (max-width: 1100px) { div.row { grid-template-columns: minmax(0, 1fr); } }
details > summary { cursor: pointer; color: #57606a; margin: 24px 0 0; }
h2#verdicts { margin-top: 16px; }
figure.flame { margin: 12px 0 24px; overflow-x: auto; }
figure.flame svg { border: 1px solid #eaeef2; }
figure.flame text { pointer-events: none; fill: #1b1f24; }
figcaption { font-size: 12px; color: #57606a; max-width: 620px; margin-top: 4px; }
`;

function cell(tag: "td" | "th", x: Cell | string, align: "left" | "right" | undefined): string {
  const text = typeof x === "string" ? x : x.text;
  const tone = typeof x === "string" ? undefined : x.tone;
  const classes = [align === "right" ? "right" : "", tone !== undefined && tone !== "normal" ? `tone-${tone}` : ""].filter((s) => s !== "");
  return `<${tag}${classes.length > 0 ? ` class="${classes.join(" ")}"` : ""}>${inline(text)}</${tag}>`;
}

/**
 * Renders blocks to a complete HTML page.
 *
 * @param blocks - The report document.
 * @param title - The page title.
 * @returns The HTML text.
 */
export function renderHtml(blocks: readonly Block[], title = "wirelab benchmark report"): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
${render(blocks).join("\n")}
</body>
</html>
`;
}

function render(blocks: readonly Block[]): string[] {
  const body: string[] = [];
  for (const b of blocks) {
    switch (b.type) {
      case "heading":
        body.push(`<h${b.level} id="${escapeHtml(b.id)}">${inline(b.text)}</h${b.level}>`);
        break;
      case "paragraph":
        body.push(`<p${toneClass(b.tone)}>${inline(b.text)}</p>`);
        break;
      case "list":
        body.push(`<ul>\n${b.items.map((i) => `<li${toneClass(i.tone)}>${inline(i.text)}</li>`).join("\n")}\n</ul>`);
        break;
      case "table":
        body.push(
          `<table>\n<thead><tr>${b.header.map((h, i) => cell("th", h, b.align[i])).join("")}</tr></thead>\n<tbody>\n${b.rows
            .map((r) => `<tr>${r.map((x, i) => cell("td", x, b.align[i])).join("")}</tr>`)
            .join("\n")}\n</tbody>\n</table>`,
        );
        break;
      case "chart":
        body.push(
          `<figure class="chart" id="${escapeHtml(b.chart.id)}" data-kind="${b.chart.kind}">\n${b.chart.svg}\n<figcaption><strong>${inline(b.chart.title)}</strong>: ${inline(b.chart.caption)}</figcaption>\n</figure>`,
        );
        break;
      case "figure":
        body.push(`<figure class="flame" id="${escapeHtml(b.id)}">\n${b.svg}\n<figcaption><strong>${inline(b.title)}</strong>: ${inline(b.caption)}</figcaption>\n</figure>`);
        break;
      case "row":
        body.push(`<div class="row">\n${render(b.blocks).join("\n")}\n</div>`);
        break;
      case "details":
        body.push(`<details open>\n<summary>${inline(b.summary)}</summary>\n${render(b.blocks).join("\n")}\n</details>`);
        break;
    }
  }
  return body;
}
