/**
 * An ASCII ladder diagram of one connection: the client's column on the left, the server's on
 * the right, each segment an arrow slanting down from its sender to its receiver over two rows
 * and labelled with its flags, relative seq/ack and length; a side's new state is written beside
 * its column on the row where it changed (the sender's on the departure row, the receiver's on
 * the arrival row). Draws only what the SegmentRecords say.
 *
 *     0.000000      SYN_SENT |\__ [S] seq 0 __________             |
 *                            |                        \___________>| LISTEN, SYN_RCVD
 */
import type { SegmentRecord, TcpConnection } from '../analyze/model.js';
import { tcpFlagsText } from '../decode/describe.js';
import { ACK } from '../decode/packet.js';

const INNER = 56; // characters between the two columns
const STATE_W = 24;

function label(s: SegmentRecord): string {
  const ack = s.flags & ACK ? ` ack ${s.relAck}` : '';
  const len = s.len > 0 ? ` len ${s.len}` : '';
  const marks = s.marks.length > 0 ? ` (${s.marks.join(', ')})` : '';
  const text = `[${tcpFlagsText(s.flags)}] seq ${s.relSeq}${ack}${len}${marks}`;
  return text.length > INNER - 8 ? `${text.slice(0, INNER - 9)}…` : text;
}

function states(s: SegmentRecord, side: 'client' | 'server'): string {
  return s.transitions.filter((t) => t.side === side).map((t) => t.to).join(', ');
}

function row(time: string, left: string, inner: string, right: string): string {
  return `${time.padStart(11)} ${left.padStart(STATE_W)} |${inner.padEnd(INNER)}| ${right}`.trimEnd();
}

export function renderLadder(c: TcpConnection): string {
  const out: string[] = [];
  out.push(row('time (s)', `client ${c.client}`, '', `server ${c.server}`));
  out.push(row('', c.statePath.client[0]!, '', c.statePath.server[0]!));
  for (const s of c.segments) {
    const l = label(s);
    const t = s.time.toFixed(6);
    const cs = states(s, 'client');
    const ss = states(s, 'server');
    const half = Math.floor((INNER - 2) / 2);
    if (s.from === 'client') {
      // departure on the left, first row; arrival on the right, second row
      const top = `\\__ ${l} `.padEnd(half + 1, '_');
      const bottom = `${' '.repeat(top.length)}\\${'_'.repeat(Math.max(1, INNER - top.length - 2))}>`;
      out.push(row(t, cs, top, ''));
      out.push(row('', '', bottom, ss));
    } else {
      const top = ` ${l} __/`.padStart(half + 1, '_');
      const pad = INNER - top.length;
      out.push(row(t, '', `${' '.repeat(pad)}${top}`, ss));
      out.push(row('', cs, `<${'_'.repeat(Math.max(1, pad - 2))}/`, ''));
    }
  }
  return out.join('\n');
}
