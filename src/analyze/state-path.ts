/**
 * The states a side went through, packed: 4-bit state codes (the index in TCP_STATES) in one
 * double of the connection's row (13 codes stay exact), the rest in ConnRare (a path that long is
 * rare). Read back once per distinct path (ConnView caches what a path key becomes).
 */
import type { StateTransition } from './model.js';
import { TCP_STATES, type TcpState } from '../tcp-state.js';
import { PACKED_MAX, PATH, PATHLEN, STATE, type EndpointStates } from './tcp-states.js';

/**
 * A number that names the path of a side exactly (equal numbers, equal paths), or -1 for a
 * path too long to name so (over 12 states): for caching what a path becomes.
 */
export function pathKey(st: EndpointStates, side: 0 | 1): number {
  const n = st.int[st.intAt + PATHLEN + side]!;
  if (n === 0) return 16 * st.int[st.intAt + STATE + side]!; // as a path of length 0: its state
  if (n > PACKED_MAX - 1) return -1;
  return st.num[st.numAt + PATH + side]! * 16 + n; // < 16^13: exact in a double; n in 1..12, never a multiple of 16
}

/** ["CLOSED", "SYN_SENT", ...]: the states a side went through, in order (its state when none). */
export function statePath(st: EndpointStates, side: 0 | 1): TcpState[] {
  const n = st.int[st.intAt + PATHLEN + side]!;
  if (n === 0) return [TCP_STATES[st.int[st.intAt + STATE + side]!]!];
  const packed = Math.min(n, PACKED_MAX);
  const out = new Array<TcpState>(packed);
  let x = st.num[st.numAt + PATH + side]!;
  for (let i = packed - 1; i >= 0; i--) {
    const code = x % 16;
    out[i] = TCP_STATES[code]!;
    x = (x - code) / 16;
  }
  for (const code of st.overflowCodes(side)) out.push(TCP_STATES[code]!);
  return out;
}

/**
 * The transitions of a side: the full records when kept; else from/to only (time NaN, packet
 * null, cause ''), built from the packed path.
 */
export function transitionList(st: EndpointStates, side: 0 | 1): StateTransition[] {
  const kept = st.keptTransitions(side);
  if (kept !== null) return kept;
  const out: StateTransition[] = [];
  if (st.int[st.intAt + PATHLEN + side] === 0) return out;
  const p = statePath(st, side);
  for (let i = 1; i < p.length; i++) out.push({ from: p[i - 1]!, to: p[i]!, time: NaN, packet: null, cause: '' });
  return out;
}
