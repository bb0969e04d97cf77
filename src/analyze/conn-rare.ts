/**
 * What few connections need beside their row of numbers: lists past the first entry, unusual SYN
 * options, kept transitions, the kept model object. One sparse array entry, made on first need.
 */
import type { OptionSummary, RetransmissionEvent, Side, TcpConnection } from './model.js';
import { M_FAST_RETRANSMISSION, M_SPURIOUS } from './tcp-marks.js';
import type { SegmentContext } from './meaning.js';
import type { StatesExtra } from './tcp-states.js';

export interface ConnRare extends StatesExtra {
  /** Every SYN / SYN-ACK / FIN time, once a second one was sent (the first sits in the row's steps). */
  synTimes: number[] | null;
  synAckTimes: number[] | null;
  finTimes: [number[] | null, number[] | null];
  /** The SYN's / SYN-ACK's options when they hold more than the row keeps (SACK blocks, TFO, unknown). */
  clientOptions: OptionSummary | null;
  serverOptions: OptionSummary | null;
  /** Retransmitted segments: packet, time, side, mark bits, ... flat (no object per event). */
  retransmitted: number[] | null;
  /** RSTs: packet, time, side, cause code (RST_CAUSE), ... flat. */
  resets: number[] | null;
  /** The model object, kept in step (keepSegments / live), else null. */
  out: TcpConnection | null;
  /** keepSegments only: last send time of each sequence number, per side, for "after N s". */
  sentAt: [Map<number, number>, Map<number, number>] | null;
  /** keepSegments only: the handshake ACK whose server-side transition is still pending. */
  pendingCtx: SegmentContext | null;
  /** keepSegments only: each side's latest FIN segment, which a later ACK may date CLOSE_WAIT at. */
  finCtx: [SegmentContext | null, SegmentContext | null] | null;
}

/** ResetEvent.cause by code, as ConnRare.resets stores it. */
export const RST_CAUSE = ['other', 'closed-port', 'unread-data'] as const;

export function newConnRare(keepTransitions: boolean): ConnRare {
  return {
    transitions: keepTransitions ? [[], []] : null,
    overflow: null,
    pendingSink: null,
    synTimes: null,
    synAckTimes: null,
    finTimes: [null, null],
    clientOptions: null,
    serverOptions: null,
    retransmitted: null,
    resets: null,
    out: null,
    sentAt: null,
    pendingCtx: null,
    finCtx: null,
  };
}

/** Appends t to a time list kept in rare once a second time comes (the first is `first`, NaN none). */
export function pushTime(list: number[] | null, first: number, t: number): number[] | null {
  if (list !== null) {
    list.push(t);
    return list;
  }
  return Number.isNaN(first) ? null : [first, t];
}

const SIDES: readonly Side[] = ['client', 'server'];

/** The retransmission event of a segment with these mark bits (RETRANSMITTED among them). */
export function retransmissionEvent(packet: number, t: number, side: number, marks: number): RetransmissionEvent {
  const kind = marks & M_FAST_RETRANSMISSION ? 'fast-retransmission' : marks & M_SPURIOUS ? 'spurious-retransmission' : 'retransmission';
  return { packet, t, side: SIDES[side]!, kind };
}
