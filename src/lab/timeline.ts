/**
 * The packet timeline joined with the socket timeline: for each captured segment, what the kernel
 * showed for each endpoint's socket in /proc/net/tcp at (or just before) that moment; and, where
 * the machine allows, the kernel's own events (state changes, retransmissions, resets, drops) as
 * rows between the packets. So a report can say "#7 at 0.045 s the server ACKed the FIN; its socket
 * was already in CLOSE_WAIT" and "0.000031 s server SYN_RECV (kernel) · after #3 ACK".
 */
import type { Analysis, SegmentRecord } from '../analyze/model.js';
import { describeKernelEvent, sampleAt, sideOf, socketStateAt } from '../observe/index.js';
import type { KernelEvent, KernelEvents, Observation, SocketEntry } from '../observe/index.js';

export interface PacketTimelineRow {
  kind: 'packet';
  connection: number;
  packet: number;
  time: number; // seconds since the capture's first packet
  from: 'client' | 'server';
  meaning: string;
  client: string | null; // "ESTABLISHED", "TIME_WAIT (time-wait timer, 59.9 s left)", null when not sampled
  server: string | null;
  sampleAgeMs: number | null; // how old the joined sample was at the packet's time
}

/** A kernel event, placed after the last packet captured at or before it. */
export interface KernelTimelineRow {
  kind: 'kernel';
  connection: number | null; // the TCP connection it belongs to, when one does
  time: number; // seconds since the capture's first packet (pcap clock)
  who: string; // 'client', 'server', 'listener', or the namespace
  text: string; // "SYN_RECV (kernel: LISTEN -> SYN_RECV)"
  after: { packet: number; meaning: string; gapUs: number } | null; // the packet just before, and how long before
  event: KernelEvent;
}

export type TimelineRow = PacketTimelineRow | KernelTimelineRow;

function show(e: SocketEntry | null): string | null {
  if (!e) return null;
  if (e.timer === 'none' || e.timerRemainingMs <= 0) return e.state;
  const left = e.timerRemainingMs >= 10_000 ? `${(e.timerRemainingMs / 1000).toFixed(1)} s` : `${e.timerRemainingMs} ms`;
  return `${e.state} (${e.timer} timer, ${left} left)`;
}

/**
 * Rows for every kept segment of every connection, and (with kernel events) one row per event,
 * all in time order.
 */
export function joinTimeline(a: Analysis, obs: Observation, kernel?: KernelEvents | null): TimelineRow[] {
  const rows: TimelineRow[] = [];
  const any = (family: 4 | 6): string => (family === 6 ? '[::]:0' : '0.0.0.0:0');
  for (const c of a.tcp) {
    for (const s of c.segments) {
      const sample = sampleAt(obs, s.absTime);
      // The server side before its connection socket exists is its listening socket.
      const server = socketStateAt(obs, s.absTime, c.server, c.client) ?? socketStateAt(obs, s.absTime, c.server, any(c.family));
      rows.push({
        kind: 'packet',
        connection: c.id,
        packet: s.packet,
        time: s.time,
        from: s.from,
        meaning: s.meaning,
        client: show(socketStateAt(obs, s.absTime, c.client, c.server)),
        server: show(server),
        sampleAgeMs: sample ? Math.round((s.absTime - sample.time) * 1000) : null,
      });
    }
  }
  if (kernel?.available && a.firstTime !== null) rows.push(...kernelRows(a, obs, kernel.events, a.firstTime));
  // Stable: a packet and an event at the same microsecond keep packet-first order.
  return rows.map((r, i) => [r, i] as const).sort((x, y) => x[0].time - y[0].time || x[1] - y[1]).map((x) => x[0]);
}

function kernelRows(a: Analysis, obs: Observation, events: KernelEvent[], origin: number): KernelTimelineRow[] {
  const segs: SegmentRecord[] = a.tcp.flatMap((c) => c.segments).sort((x, y) => x.absTime - y.absTime);
  const out: KernelTimelineRow[] = [];
  let si = -1;
  for (const e of events) {
    while (si + 1 < segs.length && segs[si + 1]!.absTime <= e.time) si++;
    const prev = si >= 0 ? segs[si]! : null;
    let who: string = e.netns;
    let connection: number | null = null;
    for (const c of a.tcp) {
      const side = sideOf(e, c);
      if (side) {
        who = side;
        connection = side === 'listener' ? null : c.id;
        if (side !== 'listener') break;
      }
    }
    out.push({
      kind: 'kernel', connection, time: e.time - origin, who, text: describeKernelEvent(e, obs), event: e,
      after: prev ? { packet: prev.packet, meaning: prev.meaning, gapUs: Math.round((e.time - prev.absTime) * 1e6) } : null,
    });
  }
  return out;
}
