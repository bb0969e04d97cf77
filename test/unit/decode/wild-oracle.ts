/**
 * tshark as the oracle for the wild-capture fixtures: per tcp.stream facts from the committed
 * FILE.tshark.tsv (test/fixtures/wild/tshark-fields.sh wrote it), derived the way
 * test/integration/oracle/tshark-streams.ts derives them, plus the close kind and the TIME_WAIT
 * side worked out from the sequence and acknowledgment numbers (tshark has no field for them):
 * - addresses: the innermost IP header's (the last ip/ipv6 in frame.protocols), as tcp.stream keys them;
 * - client: the sender of the first SYN without ACK; with none, the receiver of the first
 *   SYN-ACK; with neither, the sender of the first packet (DESIGN.md's rule);
 * - close: the first FIN's sender X initiates (else the first RST's); with both FINs: the second
 *   FIN not acknowledging the first is simultaneous, a separate earlier ACK of the first FIN
 *   four-way, else three-way; a RST before both FINs are acknowledged is a reset;
 * - TIME_WAIT: a side that sent a FIN the peer acknowledged and acknowledged the peer's FIN,
 *   being the initiator or in a simultaneous close; nobody once a RST came after the close (it
 *   ends TIME_WAIT), as test/integration/oracle derives it.
 */
import { readFileSync } from 'node:fs';

export interface OraclePacket {
  frame: number;
  us: number; // epoch microseconds
  from: string;
  to: string;
  flags: number;
  seq: number;
  ack: number;
  len: number;
  retrans: boolean;
}

export interface OracleStream {
  stream: number;
  client: string;
  server: string;
  firstUs: number;
  complete: boolean;
  synRetransmits: number;
  synAckRetransmits: number;
  retransmissions: number;
  resets: number;
  initiator: 'client' | 'server' | null;
  kind: 'four-way' | 'three-way' | 'simultaneous' | 'reset' | 'none';
  timeWait: 'client' | 'server' | 'both' | null;
  packets: OraclePacket[];
}

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

function endpoint(addr: string, port: string): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function epochUs(s: string): number {
  const [sec, frac = ''] = s.split('.');
  return Number(sec) * 1e6 + Number((frac + '000000').slice(0, 6));
}

export function oracleStreams(tsvFile: string): OracleStream[] {
  const lines = readFileSync(tsvFile, 'utf8').split('\n').filter((l) => l !== '');
  const head = lines.shift()!.split('\t');
  const col = (name: string): number => {
    const i = head.indexOf(name);
    if (i < 0) throw new Error(`${tsvFile}: no column ${name}`);
    return i;
  };
  const C = {
    frame: col('frame.number'), time: col('frame.time_epoch'), protos: col('frame.protocols'), stream: col('tcp.stream'),
    ip4s: col('ip.src'), ip6s: col('ipv6.src'), sport: col('tcp.srcport'), ip4d: col('ip.dst'), ip6d: col('ipv6.dst'),
    dport: col('tcp.dstport'), flags: col('tcp.flags'), seq: col('tcp.seq'), ack: col('tcp.ack'), len: col('tcp.len'),
    completeness: col('tcp.completeness'), retrans: col('tcp.analysis.retransmission'),
  };
  const byStream = new Map<number, { packets: OraclePacket[]; completeness: number }>();
  for (const line of lines) {
    const c = line.split('\t');
    const layers = c[C.protos]!.split(':').filter((l) => l === 'ip' || l === 'ipv6');
    const v6 = layers[layers.length - 1] === 'ipv6';
    const last = (s: string): string => s.split(',').pop()!;
    const src = last(c[v6 ? C.ip6s : C.ip4s]!);
    const dst = last(c[v6 ? C.ip6d : C.ip4d]!);
    const p: OraclePacket = {
      frame: Number(c[C.frame]), us: epochUs(c[C.time]!), from: endpoint(src, c[C.sport]!), to: endpoint(dst, c[C.dport]!),
      flags: Number(c[C.flags]), seq: Number(c[C.seq]), ack: Number(c[C.ack] || 0), len: Number(c[C.len] || 0), retrans: c[C.retrans] === '1',
    };
    const id = Number(c[C.stream]);
    const s = byStream.get(id) ?? { packets: [], completeness: 0 };
    s.packets.push(p);
    s.completeness = Math.max(s.completeness, Number(c[C.completeness] || 0));
    byStream.set(id, s);
  }
  return [...byStream.entries()].sort((a, b) => a[0] - b[0]).map(([stream, s]) => derive(stream, s.packets, s.completeness));
}

function derive(stream: number, packets: OraclePacket[], completeness: number): OracleStream {
  const syn = packets.find((p) => (p.flags & (SYN | ACK)) === SYN);
  const synAck = packets.find((p) => (p.flags & (SYN | ACK)) === (SYN | ACK));
  const client = syn ? syn.from : synAck ? synAck.to : packets[0]!.from;
  const server = syn ? syn.to : synAck ? synAck.from : packets[0]!.to;
  const side = (p: OraclePacket): 'client' | 'server' => (p.from === client ? 'client' : 'server');
  let synRetransmits = 0;
  let synAckRetransmits = 0;
  let retransmissions = 0;
  let resets = 0;
  for (const p of packets) {
    if (p.retrans) {
      retransmissions++;
      if ((p.flags & (SYN | ACK)) === SYN) synRetransmits++;
      if ((p.flags & (SYN | ACK)) === (SYN | ACK)) synAckRetransmits++;
    }
    if (p.flags & RST) resets++;
  }
  // The close, in sequence space (tcp.seq / tcp.ack are relative per direction; a FIN's own
  // number is seq + len, and a peer acknowledges it with ack >= that + 1).
  const finIdx = packets.findIndex((p) => p.flags & FIN);
  const rstIdx = packets.findIndex((p) => p.flags & RST);
  const closerIdx = finIdx >= 0 ? finIdx : rstIdx;
  const initiator = closerIdx >= 0 ? side(packets[closerIdx]!) : null;
  let kind: OracleStream['kind'] = rstIdx >= 0 ? 'reset' : 'none';
  let timeWait: OracleStream['timeWait'] = null;
  if (finIdx >= 0) {
    const x = packets[finIdx]!;
    const finX = x.seq + x.len;
    const yIdx = packets.findIndex((p) => p.flags & FIN && p.from !== x.from);
    const acked = (fromSide: string, fin: number, after: number): number =>
      packets.findIndex((p, i) => i > after && p.from === fromSide && p.flags & ACK && p.ack >= fin + 1 && !(p.flags & RST));
    if (yIdx >= 0) {
      const y = packets[yIdx]!;
      const finY = y.seq + y.len;
      const ackOfX = acked(y.from, finX, finIdx);
      const ackOfY = acked(x.from, finY, yIdx);
      const crossed = !(y.flags & ACK) || y.ack < finX + 1;
      const closedAt = Math.max(ackOfX, ackOfY);
      if (rstIdx >= 0 && (ackOfX < 0 || ackOfY < 0 || rstIdx < closedAt)) kind = 'reset';
      else kind = crossed ? 'simultaneous' : ackOfX >= 0 && ackOfX < yIdx ? 'four-way' : 'three-way';
      // A RST after the close ends TIME_WAIT (RFC 9293 3.10.7.4; Linux with tcp_rfc1337=0).
      const rstAfter = packets.some((p, i) => i > closedAt && p.flags & RST);
      if (kind !== 'reset' && !rstAfter) {
        const xTw = ackOfX >= 0 && ackOfY >= 0;
        const yTw = crossed && xTw;
        const xs = side(x);
        timeWait = xTw && yTw ? 'both' : xTw ? xs : null;
      }
    }
  }
  return {
    stream, client, server, firstUs: packets[0]!.us, complete: (completeness & 7) === 7,
    synRetransmits, synAckRetransmits, retransmissions, resets, initiator, kind, timeWait, packets,
  };
}

/** "12 c> S 0 | 13 s> S. 0 | 14 c> . 64 RETRANS": a stream's packets, for a mismatch report. */
export function describeStream(s: OracleStream): string {
  const letters = (f: number): string => (f & SYN ? 'S' : '') + (f & FIN ? 'F' : '') + (f & RST ? 'R' : '') + (f & 0x08 ? 'P' : '') + (f & ACK ? '.' : '');
  return s.packets.map((p) => `${p.frame} ${p.from === s.client ? 'c>' : 's>'} ${letters(p.flags)} seq ${p.seq} ack ${p.ack} len ${p.len}${p.retrans ? ' RETRANS' : ''}`).join(' | ');
}
