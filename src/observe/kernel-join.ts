/**
 * Kernel events beside packets and /proc samples: which side of a connection an event belongs to,
 * the packet it came after, one line of text per event, and the questions labs ask of them
 * ("which states did the client's socket pass through", "which datagrams died, and why").
 */
import { canonicalEndpoint, socketStateAt } from './join.js';
import type { DropEvent, KernelEvent, KernelEventsAvailable, StateEvent } from './kernel-types.js';
import type { Observation } from './types.js';

const portOf = (ep: string): number => Number(ep.slice(ep.lastIndexOf(':') + 1));
const addrOf = (ep: string): string => ep.slice(0, ep.lastIndexOf(':'));

/**
 * A connecting socket enters SYN_SENT before its port is chosen (the event says port 0): give such
 * events the port the same socket shows in its next event. Events must be sorted by time.
 */
export function completeTuples(events: KernelEvent[]): void {
  const later = new Map<string, string>(); // socket -> local endpoint of its next event
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (!('socket' in e) || !e.socket) continue;
    const next = later.get(e.socket);
    if (portOf(e.local) === 0 && next && addrOf(next) === addrOf(e.local)) e.local = next;
    later.set(e.socket, e.local);
    if (e.kind === 'state' && e.from === 'CLOSE') later.delete(e.socket); // the socket was born here
  }
}

/** The endpoints a kernel event is about: [local, remote] for socket events, [src, dst] for drops. */
function endpoints(e: KernelEvent): [string | null, string | null] {
  return e.kind === 'drop' ? [e.src, e.dst] : [e.local, e.remote];
}

export interface ConnectionEnds {
  client: string;
  server: string;
}

/**
 * 'client' or 'server' when the event is about this connection (a drop: the side it was sent to),
 * 'listener' for the server's listening socket, null otherwise.
 */
export function sideOf(e: KernelEvent, c: ConnectionEnds): 'client' | 'server' | 'listener' | null {
  const [a, b] = endpoints(e);
  if (!a || !b) return null;
  const client = canonicalEndpoint(c.client);
  const server = canonicalEndpoint(c.server);
  if (e.kind === 'drop') {
    if (a === client && b === server) return 'server';
    if (a === server && b === client) return 'client';
    return null;
  }
  if (a === client && b === server) return 'client';
  if (a === server && b === client) return 'server';
  if (a === server && portOf(b) === 0) return 'listener';
  return null;
}

/** The state changes of the socket local <-> remote (remote omitted: any), in order. */
export function stateChanges(k: KernelEventsAvailable, local: string, remote?: string): StateEvent[] {
  const l = canonicalEndpoint(local);
  const r = remote === undefined ? null : canonicalEndpoint(remote);
  return k.events.filter((e): e is StateEvent => e.kind === 'state' && e.local === l && (r === null || e.remote === r));
}

/** Every state the socket entered, as kernel names: ["SYN_SENT", "ESTABLISHED", "FIN_WAIT1", ...]. */
export function statePath(k: KernelEventsAvailable, local: string, remote?: string): string[] {
  return stateChanges(k, local, remote).map((e) => e.to);
}

/** Dropped packets, optionally only those sent to `dst` and/or with `reason`. */
export function drops(k: KernelEventsAvailable, opts: { dst?: string; reason?: string } = {}): DropEvent[] {
  const dst = opts.dst === undefined ? null : canonicalEndpoint(opts.dst);
  return k.events.filter((e): e is DropEvent => e.kind === 'drop' && (dst === null || e.dst === dst) && (opts.reason === undefined || e.reason === opts.reason));
}

/** The datagram number a lab wrote into the first `bytes` payload bytes (big-endian), or null. */
export function datagramNumber(d: DropEvent, bytes: 1 | 2 | 4 = 4): number | null {
  if (!d.firstBytes || d.firstBytes.length < bytes * 2) return null;
  return parseInt(d.firstBytes.slice(0, bytes * 2), 16);
}

/** Every datagram number a drop event stands for (a run: first..last); [] when not numbered. */
export function datagramNumbers(d: DropEvent): number[] {
  const first = datagramNumber(d);
  if (first === null) return [];
  return Array.from({ length: d.count }, (_, i) => (first + i) >>> 0);
}

/** How many packets the drop events stand for (runs counted in full). */
export function dropTotal(ds: DropEvent[]): number {
  let n = 0;
  for (const d of ds) n += d.count;
  return n;
}

/** Drops per reason, from the events (the in-kernel counts are `dropCounts`). */
export function dropsByReason(k: KernelEventsAvailable): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of k.events) if (e.kind === 'drop') out[e.reason] = (out[e.reason] ?? 0) + e.count;
  return out;
}

/** What happened, in a few words, for a timeline line ("SYN_SENT (kernel: CLOSE -> SYN_SENT)"). */
export function describeKernelEvent(e: KernelEvent, obs?: Observation): string {
  switch (e.kind) {
    case 'state': {
      let s = `${e.to} (kernel: ${e.from} -> ${e.to})`;
      if (e.to === 'CLOSE' && (e.from === 'FIN_WAIT2' || e.from === 'CLOSING')) {
        // The active closer's full socket closes; its TIME_WAIT is a separate timewait socket.
        const tw = obs ? laterTimeWait(obs, e) : null;
        s += `; TIME_WAIT continues in a timewait socket${tw ? ` (/proc: ${tw})` : ', which /proc shows and these events do not'}`;
      }
      return s;
    }
    case 'retransmit':
      return `retransmitted ${e.seq === null ? 'a segment' : `seq ${e.seq}`} in ${e.state} (kernel)${e.err ? `, transmit failed ${e.err}` : ''}`;
    case 'synack-retransmit':
      return `retransmitted its SYN-ACK to ${e.remote} (kernel)`;
    case 'reset-sent':
      return `sent RST to ${e.remote}${e.reason ? ` (kernel: ${e.reason})` : ' (kernel)'}${e.socket ? '' : ', no socket wanted the segment'}`;
    case 'reset-received':
      return `received RST from ${e.remote} (kernel)`;
    case 'drop': {
      const what = e.proto === 'udp' && e.count > 1 ? `${e.count} UDP datagrams ${e.src} -> ${e.dst} numbered ${datagramNumber(e)}..${e.lastNumber}` : e.proto === 'udp' ? `UDP datagram ${e.src} -> ${e.dst}${e.firstBytes ? ` starting ${e.firstBytes}` : ''}` : e.proto === 'tcp' ? `TCP segment ${e.src} -> ${e.dst} seq ${e.seq}` : e.proto ? `${e.proto} packet ${e.src} -> ${e.dst}` : `non-IP packet (ethertype 0x${e.ethertype.toString(16)})`;
      return `dropped ${what}: ${e.reason} in ${e.location} (kernel)`;
    }
  }
}

function laterTimeWait(obs: Observation, e: StateEvent): string | null {
  const last = obs.samples[obs.samples.length - 1];
  if (!last) return null;
  for (const t of [e.time + 0.05, last.time]) {
    const s = socketStateAt(obs, t, e.local, e.remote);
    if (s?.state === 'TIME_WAIT') return s.timer === 'time-wait' ? `TIME_WAIT, ${(s.timerRemainingMs / 1000).toFixed(1)} s left` : 'TIME_WAIT';
  }
  return null;
}
