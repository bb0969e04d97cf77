/**
 * Helpers for the capture-reader tests: read a buffer through readCapture in chosen chunk sizes,
 * the tshark oracle of a fixture, and the byte-order / block rewrites that make big-endian and
 * odd pcapng variants out of the real captures in test/fixtures/capture.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { readCapture, type ReadOptions } from '../../../src/capture/read.js';
import type { ReadSummary } from '../../../src/capture/record.js';

export const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), '../../fixtures/capture');

export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}

export interface Rec {
  index: number;
  tsSec: number;
  tsNsec: number;
  caplen: number;
  origLen: number;
  linkType: number;
  interfaceId: number;
  fileOffset: number;
  data: Buffer; // a copy
}

export interface ReadResult {
  recs: Rec[];
  summary: ReadSummary;
  headers: [string, number, number][];
}

/** Split a buffer into chunks: a fixed size, or a list of sizes used in turn. */
export function chunksOf(buf: Buffer, sizes: number | number[]): Buffer[] {
  const list = typeof sizes === 'number' ? [sizes] : sizes;
  const out: Buffer[] = [];
  for (let p = 0, i = 0; p < buf.length; i++) {
    const n = Math.max(1, list[i % list.length]!);
    out.push(buf.subarray(p, p + n));
    p += n;
  }
  return out;
}

export async function readBuffer(buf: Buffer, opts: ReadOptions = {}, chunk: number | number[] = 65536): Promise<ReadResult> {
  const recs: Rec[] = [];
  const headers: [string, number, number][] = [];
  const summary = await readCapture(Readable.from(chunksOf(buf, chunk)), {
    onHeader: (f, lt, snap) => headers.push([f, lt, snap]),
    onRecord: (r) => {
      if (r.data.length !== r.caplen) throw new Error(`record ${r.index}: data ${r.data.length} != caplen ${r.caplen}`);
      // What a record holds, not where a reader kept it (a chunk and an offset, or a Buffer of its own).
      const { chunk: _chunk, offset: _offset, ...fields } = r;
      recs.push({ ...fields, data: Buffer.from(r.data) });
    },
  }, opts);
  return { recs, summary, headers };
}

/** What tshark said about each frame of a fixture (see make-fixtures.sh). */
export interface OracleFrame {
  n: number;
  sec: number;
  nsec: number;
  caplen: number;
  len: number;
  iface: number;
  encap: number; // Wireshark's WTAP_ENCAP (1 Ethernet, 210 Linux SLL2)
}

export function oracle(name: string): OracleFrame[] {
  return readFileSync(join(FIXTURES, `${name}.tshark.csv`), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [n, t, cap, len, iface, encap] = line.split(',');
      const [sec, frac] = t!.split('.');
      return { n: Number(n), sec: Number(sec), nsec: Number(frac!.padEnd(9, '0')), caplen: Number(cap), len: Number(len), iface: iface ? Number(iface) : 0, encap: Number(encap) };
    });
}

/** The same classic pcap with every header field in big-endian order (as a SPARC would write it). */
export function classicToBigEndian(le: Buffer): Buffer {
  const b = Buffer.from(le);
  const sw32 = (o: number) => b.writeUInt32BE(le.readUInt32LE(o), o);
  const sw16 = (o: number) => b.writeUInt16BE(le.readUInt16LE(o), o);
  sw32(0);
  sw16(4);
  sw16(6);
  for (const o of [8, 12, 16, 20]) sw32(o);
  for (let p = 24; p + 16 <= le.length; ) {
    const caplen = le.readUInt32LE(p + 8);
    for (const o of [0, 4, 8, 12]) sw32(p + o);
    p += 16 + caplen;
  }
  return b;
}

export interface Block {
  type: number;
  offset: number;
  length: number;
}

/** The blocks of a little-endian pcapng. */
export function blocks(ng: Buffer): Block[] {
  const out: Block[] = [];
  for (let p = 0; p + 12 <= ng.length; ) {
    const length = ng.readUInt32LE(p + 4);
    out.push({ type: ng.readUInt32LE(p), offset: p, length });
    p += length;
  }
  return out;
}

/** The same pcapng in big-endian byte order: block headers, SHB, IDB, EPB fields and options. */
export function pcapngToBigEndian(le: Buffer): Buffer {
  const b = Buffer.from(le);
  const sw32 = (o: number) => b.writeUInt32BE(le.readUInt32LE(o), o);
  const sw16 = (o: number) => b.writeUInt16BE(le.readUInt16LE(o), o);
  const options = (from: number, to: number) => {
    for (let p = from; p + 4 <= to; ) {
      const code = le.readUInt16LE(p);
      const len = le.readUInt16LE(p + 2);
      sw16(p);
      sw16(p + 2);
      if (code === 0) break;
      p += 4 + ((len + 3) & ~3);
    }
  };
  for (const blk of blocks(le)) {
    const o = blk.offset;
    sw32(o);
    sw32(o + 4);
    sw32(o + blk.length - 4);
    if (blk.type === 0x0a0d0d0a) {
      sw32(o + 8);
      sw16(o + 12);
      sw16(o + 14);
      b.writeBigInt64BE(le.readBigInt64LE(o + 16), o + 16);
      options(o + 24, o + blk.length - 4);
    } else if (blk.type === 1) {
      sw16(o + 8);
      sw16(o + 10);
      sw32(o + 12);
      options(o + 16, o + blk.length - 4);
    } else if (blk.type === 6) {
      for (const f of [8, 12, 16, 20, 24]) sw32(o + f);
      const caplen = le.readUInt32LE(o + 20);
      options(o + 28 + ((caplen + 3) & ~3), o + blk.length - 4);
    }
  }
  return b;
}

/** A pcapng block of `type` with `body` (padded to 4 bytes), little-endian. */
export function makeBlock(type: number, body: Buffer): Buffer {
  const padded = (body.length + 3) & ~3;
  const b = Buffer.alloc(12 + padded);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(b.length, 4);
  body.copy(b, 8);
  b.writeUInt32LE(b.length, b.length - 4);
  return b;
}

/** Rewrite every block of a little-endian pcapng through `f` (return the new bytes, or null to drop). */
export function mapBlocks(ng: Buffer, f: (blk: Block, bytes: Buffer) => Buffer | null): Buffer {
  const out: Buffer[] = [];
  for (const blk of blocks(ng)) {
    const r = f(blk, ng.subarray(blk.offset, blk.offset + blk.length));
    if (r) out.push(r);
  }
  return Buffer.concat(out);
}

/** Record starts of a little-endian classic pcap. */
export function classicRecordOffsets(le: Buffer): number[] {
  const out: number[] = [];
  for (let p = 24; p + 16 <= le.length; p += 16 + le.readUInt32LE(p + 8)) out.push(p);
  return out;
}

/** A record with its bytes as hex: easy to compare and to read in a diff. */
export function plain(r: Rec): Omit<Rec, 'data'> & { data: string } {
  return { ...r, data: r.data.toString('hex') };
}
