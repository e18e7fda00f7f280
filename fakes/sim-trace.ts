/**
 * `SimTrace`: what a simulated network did, as numbers hashed as they come and formatted into
 * readable lines only when asked, so tracing costs no string work on the hot path. Payloads are
 * hashed too (so a run that sends other bytes gives another hash); in `"lines"` mode a record
 * can keep a preview of its bytes or a label to print.
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
  /** The text of a note, or a label kept with the record (a timer's name). */
  readonly text: string | undefined;
  /** The first bytes of the record's payload, when a preview was kept. */
  readonly bytes: Uint8Array | undefined;
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
  /** Texts and previews kept with records, by kept-record index. */
  private readonly extras = new Map<number, string | Uint8Array>();
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

  /** Records an event described by text (a fault, a note): the text is hashed and kept. */
  note(time: number, kind: number, text: string, a = 0): void {
    if (this.mode === "off") return;
    for (let i = 0; i < text.length; i++) this.word(text.charCodeAt(i));
    this.record(time, kind, a, text.length);
    this.keep(text);
  }

  /** True when the last record was kept as a line (so what {@link SimTrace.keep} keeps is shown). */
  get keeping(): boolean {
    return this.mode === "lines" && this.kept === this.total && this.kept > 0;
  }

  /** Keeps a label or a payload preview with the last record, in `"lines"` mode; not hashed. */
  keep(extra: string | Uint8Array): void {
    if (this.keeping) this.extras.set(this.kept - 1, extra);
  }

  /**
   * Hashes payload bytes `data[start..end)` into the last record: four at a time into the
   * first lane only (payloads are the bulk of what is hashed), then the lane into the second.
   */
  bytes(data: Uint8Array, start = 0, end = data.length): void {
    if (this.mode === "off") return;
    const whole = start + ((end - start) & ~3);
    let i = start;
    let h = this.h1;
    for (; i < whole; i += 4) h = Math.imul(h ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)), FNV_PRIME);
    let w = 0;
    for (let shift = 0; i < end; i++, shift += 8) w |= data[i]! << shift;
    this.h1 = h;
    this.word(w ^ (end - start));
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
      const extra = this.extras.get(i / STRIDE);
      out.push(
        this.format({
          time: d[i]!,
          kind: d[i + 1]!,
          a: d[i + 2]!,
          b: d[i + 3]!,
          c: d[i + 4]!,
          d: d[i + 5]!,
          e: d[i + 6]!,
          text: typeof extra === "string" ? extra : undefined,
          bytes: extra instanceof Uint8Array ? extra : undefined,
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
  note: 19,
} as const;
