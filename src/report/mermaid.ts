/**
 * A Mermaid sequence diagram of a TCP connection (`--mermaid` on inspect and run), for pasting
 * into notes and docs: one message per segment with its time, flags, relative seq/ack and length;
 * each side's new state as a note where the analysis dated it; retransmissions marked ↻ and drawn
 * dashed; a packet a fault dropped drawn with Mermaid's lost-message arrow (-x). Mermaid reads `;`
 * as a line break and `#` as the start of an entity, so neither appears in a label.
 */
import type { SegmentRecord, TcpConnection } from '../analyze/model.js';
import { tcpFlagsText } from '../decode/describe.js';
import { ACK } from '../decode/packet.js';

const RETX = new Set(['retransmission', 'fast-retransmission', 'spurious-retransmission']);

function clean(s: string): string {
  return s.replace(/[;#]/g, ' ').replace(/\s+/g, ' ').trim();
}

function label(s: SegmentRecord, dropped: boolean): string {
  const ack = s.flags & ACK ? ` ack ${s.relAck}` : '';
  const len = s.len > 0 ? ` len ${s.len}` : '';
  const retx = s.marks.some((m) => RETX.has(m));
  const other = s.marks.filter((m) => !RETX.has(m));
  return clean(`${retx ? '↻ ' : ''}${s.time.toFixed(6)} [${tcpFlagsText(s.flags)}] seq ${s.relSeq}${ack}${len}${other.length ? ` (${other.join(', ')})` : ''}${dropped ? ' dropped' : ''}`);
}

export interface MermaidOptions {
  dropped?: ReadonlySet<number>;
  maxSegments?: number;
}

export function renderMermaid(c: TcpConnection, opts: MermaidOptions = {}): string {
  const max = opts.maxSegments ?? 200;
  const dropped = opts.dropped ?? new Set<number>();
  const lines = [
    'sequenceDiagram',
    `  participant C as client ${clean(c.client)}`,
    `  participant S as server ${clean(c.server)}`,
    `  Note left of C: ${c.statePath.client[0] ?? 'CLOSED'}`,
    `  Note right of S: ${c.statePath.server[0] ?? 'CLOSED'}`,
  ];
  for (const s of c.segments.slice(0, max)) {
    const fromClient = s.from === 'client';
    const isDropped = dropped.has(s.packet);
    const retx = s.marks.some((m) => RETX.has(m));
    const arrow = isDropped ? '-x' : retx ? '-->>' : '->>';
    lines.push(`  ${fromClient ? 'C' : 'S'}${arrow}${fromClient ? 'S' : 'C'}: ${label(s, isDropped)}`);
    for (const side of [s.from, fromClient ? 'server' : 'client'] as const) {
      const to = s.transitions.filter((t) => t.side === side).map((t) => t.to);
      if (to.length) lines.push(`  Note ${side === 'client' ? 'left of C' : 'right of S'}: ${to.join(' → ')}`);
    }
  }
  if (c.segments.length > max) lines.push(`  Note over C,S: ${c.segments.length - max} more segments not drawn`);
  return lines.join('\n');
}

/** Several connections, each its own diagram under a comment line; past `limit` they are counted. */
export function renderMermaidAll(conns: TcpConnection[], title: string, limit: number, opts: MermaidOptions = {}): string {
  const out: string[] = [];
  for (const c of conns.slice(0, limit)) out.push(`%% ${clean(title)} TCP ${c.id}: ${clean(c.client)} -> ${clean(c.server)}\n${renderMermaid(c, opts)}`);
  if (conns.length > limit) out.push(`%% ${conns.length - limit} more TCP connections not drawn (--stream N draws one)`);
  if (!conns.length) out.push(`%% ${clean(title)}: no TCP connections`);
  return out.join('\n\n');
}
