/**
 * `wirelab inspect FILE --json`: exactly the contract in DESIGN.md, field for field, in its
 * order. A projection of the Analysis; it computes nothing.
 *
 * toInspectJson builds the whole object (in-process users: the runner, tests);
 * inspectJsonText yields the same object as JSON text piece by piece (the CLI streams it): the
 * header, then one line per connection and per UDP flow, pulling TCP connections one at a time
 * from the analysis so that a million-packet capture never holds all of them, or one giant
 * string, at once.
 */
import { tcpConnections } from '../analyze/analyzer.js';
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

export function tcpJson(c: TcpConnection): InspectTcpJson {
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

export function udpJson(u: UdpFlow): InspectUdpJson {
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

export interface InspectJsonTextOptions {
  /** Only this TCP stream (as --stream N). */
  stream?: number;
  /** Join pieces until they reach about this many characters (default 64 Ki). */
  chunkChars?: number;
}

/**
 * The inspect object as JSON text, in pieces of about chunkChars characters; their
 * concatenation parses to exactly toInspectJson(a) (with the stream filter applied).
 */
export function* inspectJsonText(a: Analysis, opts: InspectJsonTextOptions = {}): Generator<string> {
  const limit = opts.chunkChars ?? 65536;
  const head = {
    file: a.file,
    format: a.format ?? 'pcap',
    linkType: a.linkType,
    packets: a.packets,
    decodeErrors: a.decodeErrors,
    truncated: a.truncated,
  };
  let buf = JSON.stringify(head, null, 2).slice(0, -2) + ',\n  "tcp": [';
  const tcp = tcpConnections(a);
  let first = true;
  for (let i = 0; i < tcp.count; i++) {
    const c = tcp.at(i);
    if (opts.stream !== undefined && c.id !== opts.stream) continue;
    buf += (first ? '\n    ' : ',\n    ') + tcpJsonLine(c);
    first = false;
    if (buf.length >= limit) {
      yield buf;
      buf = '';
    }
  }
  buf += first ? '],\n  "udp": [' : '\n  ],\n  "udp": [';
  first = true;
  for (const u of a.udp) {
    buf += (first ? '\n    ' : ',\n    ') + JSON.stringify(udpJson(u));
    first = false;
    if (buf.length >= limit) {
      yield buf;
      buf = '';
    }
  }
  buf += first ? ']\n}\n' : '\n  ]\n}\n';
  yield buf;
}

function jnum(x: number): string {
  return Number.isFinite(x) ? `${x}` : 'null'; // as JSON.stringify writes numbers
}

function jstates(list: TcpState[]): string {
  return list.length === 1 ? `["${list[0]}"]` : `["${list.join('","')}"]`; // state names need no escaping
}

/** JSON.stringify(tcpJson(c)) without the intermediate object (the same text, parsed). */
export function tcpJsonLine(c: TcpConnection): string {
  const h = c.handshake;
  const rtt = h.rttMs === null ? 'null' : jnum(Math.round(h.rttMs * 1000) / 1000);
  const isn = (x: number | null): string => (x === null ? 'null' : jnum(x));
  const str = (x: string | null): string => (x === null ? 'null' : JSON.stringify(x));
  return `{"id":${c.id},"client":${JSON.stringify(c.client)},"server":${JSON.stringify(c.server)},"packets":${c.packets},` +
    `"bytes":{"client":${c.bytes.client},"server":${c.bytes.server}},` +
    `"handshake":{"complete":${h.complete},"clientIsn":${isn(h.clientIsn)},"serverIsn":${isn(h.serverIsn)},` +
    `"synRetransmits":${h.synRetransmits},"synAckRetransmits":${h.synAckRetransmits},"rttMs":${rtt}},` +
    `"close":{"kind":"${c.close.kind}","initiator":${str(c.close.initiator)}},"timeWait":${str(c.timeWait)},` +
    `"retransmissions":${c.retransmissions},"resets":${c.resets},` +
    `"states":{"client":${jstates(path(c.states.client))},"server":${jstates(path(c.states.server))}}}`;
}
