/**
 * Where the server's time goes: the V8 CPU profiles `wirelab bench --server-cpu-prof DIR` has each
 * Node server write (`DIR/<scenario>/<style>/*.cpuprofile`), merged per style into one call tree,
 * drawn as a flame graph in plain SVG (a `<title>` per frame for the full name; no script needed
 * to read it) and summed into the functions with the most self time.
 *
 * The format is V8's, as `node --cpu-prof` writes it (the DevTools protocol's `Profiler.Profile`):
 * `nodes` (each with `id`, `callFrame` {functionName, url, lineNumber, columnNumber}, `children`
 * ids), `samples` (a node id per sample) and `timeDeltas` (µs since the previous sample). It is
 * read here, in a few dozen lines, rather than adding a dependency to the reports for it. Time
 * per sample is the delta to the next sample;
 * `(idle)` is left out (a server waits for the other styles' windows between its own).
 *
 * @module
 */

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { escapeHtml } from "./html.js";
import { ResultsFormatError } from "./errors.js";

/** One frame of a V8 profile node. */
export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  /** 0-based. */
  readonly lineNumber: number;
  readonly columnNumber: number;
}

/** A V8 CPU profile, as `node --cpu-prof` writes it. */
export interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: CallFrame; readonly children?: readonly number[] }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A node of a merged call tree: a frame under its callers, with time in µs. */
export interface ProfileNode {
  readonly name: string;
  /** `file:line`, shortened; empty for VM entries such as `(garbage collector)`. */
  readonly where: string;
  self: number;
  total: number;
  readonly children: Map<string, ProfileNode>;
}

/**
 * Validates parsed JSON as a V8 CPU profile.
 *
 * @param json - The parsed file.
 * @param source - Its path, for errors.
 * @returns The profile.
 * @throws {@link ResultsFormatError} `WL_ERR_RESULTS_FORMAT` naming what is missing.
 */
export function parseCpuProfile(json: unknown, source: string): CpuProfile {
  const p = json as Partial<CpuProfile> | null;
  if (p === null || typeof p !== "object" || !Array.isArray(p.nodes)) throw new ResultsFormatError(source, "nodes", "expected a V8 CPU profile with a nodes array");
  if (!Array.isArray(p.samples) || !Array.isArray(p.timeDeltas) || p.samples.length !== p.timeDeltas.length) {
    throw new ResultsFormatError(source, "samples", "expected samples and timeDeltas arrays of the same length");
  }
  for (const n of p.nodes as unknown[]) {
    const node = n as { id?: unknown; callFrame?: { functionName?: unknown; url?: unknown } } | null;
    if (typeof node?.id !== "number" || typeof node.callFrame?.functionName !== "string" || typeof node.callFrame.url !== "string") {
      throw new ResultsFormatError(source, "nodes", "every node needs an id and a callFrame with functionName and url");
    }
  }
  return p as CpuProfile;
}

function shortUrl(url: string): string {
  if (url === "") return "";
  const path = url.replace(/^file:\/\//, "");
  const parts = path.split("/");
  return parts.length <= 2 ? path : parts.slice(-2).join("/");
}

function frameName(f: CallFrame): string {
  return f.functionName === "" ? "(anonymous)" : f.functionName;
}

function frameWhere(f: CallFrame): string {
  return f.url === "" ? "" : `${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

const newNode = (name: string, where: string): ProfileNode => ({ name, where, self: 0, total: 0, children: new Map() });

/**
 * Merges profiles into one call tree: frames with the same name and place under the same
 * callers are one node; `(idle)` time is left out.
 *
 * @param profiles - The profiles (one server's several files, or several servers of one style).
 * @returns The root (named `all`), whose total is the CPU time sampled.
 */
export function mergeProfiles(profiles: readonly CpuProfile[]): ProfileNode {
  const root = newNode("all", "");
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const selfById = new Map<number, number>();
    profile.samples.forEach((id, i) => {
      const dt = profile.timeDeltas[i + 1] ?? 0;
      if (dt > 0) selfById.set(id, (selfById.get(id) ?? 0) + dt);
    });
    for (const [id, us] of selfById) {
      const path: CallFrame[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const node = byId.get(at);
        if (node === undefined) break;
        path.push(node.callFrame);
      }
      path.reverse();
      // V8's tree starts at "(root)"; drop it, and skip idle time.
      const frames = path[0]?.functionName === "(root)" ? path.slice(1) : path;
      if (frames.length === 0 || frames[frames.length - 1]?.functionName === "(idle)") continue;
      root.total += us;
      let at = root;
      for (const f of frames) {
        const key = `${frameName(f)}|${frameWhere(f)}`;
        let child = at.children.get(key);
        if (child === undefined) {
          child = newNode(frameName(f), frameWhere(f));
          at.children.set(key, child);
        }
        child.total += us;
        at = child;
      }
      at.self += us;
    }
  }
  return root;
}

/** A function's self time, summed over every place in the tree it appears. */
export interface SelfTime {
  readonly name: string;
  readonly where: string;
  readonly selfUs: number;
  /** Of all the CPU time sampled. */
  readonly share: number;
}

/**
 * The functions with the most self time.
 *
 * @param root - A merged tree.
 * @param count - How many. @defaultValue 10
 * @returns The top functions, most first.
 */
export function topSelfTime(root: ProfileNode, count = 10): SelfTime[] {
  const sums = new Map<string, { name: string; where: string; selfUs: number }>();
  const walk = (n: ProfileNode): void => {
    for (const c of n.children.values()) {
      const key = `${c.name}|${c.where}`;
      const s = sums.get(key) ?? { name: c.name, where: c.where, selfUs: 0 };
      s.selfUs += c.self;
      sums.set(key, s);
      walk(c);
    }
  };
  walk(root);
  return [...sums.values()]
    .filter((s) => s.selfUs > 0)
    .sort((a, b) => b.selfUs - a.selfUs || (a.name < b.name ? -1 : 1))
    .slice(0, count)
    .map((s) => ({ ...s, share: root.total > 0 ? s.selfUs / root.total : 0 }));
}

/** Flame graph size and labels. */
export interface FlameOptions {
  /** Width in px. @defaultValue 1100 */
  readonly width?: number;
  /** Frame height in px. @defaultValue 17 */
  readonly rowHeight?: number;
  /** Frames narrower than this many px are not drawn. @defaultValue 0.5 */
  readonly minWidth?: number;
  readonly title: string;
}

function colour(n: ProfileNode): string {
  // Warm for wirelab's own code, cool for Node's, grey for the VM; a stable shade per name.
  let h = 0;
  for (const ch of n.name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const shade = h % 40;
  if (n.where === "") return `hsl(0, 0%, ${70 + (shade % 15)}%)`;
  if (n.where.startsWith("node:") || n.where.includes("internal/")) return `hsl(${200 + (shade % 30)}, 55%, ${65 + (shade % 15)}%)`;
  if (n.where.includes("node_modules")) return `hsl(${120 + (shade % 30)}, 45%, ${60 + (shade % 15)}%)`;
  return `hsl(${15 + shade}, 85%, ${60 + (shade % 15)}%)`;
}

/**
 * Draws a merged tree as a flame graph (callers below, callees above, width = CPU time), as one
 * standalone `<svg>`: each frame a `<rect>` with a `<title>` (name, place, time, share) and, where
 * it fits, its name.
 *
 * @param root - The merged tree.
 * @param options - Size and title.
 * @returns The SVG markup.
 */
export function flameGraphSvg(root: ProfileNode, options: FlameOptions): string {
  const width = options.width ?? 1100;
  const row = options.rowHeight ?? 17;
  const minWidth = options.minWidth ?? 0.5;
  const top = 24;
  const rects: { x: number; depth: number; w: number; n: ProfileNode }[] = [];
  let maxDepth = 0;
  const place = (n: ProfileNode, x: number, depth: number): void => {
    const w = root.total > 0 ? (n.total / root.total) * width : 0;
    if (w < minWidth) return;
    rects.push({ x, depth, w, n });
    maxDepth = Math.max(maxDepth, depth);
    let cx = x;
    const kids = [...n.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const c of kids) {
      place(c, cx, depth + 1);
      cx += root.total > 0 ? (c.total / root.total) * width : 0;
    }
  };
  place(root, 0, 0);
  const height = top + (maxDepth + 1) * row + 4;
  const ms = (us: number): string => `${(us / 1000).toFixed(1)} ms`;
  const parts = rects.map(({ x, depth, w, n }) => {
    const y = height - 4 - (depth + 1) * row;
    const label = n === root ? `all (${ms(root.total)} sampled)` : n.name;
    const fits = Math.floor((w - 6) / 6.6);
    const text = fits >= 3 ? (label.length <= fits ? label : `${label.slice(0, Math.max(1, fits - 1))}…`) : "";
    const share = root.total > 0 ? ((n.total / root.total) * 100).toFixed(1) : "0";
    const title = `${n.name}${n.where === "" ? "" : ` (${n.where})`}: ${ms(n.total)}, ${share}% (self ${ms(n.self)})`;
    return `<g><title>${escapeHtml(title)}</title><rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${row - 1}" fill="${n === root ? "#d0d7de" : colour(n)}" rx="1"/>${
      text === "" ? "" : `<text x="${(x + 3).toFixed(2)}" y="${y + row - 5}">${escapeHtml(text)}</text>`
    }</g>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Menlo, Consolas, monospace" font-size="11" role="img" aria-label="${escapeHtml(options.title)}"><text x="0" y="15" font-family="Helvetica, Arial, sans-serif" font-size="13" font-weight="bold">${escapeHtml(options.title)}</text>${parts.join("")}</svg>`;
}

/**
 * Whether a profile is a process's main thread's: Node names them
 * `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`, thread 0 being the main thread; the others
 * are workers, such as the module loader's hooks thread under tsx, which serve no request.
 *
 * @param name - The file name.
 * @returns False for a worker thread's profile.
 */
export function isMainThread(name: string): boolean {
  const m = /^CPU\.\d+\.\d+\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(name);
  return m === null || m[1] === "0";
}

/** One style's profiles, merged. */
export interface StyleProfile {
  readonly scenario: string;
  readonly style: string;
  readonly files: number;
  readonly tree: ProfileNode;
}

/**
 * Reads `DIR/<scenario>/<style>/*.cpuprofile` for the given styles (main threads only).
 *
 * @param dir - The `--server-cpu-prof` folder.
 * @param styles - Scenario and style names to look for.
 * @returns One entry per style that has profiles, in the order given.
 * @throws {@link ResultsFormatError} for a file that is not a V8 CPU profile.
 */
export async function readStyleProfiles(dir: string, styles: readonly { readonly scenario: string; readonly style: string }[]): Promise<StyleProfile[]> {
  const out: StyleProfile[] = [];
  for (const { scenario, style } of styles) {
    const folder = join(dir, scenario, style);
    let names: string[];
    try {
      names = (await readdir(folder)).filter((n) => n.endsWith(".cpuprofile") && isMainThread(n)).sort();
    } catch {
      continue;
    }
    if (names.length === 0) continue;
    const profiles: CpuProfile[] = [];
    for (const n of names) {
      const path = join(folder, n);
      let json: unknown;
      try {
        json = JSON.parse(await readFile(path, "utf8"));
      } catch (error) {
        throw new ResultsFormatError(path, "(file)", "not valid JSON", error);
      }
      profiles.push(parseCpuProfile(json, path));
    }
    out.push({ scenario, style, files: names.length, tree: mergeProfiles(profiles) });
  }
  return out;
}
