/**
 * Plain words for one kept segment: what it does, the analysis marks, and the state transitions
 * it caused. "SYN: the client opens, ISN 3626544836; client -> SYN_SENT". Built only when
 * segments are kept (it allocates strings).
 */
import { FIN, SYN, RST, ACK } from '../decode/packet.js';
import type { SegmentRecord, TcpConnection, TcpState } from './model.js';
import {
  M_RETRANSMISSION, M_SPURIOUS, M_FAST_RETRANSMISSION, M_DUP_ACK, M_ZERO_WINDOW, M_ZERO_WINDOW_PROBE,
  M_WINDOW_UPDATE, M_OUT_OF_ORDER, M_LOST_SEGMENT, M_ACK_UNSEEN, M_KEEP_ALIVE, M_RST_UNREAD, M_RST_CLOSED_PORT,
} from './tcp-marks.js';

export interface SegmentContext {
  conn: TcpConnection;
  side: 0 | 1;
  rec: SegmentRecord;
  before: [TcpState, TcpState]; // states before this segment
  marks: number;
  resentAfter: number; // seconds since the same sequence number was last sent, -1 when new
  completesHandshake: boolean;
}

const NAME = ['client', 'server'] as const;

export function seconds(s: number): string {
  if (s < 0.001) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
  return `${s.toFixed(2)} s`;
}

export function describeSegment(x: SegmentContext): string {
  const { rec, conn, side, marks } = x;
  const me = NAME[side];
  const peer = NAME[1 - side]!;
  const f = rec.flags;
  const parts: string[] = [];
  const after = x.resentAfter >= 0 ? ` after ${seconds(x.resentAfter)}` : '';

  if (f & RST) {
    if (marks & M_RST_CLOSED_PORT) parts.push(`RST: nothing listens on ${conn.server}: the ${peer}'s SYN is refused`);
    else if (marks & M_RST_UNREAD) parts.push(`RST: the ${me} aborts the connection although the ${peer} had sent it data (Linux does this when close() finds unread data, or on SO_LINGER 0)`);
    else parts.push(`RST: the ${me} resets the connection`);
  } else if ((f & (SYN | ACK)) === SYN) {
    if (x.resentAfter >= 0) parts.push(`SYN retransmitted${after}: no SYN-ACK came back`);
    else parts.push(`SYN: the ${me} opens, ISN ${rec.seq}${rec.len > 0 ? `, with ${rec.len} bytes of data (TCP Fast Open)` : ''}`);
  } else if (f & SYN) {
    if (x.resentAfter >= 0) parts.push(`SYN-ACK retransmitted${after}: the handshake's last ACK did not arrive`);
    else parts.push(`SYN-ACK: the ${me} accepts, ISN ${rec.seq}, acknowledging the ${peer}'s SYN (ack ${rec.ack})`);
  } else if (x.completesHandshake) {
    const rtt = conn.handshake.rttMs;
    parts.push(`ACK of the SYN-ACK: handshake complete${rtt !== null ? ` (RTT ${rtt.toFixed(2)} ms)` : ''}${rec.len > 0 ? `, carrying ${rec.len} bytes of data` : ''}`);
  } else if (f & FIN) {
    const peerFin = x.before[1 - side] === 'FIN_WAIT_1' || x.before[1 - side] === 'FIN_WAIT_2' || x.before[1 - side] === 'CLOSING';
    if (x.resentAfter >= 0) parts.push(`FIN retransmitted${after}`);
    else if (!peerFin) parts.push(`FIN: the ${me} closes first${rec.len > 0 ? ` (with ${rec.len} bytes of data)` : ''}`);
    else if (x.before[side] === 'CLOSE_WAIT') parts.push(`FIN: the ${me} closes too`);
    else if (rec.transitions.some((t) => t.side === me && t.to === 'LAST_ACK')) parts.push(`FIN+ACK: the ${me} acknowledges the ${peer}'s FIN and closes in the same segment (three-way close)`);
    else parts.push(`FIN: the ${me} closes before receiving the ${peer}'s FIN (simultaneous close)`);
  } else if (rec.len > 0) {
    parts.push(`${rec.len} bytes of data from the ${me}`);
  } else if (rec.transitions.some((t) => t.to === 'TIME_WAIT' && t.side === me)) {
    parts.push(`last ACK: the ${me} acknowledges the ${peer}'s FIN`);
  } else if (rec.transitions.some((t) => t.side === peer && t.to === 'FIN_WAIT_2') || rec.transitions.some((t) => t.to === 'CLOSE_WAIT' && t.side === me)) {
    // The peer's FIN acknowledged: the peer goes FIN_WAIT_2 (our CLOSE_WAIT is dated at its FIN).
    parts.push(`ACK of the ${peer}'s FIN`);
  } else {
    parts.push(`ACK up to ${rec.relAck}`);
  }

  if (marks & M_FAST_RETRANSMISSION) parts.push(`fast retransmission${after} (the ${peer} sent duplicate ACKs)`);
  else if (marks & M_SPURIOUS) parts.push(`spurious retransmission${after}: the ${peer} had already acknowledged this data`);
  else if (marks & M_RETRANSMISSION && !(f & SYN) && !(f & FIN && x.resentAfter >= 0)) parts.push(`retransmission${after}`);
  if (marks & M_DUP_ACK) parts.push(`duplicate ACK: the ${me} still waits for ${rec.relAck}`);
  if (marks & M_ZERO_WINDOW) parts.push(`zero window: the ${me}'s receive buffer is full`);
  if (marks & M_ZERO_WINDOW_PROBE) parts.push(`zero-window probe: the ${me} tests whether the ${peer}'s window opened`);
  if (marks & M_WINDOW_UPDATE) parts.push(`window update: the ${me} has room again`);
  if (marks & M_OUT_OF_ORDER) parts.push('out of order');
  if (marks & M_LOST_SEGMENT) parts.push('a previous segment was not captured');
  if (marks & M_ACK_UNSEEN) parts.push('acknowledges a segment the capture did not see');
  if (marks & M_KEEP_ALIVE) parts.push('keep-alive');

  const tr = transitionsText(rec);
  if (tr !== '') parts.push(tr);
  return parts.join('; ');
}

/** "client -> ESTABLISHED, server -> CLOSE_WAIT -> LAST_ACK" */
export function transitionsText(rec: SegmentRecord): string {
  const bySide: string[] = [];
  let cur = '';
  let curSide = '';
  for (const t of rec.transitions) {
    if (t.side !== curSide) {
      if (cur !== '') bySide.push(cur);
      cur = `${t.side} -> ${t.to}`;
      curSide = t.side;
    } else cur += ` -> ${t.to}`;
  }
  if (cur !== '') bySide.push(cur);
  return bySide.join(', ');
}
