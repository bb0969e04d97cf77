/**
 * How a connection ended, from the facts EndpointStates gathered:
 * - four-way: the second closer acknowledged the first FIN in a segment of its own, then sent
 *   its FIN later;
 * - three-way: the second FIN carried the first ACK of the first FIN (FIN and ACK folded);
 * - simultaneous: the second FIN did not acknowledge the first (each side sent FIN before it
 *   received the other's);
 * - reset: a RST ended it before both FINs were acknowledged;
 * - none: no close seen (or only one FIN: a half-close in progress when the capture ended).
 * The initiator is the side that sent the first FIN, else the side that sent the first RST.
 * TIME_WAIT: the side(s) whose inferred state is TIME_WAIT at the end (the one that sent the last
 * ACK of a complete close; both after a simultaneous close); null when the close is incomplete
 * or a RST ended it.
 */
import type { CloseKind, Side } from './model.js';
import type { EndpointStates } from './tcp-states.js';

export interface CloseVerdict {
  kind: CloseKind;
  initiator: Side | null;
  timeWait: Side | 'both' | null;
}

/** The verdict classifyClose returns: one object, filled again by every call (no allocation per connection). */
const verdict: CloseVerdict = { kind: 'none', initiator: null, timeWait: null };

/** How the connection closed; the object returned is valid until the next call. */
export function classifyClose(st: EndpointStates, firstRst: number, rstBeforeClose: boolean): Readonly<CloseVerdict> {
  let kind: CloseKind = 'none';
  const bothFins = st.finSent(0) && st.finSent(1);
  if (rstBeforeClose) kind = 'reset';
  else if (bothFins) kind = st.crossed ? 'simultaneous' : st.separateAckOfFirstFin ? 'four-way' : 'three-way';
  else if (firstRst >= 0) kind = 'reset';
  const first = st.firstFin >= 0 ? st.firstFin : firstRst;
  const initiator: Side | null = first === 0 ? 'client' : first === 1 ? 'server' : null;
  const c = st.state(0) === 'TIME_WAIT';
  const s = st.state(1) === 'TIME_WAIT';
  const timeWait: Side | 'both' | null = c && s ? 'both' : c ? 'client' : s ? 'server' : null;
  verdict.kind = kind;
  verdict.initiator = initiator;
  verdict.timeWait = timeWait;
  return verdict;
}
