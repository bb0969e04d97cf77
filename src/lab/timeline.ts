/**
 * The packet timeline joined with the socket timeline: for each captured segment, what the kernel
 * showed for each endpoint's socket in /proc/net/tcp at (or just before) that moment. So a report can
 * say "#7 at 0.045 s the server ACKed the FIN; its socket was already in CLOSE_WAIT".
 */
import type { Analysis } from '../analyze/model.js';
import { sampleAt, socketStateAt } from '../observe/index.js';
import type { Observation, SocketEntry } from '../observe/types.js';

export interface TimelineRow {
  connection: number;
  packet: number;
  time: number; // seconds since the capture's first packet
  from: 'client' | 'server';
  meaning: string;
  client: string | null; // "ESTABLISHED", "TIME_WAIT (time-wait timer, 59.9 s left)", null when not sampled
  server: string | null;
  sampleAgeMs: number | null; // how old the joined sample was at the packet's time
}

function show(e: SocketEntry | null): string | null {
  if (!e) return null;
  if (e.timer === 'none' || e.timerRemainingMs <= 0) return e.state;
  const left = e.timerRemainingMs >= 10_000 ? `${(e.timerRemainingMs / 1000).toFixed(1)} s` : `${e.timerRemainingMs} ms`;
  return `${e.state} (${e.timer} timer, ${left} left)`;
}

/** Rows for every kept segment of every connection, plus one row after the last packet (state at the end). */
export function joinTimeline(a: Analysis, obs: Observation): TimelineRow[] {
  const rows: TimelineRow[] = [];
  const any = (family: 4 | 6): string => (family === 6 ? '[::]:0' : '0.0.0.0:0');
  for (const c of a.tcp) {
    for (const s of c.segments) {
      const sample = sampleAt(obs, s.absTime);
      // The server side before its connection socket exists is its listening socket.
      const server = socketStateAt(obs, s.absTime, c.server, c.client) ?? socketStateAt(obs, s.absTime, c.server, any(c.family));
      rows.push({
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
  return rows;
}
