/**
 * The bpftrace program's lines (see bpftrace-script.ts) to typed events. Run once when the source
 * stops, over the raw lines kept while it ran: nothing is parsed while the lab's packets fly.
 */
import { canonicalEndpoint } from './join.js';
import { kernelStateName } from './kernel-tcp-states.js';
import { symbolName, type TracepointFormat } from './tracepoint-format.js';
import type { DropEvent, KernelEvent } from './kernel-types.js';

export interface ParseContext {
  toEpoch(kernelNs: number): number;
  netnsOf(inode: number): string;
  dropFormat: TracepointFormat | null;
  resetFormat: TracepointFormat | null;
  symbols: Map<string, string>; // hex location -> function+off
}

function endpoint(addr: string, port: string): string {
  return canonicalEndpoint(addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);
}

const PROTO: Record<string, DropEvent['proto']> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmp' };

/** The first `n` bytes of a little-endian u64 (decimal text) as hex. */
export function leBytesHex(u64: string, n: number): string {
  let v = BigInt(u64);
  let s = '';
  for (let i = 0; i < n; i++) {
    s += Number(v & 0xffn).toString(16).padStart(2, '0');
    v >>= 8n;
  }
  return s;
}

/** One event line to an event; null for lines that are not events (B, C) or that do not parse. */
export function parseEventLine(line: string, c: ParseContext): KernelEvent | null {
  const f = line.split(' ');
  const time = c.toEpoch(Number(f[1]));
  const netns = c.netnsOf(Number(f[2]));
  switch (f[0]) {
    case 'S':
      if (f.length < 10) return null;
      return { kind: 'state', time, netns, socket: f[3]!, from: kernelStateName(Number(f[4])), to: kernelStateName(Number(f[5])), local: endpoint(f[8]!, f[6]!), remote: endpoint(f[9]!, f[7]!) };
    case 'R':
      if (f.length < 11) return null;
      return { kind: 'retransmit', time, netns, socket: f[3]!, state: kernelStateName(Number(f[4])), local: endpoint(f[7]!, f[5]!), remote: endpoint(f[8]!, f[6]!), seq: f[9] === '-' ? null : Number(f[9]), err: Number(f[10]) };
    case 'Y':
      if (f.length < 8) return null;
      return { kind: 'synack-retransmit', time, netns, local: endpoint(f[6]!, f[4]!), remote: endpoint(f[7]!, f[5]!) };
    case 'I':
      if (f.length < 8) return null;
      return { kind: 'reset-received', time, netns, socket: f[3]!, state: null, reason: null, local: endpoint(f[6]!, f[4]!), remote: endpoint(f[7]!, f[5]!) };
    case 'O': {
      if (f.length < 10) return null;
      const sk = f[3] === '0' ? null : f[3]!;
      const st = Number(f[4]);
      return {
        kind: 'reset-sent', time, netns, socket: sk, state: sk && st ? kernelStateName(st) : null,
        reason: c.resetFormat?.fields.includes('reason') ? symbolName(c.resetFormat, 'reason', Number(f[5])) : null,
        local: endpoint(f[8]!, f[6]!), remote: endpoint(f[9]!, f[7]!),
      };
    }
    case 'D': {
      // D t ns reason ethertype ipver [l4 saddr daddr sport dport x y] location
      if (f.length < 7) return null;
      const ip = f[5] !== '0';
      const loc = f[f.length - 1]!;
      const ev: DropEvent = {
        kind: 'drop', time, netns, reason: symbolName(c.dropFormat, 'reason', Number(f[3])), location: c.symbols.get(loc) ?? `0x${loc}`,
        ethertype: Number(f[4]), proto: null, src: null, dst: null, udpLength: null, firstBytes: null, seq: null, tcpFlags: null,
        count: 1, lastNumber: null, lastTime: null,
      };
      if (!ip || f.length < 14) return ev;
      const proto = PROTO[f[6]!] ?? 'other';
      ev.proto = proto;
      if (proto === 'tcp' || proto === 'udp') {
        ev.src = endpoint(f[7]!, f[9]!);
        ev.dst = endpoint(f[8]!, f[10]!);
      } else {
        ev.src = canonicalEndpoint(f[7]!.includes(':') ? `[${f[7]}]:0` : `${f[7]}:0`);
        ev.dst = canonicalEndpoint(f[8]!.includes(':') ? `[${f[8]}]:0` : `${f[8]}:0`);
      }
      if (proto === 'udp') {
        const len = Number(f[11]) - 8;
        ev.udpLength = len;
        ev.firstBytes = leBytesHex(f[12]!, Math.max(0, Math.min(8, len)));
      } else if (proto === 'tcp') {
        ev.seq = Number(f[11]);
        ev.tcpFlags = Number(f[12]);
      }
      return ev;
    }
    default:
      return null;
  }
}

/** The hex locations of the drop lines (to name them in one /proc/kallsyms pass). */
export function dropLocations(lines: string[]): Set<string> {
  const out = new Set<string>();
  for (const l of lines) if (l.charCodeAt(0) === 68 /* D */) out.add(l.slice(l.lastIndexOf(' ') + 1));
  return out;
}

/** A run of consecutively numbered UDP datagrams dropped for one reason (a U line, or a run open at exit). */
export interface DropRun {
  kernelNs: number; // the last datagram's drop
  inode: number;
  reason: number;
  sport: number;
  dport: number;
  last: number; // the last datagram's number
  count: number;
}

/** "U t ns reason sport dport last count" */
export function parseRunLine(line: string): DropRun | null {
  const f = line.split(' ');
  if (f[0] !== 'U' || f.length < 8) return null;
  return { kernelNs: Number(f[1]), inode: Number(f[2]), reason: Number(f[3]), sport: Number(f[4]), dport: Number(f[5]), last: Number(f[6]), count: Number(f[7]) };
}

/** Runs still open when bpftrace exited, from its printed map @run: "ns,reason,sport,dport" -> [last, count, time]. */
export function openRuns(maps: Record<string, Record<string, unknown>>): DropRun[] {
  const out: DropRun[] = [];
  for (const [key, v] of Object.entries(maps['@run'] ?? {})) {
    if (!Array.isArray(v) || Number(v[1]) < 2) continue;
    const [inode, reason, sport, dport] = key.split(',').map(Number) as [number, number, number, number];
    out.push({ kernelNs: Number(v[2]), inode, reason, sport, dport, last: Number(v[0]), count: Number(v[1]) });
  }
  return out;
}

/**
 * Fold each run into the drop event that began it (the same namespace, reason and ports, numbered
 * last - count + 1, at or before the run's end). Returns how many runs found no beginning (its
 * first line was lost).
 */
export function applyRuns(events: DropEvent[], runs: DropRun[], c: Pick<ParseContext, 'toEpoch' | 'netnsOf' | 'dropFormat'>): number {
  const byKey = new Map<string, DropEvent[]>();
  for (const e of events) {
    if (e.proto !== 'udp' || !e.src || !e.dst) continue;
    const k = `${e.netns} ${e.reason} ${e.src.slice(e.src.lastIndexOf(':') + 1)} ${e.dst.slice(e.dst.lastIndexOf(':') + 1)}`;
    const list = byKey.get(k);
    if (list) list.push(e);
    else byKey.set(k, [e]);
  }
  let orphans = 0;
  for (const r of runs) {
    const list = byKey.get(`${c.netnsOf(r.inode)} ${symbolName(c.dropFormat, 'reason', r.reason)} ${r.sport} ${r.dport}`) ?? [];
    const first = (r.last - r.count + 1) >>> 0;
    const end = c.toEpoch(r.kernelNs);
    const e = list.find((x) => x.count === 1 && x.time <= end && x.firstBytes !== null && x.firstBytes.length >= 8 && parseInt(x.firstBytes.slice(0, 8), 16) === first);
    if (!e) {
      orphans++;
      continue;
    }
    e.count = r.count;
    e.lastNumber = r.last;
    e.lastTime = end;
  }
  return orphans;
}
