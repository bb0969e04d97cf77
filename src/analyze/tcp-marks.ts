/**
 * Wireshark's tcp.analysis.* marks, per segment, with the semantics of tshark 4.0's
 * tcp_analyze_sequence_number() (epan/dissectors/packet-tcp.c), checked against tshark 4.0.17 on
 * synthetic traces (test/unit/analyze/tshark-diff.test.ts). The order of the tests matters and
 * follows Wireshark's: zero-window probe, zero window, lost segment, keep-alive, window update,
 * keep-alive ACK / zero-window-probe ACK (which end the forward checks), dup ACK; then ACK of an
 * unseen segment; then retransmission / fast retransmission / out-of-order / spurious.
 *
 * Facts measured on tshark 4.0.17: `tcp.analysis.retransmission` is also set on fast and spurious
 * retransmissions, so RETRANSMITTED (below) is what that field counts. A SYN or FIN resent with
 * the same sequence number is a retransmission like data.
 *
 * Ordering measured against tshark 4.0.17: spurious (all data already acked) is tested before
 * fast retransmission and out-of-order. "ACKed unseen segment" is reported once until the peer
 * sends again; tshark suppresses a few more repeats than that (1 packet in 25 random traces).
 *
 * No allocation: marks are a bit set; the per-direction state is a SEQ_FLOW block of doubles in a row.
 */
import { FIN, SYN, RST, ACK, type DecodedPacket } from '../decode/packet.js';
import type { SegmentMark } from './model.js';
import { num, rowLayout } from './row-layout.js';

export const M_RETRANSMISSION = 1 << 0;
export const M_SPURIOUS = 1 << 1;
export const M_FAST_RETRANSMISSION = 1 << 2;
export const M_DUP_ACK = 1 << 3;
export const M_ZERO_WINDOW = 1 << 4;
export const M_ZERO_WINDOW_PROBE = 1 << 5;
export const M_WINDOW_UPDATE = 1 << 6;
export const M_OUT_OF_ORDER = 1 << 7;
export const M_LOST_SEGMENT = 1 << 8;
export const M_ACK_UNSEEN = 1 << 9;
export const M_KEEP_ALIVE = 1 << 10;
export const M_RST_UNREAD = 1 << 11;
export const M_RST_CLOSED_PORT = 1 << 12;
// Wireshark-internal, not reported as marks:
export const M_KEEP_ALIVE_ACK = 1 << 14;
export const M_ZERO_WINDOW_PROBE_ACK = 1 << 15;

/** Marks that make tshark set tcp.analysis.retransmission. */
export const RETRANSMITTED = M_RETRANSMISSION | M_SPURIOUS | M_FAST_RETRANSMISSION;

const NAMES: [number, SegmentMark][] = [
  [M_RETRANSMISSION, 'retransmission'],
  [M_SPURIOUS, 'spurious-retransmission'],
  [M_FAST_RETRANSMISSION, 'fast-retransmission'],
  [M_DUP_ACK, 'dup-ack'],
  [M_ZERO_WINDOW, 'zero-window'],
  [M_ZERO_WINDOW_PROBE, 'zero-window-probe'],
  [M_WINDOW_UPDATE, 'window-update'],
  [M_OUT_OF_ORDER, 'out-of-order'],
  [M_LOST_SEGMENT, 'previous-segment-not-captured'],
  [M_ACK_UNSEEN, 'ack-of-unseen-segment'],
  [M_KEEP_ALIVE, 'keep-alive'],
  [M_RST_UNREAD, 'rst-after-close-with-unread-data'],
  [M_RST_CLOSED_PORT, 'rst-from-closed-port'],
];

/** The mark names of a bit set (for kept segments and reports; allocates). */
export function markNames(bits: number): SegmentMark[] {
  const out: SegmentMark[] = [];
  for (const [bit, name] of NAMES) if (bits & bit) out.push(name);
  return out;
}

/**
 * Wireshark's per-direction sequence analysis state (tcp_flow_t + tcp_analyze_seq_flow_info_t):
 * a block of doubles inside a connection's row (no object, no boxed number per connection).
 */
export const SEQ_FLOW = rowLayout({
  nextSeq: num(0), // 0 = unknown, as in Wireshark
  nextSeqTime: num(0),
  maxSeqToBeAcked: num(0),
  lastAck: num(0),
  lastAckTime: num(0),
  window: num(0xffffffff), // scaled; starts at 0xFFFFFFFF so nothing looks like a zero-window probe
  dupAckNum: num(0),
  unseenReported: num(0), // 1: an ACK of an unseen segment of this side was reported; it has not sent since
  lastSegmentFlags: num(0),
  winScale: num(-1), // -1 unknown (no SYN seen), -2 not applied, else the shift this side announced
});
export const {
  nextSeq: NEXTSEQ, nextSeqTime: NEXTSEQTIME, maxSeqToBeAcked: MAXSEQTOBEACKED, lastAck: LASTACK, lastAckTime: LASTACKTIME,
  window: WINDOW, dupAckNum: DUPACKNUM, unseenReported: UNSEEN_REPORTED, lastSegmentFlags: LASTSEGMENTFLAGS, winScale: WINSCALE,
} = SEQ_FLOW.at;

/** a < b in 32-bit sequence space. */
export function seqLT(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
export function seqGT(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}
export function seqLE(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}
export function seqGE(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/**
 * Analyzes segment p sent in direction fwd (the peer's state is rev) at time p.t (seconds),
 * updates both states as Wireshark does and returns the mark bits. fwd and rev are the offsets
 * of the two directions' SEQ_FLOW blocks in num; num[rttAt] is the connection's initial RTT in
 * seconds (0 unknown). `window` is the scaled window.
 */
export function analyzeSequence(num: Float64Array, fwd: number, rev: number, p: DecodedPacket, window: number, rttAt: number): number {
  const seq = p.seq;
  const ack = p.ack;
  const seglen = p.payloadLength;
  const flags = p.tcpFlags;
  const t = p.t;
  let marks = 0;
  const noSFR = (flags & (SYN | FIN | RST)) === 0;

  forward: {
    // ZERO WINDOW PROBE: 1 byte at the next expected sequence number while the peer's window is 0.
    if (seglen === 1 && seq === num[fwd + NEXTSEQ]! && num[rev + WINDOW]! === 0) {
      marks |= M_ZERO_WINDOW_PROBE;
      break forward;
    }
    // ZERO WINDOW
    if (window === 0 && noSFR) marks |= M_ZERO_WINDOW;
    // LOST SEGMENT: beyond the highest sequence number seen so far.
    if (num[fwd + NEXTSEQ]! !== 0 && seqGT(seq, num[fwd + NEXTSEQ]!) && (flags & RST) === 0) marks |= M_LOST_SEGMENT;
    // KEEP ALIVE: 0 or 1 byte one before the next expected sequence number.
    if (seglen <= 1 && seq === ((num[fwd + NEXTSEQ]! - 1) >>> 0) && noSFR) marks |= M_KEEP_ALIVE;
    // WINDOW UPDATE: no data, same seq/ack, new non-zero window.
    if (seglen === 0 && window !== 0 && window !== num[fwd + WINDOW]! && seq === num[fwd + NEXTSEQ]! && ack === num[fwd + LASTACK]! && noSFR) {
      marks |= M_WINDOW_UPDATE;
    }
    // KEEP ALIVE ACK
    if (
      seglen === 0 && window !== 0 && window === num[fwd + WINDOW]! && seq === num[fwd + NEXTSEQ]! && ack === num[fwd + LASTACK]! &&
      (num[rev + LASTSEGMENTFLAGS]! & M_KEEP_ALIVE) !== 0 && noSFR
    ) {
      marks |= M_KEEP_ALIVE_ACK;
      break forward;
    }
    // ZERO WINDOW PROBE ACK
    if (
      seglen === 0 && window === 0 && window === num[fwd + WINDOW]! && seq === num[fwd + NEXTSEQ]! &&
      ack === num[fwd + LASTACK]! &&
      (num[rev + LASTSEGMENTFLAGS]! & M_ZERO_WINDOW_PROBE) !== 0 && noSFR
    ) {
      marks |= M_ZERO_WINDOW_PROBE_ACK;
      break forward;
    }
    // DUPLICATE ACK: no data, same window, seq and ack as before.
    if (seglen === 0 && window !== 0 && window === num[fwd + WINDOW]! && seq === num[fwd + NEXTSEQ]! && ack === num[fwd + LASTACK]! && noSFR) {
      num[fwd + DUPACKNUM]++;
      marks |= M_DUP_ACK;
    }
  }

  // finished_fwd: a new ack number resets the dup-ack count.
  if (ack !== num[fwd + LASTACK]!) num[fwd + DUPACKNUM] = 0;

  // ACKED UNSEEN SEGMENT: acks beyond the highest continuous sequence number the peer was seen
  // to send. Reported once until the peer sends again (tshark 4.0.17 behaves so; its source does
  // it with a -1 dup-ack counter), and the boundary jumps to the peer's nextseq.
  if (num[rev + MAXSEQTOBEACKED]! !== 0 && seqGT(ack, num[rev + MAXSEQTOBEACKED]!) && (flags & ACK) !== 0) {
    if (num[rev + UNSEEN_REPORTED]! === 0) marks |= M_ACK_UNSEEN;
    num[rev + UNSEEN_REPORTED] = 1;
    num[rev + MAXSEQTOBEACKED] = num[rev + NEXTSEQ]!;
  }
  num[fwd + UNSEEN_REPORTED] = 0;

  // RETRANSMISSION / FAST RETRANSMISSION / OUT-OF-ORDER / SPURIOUS
  if (seglen > 0 || (flags & (SYN | FIN)) !== 0) {
    retrans: {
      if (marks & M_KEEP_ALIVE) break retrans;
      let notAdvanced = num[fwd + NEXTSEQ]! !== 0 && seqLT(seq, num[fwd + NEXTSEQ]!);
      // One byte before nextseq with more data: the previous segment was probably a window probe.
      if (seglen > 1 && ((num[fwd + NEXTSEQ]! - 1) >>> 0) === seq) notAdvanced = false;
      if (notAdvanced && num[rev + DUPACKNUM]! >= 2 && num[rev + LASTACK]! === seq && t - num[rev + LASTACKTIME]! < 0.02) {
        marks |= M_FAST_RETRANSMISSION;
        break retrans;
      }
      // Spurious (all of it already acknowledged) is checked before out-of-order.
      if (seglen > 0 && num[rev + LASTACK]! !== 0 && seqLE((seq + seglen) >>> 0, num[rev + LASTACK]!)) {
        marks |= M_SPURIOUS;
        break retrans;
      }
      const firstRtt = num[rttAt]!;
      const thres = firstRtt > 0 ? firstRtt : 0.003;
      // Wireshark compares whole nanoseconds: a gap EQUAL to the threshold is not out-of-order.
      // In float seconds the two may round apart (16 µs vs 16 µs read as 1.6000000000000001e-5).
      if (notAdvanced && Math.round((t - num[fwd + NEXTSEQTIME]!) * 1e9) < Math.round(thres * 1e9) && num[fwd + NEXTSEQ]! !== ((seq + seglen + (flags & (SYN | FIN) ? 1 : 0)) >>> 0)) {
        marks |= M_OUT_OF_ORDER;
        break retrans;
      }
      if (notAdvanced) marks |= M_RETRANSMISSION;
    }

  }

  // Highest sequence number seen (a hole shows as a lost segment), and the highest CONTINUOUS
  // one (what an ACK may cover without acking an unseen segment). Pure ACKs count too, without
  // the +1 of SYN/FIN. Zero-window probes do not advance either.
  let nextseq = (seq + seglen) >>> 0;
  if (flags & (SYN | FIN)) nextseq = (nextseq + 1) >>> 0;
  if ((marks & M_ZERO_WINDOW_PROBE) === 0) {
    if (num[fwd + NEXTSEQ]! === 0 || seqGT(nextseq, num[fwd + NEXTSEQ]!)) {
      num[fwd + NEXTSEQ] = nextseq;
      num[fwd + NEXTSEQTIME] = t;
    }
    if (num[fwd + MAXSEQTOBEACKED]! === 0 || seq === num[fwd + MAXSEQTOBEACKED]!) num[fwd + MAXSEQTOBEACKED] = num[fwd + NEXTSEQ]!;
  }

  num[fwd + WINDOW] = window;
  num[fwd + LASTACK] = ack;
  num[fwd + LASTACKTIME] = t;
  num[fwd + LASTSEGMENTFLAGS] = marks;
  return marks;
}
