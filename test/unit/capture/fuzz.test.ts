// Property tests: real captures (test/fixtures/capture, minted by make-fixtures.sh from loopback
// traffic) mutated at random (flipped bytes, cut short, garbage spliced in) and fed in random
// chunks through readCapture and the decoder. Nothing may escape as an exception, the promise
// always settles, the summary counts exactly the records delivered, and the chunking never
// changes what comes out.
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCapture, type ReadOptions } from '../../../src/capture/read.js';
import type { ReadSummary } from '../../../src/capture/record.js';
import { decodePacket } from '../../../src/decode/decode.js';
import { newDecodedPacket } from '../../../src/decode/packet.js';
import { chunksOf, classicToBigEndian, fixture, pcapngToBigEndian } from './read-helpers.js';

const BASES: [string, Buffer][] = [
  ['lo pcap', fixture('lo-en10mb.pcap')],
  ['lo nsec pcap', fixture('lo-en10mb.nsec.pcap')],
  ['sll2 BE pcap', classicToBigEndian(fixture('any-sll2.pcap'))],
  ['lo pcapng', fixture('lo-en10mb.pcapng')],
  ['merged BE pcapng', pcapngToBigEndian(fixture('merged-2if.pcapng'))],
];

type Mutation = { kind: 'hdr'; at: number; field: number; value: number } | { kind: 'flip'; at: number; value: number } | { kind: 'cut'; at: number } | { kind: 'splice'; at: number; junk: Uint8Array } | { kind: 'u32'; at: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // a byte of a record / block header (where a flip matters most)
  fc.record({ kind: fc.constant('hdr' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), field: fc.integer({ min: 0, max: 31 }), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), junk: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  // a plausible-looking length field: small, huge, or just off by a little
  fc.record({ kind: fc.constant('u32' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), value: fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.constant(0xffffffff), fc.integer({ min: 0, max: 0xffffffff })) }),
) as fc.Arbitrary<Mutation>;

/** Where each base's records start (read once, unmutated), for the 'hdr' mutation. */
const STARTS = new Map<Buffer, number[]>();

function mutate(base: Buffer, muts: Mutation[]): Buffer {
  let b = Buffer.from(base);
  const starts = STARTS.get(base) ?? [0];
  for (const m of muts) {
    const at = Math.floor(m.at * b.length);
    if (m.kind === 'hdr') {
      const p = starts[Math.floor(m.at * starts.length)]! + m.field;
      if (p < b.length) b[p] = m.value;
    } else if (m.kind === 'flip' && at < b.length) b[at] = m.value;
    else if (m.kind === 'cut') b = b.subarray(0, at);
    else if (m.kind === 'splice') b = Buffer.concat([b.subarray(0, at), m.junk, b.subarray(at)]);
    else if (m.kind === 'u32' && at + 4 <= b.length) b.writeUInt32LE(m.value >>> 0, at & ~3);
  }
  return b;
}

interface Outcome {
  summary: ReadSummary;
  records: string[]; // one line per record: its fields and a digest of its bytes
}

/** Read with a deadline: a hang fails the property instead of the whole run. */
async function run(buf: Buffer, chunks: number[], opts: ReadOptions): Promise<Outcome> {
  const records: string[] = [];
  const out = newDecodedPacket();
  let delivered = 0;
  const reading = readCapture(Readable.from(chunksOf(buf, chunks)), {
    onRecord(r) {
      delivered++;
      if (r.data.length !== r.caplen) throw new Error(`record ${r.index}: data ${r.data.length} != caplen ${r.caplen}`);
      if (r.index !== delivered) throw new Error(`record index ${r.index}, expected ${delivered}`);
      if (r.fileOffset < 0 || r.fileOffset + r.caplen > buf.length) throw new Error(`record ${r.index}: fileOffset ${r.fileOffset} outside the input`);
      decodePacket(r, out); // must never throw either
      records.push(`${r.index} ${r.tsSec}.${r.tsNsec} ${r.caplen}/${r.origLen} lt${r.linkType} if${r.interfaceId} @${r.fileOffset} ${r.data.toString('base64')}`);
    },
  }, opts);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('readCapture did not settle within 10 s')), 10_000);
  });
  try {
    const summary = await Promise.race([reading, deadline]);
    expect(summary.packets).toBe(delivered);
    expect(summary.bytes).toBeLessThanOrEqual(buf.length);
    for (const f of summary.faults) {
      expect(f.offset).toBeGreaterThanOrEqual(0);
      expect(f.offset).toBeLessThanOrEqual(buf.length);
      expect(f.message.length).toBeGreaterThan(10);
    }
    expect(summary.faults.filter((f) => f.fatal).length).toBeLessThanOrEqual(1);
    return { summary, records };
  } finally {
    clearTimeout(timer);
  }
}

const engine = fc.constantFrom<ReadOptions['classicEngine']>('pcap-parser', 'wirelab');
const chunking = fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 8 });

describe('fuzz: mutated real captures', () => {
  beforeAll(async () => {
    for (const [, base] of BASES) {
      const starts = [0];
      await readCapture(Readable.from([base]), { onRecord: (r) => void starts.push(r.fileOffset) });
      STARTS.set(base, starts);
    }
  });

  it('never throw, always settle, count what they deliver; chunking changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: BASES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), chunking, engine, async (i, muts, chunks, classicEngine) => {
        const buf = mutate(BASES[i]![1], muts);
        const whole = await run(buf, [buf.length || 1], { classicEngine });
        const pieces = await run(buf, chunks, { classicEngine });
        expect(pieces.records).toEqual(whole.records);
        expect(pieces.summary).toEqual(whole.summary);
      }),
      { numRuns: 300 },
    );
  });

  it('both classic engines agree on any mutated little-endian microsecond file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), chunking, async (muts, chunks) => {
        const buf = mutate(BASES[0]![1], muts);
        const a = await run(buf, chunks, { classicEngine: 'pcap-parser' });
        const b = await run(buf, chunks, { classicEngine: 'wirelab' });
        expect(a.records).toEqual(b.records);
        expect(a.summary).toEqual(b.summary);
      }),
      { numRuns: 100 },
    );
  });

  it('a truncated file keeps every record that lies wholly before the cut', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: BASES.length - 1 }), fc.double({ min: 0, max: 1, noNaN: true }), chunking, async (i, where, chunks) => {
        const base = BASES[i]![1];
        const full = await run(base, [65536], {});
        const cut = base.subarray(0, Math.floor(where * base.length));
        const part = await run(cut, chunks, {});
        expect(full.records.slice(0, part.records.length)).toEqual(part.records);
        // everything that ends before the cut was delivered
        // (a record ends at or before the next one's start, the last one at the end of the file)
        const starts = full.records.map((line) => Number(line.split(' ')[5]!.slice(1)));
        const missing = full.records.slice(part.records.length).filter((_, j) => (starts[part.records.length + j + 1] ?? base.length) <= cut.length);
        expect(missing).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});
