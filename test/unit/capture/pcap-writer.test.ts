/** The pcap writer's bytes: checked field by field and read back by pcap-parser (the real reader). */
import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { LINKTYPE_IPV4, pcapGlobalHeader, pcapRecord, pcapRecordHeader, splitMicros } from '../../../src/capture/pcap-writer.js';

const require = createRequire(import.meta.url);

describe('pcap writer', () => {
  it('writes the classic LE microsecond global header', () => {
    const h = pcapGlobalHeader(228, 2048);
    expect(h.toString('hex')).toBe('d4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00080000' + 'e4000000');
  });

  it('writes record headers in place', () => {
    const b = Buffer.alloc(20, 0xff);
    pcapRecordHeader(1700000000, 123456, 60, 1500, b, 4);
    expect(b.subarray(0, 4).toString('hex')).toBe('ffffffff');
    expect(b.readUInt32LE(4)).toBe(1700000000);
    expect(b.readUInt32LE(8)).toBe(123456);
    expect(b.readUInt32LE(12)).toBe(60);
    expect(b.readUInt32LE(16)).toBe(1500);
  });

  it('splits microseconds', () => {
    expect(splitMicros(1_700_000_000_999_999)).toEqual([1_700_000_000, 999_999]);
  });

  it('is read back by pcap-parser with the same records', async () => {
    const pkts = [Buffer.from('450000280001000040060000', 'hex'), Buffer.alloc(3000, 7)];
    const file = Buffer.concat([
      pcapGlobalHeader(LINKTYPE_IPV4, 2048),
      pcapRecord(1700000000, 5, pkts[0]!, 2048),
      pcapRecord(1700000001, 6, pkts[1]!, 2048),
    ]);
    const pcapp = require('pcap-parser') as { parse(s: Readable): NodeJS.EventEmitter };
    const parser = pcapp.parse(Readable.from([file]));
    const got: Array<{ header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number }; data: Buffer }> = [];
    let linkType = -1;
    parser.on('globalHeader', (g: { linkLayerType: number }) => (linkType = g.linkLayerType));
    parser.on('packet', (p: (typeof got)[number]) => got.push(p));
    await new Promise((r) => parser.on('end', r));
    expect(linkType).toBe(228);
    expect(got.length).toBe(2);
    expect(got[0]!.data.equals(pkts[0]!)).toBe(true);
    expect(got[1]!.header.capturedLength).toBe(2048);
    expect(got[1]!.header.originalLength).toBe(3000);
    expect(got[1]!.header.timestampMicroseconds).toBe(6);
  });
});
