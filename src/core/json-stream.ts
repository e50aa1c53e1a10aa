/**
 * JSON written as it is made, for a state too large to hold whole as objects and again as text.
 * A value may defer parts of itself: a `Deferred` is made when it is written, a `DeferredList`
 * an element at a time. `writeJson` makes each, writes it and lets it go, so the objects and
 * text of one element live at a time rather than those of the whole state. `JSON.stringify` of
 * the same value gives the same text (their `toJSON` makes them whole), and `made` gives the
 * plain value.
 */

/** A value made when it is written. */
export class Deferred<T> {
  constructor(private readonly make: () => T) {}
  value(): T {
    return this.make();
  }
  toJSON(): T {
    return this.make();
  }
}

/** A list made an element at a time as it is written. */
export class DeferredList<T> {
  constructor(private readonly make: () => Iterable<T>) {}
  items(): Iterable<T> {
    return this.make();
  }
  toJSON(): T[] {
    return [...this.make()];
  }
}

/** `T` with any of its fields deferred (a list field by element). */
export type Deferring<T> = {
  [K in keyof T]: T[K] | Deferred<T[K]> | (T[K] extends ReadonlyArray<infer E> ? DeferredList<E> : never);
};

/** The plain value of a `Deferring` object: its deferred fields made. */
export function made<T>(d: Deferring<T>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) out[k] = v instanceof Deferred ? v.value() : v instanceof DeferredList ? [...v.items()] : v;
  return out as T;
}

/**
 * Writes `value` as JSON to `out`, in pieces. Plain objects are walked key by key and deferred
 * parts made one at a time; everything else (arrays, a list's elements, values with their own
 * `toJSON`) is written with `JSON.stringify`.
 */
export function writeJson(value: unknown, out: (text: string) => void): void {
  if (value instanceof Deferred) return writeJson(value.value(), out);
  if (value instanceof DeferredList) {
    out('[');
    let first = true;
    for (const item of value.items()) {
      // as JSON.stringify writes an element it cannot represent
      out((first ? '' : ',') + (JSON.stringify(item) ?? 'null'));
      first = false;
    }
    return out(']');
  }
  if (!isPlainObject(value)) {
    const text = JSON.stringify(value);
    if (text === undefined) throw new Error(`writeJson: a ${typeof value} has no JSON`);
    return out(text);
  }
  out('{');
  let first = true;
  for (const [k, v] of Object.entries(value)) {
    // the fields JSON.stringify leaves out
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out(`${first ? '' : ','}${JSON.stringify(k)}:`);
    writeJson(v, out);
    first = false;
  }
  out('}');
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return (proto === Object.prototype || proto === null) && typeof (x as { toJSON?: unknown }).toJSON !== 'function';
}
