/** Test-side reading of the captures the backends write: pcap-parser (classic pcap) and tshark. */
import { spawnSync } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'pcap-parser';

export interface ReadBack {
  linkType: number;
  packets: Array<{ ts: number; data: Buffer; origLen: number }>;
}

export function readPcap(file: string): Promise<ReadBack> {
  return new Promise((resolve, reject) => {
    const p = parse(createReadStream(file));
    const out: ReadBack = { linkType: -1, packets: [] };
    p.on('globalHeader', (h) => (out.linkType = h.linkLayerType));
    p.on('packet', (pk) =>
      out.packets.push({ ts: pk.header.timestampSeconds + pk.header.timestampMicroseconds / 1e6, data: Buffer.from(pk.data), origLen: pk.header.originalLength }),
    );
    p.on('error', reject);
    p.on('end', () => resolve(out));
  });
}

/** The IPv4/IPv6 packet inside a link-layer frame (Ethernet 1, raw 101, IPv4 228, IPv6 229). */
export function ipOf(linkType: number, frame: Buffer): Buffer | null {
  if (linkType === 1) return frame.length > 14 ? frame.subarray(14) : null;
  if (linkType === 101 || linkType === 228 || linkType === 229) return frame;
  return null;
}

/** TCP flags byte of an IPv4/IPv6 TCP packet, or null. */
export function tcpFlags(ip: Buffer): number | null {
  const v = ip[0]! >> 4;
  if (v === 4 && ip[9] === 6) return ip[((ip[0]! & 15) << 2) + 13] ?? null;
  if (v === 6 && ip[6] === 6) return ip[40 + 13] ?? null;
  return null;
}

export function tsharkCount(file: string): number {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark -r ${file}: ${r.stderr}`);
  return r.stdout.trim() === '' ? 0 : r.stdout.trim().split('\n').length;
}

/**
 * The raw-socket helper runs as compiled JS: build dist/ with tsc when the helper is missing or
 * older than its sources (tsc still emits when other files in the tree have type errors).
 */
export function ensureHelperBuilt(root: string): void {
  const js = join(root, 'dist/src/capture/rawsocket-helper.js');
  const srcs = ['src/capture/rawsocket-helper.ts', 'src/capture/pcap-writer.ts'].map((f) => join(root, f));
  let stale = true;
  try {
    const t = statSync(js).mtimeMs;
    stale = srcs.some((s) => statSync(s).mtimeMs > t);
  } catch {
    stale = true;
  }
  if (!stale) return;
  spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { cwd: root, stdio: 'ignore' });
  statSync(js); // throws when the build did not produce it
}
