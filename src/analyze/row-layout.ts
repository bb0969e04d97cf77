/**
 * Rows of numbers instead of objects: a table of named fields becomes offsets into two shared
 * typed arrays (a Float64Array for times, 32-bit sequence numbers and anything fractional; an
 * Int32Array for counts, flags, small codes and packet numbers) and a template of initial values.
 * A connection is then two rows (no object, no boxed number per connection), and a field is
 * `num[o + F.name]` or `int[q + I.name]` on the hot path, with offsets fixed at module load.
 *
 * A table is declared once, one line per field:
 *   const CONN = rowLayout({ packets: int(0), isn: num(-1, 2), seqFlow: block(SEQ_FLOW, 2) });
 * `n` consecutive slots for per-side pairs (client 0, server 1) or small arrays; a block embeds
 * another layout (its own fields and initial values) n times.
 */

/**
 * How a stored value reads as a fact: as it is, as a boolean (1 true), as null when unset
 * (a negative number, or NaN), or through a function (a code to its name, bits to a list of
 * names): it runs once per model object built, never per packet.
 */
export type FactRead = 'value' | 'bool' | 'negativeIsNull' | 'nanIsNull' | ((stored: number) => unknown);

interface ScalarField {
  readonly n: number;
  readonly init: number;
  /** Where the field shows in a view object (one path per slot), and how it reads there. */
  readonly fact?: readonly string[];
  readonly read?: FactRead;
}
export interface NumField extends ScalarField {
  readonly store: 'num';
}
export interface IntField extends ScalarField {
  readonly store: 'int';
}
export interface BlockField {
  readonly store: 'block';
  readonly n: number;
  readonly layout: RowLayout<string>;
}
export type FieldSpec = NumField | IntField | BlockField;

/** `n` doubles, each starting at `init`. */
export const num = (init = 0, n = 1): NumField => ({ store: 'num', n, init });
/** `n` int32s, each starting at `init`. */
export const int = (init = 0, n = 1): IntField => ({ store: 'int', n, init });
/** Another layout embedded `n` times (its doubles in this row's doubles, its ints in the ints). */
export const block = (layout: RowLayout<string>, n = 1): BlockField => ({ store: 'block', n, layout });

export interface RowLayout<K extends string> {
  readonly spec: Readonly<Record<K, FieldSpec>>;
  /** Offset of each field in its store (a block: the offset of its doubles). */
  readonly at: Readonly<Record<K, number>>;
  /** A block's offset in the ints (other fields: -1). */
  readonly intAt: Readonly<Record<K, number>>;
  readonly numSize: number;
  readonly intSize: number;
  /** A row with every field at its initial value. */
  readonly numInit: Float64Array;
  readonly intInit: Int32Array;
}

export function rowLayout<K extends string>(spec: Record<K, FieldSpec>): RowLayout<K> {
  const at = {} as Record<K, number>;
  const intAt = {} as Record<K, number>;
  let numSize = 0;
  let intSize = 0;
  for (const k of Object.keys(spec) as K[]) {
    const f = spec[k];
    intAt[k] = -1;
    if (f.store === 'num') {
      at[k] = numSize;
      numSize += f.n;
    } else if (f.store === 'int') {
      at[k] = intSize;
      intSize += f.n;
    } else {
      at[k] = numSize;
      intAt[k] = intSize;
      numSize += f.n * f.layout.numSize;
      intSize += f.n * f.layout.intSize;
    }
  }
  const numInit = new Float64Array(numSize);
  const intInit = new Int32Array(intSize);
  for (const k of Object.keys(spec) as K[]) {
    const f = spec[k];
    if (f.store === 'num') numInit.fill(f.init, at[k], at[k] + f.n);
    else if (f.store === 'int') intInit.fill(f.init, at[k], at[k] + f.n);
    else {
      for (let c = 0; c < f.n; c++) {
        numInit.set(f.layout.numInit, at[k] + c * f.layout.numSize);
        intInit.set(f.layout.intInit, intAt[k] + c * f.layout.intSize);
      }
    }
  }
  return { spec, at, intAt, numSize, intSize, numInit, intInit };
}

/**
 * New pages of `rows` rows, every row already at the layout's initial values (the template
 * copied in by doubling): adding a row then writes nothing but its own facts.
 */
export function newPages(l: RowLayout<string>, rows: number): { num: Float64Array; int: Int32Array } {
  const num = new Float64Array(l.numSize * rows);
  const int = new Int32Array(l.intSize * rows);
  fillByDoubling(num, l.numInit);
  fillByDoubling(int, l.intInit);
  return { num, int };
}

function fillByDoubling<T extends Float64Array | Int32Array>(page: T, row: T): void {
  if (row.length === 0) return;
  page.set(row, 0);
  for (let filled = row.length; filled < page.length; filled *= 2) page.copyWithin(filled, 0, Math.min(filled, page.length - filled));
}
