/**
 * Renders the report document as GitHub-flavoured Markdown for a pull request: tables in the
 * manner of the fastify benchmarks table, hyperfine's relative column and criterion's change
 * lines. Charts are referenced as SVG files beside the report (`charts/<id>.svg`).
 *
 * @module
 */

import type { Block, Cell } from "./report-document.js";

/** Options of {@link renderMarkdown}. */
export interface MarkdownOptions {
  /** Folder, relative to the Markdown file, where chart SVGs are written. @defaultValue `"charts"` */
  readonly chartDir?: string;
}

function cellText(cell: Cell): string {
  // A pipe would end the cell and a newline the row.
  return cell.text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/**
 * Renders blocks to Markdown.
 *
 * @param blocks - The report document.
 * @param options - Where chart files live.
 * @returns The Markdown text, ending with a newline.
 */
export function renderMarkdown(blocks: readonly Block[], options: MarkdownOptions = {}): string {
  return `${render(blocks, options.chartDir ?? "charts").join("\n\n")}\n`;
}

function render(blocks: readonly Block[], chartDir: string): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.type) {
      case "heading":
        out.push(`${"#".repeat(b.level)} ${b.text}`);
        break;
      case "paragraph":
        out.push(b.text);
        break;
      case "list":
        out.push(b.items.map((i) => `- ${i.text.replace(/\r?\n/g, " ")}`).join("\n"));
        break;
      case "table": {
        const header = `| ${b.header.map((h) => cellText({ text: h })).join(" | ")} |`;
        const rule = `|${b.align.map((a) => (a === "right" ? " ---: " : " --- ")).join("|")}|`;
        const rows = b.rows.map((r) => `| ${r.map(cellText).join(" | ")} |`);
        out.push([header, rule, ...rows].join("\n"));
        break;
      }
      case "chart":
        out.push(`![${b.chart.title}](${chartDir}/${b.chart.id}.svg)\n\n*${b.chart.title}*: ${b.chart.caption}`);
        break;
      case "figure":
        out.push(`![${b.title}](${chartDir}/${b.id}.svg)\n\n*${b.title}*: ${b.caption}`);
        break;
      case "row":
        out.push(...render(b.blocks, chartDir));
        break;
      case "details":
        // GitHub folds what is inside; the blank lines let Markdown inside it render.
        out.push(`<details>\n<summary>${b.summary}</summary>`, ...render(b.blocks, chartDir), "</details>");
        break;
    }
  }
  return out;
}
