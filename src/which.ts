/** Finding a system tool (tcpdump, ip, nft, tshark) on PATH: used by capture, sandbox and doctor alike. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const whichCache = new Map<string, string | null>();

/** The absolute path of `tool` on PATH (plus the sbin directories root has), or null. */
export function which(tool: string): string | null {
  const cached = whichCache.get(tool);
  if (cached !== undefined) return cached;
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  let found: string | null = null;
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, tool);
    try {
      accessSync(p, constants.X_OK);
      found = p;
      break;
    } catch {
      // not here
    }
  }
  whichCache.set(tool, found);
  return found;
}
