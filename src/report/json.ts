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
import { tcpConnections, type TcpRow } from '../analyze/analyzer.js';
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
  const row = newRow();
  const statesText = new Map<TcpState[], string>(); // the tracker's rows share their path arrays
  let first = true;
  for (let i = 0; i < tcp.count; i++) {
    let line: string;
    if (tcp.row !== undefined) {
      // Straight from the tracker's numbers: no model object per connection.
      if (opts.stream !== undefined && i !== opts.stream) continue;
      line = tcpRowLine(tcp.row(i, row), statesText);
    } else {
      const c = tcp.at(i);
      if (opts.stream !== undefined && c.id !== opts.stream) continue;
      line = tcpJsonLine(c);
    }
    buf += (first ? '\n    ' : ',\n    ') + line;
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

function newRow(): TcpRow {
  return {
    id: 0, client: '', server: '', packets: 0, bytesClient: 0, bytesServer: 0, complete: false, clientIsn: null, serverIsn: null,
    synRetransmits: 0, synAckRetransmits: 0, rttMs: null, closeKind: 'none', initiator: null, timeWait: null, retransmissions: 0,
    resets: 0, clientPath: [], serverPath: [],
  };
}

/** The row of a model object (what TcpTracker.row gives for a connection it still holds). */
function rowOf(c: TcpConnection, r: TcpRow): TcpRow {
  const h = c.handshake;
  r.id = c.id;
  r.client = c.client;
  r.server = c.server;
  r.packets = c.packets;
  r.bytesClient = c.bytes.client;
  r.bytesServer = c.bytes.server;
  r.complete = h.complete;
  r.clientIsn = h.clientIsn;
  r.serverIsn = h.serverIsn;
  r.synRetransmits = h.synRetransmits;
  r.synAckRetransmits = h.synAckRetransmits;
  r.rttMs = h.rttMs;
  r.closeKind = c.close.kind;
  r.initiator = c.close.initiator;
  r.timeWait = c.timeWait;
  r.retransmissions = c.retransmissions;
  r.resets = c.resets;
  r.clientPath = path(c.states.client);
  r.serverPath = path(c.states.server);
  return r;
}

/** JSON.stringify(tcpJson(c)) without the intermediate object (the same text, parsed). */
export function tcpJsonLine(c: TcpConnection): string {
  return tcpRowLine(rowOf(c, newRow()));
}

// '0000' .. '9999': a 32-bit number written as two small integers (a double's own conversion is slower).
const PAD4: string[] = Array.from({ length: 10000 }, (_, i) => String(i).padStart(4, '0'));

function isn(x: number | null): string {
  if (x === null) return 'null';
  if (x < 1e9 || x >= 4294967296 || !Number.isInteger(x)) return jnum(x);
  const hi = Math.floor(x / 10000);
  return `${hi}${PAD4[x - hi * 10000]!}`;
}

/** A side, 'both' or null: plain words, nothing to escape. */
function str(x: string | null): string {
  return x === null ? 'null' : `"${x}"`;
}

function statesJson(list: TcpState[], cache: Map<TcpState[], string> | undefined): string {
  if (cache === undefined) return jstates(list);
  let s = cache.get(list);
  if (s === undefined) {
    s = jstates(list);
    cache.set(list, s);
  }
  return s;
}

/**
 * One connection's line of the inspect JSON, from its row. `cache`: state-path texts by array,
 * for rows that share their path arrays (TcpTracker.row).
 */
export function tcpRowLine(r: TcpRow, cache?: Map<TcpState[], string>): string {
  const rtt = r.rttMs === null ? 'null' : jnum(Math.round(r.rttMs * 1000) / 1000);
  // Endpoint texts are digits, dots, hex, colons and brackets: nothing to escape.
  return `{"id":${r.id},"client":"${r.client}","server":"${r.server}","packets":${r.packets},` +
    `"bytes":{"client":${r.bytesClient},"server":${r.bytesServer}},` +
    `"handshake":{"complete":${r.complete},"clientIsn":${isn(r.clientIsn)},"serverIsn":${isn(r.serverIsn)},` +
    `"synRetransmits":${r.synRetransmits},"synAckRetransmits":${r.synAckRetransmits},"rttMs":${rtt}},` +
    `"close":{"kind":"${r.closeKind}","initiator":${str(r.initiator)}},"timeWait":${str(r.timeWait)},` +
    `"retransmissions":${r.retransmissions},"resets":${r.resets},` +
    `"states":{"client":${statesJson(r.clientPath, cache)},"server":${statesJson(r.serverPath, cache)}}}`;
}
