// Memory does not grow with the file: 600 MB of real records (the lo / SLL2 fixtures repeated)
// stream through each reader while the resident set stays within a fixed margin.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCapture, type ReadOptions } from '../../../src/capture/read.js';
import { blocks, classicRecordOffsets, fixture } from './read-helpers.js';

const MB = 1 << 20;

/** header, then `period` (whole records) repeated until `total` bytes, cut into uneven chunks. */
function* stream(header: Buffer, period: Buffer, total: number): Generator<Buffer> {
  yield header;
  const cut = Math.floor(period.length / 3) + 13; // records straddle this point
  for (let sent = 0; sent < total; sent += period.length) {
    yield period.subarray(0, cut);
    yield period.subarray(cut);
  }
}

function repeatTo(records: Buffer, size: number): Buffer {
  return Buffer.concat(Array.from({ length: Math.ceil(size / records.length) }, () => records));
}

async function measure(header: Buffer, records: Buffer, total: number, opts: ReadOptions) {
  const period = repeatTo(records, MB);
  const perPeriod = Math.ceil(MB / records.length);
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  let n = 0;
  const s = await readCapture(Readable.from(stream(header, period, total)), {
    onRecord() {
      if (++n % 50000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    },
  }, opts);
  return { s, n, growth: peak - before, perPeriod, periods: Math.ceil(total / period.length) };
}

describe('bounded memory', () => {
  const lo = fixture('any-sll2.pcap'); // small records, like a real busy trace
  const recStart = classicRecordOffsets(lo)[0]!;
  const cases = [
    ['our classic reader', 600, { classicEngine: 'wirelab' as const }],
    ['pcap-parser (guarded)', 300, { classicEngine: 'pcap-parser' as const }],
  ] as const;
  for (const [name, mb, opts] of cases) {
    it(`${name}: ${mb} MB`, async () => {
      const { s, n, growth, perPeriod, periods } = await measure(lo.subarray(0, recStart), lo.subarray(recStart), mb * MB, opts);
      expect(s.faults).toEqual([]);
      expect(n).toBe(perPeriod * periods * classicRecordOffsets(lo).length);
      expect(s.packets).toBe(n);
      expect(growth).toBeLessThan(150 * MB);
    }, 60_000);
  }

  it('pcapng: 600 MB', async () => {
    const ng = fixture('lo-en10mb.pcapng');
    const first = blocks(ng).find((b) => b.type === 6)!.offset;
    const { s, n, growth } = await measure(ng.subarray(0, first), ng.subarray(first), 600 * MB, {});
    expect(s.faults).toEqual([]);
    expect(s.packets).toBe(n);
    expect(n).toBeGreaterThan(200000);
    expect(growth).toBeLessThan(150 * MB);
  }, 60_000);
});
