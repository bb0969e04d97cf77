/**
 * The socket-state timeline of a lab: per connection and side, one lane of the states the
 * packets imply (the analysis' transitions) and one of the states the kernel showed in
 * /proc/net/tcp (the observer's samples, every 10 ms), on one linear time axis; then the kernel
 * counters that moved, the faults and what they dropped, and the kernel's own events where the
 * run had them. Draws the runner's and the analysis' data only.
 */
import type { TcpConnection } from '../../analyze/model.js';
import type { ObservedJson, SocketSpan } from '../observed-json.js';
import { esc, plural, secs } from './markup.js';

const W = 760;
const X0 = 104;
const X1 = W - 34;
const LANE = 18;

interface Bar { state: string; from: number; to: number; note: string }

function stateClass(s: string): string {
  return `st-${s.replace(/[^A-Z0-9_]/gi, '')}`;
}

function packetBars(c: TcpConnection, side: 'client' | 'server', end: number): Bar[] {
  const tr = c.states[side].filter((t) => !Number.isNaN(t.time));
  const bars: Bar[] = [];
  let state: string = c.statePath[side][0] ?? 'CLOSED';
  let from = c.firstTime;
  for (const t of tr) {
    if (t.time > from) bars.push({ state, from, to: t.time, note: '' });
    state = t.to;
    from = t.time;
  }
  bars.push({ state, from, to: Math.max(from, end), note: 'at the end of the capture' });
  return bars;
}

function procBars(spans: SocketSpan[]): Bar[] {
  return spans.map((s) => ({ state: s.state, from: s.from, to: s.to, note: s.timer !== 'none' ? `${s.timer} timer ${(s.timerLeftMs / 1000).toFixed(2)} s left when first seen` : '' }));
}

function lane(bars: Bar[], y: number, x: (t: number) => number, name: string, host?: string): string {
  const out = [`<text class="lane" x="${X0 - 8}" y="${y + 13}" text-anchor="end">${esc(name)}${host ? `<title>sampled in the ${esc(host)} namespace</title>` : ''}</text>`];
  for (const b of bars) {
    const a = x(b.from);
    const w = Math.max(2, x(b.to) - a);
    const tip = `${name}: ${b.state} from ${secs(b.from)} s to ${secs(b.to)} s${b.note ? ` (${b.note})` : ''}`;
    out.push(`<g class="bar ${stateClass(b.state)}"><title>${esc(tip)}</title><rect x="${a.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${LANE - 2}" rx="2"/>` +
      (w > b.state.length * 6.2 + 6 ? `<text x="${(a + 4).toFixed(1)}" y="${y + 12}">${esc(b.state)}</text>` : '') + '</g>');
  }
  return out.join('');
}

/**
 * One SVG of state lanes for the drawn connections of a lab. Each connection has its own time
 * axis (its first packet to the last thing seen of it), so a connection of a few milliseconds in a
 * run of seconds is still readable; the axis' ends are written under its lanes.
 */
export function renderStateTimeline(conns: TcpConnection[], observed: ObservedJson | null): string {
  if (conns.length === 0) return '';
  const parts: string[] = [];
  let y = 8;
  for (const c of conns) {
    const proc = observed?.sockets.filter((s) => s.connection === c.id) ?? [];
    let start = c.firstTime;
    let end = c.lastTime;
    for (const s of proc) for (const sp of s.spans) [start, end] = [Math.min(start, sp.from), Math.max(end, sp.to)];
    const span = end - start > 0 ? end - start : 1e-3;
    const x = (t: number): number => X0 + ((t - start) / span) * (X1 - X0);
    parts.push(`<text class="conn" x="4" y="${y + 12}">#${c.id} ${esc(c.client)} → ${esc(c.server)}</text>`);
    y += 18;
    const top = y;
    for (const side of ['client', 'server'] as const) {
      parts.push(lane(packetBars(c, side, c.lastTime), y, x, `${side} packets`));
      y += LANE;
      for (const p of proc.filter((s) => s.side === side)) {
        parts.push(lane(procBars(p.spans), y, x, `${side} /proc`, p.host));
        y += LANE;
      }
    }
    const decimals = Math.max(3, Math.min(6, Math.ceil(-Math.log10(span / 5)) + 1));
    for (const t of [start, start + span / 2, start + span]) {
      parts.push(`<line class="tick" x1="${x(t).toFixed(1)}" y1="${top - 2}" x2="${x(t).toFixed(1)}" y2="${y}"/>` +
        `<text class="tm" x="${x(t).toFixed(1)}" y="${y + 11}" text-anchor="middle">${t.toFixed(decimals)} s</text>`);
    }
    y += 20;
  }
  return `<svg class="states" viewBox="0 0 ${W} ${y}" width="${W}" height="${y}" role="img" aria-label="Socket state timeline">${parts.join('')}</svg>`;
}

/** Counters that moved, faults and their drops, kernel events. */
export function renderObservedTables(observed: ObservedJson | null, limit: number): string {
  if (!observed) return '';
  const out: string[] = [];
  for (const h of observed.counters) {
    const rows = Object.entries(h.delta).sort(([a], [b]) => a.localeCompare(b));
    out.push(`<h4>Kernel counters that moved (${esc(h.host)})</h4><div class="counters">` +
      rows.map(([k, v]) => `<span><code>${esc(k)}</code><b>${v > 0 ? '+' : ''}${v}</b></span>`).join('') + '</div>');
  }
  if (observed.faults.length) {
    const named = observed.dropped.length ? `; the packets dropped: ${observed.dropped.map((p) => `#${p}`).join(', ')} (drawn ✕ on the ladder)` : '';
    out.push(`<h4>Faults</h4><p>${observed.faults.map((f) => `<code>${esc(f.name)}</code> dropped ${plural(f.dropped, 'packet')}`).join('; ')}${esc(named)}</p>`);
    for (const u of observed.unnamedDrops) out.push(`<p class="note">${esc(u.fault)}: ${esc(plural(u.dropped, 'packet'))} dropped, not named on the ladder: ${esc(u.why)}</p>`);
  }
  if (observed.kernel) {
    const rows = observed.kernel.slice(0, limit);
    out.push(`<h4>Kernel events (tracepoints)</h4><table class="kevents"><thead><tr><th class="num">time (s)</th><th>who</th><th>event</th></tr></thead><tbody>` +
      rows.map((k) => `<tr><td class="num">${secs(k.time)}</td><td>${esc(k.who)}${k.connection !== null ? ` #${k.connection}` : ''}</td><td>${esc(k.text)}</td></tr>`).join('') + '</tbody></table>' +
      (observed.kernel.length > rows.length ? `<p class="note">${observed.kernel.length - rows.length} more kernel events not shown</p>` : ''));
  } else {
    out.push('<p class="note">No kernel events in this run: states are /proc/net/tcp samples every 10 ms.</p>');
  }
  return out.join('\n');
}
