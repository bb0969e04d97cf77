/**
 * Each endpoint's RFC 9293 state, inferred from the segments both sides sent.
 *
 * The rule: a transition is recorded at the segment that PROVES it. A segment proves what its
 * sender did (SYN -> SYN_SENT, FIN -> FIN_WAIT_1 / LAST_ACK, RST -> CLOSED) and, through its ACK
 * field, what its sender had received (the SYN-ACK: client -> ESTABLISHED; the peer's FIN:
 * ESTABLISHED -> CLOSE_WAIT, FIN_WAIT_2 -> TIME_WAIT). The peer's side of an ACK (its SYN or FIN
 * acknowledged: SYN_RCVD -> ESTABLISHED, FIN_WAIT_1 -> FIN_WAIT_2, CLOSING -> TIME_WAIT,
 * LAST_ACK -> CLOSED) is taken at the same instant (loopback: sent = received).
 *
 * One exception to proof-dating: CLOSE_WAIT is dated at the FIN copy that the ACK proves arrived,
 * since the kernel enters it on the FIN and may delay the ACK by ~40 ms (seen on loopback).
 * So a four-way close reads: FIN (A: FIN_WAIT_1, B: CLOSE_WAIT once the ACK proves it), ACK (A: FIN_WAIT_2), FIN
 * (B: LAST_ACK), ACK (A: TIME_WAIT, B: CLOSED); a three-way close: FIN (A: FIN_WAIT_1), FIN+ACK
 * (B: CLOSE_WAIT, LAST_ACK; A: FIN_WAIT_2), ACK (A: TIME_WAIT, B: CLOSED). When the FINs crossed
 * (the second FIN does not acknowledge the first), a side whose FIN is acknowledged before it
 * acknowledged the peer's stays FIN_WAIT_1 until its own ACK of the peer's FIN proves it got
 * that FIN: sent before the ACK of its own (in-order delivery: CLOSING, then TIME_WAIT) or after
 * (FIN_WAIT_2, then TIME_WAIT); never acknowledged by the end of the capture: FIN_WAIT_2.
 *
 * The first segment proves what came before it, kept as assumed states (the path starts there,
 * no transition; `start` says so): a SYN-ACK first, its receiver's SYN_SENT; a segment without
 * SYN (or RST) first, both sides' ESTABLISHED.
 *
 * The server's ESTABLISHED on the handshake's last ACK is held back until the server sends a
 * segment that is not a SYN-ACK (or the capture ends): if it retransmits its SYN-ACK instead, that
 * ACK never reached it (dropped at its input, still captured) and it stays in SYN_RCVD; after
 * that, a RST from the server is taken as sent from SYN_RCVD too.
 * RST: the sender and the receiver go to CLOSED (not checked against the receive window).
 *
 * Memory: everything numeric lives in the tracker's shared typed-array pages (no object per
 * connection, no boxed numbers): STATE_ROW is a block of the connection's row layout (its doubles
 * and its int32s, src/analyze/row-layout.ts); EndpointStates is a cursor
 * pointed at one connection at a time. The states a side went through are kept as 4-bit state codes packed into a
 * number (an array only past 13 states). Full StateTransition records (time, packet, cause) are kept
 * only when asked (keepTransitions: the text report, the ladder, the labs).
 */
import { FIN, SYN, RST, ACK, type DecodedPacket } from '../decode/packet.js';
import type { StateTransition } from './model.js';
import { TCP_STATES, type TcpState } from '../tcp-state.js';
import { int, num, rowLayout } from './row-layout.js';
import { seqGE } from './tcp-marks.js';

export const CLIENT = 0;
export const SERVER = 1;

/** State codes: the index in TCP_STATES (4 bits each in a packed path). */
const CLOSED = TCP_STATES.indexOf('CLOSED');
const LISTEN = TCP_STATES.indexOf('LISTEN');
const SYN_SENT = TCP_STATES.indexOf('SYN_SENT');
const SYN_RCVD = TCP_STATES.indexOf('SYN_RCVD');
const ESTABLISHED = TCP_STATES.indexOf('ESTABLISHED');
const FIN_WAIT_1 = TCP_STATES.indexOf('FIN_WAIT_1');
const FIN_WAIT_2 = TCP_STATES.indexOf('FIN_WAIT_2');
const CLOSE_WAIT = TCP_STATES.indexOf('CLOSE_WAIT');
const CLOSING = TCP_STATES.indexOf('CLOSING');
const LAST_ACK = TCP_STATES.indexOf('LAST_ACK');
const TIME_WAIT = TCP_STATES.indexOf('TIME_WAIT');

/**
 * Where the capture picked a connection up (TcpConnection.start): at its first SYN (every state
 * seen from CLOSED); at the SYN-ACK (the client's SYN_SENT assumed: the SYN-ACK proves it sent a
 * SYN); mid-stream (no SYN or SYN-ACK first: both sides' ESTABLISHED assumed, not seen, unless the
 * first segment is a RST).
 */
export const START_NAMES = ['syn', 'syn-ack', 'mid-stream'] as const;
export type ConnStart = (typeof START_NAMES)[number];
const START_SYN = 0;
const START_SYN_ACK = 1;
const START_MID_STREAM = 2;

/**
 * The numbers EndpointStates keeps in a connection's rows (a block of the connection's layout);
 * pairs are per side (client 0, server 1).
 */
export const STATE_ROW = rowLayout({
  synSeq: num(-1, 2), // ISN of each side's SYN, -1 until seen
  finEnd: num(-1, 2), // the ack value that acknowledges each side's first FIN, -1 until a FIN is sent
  lastFinTime: num(0, 2),
  path: num(0, 2), // packed state codes of the side's path
  closeComplete: num(-1), // time both FINs were acknowledged, -1
  lastSynTime: num(0),
  pendingTime: num(0),
  state: int(CLOSED, 2), // state code
  finAcked: int(0, 2), // 0/1
  lastFinPacket: int(-1, 2), // the latest copy of each side's FIN (a retransmission replaces a lost first copy)
  pathLen: int(0, 2),
  firstFin: int(-1), // the side that sent the first FIN
  crossed: int(0), // the second FIN was sent before its sender got the first
  separateAck: int(0), // a separate (non-FIN) segment of the second closer acknowledged the first FIN
  started: int(0),
  ackLost: int(0), // the server resent its SYN-ACK after an ACK of it was captured
  pending: int(0), // 1: the server's ESTABLISHED is held back
  pendingPacket: int(0),
  // Crossed FINs: the packet that acknowledged a side's FIN while that side had not yet proved it
  // received the peer's (0 none); the side stays FIN_WAIT_1 until its own ACK of the peer's FIN
  // (CLOSING, TIME_WAIT) or the end of the capture (FIN_WAIT_2) decides.
  crossedAckPacket: int(0, 2),
  crossedAckTime: num(0, 2),
  start: int(START_SYN), // START_*: where the capture picked the connection up
});
const {
  synSeq: SYNSEQ, finEnd: FINEND, lastFinTime: LASTFINTIME, path: PATH, closeComplete: CLOSE_COMPLETE, lastSynTime: LAST_SYN_TIME,
  pendingTime: PENDING_TIME, state: STATE, finAcked: FINACKED, lastFinPacket: LASTFINPACKET, pathLen: PATHLEN, firstFin: FIRSTFIN,
  crossed: CROSSED, separateAck: SEPARATE_ACK, started: STARTED, ackLost: ACK_LOST, pending: PENDING, pendingPacket: PENDING_PACKET,
  crossedAckPacket: CROSSED_ACK_PACKET, crossedAckTime: CROSSED_ACK_TIME, start: START,
} = STATE_ROW.at;
export { PATH, PATHLEN, STATE };
/** Path codes kept in the row's double (13 codes of 4 bits stay exact); state-path.ts reads them. */
export const PACKED_MAX = 13;

export interface TransitionSink {
  /** `packet`: the packet the transition is dated at (earlier than the current one for CLOSE_WAIT). */
  (side: 0 | 1, from: TcpState, to: TcpState, packet: number | null): void;
}

/** What few connections need beside their numbers: kept transitions, long paths, a pending sink. */
export interface StatesExtra {
  /** Full transition records, only with keepTransitions (made with the connection). */
  transitions: [StateTransition[], StateTransition[]] | null;
  /** Codes past PACKED_MAX, per side (rare). */
  overflow: [number[], number[]] | null;
  pendingSink: TransitionSink | null;
}

/**
 * A cursor over the connections' numbers: at(num, numAt, int, intAt, id) points it at one connection (its
 * STATE_ROW block); every method then works on that connection. One cursor per
 * tracker: no object per connection. `extras[id]` holds a connection's StatesExtra, if any.
 */
export class EndpointStates {
  /** The connection's doubles and where its STATE_ROW block starts in them. */
  num: Float64Array = new Float64Array(STATE_ROW.numSize);
  numAt = 0;
  /** The connection's int32s and where its block starts in them. */
  int: Int32Array = new Int32Array(STATE_ROW.intSize);
  intAt = 0;
  id = 0;

  constructor(
    private readonly keepTransitions: boolean,
    private readonly extras: (StatesExtra | null)[],
    private readonly newExtra: () => StatesExtra,
  ) {}

  /** Points the cursor at connection id, whose block starts at num[numAt] (doubles) and int[intAt] (int32s). */
  at(num: Float64Array, numAt: number, int: Int32Array, intAt: number, id: number): this {
    this.num = num;
    this.numAt = numAt;
    this.int = int;
    this.intAt = intAt;
    this.id = id;
    return this;
  }

  private extra(): StatesExtra {
    return (this.extras[this.id] ??= this.newExtra());
  }

  /** The current state of a side. */
  state(side: 0 | 1): TcpState {
    return TCP_STATES[this.int[this.intAt + STATE + side]!]!;
  }
  synSeq(side: 0 | 1): number {
    return this.num[this.numAt + SYNSEQ + side]!;
  }
  finSent(side: 0 | 1): boolean {
    return this.num[this.numAt + FINEND + side]! >= 0;
  }
  /** The peer acknowledged this side's first FIN. */
  finAcked(side: 0 | 1): boolean {
    return this.int[this.intAt + FINACKED + side] === 1;
  }
  /** The side that sent the first FIN, -1 when none. */
  get firstFin(): number {
    return this.int[this.intAt + FIRSTFIN]!;
  }
  get crossed(): boolean {
    return this.int[this.intAt + CROSSED] === 1;
  }
  get separateAckOfFirstFin(): boolean {
    return this.int[this.intAt + SEPARATE_ACK] === 1;
  }
  get closeCompleteTime(): number {
    return this.num[this.numAt + CLOSE_COMPLETE]!;
  }

  /**
   * Feeds one segment sent by `side` (at p.t). Transitions are recorded and reported to `sink`
   * (when given) so a kept segment can list what it caused.
   */
  onSegment(side: 0 | 1, p: DecodedPacket, sink: TransitionSink | null): void {
    const flags = p.tcpFlags;
    const seq = p.seq;
    const ack = p.ack;
    const len = p.payloadLength;
    const packet = p.index;
    const time = p.t;
    const num = this.num;
    const numAt = this.numAt;
    const int = this.int;
    const intAt = this.intAt;
    const peer = (1 - side) as 0 | 1;
    if (int[intAt + STARTED] === 0) {
      int[intAt + STARTED] = 1;
      // What the first segment proves about the states before it (assumed, not seen: no transition).
      if ((flags & (SYN | ACK)) === (SYN | ACK)) {
        int[intAt + START] = START_SYN_ACK;
        this.assume(peer, SYN_SENT); // the SYN-ACK's receiver had sent a SYN
      } else if ((flags & SYN) === 0) {
        int[intAt + START] = START_MID_STREAM;
        if ((flags & RST) === 0) {
          this.assume(CLIENT, ESTABLISHED);
          this.assume(SERVER, ESTABLISHED);
        }
      }
    }

    if (side === SERVER && int[intAt + PENDING] === 1) {
      if ((flags & SYN) !== 0) {
        this.dropPending(); // SYN-ACK again: the ACK was lost
        int[intAt + ACK_LOST] = 1;
      } else if ((flags & RST) !== 0 && int[intAt + ACK_LOST] === 1) {
        this.dropPending(); // it never got an ACK: it resets from SYN_RCVD
      } else this.commitPending();
    }

    if (flags & RST) {
      int[intAt + CROSSED_ACK_PACKET] = 0;
      int[intAt + CROSSED_ACK_PACKET + 1] = 0;
      if (int[intAt + STATE + side] !== CLOSED) this.go(side, CLOSED, packet, time, 'sent RST', sink);
      if (int[intAt + STATE + peer] !== CLOSED) this.go(peer, CLOSED, packet, time, 'received RST', sink);
      this.dropPending();
      return;
    }

    if (flags & SYN) {
      if ((flags & ACK) === 0) {
        if (int[intAt + STATE + side] === CLOSED) this.go(side, SYN_SENT, packet, time, 'sent SYN (active open)', sink);
        num[numAt + LAST_SYN_TIME] = time;
      } else if (int[intAt + STATE + side] === CLOSED) {
        this.go(side, LISTEN, null, num[numAt + LAST_SYN_TIME] || time, 'inferred: it was listening (it answered the SYN)', sink);
        this.go(side, SYN_RCVD, packet, time, 'received SYN, sent SYN-ACK', sink);
      } else if (int[intAt + STATE + side] === SYN_SENT) {
        this.go(side, SYN_RCVD, packet, time, 'simultaneous open: received SYN, sent SYN-ACK', sink);
      }
      if (num[numAt + SYNSEQ + side]! < 0) num[numAt + SYNSEQ + side] = seq;
    }

    if (flags & ACK) {
      // What the sender proves it received: the peer's SYN.
      if (num[numAt + SYNSEQ + peer]! >= 0 && seqGE(ack, (num[numAt + SYNSEQ + peer]! + 1) >>> 0)) {
        if (int[intAt + STATE + side] === SYN_SENT && (flags & SYN) === 0) {
          this.go(side, ESTABLISHED, packet, time, 'received SYN-ACK, sent ACK', sink);
        }
        if (int[intAt + STATE + peer] === SYN_RCVD && (flags & SYN) === 0) {
          if (peer === SERVER) {
            if (int[intAt + PENDING] === 0) {
              int[intAt + PENDING] = 1;
              int[intAt + PENDING_PACKET] = packet;
              num[numAt + PENDING_TIME] = time;
              if (sink !== null) this.extra().pendingSink = sink;
            }
          } else this.go(peer, ESTABLISHED, packet, time, 'received the ACK of its SYN-ACK', sink);
        }
      }
      // ... and the peer's FIN.
      if (num[numAt + FINEND + peer]! >= 0 && int[intAt + FINACKED + peer] === 0 && seqGE(ack, num[numAt + FINEND + peer]!)) {
        int[intAt + FINACKED + peer] = 1;
        if (num[numAt + FINEND + side]! < 0 && (flags & FIN) === 0) int[intAt + SEPARATE_ACK] = 1;
        this.commitPending();
        this.receiveFin(side, packet, time, sink);
        this.ownFinAcked(peer, packet, time, sink);
        if (int[intAt + FINACKED + side] === 1) num[numAt + CLOSE_COMPLETE] = time;
      }
    }

    if (flags & FIN) {
      int[intAt + LASTFINPACKET + side] = packet;
      num[numAt + LASTFINTIME + side] = time;
    }
    if ((flags & FIN) && num[numAt + FINEND + side]! < 0) {
      num[numAt + FINEND + side] = (seq + len + 1) >>> 0;
      if (int[intAt + FIRSTFIN]! < 0) int[intAt + FIRSTFIN] = side;
      else if (int[intAt + FINACKED + peer] === 0) int[intAt + CROSSED] = 1; // sent before it got the peer's FIN
      const s = int[intAt + STATE + side];
      if (s === ESTABLISHED || s === SYN_RCVD) {
        this.commitPending();
        this.go(side, FIN_WAIT_1, packet, time, int[intAt + FIRSTFIN] === side ? 'sent FIN (closes first)' : 'sent FIN before receiving the peer\'s (simultaneous close)', sink);
      } else if (s === CLOSE_WAIT) {
        this.go(side, LAST_ACK, packet, time, 'sent FIN (closes second)', sink);
      }
    }
  }

  /** `side` proved it received the peer's FIN. */
  private receiveFin(side: 0 | 1, packet: number, time: number, sink: TransitionSink | null): void {
    const num = this.num;
    const numAt = this.numAt;
    const int = this.int;
    const intAt = this.intAt;
    const s = int[intAt + STATE + side];
    if (s === ESTABLISHED || s === SYN_RCVD) {
      // The kernel enters CLOSE_WAIT when the FIN arrives, not when it ACKs it (the ACK may be
      // delayed ~40 ms): date the transition at the FIN copy this ACK proves arrived.
      const peer = (1 - side) as 0 | 1;
      const finPacket = int[intAt + LASTFINPACKET + peer]!;
      const atFin = finPacket > 0 && finPacket <= packet;
      this.go(side, CLOSE_WAIT, atFin ? finPacket : packet, atFin ? num[numAt + LASTFINTIME + peer]! : time,
        atFin ? (!this.keepTransitions ? '' : `received FIN (its ACK, packet ${packet}, proves it)`) : 'received FIN, sent ACK', sink);
    }
    else if (s === FIN_WAIT_1) {
      const ackedAt = int[intAt + CROSSED_ACK_PACKET + side]!;
      if (ackedAt === 0) this.go(side, CLOSING, packet, time, 'received FIN while its own FIN was unacknowledged', sink);
      else {
        // Its own FIN was acknowledged (packet ackedAt) before this proof that it got the peer's:
        // the copy of the peer's FIN it got was sent before that ACK (in-order delivery: it was
        // in CLOSING when the ACK came) or after it (it was in FIN_WAIT_2).
        int[intAt + CROSSED_ACK_PACKET + side] = 0;
        const peerFin = int[intAt + LASTFINPACKET + 1 - side]!;
        if (peerFin > 0 && peerFin < ackedAt) {
          this.go(side, CLOSING, packet, time, `had received the crossing FIN before the ACK of its own (packet ${ackedAt})`, sink);
          this.go(side, TIME_WAIT, packet, time, 'acknowledged the crossing FIN; its own was acknowledged', sink);
        } else {
          this.go(side, FIN_WAIT_2, ackedAt, num[numAt + CROSSED_ACK_TIME + side]!, 'its FIN was acknowledged', sink);
          this.go(side, TIME_WAIT, packet, time, 'received FIN, sent the last ACK', sink);
        }
      }
    } else if (s === FIN_WAIT_2) this.go(side, TIME_WAIT, packet, time, 'received FIN, sent the last ACK', sink);
  }

  /** `side`'s FIN was acknowledged by its peer. */
  private ownFinAcked(side: 0 | 1, packet: number, time: number, sink: TransitionSink | null): void {
    const s = this.int[this.intAt + STATE + side];
    if (s === FIN_WAIT_1) {
      if (this.int[this.intAt + CROSSED] === 1) {
        // Whether it got the crossing FIN first is proven only by its own ACK of it: held back.
        this.int[this.intAt + CROSSED_ACK_PACKET + side] = packet;
        this.num[this.numAt + CROSSED_ACK_TIME + side] = time;
      } else this.go(side, FIN_WAIT_2, packet, time, 'its FIN was acknowledged', sink);
    } else if (s === CLOSING) this.go(side, TIME_WAIT, packet, time, 'its FIN was acknowledged', sink);
    else if (s === LAST_ACK) this.go(side, CLOSED, packet, time, 'received the last ACK', sink);
  }

  get hasPending(): boolean {
    return this.int[this.intAt + PENDING] === 1;
  }

  private dropPending(): void {
    this.int[this.intAt + PENDING] = 0;
    const x = this.extras[this.id];
    if (x != null) x.pendingSink = null;
  }

  /**
   * The capture ended: the held-back decisions are taken. The server's ESTABLISHED counts; a side
   * whose FIN was acknowledged after crossing FINs, and which never acknowledged the peer's FIN,
   * is in FIN_WAIT_2 (nothing proves it received that FIN).
   */
  endOfCapture(): void {
    this.commitPending();
    for (const side of [CLIENT, SERVER] as const) {
      const ackedAt = this.int[this.intAt + CROSSED_ACK_PACKET + side]!;
      if (ackedAt === 0) continue;
      this.int[this.intAt + CROSSED_ACK_PACKET + side] = 0;
      if (this.int[this.intAt + STATE + side] === FIN_WAIT_1) {
        this.go(side, FIN_WAIT_2, ackedAt, this.num[this.numAt + CROSSED_ACK_TIME + side]!, 'its FIN was acknowledged (it never acknowledged the crossing FIN)', null);
      }
    }
  }

  /** Where the capture picked the connection up. */
  get start(): ConnStart {
    return START_NAMES[this.int[this.intAt + START]!]!;
  }

  /** The capture ended (or the server spoke): an ACK of the SYN-ACK that was not contradicted counts. */
  commitPending(): void {
    const num = this.num;
    const numAt = this.numAt;
    const int = this.int;
    const intAt = this.intAt;
    if (int[intAt + PENDING] === 0) return;
    const sink = this.extras[this.id]?.pendingSink ?? null;
    this.dropPending();
    if (int[intAt + STATE + SERVER] === SYN_RCVD) this.go(SERVER, ESTABLISHED, int[intAt + PENDING_PACKET]!, num[numAt + PENDING_TIME]!, 'received the ACK of its SYN-ACK', sink);
  }

  private go(side: 0 | 1, to: number, packet: number | null, time: number, cause: string, sink: TransitionSink | null): void {
    const num = this.num;
    const numAt = this.numAt;
    const int = this.int;
    const intAt = this.intAt;
    const from = int[intAt + STATE + side]!;
    if (from === to) return;
    int[intAt + STATE + side] = to;
    if (int[intAt + PATHLEN + side] === 0) this.pathPush(side, from);
    this.pathPush(side, to);
    if (this.keepTransitions) this.extra().transitions![side].push({ from: TCP_STATES[from]!, to: TCP_STATES[to]!, time, packet, cause });
    if (sink !== null) sink(side, TCP_STATES[from]!, TCP_STATES[to]!, packet);
  }

  /** A state the side was in before the capture showed it: its path starts there (no transition). */
  private assume(side: 0 | 1, code: number): void {
    this.int[this.intAt + STATE + side] = code;
    if (this.int[this.intAt + PATHLEN + side] === 0) this.pathPush(side, code);
  }

  private pathPush(side: 0 | 1, code: number): void {
    const num = this.num;
    const numAt = this.numAt;
    const int = this.int;
    const intAt = this.intAt;
    const n = int[intAt + PATHLEN + side]!;
    if (n < PACKED_MAX) num[numAt + PATH + side] = num[numAt + PATH + side]! * 16 + code;
    else (this.extra().overflow ??= [[], []])[side].push(code);
    int[intAt + PATHLEN + side] = n + 1;
  }

  /** Codes past PACKED_MAX of a side's path (state-path.ts reads them), empty when none. */
  overflowCodes(side: 0 | 1): readonly number[] {
    return this.extras[this.id]?.overflow?.[side] ?? [];
  }

  /** The full transition records of a side, when keepTransitions (else null). */
  keptTransitions(side: 0 | 1): StateTransition[] | null {
    return this.keepTransitions ? this.extra().transitions![side] : null;
  }
}
