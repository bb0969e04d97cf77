/**
 * The classic pcap decision (src/capture/read.ts): a regular file is read by our ClassicReader
 * alone, a stream by pcap-parser (guarded by a header scan). Both must hand the sink the same
 * records, with the same faults, on the same bytes: good files and every kind of damage.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { openCaptureFile, readCapture } from '../../../src/capture/read.js';
import type { PacketRecord, ReadSummary } from '../../../src/capture/record.js';
import { classicRecordOffsets, fixture } from './read-helpers.js';

const lo = fixture('lo-en10mb.pcap');
const offsets = classicRecordOffsets(lo);
const dir = mkdtempSync(join(tmpdir(), 'wl-classic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every record as a line (index, times, lengths, offset, bytes) and the summary. */
async function read(input: Readable): Promise<{ records: string[]; summary: ReadSummary }> {
  const records: string[] = [];
  const summary = await readCapture(input, {
    onRecord: (r: PacketRecord) => void records.push(`${r.index} ${r.tsSec}.${r.tsNsec} ${r.caplen}/${r.origLen} @${r.fileOffset} ${r.data.toString('hex')}`),
  });
  return { records, summary };
}

const setU32 = (b: Buffer, at: number, v: number): Buffer => {
  const c = Buffer.from(b);
  c.writeUInt32LE(v >>> 0, at);
  return c;
};
const third = offsets[2]!;

const CASES: [string, Buffer][] = [
  ['a good file', lo],
  ['global header only', lo.subarray(0, 24)],
  ['cut inside a record header', lo.subarray(0, third + 7)],
  ['cut inside a record body', lo.subarray(0, third + 16 + 5)],
  ['an absurd caplen', setU32(lo, third + 8, 0xfffffff0)],
  ['caplen above the snaplen', setU32(lo, third + 8, 300000)],
  ['caplen greater than the original length', setU32(lo, third + 12, 10)],
  ['garbage after the last record', Buffer.concat([lo, Buffer.from('not a record at all')])],
  ['version 1.0', Buffer.concat([Buffer.from('d4c3b2a101000000', 'hex'), lo.subarray(8)])],
  ['a truncated global header', lo.subarray(0, 20)],
];

describe('regular file (ClassicReader alone) and stream (pcap-parser) read the same', () => {
  for (const [what, bytes] of CASES) {
    it(what, async () => {
      const file = join(dir, `${what.replace(/\W+/g, '-')}.pcap`);
      writeFileSync(file, bytes);
      const fromFile = await read(openCaptureFile(file) as Readable);
      // A stream in odd pieces, so records straddle chunks.
      const pieces: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += 777) pieces.push(bytes.subarray(i, i + 777));
      const fromStream = await read(Readable.from(pieces));
      expect(fromStream.records).toEqual(fromFile.records);
      expect(fromStream.summary).toEqual(fromFile.summary);
      if (what === 'a good file') expect(fromFile.records).toHaveLength(offsets.length);
    });
  }
});
