/**
 * `wirelab inspect FILE --json`: exactly the contract in DESIGN.md, field for field, in its
 * order. A projection of the Analysis; it computes nothing.
 */
import type { Analysis, CloseKind, Side, TcpConnection, TcpState, UdpFlow } from '../analyze/model.js';
import type { CaptureFormat } from '../capture/record.js';

export interface InspectTcpJson {
  id: number;
  client: string;
  server: string;
  packets: number;
  bytes: { client: number; server: number };
  handshake: {
    complete: boolean;
    clientIsn: number | null;
    serverIsn: number | null;
    synRetransmits: number;
    synAckRetransmits: number;
    rttMs: number | null;
  };
  close: { kind: CloseKind; initiator: Side | null };
  timeWait: Side | 'both' | null;
  retransmissions: number;
  resets: number;
  states: { client: TcpState[]; server: TcpState[] };
}

export interface InspectUdpJson {
  src: string;
  dst: string;
  datagrams: number;
  bytes: number;
  fragmented: number;
  incomplete: number;
}

export interface InspectJson {
  file: string;
  format: CaptureFormat;
  linkType: number;
  packets: number;
  decodeErrors: number;
  truncated: number;
  tcp: InspectTcpJson[];
  udp: InspectUdpJson[];
}

/** The states a side went through, in order ("CLOSED", "SYN_SENT", ...). */
function path(t: TcpConnection['states']['client']): TcpState[] {
  if (t.length === 0) return ['CLOSED'];
  return [t[0]!.from, ...t.map((x) => x.to)];
}

function tcpJson(c: TcpConnection): InspectTcpJson {
  const h = c.handshake;
  return {
    id: c.id,
    client: c.client,
    server: c.server,
    packets: c.packets,
    bytes: { client: c.bytes.client, server: c.bytes.server },
    handshake: {
      complete: h.complete,
      clientIsn: h.clientIsn,
      serverIsn: h.serverIsn,
      synRetransmits: h.synRetransmits,
      synAckRetransmits: h.synAckRetransmits,
      rttMs: h.rttMs === null ? null : Math.round(h.rttMs * 1000) / 1000,
    },
    close: { kind: c.close.kind, initiator: c.close.initiator },
    timeWait: c.timeWait,
    retransmissions: c.retransmissions,
    resets: c.resets,
    states: { client: path(c.states.client), server: path(c.states.server) },
  };
}

function udpJson(u: UdpFlow): InspectUdpJson {
  return { src: u.src, dst: u.dst, datagrams: u.datagrams, bytes: u.bytes, fragmented: u.fragmented, incomplete: u.incomplete };
}

export function toInspectJson(a: Analysis): InspectJson {
  return {
    file: a.file,
    // DESIGN.md's format is "pcap"|"pcapng": a file that was no capture at all reads as pcap
    // (its faults say why; the CLI exits 2 before printing in that case).
    format: a.format ?? 'pcap',
    linkType: a.linkType,
    packets: a.packets,
    decodeErrors: a.decodeErrors,
    truncated: a.truncated,
    tcp: a.tcp.map(tcpJson),
    udp: a.udp.map(udpJson),
  };
}
