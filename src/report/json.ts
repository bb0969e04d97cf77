/**
 * `wirelab inspect FILE --json`: exactly the contract in DESIGN.md, field for field, in its
 * order. A projection of the Analysis; it computes nothing.
 *
 * One type (InspectJson), one writer per part (inspectHead, tcpJson, udpJson): toInspectJson
 * builds the whole object (in-process users: the runner, tests). inspectJsonBytes yields the same
 * object as JSON bytes piece by piece (the CLI streams it): the header, then one line per
 * connection (JsonBytes.connection, src/report/json-bytes.ts: the fast writer, held to tcpJson
 * field by field by a test through tcpJsonLine) and per UDP flow.
 */
import { tcpConnections } from '../analyze/analyzer.js';
import type { Analysis, CloseKind, Side, TcpConnection, TcpState, UdpFlow } from '../analyze/model.js';
import type { ConnStart } from '../analyze/tcp-states.js';
import type { CaptureFormat } from '../capture/record.js';
import { JsonBytes } from './json-bytes.js';

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
  /** Where the capture picked the connection up: 'syn', 'syn-ack' or 'mid-stream' (the first states assumed). */
  start: ConnStart;
  /** The encapsulations its segments came in ("vlan", "pppoe", "gre", ...), [] for none. */
  encapsulation: readonly string[];
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

/** The one writer of a connection's object; tcpJsonLine must write the same (test/unit/report/json.test.ts). */
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
      rttMs: roundRtt(h.rttMs),
    },
    close: { kind: c.close.kind, initiator: c.close.initiator },
    timeWait: c.timeWait,
    retransmissions: c.retransmissions,
    resets: c.resets,
    states: { client: c.statePath.client, server: c.statePath.server },
    start: c.start,
    encapsulation: c.encapsulation,
  };
}

/** Handshake RTT in the JSON: milliseconds to the microsecond. */
function roundRtt(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms * 1000) / 1000;
}

export function udpJson(u: UdpFlow): InspectUdpJson {
  return { src: u.src, dst: u.dst, datagrams: u.datagrams, bytes: u.bytes, fragmented: u.fragmented, incomplete: u.incomplete };
}

type InspectHead = Omit<InspectJson, 'tcp' | 'udp'>;

function inspectHead(a: Analysis): InspectHead {
  return {
    file: a.file,
    // DESIGN.md's format is "pcap"|"pcapng": a file that was no capture at all reads as pcap
    // (its faults say why; the CLI exits 2 before printing in that case).
    format: a.format ?? 'pcap',
    linkType: a.linkType,
    packets: a.packets,
    decodeErrors: a.decodeErrors,
    truncated: a.truncated,
  };
}

export function toInspectJson(a: Analysis): InspectJson {
  const tcp = tcpConnections(a);
  const list: InspectTcpJson[] = [];
  for (let i = 0; i < tcp.count; i++) list.push(tcpJson(tcp.peek(i)));
  return { ...inspectHead(a), tcp: list, udp: a.udp.map(udpJson) };
}

export interface InspectJsonTextOptions {
  /** Only this TCP stream (as --stream N). */
  stream?: number;
  /** Hand over a piece once it holds about this many bytes (default 64 Ki). */
  chunkChars?: number;
}

/**
 * The inspect object as JSON bytes, in pieces of about chunkChars bytes; their concatenation
 * parses to exactly toInspectJson(a) (with the stream filter applied). Connections are pulled
 * one at a time through one reused object and written as bytes (src/report/json-bytes.ts), so
 * that a million-packet capture never holds all of them, or one giant string, at once.
 */
export function* inspectJsonBytes(a: Analysis, opts: InspectJsonTextOptions = {}): Generator<Buffer> {
  const limit = opts.chunkChars ?? 65536;
  const w = new JsonBytes(limit + 4096);
  w.utf8(JSON.stringify(inspectHead(a), null, 2).slice(0, -2) + ',\n  "tcp": [');
  const tcp = tcpConnections(a);
  let first = true;
  for (let i = 0; i < tcp.count; i++) {
    if (opts.stream !== undefined && i !== opts.stream) continue;
    w.text(first ? '\n    ' : ',\n    ');
    const c = tcp.peek(i);
    w.connection(c, roundRtt(c.handshake.rttMs));
    first = false;
    if (w.length >= limit) yield w.take();
  }
  w.text(first ? '],\n  "udp": [' : '\n  ],\n  "udp": [');
  first = true;
  for (const u of a.udp) {
    // UDP flows are few: JSON.stringify.
    w.utf8((first ? '\n    ' : ',\n    ') + JSON.stringify(udpJson(u)));
    first = false;
    if (w.length >= limit) yield w.take();
  }
  w.text(first ? ']\n}\n' : '\n  ]\n}\n');
  yield w.take();
}

/** inspectJsonBytes as text (in-process readers, tests). */
export function* inspectJsonText(a: Analysis, opts: InspectJsonTextOptions = {}): Generator<string> {
  // Pieces end between connection lines: never inside a character.
  for (const piece of inspectJsonBytes(a, opts)) yield piece.toString('utf8');
}

/**
 * JSON.stringify(tcpJson(c)), from the fast byte writer (JsonBytes.connection): held to tcpJson
 * field by field by test/unit/report/json.test.ts.
 */
export function tcpJsonLine(c: TcpConnection): string {
  const w = new JsonBytes(1024);
  w.connection(c, roundRtt(c.handshake.rttMs));
  return w.take().toString('latin1');
}
