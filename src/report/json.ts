/**
 * `wirelab inspect FILE --json`: exactly the contract in DESIGN.md, field for field, in its
 * order. A projection of the Analysis; it computes nothing.
 *
 * One type (InspectJson), one writer per part (inspectHead, tcpJson, udpJson): toInspectJson
 * builds the whole object (in-process users: the runner, tests). inspectJsonText yields the same
 * object as JSON text piece by piece (the CLI streams it): the header, then one line per
 * connection (tcpJsonLine: the fast writer, held to tcpJson field by field by a test) and per UDP
 * flow, pulling TCP connections one at a time through one reused object, so that a
 * million-packet capture never holds all of them, or one giant string, at once.
 */
import { tcpConnections } from '../analyze/analyzer.js';
import type { Analysis, CloseKind, Side, TcpConnection, TcpState, UdpFlow } from '../analyze/model.js';
import type { ConnStart } from '../analyze/tcp-states.js';
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
  /** Join pieces until they reach about this many characters (default 64 Ki). */
  chunkChars?: number;
}

/**
 * The inspect object as JSON text, in pieces of about chunkChars characters; their
 * concatenation parses to exactly toInspectJson(a) (with the stream filter applied).
 */
export function* inspectJsonText(a: Analysis, opts: InspectJsonTextOptions = {}): Generator<string> {
  const limit = opts.chunkChars ?? 65536;
  let buf = JSON.stringify(inspectHead(a), null, 2).slice(0, -2) + ',\n  "tcp": [';
  const tcp = tcpConnections(a);
  const statesText = new Map<TcpState[], string>(); // the tracker's connections share their path arrays
  let first = true;
  for (let i = 0; i < tcp.count; i++) {
    if (opts.stream !== undefined && i !== opts.stream) continue;
    // One reused object per connection (no model object each), written straight to text.
    buf += (first ? '\n    ' : ',\n    ') + tcpJsonLine(tcp.peek(i), statesText);
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
 * JSON.stringify(tcpJson(c)), written without the intermediate object: the fast streaming writer,
 * held to tcpJson field by field by test/unit/report/json.test.ts. `cache`: state-path texts by
 * array, for connections that share their path arrays (the tracker's do).
 */
export function tcpJsonLine(c: TcpConnection, cache?: Map<TcpState[], string>): string {
  const h = c.handshake;
  const rtt = h.rttMs === null ? 'null' : jnum(roundRtt(h.rttMs)!);
  // Endpoint texts are digits, dots, hex, colons and brackets: nothing to escape.
  return `{"id":${c.id},"client":"${c.client}","server":"${c.server}","packets":${c.packets},` +
    `"bytes":{"client":${c.bytes.client},"server":${c.bytes.server}},` +
    `"handshake":{"complete":${h.complete},"clientIsn":${isn(h.clientIsn)},"serverIsn":${isn(h.serverIsn)},` +
    `"synRetransmits":${h.synRetransmits},"synAckRetransmits":${h.synAckRetransmits},"rttMs":${rtt}},` +
    `"close":{"kind":"${c.close.kind}","initiator":${str(c.close.initiator)}},"timeWait":${str(c.timeWait)},` +
    `"retransmissions":${c.retransmissions},"resets":${c.resets},` +
    `"states":{"client":${statesJson(c.statePath.client, cache)},"server":${statesJson(c.statePath.server, cache)}},` +
    `"start":"${c.start}","encapsulation":${encapJson(c.encapsulation)}}`;
}

/** Encapsulation names are plain words: nothing to escape. The tracker shares one array per mask. */
function encapJson(list: readonly string[]): string {
  return list.length === 0 ? '[]' : `["${list.join('","')}"]`;
}
