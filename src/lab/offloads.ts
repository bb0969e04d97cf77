/**
 * Segmentation and receive offloads of a lab host's interface (ethtool -k / -K inside its
 * namespace). With TSO/GSO on, the sender's kernel hands the veth one "super-segment" of up to
 * 64 KB and a capture sees it whole; with GRO on, the receiver glues wire segments together before
 * the capture point. Labs about segment sizes switch them off so the capture shows what a wire
 * with this MTU would carry, and record what they found before and after.
 */
import { requireTool } from '../sandbox/index.js';
import type { HostRole } from '../sandbox/types.js';
import type { LabRunContext } from './types.js';

export type Offload = 'tso' | 'gso' | 'gro' | 'tx';

/** ethtool -k's names for the short ones -K takes. */
const LONG: Record<Offload, string> = {
  tso: 'tcp-segmentation-offload',
  gso: 'generic-segmentation-offload',
  gro: 'generic-receive-offload',
  tx: 'tx-checksumming',
};

/** "tcp-segmentation-offload: on" lines -> { tso: true, ... } (features not listed stay absent). */
export function parseOffloads(ethtoolK: string): Partial<Record<Offload, boolean>> {
  const out: Partial<Record<Offload, boolean>> = {};
  for (const [short, long] of Object.entries(LONG) as [Offload, string][]) {
    const m = new RegExp(`^${long}: (on|off)`, 'm').exec(ethtoolK);
    if (m) out[short] = m[1] === 'on';
  }
  return out;
}

export interface OffloadChange {
  role: HostRole;
  iface: string;
  before: Partial<Record<Offload, boolean>>;
  after: Partial<Record<Offload, boolean>>;
}

/**
 * Set offloads on each role's interface; returns what ethtool reported before and after.
 * Needs ethtool (NO_TOOL, exit 3, with the package to install, when it is missing).
 */
export async function setOffloads(ctx: LabRunContext, roles: HostRole[], want: Partial<Record<Offload, boolean>>): Promise<OffloadChange[]> {
  const ethtool = requireTool('ethtool');
  const out: OffloadChange[] = [];
  for (const role of roles) {
    const iface = ctx.sandbox.host(role).iface;
    const before = parseOffloads(await ctx.exec(role, [ethtool, '-k', iface]));
    const args = Object.entries(want).flatMap(([k, v]) => [k, v ? 'on' : 'off']);
    if (!args.length) {
      out.push({ role, iface, before, after: before }); // only read them
      continue;
    }
    await ctx.exec(role, [ethtool, '-K', iface, ...args]);
    out.push({ role, iface, before, after: parseOffloads(await ctx.exec(role, [ethtool, '-k', iface])) });
  }
  return out;
}
