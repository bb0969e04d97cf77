/**
 * TCP connections by 4-tuple, split the way tshark's tcp.stream splits them: a SYN (without ACK)
 * whose sequence number differs from the base sequence number already known for its direction
 * starts a NEW connection (a reused 4-tuple, whether or not the old one was closed); a SYN with
 * the same ISN after a close or a RST is a retransmission in the same connection, as in tshark.
 *
 * Roles: the client sent the first SYN (without ACK); when the first packet is a SYN-ACK the
 * client is its receiver; with no SYN at all, the client sent the first packet.
 *
 * Hot path (keepSegments false): a numeric hash of the address bytes and ports, an exact byte
 * compare, number updates. Strings are built once, when a connection is created.
 */
import type { DecodedPacket } from '../decode/packet.js';
import { SYN, ACK, RST } from '../decode/packet.js';
import { formatAddress } from '../decode/address.js';
import type { SegmentRecord, TcpConnection, TcpState } from './model.js';
import { HashBuckets, bytesEqual, copyAddress, hashPairUndirected } from './flow-key.js';
import {
  analyzeSequence, newSeqFlow, RETRANSMITTED, M_DUP_ACK, M_ZERO_WINDOW, M_OUT_OF_ORDER, M_LOST_SEGMENT,
  M_RST_CLOSED_PORT, M_RST_UNREAD, seqGE, type SeqFlow,
} from './tcp-marks.js';
import { EndpointStates, CLIENT, SERVER } from './tcp-states.js';
import { classifyClose } from './tcp-close.js';
import { optionSummary, buildSegmentRecord, previousSend } from './segment-record.js';
import { describeSegment, type SegmentContext } from './meaning.js';

export type UpdateListener = (conn: TcpConnection, seg: SegmentRecord | null) => void;

/** Internal state of one connection; `out` is the model object reports read. */
export class Conn {
  hash = 0;
  addr: [Uint8Array, Uint8Array];
  port: [number, number];
  flows: [SeqFlow, SeqFlow] = [newSeqFlow(), newSeqFlow()];
  base: [number, number] = [0, 0];
  baseSet: [boolean, boolean] = [false, false];
  states = new EndpointStates();
  lastSynTime = -1; // most recent pure SYN (Wireshark's ts_mru_syn)
  firstRtt = 0; // Wireshark's ts_first_rtt (seconds; 0 unknown)
  firstRst: -1 | 0 | 1 = -1;
  rstBeforeClose = false;
  /** keepSegments only: last send time of each sequence number, per side, for "after N s". */
  sentAt: [Map<number, number>, Map<number, number>] | null = null;
  /** keepSegments only: the handshake ACK whose server-side transition is still pending. */
  pendingCtx: SegmentContext | null = null;
  constructor(
    public out: TcpConnection,
    a: Uint8Array,
    aPort: number,
    b: Uint8Array,
    bPort: number,
  ) {
    this.addr = [a, b];
    this.port = [aPort, bPort];
  }
}

export class TcpTracker {
  private buckets = new HashBuckets<Conn>();
  readonly conns: Conn[] = [];

  constructor(
    private readonly keepSegments: boolean,
    private readonly onUpdate?: UpdateListener,
  ) {}

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
    if (conn !== undefined && (flags & (SYN | ACK)) === SYN && conn.baseSet[side] && p.seq !== conn.base[side]) {
      const old = conn;
      conn = this.create(p, t, hash);
      side = matchSide(conn, p) as 0 | 1;
      this.buckets.put(hash, conn, old);
    } else if (conn === undefined) {
      conn = this.create(p, t, hash);
      side = matchSide(conn, p) as 0 | 1;
      this.buckets.put(hash, conn);
    }
    this.segment(conn, side, p, t, absTime);
  }

  private create(p: DecodedPacket, t: number, hash: number): Conn {
    const synAck = (p.tcpFlags & (SYN | ACK)) === (SYN | ACK);
    const len = p.addrLength;
    const cOff = synAck ? p.dstOffset : p.srcOffset;
    const sOff = synAck ? p.srcOffset : p.dstOffset;
    const cPort = synAck ? p.dstPort : p.srcPort;
    const sPort = synAck ? p.srcPort : p.dstPort;
    const clientAddr = formatAddress(p.buf, cOff, len);
    const serverAddr = formatAddress(p.buf, sOff, len);
    const ep = (a: string, port: number): string => (len === 4 ? `${a}:${port}` : `[${a}]:${port}`);
    const out: TcpConnection = {
      id: this.conns.length,
      family: len === 4 ? 4 : 6,
      client: ep(clientAddr, cPort),
      server: ep(serverAddr, sPort),
      clientAddr,
      clientPort: cPort,
      serverAddr,
      serverPort: sPort,
      firstTime: t,
      lastTime: t,
      packets: 0,
      bytes: { client: 0, server: 0 },
      handshake: {
        complete: false,
        clientIsn: null,
        serverIsn: null,
        synRetransmits: 0,
        synAckRetransmits: 0,
        rttMs: null,
        synTimes: [],
        synAckTimes: [],
        clientOptions: {},
        serverOptions: {},
        dataInThirdSegment: false,
        dataInSyn: false,
      },
      close: { kind: 'none', initiator: null, finTimes: { client: [], server: [] }, lastAckTime: null },
      timeWait: null,
      retransmissions: 0,
      resets: 0,
      dupAcks: 0,
      zeroWindows: 0,
      outOfOrder: 0,
      lostSegments: 0,
      states: { client: [], server: [] },
      segments: [],
    };
    const c = new Conn(out, copyAddress(p.buf, cOff, len), cPort, copyAddress(p.buf, sOff, len), sPort);
    c.hash = hash;
    out.states.client = c.states.transitions[CLIENT];
    out.states.server = c.states.transitions[SERVER];
    if (this.keepSegments) c.sentAt = [new Map(), new Map()];
    this.conns.push(c);
    return c;
  }

  private segment(c: Conn, side: 0 | 1, p: DecodedPacket, t: number, absTime: number): void {
    const o = c.out;
    const peer = (1 - side) as 0 | 1;
    const flags = p.tcpFlags;
    const seq = p.seq;
    const ack = p.ack;
    const len = p.payloadLength;
    const fwd = c.flows[side];
    const rev = c.flows[peer];

    // Relative sequence numbers, as Wireshark bases them.
    if (!c.baseSet[side]) {
      c.base[side] = flags & SYN ? seq : (seq - 1) >>> 0;
      c.baseSet[side] = true;
    }
    if (!c.baseSet[peer] && flags & ACK) {
      c.base[peer] = (ack - 1) >>> 0;
      c.baseSet[peer] = true;
    }

    // Window scaling as Wireshark applies it: SYNs unscaled; known once both SYNs were seen.
    if (flags & SYN) {
      fwd.winScale = p.tcpOptions.wscale >= 0 ? Math.min(p.tcpOptions.wscale, 14) : -2;
      if ((flags & ACK) !== 0 && rev.winScale !== -1 && (fwd.winScale === -2 || rev.winScale === -2)) {
        fwd.winScale = -2;
        rev.winScale = -2;
      }
    }
    const window = flags & SYN || fwd.winScale < 0 ? p.window : p.window * (1 << fwd.winScale);

    // Wireshark's initial RTT: most recent SYN to the first ACK without SYN.
    if ((flags & (SYN | ACK)) === ACK && c.firstRtt === 0 && c.lastSynTime >= 0) c.firstRtt = t - c.lastSynTime || 1e-9;

    let m = analyzeSequence(fwd, rev, seq, ack, len, flags, window, t, c.firstRtt);

    // Handshake facts.
    const h = o.handshake;
    const wasComplete = h.complete;
    if ((flags & (SYN | ACK)) === SYN) {
      c.lastSynTime = t;
      if (side === CLIENT) {
        if (h.clientIsn === null) {
          h.clientIsn = seq;
          h.dataInSyn = len > 0;
          h.clientOptions = optionSummary(p, 0);
        } else h.synRetransmits++;
        h.synTimes.push(t);
      }
    } else if ((flags & (SYN | ACK)) === (SYN | ACK) && side === SERVER) {
      if (h.serverIsn === null) {
        h.serverIsn = seq;
        h.serverOptions = optionSummary(p, c.base[CLIENT]);
      } else h.synAckRetransmits++;
      h.synAckTimes.push(t);
    } else if (
      !h.complete && side === CLIENT && (flags & (SYN | ACK | RST)) === ACK && h.clientIsn !== null &&
      h.serverIsn !== null && seqGE(ack, (h.serverIsn + 1) >>> 0)
    ) {
      h.complete = true;
      h.dataInThirdSegment = len > 0;
      h.rttMs = (t - c.lastSynTime) * 1000;
    }

    // RST kinds, judged on the state before this segment.
    if (flags & RST) {
      o.resets++;
      if (c.firstRst < 0) c.firstRst = side;
      if (c.states.closeCompleteTime < 0) c.rstBeforeClose = true;
      const st = c.states.state[side];
      if (side === SERVER && c.states.synSeq[CLIENT] >= 0 && c.states.synSeq[SERVER] < 0 && flags & ACK) m |= M_RST_CLOSED_PORT;
      else if (
        flags & ACK && seq === fwd.nextseq && o.bytes[side === CLIENT ? 'server' : 'client'] > 0 &&
        (st === 'ESTABLISHED' || st === 'CLOSE_WAIT' || st === 'FIN_WAIT_1' || st === 'FIN_WAIT_2')
      ) {
        m |= M_RST_UNREAD;
      }
    }

    // Counts.
    o.packets++;
    o.lastTime = t;
    if (side === CLIENT) o.bytes.client += len;
    else o.bytes.server += len;
    if (m & RETRANSMITTED) o.retransmissions++;
    if (m & M_DUP_ACK) o.dupAcks++;
    if (m & M_ZERO_WINDOW) o.zeroWindows++;
    if (m & M_OUT_OF_ORDER) o.outOfOrder++;
    if (m & M_LOST_SEGMENT) o.lostSegments++;
    if (flags & 1 /* FIN */) (side === CLIENT ? o.close.finTimes.client : o.close.finTimes.server).push(t);

    // States (and, when segments are kept, the record of what this one caused).
    let rec: SegmentRecord | null = null;
    if (this.keepSegments) {
      const before: [TcpState, TcpState] = [c.states.state[0], c.states.state[1]];
      rec = buildSegmentRecord(c, side, p, t, absTime, m, window);
      const r = rec;
      const sideName = ['client', 'server'] as const;
      const hadPending = c.states.hasPending;
      c.states.onSegment(side, flags, seq, ack, len, p.index, t, (s, from, to) => {
        r.transitions.push({ side: sideName[s], from, to });
      });
      if (hadPending) this.settlePending(c);
      const ctx: SegmentContext = { conn: c.out, side, rec, before, marks: m, resentAfter: previousSend(c, side, p, t), completesHandshake: h.complete && !wasComplete };
      rec.meaning = describeSegment(ctx);
      if (c.states.hasPending && c.pendingCtx === null) c.pendingCtx = ctx;
      o.segments.push(rec);
    } else {
      c.states.onSegment(side, flags, seq, ack, len, p.index, t, null);
    }
    const lastAckBefore = o.close.lastAckTime;
    if (c.states.closeCompleteTime >= 0 && lastAckBefore === null) o.close.lastAckTime = c.states.closeCompleteTime;
    if (this.onUpdate !== undefined) {
      this.refresh(c);
      this.onUpdate(o, rec);
    }
  }

  /** The held-back server ESTABLISHED was decided: re-word the handshake ACK that caused it. */
  private settlePending(c: Conn): void {
    if (c.states.hasPending || c.pendingCtx === null) return;
    c.pendingCtx.rec.meaning = describeSegment(c.pendingCtx);
    c.pendingCtx = null;
  }

  /** Fills the derived fields (close verdict, TIME_WAIT) of one connection. */
  refresh(c: Conn): void {
    const v = classifyClose(c.states, c.firstRst, c.rstBeforeClose);
    c.out.close.kind = v.kind;
    c.out.close.initiator = v.initiator;
    c.out.timeWait = v.timeWait;
  }

  finish(): TcpConnection[] {
    const out: TcpConnection[] = [];
    for (const c of this.conns) {
      c.states.commitPending();
      this.settlePending(c);
      this.refresh(c);
      out.push(c.out);
    }
    return out;
  }
}

/** 0 when p goes client -> server, 1 when server -> client, -1 when p is not this connection. */
function matchSide(c: Conn, p: DecodedPacket): number {
  const len = p.addrLength;
  const a = c.addr[0];
  if (a.length !== len) return -1;
  const b = c.addr[1];
  if (
    p.srcPort === c.port[0] && p.dstPort === c.port[1] &&
    bytesEqual(p.buf, p.srcOffset, a, 0, len) && bytesEqual(p.buf, p.dstOffset, b, 0, len)
  ) return 0;
  if (
    p.srcPort === c.port[1] && p.dstPort === c.port[0] &&
    bytesEqual(p.buf, p.srcOffset, b, 0, len) && bytesEqual(p.buf, p.dstOffset, a, 0, len)
  ) return 1;
  return -1;
}
