/**
 * The ladder diagram of one TCP connection as inline SVG: the client's column on the left, the
 * server's on the right, one arrow per captured segment from its sender down to its receiver,
 * labelled with flags, relative seq/ack and length; each side's new state written beside its
 * column where it changed (the sender's at departure, the receiver's at arrival, as the analysis
 * dated them); retransmissions dashed and marked ↻; a packet a fault dropped stops half way at
 * a cross; TIME_WAIT a bar on the side that holds it, with the length the kernel's timer showed.
 * Hovering (or focusing) an arrow shows the segment's full decode, the line `inspect` prints.
 *
 * Time runs down. Vertical space grows with the logarithm of the gap between segments, so a burst
 * of microseconds stays readable beside a pause of seconds; long pauses are drawn as a break
 * with their length, and every arrow has its real time at the left.
 */
import type { SegmentRecord, Side, TcpConnection } from '../../analyze/model.js';
import { tcpFlagsText } from '../../decode/describe.js';
import { ACK } from '../../decode/packet.js';
import type { ObservedJson } from '../observed-json.js';
import { renderSegmentLine } from '../text.js';
import { dur, esc, secs } from './markup.js';

/** Where things go: the page shows the wide drawing, or on a phone the narrow one (style.ts). */
interface Geo { w: number; cx: number; sx: number; tx: number; narrow: boolean }
const WIDE: Geo = { w: 712, cx: 214, sx: 520, tx: 60, narrow: false };
const NARROW: Geo = { w: 430, cx: 134, sx: 320, tx: 52, narrow: true };
const TOP = 64; // first departure
const SLANT = 18; // arrival is this far below departure
const BREAK = 0.25; // gaps longer than this (s) are drawn as a break
const TW_BAR = 76;

const RETX = new Set(['retransmission', 'fast-retransmission', 'spurious-retransmission']);

/** Vertical space for a gap of dt seconds. */
function gap(dt: number): number {
  return Math.min(104, 24 + 14 * Math.log10(1 + Math.max(0, dt) / 0.0002));
}

function label(s: SegmentRecord): string {
  const ack = s.flags & ACK ? ` ack ${s.relAck}` : '';
  const len = s.len > 0 ? ` len ${s.len}` : '';
  return `[${tcpFlagsText(s.flags)}] seq ${s.relSeq}${ack}${len}`;
}

function statesAt(s: SegmentRecord, side: Side): string {
  return s.transitions.filter((t) => t.side === side).map((t) => t.to).join(' → ');
}

function head(x0: number, y0: number, x1: number, y1: number): string {
  const len = Math.hypot(x1 - x0, y1 - y0) || 1;
  const ux = (x1 - x0) / len;
  const uy = (y1 - y0) / len;
  const bx = x1 - 9 * ux;
  const by = y1 - 9 * uy;
  return `<polygon class="head" points="${x1.toFixed(1)},${y1.toFixed(1)} ${(bx - 4 * uy).toFixed(1)},${(by + 4 * ux).toFixed(1)} ${(bx + 4 * uy).toFixed(1)},${(by - 4 * ux).toFixed(1)}"/>`;
}

function stateText(g: Geo, side: Side, y: number, text: string): string {
  if (!text) return '';
  return side === 'client'
    ? `<text class="st" x="${g.cx - 6}" y="${y + 4}" text-anchor="end">${esc(text)}</text>`
    : `<text class="st" x="${g.sx + 6}" y="${y + 4}">${esc(text)}</text>`;
}

export interface LadderOptions {
  dropped: ReadonlySet<number>;
  observed: ObservedJson | null;
  maxSegments: number;
}

export function renderLadderSvg(c: TcpConnection, opts: LadderOptions): string {
  return drawLadder(c, opts, WIDE) + drawLadder(c, opts, NARROW);
}

function drawLadder(c: TcpConnection, opts: LadderOptions, g: Geo): string {
  const { cx: CX, sx: SX, w: W, tx: TX } = g;
  const segs = c.segments.slice(0, opts.maxSegments);
  const body: string[] = [];
  const left: string[] = []; // time column and breaks
  let y = TOP;
  let prev: number | null = null;
  const arrival = new Map<number, number>(); // packet -> y of its departure
  for (const s of segs) {
    if (prev !== null) {
      const dt = s.time - prev;
      if (dt > BREAK) {
        const mid = y + SLANT + 12;
        left.push(`<text class="brk" x="${TX}" y="${mid + 4}" text-anchor="end">+${esc(dur(dt))}</text>`);
        body.push(`<path class="brkline" d="M${CX - 6},${mid - 3} l12,6 M${SX - 6},${mid - 3} l12,6"/>`);
        y += 30;
      }
      y += gap(dt);
    }
    prev = s.time;
    const y1 = y + SLANT;
    arrival.set(s.packet, y);
    const fromClient = s.from === 'client';
    const x0 = fromClient ? CX : SX;
    const x1 = fromClient ? SX : CX;
    const retx = s.marks.some((m) => RETX.has(m));
    const dropped = opts.dropped.has(s.packet);
    const cls = `seg${retx ? ' retx' : ''}${dropped ? ' dropped' : ''}`;
    const xm = (x0 + x1) / 2;
    const ym = (y + y1) / 2;
    const other = s.marks.filter((m) => !RETX.has(m));
    const text = g.narrow ? `${retx ? '↻ ' : ''}${label(s)}` : `${retx ? '↻ ' : ''}${label(s)}${other.length ? ` (${other.join(', ')})` : ''}${dropped ? ' ✕ dropped' : ''}`;
    const line = dropped
      ? `<line x1="${x0}" y1="${y}" x2="${xm}" y2="${ym.toFixed(1)}"/><path class="cross" d="M${xm - 5},${ym - 5} l10,10 m0,-10 l-10,10"/>`
      : `<line x1="${x0}" y1="${y}" x2="${x1}" y2="${y1}"/>${head(x0, y, x1, y1)}`;
    body.push(
      `<g class="${cls}" tabindex="0" data-packet="${s.packet}" data-from="${s.from}"${retx ? ' data-retx="1"' : ''}${dropped ? ' data-dropped="1"' : ''}>` +
        `<title>#${s.packet} ${esc(renderSegmentLine(s).trim())}</title>${line}` +
        `<text class="lbl" x="${xm}" y="${(ym - 8).toFixed(1)}" text-anchor="middle">${esc(text)}</text></g>`,
    );
    left.push(`<text class="tm" x="${TX}" y="${y + 4}" text-anchor="end">${secs(s.time)}</text>`);
    const sender: Side = s.from;
    const receiver: Side = fromClient ? 'server' : 'client';
    body.push(stateText(g, sender, y, statesAt(s, sender)));
    body.push(stateText(g, receiver, y1, statesAt(s, receiver)));
  }
  body.push(kernelMarks(g, c, segs, arrival, opts.observed));
  y += SLANT + 20;
  const omitted = c.segments.length - segs.length;
  if (omitted > 0) {
    body.push(`<text class="note" x="${(CX + SX) / 2}" y="${y}" text-anchor="middle">… ${omitted} more segments not drawn (the pcap has them)</text>`);
    y += 20;
  }
  y = timeWaitBars(g, c, segs, arrival, opts.observed, body, y);
  const h = y + 8;
  const head0 = [
    `<text class="ep" x="${CX}" y="16" text-anchor="middle">client</text>`,
    `<text class="addr" x="${CX}" y="32" text-anchor="middle">${esc(c.client)}</text>`,
    `<text class="ep" x="${SX}" y="16" text-anchor="middle">server</text>`,
    `<text class="addr" x="${SX}" y="32" text-anchor="middle">${esc(c.server)}</text>`,
    `<text class="tm" x="${TX}" y="32" text-anchor="end">time (s)</text>`,
    stateText(g, 'client', 48, c.statePath.client[0] ?? ''),
    stateText(g, 'server', 48, c.statePath.server[0] ?? ''),
    `<line class="axis" x1="${CX}" y1="40" x2="${CX}" y2="${h - 4}"/>`,
    `<line class="axis" x1="${SX}" y1="40" x2="${SX}" y2="${h - 4}"/>`,
  ];
  return `<svg class="ladder ${g.narrow ? 'narrow' : 'wide'}" viewBox="0 0 ${W} ${h.toFixed(0)}" width="${W}" height="${h.toFixed(0)}" role="img" aria-label="Ladder diagram of TCP connection ${c.id}: ${c.segments.length} segments">` +
    `${head0.join('')}${left.join('')}${body.join('')}</svg>`;
}

/**
 * The kernel's own events for this connection (tracepoints, where the run had them): a mark on the
 * side's column at the event's time between the segments around it, the event's words on hover.
 */
function kernelMarks(g: Geo, c: TcpConnection, segs: SegmentRecord[], at: Map<number, number>, observed: ObservedJson | null): string {
  const events = observed?.kernel?.filter((k) => k.connection === c.id && (k.who === 'client' || k.who === 'server')) ?? [];
  if (!events.length || !segs.length) return '';
  const out: string[] = [];
  for (const k of events) {
    let i = 0;
    while (i + 1 < segs.length && segs[i + 1]!.time <= k.time) i++;
    const base = at.get(segs[i]!.packet)!;
    // Between two segments: as far down as its gap's share of the space (the same log scale).
    const y = k.time < segs[0]!.time
      ? base - 6
      : i + 1 < segs.length
        ? base + ((at.get(segs[i + 1]!.packet)! - base) * (gap(k.time - segs[i]!.time) - 24)) / Math.max(1, gap(segs[i + 1]!.time - segs[i]!.time) - 24 + 6)
        : base + SLANT + 6;
    const x = k.who === 'client' ? g.cx : g.sx;
    const shape = k.kind === 'state'
      ? `<path d="M${x},${(y - 5).toFixed(1)} l5,5 l-5,5 l-5,-5 z"/>`
      : `<circle cx="${x}" cy="${y.toFixed(1)}" r="3.5"/>`;
    out.push(`<g class="kev" data-kind="${esc(k.kind)}" data-side="${k.who}" tabindex="0"><title>kernel ${esc(k.who)} at ${secs(k.time)} s: ${esc(k.text)}</title>${shape}</g>`);
  }
  return out.join('');
}

/** TIME_WAIT bars under the segment that put a side into it. */
function timeWaitBars(g: Geo, c: TcpConnection, segs: SegmentRecord[], at: Map<number, number>, observed: ObservedJson | null, body: string[], yEnd: number): number {
  let bottom = yEnd;
  for (const side of ['client', 'server'] as const) {
    if (c.timeWait !== side && c.timeWait !== 'both') continue;
    const s = segs.find((x) => x.transitions.some((t) => t.side === side && t.to === 'TIME_WAIT'));
    if (!s) continue;
    const y0 = at.get(s.packet)! + (s.from === side ? 0 : SLANT);
    const x = side === 'client' ? g.cx : g.sx;
    const y1 = Math.max(y0 + TW_BAR, yEnd);
    const m = observed?.timeWait?.find((t) => t.connection === c.id && t.side === side) ?? null;
    const title = m ? `TIME_WAIT ${dur(m.lengthS)}` : 'TIME_WAIT';
    const words = m ? [`timer ${(m.timerLeftMs / 1000).toFixed(2)} s left`, `seen +${dur(m.seenAfterS)}`] : ['its end is not', 'in the capture'];
    const tx = side === 'client' ? x - 10 : x + 10;
    const anchor = side === 'client' ? 'end' : 'start';
    body.push(
      `<g class="tw" data-side="${side}"><rect x="${x - 4}" y="${y0}" width="8" height="${(y1 - y0).toFixed(1)}" rx="2"/>` +
        `<path class="brkline" d="M${x - 7},${y1 - 2} l14,-6 M${x - 7},${y1 + 4} l14,-6"/>` +
        `<text class="twl" x="${tx}" y="${y0 + 34}" text-anchor="${anchor}">${esc(title)}</text>` +
        words.map((w, i) => `<text class="twm" x="${tx}" y="${y0 + 48 + 13 * i}" text-anchor="${anchor}">${esc(w)}</text>`).join('') + '</g>',
    );
    bottom = Math.max(bottom, y1 + 12);
  }
  return bottom;
}
