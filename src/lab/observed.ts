/** Readers over a host's observation (sampled /proc/net/tcp and counters) that labs share. */
import type { Observation, SocketEntry } from '../observe/types.js';
import type { TcpState } from '../tcp-state.js';

/** Every distinct state a socket with this local endpoint was observed in, in order. */
export function observedStates(obs: Observation | undefined, local: string, remote?: string): string[] {
  const out: string[] = [];
  for (const sample of obs?.samples ?? []) {
    for (const s of sample.sockets) {
      if (s.local !== local || (remote !== undefined && s.remote !== remote)) continue;
      if (out[out.length - 1] !== s.state) out.push(s.state);
    }
  }
  return out;
}

/** The first observed socket entry in a state for a local endpoint, with the sample time. */
export function firstObserved(obs: Observation | undefined, local: string, state: TcpState): { time: number; socket: SocketEntry } | null {
  for (const sample of obs?.samples ?? []) {
    for (const s of sample.sockets) if (s.local === local && s.state === state) return { time: sample.time, socket: s };
  }
  return null;
}

/** The largest number of sockets matching `pred` seen in any one sample. */
export function peakCount(obs: Observation | undefined, pred: (s: SocketEntry) => boolean): number {
  let best = 0;
  for (const sample of obs?.samples ?? []) {
    let n = 0;
    for (const s of sample.sockets) if (pred(s)) n++;
    if (n > best) best = n;
  }
  return best;
}

/** A counter's change over the run (0 when it did not change). */
export function delta(obs: Observation | undefined, key: string): number {
  return obs?.delta[key] ?? 0;
}
