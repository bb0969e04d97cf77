/**
 * TCP connections by 4-tuple, split the way tshark's tcp.stream splits them: a SYN (without ACK)
 * whose sequence number differs from the base sequence number already known for its direction
 * starts a NEW connection (a reused 4-tuple, whether or not the old one was closed); a SYN with
 * the same ISN after a close or a RST is a retransmission in the same connection, as in tshark.
 *
 * Roles: the client sent the first SYN (without ACK); when the first packet is a SYN-ACK the
 * client is its receiver; with no SYN at all, the client sent the first packet.
 *
 * Per segment: the flow table finds the connection (src/analyze/conn-table.ts), Wireshark's
 * sequence analysis marks it (tcp-marks.ts), SegmentFacts adds its facts (tcp-facts.ts), the
 * state machine moves each side (tcp-states.ts). With keepSegments, KeptSegments also keeps a
 * worded record of it (kept-segments.ts). Without, nothing is allocated per packet: a
 * connection is a row of numbers (conn-fields.ts) until a model object is asked for
 * (model(i), conn-view.ts). With keepSegments or a live listener the model object is built at
 * once and kept in step after every segment.
 */
import type { DecodedPacket } from '../decode/packet.js';
import { SYN, ACK, RST } from '../decode/packet.js';
import type { SegmentRecord, TcpConnection } from './model.js';
import { CONN } from './conn-fields.js';
import { newConnRare, type ConnRare } from './conn-rare.js';
import { ConnTable } from './conn-table.js';
import { ConnView } from './conn-view.js';
import { hashPairUndirected } from './flow-key.js';
import { KeptSegments } from './kept-segments.js';
import { SegmentFacts } from './tcp-facts.js';
import { analyzeSequence, SEQ_FLOW, WINSCALE } from './tcp-marks.js';
import { EndpointStates } from './tcp-states.js';

export type UpdateListener = (conn: TcpConnection, seg: SegmentRecord | null) => void;

const { relBase: REL_BASE, seqFlow: SEQ_FLOWS, lastSynTime: LAST_SYN_TIME, firstRtt: FIRST_RTT, lastAckTime: LAST_ACK_TIME } = CONN.at;

export class TcpTracker {
  private readonly table = new ConnTable();
  /** Sparse: what few connections need beside their numbers. */
  private readonly rare: (ConnRare | null)[] = [];
  private readonly view: ConnView;
  private readonly facts: SegmentFacts;
  private readonly kept: KeptSegments | null;
  /** Model objects are built with their connection and kept in step (keepSegments or live). */
  private readonly eager: boolean;
  private scratch: TcpConnection | null = null;

  constructor(
    keepSegments: boolean,
    private readonly onUpdate?: UpdateListener,
  ) {
    this.eager = keepSegments || onUpdate !== undefined;
    const states = new EndpointStates(this.eager, this.rare, () => newConnRare(this.eager));
    this.view = new ConnView(this.table, states, this.rare);
    this.facts = new SegmentFacts(this.table, this.rare, this.eager);
    this.kept = keepSegments ? new KeptSegments(this.view, this.rare) : null;
  }

  get count(): number {
    return this.table.count;
  }

  /** One TCP segment with a decoded header (p.t set: seconds since the capture's first packet). */
  onPacket(p: DecodedPacket): void {
    const table = this.table;
    const hash = hashPairUndirected(p);
    let id = table.find(p, hash);
    if (id >= 0) {
      // A SYN with a new ISN on a known 4-tuple: a new connection, as tcp.stream counts them.
      const base = table.nums(id)[table.numAt(id) + REL_BASE + table.side]!;
      if ((p.tcpFlags & (SYN | ACK)) === SYN && base >= 0 && p.seq !== base) id = this.create(p, hash);
    } else id = this.create(p, hash);
    this.segment(id, table.side, p);
  }

  private create(p: DecodedPacket, hash: number): number {
    const id = this.table.add(p, hash);
    this.facts.created(id);
    if (this.eager) {
      const r = (this.rare[id] ??= newConnRare(true));
      if (this.kept !== null) r.sentAt = [new Map(), new Map()];
      r.out = this.view.build(id);
    }
    return id;
  }

  private segment(id: number, side: 0 | 1, p: DecodedPacket): void {
    const t = p.t;
    const num = this.table.nums(id);
    const numAt = this.table.numAt(id);
    const st = this.view.statesOf(id);
    const peer = (1 - side) as 0 | 1;
    const flags = p.tcpFlags;
    const fwd = numAt + SEQ_FLOWS + side * SEQ_FLOW.numSize;
    const rev = numAt + SEQ_FLOWS + peer * SEQ_FLOW.numSize;

    // Relative sequence numbers, as Wireshark bases them.
    if (num[numAt + REL_BASE + side]! < 0) num[numAt + REL_BASE + side] = flags & SYN ? p.seq : (p.seq - 1) >>> 0;
    if (num[numAt + REL_BASE + peer]! < 0 && flags & ACK) num[numAt + REL_BASE + peer] = (p.ack - 1) >>> 0;

    // Window scaling as Wireshark applies it: SYNs unscaled; known once both SYNs were seen.
    if (flags & SYN) {
      num[fwd + WINSCALE] = p.tcpOptions.wscale >= 0 ? Math.min(p.tcpOptions.wscale, 14) : -2;
      if ((flags & ACK) !== 0 && num[rev + WINSCALE] !== -1 && (num[fwd + WINSCALE] === -2 || num[rev + WINSCALE] === -2)) {
        num[fwd + WINSCALE] = -2;
        num[rev + WINSCALE] = -2;
      }
    }
    const winScale = num[fwd + WINSCALE]!;
    const window = flags & SYN || winScale < 0 ? p.window : p.window * (1 << winScale);

    // Wireshark's initial RTT: most recent SYN to the first ACK without SYN.
    if ((flags & (SYN | ACK)) === ACK && num[numAt + FIRST_RTT] === 0 && num[numAt + LAST_SYN_TIME]! >= 0) {
      num[numAt + FIRST_RTT] = t - num[numAt + LAST_SYN_TIME]! || 1e-9;
    }

    let marks = analyzeSequence(num, fwd, rev, p, window, numAt + FIRST_RTT);
    const completesHandshake = this.facts.handshake(id, side, p);
    if (flags & RST) marks |= this.facts.reset(id, side, p, st);
    this.facts.count(id, side, p, marks);

    const finSentBefore = st.finSent(side);
    const peerFinAckedBefore = st.finAcked(peer);
    if (this.kept !== null) {
      const rec = this.kept.segment(id, side, p, marks, completesHandshake);
      this.afterStates(id, side, p, st, finSentBefore, peerFinAckedBefore);
      this.notify(id, rec);
    } else {
      st.onSegment(side, p, null);
      this.afterStates(id, side, p, st, finSentBefore, peerFinAckedBefore);
      this.notify(id, null);
    }
  }

  /**
   * The close steps and the time the close completed, once the state machine saw the segment
   * (st: the state cursor, still at connection id).
   */
  private afterStates(id: number, side: 0 | 1, p: DecodedPacket, st: EndpointStates, finSentBefore: boolean, peerFinAckedBefore: boolean): void {
    this.facts.close(id, side, p, st, finSentBefore, peerFinAckedBefore);
    const num = this.table.nums(id);
    const numAt = this.table.numAt(id);
    if (st.closeCompleteTime >= 0 && Number.isNaN(num[numAt + LAST_ACK_TIME])) num[numAt + LAST_ACK_TIME] = st.closeCompleteTime;
  }

  private notify(id: number, rec: SegmentRecord | null): void {
    if (this.onUpdate === undefined) return;
    const out = this.rare[id]!.out!;
    this.view.update(id, out);
    this.onUpdate(out, rec);
  }

  /** Ends the capture: pending decisions are taken. Call once, before model() / peek(). */
  close(): void {
    for (let id = 0; id < this.table.count; id++) {
      this.view.statesOf(id).endOfCapture();
      this.kept?.settlePending(id);
      const out = this.rare[id]?.out;
      if (out != null) this.view.update(id, out);
    }
    this.table.closeLookup();
  }

  /** The model object of connection i: the kept one, or a new one built now (not retained). */
  model(i: number): TcpConnection {
    return this.rare[i]?.out ?? this.view.build(i);
  }

  /**
   * Connection i's names and numbers in one scratch object reused for every call (its lists
   * empty, its steps null), unless the connection keeps its own: for writers that walk a
   * million connections without a model object each.
   */
  peek(i: number): TcpConnection {
    const out = this.rare[i]?.out;
    if (out != null) return out;
    if (this.scratch === null) {
      this.scratch = this.view.build(i);
      this.scratch.steps = { syn: null, synAck: null, ack: null, firstFin: null, firstFinAck: null, secondFin: null, lastAck: null };
      this.scratch.retransmissionList = [];
      this.scratch.resetList = [];
      this.scratch.states = { client: [], server: [] };
      this.scratch.handshake.synTimes = [];
      this.scratch.handshake.synAckTimes = [];
      this.scratch.close.finTimes = { client: [], server: [] };
      return this.scratch;
    }
    return this.view.fill(i, this.scratch);
  }

  /** close() and every model object (all of them in memory at once). */
  finish(): TcpConnection[] {
    this.close();
    const out: TcpConnection[] = [];
    for (let i = 0; i < this.table.count; i++) out.push(this.model(i));
    return out;
  }
}
