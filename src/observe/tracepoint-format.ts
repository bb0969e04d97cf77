/**
 * A tracepoint's format file (/sys/kernel/tracing/events/<group>/<name>/format): its fields and
 * the symbol tables of its `__print_symbolic(REC->field, { 6, "SOCKET_RCVBUFF" }, ...)` calls.
 * Drop and reset reasons are read from here, never hard-coded: their numbers change between kernels.
 */

export interface TracepointFormat {
  name: string;
  fields: string[]; // "skbaddr", "rx_sk", "reason", ... (common_* left out)
  /** field -> value -> name, from __print_symbolic calls with numeric values */
  symbols: Map<string, Map<number, string>>;
}

const FIELD = /^\s*field:[^;]*?([A-Za-z_][A-Za-z0-9_]*)(?:\[\d*\])?;/;
const SYMBOLIC = /__print_symbolic\(REC->([A-Za-z_][A-Za-z0-9_]*),/g;
const PAIR = /\{\s*(-?\d+)\s*,\s*"([^"]*)"\s*\}/y;

export function parseTracepointFormat(text: string): TracepointFormat {
  const name = /^name:\s*(\S+)/m.exec(text)?.[1] ?? '';
  const fields: string[] = [];
  for (const line of text.split('\n')) {
    const m = FIELD.exec(line);
    if (m && !m[1]!.startsWith('common_')) fields.push(m[1]!);
  }
  const symbols = new Map<string, Map<number, string>>();
  const fmt = text.slice(text.indexOf('print fmt:'));
  for (const m of fmt.matchAll(SYMBOLIC)) {
    const table = symbols.get(m[1]!) ?? new Map<number, string>();
    let at = m.index! + m[0].length;
    for (;;) {
      while (fmt[at] === ' ' || fmt[at] === ',') at++;
      PAIR.lastIndex = at;
      const p = PAIR.exec(fmt);
      if (!p) break; // symbolic names (TCP_ESTABLISHED) instead of numbers end the table
      table.set(Number(p[1]), p[2]!);
      at = PAIR.lastIndex;
    }
    if (table.size > 0 && !symbols.has(m[1]!)) symbols.set(m[1]!, table);
  }
  return { name, fields, symbols };
}

/** `reason` of kfree_skb: 6 -> "SOCKET_RCVBUFF" on this kernel; "REASON_<n>" when unknown. */
export function symbolName(fmt: TracepointFormat | null, field: string, value: number): string {
  return fmt?.symbols.get(field)?.get(value) ?? `${field.toUpperCase()}_${value}`;
}
