/**
 * SegmentRecord: the copy of one segment kept for the text report and the ladder (only when
 * keepSegments is on; never on the counting hot path). Options become an OptionSummary with
 * SACK edges relative to the peer's base sequence number, as Wireshark shows them.
 */
import type { DecodedPacket } from '../decode/packet.js';
import { ACK, FIN, SYN } from '../decode/packet.js';
import type { OptionSummary, SegmentRecord } from './model.js';
import { markNames } from './tcp-marks.js';

export function optionSummary(p: DecodedPacket, sackBase: number): OptionSummary {
  const o = p.tcpOptions;
  const s: OptionSummary = {};
  if (o.mss >= 0) s.mss = o.mss;
  if (o.wscale >= 0) s.wscale = o.wscale;
  if (o.sackPermitted) s.sackPermitted = true;
  if (o.hasTimestamps) s.timestamps = [o.tsVal, o.tsEcr];
  if (o.sackCount > 0) {
    s.sack = [];
    for (let i = 0; i < o.sackCount; i++) s.sack.push([(o.sack[2 * i]! - sackBase) >>> 0, (o.sack[2 * i + 1]! - sackBase) >>> 0]);
  }
  if (o.tfoPresent) s.tfo = o.tfoCookieOffset >= 0 ? p.buf.subarray(o.tfoCookieOffset, o.tfoCookieOffset + o.tfoCookieLength).toString('hex') : '';
  if (o.unknownCount > 0) {
    s.unknown = [];
    for (let i = 0; i < o.unknownCount; i++) {
      const u = o.unknown[i]!;
      s.unknown.push({ kind: u.kind, hex: p.buf.subarray(u.offset, u.offset + u.length).toString('hex') });
    }
  }
  if (o.badOffset >= 0 && p.error !== null && p.error.layer === 'tcp-option') s.malformed = p.error.message;
  return s;
}

/** baseSide / basePeer: the relative-sequence bases of the sender and of its peer. */
export function buildSegmentRecord(baseSide: number, basePeer: number, side: 0 | 1, p: DecodedPacket, t: number, absTime: number, marks: number): SegmentRecord {
  return {
    packet: p.index,
    time: t,
    absTime,
    from: side === 0 ? 'client' : 'server',
    flags: p.tcpFlags,
    seq: p.seq,
    ack: p.ack,
    relSeq: (p.seq - baseSide) >>> 0,
    relAck: p.tcpFlags & ACK ? (p.ack - basePeer) >>> 0 : 0,
    len: p.payloadLength,
    window: p.window,
    options: optionSummary(p, basePeer),
    marks: markNames(marks),
    meaning: '',
    transitions: [],
  };
}

/**
 * When this segment carries data, a SYN or a FIN: the time the same sequence number was last
 * sent by this side (-1 when never), and remember this sending.
 */
export function previousSend(sentAt: [Map<number, number>, Map<number, number>] | null, side: 0 | 1, p: DecodedPacket, t: number): number {
  if (sentAt === null) return -1;
  if (p.payloadLength === 0 && (p.tcpFlags & (SYN | FIN)) === 0) return -1;
  const m = sentAt[side];
  const prev = m.get(p.seq);
  m.set(p.seq, t);
  return prev === undefined ? -1 : t - prev;
}
