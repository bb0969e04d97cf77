// Bad input never throws and never hangs: each case becomes a fault with its byte offset, and
// every record before it is kept. Fixtures as in formats.test.ts (real loopback captures).
import { chmodSync, createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openCaptureFile, readCapture, readCaptureFile } from '../../../src/capture/read.js';
import { WirelabError } from '../../../src/errors.js';
import { blocks, classicRecordOffsets, classicToBigEndian, fixture, makeBlock, plain, readBuffer } from './read-helpers.js';

const lo = fixture('lo-en10mb.pcap');
const ng = fixture('lo-en10mb.pcapng');
const offsets = classicRecordOffsets(lo);
const ENGINES = ['pcap-parser', 'wirelab'] as const;
const lastIndex = <T>(xs: T[], f: (x: T) => boolean) => xs.map(f).lastIndexOf(true);
const CLASSICS = [
  ['LE usec via pcap-parser', lo, { classicEngine: 'pcap-parser' as const }],
  ['LE usec via wirelab', lo, { classicEngine: 'wirelab' as const }],
  ['LE nsec', fixture('lo-en10mb.nsec.pcap'), {}],
  ['BE usec', classicToBigEndian(lo), {}],
] as const;

describe('inputs that are not a capture', () => {
  it('empty input: EMPTY, fatal', async () => {
    const { summary } = await readBuffer(Buffer.alloc(0));
    expect(summary.faults).toEqual([{ offset: 0, code: 'EMPTY', fatal: true, message: expect.stringContaining('empty') }]);
    expect(summary.format).toBeNull();
  });

  it('fewer than 4 bytes, then a global header cut short: TRUNCATED_HEADER, fatal', async () => {
    for (const n of [1, 3]) {
      const { summary } = await readBuffer(lo.subarray(0, n), {}, 1);
      expect(summary.faults.map((f) => [f.code, f.fatal])).toEqual([['TRUNCATED_HEADER', true]]);
    }
    for (const [what, buf, opts] of CLASSICS) {
      const { summary, recs } = await readBuffer(buf.subarray(0, 20), opts);
      expect(summary.faults.map((f) => [f.code, f.offset, f.fatal]), what).toEqual([['TRUNCATED_HEADER', 0, true]]);
      expect(recs).toEqual([]);
    }
    const shb = await readBuffer(ng.subarray(0, 40));
    expect(shb.summary.faults.map((f) => [f.code, f.fatal])).toEqual([['TRUNCATED_HEADER', true]]);
  });

  it('unknown magic: UNKNOWN_MAGIC with the bytes in hex and the accepted formats', async () => {
    const elf = Buffer.from('7f454c4602010100000000000000000003003e00', 'hex');
    const { summary } = await readBuffer(elf);
    expect(summary.faults).toEqual([
      {
        offset: 0,
        code: 'UNKNOWN_MAGIC',
        fatal: true,
        message: 'not a pcap or pcapng file (first bytes 7f454c46): wirelab reads classic pcap and pcapng; convert with `editcap -F pcap in out.pcap`',
      },
    ]);
    expect(summary).toMatchObject({ format: null, linkType: -1, packets: 0 });
  });

  it('pcap version 1.x: UNSUPPORTED_VERSION, nothing delivered', async () => {
    for (const [what, buf, opts] of CLASSICS) {
      const b = Buffer.from(buf);
      b[4] = b[5] = 0;
      b[what.startsWith('BE') ? 5 : 4] = 1;
      const { summary, recs } = await readBuffer(b, opts);
      expect(summary.faults.map((f) => [f.code, f.fatal]), what).toEqual([['UNSUPPORTED_VERSION', true]]);
      expect(recs, what).toEqual([]);
    }
  });
});

describe('classic pcap cut short or lying', () => {
  const all = async (opts: object) => (await readBuffer(lo, opts)).recs;

  it('truncated last record: earlier records kept, TRUNCATED_RECORD (not fatal) with its offset', async () => {
    // Cut the file inside the last record larger than 1000 bytes (a 3000-byte UDP datagram).
    const last = lastIndex(offsets, (o) => lo.readUInt32LE(o + 8) > 1000);
    const at = offsets[last]!;
    const caplen = lo.readUInt32LE(at + 8);
    for (const [what, buf, opts] of CLASSICS) {
      const full = (await readBuffer(buf, opts)).recs;
      for (const cut of [at + 3, at + 16, at + 16 + 300]) {
        const { recs, summary } = await readBuffer(buf.subarray(0, cut), opts);
        expect(recs.map(plain), `${what} cut at ${cut}`).toEqual(full.slice(0, last).map(plain));
        expect(summary.packets).toBe(last);
        expect(summary.faults.map((f) => [f.code, f.offset, f.fatal])).toEqual([['TRUNCATED_RECORD', at, false]]);
        const msg = summary.faults[0]!.message;
        expect(msg).toContain(`record ${last + 1} at byte ${at}`);
        if (cut === at + 16 + 300) expect(msg).toBe(`record ${last + 1} at byte ${at}: header says ${caplen} bytes, only 300 remain; the capture was cut short`);
        if (cut === at + 3) expect(msg).toContain('only 3 of its 16-byte header');
      }
    }
  });

  it('absurd caplen stops the read there (fatal); earlier records kept, nothing hangs', async () => {
    const k = 5;
    const at = offsets[k]!;
    for (const [what, buf, opts] of CLASSICS) {
      const b = Buffer.from(buf);
      if (what.startsWith('BE')) b.writeUInt32BE(0xfffffff0, at + 8);
      else b.writeUInt32LE(0xfffffff0, at + 8);
      // then megabytes of bytes that pcap-parser alone would keep concatenating for a record that never ends
      const big = Buffer.concat([b, Buffer.alloc(8 << 20, 0x5a)]);
      const t0 = Date.now();
      const { recs, summary } = await readBuffer(big, opts);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(recs.map(plain), what).toEqual((await readBuffer(buf, opts)).recs.slice(0, k).map(plain));
      expect(summary.faults.map((f) => [f.code, f.offset, f.fatal]), what).toEqual([['ABSURD_CAPLEN', at, true]]);
      expect(summary.faults[0]!.message).toContain(`record ${k + 1} at byte ${at}: captured length 4294967280 > 262144`);
      expect(summary.bytes).toBe(at);
    }
  });

  it('maxCaplen option: a record above it is absurd', async () => {
    const big = offsets.findIndex((o) => lo.readUInt32LE(o + 8) > 20000);
    for (const engine of ENGINES) {
      const { recs, summary } = await readBuffer(lo, { classicEngine: engine, maxCaplen: 20000 });
      expect(recs.length, engine).toBe(big);
      expect(summary.faults.map((f) => [f.code, f.offset])).toEqual([['ABSURD_CAPLEN', offsets[big]]]);
    }
  });

  it('garbage after a valid part: fatal fault at the garbage, every record before kept', async () => {
    const junk = Buffer.from('this is not a pcap record header, it is text that someone appended '.repeat(20));
    for (const engine of ENGINES) {
      const { recs, summary } = await readBuffer(Buffer.concat([lo, junk]), { classicEngine: engine });
      expect(recs.map(plain)).toEqual((await all({ classicEngine: engine })).map(plain));
      expect(summary.faults).toHaveLength(1);
      expect(summary.faults[0]).toMatchObject({ offset: lo.length, fatal: true });
      expect(['GARBAGE', 'ABSURD_CAPLEN']).toContain(summary.faults[0]!.code);
    }
  });
});

describe('pcapng cut short or lying', () => {
  const epbs = blocks(ng).filter((b) => b.type === 6);
  const full = async () => (await readBuffer(ng)).recs;

  it('truncated last block: earlier records kept, TRUNCATED_RECORD (not fatal)', async () => {
    const k = lastIndex(epbs, (b) => ng.readUInt32LE(b.offset + 20) > 1000);
    const last = epbs[k]!;
    const { recs, summary } = await readBuffer(ng.subarray(0, last.offset + 28 + 300));
    expect(recs.map(plain)).toEqual((await full()).slice(0, k).map(plain));
    expect(summary.faults).toEqual([
      { code: 'TRUNCATED_RECORD', offset: last.offset, fatal: false, message: `record ${k + 1} at byte ${last.offset}: header says ${ng.readUInt32LE(last.offset + 20)} bytes, only 300 remain; the capture was cut short` },
    ]);
  });

  const lie = (k: number, f: (b: Buffer, at: number) => void) => {
    const b = Buffer.from(ng);
    f(b, epbs[k]!.offset);
    return b;
  };
  const cases: [string, Buffer, string][] = [
    ['length not a multiple of 4', lie(3, (b, at) => b.writeUInt32LE(b.readUInt32LE(at + 4) + 2, at + 4)), 'BAD_BLOCK_LENGTH'],
    ['length below 12', lie(3, (b, at) => b.writeUInt32LE(8, at + 4)), 'BAD_BLOCK_LENGTH'],
    ['trailing length mismatch', lie(3, (b, at) => b.writeUInt32LE(4, at + b.readUInt32LE(at + 4) - 4)), 'BAD_BLOCK_LENGTH'],
    ['giant block length', lie(3, (b, at) => b.writeUInt32LE(0xfffffff0, at + 4)), 'BAD_BLOCK_LENGTH'],
    ['caplen larger than the block', lie(3, (b, at) => b.writeUInt32LE(b.readUInt32LE(at + 4), at + 20)), 'BAD_BLOCK_LENGTH'],
    ['absurd caplen', lie(3, (b, at) => b.writeUInt32LE(0xfffffff0, at + 20)), 'ABSURD_CAPLEN'],
    ['undescribed interface', lie(3, (b, at) => b.writeUInt32LE(7, at + 8)), 'BAD_INTERFACE'],
  ];
  for (const [what, buf, code] of cases) {
    it(`${what}: ${code}, fatal, at the block; 3 records kept`, async () => {
      const { recs, summary } = await readBuffer(buf);
      expect(recs.map(plain)).toEqual((await full()).slice(0, 3).map(plain));
      expect(summary.faults.map((f) => [f.code, f.offset, f.fatal])).toEqual([[code, epbs[3]!.offset, true]]);
    });
  }

  it('garbage after a valid part: GARBAGE, fatal, all records kept', async () => {
    const junk = Buffer.from('\u0001\u0002garbage that is not a block at all, appended by a careless tool....');
    const { recs, summary } = await readBuffer(Buffer.concat([ng, junk]));
    expect(recs.length).toBe(epbs.length);
    expect(summary.faults.map((f) => [f.code, f.offset, f.fatal])).toEqual([['GARBAGE', ng.length, true]]);
  });

  it('a bad byte-order magic in a later section: fatal', async () => {
    const second = Buffer.from(ng);
    second.writeUInt32LE(0x11223344, 8);
    const { recs, summary } = await readBuffer(Buffer.concat([ng, second]));
    expect(recs.length).toBe(epbs.length);
    expect(summary.faults.map((f) => [f.code, f.offset])).toEqual([['BAD_BYTE_ORDER', ng.length]]);
  });

  it('a section header of version 2: UNSUPPORTED_VERSION', async () => {
    const b = Buffer.from(ng);
    b.writeUInt16LE(2, 12);
    expect((await readBuffer(b)).summary.faults.map((f) => f.code)).toEqual(['UNSUPPORTED_VERSION']);
  });

  it('an unknown link type is reported once, not fatal', async () => {
    const b = Buffer.concat([ng.subarray(0, epbs[0]!.offset), makeBlock(1, Buffer.from('690000000000040000000000', 'hex')), ng.subarray(epbs[0]!.offset)]);
    const { recs, summary } = await readBuffer(b);
    expect(recs.length).toBe(epbs.length);
    expect(summary.linkTypes).toEqual([1, 105]);
    expect(summary.faults.map((f) => [f.code, f.fatal])).toEqual([['UNKNOWN_LINK_TYPE', false]]);
    expect(summary.faults[0]!.message).toContain('105 (IEEE802_11)');
  });
});

describe('stream errors and file opening', () => {
  it('EISDIR and ENOENT from the stream become READ_ERROR faults', async () => {
    const dir = await readCapture(createReadStream(tmpdir()), { onRecord() {} });
    expect(dir.faults).toEqual([{ code: 'READ_ERROR', offset: 0, fatal: true, message: expect.stringContaining('is a directory') }]);
    const missing = await readCapture(createReadStream('/nonexistent/x.pcap'), { onRecord() {} });
    expect(missing.faults).toEqual([{ code: 'READ_ERROR', offset: 0, fatal: true, message: expect.stringContaining('no such file') }]);
  });

  it('a stream that fails mid-way keeps the records before', async () => {
    for (const engine of ENGINES) {
      const half = offsets[10]! + 5;
      const src = Readable.from(
        (async function* () {
          yield lo.subarray(0, half);
          throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
        })(),
      );
      let n = 0;
      const s = await readCapture(src, { onRecord: () => void n++ }, { classicEngine: engine });
      expect(n, engine).toBe(10);
      expect(s.packets).toBe(10);
      expect(s.faults.map((f) => [f.code, f.offset, f.fatal])).toEqual([['READ_ERROR', half, true]]);
    }
  });

  it('openCaptureFile fails before streaming with the fix in the message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wirelab-read-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const err = (p: string) => {
      try {
        openCaptureFile(p);
      } catch (e) {
        return e as WirelabError;
      }
      throw new Error(`no error for ${p}`);
    };
    expect(err(join(dir, 'nope.pcap'))).toMatchObject({ code: 'FILE_NOT_FOUND', message: expect.stringContaining('no such file') });
    expect(err(dir)).toMatchObject({ code: 'BAD_PCAP', message: expect.stringContaining('is a directory') });
    expect(err(dir)).toBeInstanceOf(WirelabError);
    expect(openCaptureFile('-')).toBe(process.stdin);
    const f = join(dir, 'ok.pcap');
    writeFileSync(f, lo);
    chmodSync(f, 0o000);
    if (process.getuid?.() !== 0) expect(err(f)).toMatchObject({ code: 'BAD_PCAP', message: expect.stringContaining('permission denied') });
  });

  it('readCaptureFile reads a real file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wirelab-read-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const f = join(dir, 'x.pcapng');
    writeFileSync(f, ng);
    let n = 0;
    const s = await readCaptureFile(f, { onRecord: () => void n++ });
    expect([n, s.packets, s.bytes, s.faults.length]).toEqual([31, 31, ng.length, 0]);
  });

  it('an exception thrown by the sink rejects readCapture (a bug, not bad data)', async () => {
    for (const [what, buf, opts] of [...CLASSICS, ['pcapng', ng, {}] as const]) {
      let n = 0;
      const p = readCapture(Readable.from([buf]), { onRecord: () => { if (++n === 4) throw new Error('sink bug'); } }, opts);
      await expect(p, what).rejects.toThrow('sink bug');
      expect(n, what).toBe(4);
    }
  });
});
