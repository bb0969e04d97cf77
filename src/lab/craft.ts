/**
 * Packet crafting for what no socket sends: a stale duplicate SYN, spoofed SYNs, a segment with a
 * bad checksum. buildSegment makes a whole IPv4 or IPv6 packet with a TCP segment in it, with the
 * correct TCP checksum or a deliberately wrong one; craft-helper.ts sends such packets from inside a
 * lab namespace with raw-socket (IPPROTO_RAW: we write the IP header ourselves, so the source can
 * be any address).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { WirelabError } from '../errors.js';

export type TcpFlagName = 'FIN' | 'SYN' | 'RST' | 'PSH' | 'ACK' | 'URG';
const FLAG_BITS: Record<TcpFlagName, number> = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 };

export interface CraftSpec {
  src: string; // IPv4 or IPv6 address (both the same family)
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags: TcpFlagName[];
  window?: number; // default 64240
  mss?: number; // an MSS option (SYNs)
  payload?: string; // utf8 bytes carried after the header
  badChecksum?: boolean; // send a TCP checksum that is off by one
  ttl?: number; // hop limit, default 64
}

function bad(why: string): WirelabError {
  return new WirelabError('BAD_USAGE', `crafted segment: ${why}`);
}

export function parseIPv4(a: string): Buffer {
  const parts = a.split('.').map(Number);
  if (!isIPv4(a)) throw bad(`"${a}" is not an IPv4 address`);
  return Buffer.from(parts);
}

export function parseIPv6(a: string): Buffer {
  if (!isIPv6(a)) throw bad(`"${a}" is not an IPv6 address`);
  // a trailing dotted quad (::ffff:1.2.3.4) becomes two hex groups
  const text = a.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, p: string, q: string, r: string, t: string) =>
    `${((Number(p) << 8) | Number(q)).toString(16)}:${((Number(r) << 8) | Number(t)).toString(16)}`);
  const halves = text.split('::');
  const part = (x: string | undefined): number[] => (x ? x.split(':').map((g) => parseInt(g, 16)) : []);
  const h = part(halves[0]);
  const r = part(halves[1]);
  const groups = halves.length === 1 ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

function sum16(buf: Buffer, start: number, end: number, acc: number): number {
  let s = acc;
  for (let i = start; i + 1 < end; i += 2) s += buf.readUInt16BE(i);
  if ((end - start) % 2) s += buf[end - 1]! << 8;
  return s;
}

function fold(s: number): number {
  let x = s;
  while (x > 0xffff) x = (x & 0xffff) + (x >>> 16);
  return ~x & 0xffff;
}

/** The TCP checksum over the pseudo-header and the segment (whose checksum field must be 0). */
export function tcpChecksum(src: Buffer, dst: Buffer, segment: Buffer): number {
  let s = sum16(src, 0, src.length, 0);
  s = sum16(dst, 0, dst.length, s);
  s += 6 + segment.length; // protocol + TCP length (IPv6: 32-bit length and next header; the same sum)
  if (segment.length > 0xffff) s += segment.length >>> 16;
  s = sum16(segment, 0, segment.length, s);
  return fold(s);
}

/** A whole IP packet (IPv4 header without options, or a bare IPv6 header) carrying the TCP segment. */
export function buildSegment(spec: CraftSpec): Buffer {
  const v6 = isIPv6(spec.src);
  if (v6 !== isIPv6(spec.dst)) throw bad(`source ${spec.src} and destination ${spec.dst} are not the same family`);
  const src = v6 ? parseIPv6(spec.src) : parseIPv4(spec.src);
  const dst = v6 ? parseIPv6(spec.dst) : parseIPv4(spec.dst);
  for (const [k, p] of [['sport', spec.sport], ['dport', spec.dport]] as const) {
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw bad(`${k} ${p} is not a port`);
  }
  const payload = Buffer.from(spec.payload ?? '', 'utf8');
  const opts = spec.mss !== undefined ? Buffer.from([2, 4, (spec.mss >> 8) & 0xff, spec.mss & 0xff]) : Buffer.alloc(0);
  const tcpLen = 20 + opts.length + payload.length;
  const tcp = Buffer.alloc(tcpLen);
  tcp.writeUInt16BE(spec.sport, 0);
  tcp.writeUInt16BE(spec.dport, 2);
  tcp.writeUInt32BE(spec.seq >>> 0, 4);
  tcp.writeUInt32BE((spec.ack ?? 0) >>> 0, 8);
  tcp[12] = ((20 + opts.length) / 4) << 4;
  tcp[13] = spec.flags.reduce((f, n) => f | FLAG_BITS[n], 0);
  tcp.writeUInt16BE(spec.window ?? 64240, 14);
  opts.copy(tcp, 20);
  payload.copy(tcp, 20 + opts.length);
  const sum = tcpChecksum(src, dst, tcp);
  tcp.writeUInt16BE(spec.badChecksum ? (sum + 1) & 0xffff || 1 : sum, 16);
  const ttl = spec.ttl ?? 64;
  if (v6) {
    const ip = Buffer.alloc(40);
    ip.writeUInt32BE(0x60000000, 0);
    ip.writeUInt16BE(tcpLen, 4);
    ip[6] = 6;
    ip[7] = ttl;
    src.copy(ip, 8);
    dst.copy(ip, 24);
    return Buffer.concat([ip, tcp]);
  }
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + tcpLen, 2);
  ip.writeUInt16BE(0x4000, 6); // DF
  ip[8] = ttl;
  ip[9] = 6;
  src.copy(ip, 12);
  dst.copy(ip, 16);
  ip.writeUInt16BE(fold(sum16(ip, 0, 20, 0)), 10);
  return Buffer.concat([ip, tcp]);
}
