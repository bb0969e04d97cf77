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

/** One sample of a socket's timer: when it was read, what was left, and the deadline that gives. */
export interface TimerReading {
  time: number; // epoch seconds of the sample
  remainingMs: number;
  deadline: number; // epoch seconds: time + remaining
}

/**
 * A socket's timer (of one kind: 'time-wait', 'retransmit', ...) each time it was (re)started: the
 * first sample that showed it, then every sample whose deadline moved later by more than
 * `minJumpS` (the timer restarted; a countdown keeps the deadline).
 */
export function timerStarts(obs: Observation | undefined, local: string, remote: string, timer: SocketEntry['timer'], minJumpS = 0.1): TimerReading[] {
  const out: TimerReading[] = [];
  for (const sample of obs?.samples ?? []) {
    const s = sample.sockets.find((e) => e.local === local && e.remote === remote && e.timer === timer);
    if (!s) continue;
    const r = { time: sample.time, remainingMs: s.timerRemainingMs, deadline: sample.time + s.timerRemainingMs / 1000 };
    const last = out[out.length - 1];
    if (!last || r.deadline > last.deadline + minJumpS) out.push(r);
  }
  return out;
}
