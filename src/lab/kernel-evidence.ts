/**
 * Kernel events as a lab's evidence: the state change the kernel itself reported for a socket
 * (tracepoint sock:inet_sock_set_state), placed between the packets around it on the pcap's
 * clock, with the clock's measured error as the tolerance. When there are no kernel events the
 * helpers say which evidence is missing and why, so a lab falls back to the packet analysis and
 * says so instead of failing.
 */
import { canonicalEndpoint } from '../observe/join.js';
import type { KernelEvents, StateEvent } from '../observe/kernel-types.js';

export interface KernelStateSeen {
  /** the event, or null when the kernel reported no such change for that socket */
  event: StateEvent | null;
  /** its time minus `ref` in µs (one decimal), for evidence text; null without the event */
  us: number | null;
  /** it fell in [after - tol, before + tol] (a bound left out is open) */
  inWindow: boolean;
}

/** Why kernel events are not available in this run (null: they are). */
export function kernelMissing(k: KernelEvents): string | null {
  return k.available ? null : `${k.missing}${k.fix ? ` (fix: ${k.fix})` : ''}`;
}

/**
 * Tolerance for placing a kernel event between packets, in seconds: the measured clock error,
 * its drift over the run, and 2 µs for the pcap's microsecond timestamps and float rounding.
 */
export function kernelTolerance(k: KernelEvents): number {
  if (!k.available) return 0;
  return (k.clock.errorUs + Math.abs(k.clock.driftUs ?? 0)) / 1e6 + 2e-6;
}

/**
 * The first change of socket local <-> remote into `to` (and from `from`, when given), placed
 * in [after, before] (epoch seconds, either null: open) with the clock's tolerance; `ref` is the
 * time the evidence counts from (a packet's).
 */
export function kernelState(
  k: KernelEvents,
  sock: { local: string; remote: string },
  change: { to: string; from?: string },
  window: { after: number | null; before: number | null; ref: number },
): KernelStateSeen {
  if (!k.available) return { event: null, us: null, inWindow: false };
  const l = canonicalEndpoint(sock.local);
  const r = canonicalEndpoint(sock.remote);
  const e =
    k.events.find(
      (x): x is StateEvent => x.kind === 'state' && x.local === l && x.remote === r && x.to === change.to && (change.from === undefined || x.from === change.from),
    ) ?? null;
  if (!e) return { event: null, us: null, inWindow: false };
  const tol = kernelTolerance(k);
  const inWindow = (window.after === null || e.time >= window.after - tol) && (window.before === null || e.time <= window.before + tol);
  return { event: e, us: Math.round((e.time - window.ref) * 1e7) / 10, inWindow };
}

/** "+12.3 µs" / "-83.0 µs" */
export function signedUs(us: number): string {
  return `${us >= 0 ? '+' : ''}${us.toFixed(1)} µs`;
}
