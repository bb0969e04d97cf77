/**
 * What the kernel of each sandbox namespace counts around one experiment: /proc/net/snmp, snmp6
 * and netstat (through the namespace's holder process), dropped packets on every interface
 * (`ip -s -j link`) and in every qdisc (`tc -s -j qdisc`), the host-wide receive-buffer limits, and the pending IP reassembly queues
 * (/proc/net/sockstat FRAG, sockstat6 FRAG6) that the engine waits on before it reads ReasmFails.
 */
import { readFile } from 'node:fs/promises';
import { counterDelta, readCounters, type CounterSnapshot } from '../observe/index.js';
import type { HostRole, Sandbox } from '../sandbox/types.js';

export interface KernelSnapshot {
  byRole: Map<HostRole, CounterSnapshot>;
  linkDropped: number; // rx + tx dropped on every interface (ip -s link)
  qdiscDropped: number; // drops of every qdisc (tc -s qdisc): a full tbf queue on a veth, say
}

/** One namespace per role: on loopback client and server share one. */
function distinctRoles(sb: Sandbox): HostRole[] {
  const seen = new Set<string>();
  return sb.roles.filter((r) => (seen.has(sb.host(r).netns) ? false : (seen.add(sb.host(r).netns), true)));
}

async function sumOver(sb: Sandbox, argv: string[], pick: (row: Record<string, unknown>) => number): Promise<number> {
  let total = 0;
  for (const role of distinctRoles(sb)) {
    const r = await sb.exec(role, argv);
    if (r.code !== 0 || !r.stdout.trim()) continue;
    for (const row of JSON.parse(r.stdout) as Record<string, unknown>[]) total += pick(row);
  }
  return total;
}

type LinkRow = { stats64?: { rx?: { dropped?: number }; tx?: { dropped?: number } } };

export async function snapshot(sb: Sandbox): Promise<KernelSnapshot> {
  const byRole = new Map<HostRole, CounterSnapshot>();
  for (const role of distinctRoles(sb)) byRole.set(role, await readCounters(sb.nsPid(role)));
  const linkDropped = await sumOver(sb, ['ip', '-s', '-j', 'link', 'show'], (l) => ((l as LinkRow).stats64?.rx?.dropped ?? 0) + ((l as LinkRow).stats64?.tx?.dropped ?? 0));
  const qdiscDropped = await sumOver(sb, ['tc', '-s', '-j', 'qdisc', 'show'], (q) => (typeof q.drops === 'number' ? q.drops : 0));
  return { byRole, linkDropped, qdiscDropped };
}

const KEEP = /^(Udp6?|UdpLite6?|Ip6?|Icmp6?|IcmpMsg)\./;

/** Counter deltas of `role`'s namespace (the UDP, IP and ICMP ones). */
export function roleDelta(before: KernelSnapshot, after: KernelSnapshot, sb: Sandbox, role: HostRole): Record<string, number> {
  const ns = sb.host(role).netns;
  const owner = [...before.byRole.keys()].find((r) => sb.host(r).netns === ns);
  const b = owner ? before.byRole.get(owner) : undefined;
  const a = owner ? after.byRole.get(owner) : undefined;
  if (!a || !b) return {};
  const d = counterDelta(b, a);
  const out: Record<string, number> = {};
  for (const k of Object.keys(d).sort()) if (KEEP.test(k)) out[k] = d[k]!;
  return out;
}

async function readNumber(path: string): Promise<number | null> {
  try {
    const v = Number((await readFile(path, 'utf8')).trim());
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** net.core.rmem_max / rmem_default: the host's values (read-only copies inside a namespace). */
export async function rmemLimits(): Promise<{ max: number | null; dflt: number | null }> {
  const [max, dflt] = await Promise.all([readNumber('/proc/sys/net/core/rmem_max'), readNumber('/proc/sys/net/core/rmem_default')]);
  return { max, dflt };
}

/** Fragment queues still waiting for reassembly in `role`'s namespace (IPv4 + IPv6). */
async function pendingFragQueues(sb: Sandbox, role: HostRole): Promise<number> {
  const pid = sb.nsPid(role);
  const [v4, v6] = await Promise.all([
    readFile(`/proc/${pid}/net/sockstat`, 'utf8').catch(() => ''),
    readFile(`/proc/${pid}/net/sockstat6`, 'utf8').catch(() => ''),
  ]);
  const m4 = /FRAG: inuse (\d+)/.exec(v4);
  const m6 = /FRAG6: inuse (\d+)/.exec(v6);
  return Number(m4?.[1] ?? 0) + Number(m6?.[1] ?? 0);
}

/** Wait until no reassembly queue is pending (they expire after ipfrag_time), at most `maxMs`. */
export async function waitReassemblyIdle(sb: Sandbox, role: HostRole, maxMs: number): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    if ((await pendingFragQueues(sb, role)) === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
