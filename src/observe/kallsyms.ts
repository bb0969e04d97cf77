/** Kernel addresses to "function+0xoffset" from /proc/kallsyms (read once, only when a drop needs naming). */
import { readFile } from 'node:fs/promises';

let table: Promise<{ addrs: BigUint64Array; names: string[] } | null> | null = null;

async function load(): Promise<{ addrs: BigUint64Array; names: string[] } | null> {
  let text: string;
  try {
    text = await readFile('/proc/kallsyms', 'utf8');
  } catch {
    return null;
  }
  const rows: [bigint, string][] = [];
  for (const line of text.split('\n')) {
    const sp1 = line.indexOf(' ');
    if (sp1 <= 0) continue;
    const type = line[sp1 + 1];
    if (type !== 't' && type !== 'T') continue;
    const a = BigInt(`0x${line.slice(0, sp1)}`);
    if (a === 0n) return null; // addresses hidden (kptr_restrict): nothing to name with
    const end = line.indexOf('\t', sp1 + 3);
    rows.push([a, line.slice(sp1 + 3, end < 0 ? undefined : end)]);
  }
  rows.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return { addrs: BigUint64Array.from(rows.map((r) => r[0])), names: rows.map((r) => r[1]) };
}

/** Names for the given hex addresses ("ffffffff820a7607" -> "__udp_enqueue_schedule_skb+0x1c7"); unknown ones stay hex. */
export async function symbolize(hexAddrs: Iterable<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const want = [...new Set(hexAddrs)];
  if (want.length === 0) return out;
  table ??= load();
  const t = await table;
  for (const h of want) {
    const a = BigInt(`0x${h}`);
    let name = `0x${h}`;
    if (t) {
      let lo = 0;
      let hi = t.addrs.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (t.addrs[mid]! <= a) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (found >= 0) name = `${t.names[found]}+0x${(a - t.addrs[found]!).toString(16)}`;
    }
    out.set(h, name);
  }
  return out;
}
