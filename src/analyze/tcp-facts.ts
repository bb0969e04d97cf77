/**
 * The facts one segment adds to its connection's row, beside the sequence analysis and the state
 * machine: the handshake (ISNs, SYN and SYN-ACK retransmissions and times, completion, RTT,
 * options), the handshake and close steps, retransmission and RST lists, and the counts.
 * Numbers go to the row; lists to ConnRare, and straight into the kept model object when there
 * is one (keepSegments / live), so that object never needs rebuilding.
 */
import type { DecodedPacket } from '../decode/packet.js';
import { SYN, ACK, RST, FIN } from '../decode/packet.js';
import type { Side } from './model.js';
import { CONN, STEP, STEP_NAMES } from './conn-fields.js';
import { newConnRare, pushTime, retransmissionEvent, RST_CAUSE, type ConnRare } from './conn-rare.js';
import type { ConnTable } from './conn-table.js';
import { optionSummary } from './segment-record.js';
import {
  M_DUP_ACK, M_LOST_SEGMENT, M_OUT_OF_ORDER, M_RST_CLOSED_PORT, M_RST_UNREAD, M_ZERO_WINDOW, M_ZERO_WINDOW_PROBE, NEXTSEQ,
  RETRANSMITTED, SEQ_FLOW, seqGE,
} from './tcp-marks.js';
import { CLIENT, SERVER, type EndpointStates } from './tcp-states.js';

const {
  relBase: REL_BASE, lastSynTime: LAST_SYN_TIME, isn: ISN, rttMs: RTT_MS, bytes: BYTES, lastTime: LAST_TIME, stepPacket: STEP_PACKET,
  stepTime: STEP_TIME, stepSeq: STEP_SEQ, stepAck: STEP_ACK, packets: PACKETS, complete: COMPLETE, synRetransmits: SYN_RETX,
  synAckRetransmits: SYNACK_RETX, dataInThirdSegment: DATA_THIRD, dataInSyn: DATA_SYN, retransmissions: RETX, resets: RESETS, dupAcks: DUPACKS,
  zeroWindows: ZERO_WINDOWS, zeroWindowProbes: ZERO_WINDOW_PROBES, outOfOrder: OUT_OF_ORDER, lostSegments: LOST, firstRstSide: FIRST_RST, rstBeforeClose: RST_BEFORE_CLOSE,
  firstRstPacket: FIRST_RST_PACKET, firstRstCause: FIRST_RST_CAUSE, firstRstTime: FIRST_RST_TIME, mss: MSS,
  wscale: WSCALE, sackPermitted: SACK_PERMITTED, timestamps: TIMESTAMPS, tsVal: TS_VAL, tsEcr: TS_ECR, seqFlow: SEQ_FLOWS, encap: ENCAP,
} = CONN.at;
const SIDES: readonly Side[] = ['client', 'server'];

export class SegmentFacts {
  constructor(
    private readonly table: ConnTable,
    private readonly rare: (ConnRare | null)[],
    /** Model objects are kept (and lists made with the connection). */
    private readonly eager: boolean,
  ) {}

  private rareOf(id: number): ConnRare {
    return (this.rare[id] ??= newConnRare(this.eager));
  }

  /** A new connection: in eager mode its lists exist from the start. */
  created(id: number): void {
    while (this.rare.length <= id) this.rare.push(null);
    if (!this.eager) return;
    const r = this.rareOf(id);
    r.synTimes = [];
    r.synAckTimes = [];
    r.finTimes = [[], []];
  }

  /**
   * Handshake facts of a segment sent by `side`, taken before the state machine sees it.
   * Returns true when it completed the handshake (the client's ACK of the SYN-ACK).
   */
  handshake(id: number, side: 0 | 1, p: DecodedPacket): boolean {
    const t = p.t;
    const num = this.table.nums(id);
    const numAt = this.table.numAt(id);
    const int = this.table.ints(id);
    const intAt = this.table.intAt(id);
    const flags = p.tcpFlags;
    if ((flags & (SYN | ACK)) === SYN) {
      num[numAt + LAST_SYN_TIME] = t;
      if (side !== CLIENT) return false;
      if (num[numAt + ISN]! < 0) {
        num[numAt + ISN] = p.seq;
        int[intAt + DATA_SYN] = p.payloadLength > 0 ? 1 : 0;
        this.keepOptions(id, 0, p, 0);
      } else int[intAt + SYN_RETX]++;
      const r = this.rare[id];
      const list = pushTime(r?.synTimes ?? null, num[numAt + STEP_TIME + STEP.syn]!, t);
      if (list !== null) this.rareOf(id).synTimes = list;
      this.step(id, STEP.syn, side, p);
      return false;
    }
    if ((flags & (SYN | ACK)) === (SYN | ACK)) {
      if (side !== SERVER) return false;
      if (num[numAt + ISN + 1]! < 0) {
        num[numAt + ISN + 1] = p.seq;
        this.keepOptions(id, 1, p, num[numAt + REL_BASE + CLIENT]!);
      } else int[intAt + SYNACK_RETX]++;
      const r = this.rare[id];
      const list = pushTime(r?.synAckTimes ?? null, num[numAt + STEP_TIME + STEP.synAck]!, t);
      if (list !== null) this.rareOf(id).synAckTimes = list;
      this.step(id, STEP.synAck, side, p);
      return false;
    }
    if (
      int[intAt + COMPLETE] === 0 && side === CLIENT && (flags & (SYN | ACK | RST)) === ACK && num[numAt + ISN]! >= 0 &&
      num[numAt + ISN + 1]! >= 0 && seqGE(p.ack, (num[numAt + ISN + 1]! + 1) >>> 0)
    ) {
      int[intAt + COMPLETE] = 1;
      int[intAt + DATA_THIRD] = p.payloadLength > 0 ? 1 : 0;
      num[numAt + RTT_MS] = (t - num[numAt + LAST_SYN_TIME]!) * 1000;
      this.step(id, STEP.ack, side, p);
      return true;
    }
    return false;
  }

  /**
   * The close steps a segment of `side` made, from the state machine before (`finSent`, `peerFinAcked`)
   * and after it saw the segment; and the FIN times.
   */
  close(id: number, side: 0 | 1, p: DecodedPacket, st: EndpointStates, finSentBefore: boolean, peerFinAckedBefore: boolean): void {
    const peer = (1 - side) as 0 | 1;
    if (p.tcpFlags & FIN) {
      const stepOfFin = st.firstFin === side ? STEP.firstFin : STEP.secondFin;
      const num = this.table.nums(id);
      const r = this.rare[id];
      const list = pushTime(r?.finTimes[side] ?? null, finSentBefore ? num[this.table.numAt(id) + STEP_TIME + stepOfFin]! : NaN, p.t);
      if (list !== null) this.rareOf(id).finTimes[side] = list;
      if (!finSentBefore && st.finSent(side)) this.step(id, stepOfFin, side, p);
    }
    if (!peerFinAckedBefore && st.finAcked(peer)) this.step(id, st.firstFin === peer ? STEP.firstFinAck : STEP.lastAck, side, p);
  }

  /** The RST kinds, judged on the state before this segment; returns the mark bits to add. */
  reset(id: number, side: 0 | 1, p: DecodedPacket, st: EndpointStates): number {
    const t = p.t;
    const num = this.table.nums(id);
    const numAt = this.table.numAt(id);
    const int = this.table.ints(id);
    const intAt = this.table.intAt(id);
    const flags = p.tcpFlags;
    let marks = 0;
    int[intAt + RESETS]++;
    if (int[intAt + FIRST_RST]! < 0) int[intAt + FIRST_RST] = side;
    if (st.closeCompleteTime < 0) int[intAt + RST_BEFORE_CLOSE] = 1;
    if (side === SERVER && st.synSeq(CLIENT) >= 0 && st.synSeq(SERVER) < 0 && flags & ACK) marks = M_RST_CLOSED_PORT;
    else if (flags & ACK && p.seq === num[numAt + SEQ_FLOWS + side * SEQ_FLOW.numSize + NEXTSEQ] && num[numAt + BYTES + 1 - side]! > 0) {
      const state = st.state(side);
      if (state === 'ESTABLISHED' || state === 'CLOSE_WAIT' || state === 'FIN_WAIT_1' || state === 'FIN_WAIT_2') marks = M_RST_UNREAD;
    }
    const cause = marks === M_RST_CLOSED_PORT ? 1 : marks === M_RST_UNREAD ? 2 : 0;
    const out = this.rare[id]?.out ?? null;
    if (out !== null) out.resetList.push({ packet: p.index, t, side: SIDES[side]!, cause: RST_CAUSE[cause] });
    else if (int[intAt + FIRST_RST_PACKET] === 0) {
      int[intAt + FIRST_RST_PACKET] = p.index;
      int[intAt + FIRST_RST_CAUSE] = cause;
      num[numAt + FIRST_RST_TIME] = t;
    } else (this.rareOf(id).resets ??= []).push(p.index, t, side, cause);
    return marks;
  }

  /** Counts and lists from the segment's marks; packets, bytes, last time, encapsulations. */
  count(id: number, side: 0 | 1, p: DecodedPacket, marks: number): void {
    const t = p.t;
    const num = this.table.nums(id);
    const numAt = this.table.numAt(id);
    const int = this.table.ints(id);
    const intAt = this.table.intAt(id);
    int[intAt + PACKETS]++;
    int[intAt + ENCAP] |= p.encap;
    num[numAt + LAST_TIME] = t;
    num[numAt + BYTES + side] += p.payloadLength;
    if (marks & RETRANSMITTED) {
      int[intAt + RETX]++;
      const out = this.rare[id]?.out ?? null;
      if (out !== null) out.retransmissionList.push(retransmissionEvent(p.index, t, side, marks));
      else (this.rareOf(id).retransmitted ??= []).push(p.index, t, side, marks);
    }
    if (marks & M_DUP_ACK) int[intAt + DUPACKS]++;
    if (marks & M_ZERO_WINDOW) int[intAt + ZERO_WINDOWS]++;
    if (marks & M_ZERO_WINDOW_PROBE) int[intAt + ZERO_WINDOW_PROBES]++;
    if (marks & M_OUT_OF_ORDER) int[intAt + OUT_OF_ORDER]++;
    if (marks & M_LOST_SEGMENT) int[intAt + LOST]++;
  }

  /** Records step `step` at this segment, once (the first segment that makes it). */
  private step(id: number, step: number, side: 0 | 1, p: DecodedPacket): void {
    const t = p.t;
    const int = this.table.ints(id);
    const intAt = this.table.intAt(id);
    if (int[intAt + STEP_PACKET + step] !== 0) return;
    int[intAt + STEP_PACKET + step] = p.index;
    int[intAt + STEP_SEQ + step] = p.seq | 0;
    int[intAt + STEP_ACK + step] = p.tcpFlags & ACK ? p.ack | 0 : 0;
    this.table.nums(id)[this.table.numAt(id) + STEP_TIME + step] = t;
    const out = this.rare[id]?.out ?? null;
    if (out !== null) out.steps[STEP_NAMES[step]!] = { packet: p.index, t, seq: p.seq, ack: p.tcpFlags & ACK ? p.ack : 0, side: SIDES[side]! };
  }

  /** The SYN's (side 0) or SYN-ACK's (side 1) options: plain ones in the row, unusual ones whole. */
  private keepOptions(id: number, side: 0 | 1, p: DecodedPacket, sackBase: number): void {
    const x = p.tcpOptions;
    if (this.eager || x.sackCount > 0 || x.tfoPresent || x.unknownCount > 0) {
      if (side === 0) this.rareOf(id).clientOptions = optionSummary(p, sackBase);
      else this.rareOf(id).serverOptions = optionSummary(p, sackBase);
      return;
    }
    const int = this.table.ints(id);
    const intAt = this.table.intAt(id);
    int[intAt + MSS + side] = x.mss;
    int[intAt + WSCALE + side] = x.wscale;
    int[intAt + SACK_PERMITTED + side] = x.sackPermitted ? 1 : 0;
    int[intAt + TIMESTAMPS + side] = x.hasTimestamps ? 1 : 0;
    int[intAt + TS_VAL + side] = x.tsVal | 0;
    int[intAt + TS_ECR + side] = x.tsEcr | 0;
  }
}
