/**
 * Parsing /proc/<pid>/net/{tcp,tcp6,udp,udp6}: the socket table of the namespace that <pid> lives
 * in. Addresses are hex, in host byte order per 32-bit word (little-endian here); `st` is the
 * kernel state code; `tr:tm->when` is the timer kind and its remaining time in clock ticks of
 * USER_HZ (1/100 s; jiffies_delta_to_clock_t), whatever the kernel's HZ (250 here).
 */
import { readFile } from 'node:fs/promises';
import { endpointText } from '../endpoint.js';
import { stateFromKernel } from '../tcp-state.js';
import type { SocketEntry, SocketProto } from './types.js';

const TIMERS: Record<number, SocketEntry['timer']> = {
  0: 'none',
  1: 'retransmit',
  2: 'keepalive',
  3: 'time-wait',
  4: 'zero-window-probe',
};

/** USER_HZ: the unit of tm->when. */
export const CLOCK_TICK_MS = 10;

const addrCache = new Map<string, string>();

function hexByte(s: string, i: number): number {
  return parseInt(s.substr(i, 2), 16);
}

/** "0100007F:1F90" -> "127.0.0.1:8080"; 32-hex-digit IPv6 -> "[fd00::1]:8080". */
export function decodeEndpoint(hex: string): string {
  const hit = addrCache.get(hex);
  if (hit !== undefined) return hit;
  const [a, p] = hex.split(':') as [string, string];
  const port = parseInt(p, 16);
  let out: string;
  if (a.length === 8) {
    out = endpointText(`${hexByte(a, 6)}.${hexByte(a, 4)}.${hexByte(a, 2)}.${hexByte(a, 0)}`, port);
  } else {
    const bytes: number[] = [];
    for (let w = 0; w < 4; w++) for (let b = 3; b >= 0; b--) bytes.push(hexByte(a, w * 8 + b * 2));
    out = endpointText(formatIPv6(bytes), port);
  }
  if (addrCache.size > 10_000) addrCache.clear();
  addrCache.set(hex, out);
  return out;
}

/** RFC 5952 text of 16 bytes (longest zero run of 2+ groups compressed; v4-mapped dotted). */
export function formatIPv6(bytes: number[]): string {
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

function remainingMs(whenHex: string): number {
  // printed as %08lX of a signed long: an overdue timer shows as a huge (negative) value
  const v = BigInt.asIntN(64, BigInt('0x' + whenHex));
  return v <= 0n ? 0 : Number(v) * CLOCK_TICK_MS;
}

/** Parse one /proc/net/{tcp,udp}[6] file's text. */
export function parseProcNet(text: string, proto: SocketProto): SocketEntry[] {
  const out: SocketEntry[] = [];
  const udp = proto === 'udp' || proto === 'udp6';
  let start = text.indexOf('\n') + 1; // skip the header line
  while (start > 0 && start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const f = text.slice(start, end).trim().split(/\s+/);
    start = end + 1;
    if (f.length < 10) continue;
    const st = parseInt(f[3]!, 16);
    const [tx, rx] = f[4]!.split(':') as [string, string];
    const [tr, when] = f[5]!.split(':') as [string, string];
    const trN = parseInt(tr, 16);
    const timer = TIMERS[trN] ?? 'other';
    // TCP states in the one vocabulary (src/tcp-state.ts): the kernel's SYN_RECV reads SYN_RCVD.
    let state: SocketEntry['state'];
    if (udp && st === 0x07) state = 'UNCONN';
    else state = stateFromKernel(st) ?? `STATE_${st}`;
    out.push({
      proto,
      local: decodeEndpoint(f[1]!),
      remote: decodeEndpoint(f[2]!),
      state,
      timer,
      timerRemainingMs: timer === 'none' ? 0 : remainingMs(when),
      retransmits: parseInt(f[6]!, 16),
      txQueue: parseInt(tx, 16),
      rxQueue: parseInt(rx, 16),
      drops: udp ? Number(f[f.length - 1]) || 0 : 0,
      inode: Number(f[9]),
      uid: Number(f[7]),
    });
  }
  return out;
}

export const SOCKET_FILES: SocketProto[] = ['tcp', 'tcp6', 'udp', 'udp6'];

/** Every TCP and UDP socket of the namespace <pid> lives in (four reads, no spawning). */
export async function readSockets(pid: number): Promise<SocketEntry[]> {
  const texts = await Promise.all(SOCKET_FILES.map((p) => readFile(`/proc/${pid}/net/${p}`, 'utf8').catch(() => '')));
  return parseAll(texts);
}

function parseAll(texts: string[]): SocketEntry[] {
  const out: SocketEntry[] = [];
  texts.forEach((t, i) => {
    if (t) for (const e of parseProcNet(t, SOCKET_FILES[i]!)) out.push(e);
  });
  return out;
}
