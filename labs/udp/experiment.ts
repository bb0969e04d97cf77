/**
 * What the UDP labs share: one experiment = one ctx.udp (src/udp's engine in the lab's own
 * sandbox: its numbers go to report.json's labs[].udp and the HTML report's table; the judge reads
 * them back with ctx.udp(name)); and the checks every experiment must pass: its attribution
 * adds up (no unexplained loss) and, where the kernel's drop events are available, the datagrams
 * charged to the receive buffer are the ones the kernel freed at that socket's port (kfree_skb,
 * SOCKET_RCVBUFF). Each experiment writes its own pcap next to the run's (`<lab>-<name>.pcap`).
 */
import path from 'node:path';
import { check, type Check, type LabJudgeContext, type LabRunContext } from '../../src/lab/index.js';
import type { ParamSpecs } from '../../src/lab/params.js';
import { repoRoot } from '../../src/lab/paths.js';
import { formatPercent, type UdpParams, type UdpResult } from '../../src/udp/index.js';

/** The part of a UdpResult a lab judges (no bitmaps, no per-datagram data). */
export interface Exp {
  name: string;
  port: number;
  params: UdpParams;
  sender: UdpResult['sender'];
  receiver: UdpResult['receiver'];
  rcvbuf: UdpResult['rcvbuf'];
  attribution: UdpResult['attribution'];
  counters: UdpResult['counters'];
  capture: { file: string; packets: number; complete: boolean };
  durationMs: number;
}

type RunCtx = LabRunContext<ParamSpecs>;
type JudgeCtx = LabJudgeContext<ParamSpecs>;

/** Run one experiment in the lab's sandbox, on the lab's topology (no injected loss: the sandbox is shared by the lab's experiments). */
export async function experiment(ctx: RunCtx, name: string, p: Partial<UdpParams>): Promise<void> {
  await ctx.udp(name, { ...p, loss: 0 });
}

function exp(name: string, r: UdpResult): Exp {
  return {
    name,
    port: Number(r.receiver.address.slice(r.receiver.address.lastIndexOf(':') + 1)),
    params: r.params, sender: r.sender, receiver: r.receiver, rcvbuf: r.rcvbuf, attribution: r.attribution, counters: r.counters,
    capture: { file: path.relative(repoRoot, r.capture.file), packets: r.capture.packets, complete: r.capture.complete },
    durationMs: r.durationMs,
  };
}

/** The experiments of this run by name (ctx.udp), or null (and a failed setup expectation) when one is missing. */
export function experiments<N extends string>(ctx: JudgeCtx, setup: { expect(t: string, c: boolean, a?: unknown, e?: unknown): boolean }, names: readonly N[]): Record<N, Exp> | null {
  const ran = (n: N): UdpResult | null => {
    try {
      return ctx.udp(n);
    } catch {
      return null; // ctx.udp names the experiments that did run
    }
  };
  const results = names.map(ran);
  const missing = names.filter((_, i) => results[i] === null);
  if (!setup.expect(`every experiment ran (${names.join(', ')})`, missing.length === 0, missing.length ? `missing: ${missing.join(', ')}` : 'all', 'all')) return null;
  return Object.fromEntries(names.map((n, i) => [n, exp(n, results[i]!)])) as Record<N, Exp>;
}

export const cause = (e: Exp, id: string): number => e.attribution.causes.find((c) => c.cause === id)?.datagrams ?? 0;
export const lossText = (e: Exp): string => `${e.receiver.lost}/${e.params.count} (${e.receiver.lossText})`;

/** Kernel drop events (kfree_skb) of UDP datagrams to `port`, per reason; null when there are none to trust. */
export function kernelDropsAt(ctx: JudgeCtx, port: number): Record<string, number> | null {
  const k = ctx.kernelEvents;
  if (!k.available || k.lost > 0) return null;
  const suffix = `:${port}`;
  const out: Record<string, number> = {};
  for (const ev of k.events) {
    if (ev.kind !== 'drop' || ev.proto !== 'udp' || !ev.dst?.endsWith(suffix)) continue;
    out[ev.reason] = (out[ev.reason] ?? 0) + ev.count;
  }
  return out;
}

const reasonsText = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';

/** Why there is no kernel cross-check, or '' when there is one. */
function noKernel(ctx: JudgeCtx): string {
  const k = ctx.kernelEvents;
  if (!k.available) return `no kernel events (${k.missing}): the counters stand alone`;
  if (k.lost > 0) return `the kernel lost ${k.lost} events (perf buffer full): the counters stand alone`;
  return '';
}

/** Kernel drop reasons of a datagram that died in its socket's receive queue. */
const SOCKET_REASONS = new Set(['SOCKET_RCVBUFF', 'PROTO_MEM']);

/** Every experiment: the causes add up to the loss, and the kernel's drop events agree with the receive-buffer count. */
export function accountingChecks(ctx: JudgeCtx, exps: Exp[]): Check[] {
  const out: Check[] = [];
  for (const e of exps) {
    out.push(check.eq(`${e.name}: the causes add up to the ${e.attribution.lost} lost datagrams (unexplained)`, e.attribution.unexplained, 0));
    const k = kernelDropsAt(ctx, e.port);
    if (k) {
      const atSocket = Object.entries(k).reduce((s, [r, v]) => s + (SOCKET_REASONS.has(r) ? v : 0), 0);
      out.push(check.eq(`${e.name}: the kernel freed as many datagrams at port ${e.port} for a full socket (kfree_skb: ${reasonsText(k)}) as the attribution charges to the receive buffer`, atSocket, cause(e, 'receive-buffer')));
    }
  }
  return out;
}

/** One line per experiment for evidence: its loss and where it died (kernel reasons when available). */
export function accountingText(ctx: JudgeCtx, e: Exp): string {
  const causes = e.attribution.causes.filter((c) => c.datagrams > 0).map((c) => `${c.cause} ${c.datagrams}`).join(', ') || 'nothing lost';
  const k = kernelDropsAt(ctx, e.port);
  const kernel = k ? `; kfree_skb at port ${e.port}: ${reasonsText(k)}` : `; ${noKernel(ctx)}`;
  return `${e.name}: lost ${lossText(e)} [${causes}; unexplained ${e.attribution.unexplained}${kernel}]`;
}

export { formatPercent };
