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
 * (the second FIN does not acknowledge the first), in-order delivery means each side got the
 * other's FIN before the ACK of its own: both go FIN_WAIT_1 -> CLOSING -> TIME_WAIT.
 *
 * The server's ESTABLISHED on the handshake's last ACK is held back until the server sends a
 * segment that is not a SYN-ACK (or the capture ends): if it retransmits its SYN-ACK instead, that
 * ACK never reached it (dropped at its input, still captured) and it stays in SYN_RCVD; after
 * that, a RST from the server is taken as sent from SYN_RCVD too.
 * RST: the sender and the receiver go to CLOSED (not checked against the receive window).
 *
 * Memory: everything numeric lives in the tracker's shared typed-array pages (no object per
 * connection, no boxed numbers): a connection's Float64Array row starts with our STATE_FIELDS
 * doubles and its Int32Array row with our STATE_IFIELDS integers; EndpointStates is a cursor
 * pointed at one connection at a time. The states a side went through are kept as 4-bit state codes packed into a
 * number (an array only past 13 states). Full StateTransition records (time, packet, cause) are kept
 * only when asked (keepTransitions: the text report, the ladder, the labs).
 */
import { FIN, SYN, RST, ACK } from '../decode/packet.js';
import type { StateTransition, TcpState } from './model.js';
import { seqGE } from './tcp-marks.js';

export const CLIENT = 0;
export const SERVER = 1;
const SIDE_NAMES = ['client', 'server'] as const;

/** State codes: the index in this list (4 bits each in a packed path). */
export const STATE_NAMES: readonly TcpState[] = [
  'CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RCVD', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT',
];
const CLOSED = 0;
const LISTEN = 1;
const SYN_SENT = 2;
const SYN_RCVD = 3;
const ESTABLISHED = 4;
const FIN_WAIT_1 = 5;
const FIN_WAIT_2 = 6;
const CLOSE_WAIT = 7;
const CLOSING = 8;
const LAST_ACK = 9;
const TIME_WAIT = 10;

// Offsets in the connection's rows; `+ side` for the per-side pairs. Doubles (times, 32-bit
// sequence numbers with -1 for unset, packed paths) in its Float64Array row, small integers in
// its Int32Array row.
const SYNSEQ = 0; // ISN of each side's SYN, -1 until seen, 2
const FINEND = 2; // the ack value that acknowledges each side's first FIN, -1 until a FIN is sent, 2
const LASTFINTIME = 4; // 2
const PATH = 6; // packed state codes of the side's path, 2
const CLOSE_COMPLETE = 8;
const LAST_SYN_TIME = 9;
const PENDING_TIME = 10;
/** The doubles EndpointStates keeps at the start of a connection's Float64Array row. */
export const STATE_FIELDS = 11;
// Int32Array row:
const STATE = 0; // state code, 2
const FINACKED = 2; // 0/1, 2
const LASTFINPACKET = 4; // the latest copy of each side's FIN (a retransmission replaces a lost first copy), 2
const PATHLEN = 6; // 2
const FIRSTFIN = 8;
const CROSSED = 9;
const SEPARATE_ACK = 10; // a separate (non-FIN) segment of the second closer acknowledged the first FIN
const STARTED = 11;
const ACK_LOST = 12; // the server resent its SYN-ACK after an ACK of it was captured
const PENDING = 13; // 1: the server's ESTABLISHED is held back
const PENDING_PACKET = 14;
/** The integers EndpointStates keeps at the start of a connection's Int32Array row. */
export const STATE_IFIELDS = 15;
const PACKED_MAX = 13; // 13 codes of 4 bits stay exact in a double

/** Sets the initial values of a row (v[o...], w[q...], both zero-filled there). */
export function initStates(v: Float64Array, o: number, w: Int32Array, q: number): void {
  v[o + SYNSEQ] = v[o + SYNSEQ + 1] = -1;
  v[o + FINEND] = v[o + FINEND + 1] = -1;
  w[q + LASTFINPACKET] = w[q + LASTFINPACKET + 1] = -1;
  w[q + FIRSTFIN] = -1;
  v[o + CLOSE_COMPLETE] = -1;
}

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
 * A cursor over the connections' numbers: at(v, o, id) points it at one connection (its
 * STATE_FIELDS numbers at v[o...]); every method then works on that connection. One cursor per
 * tracker: no object per connection. `extras[id]` holds a connection's StatesExtra, if any.
 */
export class EndpointStates {
  v: Float64Array = new Float64Array(STATE_FIELDS);
  o = 0;
  w: Int32Array = new Int32Array(STATE_IFIELDS);
  q = 0;
  id = 0;

  constructor(
    private readonly keepTransitions: boolean,
    private readonly extras: (StatesExtra | null)[],
    private readonly newExtra: () => StatesExtra,
  ) {}

  /** Points the cursor at connection id, whose numbers start at v[o] (doubles) and w[q] (integers). */
  at(v: Float64Array, o: number, w: Int32Array, q: number, id: number): this {
    this.v = v;
    this.o = o;
    this.w = w;
    this.q = q;
    this.id = id;
    return this;
  }

  private extra(): StatesExtra {
    return (this.extras[this.id] ??= this.newExtra());
  }

  /** The current state of a side. */
  state(side: 0 | 1): TcpState {
    return STATE_NAMES[this.w[this.q + STATE + side]!]!;
  }
  synSeq(side: 0 | 1): number {
    return this.v[this.o + SYNSEQ + side]!;
  }
  finSent(side: 0 | 1): boolean {
    return this.v[this.o + FINEND + side]! >= 0;
  }
  /** The side that sent the first FIN, -1 when none. */
  get firstFin(): number {
    return this.w[this.q + FIRSTFIN]!;
  }
  get crossed(): boolean {
    return this.w[this.q + CROSSED] === 1;
  }
  get separateAckOfFirstFin(): boolean {
    return this.w[this.q + SEPARATE_ACK] === 1;
  }
  get closeCompleteTime(): number {
    return this.v[this.o + CLOSE_COMPLETE]!;
  }

  /**
   * Feeds one segment sent by `side`. Transitions are recorded and reported to `sink` (when
   * given) so a kept segment can list what it caused.
   */
  onSegment(side: 0 | 1, flags: number, seq: number, ack: number, len: number, packet: number, time: number, sink: TransitionSink | null): void {
    const v = this.v;
    const o = this.o;
    const w = this.w;
    const q = this.q;
    const peer = (1 - side) as 0 | 1;
    if (w[q + STARTED] === 0) {
      w[q + STARTED] = 1;
      if ((flags & (SYN | RST)) === 0) {
        const cause = 'inferred: the capture starts in the middle of the connection';
        this.go(CLIENT, ESTABLISHED, null, time, cause, null);
        this.go(SERVER, ESTABLISHED, null, time, cause, null);
      }
    }

    if (side === SERVER && w[q + PENDING] === 1) {
      if ((flags & SYN) !== 0) {
        this.dropPending(); // SYN-ACK again: the ACK was lost
        w[q + ACK_LOST] = 1;
      } else if ((flags & RST) !== 0 && w[q + ACK_LOST] === 1) {
        this.dropPending(); // it never got an ACK: it resets from SYN_RCVD
      } else this.commitPending();
    }

    if (flags & RST) {
      if (w[q + STATE + side] !== CLOSED) this.go(side, CLOSED, packet, time, 'sent RST', sink);
      if (w[q + STATE + peer] !== CLOSED) this.go(peer, CLOSED, packet, time, 'received RST', sink);
      this.dropPending();
      return;
    }

    if (flags & SYN) {
      if ((flags & ACK) === 0) {
        if (w[q + STATE + side] === CLOSED) this.go(side, SYN_SENT, packet, time, 'sent SYN (active open)', sink);
        v[o + LAST_SYN_TIME] = time;
      } else if (w[q + STATE + side] === CLOSED) {
        this.go(side, LISTEN, null, v[o + LAST_SYN_TIME] || time, 'inferred: it was listening (it answered the SYN)', sink);
        this.go(side, SYN_RCVD, packet, time, 'received SYN, sent SYN-ACK', sink);
      } else if (w[q + STATE + side] === SYN_SENT) {
        this.go(side, SYN_RCVD, packet, time, 'simultaneous open: received SYN, sent SYN-ACK', sink);
      }
      if (v[o + SYNSEQ + side]! < 0) v[o + SYNSEQ + side] = seq;
    }

    if (flags & ACK) {
      // What the sender proves it received: the peer's SYN.
      if (v[o + SYNSEQ + peer]! >= 0 && seqGE(ack, (v[o + SYNSEQ + peer]! + 1) >>> 0)) {
        if (w[q + STATE + side] === SYN_SENT && (flags & SYN) === 0) {
          this.go(side, ESTABLISHED, packet, time, 'received SYN-ACK, sent ACK', sink);
        }
        if (w[q + STATE + peer] === SYN_RCVD && (flags & SYN) === 0) {
          if (peer === SERVER) {
            if (w[q + PENDING] === 0) {
              w[q + PENDING] = 1;
              w[q + PENDING_PACKET] = packet;
              v[o + PENDING_TIME] = time;
              if (sink !== null) this.extra().pendingSink = sink;
            }
          } else this.go(peer, ESTABLISHED, packet, time, 'received the ACK of its SYN-ACK', sink);
        }
      }
      // ... and the peer's FIN.
      if (v[o + FINEND + peer]! >= 0 && w[q + FINACKED + peer] === 0 && seqGE(ack, v[o + FINEND + peer]!)) {
        w[q + FINACKED + peer] = 1;
        if (v[o + FINEND + side]! < 0 && (flags & FIN) === 0) w[q + SEPARATE_ACK] = 1;
        this.commitPending();
        this.receiveFin(side, packet, time, sink);
        this.ownFinAcked(peer, packet, time, sink);
        if (w[q + FINACKED + side] === 1) v[o + CLOSE_COMPLETE] = time;
      }
    }

    if (flags & FIN) {
      w[q + LASTFINPACKET + side] = packet;
      v[o + LASTFINTIME + side] = time;
    }
    if ((flags & FIN) && v[o + FINEND + side]! < 0) {
      v[o + FINEND + side] = (seq + len + 1) >>> 0;
      if (w[q + FIRSTFIN]! < 0) w[q + FIRSTFIN] = side;
      else if (w[q + FINACKED + peer] === 0) w[q + CROSSED] = 1; // sent before it got the peer's FIN
      const s = w[q + STATE + side];
      if (s === ESTABLISHED || s === SYN_RCVD) {
        this.commitPending();
        this.go(side, FIN_WAIT_1, packet, time, w[q + FIRSTFIN] === side ? 'sent FIN (closes first)' : 'sent FIN before receiving the peer\'s (simultaneous close)', sink);
      } else if (s === CLOSE_WAIT) {
        this.go(side, LAST_ACK, packet, time, 'sent FIN (closes second)', sink);
      }
    }
  }

  /** `side` proved it received the peer's FIN. */
  private receiveFin(side: 0 | 1, packet: number, time: number, sink: TransitionSink | null): void {
    const v = this.v;
    const o = this.o;
    const w = this.w;
    const q = this.q;
    const s = w[q + STATE + side];
    if (s === ESTABLISHED || s === SYN_RCVD) {
      // The kernel enters CLOSE_WAIT when the FIN arrives, not when it ACKs it (the ACK may be
      // delayed ~40 ms): date the transition at the FIN copy this ACK proves arrived.
      const peer = (1 - side) as 0 | 1;
      const finPacket = w[q + LASTFINPACKET + peer]!;
      const atFin = finPacket > 0 && finPacket <= packet;
      this.go(side, CLOSE_WAIT, atFin ? finPacket : packet, atFin ? v[o + LASTFINTIME + peer]! : time,
        atFin ? (!this.keepTransitions ? '' : `received FIN (its ACK, packet ${packet}, proves it)`) : 'received FIN, sent ACK', sink);
    }
    else if (s === FIN_WAIT_1) this.go(side, CLOSING, packet, time, 'received FIN while its own FIN was unacknowledged', sink);
    else if (s === FIN_WAIT_2) this.go(side, TIME_WAIT, packet, time, 'received FIN, sent the last ACK', sink);
  }

  /** `side`'s FIN was acknowledged by its peer. */
  private ownFinAcked(side: 0 | 1, packet: number, time: number, sink: TransitionSink | null): void {
    const s = this.w[this.q + STATE + side];
    if (s === FIN_WAIT_1) {
      if (this.w[this.q + CROSSED] === 1) {
        this.go(side, CLOSING, packet, time, 'had received the crossing FIN before this ACK', sink);
        this.go(side, TIME_WAIT, packet, time, 'its FIN was acknowledged', sink);
      } else this.go(side, FIN_WAIT_2, packet, time, 'its FIN was acknowledged', sink);
    } else if (s === CLOSING) this.go(side, TIME_WAIT, packet, time, 'its FIN was acknowledged', sink);
    else if (s === LAST_ACK) this.go(side, CLOSED, packet, time, 'received the last ACK', sink);
  }

  get hasPending(): boolean {
    return this.w[this.q + PENDING] === 1;
  }

  private dropPending(): void {
    this.w[this.q + PENDING] = 0;
    const x = this.extras[this.id];
    if (x != null) x.pendingSink = null;
  }

  /** The capture ended (or the server spoke): an ACK of the SYN-ACK that was not contradicted counts. */
  commitPending(): void {
    const v = this.v;
    const o = this.o;
    const w = this.w;
    const q = this.q;
    if (w[q + PENDING] === 0) return;
    const sink = this.extras[this.id]?.pendingSink ?? null;
    this.dropPending();
    if (w[q + STATE + SERVER] === SYN_RCVD) this.go(SERVER, ESTABLISHED, w[q + PENDING_PACKET]!, v[o + PENDING_TIME]!, 'received the ACK of its SYN-ACK', sink);
  }

  private go(side: 0 | 1, to: number, packet: number | null, time: number, cause: string, sink: TransitionSink | null): void {
    const v = this.v;
    const o = this.o;
    const w = this.w;
    const q = this.q;
    const from = w[q + STATE + side]!;
    if (from === to) return;
    w[q + STATE + side] = to;
    if (w[q + PATHLEN + side] === 0) this.pathPush(side, from);
    this.pathPush(side, to);
    if (this.keepTransitions) this.extra().transitions![side].push({ from: STATE_NAMES[from]!, to: STATE_NAMES[to]!, time, packet, cause });
    if (sink !== null) sink(side, STATE_NAMES[from]!, STATE_NAMES[to]!, packet);
  }

  private pathPush(side: 0 | 1, code: number): void {
    const v = this.v;
    const o = this.o;
    const w = this.w;
    const q = this.q;
    const n = w[q + PATHLEN + side]!;
    if (n < PACKED_MAX) v[o + PATH + side] = v[o + PATH + side]! * 16 + code;
    else (this.extra().overflow ??= [[], []])[side].push(code);
    w[q + PATHLEN + side] = n + 1;
  }

  /**
   * A number that names the path of a side exactly (equal numbers, equal paths), or -1 for a
   * path too long to name so (over 12 states): for caching what a path becomes.
   */
  pathKey(side: 0 | 1): number {
    const v = this.v;
    const o = this.o;
    const w = this.w;
    const q = this.q;
    const n = w[q + PATHLEN + side]!;
    if (n === 0) return 16 * w[q + STATE + side]!; // as a path of length 0: its state
    if (n > PACKED_MAX - 1) return -1;
    return v[o + PATH + side]! * 16 + n; // < 16^13: exact in a double
  }

  /** ["CLOSED", "SYN_SENT", ...]: the states a side went through, in order (its state when none). */
  path(side: 0 | 1): TcpState[] {
    const v = this.v;
    const o = this.o;
    const w = this.w;
    const q = this.q;
    const n = w[q + PATHLEN + side]!;
    if (n === 0) return [STATE_NAMES[w[q + STATE + side]!]!];
    const packed = Math.min(n, PACKED_MAX);
    const out = new Array<TcpState>(packed);
    let x = v[o + PATH + side]!;
    for (let i = packed - 1; i >= 0; i--) {
      const code = x % 16;
      out[i] = STATE_NAMES[code]!;
      x = (x - code) / 16;
    }
    if (n > PACKED_MAX) for (const code of this.extras[this.id]!.overflow![side]) out.push(STATE_NAMES[code]!);
    return out;
  }

  /**
   * The transitions of a side: the full records when kept; else from/to only (time NaN, packet
   * null, cause ''), built from the packed path.
   */
  transitionList(side: 0 | 1): StateTransition[] {
    if (this.keepTransitions) return this.extra().transitions![side];
    const p = this.path(side);
    const out: StateTransition[] = [];
    if (this.w[this.q + PATHLEN + side] === 0) return out;
    for (let i = 1; i < p.length; i++) out.push({ from: p[i - 1]!, to: p[i]!, time: NaN, packet: null, cause: '' });
    return out;
  }
}

export function sideName(side: 0 | 1): 'client' | 'server' {
  return SIDE_NAMES[side];
}
