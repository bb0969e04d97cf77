/**
 * TCP connections by 4-tuple, split the way tshark's tcp.stream splits them: a SYN (without ACK)
 * whose sequence number differs from the base sequence number already known for its direction
 * starts a NEW connection (a reused 4-tuple, whether or not the old one was closed); a SYN with
 * the same ISN after a close or a RST is a retransmission in the same connection, as in tshark.
 *
 * Roles: the client sent the first SYN (without ACK); when the first packet is a SYN-ACK the
 * client is its receiver; with no SYN at all, the client sent the first packet.
 *
 * Hot path (keepSegments false): a numeric hash of the address bytes and ports, an open-addressing
 * Int32Array table of connection ids, an exact compare (IPv4 addresses as two numbers), number
 * updates. Memory: no object per connection. A connection is a row of FIELDS doubles (times,
 * 32-bit sequence numbers, addresses) in shared Float64Array pages and a row of IFIELDS int32s
 * (counts, flags, states, ports) in shared Int32Array pages (PAGE rows each, so growing never
 * copies): 620 bytes. EndpointStates is one cursor pointed at a connection's rows. What few connections need (lists past the first time, unusual SYN options,
 * kept transitions, the model object) sits in a sparse `rare` array. The model object
 * (TcpConnection) is built only when asked for (model(i)), and row(i) gives the inspect-JSON
 * facts without building it. With keepSegments (or a live listener) the model object is built
 * at once and kept in step after every segment.
 */
import type { DecodedPacket } from '../decode/packet.js';
import { SYN, ACK, RST } from '../decode/packet.js';
import { formatAddress } from '../decode/address.js';
import type { CloseKind, OptionSummary, SegmentRecord, Side, TcpConnection, TcpState } from './model.js';
import { bytesEqual, hashPairUndirected } from './flow-key.js';
import {
  analyzeSequence, initSeqFlow, FLOW_FIELDS, NEXTSEQ, WINSCALE, RETRANSMITTED, M_DUP_ACK, M_ZERO_WINDOW, M_OUT_OF_ORDER,
  M_LOST_SEGMENT, M_RST_CLOSED_PORT, M_RST_UNREAD, seqGE,
} from './tcp-marks.js';
import { EndpointStates, CLIENT, SERVER, STATE_FIELDS, STATE_IFIELDS, initStates, type StatesExtra } from './tcp-states.js';
import { classifyClose } from './tcp-close.js';
import { optionSummary, buildSegmentRecord, previousSend } from './segment-record.js';
import { describeSegment, type SegmentContext } from './meaning.js';

export type UpdateListener = (conn: TcpConnection, seg: SegmentRecord | null) => void;

// Offsets in a connection's Float64Array row (`+ side` for per-side pairs: client 0, server 1):
// times, 32-bit sequence numbers and addresses; EndpointStates keeps [0, STATE_FIELDS).
export const FLOW = STATE_FIELDS; // two SeqFlows: FLOW + side * FLOW_FIELDS
export const BASE = FLOW + 2 * FLOW_FIELDS; // relative-sequence base, -1 unset, 2
const LAST_SYN = BASE + 2; // most recent pure SYN (Wireshark's ts_mru_syn), -1
const FIRST_RTT = BASE + 3; // Wireshark's ts_first_rtt (seconds; 0 unknown)
const FIRST_TIME = BASE + 4;
const LAST_TIME = BASE + 5;
const BYTES = BASE + 6; // 2
const ISN = BASE + 8; // 2, -1 none
const RTT_MS = BASE + 10; // NaN none
const SYN_TIME = BASE + 11; // first SYN time, NaN none (synTimes holds them all once there are two)
const SYNACK_TIME = BASE + 12;
const FIN_TIME = BASE + 13; // 2, first FIN time of each side, NaN none
const LAST_ACK_TIME = BASE + 15; // NaN none
const ADDR4 = BASE + 16; // 2, IPv4 addresses as unsigned numbers
const OPT = BASE + 18; // 2 x OPT_FIELDS: the SYN's / SYN-ACK's plain options
const O_MSS = 0;
const O_WSCALE = 1;
const O_SACKPERM = 2;
const O_TS = 3;
const O_TSVAL = 4;
const O_TSECR = 5;
const OPT_FIELDS = 6;
const FIELDS = OPT + 2 * OPT_FIELDS;
// Offsets in the Int32Array row (EndpointStates keeps [0, STATE_IFIELDS)):
const FIRST_RST = STATE_IFIELDS; // side of the first RST, -1
const RST_BEFORE_CLOSE = FIRST_RST + 1;
const PACKETS = FIRST_RST + 2;
const COMPLETE = FIRST_RST + 3;
const SYN_RETX = FIRST_RST + 4;
const SYNACK_RETX = FIRST_RST + 5;
const DATA_THIRD = FIRST_RST + 6;
const DATA_SYN = FIRST_RST + 7;
const RETX = FIRST_RST + 8;
const RESETS = FIRST_RST + 9;
const DUPACKS = FIRST_RST + 10;
const ZEROWIN = FIRST_RST + 11;
const OOO = FIRST_RST + 12;
const LOST = FIRST_RST + 13;
const PORT = FIRST_RST + 14; // 2
const FAMILY = FIRST_RST + 16; // 4 or 6
const HASH = FIRST_RST + 17; // the flow hash (for growing the lookup table)
const IFIELDS = FIRST_RST + 18;
// Rows live in pages of PAGE rows (one Float64Array and one Int32Array each): no copy when the table grows.
const PAGE_BITS = 12;
const PAGE_MASK = (1 << PAGE_BITS) - 1;

const TEMPLATE: Float64Array = new Float64Array(FIELDS);
const ITEMPLATE: Int32Array = new Int32Array(IFIELDS);
{
  const v = TEMPLATE;
  const w = ITEMPLATE;
  initStates(v, 0, w, 0);
  initSeqFlow(v, FLOW);
  initSeqFlow(v, FLOW + FLOW_FIELDS);
  v[BASE] = v[BASE + 1] = -1;
  v[LAST_SYN] = -1;
  w[FIRST_RST] = -1;
  v[ISN] = v[ISN + 1] = -1;
  v[RTT_MS] = v[SYN_TIME] = v[SYNACK_TIME] = v[FIN_TIME] = v[FIN_TIME + 1] = v[LAST_ACK_TIME] = NaN;
  for (const s of [0, 1]) v[OPT + s * OPT_FIELDS + O_MSS] = v[OPT + s * OPT_FIELDS + O_WSCALE] = -1;
  w[FAMILY] = 4;
}

/** The fields whose initial value is not 0 (a new page is zero-filled). */
const TEMPLATE_SET: Int32Array = Int32Array.from(Array.from(TEMPLATE.keys()).filter((k) => !Object.is(TEMPLATE[k], 0)));
const ITEMPLATE_SET: Int32Array = Int32Array.from(Array.from(ITEMPLATE.keys()).filter((k) => ITEMPLATE[k] !== 0));

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** What few connections need: lists past the first time, unusual options, kept-segment state. */
interface ConnRare extends StatesExtra {
  synTimes: number[] | null;
  synAckTimes: number[] | null;
  finTimes0: number[] | null;
  finTimes1: number[] | null;
  clientOptions: OptionSummary | null;
  serverOptions: OptionSummary | null;
  /** The model object, kept in step (keepSegments / live), else null. */
  out: TcpConnection | null;
  /** keepSegments only: last send time of each sequence number, per side, for "after N s". */
  sentAt: [Map<number, number>, Map<number, number>] | null;
  /** keepSegments only: the handshake ACK whose server-side transition is still pending. */
  pendingCtx: SegmentContext | null;
  /** keepSegments only: each side's latest FIN segment, which a later ACK may date CLOSE_WAIT at. */
  finCtx: [SegmentContext | null, SegmentContext | null] | null;
}

/** One connection's inspect-JSON facts (filled by TcpTracker.row, written by src/report/json.ts). */
export interface TcpRow {
  id: number;
  client: string;
  server: string;
  packets: number;
  bytesClient: number;
  bytesServer: number;
  complete: boolean;
  clientIsn: number | null;
  serverIsn: number | null;
  synRetransmits: number;
  synAckRetransmits: number;
  rttMs: number | null;
  closeKind: CloseKind;
  initiator: Side | null;
  timeWait: Side | 'both' | null;
  retransmissions: number;
  resets: number;
  /** The states each side went through. From TcpTracker.row: shared arrays, not to be changed. */
  clientPath: TcpState[];
  serverPath: TcpState[];
}

export class TcpTracker {
  /** The connections' numbers: row id at pages[id >>> PAGE_BITS], offset (id & PAGE_MASK) * FIELDS. */
  private readonly pages: Float64Array[] = [];
  /** The connections' integers: row id at ipages[id >>> PAGE_BITS], offset (id & PAGE_MASK) * IFIELDS. */
  private readonly ipages: Int32Array[] = [];
  private n = 0;
  /** Open-addressing lookup: id + 1 per slot (0 empty), probed linearly from hash & mask. */
  private slots = new Int32Array(1 << 12);
  private used = 0;
  /** IPv6 only: client address bytes then server address bytes (null for IPv4). */
  private readonly addr6: (Uint8Array | null)[] = [];
  private readonly rare: (ConnRare | null)[] = [];
  private readonly st: EndpointStates;
  private readonly eager: boolean;
  /** row(): one shared array per distinct state path (a few dozen in a capture). */
  private readonly paths = new Map<number, TcpState[]>();
  private readonly v4Text = new Map<number, string>();

  constructor(
    private readonly keepSegments: boolean,
    private readonly onUpdate?: UpdateListener,
  ) {
    this.eager = keepSegments || onUpdate !== undefined;
    this.st = new EndpointStates(this.eager, this.rare, () => this.newRare());
  }

  private newRare(): ConnRare {
    return {
      transitions: this.eager ? [[], []] : null, overflow: null, pendingSink: null,
      synTimes: null, synAckTimes: null, finTimes0: null, finTimes1: null, clientOptions: null, serverOptions: null, out: null, sentAt: null, pendingCtx: null, finCtx: null,
    };
  }

  private r(id: number): ConnRare {
    return (this.rare[id] ??= this.newRare());
  }

  /** The state cursor, pointed at connection id. */
  private at(id: number): EndpointStates {
    return this.st.at(this.pages[id >>> PAGE_BITS]!, (id & PAGE_MASK) * FIELDS, this.ipages[id >>> PAGE_BITS]!, (id & PAGE_MASK) * IFIELDS, id);
  }

  /** One TCP segment with a decoded header. t: seconds since the capture's first packet. */
  onPacket(p: DecodedPacket, t: number, absTime: number): void {
    const hash = hashPairUndirected(p);
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = hash & mask;
    let id = -1;
    let side = 0;
    for (;;) {
      const s = slots[i]!;
      if (s === 0) break;
      const cid = s - 1;
      const w = this.ipages[cid >>> PAGE_BITS]!;
      const q = (cid & PAGE_MASK) * IFIELDS;
      if (w[q + HASH] === hash) {
        const sd = this.matchSide(this.pages[cid >>> PAGE_BITS]!, (cid & PAGE_MASK) * FIELDS, w, q, cid, p);
        if (sd >= 0) {
          id = cid;
          side = sd;
          break;
        }
      }
      i = (i + 1) & mask;
    }
    if (id >= 0) {
      const v = this.pages[id >>> PAGE_BITS]!;
      const o = (id & PAGE_MASK) * FIELDS;
      if ((p.tcpFlags & (SYN | ACK)) === SYN && v[o + BASE + side]! >= 0 && p.seq !== v[o + BASE + side]) {
        id = this.create(p, t, hash);
        slots[i] = id + 1; // the reused 4-tuple now leads to the new connection
        side = this.matchSideOf(id, p);
      }
    } else {
      id = this.create(p, t, hash);
      slots[i] = id + 1;
      side = this.matchSideOf(id, p);
      if (++this.used * 2 > slots.length) this.growSlots();
    }
    this.segment(id, side as 0 | 1, p, t, absTime);
  }

  private growSlots(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    const mask = slots.length - 1;
    for (let j = 0; j < old.length; j++) {
      const s = old[j]!;
      if (s === 0) continue;
      const cid = s - 1;
      let i = this.ipages[cid >>> PAGE_BITS]![(cid & PAGE_MASK) * IFIELDS + HASH]! & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = s;
    }
    this.slots = slots;
  }

  private create(p: DecodedPacket, t: number, hash: number): number {
    const id = this.n++;
    if ((id & PAGE_MASK) === 0) {
      this.pages.push(new Float64Array(FIELDS << PAGE_BITS));
      this.ipages.push(new Int32Array(IFIELDS << PAGE_BITS));
    }
    const v = this.pages[id >>> PAGE_BITS]!;
    const o = (id & PAGE_MASK) * FIELDS;
    const w = this.ipages[id >>> PAGE_BITS]!;
    const q = (id & PAGE_MASK) * IFIELDS;
    // The pages are zero-filled: only the other initial values are written.
    for (let k = 0; k < TEMPLATE_SET.length; k++) v[o + TEMPLATE_SET[k]!] = TEMPLATE[TEMPLATE_SET[k]!]!;
    for (let k = 0; k < ITEMPLATE_SET.length; k++) w[q + ITEMPLATE_SET[k]!] = ITEMPLATE[ITEMPLATE_SET[k]!]!;
    const synAck = (p.tcpFlags & (SYN | ACK)) === (SYN | ACK);
    const len = p.addrLength;
    const cOff = synAck ? p.dstOffset : p.srcOffset;
    const sOff = synAck ? p.srcOffset : p.dstOffset;
    w[q + PORT] = synAck ? p.dstPort : p.srcPort;
    w[q + PORT + 1] = synAck ? p.srcPort : p.dstPort;
    w[q + HASH] = hash;
    if (len === 4) {
      v[o + ADDR4] = u32(p.buf, cOff);
      v[o + ADDR4 + 1] = u32(p.buf, sOff);
      this.addr6.push(null);
    } else {
      const a = new Uint8Array(32);
      a.set(p.buf.subarray(cOff, cOff + 16), 0);
      a.set(p.buf.subarray(sOff, sOff + 16), 16);
      w[q + FAMILY] = 6;
      this.addr6.push(a);
    }
    v[o + FIRST_TIME] = t;
    v[o + LAST_TIME] = t;
    this.rare.push(null);
    if (this.eager) {
      const r = this.r(id);
      r.synTimes = [];
      r.synAckTimes = [];
      r.finTimes0 = [];
      r.finTimes1 = [];
      if (this.keepSegments) r.sentAt = [new Map(), new Map()];
      r.out = this.materialize(id);
    }
    return id;
  }

  /** 0 when p goes client -> server, 1 when server -> client, -1 when p is not this connection. */
  private matchSideOf(id: number, p: DecodedPacket): number {
    return this.matchSide(this.pages[id >>> PAGE_BITS]!, (id & PAGE_MASK) * FIELDS, this.ipages[id >>> PAGE_BITS]!, (id & PAGE_MASK) * IFIELDS, id, p);
  }

  private matchSide(v: Float64Array, o: number, w: Int32Array, q: number, id: number, p: DecodedPacket): number {
    const cPort = w[q + PORT];
    const sPort = w[q + PORT + 1];
    if (p.addrLength === 4) {
      if (w[q + FAMILY] !== 4) return -1;
      if (p.srcPort === cPort && p.dstPort === sPort && u32(p.buf, p.srcOffset) === v[o + ADDR4] && u32(p.buf, p.dstOffset) === v[o + ADDR4 + 1]) return 0;
      if (p.srcPort === sPort && p.dstPort === cPort && u32(p.buf, p.srcOffset) === v[o + ADDR4 + 1] && u32(p.buf, p.dstOffset) === v[o + ADDR4]) return 1;
      return -1;
    }
    const a6 = this.addr6[id];
    if (a6 == null) return -1;
    if (p.srcPort === cPort && p.dstPort === sPort && bytesEqual(p.buf, p.srcOffset, a6, 0, 16) && bytesEqual(p.buf, p.dstOffset, a6, 16, 16)) return 0;
    if (p.srcPort === sPort && p.dstPort === cPort && bytesEqual(p.buf, p.srcOffset, a6, 16, 16) && bytesEqual(p.buf, p.dstOffset, a6, 0, 16)) return 1;
    return -1;
  }

  private segment(id: number, side: 0 | 1, p: DecodedPacket, t: number, absTime: number): void {
    const v = this.pages[id >>> PAGE_BITS]!;
    const o = (id & PAGE_MASK) * FIELDS;
    const w = this.ipages[id >>> PAGE_BITS]!;
    const q = (id & PAGE_MASK) * IFIELDS;
    const st = this.st.at(v, o, w, q, id);
    const peer = (1 - side) as 0 | 1;
    const flags = p.tcpFlags;
    const seq = p.seq;
    const ack = p.ack;
    const len = p.payloadLength;
    const fwd = FLOW + side * FLOW_FIELDS;
    const rev = FLOW + peer * FLOW_FIELDS;

    // Relative sequence numbers, as Wireshark bases them.
    if (v[o + BASE + side]! < 0) v[o + BASE + side] = flags & SYN ? seq : (seq - 1) >>> 0;
    if (v[o + BASE + peer]! < 0 && flags & ACK) v[o + BASE + peer] = (ack - 1) >>> 0;

    // Window scaling as Wireshark applies it: SYNs unscaled; known once both SYNs were seen.
    if (flags & SYN) {
      v[o + fwd + WINSCALE] = p.tcpOptions.wscale >= 0 ? Math.min(p.tcpOptions.wscale, 14) : -2;
      if ((flags & ACK) !== 0 && v[o + rev + WINSCALE] !== -1 && (v[o + fwd + WINSCALE] === -2 || v[o + rev + WINSCALE] === -2)) {
        v[o + fwd + WINSCALE] = -2;
        v[o + rev + WINSCALE] = -2;
      }
    }
    const winScale = v[o + fwd + WINSCALE]!;
    const window = flags & SYN || winScale < 0 ? p.window : p.window * (1 << winScale);

    // Wireshark's initial RTT: most recent SYN to the first ACK without SYN.
    if ((flags & (SYN | ACK)) === ACK && v[o + FIRST_RTT] === 0 && v[o + LAST_SYN]! >= 0) v[o + FIRST_RTT] = t - v[o + LAST_SYN]! || 1e-9;

    let m = analyzeSequence(v, o + fwd, o + rev, seq, ack, len, flags, window, t, v[o + FIRST_RTT]!);

    // Handshake facts.
    const wasComplete = w[q + COMPLETE] === 1;
    if ((flags & (SYN | ACK)) === SYN) {
      v[o + LAST_SYN] = t;
      if (side === CLIENT) {
        if (v[o + ISN]! < 0) {
          v[o + ISN] = seq;
          w[q + DATA_SYN] = len > 0 ? 1 : 0;
          this.keepOptions(id, v, o, 0, p, 0);
        } else w[q + SYN_RETX]++;
        const r = this.rare[id];
        if (r != null && r.synTimes !== null) r.synTimes.push(t);
        else if (Number.isNaN(v[o + SYN_TIME])) v[o + SYN_TIME] = t;
        else this.r(id).synTimes = [v[o + SYN_TIME]!, t];
      }
    } else if ((flags & (SYN | ACK)) === (SYN | ACK) && side === SERVER) {
      if (v[o + ISN + 1]! < 0) {
        v[o + ISN + 1] = seq;
        this.keepOptions(id, v, o, 1, p, v[o + BASE + CLIENT]!);
      } else w[q + SYNACK_RETX]++;
      const r = this.rare[id];
      if (r != null && r.synAckTimes !== null) r.synAckTimes.push(t);
      else if (Number.isNaN(v[o + SYNACK_TIME])) v[o + SYNACK_TIME] = t;
      else this.r(id).synAckTimes = [v[o + SYNACK_TIME]!, t];
    } else if (
      !wasComplete && side === CLIENT && (flags & (SYN | ACK | RST)) === ACK && v[o + ISN]! >= 0 &&
      v[o + ISN + 1]! >= 0 && seqGE(ack, (v[o + ISN + 1]! + 1) >>> 0)
    ) {
      w[q + COMPLETE] = 1;
      w[q + DATA_THIRD] = len > 0 ? 1 : 0;
      v[o + RTT_MS] = (t - v[o + LAST_SYN]!) * 1000;
    }

    // RST kinds, judged on the state before this segment.
    if (flags & RST) {
      w[q + RESETS]++;
      if (w[q + FIRST_RST]! < 0) w[q + FIRST_RST] = side;
      if (st.closeCompleteTime < 0) w[q + RST_BEFORE_CLOSE] = 1;
      if (side === SERVER && st.synSeq(CLIENT) >= 0 && st.synSeq(SERVER) < 0 && flags & ACK) m |= M_RST_CLOSED_PORT;
      else if (flags & ACK && seq === v[o + fwd + NEXTSEQ] && v[o + BYTES + peer]! > 0) {
        const ss = st.state(side);
        if (ss === 'ESTABLISHED' || ss === 'CLOSE_WAIT' || ss === 'FIN_WAIT_1' || ss === 'FIN_WAIT_2') m |= M_RST_UNREAD;
      }
    }

    // Counts.
    w[q + PACKETS]++;
    v[o + LAST_TIME] = t;
    v[o + BYTES + side] += len;
    if (m & RETRANSMITTED) w[q + RETX]++;
    if (m & M_DUP_ACK) w[q + DUPACKS]++;
    if (m & M_ZERO_WINDOW) w[q + ZEROWIN]++;
    if (m & M_OUT_OF_ORDER) w[q + OOO]++;
    if (m & M_LOST_SEGMENT) w[q + LOST]++;
    if (flags & 1 /* FIN */) {
      const r = this.rare[id];
      const list = r == null ? null : side === CLIENT ? r.finTimes0 : r.finTimes1;
      if (list !== null) list.push(t);
      else if (Number.isNaN(v[o + FIN_TIME + side])) v[o + FIN_TIME + side] = t;
      else if (side === CLIENT) this.r(id).finTimes0 = [v[o + FIN_TIME]!, t];
      else this.r(id).finTimes1 = [v[o + FIN_TIME + 1]!, t];
    }

    // States (and, when segments are kept, the record of what this one caused).
    if (this.keepSegments) {
      const r = this.r(id);
      const mo = r.out!;
      this.sync(id, mo);
      const before: [TcpState, TcpState] = [st.state(0), st.state(1)];
      const rec = buildSegmentRecord(v[o + BASE + side]!, v[o + BASE + peer]!, side, p, t, absTime, m, window);
      const sideName = ['client', 'server'] as const;
      const hadPending = st.hasPending;
      let late: SegmentContext | null = null;
      let lateSide: 0 | 1 = 0;
      st.onSegment(side, flags, seq, ack, len, p.index, t, (s, from, to, at) => {
        // A transition dated at an earlier packet (CLOSE_WAIT at the FIN this ACK proves arrived)
        // goes on that packet's record, so the segment lines and the ladder show it there.
        const fin = at !== null && at < p.index && r.finCtx !== null ? r.finCtx[1 - s] : null;
        if (fin !== null && fin !== undefined && fin.rec.packet === at) {
          fin.rec.transitions.push({ side: sideName[s], from, to });
          late = fin;
          lateSide = s;
        } else rec.transitions.push({ side: sideName[s], from, to });
      });
      if (hadPending) this.settlePending(id);
      const ctx: SegmentContext = { conn: mo, side, rec, before, marks: m, resentAfter: previousSend(r.sentAt, side, p, t), completesHandshake: w[q + COMPLETE] === 1 && !wasComplete };
      rec.meaning = describeSegment(ctx);
      if (late !== null) {
        const fin = (late as SegmentContext).rec;
        fin.meaning = describeSegment(late);
        // Said here too: a --live reader saw the FIN's line before this ACK proved its arrival.
        rec.meaning += `; the ${sideName[lateSide]} has been in CLOSE_WAIT since the FIN arrived (packet ${fin.packet})`;
      }
      if (flags & 1 /* FIN */) (r.finCtx ??= [null, null])[side] = ctx;
      if (st.hasPending && r.pendingCtx === null) r.pendingCtx = ctx;
      mo.segments.push(rec);
      if (st.closeCompleteTime >= 0 && Number.isNaN(v[o + LAST_ACK_TIME])) v[o + LAST_ACK_TIME] = st.closeCompleteTime;
      if (this.onUpdate !== undefined) {
        this.refresh(id);
        this.onUpdate(mo, rec);
      }
    } else {
      st.onSegment(side, flags, seq, ack, len, p.index, t, null);
      if (st.closeCompleteTime >= 0 && Number.isNaN(v[o + LAST_ACK_TIME])) v[o + LAST_ACK_TIME] = st.closeCompleteTime;
      if (this.onUpdate !== undefined) {
        this.refresh(id);
        this.onUpdate(this.rare[id]!.out!, null);
      }
    }
  }

  /** The SYN's (side 0) or SYN-ACK's (side 1) options: plain ones as numbers, unusual ones whole. */
  private keepOptions(id: number, v: Float64Array, o: number, side: 0 | 1, p: DecodedPacket, sackBase: number): void {
    const x = p.tcpOptions;
    if (this.eager || x.sackCount > 0 || x.tfoPresent || x.unknownCount > 0) {
      if (side === 0) this.r(id).clientOptions = optionSummary(p, sackBase);
      else this.r(id).serverOptions = optionSummary(p, sackBase);
      return;
    }
    const b = o + OPT + side * OPT_FIELDS;
    v[b + O_MSS] = x.mss;
    v[b + O_WSCALE] = x.wscale;
    v[b + O_SACKPERM] = x.sackPermitted ? 1 : 0;
    v[b + O_TS] = x.hasTimestamps ? 1 : 0;
    v[b + O_TSVAL] = x.tsVal;
    v[b + O_TSECR] = x.tsEcr;
  }

  /** The held-back server ESTABLISHED was decided: re-word the handshake ACK that caused it. */
  private settlePending(id: number): void {
    const r = this.rare[id];
    if (r == null || r.pendingCtx === null || this.at(id).hasPending) return;
    this.sync(id, r.pendingCtx.conn);
    r.pendingCtx.rec.meaning = describeSegment(r.pendingCtx);
    r.pendingCtx = null;
  }

  /** Fills the derived fields (close verdict, TIME_WAIT) of the model object, when there is one. */
  private refresh(id: number): void {
    const r = this.rare[id];
    if (r != null && r.out !== null) this.sync(id, r.out);
  }

  /** Copies the connection's numbers (and derived close verdict) into its model object. */
  private sync(id: number, mo: TcpConnection): void {
    const v = this.pages[id >>> PAGE_BITS]!;
    const o = (id & PAGE_MASK) * FIELDS;
    const w = this.ipages[id >>> PAGE_BITS]!;
    const q = (id & PAGE_MASK) * IFIELDS;
    const st = this.st.at(v, o, w, q, id);
    const r = this.rare[id];
    mo.lastTime = v[o + LAST_TIME]!;
    mo.packets = w[q + PACKETS]!;
    mo.bytes.client = v[o + BYTES]!;
    mo.bytes.server = v[o + BYTES + 1]!;
    const h = mo.handshake;
    h.complete = w[q + COMPLETE] === 1;
    h.clientIsn = v[o + ISN]! < 0 ? null : v[o + ISN]!;
    h.serverIsn = v[o + ISN + 1]! < 0 ? null : v[o + ISN + 1]!;
    h.synRetransmits = w[q + SYN_RETX]!;
    h.synAckRetransmits = w[q + SYNACK_RETX]!;
    h.rttMs = Number.isNaN(v[o + RTT_MS]) ? null : v[o + RTT_MS]!;
    h.clientOptions = r?.clientOptions ?? plainOptions(v, o, 0);
    h.serverOptions = r?.serverOptions ?? plainOptions(v, o, 1);
    h.dataInThirdSegment = w[q + DATA_THIRD] === 1;
    h.dataInSyn = w[q + DATA_SYN] === 1;
    const verdict = classifyClose(st, w[q + FIRST_RST]!, w[q + RST_BEFORE_CLOSE] === 1);
    mo.close.kind = verdict.kind;
    mo.close.initiator = verdict.initiator;
    mo.close.lastAckTime = Number.isNaN(v[o + LAST_ACK_TIME]) ? null : v[o + LAST_ACK_TIME]!;
    mo.timeWait = verdict.timeWait;
    mo.retransmissions = w[q + RETX]!;
    mo.resets = w[q + RESETS]!;
    mo.dupAcks = w[q + DUPACKS]!;
    mo.zeroWindows = w[q + ZEROWIN]!;
    mo.outOfOrder = w[q + OOO]!;
    mo.lostSegments = w[q + LOST]!;
  }

  private clientText(v: Float64Array, o: number, w: Int32Array, q: number, id: number, side: 0 | 1): { addr: string; text: string } {
    const addr = this.addrText(v, o, id, side);
    const port = w[q + PORT + side]!;
    return { addr, text: this.addr6[id] == null ? `${addr}:${port}` : `[${addr}]:${port}` };
  }

  /** The address of a side as text (IPv4 texts cached: a capture has few distinct addresses). */
  private addrText(v: Float64Array, o: number, id: number, side: 0 | 1): string {
    const a6 = this.addr6[id];
    if (a6 != null) return formatAddress(a6, side * 16, 16);
    const a = v[o + ADDR4 + side]!;
    let text = this.v4Text.get(a);
    if (text === undefined) {
      text = ipv4Text(a);
      if (this.v4Text.size < 65536) this.v4Text.set(a, text);
    }
    return text;
  }

  /** An endpoint as "addr:port" ("[addr]:port" for IPv6). */
  private endpointText(v: Float64Array, o: number, w: Int32Array, q: number, id: number, side: 0 | 1): string {
    const addr = this.addrText(v, o, id, side);
    const port = w[q + PORT + side]!;
    return this.addr6[id] == null ? `${addr}:${port}` : `[${addr}]:${port}`;
  }

  /** A new model object for connection id (its lists shared with the connection's when it has them). */
  private materialize(id: number): TcpConnection {
    const v = this.pages[id >>> PAGE_BITS]!;
    const o = (id & PAGE_MASK) * FIELDS;
    const w = this.ipages[id >>> PAGE_BITS]!;
    const q = (id & PAGE_MASK) * IFIELDS;
    const st = this.st.at(v, o, w, q, id);
    const r = this.rare[id];
    const client = this.clientText(v, o, w, q, id, 0);
    const server = this.clientText(v, o, w, q, id, 1);
    const times = (list: number[] | null | undefined, first: number): number[] => list ?? (Number.isNaN(first) ? [] : [first]);
    const mo: TcpConnection = {
      id,
      family: this.addr6[id] == null ? 4 : 6,
      client: client.text,
      server: server.text,
      clientAddr: client.addr,
      clientPort: w[q + PORT]!,
      serverAddr: server.addr,
      serverPort: w[q + PORT + 1]!,
      firstTime: v[o + FIRST_TIME]!,
      lastTime: 0,
      packets: 0,
      bytes: { client: 0, server: 0 },
      handshake: {
        complete: false,
        clientIsn: null,
        serverIsn: null,
        synRetransmits: 0,
        synAckRetransmits: 0,
        rttMs: null,
        synTimes: times(r?.synTimes, v[o + SYN_TIME]!),
        synAckTimes: times(r?.synAckTimes, v[o + SYNACK_TIME]!),
        clientOptions: {},
        serverOptions: {},
        dataInThirdSegment: false,
        dataInSyn: false,
      },
      close: { kind: 'none', initiator: null, finTimes: { client: times(r?.finTimes0, v[o + FIN_TIME]!), server: times(r?.finTimes1, v[o + FIN_TIME + 1]!) }, lastAckTime: null },
      timeWait: null,
      retransmissions: 0,
      resets: 0,
      dupAcks: 0,
      zeroWindows: 0,
      outOfOrder: 0,
      lostSegments: 0,
      states: { client: st.transitionList(CLIENT), server: st.transitionList(SERVER) },
      segments: [],
    };
    this.sync(id, mo);
    return mo;
  }

  /** Ends the capture: pending decisions are taken. Call once, before model() / row(). */
  close(): void {
    for (let id = 0; id < this.n; id++) {
      this.at(id).commitPending();
      this.settlePending(id);
      this.refresh(id);
    }
    this.slots = new Int32Array(1); // the lookup table is not needed any more
  }

  get count(): number {
    return this.n;
  }

  /** The model object of connection i: the kept one, or a new one built now (not retained). */
  model(i: number): TcpConnection {
    return this.rare[i]?.out ?? this.materialize(i);
  }

  /** The inspect-JSON facts of connection i, straight from its numbers, into `into` (returned). */
  row(i: number, into: TcpRow): TcpRow {
    const v = this.pages[i >>> PAGE_BITS]!;
    const o = (i & PAGE_MASK) * FIELDS;
    const w = this.ipages[i >>> PAGE_BITS]!;
    const q = (i & PAGE_MASK) * IFIELDS;
    const st = this.st.at(v, o, w, q, i);
    into.id = i;
    into.client = this.endpointText(v, o, w, q, i, 0);
    into.server = this.endpointText(v, o, w, q, i, 1);
    into.packets = w[q + PACKETS]!;
    into.bytesClient = v[o + BYTES]!;
    into.bytesServer = v[o + BYTES + 1]!;
    into.complete = w[q + COMPLETE] === 1;
    into.clientIsn = v[o + ISN]! < 0 ? null : v[o + ISN]!;
    into.serverIsn = v[o + ISN + 1]! < 0 ? null : v[o + ISN + 1]!;
    into.synRetransmits = w[q + SYN_RETX]!;
    into.synAckRetransmits = w[q + SYNACK_RETX]!;
    into.rttMs = Number.isNaN(v[o + RTT_MS]) ? null : v[o + RTT_MS]!;
    const verdict = classifyClose(st, w[q + FIRST_RST]!, w[q + RST_BEFORE_CLOSE] === 1);
    into.closeKind = verdict.kind;
    into.initiator = verdict.initiator;
    into.timeWait = verdict.timeWait;
    into.retransmissions = w[q + RETX]!;
    into.resets = w[q + RESETS]!;
    into.clientPath = this.sharedPath(st, CLIENT);
    into.serverPath = this.sharedPath(st, SERVER);
    return into;
  }

  private sharedPath(st: EndpointStates, side: 0 | 1): TcpState[] {
    const key = st.pathKey(side);
    if (key < 0) return st.path(side);
    let p = this.paths.get(key);
    if (p === undefined) {
      p = st.path(side);
      this.paths.set(key, p);
    }
    return p;
  }

  /** close() and every model object (all of them in memory at once). */
  finish(): TcpConnection[] {
    this.close();
    const out: TcpConnection[] = [];
    for (let i = 0; i < this.n; i++) out.push(this.model(i));
    return out;
  }
}

function ipv4Text(a: number): string {
  return `${Math.floor(a / 16777216)}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function plainOptions(v: Float64Array, o: number, side: 0 | 1): OptionSummary {
  const b = o + OPT + side * OPT_FIELDS;
  const s: OptionSummary = {};
  if (v[b + O_MSS]! >= 0) s.mss = v[b + O_MSS]!;
  if (v[b + O_WSCALE]! >= 0) s.wscale = v[b + O_WSCALE]!;
  if (v[b + O_SACKPERM] === 1) s.sackPermitted = true;
  if (v[b + O_TS] === 1) s.timestamps = [v[b + O_TSVAL]!, v[b + O_TSECR]!];
  return s;
}
