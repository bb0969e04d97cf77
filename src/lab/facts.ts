/**
 * Facts a lab reads instead of hunting packets: per connection, the handshake and close steps by
 * name (SYN, SYN-ACK, third segment, first FIN, its ACK, second FIN, last ACK: packet number, time,
 * seq/ack), retransmission lists with their times and intervals, resets with their cause.
 * Derived from the analysis's segments (kept for lab runs).
 */
import type { SegmentMark, SegmentRecord, Side, TcpConnection, TcpState } from '../analyze/model.js';
import { ACK, FIN, RST, SYN } from '../decode/packet.js';

export interface Step {
  packet: number;
  time: number; // seconds since the capture's first packet
  absTime: number; // epoch seconds
  from: Side;
  seq: number;
  ack: number;
  relSeq: number;
  relAck: number;
  len: number;
  flags: number;
  window: number;
  seg: SegmentRecord;
}

export interface Retransmission extends Step {
  interval: number; // seconds since the previous transmission of the same sequence number
  sinceFirst: number; // seconds since the first transmission
}

export interface Reset extends Step {
  cause: 'closed-port' | 'unread-data' | 'abort' | 'unknown';
}

export interface HandshakeSteps {
  syn: Step | null;
  synAck: Step | null;
  /** The client's first segment after the first SYN-ACK (a pure ACK, or data riding on it). */
  third: Step | null;
  synRetransmits: Retransmission[];
  synAckRetransmits: Retransmission[];
}

export interface CloseSteps {
  firstFin: Step | null;
  firstFinAck: Step | null; // a separate ACK of the first FIN (null when folded into the second FIN)
  secondFin: Step | null;
  lastAck: Step | null;
  folded: boolean; // the second FIN carried the ACK of the first (a three-segment close)
}

export interface ConnFacts {
  conn: TcpConnection;
  handshake: HandshakeSteps;
  close: CloseSteps;
  retransmissions: Retransmission[];
  resets: Reset[];
  segments: Step[];
}

const has = (s: SegmentRecord, f: number): boolean => (s.flags & f) === f;
export const isSyn = (s: { flags: number }): boolean => (s.flags & (SYN | ACK)) === SYN;
export const isSynAck = (s: { flags: number }): boolean => (s.flags & (SYN | ACK)) === (SYN | ACK);
export const isFin = (s: { flags: number }): boolean => (s.flags & FIN) !== 0;
export const isRst = (s: { flags: number }): boolean => (s.flags & RST) !== 0;
export const isPureAck = (s: { flags: number; len: number }): boolean => (s.flags & (SYN | FIN | RST)) === 0 && (s.flags & ACK) !== 0 && s.len === 0;

export function step(s: SegmentRecord): Step {
  return {
    packet: s.packet, time: s.time, absTime: s.absTime, from: s.from, seq: s.seq, ack: s.ack, relSeq: s.relSeq,
    relAck: s.relAck, len: s.len, flags: s.flags, window: s.window, seg: s,
  };
}

const marked = (s: SegmentRecord, m: SegmentMark): boolean => s.marks.includes(m);

function retransmissionsOf(c: TcpConnection, pick: (s: SegmentRecord) => boolean): Retransmission[] {
  const out: Retransmission[] = [];
  const last = new Map<string, { first: number; prev: number }>();
  for (const s of c.segments) {
    if (!pick(s)) continue;
    const key = `${s.from} ${s.seq} ${s.flags & (SYN | FIN)}`;
    const seen = last.get(key);
    if (seen && (s.len > 0 || (s.flags & (SYN | FIN)) !== 0)) {
      out.push({ ...step(s), interval: s.time - seen.prev, sinceFirst: s.time - seen.first });
      seen.prev = s.time;
    } else if (!seen) last.set(key, { first: s.time, prev: s.time });
  }
  return out;
}

export function connFacts(c: TcpConnection): ConnFacts {
  const segs = c.segments;
  const find = (side: Side, pred: (s: SegmentRecord) => boolean, after = -1): SegmentRecord | undefined =>
    segs.find((s) => s.from === side && s.packet > after && pred(s));
  const syn = find('client', isSyn);
  const synAck = find('server', isSynAck);
  const third = synAck ? find('client', (s) => has(s, ACK) && !has(s, SYN), synAck.packet) : undefined;
  const firstFinSeg = segs.find(isFin);
  let close: CloseSteps = { firstFin: null, firstFinAck: null, secondFin: null, lastAck: null, folded: false };
  if (firstFinSeg) {
    const other: Side = firstFinSeg.from === 'client' ? 'server' : 'client';
    const u1 = (firstFinSeg.seq + firstFinSeg.len + 1) >>> 0;
    const secondFin = find(other, isFin, firstFinSeg.packet);
    const ackSeg = find(other, (s) => has(s, ACK) && !has(s, FIN) && s.ack === u1, firstFinSeg.packet);
    const firstFinAck = ackSeg && (!secondFin || ackSeg.packet < secondFin.packet) ? ackSeg : undefined;
    const w1 = secondFin ? (secondFin.seq + secondFin.len + 1) >>> 0 : -1;
    const lastAck = secondFin ? find(firstFinSeg.from, (s) => has(s, ACK) && s.ack === w1, secondFin.packet) : undefined;
    close = {
      firstFin: step(firstFinSeg),
      firstFinAck: firstFinAck ? step(firstFinAck) : null,
      secondFin: secondFin ? step(secondFin) : null,
      lastAck: lastAck ? step(lastAck) : null,
      folded: !firstFinAck && !!secondFin && secondFin.ack === u1,
    };
  }
  const resets: Reset[] = segs.filter(isRst).map((s) => ({
    ...step(s),
    cause: marked(s, 'rst-from-closed-port') ? 'closed-port' : marked(s, 'rst-after-close-with-unread-data') ? 'unread-data' : has(s, ACK) || s.len === 0 ? 'abort' : 'unknown',
  }));
  return {
    conn: c,
    handshake: {
      syn: syn ? step(syn) : null,
      synAck: synAck ? step(synAck) : null,
      third: third ? step(third) : null,
      synRetransmits: retransmissionsOf(c, (s) => s.from === 'client' && isSyn(s)),
      synAckRetransmits: retransmissionsOf(c, (s) => s.from === 'server' && isSynAck(s)),
    },
    close,
    retransmissions: retransmissionsOf(c, (s) => !isRst(s)),
    resets,
    segments: segs.map(step),
  };
}

/** The states a side went through, in order, starting with the first transition's `from`. */
export function stateTrail(c: TcpConnection, side: Side): TcpState[] {
  const t = c.states[side];
  return t.length ? [t[0]!.from, ...t.map((x) => x.to)] : [];
}

/** The packet that moved `side` into `state`, or null. */
export function enteredBy(c: TcpConnection, side: Side, state: TcpState): number | null {
  return c.states[side].find((t) => t.to === state)?.packet ?? null;
}

/** Milliseconds with 3 decimals below 10 ms, 1 above: how the labs print short durations. */
export function ms(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '?';
  const v = seconds * 1000;
  return `${v < 10 ? v.toFixed(3) : v.toFixed(1)} ms`;
}

export function secs(seconds: number | null | undefined, digits = 2): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '?';
  return `${seconds.toFixed(digits)} s`;
}
