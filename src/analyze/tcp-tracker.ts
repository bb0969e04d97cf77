/**
 * TCP connections by 4-tuple, split the way tshark's tcp.stream splits them: a SYN (without ACK)
 * whose sequence number differs from the base sequence number already known for its direction
 * starts a NEW connection (a reused 4-tuple, whether or not the old one was closed); a SYN with
 * the same ISN after a close or a RST is a retransmission in the same connection, as in tshark.
 *
 * Roles: the client sent the first SYN (without ACK); when the first packet is a SYN-ACK the
 * client is its receiver; with no SYN at all, the client sent the first packet.
 *
 * Hot path (keepSegments false): a numeric hash of the address bytes and ports, an exact compare
 * (IPv4 addresses as two numbers), number updates. Memory: a connection is one small object and
 * one packed array of numbers (no boxed numbers, no strings, no address copies for IPv4); lists
 * (SYN times past the first, FIN times past the first, unusual SYN options) are made only when a
 * connection needs them, and the model object (TcpConnection) is built only when asked for
 * (model(i)), so a JSON writer can pull connections one at a time. With keepSegments (or a
 * live listener) the model object is built at once and kept in step after every segment.
 */
import type { DecodedPacket } from '../decode/packet.js';
import { SYN, ACK, RST } from '../decode/packet.js';
import { formatAddress } from '../decode/address.js';
import type { OptionSummary, SegmentRecord, TcpConnection, TcpState } from './model.js';
import { HashBuckets, bytesEqual, copyAddress, hashPairUndirected } from './flow-key.js';
import {
  analyzeSequence, initSeqFlow, FLOW_FIELDS, NEXTSEQ, WINSCALE, RETRANSMITTED, M_DUP_ACK, M_ZERO_WINDOW, M_OUT_OF_ORDER,
  M_LOST_SEGMENT, M_RST_CLOSED_PORT, M_RST_UNREAD, seqGE,
} from './tcp-marks.js';
import { EndpointStates, CLIENT, SERVER, STATE_FIELDS, initStates } from './tcp-states.js';
import { classifyClose } from './tcp-close.js';
import { optionSummary, buildSegmentRecord, previousSend } from './segment-record.js';
import { describeSegment, type SegmentContext } from './meaning.js';

export type UpdateListener = (conn: TcpConnection, seg: SegmentRecord | null) => void;

// Offsets in Conn.v (`+ side` for per-side pairs: client 0, server 1). EndpointStates keeps its
// numbers in [0, STATE_FIELDS) of the same array.
export const FLOW = STATE_FIELDS; // two SeqFlows: FLOW + side * FLOW_FIELDS
export const BASE = FLOW + 2 * FLOW_FIELDS; // relative-sequence base, -1 unset, 2
const LAST_SYN = BASE + 2; // most recent pure SYN (Wireshark's ts_mru_syn), -1
const FIRST_RTT = BASE + 3; // Wireshark's ts_first_rtt (seconds; 0 unknown)
const FIRST_RST = BASE + 4; // side of the first RST, -1
const RST_BEFORE_CLOSE = BASE + 5;
const FIRST_TIME = BASE + 6;
const LAST_TIME = BASE + 7;
const PACKETS = BASE + 8;
const BYTES = BASE + 9; // 2
const COMPLETE = BASE + 11;
const ISN = BASE + 12; // 2, -1 none
const SYN_RETX = BASE + 14;
const SYNACK_RETX = BASE + 15;
const RTT_MS = BASE + 16; // NaN none
const SYN_TIME = BASE + 17; // first SYN time, NaN none (synTimes holds them all once there are two)
const SYNACK_TIME = BASE + 18;
const DATA_THIRD = BASE + 19;
const DATA_SYN = BASE + 20;
const RETX = BASE + 21;
const RESETS = BASE + 22;
const DUPACKS = BASE + 23;
const ZEROWIN = BASE + 24;
const OOO = BASE + 25;
const LOST = BASE + 26;
const FIN_TIME = BASE + 27; // 2, first FIN time of each side, NaN none
const LAST_ACK_TIME = BASE + 29; // NaN none
const PORT = BASE + 30; // 2
const ADDR4 = BASE + 32; // 2, IPv4 addresses as unsigned numbers
const OPT = BASE + 34; // 2 x OPT_FIELDS: the SYN's / SYN-ACK's plain options
const O_MSS = 0;
const O_WSCALE = 1;
const O_SACKPERM = 2;
const O_TS = 3;
const O_TSVAL = 4;
const O_TSECR = 5;
const OPT_FIELDS = 6;
const FIELDS = OPT + 2 * OPT_FIELDS;

const TEMPLATE: number[] = (() => {
  const v = new Array<number>(FIELDS).fill(0);
  initStates(v);
  initSeqFlow(v, FLOW);
  initSeqFlow(v, FLOW + FLOW_FIELDS);
  v[BASE] = v[BASE + 1] = -1;
  v[LAST_SYN] = -1;
  v[FIRST_RST] = -1;
  v[ISN] = v[ISN + 1] = -1;
  v[RTT_MS] = v[SYN_TIME] = v[SYNACK_TIME] = v[FIN_TIME] = v[FIN_TIME + 1] = v[LAST_ACK_TIME] = NaN;
  for (const s of [0, 1]) v[OPT + s * OPT_FIELDS + O_MSS] = v[OPT + s * OPT_FIELDS + O_WSCALE] = -1;
  return v;
})();

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** What few connections need: lists past the first time, unusual options, kept-segment state. */
interface ConnRare {
  synTimes: number[] | null;
  synAckTimes: number[] | null;
  finTimes0: number[] | null;
  finTimes1: number[] | null;
  clientOptions: OptionSummary | null;
  serverOptions: OptionSummary | null;
  out: TcpConnection | null;
  sentAt: [Map<number, number>, Map<number, number>] | null;
  pendingCtx: SegmentContext | null;
}

/**
 * Internal state of one connection: it IS its EndpointStates (one object, one number array:
 * the states' numbers first, then the connection's), plus one lazily made object for the rare
 * fields. Measured ~1.08 KB per connection before (Conn + EndpointStates + two arrays), now less
 * by the second object, the second array and nine pointer fields.
 */
export class Conn extends EndpointStates {
  /** IPv6 only: client address bytes then server address bytes. */
  addr6: Uint8Array | null = null;
  private rare: ConnRare | null = null;

  constructor(readonly id: number, keep: boolean) {
    super(keep, TEMPLATE.slice());
  }

  /** The state machine (this object itself). */
  get states(): EndpointStates {
    return this;
  }

  private get r(): ConnRare {
    return (this.rare ??= { synTimes: null, synAckTimes: null, finTimes0: null, finTimes1: null, clientOptions: null, serverOptions: null, out: null, sentAt: null, pendingCtx: null });
  }

  /** Every SYN / SYN-ACK / FIN time, once there is more than one (or with a model object). */
  get synTimes(): number[] | null { return this.rare === null ? null : this.rare.synTimes; }
  set synTimes(x: number[] | null) { if (x !== null || this.rare !== null) this.r.synTimes = x; }
  get synAckTimes(): number[] | null { return this.rare === null ? null : this.rare.synAckTimes; }
  set synAckTimes(x: number[] | null) { if (x !== null || this.rare !== null) this.r.synAckTimes = x; }
  get finTimes0(): number[] | null { return this.rare === null ? null : this.rare.finTimes0; }
  set finTimes0(x: number[] | null) { if (x !== null || this.rare !== null) this.r.finTimes0 = x; }
  get finTimes1(): number[] | null { return this.rare === null ? null : this.rare.finTimes1; }
  set finTimes1(x: number[] | null) { if (x !== null || this.rare !== null) this.r.finTimes1 = x; }
  /** Option summaries of the SYN and SYN-ACK, when kept whole (model object, or unusual options). */
  get clientOptions(): OptionSummary | null { return this.rare === null ? null : this.rare.clientOptions; }
  set clientOptions(x: OptionSummary | null) { if (x !== null || this.rare !== null) this.r.clientOptions = x; }
  get serverOptions(): OptionSummary | null { return this.rare === null ? null : this.rare.serverOptions; }
  set serverOptions(x: OptionSummary | null) { if (x !== null || this.rare !== null) this.r.serverOptions = x; }
  /** The model object, kept in step (keepSegments / live), else null. */
  get out(): TcpConnection | null { return this.rare === null ? null : this.rare.out; }
  set out(x: TcpConnection | null) { if (x !== null || this.rare !== null) this.r.out = x; }
  /** keepSegments only: last send time of each sequence number, per side, for "after N s". */
  get sentAt(): [Map<number, number>, Map<number, number>] | null { return this.rare === null ? null : this.rare.sentAt; }
  set sentAt(x: [Map<number, number>, Map<number, number>] | null) { if (x !== null || this.rare !== null) this.r.sentAt = x; }
  /** keepSegments only: the handshake ACK whose server-side transition is still pending. */
  get pendingCtx(): SegmentContext | null { return this.rare === null ? null : this.rare.pendingCtx; }
  set pendingCtx(x: SegmentContext | null) { if (x !== null || this.rare !== null) this.r.pendingCtx = x; }

  /** Relative-sequence base of a side (-1 unset). */
  base(side: 0 | 1): number {
    return this.v[BASE + side]!;
  }
}

export class TcpTracker {
  private buckets = new HashBuckets<Conn>();
  readonly conns: Conn[] = [];
  private readonly eager: boolean;

  constructor(
    private readonly keepSegments: boolean,
    private readonly onUpdate?: UpdateListener,
  ) {
    this.eager = keepSegments || onUpdate !== undefined;
  }

  /** One TCP segment with a decoded header. t: seconds since the capture's first packet. */
  onPacket(p: DecodedPacket, t: number, absTime: number): void {
    const hash = hashPairUndirected(p);
    let conn: Conn | undefined;
    let side: 0 | 1 = 0;
    const b = this.buckets.bucket(hash);
    if (b !== undefined) {
      if (Array.isArray(b)) {
        for (let i = 0; i < b.length; i++) {
          const s = matchSide(b[i]!, p);
          if (s >= 0) {
            conn = b[i]!;
            side = s as 0 | 1;
            break;
          }
        }
      } else {
        const s = matchSide(b, p);
        if (s >= 0) {
          conn = b;
          side = s as 0 | 1;
        }
      }
    }
    const flags = p.tcpFlags;
    if (conn !== undefined && (flags & (SYN | ACK)) === SYN && conn.v[BASE + side]! >= 0 && p.seq !== conn.v[BASE + side]) {
      const old = conn;
      conn = this.create(p, t);
      side = matchSide(conn, p) as 0 | 1;
      this.buckets.put(hash, conn, old);
    } else if (conn === undefined) {
      conn = this.create(p, t);
      side = matchSide(conn, p) as 0 | 1;
      this.buckets.put(hash, conn);
    }
    this.segment(conn, side, p, t, absTime);
  }

  private create(p: DecodedPacket, t: number): Conn {
    const synAck = (p.tcpFlags & (SYN | ACK)) === (SYN | ACK);
    const len = p.addrLength;
    const cOff = synAck ? p.dstOffset : p.srcOffset;
    const sOff = synAck ? p.srcOffset : p.dstOffset;
    const c = new Conn(this.conns.length, this.eager);
    const v = c.v;
    v[PORT] = synAck ? p.dstPort : p.srcPort;
    v[PORT + 1] = synAck ? p.srcPort : p.dstPort;
    if (len === 4) {
      v[ADDR4] = u32(p.buf, cOff);
      v[ADDR4 + 1] = u32(p.buf, sOff);
    } else {
      const a = new Uint8Array(32);
      a.set(p.buf.subarray(cOff, cOff + 16), 0);
      a.set(p.buf.subarray(sOff, sOff + 16), 16);
      c.addr6 = a;
    }
    v[FIRST_TIME] = t;
    v[LAST_TIME] = t;
    if (this.eager) {
      c.synTimes = [];
      c.synAckTimes = [];
      c.finTimes0 = [];
      c.finTimes1 = [];
      if (this.keepSegments) c.sentAt = [new Map(), new Map()];
      c.out = this.materialize(c);
    }
    this.conns.push(c);
    return c;
  }

  private segment(c: Conn, side: 0 | 1, p: DecodedPacket, t: number, absTime: number): void {
    const v = c.v;
    const peer = (1 - side) as 0 | 1;
    const flags = p.tcpFlags;
    const seq = p.seq;
    const ack = p.ack;
    const len = p.payloadLength;
    const fwd = FLOW + side * FLOW_FIELDS;
    const rev = FLOW + peer * FLOW_FIELDS;

    // Relative sequence numbers, as Wireshark bases them.
    if (v[BASE + side]! < 0) v[BASE + side] = flags & SYN ? seq : (seq - 1) >>> 0;
    if (v[BASE + peer]! < 0 && flags & ACK) v[BASE + peer] = (ack - 1) >>> 0;

    // Window scaling as Wireshark applies it: SYNs unscaled; known once both SYNs were seen.
    if (flags & SYN) {
      v[fwd + WINSCALE] = p.tcpOptions.wscale >= 0 ? Math.min(p.tcpOptions.wscale, 14) : -2;
      if ((flags & ACK) !== 0 && v[rev + WINSCALE] !== -1 && (v[fwd + WINSCALE] === -2 || v[rev + WINSCALE] === -2)) {
        v[fwd + WINSCALE] = -2;
        v[rev + WINSCALE] = -2;
      }
    }
    const winScale = v[fwd + WINSCALE]!;
    const window = flags & SYN || winScale < 0 ? p.window : p.window * (1 << winScale);

    // Wireshark's initial RTT: most recent SYN to the first ACK without SYN.
    if ((flags & (SYN | ACK)) === ACK && v[FIRST_RTT] === 0 && v[LAST_SYN]! >= 0) v[FIRST_RTT] = t - v[LAST_SYN]! || 1e-9;

    let m = analyzeSequence(v, fwd, rev, seq, ack, len, flags, window, t, v[FIRST_RTT]!);

    // Handshake facts.
    const wasComplete = v[COMPLETE] === 1;
    if ((flags & (SYN | ACK)) === SYN) {
      v[LAST_SYN] = t;
      if (side === CLIENT) {
        if (v[ISN]! < 0) {
          v[ISN] = seq;
          v[DATA_SYN] = len > 0 ? 1 : 0;
          this.keepOptions(c, 0, p, 0);
        } else v[SYN_RETX]++;
        if (c.synTimes !== null) c.synTimes.push(t);
        else if (Number.isNaN(v[SYN_TIME])) v[SYN_TIME] = t;
        else c.synTimes = [v[SYN_TIME]!, t];
      }
    } else if ((flags & (SYN | ACK)) === (SYN | ACK) && side === SERVER) {
      if (v[ISN + 1]! < 0) {
        v[ISN + 1] = seq;
        this.keepOptions(c, 1, p, v[BASE + CLIENT]!);
      } else v[SYNACK_RETX]++;
      if (c.synAckTimes !== null) c.synAckTimes.push(t);
      else if (Number.isNaN(v[SYNACK_TIME])) v[SYNACK_TIME] = t;
      else c.synAckTimes = [v[SYNACK_TIME]!, t];
    } else if (
      !wasComplete && side === CLIENT && (flags & (SYN | ACK | RST)) === ACK && v[ISN]! >= 0 &&
      v[ISN + 1]! >= 0 && seqGE(ack, (v[ISN + 1]! + 1) >>> 0)
    ) {
      v[COMPLETE] = 1;
      v[DATA_THIRD] = len > 0 ? 1 : 0;
      v[RTT_MS] = (t - v[LAST_SYN]!) * 1000;
    }

    // RST kinds, judged on the state before this segment.
    if (flags & RST) {
      v[RESETS]++;
      if (v[FIRST_RST]! < 0) v[FIRST_RST] = side;
      if (c.states.closeCompleteTime < 0) v[RST_BEFORE_CLOSE] = 1;
      if (side === SERVER && c.states.synSeq(CLIENT) >= 0 && c.states.synSeq(SERVER) < 0 && flags & ACK) m |= M_RST_CLOSED_PORT;
      else if (flags & ACK && seq === v[fwd + NEXTSEQ] && v[BYTES + peer]! > 0) {
        const st = c.states.state(side);
        if (st === 'ESTABLISHED' || st === 'CLOSE_WAIT' || st === 'FIN_WAIT_1' || st === 'FIN_WAIT_2') m |= M_RST_UNREAD;
      }
    }

    // Counts.
    v[PACKETS]++;
    v[LAST_TIME] = t;
    v[BYTES + side] += len;
    if (m & RETRANSMITTED) v[RETX]++;
    if (m & M_DUP_ACK) v[DUPACKS]++;
    if (m & M_ZERO_WINDOW) v[ZEROWIN]++;
    if (m & M_OUT_OF_ORDER) v[OOO]++;
    if (m & M_LOST_SEGMENT) v[LOST]++;
    if (flags & 1 /* FIN */) {
      const list = side === CLIENT ? c.finTimes0 : c.finTimes1;
      if (list !== null) list.push(t);
      else if (Number.isNaN(v[FIN_TIME + side])) v[FIN_TIME + side] = t;
      else if (side === CLIENT) c.finTimes0 = [v[FIN_TIME]!, t];
      else c.finTimes1 = [v[FIN_TIME + 1]!, t];
    }

    // States (and, when segments are kept, the record of what this one caused).
    if (this.keepSegments) {
      const o = c.out!;
      this.sync(c, o);
      const before: [TcpState, TcpState] = [c.states.state(0), c.states.state(1)];
      const rec = buildSegmentRecord(c, side, p, t, absTime, m, window);
      const sideName = ['client', 'server'] as const;
      const hadPending = c.states.hasPending;
      c.states.onSegment(side, flags, seq, ack, len, p.index, t, (s, from, to) => {
        rec.transitions.push({ side: sideName[s], from, to });
      });
      if (hadPending) this.settlePending(c);
      const ctx: SegmentContext = { conn: o, side, rec, before, marks: m, resentAfter: previousSend(c, side, p, t), completesHandshake: v[COMPLETE] === 1 && !wasComplete };
      rec.meaning = describeSegment(ctx);
      if (c.states.hasPending && c.pendingCtx === null) c.pendingCtx = ctx;
      o.segments.push(rec);
      if (c.states.closeCompleteTime >= 0 && Number.isNaN(v[LAST_ACK_TIME])) v[LAST_ACK_TIME] = c.states.closeCompleteTime;
      if (this.onUpdate !== undefined) {
        this.refresh(c);
        this.onUpdate(o, rec);
      }
    } else {
      c.states.onSegment(side, flags, seq, ack, len, p.index, t, null);
      if (c.states.closeCompleteTime >= 0 && Number.isNaN(v[LAST_ACK_TIME])) v[LAST_ACK_TIME] = c.states.closeCompleteTime;
      if (this.onUpdate !== undefined) {
        this.refresh(c);
        this.onUpdate(c.out!, null);
      }
    }
  }

  /** The SYN's (side 0) or SYN-ACK's (side 1) options: plain ones as numbers, unusual ones whole. */
  private keepOptions(c: Conn, side: 0 | 1, p: DecodedPacket, sackBase: number): void {
    const o = p.tcpOptions;
    if (this.eager || o.sackCount > 0 || o.tfoPresent || o.unknownCount > 0) {
      if (side === 0) c.clientOptions = optionSummary(p, sackBase);
      else c.serverOptions = optionSummary(p, sackBase);
      return;
    }
    const v = c.v;
    const b = OPT + side * OPT_FIELDS;
    v[b + O_MSS] = o.mss;
    v[b + O_WSCALE] = o.wscale;
    v[b + O_SACKPERM] = o.sackPermitted ? 1 : 0;
    v[b + O_TS] = o.hasTimestamps ? 1 : 0;
    v[b + O_TSVAL] = o.tsVal;
    v[b + O_TSECR] = o.tsEcr;
  }

  /** The held-back server ESTABLISHED was decided: re-word the handshake ACK that caused it. */
  private settlePending(c: Conn): void {
    if (c.states.hasPending || c.pendingCtx === null) return;
    this.sync(c, c.pendingCtx.conn);
    c.pendingCtx.rec.meaning = describeSegment(c.pendingCtx);
    c.pendingCtx = null;
  }

  /** Fills the derived fields (close verdict, TIME_WAIT) of the model object, when there is one. */
  refresh(c: Conn): void {
    if (c.out !== null) this.sync(c, c.out);
  }

  /** Copies the connection's numbers (and derived close verdict) into its model object. */
  private sync(c: Conn, o: TcpConnection): void {
    const v = c.v;
    o.lastTime = v[LAST_TIME]!;
    o.packets = v[PACKETS]!;
    o.bytes.client = v[BYTES]!;
    o.bytes.server = v[BYTES + 1]!;
    const h = o.handshake;
    h.complete = v[COMPLETE] === 1;
    h.clientIsn = v[ISN]! < 0 ? null : v[ISN]!;
    h.serverIsn = v[ISN + 1]! < 0 ? null : v[ISN + 1]!;
    h.synRetransmits = v[SYN_RETX]!;
    h.synAckRetransmits = v[SYNACK_RETX]!;
    h.rttMs = Number.isNaN(v[RTT_MS]) ? null : v[RTT_MS]!;
    h.clientOptions = c.clientOptions ?? plainOptions(v, 0);
    h.serverOptions = c.serverOptions ?? plainOptions(v, 1);
    h.dataInThirdSegment = v[DATA_THIRD] === 1;
    h.dataInSyn = v[DATA_SYN] === 1;
    const verdict = classifyClose(c.states, v[FIRST_RST]!, v[RST_BEFORE_CLOSE] === 1);
    o.close.kind = verdict.kind;
    o.close.initiator = verdict.initiator;
    o.close.lastAckTime = Number.isNaN(v[LAST_ACK_TIME]) ? null : v[LAST_ACK_TIME]!;
    o.timeWait = verdict.timeWait;
    o.retransmissions = v[RETX]!;
    o.resets = v[RESETS]!;
    o.dupAcks = v[DUPACKS]!;
    o.zeroWindows = v[ZEROWIN]!;
    o.outOfOrder = v[OOO]!;
    o.lostSegments = v[LOST]!;
  }

  /** A new model object for c (its lists shared with c when c has them). */
  private materialize(c: Conn): TcpConnection {
    const v = c.v;
    const v4 = c.addr6 === null;
    const clientAddr = v4 ? ipv4Text(v[ADDR4]!) : formatAddress(c.addr6!, 0, 16);
    const serverAddr = v4 ? ipv4Text(v[ADDR4 + 1]!) : formatAddress(c.addr6!, 16, 16);
    const cPort = v[PORT]!;
    const sPort = v[PORT + 1]!;
    const times = (list: number[] | null, first: number): number[] => list ?? (Number.isNaN(first) ? [] : [first]);
    const o: TcpConnection = {
      id: c.id,
      family: v4 ? 4 : 6,
      client: v4 ? `${clientAddr}:${cPort}` : `[${clientAddr}]:${cPort}`,
      server: v4 ? `${serverAddr}:${sPort}` : `[${serverAddr}]:${sPort}`,
      clientAddr,
      clientPort: cPort,
      serverAddr,
      serverPort: sPort,
      firstTime: v[FIRST_TIME]!,
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
        synTimes: times(c.synTimes, v[SYN_TIME]!),
        synAckTimes: times(c.synAckTimes, v[SYNACK_TIME]!),
        clientOptions: {},
        serverOptions: {},
        dataInThirdSegment: false,
        dataInSyn: false,
      },
      close: { kind: 'none', initiator: null, finTimes: { client: times(c.finTimes0, v[FIN_TIME]!), server: times(c.finTimes1, v[FIN_TIME + 1]!) }, lastAckTime: null },
      timeWait: null,
      retransmissions: 0,
      resets: 0,
      dupAcks: 0,
      zeroWindows: 0,
      outOfOrder: 0,
      lostSegments: 0,
      states: { client: c.states.transitionList(CLIENT), server: c.states.transitionList(SERVER) },
      segments: [],
    };
    this.sync(c, o);
    return o;
  }

  /** Ends the capture: pending decisions are taken. Call once, before model(). */
  close(): void {
    for (const c of this.conns) {
      c.states.commitPending();
      this.settlePending(c);
      this.refresh(c);
    }
    this.buckets = new HashBuckets<Conn>(); // the lookup table is not needed any more
  }

  get count(): number {
    return this.conns.length;
  }

  /** The model object of connection i: the kept one, or a new one built now (not retained). */
  model(i: number): TcpConnection {
    const c = this.conns[i]!;
    return c.out ?? this.materialize(c);
  }

  /** close() and every model object (all of them in memory at once). */
  finish(): TcpConnection[] {
    this.close();
    const out: TcpConnection[] = [];
    for (let i = 0; i < this.conns.length; i++) out.push(this.model(i));
    return out;
  }
}

function ipv4Text(a: number): string {
  return `${Math.floor(a / 16777216)}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function plainOptions(v: number[], side: 0 | 1): OptionSummary {
  const b = OPT + side * OPT_FIELDS;
  const s: OptionSummary = {};
  if (v[b + O_MSS]! >= 0) s.mss = v[b + O_MSS]!;
  if (v[b + O_WSCALE]! >= 0) s.wscale = v[b + O_WSCALE]!;
  if (v[b + O_SACKPERM] === 1) s.sackPermitted = true;
  if (v[b + O_TS] === 1) s.timestamps = [v[b + O_TSVAL]!, v[b + O_TSECR]!];
  return s;
}

/** 0 when p goes client -> server, 1 when server -> client, -1 when p is not this connection. */
function matchSide(c: Conn, p: DecodedPacket): number {
  const v = c.v;
  const cPort = v[PORT];
  const sPort = v[PORT + 1];
  const a6 = c.addr6;
  if (p.addrLength === 4) {
    if (a6 !== null) return -1;
    if (p.srcPort === cPort && p.dstPort === sPort && u32(p.buf, p.srcOffset) === v[ADDR4] && u32(p.buf, p.dstOffset) === v[ADDR4 + 1]) return 0;
    if (p.srcPort === sPort && p.dstPort === cPort && u32(p.buf, p.srcOffset) === v[ADDR4 + 1] && u32(p.buf, p.dstOffset) === v[ADDR4]) return 1;
    return -1;
  }
  if (a6 === null) return -1;
  if (p.srcPort === cPort && p.dstPort === sPort && bytesEqual(p.buf, p.srcOffset, a6, 0, 16) && bytesEqual(p.buf, p.dstOffset, a6, 16, 16)) return 0;
  if (p.srcPort === sPort && p.dstPort === cPort && bytesEqual(p.buf, p.srcOffset, a6, 16, 16) && bytesEqual(p.buf, p.dstOffset, a6, 0, 16)) return 1;
  return -1;
}
