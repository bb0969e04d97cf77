/**
 * Facts for the loss labs, over connFacts' segment list: a side's data segments, the segments
 * with one of Wireshark's analysis marks, SACK blocks, what each ACK newly acknowledged (cumulative
 * and delayed ACKs), and the segments a sender sent into a zero window (Linux's window probes,
 * whatever Wireshark calls them). Each works on the capture's order; none allocates per packet on
 * a hot path (they run once per lab, after the capture).
 */
import type { SegmentMark, Side } from '../analyze/model.js';
import { SYN, FIN } from '../decode/packet.js';
import type { ConnFacts, Step } from './facts.js';
export { sackBlocks } from './sack.js'; // one reading of the option, shared with the SACK facts

const other = (s: Side): Side => (s === 'client' ? 'server' : 'client');

/** The segments `from` sent with payload (first transmissions and retransmissions alike). */
export function dataSegments(f: ConnFacts, from: Side): Step[] {
  return f.segments.filter((s) => s.from === from && s.len > 0);
}

/** The segments carrying an analysis mark (optionally from one side). */
export function withMark(f: ConnFacts, mark: SegmentMark, from?: Side): Step[] {
  return f.segments.filter((s) => (from === undefined || s.from === from) && s.seg.marks.includes(mark));
}


export interface AckCoverage {
  ack: Step; // the receiver's segment whose ACK number moved forward
  segments: Step[]; // the sender's data segments it acknowledged for the first time (whole ones)
  bytes: number; // how far the ACK number moved
  delay: number; // seconds from the last of those segments to this ACK (NaN when it covered none)
}

/**
 * Every segment of `receiver` that moved its ACK number forward, with the data segments of the
 * peer it acknowledged for the first time: one ACK covering several segments is a cumulative ACK;
 * its delay after the newest of them shows a delayed ACK.
 */
export function ackCoverage(f: ConnFacts, receiver: Side): AckCoverage[] {
  const sender = other(receiver);
  const out: AckCoverage[] = [];
  let lastAck = -1;
  let pending: Step[] = []; // sent, not yet covered by an ACK, in capture order
  for (const s of f.segments) {
    if (s.from === sender && s.len > 0) {
      if (!pending.some((p) => p.relSeq === s.relSeq)) pending.push(s);
      continue;
    }
    if (s.from !== receiver) continue;
    if ((s.flags & SYN) !== 0) {
      if (s.relAck > 0) lastAck = s.relAck; // a SYN-ACK acknowledges the peer's SYN: data starts there
      continue;
    }
    if (lastAck >= 0 && s.relAck <= lastAck) continue;
    const covered = pending.filter((p) => p.relSeq + p.len <= s.relAck && p.packet < s.packet);
    pending = pending.filter((p) => !covered.includes(p));
    const newest = covered.reduce((m, p) => Math.max(m, p.time), -Infinity);
    out.push({ ack: s, segments: covered, bytes: lastAck >= 0 ? s.relAck - lastAck : s.relAck, delay: covered.length ? s.time - newest : NaN });
    lastAck = s.relAck;
  }
  return out;
}

export interface WindowProbe extends Step {
  interval: number; // seconds since the previous probe (NaN for the first)
  sinceZero: number; // seconds since the peer first advertised the zero window this probe answers
}

/**
 * The segments `sender` sent while the peer's last advertised window was zero (in capture order):
 * the zero-window probes. Linux sends them as a pure ACK with seq = snd_una - 1 and no data
 * (tcp_xmit_probe_skb), which Wireshark calls a keep-alive; a 1-byte probe it calls a zero-window
 * probe. Both are here.
 */
export function windowProbes(f: ConnFacts, sender: Side): WindowProbe[] {
  const receiver = other(sender);
  const out: WindowProbe[] = [];
  let zeroSince: number | null = null;
  for (const s of f.segments) {
    if (s.from === receiver) {
      if ((s.flags & (SYN | FIN)) !== 0) continue;
      if (s.window === 0) zeroSince ??= s.time;
      else zeroSince = null;
      continue;
    }
    if (zeroSince === null || (s.flags & (SYN | FIN)) !== 0 || s.len > 1) continue;
    const prev = out[out.length - 1];
    out.push({ ...s, interval: prev && prev.time >= zeroSince ? s.time - prev.time : NaN, sinceZero: s.time - zeroSince });
  }
  return out;
}

/** The segments of `from` that advertised a zero window. */
export function zeroWindows(f: ConnFacts, from: Side): Step[] {
  return f.segments.filter((s) => s.from === from && s.window === 0 && (s.flags & (SYN | FIN)) === 0);
}
