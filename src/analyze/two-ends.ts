/**
 * One TCP connection seen from both ends: the client host's capture and the server host's. Each
 * capture is analyzed on its own (inspectStream, segments kept); connections are paired by their
 * ISNs (which survive NAT) or else by their endpoints, and segments by what the sender put in
 * them (direction, seq, ack, flags, length, TSval), the k-th copy with the k-th copy
 * (retransmissions). A segment's one-way delay is its time in the receiver's capture minus its
 * time in the sender's: exact when both hosts share one clock (containers on one machine), as
 * good as their clock sync otherwise (a negative delay shows skew). Works on kept segments, not
 * per packet: two-host captures are small.
 */
import type { Analysis, Side, SegmentRecord, StateTransition, TcpConnection } from './model.js';

export interface PairedSegment {
  from: Side;
  flags: number;
  relSeq: number;
  relAck: number;
  len: number;
  clientPacket: number | null; // its number in the client host's capture
  serverPacket: number | null;
  sentAt: number | null; // epoch seconds in the sender's capture
  receivedAt: number | null; // in the receiver's capture
  delayMs: number | null; // receivedAt - sentAt
  meaning: string; // from the sender's capture
}

export interface DelayStats {
  count: number;
  minMs: number | null;
  medianMs: number | null;
  maxMs: number | null;
}

export interface TwoEndsConnection {
  client: string; // as the client host saw it ("ip:port")
  server: string; // as the server host saw it
  clientIsn: number | null;
  serverIsn: number | null;
  pairedBy: 'isn' | 'endpoints';
  segments: PairedSegment[];
  oneWay: { clientToServer: DelayStats; serverToClient: DelayStats };
  /** Sent by one host, never seen by the other (lost between them, or after a capture stopped). */
  unseen: { clientToServer: number; serverToClient: number };
  /** Handshake RTT as each end measures it: client SYN -> SYN-ACK; server SYN-ACK -> ACK. */
  rttMs: { client: number | null; server: number | null };
  states: { client: StateTransition[]; server: StateTransition[] };
}

export interface TwoEnds {
  clientFile: string;
  serverFile: string;
  connections: TwoEndsConnection[];
  /** Connections in one capture without a partner in the other. */
  unpaired: { client: string[]; server: string[] };
}

const key = (s: SegmentRecord): string => `${s.from}|${s.seq}|${s.ack}|${s.flags}|${s.len}|${s.options.timestamps?.[0] ?? ''}`;

function stats(delays: number[]): DelayStats {
  if (!delays.length) return { count: 0, minMs: null, medianMs: null, maxMs: null };
  const d = [...delays].sort((a, b) => a - b);
  const mid = d.length >> 1;
  const median = d.length % 2 ? d[mid]! : (d[mid - 1]! + d[mid]!) / 2;
  return { count: d.length, minMs: d[0]!, medianMs: median, maxMs: d[d.length - 1]! };
}

const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;

function firstTime(c: TcpConnection, from: Side, pred: (s: SegmentRecord) => boolean): number | null {
  return c.segments.find((s) => s.from === from && pred(s))?.absTime ?? null;
}

const isSyn = (s: SegmentRecord): boolean => (s.flags & 0x12) === 0x02;
const isSynAck = (s: SegmentRecord): boolean => (s.flags & 0x12) === 0x12;
const isAckOnly = (s: SegmentRecord): boolean => (s.flags & 0x17) === 0x10;

/** Pair the segments of one connection seen by the client host (`c`) and the server host (`s`). */
export function pairConnection(c: TcpConnection, s: TcpConnection, pairedBy: 'isn' | 'endpoints'): TwoEndsConnection {
  const atServer = new Map<string, SegmentRecord[]>();
  for (const seg of s.segments) {
    const k = key(seg);
    const list = atServer.get(k);
    if (list) list.push(seg);
    else atServer.set(k, [seg]);
  }
  const segments: PairedSegment[] = [];
  for (const seg of c.segments) {
    const twin = atServer.get(key(seg))?.shift() ?? null; // the k-th copy with the k-th copy
    const sent = seg.from === 'client' ? seg.absTime : twin?.absTime ?? null;
    const received = seg.from === 'client' ? twin?.absTime ?? null : seg.absTime;
    const sender = seg.from === 'client' ? seg : twin;
    segments.push({
      from: seg.from, flags: seg.flags, relSeq: seg.relSeq, relAck: seg.relAck, len: seg.len,
      clientPacket: seg.packet, serverPacket: twin?.packet ?? null,
      sentAt: sent, receivedAt: received,
      delayMs: sent !== null && received !== null ? round3((received - sent) * 1000) : null,
      meaning: (sender ?? seg).meaning,
    });
  }
  // What only the server host saw: sent by the server and never received, or received from a client send the client's capture missed.
  for (const rest of atServer.values()) {
    for (const seg of rest) {
      segments.push({
        from: seg.from, flags: seg.flags, relSeq: seg.relSeq, relAck: seg.relAck, len: seg.len,
        clientPacket: null, serverPacket: seg.packet,
        sentAt: seg.from === 'server' ? seg.absTime : null, receivedAt: seg.from === 'server' ? null : seg.absTime,
        delayMs: null, meaning: seg.meaning,
      });
    }
  }
  segments.sort((a, b) => (a.sentAt ?? a.receivedAt ?? 0) - (b.sentAt ?? b.receivedAt ?? 0));
  const delays = (from: Side): number[] => segments.filter((p) => p.from === from && p.delayMs !== null).map((p) => p.delayMs!);
  const unseen = (from: Side): number => segments.filter((p) => p.from === from && p.sentAt !== null && p.receivedAt === null).length;
  const cSyn = firstTime(c, 'client', isSyn);
  const cSynAck = firstTime(c, 'server', isSynAck);
  const sSynAck = firstTime(s, 'server', isSynAck);
  const sAck = sSynAck === null ? null : s.segments.find((x) => x.from === 'client' && isAckOnly(x) && x.absTime >= sSynAck)?.absTime ?? null;
  return {
    client: c.client, server: s.server,
    clientIsn: c.handshake.clientIsn ?? s.handshake.clientIsn,
    serverIsn: c.handshake.serverIsn ?? s.handshake.serverIsn,
    pairedBy, segments,
    oneWay: { clientToServer: stats(delays('client')), serverToClient: stats(delays('server')) },
    unseen: { clientToServer: unseen('client'), serverToClient: unseen('server') },
    rttMs: {
      client: cSyn !== null && cSynAck !== null ? round3((cSynAck - cSyn) * 1000) : null,
      server: sSynAck !== null && sAck !== null ? round3((sAck - sSynAck) * 1000) : null,
    },
    states: { client: c.states.client, server: s.states.server },
  };
}

/** Pair every connection of the client host's analysis with its twin in the server host's. */
export function twoEnds(client: Analysis, server: Analysis): TwoEnds {
  const left = new Set(server.tcp);
  const connections: TwoEndsConnection[] = [];
  const unpairedClient: string[] = [];
  for (const c of client.tcp) {
    const hasIsns = c.handshake.clientIsn !== null && c.handshake.serverIsn !== null;
    let twin = hasIsns
      ? [...left].find((s) => s.handshake.clientIsn === c.handshake.clientIsn && s.handshake.serverIsn === c.handshake.serverIsn)
      : undefined;
    const by = twin ? 'isn' : 'endpoints';
    twin ??= [...left].find((s) => s.client === c.client && s.server === c.server);
    if (!twin) {
      unpairedClient.push(`${c.client} -> ${c.server}`);
      continue;
    }
    left.delete(twin);
    connections.push(pairConnection(c, twin, by));
  }
  return {
    clientFile: client.file,
    serverFile: server.file,
    connections,
    unpaired: { client: unpairedClient, server: [...left].map((s) => `${s.client} -> ${s.server}`) },
  };
}
