/**
 * Facts a lab reads instead of hunting packets, built on what the analysis found
 * (TcpConnection.steps, retransmissionList, resetList): per connection the handshake and close
 * steps by name (SYN, SYN-ACK, third segment, first FIN, its ACK, second FIN, last ACK), each with
 * its segment (packet number, times, seq/ack, flags, length, options); retransmission lists with
 * their times and intervals; resets with their cause. Needs the segments kept (lab runs keep them).
 */
import type { ResetEvent, SegmentRecord, Side, TcpConnection, TcpState, TcpStep } from '../analyze/model.js';
import { ACK, FIN, RST, SYN } from '../decode/packet.js';
import type { LabJudgeContext, Setup } from './types.js';

export interface Step {
  packet: number; // 1-based, as inspect prints it
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
  kind: 'retransmission' | 'fast-retransmission' | 'spurious-retransmission';
  interval: number; // seconds since the previous transmission of the same sequence number
  sinceFirst: number; // seconds since the first transmission
}

export interface Reset extends Step {
  cause: ResetEvent['cause'];
}

export interface HandshakeSteps {
  syn: Step | null;
  synAck: Step | null;
  /** The client's segment that acknowledged the SYN-ACK (a pure ACK, or data riding on it). */
  third: Step | null;
  synRetransmits: Retransmission[];
  synAckRetransmits: Retransmission[];
}

export interface CloseSteps {
  firstFin: Step | null;
  firstFinAck: Step | null; // a separate ACK of the first FIN (null when it rode on the second FIN)
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

export function connFacts(c: TcpConnection): ConnFacts {
  const byPacket = new Map<number, SegmentRecord>();
  for (const s of c.segments) byPacket.set(s.packet, s);
  const at = (st: TcpStep | null): Step | null => {
    const seg = st ? byPacket.get(st.packet) : undefined;
    return seg ? step(seg) : null;
  };
  // Intervals: each retransmission against the previous transmission of the same bytes (same side,
  // same seq, same SYN/FIN) in the capture.
  const retransmissions: Retransmission[] = [];
  for (const r of c.retransmissionList) {
    const seg = byPacket.get(r.packet);
    if (!seg) continue;
    const same = c.segments.filter((x) => x.from === seg.from && x.seq === seg.seq && (x.flags & (SYN | FIN)) === (seg.flags & (SYN | FIN)) && x.packet < seg.packet);
    const prev = same[same.length - 1];
    retransmissions.push({ ...step(seg), kind: r.kind, interval: prev ? seg.time - prev.time : NaN, sinceFirst: same[0] ? seg.time - same[0].time : NaN });
  }
  const steps = c.steps;
  const secondFin = at(steps.secondFin);
  const finAck = at(steps.firstFinAck);
  const folded = !!finAck && !!secondFin && finAck.packet === secondFin.packet;
  return {
    conn: c,
    handshake: {
      syn: at(steps.syn),
      synAck: at(steps.synAck),
      third: at(steps.ack),
      synRetransmits: retransmissions.filter((r) => r.from === 'client' && isSyn(r)),
      synAckRetransmits: retransmissions.filter((r) => r.from === 'server' && isSynAck(r)),
    },
    close: { firstFin: at(steps.firstFin), firstFinAck: folded ? null : finAck, secondFin, lastAck: at(steps.lastAck), folded },
    retransmissions,
    resets: c.resetList.flatMap((r) => {
      const seg = byPacket.get(r.packet);
      return seg ? [{ ...step(seg), cause: r.cause }] : [];
    }),
    segments: c.segments.map(step),
  };
}

/** The states a side went through, in order (the analysis computes it: TcpConnection.statePath). */
/**
 * The one TCP connection to the port the mark `label` recorded (its data.port), or null once the
 * setup expectation "exactly one ... was captured" has failed: the lab then returns null.
 */
export function theConnection(ctx: Pick<LabJudgeContext, 'mark' | 'connectionsTo'>, setup: Setup, label: string, to = 'the server'): TcpConnection | null {
  const conns = ctx.connectionsTo(Number(ctx.mark(label)?.data?.port));
  return setup.expect(`exactly one TCP connection to ${to} was captured`, conns.length === 1, conns.length, 1) ? conns[0]! : null;
}

export function stateTrail(c: TcpConnection, side: Side): TcpState[] {
  return c.statePath[side];
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
