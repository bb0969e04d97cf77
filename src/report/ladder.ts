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

/** How the ladder is laid out and coloured: wide and plain unless the terminal says otherwise. */
export interface LadderStyle {
  /** Columns available (a terminal's width); the default layout is 120 wide. */
  width?: number;
  /** ANSI colour: only on a TTY, never with NO_COLOR set (https://no-color.org) or TERM=dumb. */
  color?: boolean;
}

/** The style for a stream: its width and colour when it is a terminal, the plain default otherwise. */
export function ladderStyleFor(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv): LadderStyle {
  if (!stream.isTTY) return {};
  const noColor = (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.TERM === 'dumb';
  return { ...(stream.columns ? { width: stream.columns } : {}), color: !noColor };
}

interface Layout { inner: number; stateW: number }

function layout(style: LadderStyle): Layout {
  const w = style.width;
  if (w === undefined || w >= 124) return { inner: 56, stateW: 24 };
  const stateW = w < 100 ? 16 : 24;
  // time (11) + space + states + ' |' + inner + '| ' + the server's states (about 17)
  return { inner: Math.max(24, Math.min(56, w - 11 - 1 - stateW - 4 - 17)), stateW };
}

const SGR = { client: '\x1b[34m', server: '\x1b[35m', retx: '\x1b[33m', state: '\x1b[1m', off: '\x1b[0m' };
const RETX = new Set(['retransmission', 'fast-retransmission', 'spurious-retransmission']);

function paint(on: boolean, code: string, text: string): string {
  return on && code !== '' && text.trim() !== '' ? `${code}${text}${SGR.off}` : text;
}

function label(s: SegmentRecord, INNER: number): string {
  const ack = s.flags & ACK ? ` ack ${s.relAck}` : '';
  const len = s.len > 0 ? ` len ${s.len}` : '';
  const marks = s.marks.length > 0 ? ` (${s.marks.join(', ')})` : '';
  const text = `[${tcpFlagsText(s.flags)}] seq ${s.relSeq}${ack}${len}${marks}`;
  return text.length > INNER - 8 ? `${text.slice(0, INNER - 9)}…` : text;
}

function states(s: SegmentRecord, side: 'client' | 'server'): string {
  return s.transitions.filter((t) => t.side === side).map((t) => t.to).join(', ');
}

export function renderLadder(c: TcpConnection, style: LadderStyle = {}): string {
  const { inner: INNER, stateW: STATE_W } = layout(style);
  const color = style.color === true;
  // Padding is done on plain text; colour wraps the padded pieces.
  let tint = '';
  const row = (time: string, left: string, inner: string, right: string): string => {
    const l = style.width !== undefined && left.length > STATE_W ? `${left.slice(0, STATE_W - 1)}…` : left;
    const line = `${time.padStart(11)} ${paint(color, SGR.state, l.padStart(STATE_W))} |${paint(color, tint, inner.padEnd(INNER))}| ${paint(color, SGR.state, right)}`;
    return color ? line.replace(/\s+$/, '') : line.trimEnd();
  };
  const out: string[] = [];
  out.push(row('time (s)', `client ${c.client}`, '', `server ${c.server}`));
  out.push(row('', c.statePath.client[0]!, '', c.statePath.server[0]!));
  for (const s of c.segments) {
    tint = s.marks.some((m) => RETX.has(m)) ? SGR.retx : s.from === 'client' ? SGR.client : SGR.server;
    const l = label(s, INNER);
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
