/** Test-side reading of the captures the backends write: pcap-parser (classic pcap) and tshark. */
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { parse } from 'pcap-parser';
import { ensureBuilt } from '../sandbox/build.js';

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

/** The raw-socket helper runs as compiled JS: build dist/ first when it is stale. */
export function ensureHelperBuilt(): void {
  ensureBuilt('dist/src/capture/rawsocket-helper.js', 'src/capture');
}
