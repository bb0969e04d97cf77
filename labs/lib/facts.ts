/** Small readers over the analysis and observations that several labs share. */
import type { SegmentRecord, Side, TcpConnection, TcpState } from '../../src/analyze/model.js';
import { ACK, FIN, RST, SYN } from '../../src/decode/packet.js';
import type { Observation, SocketEntry } from '../../src/observe/types.js';

const has = (s: SegmentRecord, f: number): boolean => (s.flags & f) === f;
export const isSyn = (s: SegmentRecord): boolean => has(s, SYN) && !has(s, ACK);
export const isSynAck = (s: SegmentRecord): boolean => has(s, SYN | ACK);
export const isFin = (s: SegmentRecord): boolean => has(s, FIN);
export const isPureAck = (s: SegmentRecord): boolean => (s.flags & (SYN | FIN | RST)) === 0 && has(s, ACK) && s.len === 0;

/** First segment from `side` matching `pred`, optionally after packet `after`. */
export function first(c: TcpConnection, side: Side, pred: (s: SegmentRecord) => boolean, after = 0): SegmentRecord | undefined {
  return c.segments.find((s) => s.from === side && s.packet > after && pred(s));
}

/** The states a side went through, in order (the analysis computes it: TcpConnection.statePath). */
export function stateTrail(c: TcpConnection, side: Side): TcpState[] {
  return c.statePath[side];
}

/** The packet that moved `side` into `state`, or null. */
export function enteredBy(c: TcpConnection, side: Side, state: TcpState): number | null {
  return c.states[side].find((t) => t.to === state)?.packet ?? null;
}

/** Every distinct state a socket with this local endpoint was observed in, in order. */
export function observedStates(obs: Observation, local: string, remote?: string): string[] {
  const out: string[] = [];
  for (const sample of obs.samples) {
    for (const s of sample.sockets) {
      if (s.local !== local || (remote !== undefined && s.remote !== remote)) continue;
      if (out[out.length - 1] !== s.state) out.push(s.state);
    }
  }
  return out;
}

/** The first observed socket entry in a state for a local endpoint, with the sample time. */
export function firstObserved(obs: Observation, local: string, state: TcpState): { time: number; socket: SocketEntry } | null {
  for (const sample of obs.samples) {
    for (const s of sample.sockets) if (s.local === local && s.state === state) return { time: sample.time, socket: s };
  }
  return null;
}
