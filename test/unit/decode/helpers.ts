/**
 * Test helpers for the decoder tests: fixtures as Buffers, byte surgery on real frames, and a
 * tiny classic-pcap reader (24-byte global header, 16-byte record headers, little-endian
 * microsecond files as tcpdump writes them here).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeBytes } from '../../../src/decode/decode.js';
import type { DecodedPacket } from '../../../src/decode/packet.js';
import type { PacketRecord } from '../../../src/capture/record.js';

export interface Fixture {
  packet: number;
  origLen: number;
  hex: string;
}

export const PCAPS = fileURLToPath(new URL('../../fixtures/pcaps/', import.meta.url));
export const WILD = fileURLToPath(new URL('../../fixtures/wild/', import.meta.url));

export function bytes(f: Fixture): Buffer {
  return Buffer.from(f.hex, 'hex');
}

export function decodeFixture(linkType: number, f: Fixture): DecodedPacket {
  return decodeBytes(linkType, bytes(f), f.origLen);
}

/** Splices `insert` into `buf` at `at`, replacing `remove` bytes. */
export function splice(buf: Buffer, at: number, remove: number, insert: number[] | Buffer = []): Buffer {
  return Buffer.concat([buf.subarray(0, at), Buffer.from(insert), buf.subarray(at + remove)]);
}

/** Returns a copy with `len` 16-bit big-endian value written at `at`. */
export function withU16(buf: Buffer, at: number, value: number): Buffer {
  const b = Buffer.from(buf);
  b.writeUInt16BE(value, at);
  return b;
}

export function withByte(buf: Buffer, at: number, value: number): Buffer {
  const b = Buffer.from(buf);
  b[at] = value;
  return b;
}

/** Adds `delta` to the IPv4 total length at `ipOff`. */
export function bumpIPv4Length(buf: Buffer, ipOff: number, delta: number): Buffer {
  return withU16(buf, ipOff + 2, buf.readUInt16BE(ipOff + 2) + delta);
}

export function bumpIPv6Length(buf: Buffer, ipOff: number, delta: number): Buffer {
  return withU16(buf, ipOff + 4, buf.readUInt16BE(ipOff + 4) + delta);
}

export interface PcapFile {
  linkType: number;
  records: PacketRecord[];
}

export function readPcap(path: string): PcapFile {
  const buf = readFileSync(path);
  if (buf.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${path}: not a little-endian microsecond pcap`);
  const linkType = buf.readUInt32LE(20);
  const records: PacketRecord[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const caplen = buf.readUInt32LE(off + 8);
    records.push({
      index: records.length + 1,
      tsSec: buf.readUInt32LE(off),
      tsNsec: buf.readUInt32LE(off + 4) * 1000,
      caplen,
      origLen: buf.readUInt32LE(off + 12),
      linkType,
      interfaceId: 0,
      fileOffset: off,
      chunk: buf,
      offset: off + 16,
      data: buf.subarray(off + 16, off + 16 + caplen),
    });
    off += 16 + caplen;
  }
  return { linkType, records };
}
