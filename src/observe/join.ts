/**
 * Joining the socket timeline with the packet timeline: what state a socket was in at a packet's
 * time, so a report can say "at 1.017 s the server's socket 10.0.0.2:8080 <- 10.0.0.1:41234 was
 * in SYN_RCVD (retransmit timer, 983 ms left)".
 */
import { endpointText } from '../endpoint.js';
import type { Observation, SocketEntry, SocketSample } from './types.js';

/**
 * Canonical "ip:port" / "[v6]:port": accepts v6 without brackets ("fd00::1:80" splits at the last
 * colon) and maps v4-mapped v6 ("::ffff:127.0.0.1") to plain v4.
 */
export function canonicalEndpoint(ep: string): string {
  let addr: string;
  let port: string;
  if (ep.startsWith('[')) {
    const i = ep.lastIndexOf(']:');
    addr = ep.slice(1, i);
    port = ep.slice(i + 2);
  } else {
    const i = ep.lastIndexOf(':');
    addr = ep.slice(0, i);
    port = ep.slice(i + 1);
  }
  addr = addr.toLowerCase();
  if (addr.startsWith('::ffff:') && addr.includes('.')) addr = addr.slice(7);
  return endpointText(addr, Number(port));
}

/** The last sample taken at or before `time` (epoch seconds), or null. */
export function sampleAt(obs: Observation, time: number): SocketSample | null {
  const s = obs.samples;
  let lo = 0;
  let hi = s.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (s[mid]!.time <= time) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? null : s[found]!;
}

/**
 * The socket local <-> remote as last sampled at or before `time`, with its timer's remaining time
 * carried forward to `time` (collapsed samples keep the first reading of a run). A listening
 * socket is found by remote "0.0.0.0:0" / "[::]:0".
 */
export function socketStateAt(obs: Observation, time: number, local: string, remote: string): SocketEntry | null {
  const sample = sampleAt(obs, time);
  if (!sample) return null;
  const l = canonicalEndpoint(local);
  const r = canonicalEndpoint(remote);
  for (const e of sample.sockets) {
    if (canonicalEndpoint(e.local) !== l || canonicalEndpoint(e.remote) !== r) continue;
    if (e.timer === 'none') return e;
    const left = Math.max(0, Math.round(e.timerRemainingMs - (time - sample.time) * 1000));
    return { ...e, timerRemainingMs: left };
  }
  return null;
}

function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/**
 * One sentence: "at 1.017 s 10.0.0.2:8080 <-> 10.0.0.1:41234 was in SYN_RCVD (retransmit timer,
 * 983 ms left, 1 retransmit)". `origin` (epoch seconds, e.g. the first packet's time) makes the
 * time relative; without it the epoch time is printed.
 */
export function describeAt(obs: Observation, time: number, local: string, remote: string, origin?: number): string {
  const at = origin !== undefined ? `${(time - origin).toFixed(3)} s` : `${time.toFixed(6)}`;
  const e = socketStateAt(obs, time, local, remote);
  const who = `${canonicalEndpoint(local)} <-> ${canonicalEndpoint(remote)}`;
  if (!e) {
    const s = sampleAt(obs, time);
    return s ? `at ${at} there was no socket ${who}` : `at ${at} nothing had been sampled yet`;
  }
  const extra: string[] = [];
  if (e.timer !== 'none') extra.push(`${e.timer} timer, ${fmtMs(e.timerRemainingMs)} left`);
  if (e.retransmits > 0) extra.push(`${e.retransmits} retransmit${e.retransmits === 1 ? '' : 's'}`);
  if (e.drops > 0) extra.push(`${e.drops} dropped`);
  return `at ${at} ${who} was in ${e.state}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}
