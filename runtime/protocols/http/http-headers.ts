/**
 * A read-only list of HTTP header (or trailer) fields, in the order they were received.
 *
 * @module
 */

/**
 * The fields of one header or trailer section, in arrival order, duplicates kept.
 *
 * Names are lowercased (the wire case is not kept: HTTP field names are case-insensitive, and
 * lowercasing once here spares every reader a `toLowerCase()`); values are the field values with
 * leading and trailing whitespace removed, decoded as latin1 so every byte maps to one char.
 *
 * The fields live in one flat array, `raw = [name0, value0, name1, value1, ...]`, which is what
 * the parser builds: one array per request, no object per field.
 */
export class HttpHeaders {
  /** The fields as a flat list: `[name0, value0, name1, value1, ...]`, names lowercased. */
  readonly raw: readonly string[];

  /**
   * @param raw - `[name0, value0, ...]` with lowercase names; the array is kept, not copied.
   */
  constructor(raw: readonly string[]) {
    this.raw = raw;
  }

  /** The number of fields (a name repeated n times counts n times). */
  get size(): number {
    return this.raw.length >>> 1;
  }

  /**
   * The value of the first field with this name.
   * @param name - a field name, in any case.
   * @returns the value, or undefined when no field has that name.
   */
  get(name: string): string | undefined {
    const wanted = name.toLowerCase();
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i] === wanted) return raw[i + 1];
    }
    return undefined;
  }

  /**
   * Every value of the fields with this name, in order.
   * @param name - a field name, in any case.
   * @returns the values; empty when no field has that name.
   */
  getAll(name: string): string[] {
    const wanted = name.toLowerCase();
    const raw = this.raw;
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i] === wanted) out.push(raw[i + 1] ?? "");
    }
    return out;
  }

  /**
   * Whether a field with this name is present.
   * @param name - a field name, in any case.
   * @returns true when at least one field has that name.
   */
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /**
   * The fields as `[name, value]` pairs, in order.
   * @returns an iterator of pairs.
   */
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    const raw = this.raw;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      yield [raw[i] ?? "", raw[i + 1] ?? ""];
    }
  }
}

/** An empty field list, shared: what a request without trailers completes with. */
export const EMPTY_HEADERS: HttpHeaders = new HttpHeaders(Object.freeze([]));
