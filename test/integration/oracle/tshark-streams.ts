/**
 * tshark as the oracle: per tcp.stream facts read from `tshark -2 -T fields` on the same file.
 *
 * - client: the sender of the stream's first SYN (without ACK), else of its first packet (as
 *   DESIGN.md defines the client);
 * - handshake complete: tcp.completeness has SYN (1), SYN-ACK (2) and ACK (4) set (two-pass, so
 *   every packet carries the stream's final value; we take the largest);
 * - SYN / SYN-ACK retransmissions: the copies of the client's first SYN (same seq) and of the
 *   server's first SYN-ACK after the first, as a person counts them in Wireshark. Not tshark's
 *   tcp.analysis.retransmission flag on them: a client whose SYN-ACK was lost resends its SYN
 *   while the server's resent SYN-ACK is on its way, and tshark calls that SYN out-of-order
 *   (seen in the 978,676-packet bench trace);
 * - retransmissions: packets with tcp.analysis.retransmission;
 * - resets: packets with RST;
 * - close initiator: the sender of the first FIN, or of the first RST when it comes before any FIN;
 * - close kind and TIME_WAIT, read from the FIN / ACK / RST sequence as a person reading the trace
 *   in Wireshark would (closeOf, below).
 */
import { spawnSync } from 'node:child_process';
import { endpointText } from '../../../src/endpoint.js';

export interface TsharkPacket {
  frame: number;
  timeUs: number; // epoch microseconds
  from: string; // "ip:port"
  to: string;
  flags: number;
  len: number;
  retrans: boolean;
  seq: number; // absolute (tcp.seq_raw)
  ack: number;
}

export interface TsharkStream {
  stream: number;
  client: string;
  server: string;
  firstUs: number;
  complete: boolean;
  completeness: number;
  synRetransmits: number;
  synAckRetransmits: number;
  retransmissions: number;
  resets: number;
  initiator: 'client' | 'server' | null;
  closeKind: 'four-way' | 'three-way' | 'simultaneous' | 'reset' | 'none';
  timeWait: 'client' | 'server' | 'both' | null;
  packets: TsharkPacket[];
}

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

const FIELDS = [
  'frame.number', 'frame.time_epoch', 'tcp.stream', 'ip.src', 'ipv6.src', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'tcp.dstport',
  'tcp.flags', 'tcp.len', 'tcp.completeness', 'tcp.analysis.retransmission', 'tcp.seq_raw', 'tcp.ack_raw',
];

/** "1795299379.835123000" -> 1795299379835123 (exact: no float on the way). */
function epochUs(s: string): number {
  const [sec, frac = ''] = s.split('.');
  return Number(sec) * 1e6 + Number((frac + '000000').slice(0, 6));
}

function endpoint(addr: string, port: string): string {
  return endpointText(addr, Number(port));
}

export function tsharkStreams(file: string): TsharkStream[] {
  const argv = ['-r', file, '-2', '-n', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f', '-Y', 'tcp && !icmp && !icmpv6'];
  for (const f of FIELDS) argv.push('-e', f);
  const r = spawnSync('tshark', argv, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`tshark ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  const byStream = new Map<number, TsharkStream>();
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    const c = line.split('\t');
    const [frame, time, stream, ip4s, ip6s, sport, ip4d, ip6d, dport, flags, len, completeness, retrans, seq, ack] = c;
    const p: TsharkPacket = {
      frame: Number(frame),
      timeUs: epochUs(time!),
      from: endpoint(ip4s || ip6s!, sport!),
      to: endpoint(ip4d || ip6d!, dport!),
      flags: Number(flags),
      len: Number(len),
      retrans: retrans === '1',
      seq: Number(seq),
      ack: Number(ack),
    };
    const id = Number(stream);
    let s = byStream.get(id);
    if (!s) {
      s = {
        stream: id, client: p.from, server: p.to, firstUs: p.timeUs, complete: false, completeness: 0,
        synRetransmits: 0, synAckRetransmits: 0, retransmissions: 0, resets: 0, initiator: null, closeKind: 'none', timeWait: null, packets: [],
      };
      byStream.set(id, s);
    }
    s.packets.push(p);
    s.completeness = Math.max(s.completeness, Number(completeness || 0));
  }
  for (const s of byStream.values()) {
    const syn = s.packets.find((p) => (p.flags & (SYN | ACK)) === SYN);
    if (syn) {
      s.client = syn.from;
      s.server = syn.to;
    }
    s.complete = (s.completeness & 7) === 7;
    let closer: TsharkPacket | undefined;
    let firstSyn: TsharkPacket | undefined;
    let firstSynAck: TsharkPacket | undefined;
    for (const p of s.packets) {
      if (p.retrans) s.retransmissions++;
      if ((p.flags & (SYN | ACK)) === SYN && p.from === s.client) {
        if (!firstSyn) firstSyn = p;
        else if (p.seq === firstSyn.seq) s.synRetransmits++;
      }
      if ((p.flags & (SYN | ACK)) === (SYN | ACK) && p.from === s.server) {
        if (!firstSynAck) firstSynAck = p;
        else if (p.seq === firstSynAck.seq) s.synAckRetransmits++;
      }
      if (p.flags & RST) s.resets++;
      if (!closer && p.flags & (FIN | RST)) closer = p;
    }
    s.initiator = closer ? (closer.from === s.client ? 'client' : 'server') : null;
    Object.assign(s, closeOf(s));
  }
  return [...byStream.values()].sort((a, b) => a.stream - b.stream);
}

/** a >= b in 32-bit sequence space. */
function seqGE(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/**
 * The close as the packets show it. A's first FIN ends at u = seq + len + 1; B's first FIN at w.
 * A's FIN is acknowledged by B's first segment with ACK >= u, B's by A's first with ACK >= w.
 * - simultaneous: B's FIN does not acknowledge A's (the FINs crossed);
 * - four-way: a segment of B without FIN acknowledged A's FIN before B's FIN; three-way: B's FIN did;
 * - reset: a RST came before both FINs were acknowledged (or with no FIN pair at all);
 * - none: no RST and not both FINs.
 * TIME_WAIT: after a close whose FINs were both acknowledged, with no RST after it, the side
 * that sent the first FIN (both after a simultaneous close); otherwise nobody.
 */
export function closeOf(s: TsharkStream): Pick<TsharkStream, 'closeKind' | 'timeWait'> {
  let first: { side: string; end: number; acked: boolean } | null = null;
  let second: { side: string; end: number; acked: boolean; acksFirst: boolean } | null = null;
  let separateAck = false;
  let rstBeforeClose = false;
  let rstAfterClose = false;
  let anyRst = false;
  for (const p of s.packets) {
    const closed = first !== null && second !== null && first.acked && second.acked;
    if (p.flags & RST) {
      anyRst = true;
      if (closed) rstAfterClose = true;
      else rstBeforeClose = true;
      continue;
    }
    if (p.flags & ACK) {
      if (first && !first.acked && p.from !== first.side && seqGE(p.ack, first.end)) {
        first.acked = true;
        if (!second && !(p.flags & FIN)) separateAck = true;
      }
      if (second && !second.acked && p.from !== second.side && seqGE(p.ack, second.end)) second.acked = true;
    }
    if (p.flags & FIN) {
      const end = (p.seq + p.len + 1) >>> 0;
      if (!first) first = { side: p.from, end, acked: false };
      else if (!second && p.from !== first.side) second = { side: p.from, end, acked: false, acksFirst: first.acked };
    }
  }
  const side = (ep: string): 'client' | 'server' => (ep === s.client ? 'client' : 'server');
  let closeKind: TsharkStream['closeKind'] = 'none';
  if (rstBeforeClose) closeKind = 'reset';
  else if (first && second) closeKind = !second.acksFirst ? 'simultaneous' : separateAck ? 'four-way' : 'three-way';
  else if (anyRst) closeKind = 'reset';
  const clean = first !== null && second !== null && first.acked && second.acked && !rstBeforeClose && !rstAfterClose;
  const timeWait = !clean ? null : closeKind === 'simultaneous' ? 'both' : side(first!.side);
  return { closeKind, timeWait };
}

/** "12 S 0 | 13 S. 0 | 14 . 64 RT" : the packets of a stream, for a mismatch report. */
export function describePackets(s: TsharkStream, max = 30): string {
  const letters = (f: number): string =>
    (f & SYN ? 'S' : '') + (f & FIN ? 'F' : '') + (f & RST ? 'R' : '') + (f & 0x08 ? 'P' : '') + (f & ACK ? '.' : '');
  const rel = (p: TsharkPacket): string => `${p.frame} ${p.from === s.client ? 'c>' : 's>'} ${letters(p.flags)} ${p.len}${p.retrans ? ' RETRANS' : ''}`;
  const shown = s.packets.slice(0, max).map(rel);
  if (s.packets.length > max) shown.push(`... ${s.packets.length - max} more`);
  return shown.join(' | ');
}
