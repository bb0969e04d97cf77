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
 */
import { FIN, SYN, RST, ACK } from '../decode/packet.js';
import type { StateTransition, TcpState } from './model.js';
import { seqGE } from './tcp-marks.js';

export const CLIENT = 0;
export const SERVER = 1;
const SIDE_NAMES = ['client', 'server'] as const;

export interface TransitionSink {
  (side: 0 | 1, from: TcpState, to: TcpState): void;
}

export class EndpointStates {
  state: [TcpState, TcpState] = ['CLOSED', 'CLOSED'];
  transitions: [StateTransition[], StateTransition[]] = [[], []];
  /** ISN of each side's SYN, -1 until seen. */
  synSeq: [number, number] = [-1, -1];
  /** The ack value that acknowledges each side's first FIN, -1 until a FIN is sent. */
  finEnd: [number, number] = [-1, -1];
  finAcked: [boolean, boolean] = [false, false];
  /** Each side's first FIN: packet index and whether it acknowledged the peer's earlier FIN. */
  finPacket: [number, number] = [-1, -1];
  /** The latest copy of each side's FIN (a retransmission replaces a lost first copy). */
  lastFinPacket: [number, number] = [-1, -1];
  lastFinTime: [number, number] = [0, 0];
  firstFin: -1 | 0 | 1 = -1;
  crossed = false;
  /** A separate (non-FIN) segment of the second closer acknowledged the first FIN. */
  separateAckOfFirstFin = false;
  closeCompleteTime = -1;
  private started = false;
  private lastSynTime = 0;
  private ackLost = false; // the server resent its SYN-ACK after an ACK of it was captured
  private pendingServerEstablished: { packet: number; time: number; sink: TransitionSink | null } | null = null;

  /**
   * Feeds one segment sent by `side`. Transitions are appended to `transitions` and reported to
   * `sink` (when given) so a kept segment can list what it caused.
   */
  onSegment(side: 0 | 1, flags: number, seq: number, ack: number, len: number, packet: number, time: number, sink: TransitionSink | null): void {
    const peer = (1 - side) as 0 | 1;
    if (!this.started) {
      this.started = true;
      if ((flags & (SYN | RST)) === 0) {
        const cause = 'inferred: the capture starts in the middle of the connection';
        this.go(CLIENT, 'ESTABLISHED', null, time, cause, null);
        this.go(SERVER, 'ESTABLISHED', null, time, cause, null);
      }
    }

    if (side === SERVER && this.pendingServerEstablished !== null) {
      if ((flags & SYN) !== 0) {
        this.pendingServerEstablished = null; // SYN-ACK again: the ACK was lost
        this.ackLost = true;
      } else if ((flags & RST) !== 0 && this.ackLost) {
        this.pendingServerEstablished = null; // it never got an ACK: it resets from SYN_RCVD
      } else this.commitPending();
    }

    if (flags & RST) {
      if (this.state[side] !== 'CLOSED') this.go(side, 'CLOSED', packet, time, 'sent RST', sink);
      if (this.state[peer] !== 'CLOSED') this.go(peer, 'CLOSED', packet, time, 'received RST', sink);
      this.pendingServerEstablished = null;
      return;
    }

    if (flags & SYN) {
      if ((flags & ACK) === 0) {
        if (this.state[side] === 'CLOSED') this.go(side, 'SYN_SENT', packet, time, 'sent SYN (active open)', sink);
        this.lastSynTime = time;
      } else if (this.state[side] === 'CLOSED') {
        this.go(side, 'LISTEN', null, this.lastSynTime || time, 'inferred: it was listening (it answered the SYN)', sink);
        this.go(side, 'SYN_RCVD', packet, time, 'received SYN, sent SYN-ACK', sink);
      } else if (this.state[side] === 'SYN_SENT') {
        this.go(side, 'SYN_RCVD', packet, time, 'simultaneous open: received SYN, sent SYN-ACK', sink);
      }
      if (this.synSeq[side] < 0) this.synSeq[side] = seq;
    }

    if (flags & ACK) {
      // What the sender proves it received: the peer's SYN.
      if (this.synSeq[peer] >= 0 && seqGE(ack, (this.synSeq[peer] + 1) >>> 0)) {
        if (this.state[side] === 'SYN_SENT' && (flags & SYN) === 0) {
          this.go(side, 'ESTABLISHED', packet, time, 'received SYN-ACK, sent ACK', sink);
        }
        if (this.state[peer] === 'SYN_RCVD' && (flags & SYN) === 0) {
          if (peer === SERVER) this.pendingServerEstablished ??= { packet, time, sink };
          else this.go(peer, 'ESTABLISHED', packet, time, 'received the ACK of its SYN-ACK', sink);
        }
      }
      // ... and the peer's FIN.
      if (this.finEnd[peer] >= 0 && !this.finAcked[peer] && seqGE(ack, this.finEnd[peer])) {
        this.finAcked[peer] = true;
        if (this.finEnd[side] < 0 && (flags & FIN) === 0) this.separateAckOfFirstFin = true;
        this.commitPending();
        this.receiveFin(side, packet, time, sink);
        this.ownFinAcked(peer, packet, time, sink);
        if (this.finAcked[side]) this.closeCompleteTime = time;
      }
    }

    if (flags & FIN) {
      this.lastFinPacket[side] = packet;
      this.lastFinTime[side] = time;
    }
    if ((flags & FIN) && this.finEnd[side] < 0) {
      this.finEnd[side] = (seq + len + 1) >>> 0;
      this.finPacket[side] = packet;
      if (this.firstFin < 0) this.firstFin = side;
      else if (!this.finAcked[peer]) this.crossed = true; // sent before it got the peer's FIN
      const s = this.state[side];
      if (s === 'ESTABLISHED' || s === 'SYN_RCVD') {
        this.commitPending();
        this.go(side, 'FIN_WAIT_1', packet, time, this.firstFin === side ? 'sent FIN (closes first)' : 'sent FIN before receiving the peer\'s (simultaneous close)', sink);
      } else if (s === 'CLOSE_WAIT') {
        this.go(side, 'LAST_ACK', packet, time, 'sent FIN (closes second)', sink);
      }
    }
  }

  /** `side` proved it received the peer's FIN. */
  private receiveFin(side: 0 | 1, packet: number, time: number, sink: TransitionSink | null): void {
    const s = this.state[side];
    if (s === 'ESTABLISHED' || s === 'SYN_RCVD') {
      // The kernel enters CLOSE_WAIT when the FIN arrives, not when it ACKs it (the ACK may be
      // delayed ~40 ms): date the transition at the FIN copy this ACK proves arrived.
      const peer = (1 - side) as 0 | 1;
      const atFin = this.lastFinPacket[peer] > 0 && this.lastFinPacket[peer] <= packet;
      this.go(side, 'CLOSE_WAIT', atFin ? this.lastFinPacket[peer] : packet, atFin ? this.lastFinTime[peer] : time,
        atFin ? `received FIN (its ACK, packet ${packet}, proves it)` : 'received FIN, sent ACK', sink);
    }
    else if (s === 'FIN_WAIT_1') this.go(side, 'CLOSING', packet, time, 'received FIN while its own FIN was unacknowledged', sink);
    else if (s === 'FIN_WAIT_2') this.go(side, 'TIME_WAIT', packet, time, 'received FIN, sent the last ACK', sink);
  }

  /** `side`'s FIN was acknowledged by its peer. */
  private ownFinAcked(side: 0 | 1, packet: number, time: number, sink: TransitionSink | null): void {
    const s = this.state[side];
    if (s === 'FIN_WAIT_1') {
      if (this.crossed) {
        this.go(side, 'CLOSING', packet, time, 'had received the crossing FIN before this ACK', sink);
        this.go(side, 'TIME_WAIT', packet, time, 'its FIN was acknowledged', sink);
      } else this.go(side, 'FIN_WAIT_2', packet, time, 'its FIN was acknowledged', sink);
    } else if (s === 'CLOSING') this.go(side, 'TIME_WAIT', packet, time, 'its FIN was acknowledged', sink);
    else if (s === 'LAST_ACK') this.go(side, 'CLOSED', packet, time, 'received the last ACK', sink);
  }

  get hasPending(): boolean {
    return this.pendingServerEstablished !== null;
  }

  /** The capture ended (or the server spoke): an ACK of the SYN-ACK that was not contradicted counts. */
  commitPending(): void {
    const p = this.pendingServerEstablished;
    if (p === null) return;
    this.pendingServerEstablished = null;
    if (this.state[SERVER] === 'SYN_RCVD') this.go(SERVER, 'ESTABLISHED', p.packet, p.time, 'received the ACK of its SYN-ACK', p.sink);
  }

  private go(side: 0 | 1, to: TcpState, packet: number | null, time: number, cause: string, sink: TransitionSink | null): void {
    const from = this.state[side];
    if (from === to) return;
    this.state[side] = to;
    this.transitions[side].push({ from, to, time, packet, cause });
    if (sink !== null) sink(side, from, to);
  }

  /** ["CLOSED", "SYN_SENT", ...]: the states a side went through, in order. */
  path(side: 0 | 1): TcpState[] {
    const t = this.transitions[side];
    if (t.length === 0) return [this.state[side]];
    return [t[0]!.from, ...t.map((x) => x.to)];
  }
}

export function sideName(side: 0 | 1): 'client' | 'server' {
  return SIDE_NAMES[side];
}
