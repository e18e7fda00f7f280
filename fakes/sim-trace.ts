/**
 * `SimTrace`: what a simulated network did, as numbers hashed as they come and formatted into
 * readable lines only when asked, so tracing costs no string work on the hot path.
 *
 * @module
 */

import { InvalidOptionError } from "../runtime/errors.js";

/** How much of the trace a simulation keeps. */
export type TraceMode = "lines" | "hash" | "off";

/** The default bound on the records a `"lines"` trace keeps (the hash covers all of them). */
export const DEFAULT_MAX_TRACE_LINES = 1_000_000;

/** One trace record's fields, as given to the formatter. */
export interface TraceRecord {
  readonly time: number;
  readonly kind: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
  readonly e: number;
  /** The text of a note, if the record is one. */
  readonly text: string | undefined;
}

const STRIDE = 7;
const FNV_PRIME = 0x01000193;
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * An append-only event record with an incremental 64-bit hash (two 32-bit FNV-1a lanes over
 * the records' numbers and texts). Equal runs give equal hashes; the hash does not depend on
 * how lines are formatted, only on what happened.
 */
export class SimTrace {
  private readonly data: number[] = [];
  private readonly texts: string[] = [];
  private readonly noteKinds = new Set<number>();
  private h1 = 0x811c9dc5;
  private h2 = 0x9747b28c;
  private kept = 0;
  private total = 0;

  /**
   * @param mode - `"lines"` keeps records for `lines()`, `"hash"` only hashes, `"off"` neither.
   * @param maxLines - most records kept in `"lines"` mode; later ones are only hashed.
   * @param format - turns one record into a line.
   * @throws InvalidOptionError (`WL_ERR_INVALID_OPTION`) for a bad `maxLines`.
   */
  constructor(
    readonly mode: TraceMode,
    private readonly maxLines: number,
    private readonly format: (record: TraceRecord) => string,
  ) {
    if (!Number.isInteger(maxLines) || maxLines < 0) throw new InvalidOptionError("maxTraceLines", `must be a non-negative integer, got ${maxLines}`);
  }

  /** How many records were made (kept or not). */
  get count(): number {
    return this.total;
  }

  /** True when records past `maxLines` were hashed but not kept. */
  get truncated(): boolean {
    return this.kept < this.total;
  }

  /** Records one event of `kind` at `time` with up to five numeric fields. */
  record(time: number, kind: number, a: number, b = 0, c = 0, d = 0, e = 0): void {
    if (this.mode === "off") return;
    this.total++;
    this.mix(time);
    this.word(kind);
    this.mix(a);
    this.mix(b);
    this.mix(c);
    this.mix(d);
    this.mix(e);
    if (this.mode === "lines" && this.kept < this.maxLines) {
      this.kept++;
      this.data.push(time, kind, a, b, c, d, e);
    }
  }

  /** Records an event described by text (a fault, a boot): rare, so formatted at once. */
  note(time: number, kind: number, text: string, a = 0): void {
    if (this.mode === "off") return;
    const index = this.texts.length;
    this.noteKinds.add(kind);
    for (let i = 0; i < text.length; i++) this.word(text.charCodeAt(i));
    this.texts.push(this.mode === "lines" && this.kept < this.maxLines ? text : "");
    this.record(time, kind, a, index);
  }

  /** @returns the hash of every record so far, as 16 hex digits. */
  hash(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, "0") + (this.h2 >>> 0).toString(16).padStart(8, "0");
  }

  /** @returns the kept records as lines, oldest first. */
  lines(): string[] {
    const out: string[] = [];
    const d = this.data;
    for (let i = 0; i < d.length; i += STRIDE) {
      const kind = d[i + 1]!;
      const b = d[i + 3]!;
      out.push(
        this.format({
          time: d[i]!,
          kind,
          a: d[i + 2]!,
          b,
          c: d[i + 4]!,
          d: d[i + 5]!,
          e: d[i + 6]!,
          text: this.noteKinds.has(kind) ? this.texts[b] : undefined,
        }),
      );
    }
    if (this.truncated) out.push(`... ${this.total - this.kept} more records hashed but not kept (maxTraceLines ${this.maxLines})`);
    return out;
  }

  private mix(value: number): void {
    if ((value | 0) === value) {
      this.word(value);
    } else {
      f64[0] = value;
      this.word(u32[0]!);
      this.word(u32[1]!);
    }
  }

  private word(w: number): void {
    this.h1 = Math.imul(this.h1 ^ w, FNV_PRIME);
    this.h2 = Math.imul(this.h2 ^ (w + 0x3c6ef372), 0x5bd1e995);
    this.h2 ^= this.h2 >>> 15;
  }
}

/** The kinds of record a simulated network writes (the numbers are hashed; keep them stable). */
export const TraceKind = {
  syn: 1,
  accept: 2,
  connected: 3,
  connectFailed: 4,
  deliver: 5,
  fin: 6,
  rst: 7,
  lost: 8,
  timer: 9,
  udpSend: 10,
  udpDeliver: 11,
  udpDrop: 12,
  fault: 13,
  crash: 14,
  restart: 15,
  boot: 16,
  synLost: 17,
  writeRefused: 18,
} as const;
