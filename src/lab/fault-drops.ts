/**
 * Which captured packets a lab's faults dropped. A fault drops at the receiver's input, after the
 * capture there saw the packet, so the dropped packet is in the pcap; nftables only counts. The
 * runner records when each fault was armed; the packets its match selects while armed are the
 * dropped ones, and only when their number equals the rule's own counter are they named (a
 * random-loss rule, or a count that disagrees, names none and says so).
 */
import type { Analysis, SegmentRecord, TcpConnection } from '../analyze/model.js';
import { ACK, FIN, RST, SYN } from '../decode/packet.js';
import type { FaultCount, HostRole, PacketMatch } from '../sandbox/types.js';
import type { RuntimeFault } from './types.js';

/** A fault as the runner saw it: its rule and the epoch-second windows it was armed in. */
export interface FaultLog {
  name: string;
  spec: RuntimeFault;
  windows: { from: number; to: number }[]; // to = Infinity while still armed
}

export interface FaultDrops {
  /** Packet numbers (as inspect prints them) a fault dropped, in capture order. */
  packets: number[];
  /** Faults whose dropped packets could not be named, and why. */
  unnamed: { fault: string; dropped: number; why: string }[];
}

function shapeMatches(shape: NonNullable<PacketMatch['tcp']>, s: SegmentRecord): boolean {
  const f = s.flags;
  switch (shape) {
    case 'syn': return (f & (FIN | SYN | RST | ACK)) === SYN;
    case 'syn-ack': return (f & (FIN | SYN | RST | ACK)) === (SYN | ACK);
    case 'pure-ack': return s.len === 0 && (f & 0x3f) === ACK;
    case 'fin': return (f & FIN) !== 0;
    case 'rst': return (f & RST) !== 0;
    case 'data': return s.len > 0;
  }
}

function matches(m: PacketMatch, c: TcpConnection, s: SegmentRecord, addrOf: (r: HostRole) => string, loopback: boolean): boolean {
  if (m.proto !== undefined && m.proto !== 'tcp') return false;
  const fromClient = s.from === 'client';
  const srcAddr = fromClient ? c.clientAddr : c.serverAddr;
  const sport = fromClient ? c.clientPort : c.serverPort;
  const dport = fromClient ? c.serverPort : c.clientPort;
  if (m.from !== undefined && !loopback && srcAddr !== addrOf(m.from)) return false;
  if (m.sport !== undefined && sport !== m.sport) return false;
  if (m.dport !== undefined && dport !== m.dport) return false;
  return m.tcp === undefined || shapeMatches(m.tcp, s);
}

const armedAt = (log: FaultLog, t: number): boolean => log.windows.some((w) => t >= w.from && t <= w.to);

/** The TCP segments each fault dropped (captured at the fault's host), checked against its counter. */
export function faultDrops(a: Analysis, logs: FaultLog[], counts: FaultCount[], addrOf: (r: HostRole) => string, loopback: boolean): FaultDrops {
  const out: FaultDrops = { packets: [], unnamed: [] };
  for (const log of logs) {
    const dropped = counts.find((c) => c.name === log.name)?.dropped ?? 0;
    if (dropped === 0) continue;
    const d = log.spec.drop ?? 'all';
    if (d !== 'all' && 'percent' in d) {
      out.unnamed.push({ fault: log.name, dropped, why: 'a random loss rule drops without saying which packets' });
      continue;
    }
    if (log.spec.match.ttl !== undefined) {
      // The analysis keeps no TTL per segment: naming packets by the rest of the match would
      // include the copies the rule let through (simultaneous-close's delayed FINs, TTL 63).
      out.unnamed.push({ fault: log.name, dropped, why: `the rule matches TTL ${log.spec.match.ttl}, which the analysis does not keep per segment` });
      continue;
    }
    const hits: number[] = [];
    for (const c of a.tcp) for (const s of c.segments) if (armedAt(log, s.absTime) && matches(log.spec.match, c, s, addrOf, loopback)) hits.push(s.packet);
    hits.sort((x, y) => x - y);
    const named = d === 'all' ? hits : hits.slice(d.nth - 1, d.nth - 1 + (d.count ?? 1));
    if (named.length !== dropped) {
      out.unnamed.push({ fault: log.name, dropped, why: `${named.length} captured packets match the rule while it was armed, its counter says ${dropped}` });
      continue;
    }
    out.packets.push(...named);
  }
  out.packets.sort((x, y) => x - y);
  return out;
}
