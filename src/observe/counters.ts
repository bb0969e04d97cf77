/**
 * Kernel counters of a namespace: /proc/<pid>/net/snmp and netstat (pairs of a header line and a
 * value line: "Udp: InDatagrams ... RcvbufErrors" / "Udp: 12 ... 9991") and snmp6 ("Udp6InErrors  3"),
 * flattened to "Udp.RcvbufErrors", "TcpExt.ListenOverflows", "Ip.ReasmFails", "Udp6.RcvbufErrors".
 */
import { readFile } from 'node:fs/promises';
import type { CounterSnapshot } from './types.js';

export function parsePairedCounters(text: string, into: Record<string, number> = {}): Record<string, number> {
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const h = lines[i]!.trim().split(/\s+/);
    const v = lines[i + 1]!.trim().split(/\s+/);
    const prefix = h[0]?.replace(/:$/, '');
    if (!prefix || v[0] !== h[0]) continue;
    for (let k = 1; k < h.length && k < v.length; k++) into[`${prefix}.${h[k]}`] = Number(v[k]);
  }
  return into;
}

const SNMP6 = /^(Ip6|Icmp6|Udp6|UdpLite6)(\S+)\s+(-?\d+)/;

export function parseSnmp6(text: string, into: Record<string, number> = {}): Record<string, number> {
  for (const line of text.split('\n')) {
    const m = SNMP6.exec(line);
    if (m) into[`${m[1]}.${m[2]}`] = Number(m[3]);
  }
  return into;
}

export async function readCounters(pid: number): Promise<CounterSnapshot> {
  // snmp must be readable (the process is gone otherwise); netstat and snmp6 may be absent
  const [snmp, netstat, snmp6] = await Promise.all([
    readFile(`/proc/${pid}/net/snmp`, 'utf8'),
    ...['netstat', 'snmp6'].map((f) => readFile(`/proc/${pid}/net/${f}`, 'utf8').catch(() => '')),
  ]);
  const time = Date.now() / 1000;
  const values: Record<string, number> = {};
  parsePairedCounters(snmp!, values);
  parsePairedCounters(netstat!, values);
  parseSnmp6(snmp6!, values);
  return { time, values };
}

/** after - before for every counter that changed. */
export function counterDelta(before: CounterSnapshot, after: CounterSnapshot): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.values)) {
    const diff = v - (before.values[k] ?? 0);
    if (diff !== 0) d[k] = diff;
  }
  return d;
}
