/**
 * Turning one lab's raw bpftrace lines and in-kernel counters into its KernelEvents: parse, put on
 * the pcap's clock, fold runs of drops, name the drop reasons from the format file, and count what
 * was lost (every event the kernel emitted that no line carries). Lines are kept raw while the
 * lab runs and parsed here, at its stop.
 */
import { readFileSync, statSync } from 'node:fs';
import { EMITTED } from './bpftrace-script.js';
import { symbolize } from './kallsyms.js';
import { kernelToEpoch, type CalibrationPoint } from './kernel-clock.js';
import { applyRuns, dropLocations, openRuns, parseEventLine, parseRunLine, type DropRun } from './kernel-event-parse.js';
import { completeTuples } from './kernel-join.js';
import type { DropEvent, KernelEvent, KernelEvents } from './kernel-types.js';
import type { KernelEventsSupport } from './tracefs.js';
import { symbolName } from './tracepoint-format.js';

/** Inode numbers of network namespaces, in order, without repeats: a name is /run/netns/NAME, a path
 * (such as /proc/self/ns/net, the container's own namespace in container mode) is read as it is. */
export function namespaceInodes(names: string[]): { netns: string; inode: number }[] {
  const seen = new Set<string>();
  const out: { netns: string; inode: number }[] = [];
  for (const n of names) {
    if (seen.has(n)) continue;
    seen.add(n);
    out.push({ netns: n, inode: statSync(n.startsWith('/') ? n : `/run/netns/${n}`).ino });
  }
  return out;
}

export interface AssembleInput {
  support: KernelEventsSupport;
  /** the lab's event lines (kind, time, registration number, ...) */
  lines: string[];
  /** bpftrace's @emitted, @drops and @run, only this lab's keys (first key: the registration number) */
  maps: Record<string, Record<string, unknown>>;
  /** registration number -> namespace name */
  gens: Map<number, string>;
  namespaces: { netns: string; inode: number }[];
  startCal: CalibrationPoint;
  endCal: CalibrationPoint | null;
  /** bpftrace's own lost-event reports while the lab ran */
  lostReported: number;
  startMs: number;
  cpuMs: number | null;
}

export async function assembleKernelEvents(x: AssembleInput): Promise<KernelEvents> {
  const dropFormat = x.support.formats.get('skb/kfree_skb') ?? null;
  const resetFormat = x.support.formats.get('tcp/tcp_send_reset') ?? null;
  const netnsOf = (g: number): string => x.gens.get(g) ?? `registration ${g}`;
  const symbols = await symbolize(dropLocations(x.lines));
  const toEpoch = kernelToEpoch(x.startCal, x.endCal);
  const events: KernelEvent[] = [];
  for (const l of x.lines) {
    const ev = parseEventLine(l, { toEpoch, netnsOf, dropFormat, resetFormat, symbols });
    if (ev) events.push(ev);
  }
  events.sort((a, b) => a.time - b.time);
  completeTuples(events);
  const closedRuns = x.lines.map(parseRunLine).filter((r): r is DropRun => r !== null);
  const stillOpen = openRuns(x.maps);
  const runs = closedRuns.concat(stillOpen);
  applyRuns(events.filter((e): e is DropEvent => e.kind === 'drop'), runs, { toEpoch, netnsOf, dropFormat });
  const emitted: Record<string, number> = {};
  for (const [k, v] of Object.entries(x.maps['@emitted'] ?? {})) {
    const kind = EMITTED[Number(k.slice(k.indexOf(',') + 1))] ?? k;
    emitted[kind] = (emitted[kind] ?? 0) + Number(v);
  }
  const emittedTotal = Object.values(emitted).reduce((a, b) => a + b, 0);
  // @drops holds each run's first drop and, once a run ended, the rest; a run still open adds count - 1
  const drops = new Map<string, { g: number; reason: number; count: number }>();
  const add = (g: number, reason: number, n: number): void => {
    const d = drops.get(`${g},${reason}`);
    if (d) d.count += n;
    else drops.set(`${g},${reason}`, { g, reason, count: n });
  };
  for (const [k, v] of Object.entries(x.maps['@drops'] ?? {})) {
    const [g, reason] = k.split(',').map(Number) as [number, number];
    add(g, reason, Number(v));
  }
  for (const r of stillOpen) add(r.inode, r.reason, r.count - 1);
  const dropCounts = [...drops.values()].map((d) => ({ netns: netnsOf(d.g), reason: symbolName(dropFormat, 'reason', d.reason), count: d.count }));
  // every D line is an event, every U line a run folded into one: what is missing was lost
  const lost = Math.max(x.lostReported, emittedTotal - events.length - closedRuns.length);
  const driftUs = x.endCal ? Number(x.endCal.offsetNs - x.startCal.offsetNs) / 1000 : null;
  return {
    available: true, events, lost, emitted, dropCounts, namespaces: x.namespaces, startMs: x.startMs, cpuMs: x.cpuMs,
    clock: {
      method: 'fsync() marker seen by bpftrace, bracketed by CLOCK_MONOTONIC reads; CLOCK_MONOTONIC to CLOCK_REALTIME from a Date.now() millisecond edge',
      offsetS: Number(x.startCal.offsetNs) / 1e9,
      errorUs: Math.max(x.startCal.halfNs, x.endCal?.halfNs ?? 0) / 1000,
      driftUs,
    },
  };
}

/** CPU time (user + system) a process has used, ms; null when unreadable. */
export function cpuMsOf(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}
const CLK_TCK = 100; // USER_HZ

/** bpftrace's stderr without its harmless RLIMIT_MEMLOCK warning, first lines only. */
export function explainStderr(s: string): string {
  return s
    .split('\n')
    .filter((l) => l.trim() && !/RLIMIT_MEMLOCK|WARNING|^\s|~/.test(l))
    .slice(0, 3)
    .join(' / ');
}
