/**
 * Test builder: synthesizes the real bytes of Ethernet + IPv4/IPv6 + TCP/UDP/ICMP frames and
 * decodes them with the real decoder, so every DecodedPacket has genuine offsets into a genuine
 * buffer (addresses format, options parse). The same frames can be written to a pcap and fed to
 * tshark (see pcap-out.ts) so the analyzer is compared with Wireshark on identical input.
 */
import { decodeBytes } from '../../../src/decode/decode.js';
import type { DecodedPacket } from '../../../src/decode/packet.js';
import { FIN, SYN, RST, PSH, ACK } from '../../../src/decode/packet.js';

export { FIN, SYN, RST, PSH, ACK };

export interface Frame {
  t: number; // seconds (absolute, float)
  bytes: Buffer; // Ethernet frame
}

export interface TcpSpec {
  t: number;
  src: string; // "10.0.0.1:5000" or "[::1]:5000"
  dst: string;
  flags: number;
  seq: number;
  ack?: number;
  win?: number;
  len?: number; // payload bytes (zeros)
  mss?: number;
  wscale?: number;
  sackPerm?: boolean;
  ts?: [number, number];
  sack?: [number, number][]; // SACK blocks, absolute edges
  ipId?: number;
}

function parseEndpoint(s: string): { addr: Buffer; port: number; v6: boolean } {
  const m6 = /^\[(.+)\]:(\d+)$/.exec(s);
  if (m6) return { addr: ipv6Bytes(m6[1]!), port: Number(m6[2]), v6: true };
  const [a, p] = s.split(':');
  return { addr: Buffer.from(a!.split('.').map(Number)), port: Number(p), v6: false };
}

export function ipv6Bytes(s: string): Buffer {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':').filter((x) => x !== '') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const words = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t].map((w) => parseInt(w, 16));
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(w, 2 * i));
  return b;
}

function ethernet(v6: boolean, payload: Buffer): Buffer {
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
  return Buffer.concat([eth, payload]);
}

function ipv4(src: Buffer, dst: Buffer, proto: number, payload: Buffer, id: number, fragOffset = 0, mf = false, totalPayload?: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + (totalPayload ?? payload.length), 2);
  h.writeUInt16BE(id & 0xffff, 4);
  h.writeUInt16BE(((mf ? 0x2000 : 0) | ((fragOffset >> 3) & 0x1fff)) >>> 0, 6);
  h[8] = 64;
  h[9] = proto;
  src.copy(h, 12);
  dst.copy(h, 16);
  return Buffer.concat([h, payload]);
}

function ipv6(src: Buffer, dst: Buffer, proto: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(payload.length, 4);
  h[6] = proto;
  h[7] = 64;
  src.copy(h, 8);
  dst.copy(h, 24);
  return Buffer.concat([h, payload]);
}

function tcpOptions(s: TcpSpec): Buffer {
  const parts: number[] = [];
  if (s.mss !== undefined) parts.push(2, 4, (s.mss >> 8) & 0xff, s.mss & 0xff);
  if (s.sackPerm) parts.push(4, 2);
  if (s.ts) {
    const b = Buffer.alloc(10);
    b[0] = 8;
    b[1] = 10;
    b.writeUInt32BE(s.ts[0] >>> 0, 2);
    b.writeUInt32BE(s.ts[1] >>> 0, 6);
    parts.push(...b);
  }
  if (s.wscale !== undefined) parts.push(1, 3, 3, s.wscale);
  if (s.sack?.length) {
    const b = Buffer.alloc(2 + 8 * s.sack.length);
    b[0] = 5;
    b[1] = b.length;
    s.sack.forEach(([l, r], i) => {
      b.writeUInt32BE(l >>> 0, 2 + 8 * i);
      b.writeUInt32BE(r >>> 0, 6 + 8 * i);
    });
    parts.push(1, 1, ...b);
  }
  while (parts.length % 4 !== 0) parts.push(1);
  return Buffer.from(parts);
}

export function tcpFrame(s: TcpSpec): Frame {
  const src = parseEndpoint(s.src);
  const dst = parseEndpoint(s.dst);
  const opts = tcpOptions(s);
  const h = Buffer.alloc(20);
  h.writeUInt16BE(src.port, 0);
  h.writeUInt16BE(dst.port, 2);
  h.writeUInt32BE(s.seq >>> 0, 4);
  h.writeUInt32BE((s.ack ?? 0) >>> 0, 8);
  h[12] = ((20 + opts.length) / 4) << 4 | ((s.flags >> 8) & 1);
  h[13] = s.flags & 0xff;
  h.writeUInt16BE(s.win ?? 65535, 14);
  const seg = Buffer.concat([h, opts, Buffer.alloc(s.len ?? 0)]);
  const ip = src.v6 ? ipv6(src.addr, dst.addr, 6, seg) : ipv4(src.addr, dst.addr, 6, seg, s.ipId ?? 0);
  return { t: s.t, bytes: ethernet(src.v6, ip) };
}

export function udpFrame(t: number, srcS: string, dstS: string, len: number, ipId = 0): Frame {
  const src = parseEndpoint(srcS);
  const dst = parseEndpoint(dstS);
  const h = Buffer.alloc(8);
  h.writeUInt16BE(src.port, 0);
  h.writeUInt16BE(dst.port, 2);
  h.writeUInt16BE(8 + len, 4);
  const dgram = Buffer.concat([h, Buffer.alloc(len)]);
  const ip = src.v6 ? ipv6(src.addr, dst.addr, 17, dgram) : ipv4(src.addr, dst.addr, 17, dgram, ipId);
  return { t, bytes: ethernet(src.v6, ip) };
}

/**
 * The IPv4 fragments of one UDP datagram of `len` payload bytes, cut at `fragSize` bytes of IP
 * payload (a multiple of 8). Returns every fragment; tests drop or reorder them.
 */
export function udpFragments(t: number, srcS: string, dstS: string, len: number, ipId: number, fragSize: number): Frame[] {
  const src = parseEndpoint(srcS);
  const dst = parseEndpoint(dstS);
  const h = Buffer.alloc(8);
  h.writeUInt16BE(src.port, 0);
  h.writeUInt16BE(dst.port, 2);
  h.writeUInt16BE(8 + len, 4);
  const dgram = Buffer.concat([h, Buffer.alloc(len)]);
  const out: Frame[] = [];
  for (let off = 0; off < dgram.length; off += fragSize) {
    const piece = dgram.subarray(off, Math.min(dgram.length, off + fragSize));
    const mf = off + fragSize < dgram.length;
    out.push({ t: t + out.length * 1e-6, bytes: ethernet(false, ipv4(src.addr, dst.addr, 17, piece, ipId, off, mf)) });
  }
  return out;
}

/** ICMPv4 error (type/code) from `from` to `to`, quoting the IPv4+UDP header of `quoted`. */
export function icmpFrame(t: number, from: string, to: string, type: number, code: number, quoted: Frame, mtu = 0): Frame {
  const f = parseEndpoint(from + ':0');
  const d = parseEndpoint(to + ':0');
  const q = quoted.bytes.subarray(14, 14 + 28);
  const h = Buffer.alloc(8);
  h[0] = type;
  h[1] = code;
  if (mtu) h.writeUInt16BE(mtu, 6);
  return { t, bytes: ethernet(false, ipv4(f.addr, d.addr, 1, Buffer.concat([h, q]), 0)) };
}

/** Decodes a frame into a fresh DecodedPacket with index and timestamps set. */
export function decodeFrame(f: Frame, index: number): DecodedPacket {
  const p = decodeBytes(1, f.bytes);
  p.index = index;
  p.tsSec = Math.floor(f.t);
  p.tsNsec = Math.round((f.t - Math.floor(f.t)) * 1e9);
  return p;
}

/** A small script DSL for TCP conversations between a client C and a server S. */
export class Conv {
  frames: Frame[] = [];
  constructor(
    public c = '10.0.0.1:40000',
    public s = '10.0.0.2:80',
  ) {}
  /** client -> server */
  cs(t: number, flags: number, seq: number, ack: number, len = 0, extra: Partial<TcpSpec> = {}): this {
    this.frames.push(tcpFrame({ t, src: this.c, dst: this.s, flags, seq, ack, len, ...extra }));
    return this;
  }
  /** server -> client */
  sc(t: number, flags: number, seq: number, ack: number, len = 0, extra: Partial<TcpSpec> = {}): this {
    this.frames.push(tcpFrame({ t, src: this.s, dst: this.c, flags, seq, ack, len, ...extra }));
    return this;
  }
}

import { Analyzer } from '../../../src/analyze/analyzer.js';
import type { Analysis } from '../../../src/analyze/model.js';

/** Runs frames through the real Analyzer (as pipeline.ts does, minus the reader). */
export function analyzeFrames(frames: Frame[], keepSegments = true): Analysis {
  const a = new Analyzer({ file: 'test.pcap', keepSegments });
  frames.forEach((f, i) => a.onPacket(decodeFrame(f, i + 1)));
  return a.finish({ format: 'pcap', linkType: 1, linkTypes: [1], snaplen: 65535, packets: frames.length, bytes: 0, faults: [] });
}
