// Every format wirelab reads yields the same records as the original capture and as tshark.
// Fixtures: real loopback traffic captured in a throwaway namespace by make-fixtures.sh
// (`tcpdump -i lo -U --immediate-mode -w lo-en10mb.pcap`, `tcpdump -i any -s 2048 -w any-sll2.pcap`),
// converted with `editcap -F nsecpcap`, `editcap -F pcapng` and `mergecap -F pcapng`.
import { describe, expect, it } from 'vitest';
import { blocks, classicToBigEndian, fixture, makeBlock, mapBlocks, oracle, pcapngToBigEndian, plain, readBuffer, type Rec } from './read-helpers.js';

const ENCAP_TO_LINKTYPE: Record<number, number> = { 1: 1, 210: 276 };
const ENGINES = ['pcap-parser', 'wirelab'] as const;

/** What every format must agree on (fileOffset and index depend on the container). */
const essence = (r: Rec) => ({ tsSec: r.tsSec, tsNsec: r.tsNsec, caplen: r.caplen, origLen: r.origLen, linkType: r.linkType, data: r.data.toString('hex') });

describe('each fixture matches tshark', () => {
  const files = ['lo-en10mb.pcap', 'lo-en10mb.nsec.pcap', 'any-sll2.pcap', 'lo-en10mb.pcapng', 'lo-en10mb.nsec.pcapng', 'merged-2if.pcapng'];
  for (const name of files) {
    it(name, async () => {
      const { recs, summary } = await readBuffer(fixture(name));
      const want = oracle(name);
      expect(summary.faults).toEqual([]);
      expect(summary.packets).toBe(want.length);
      expect(recs.map((r) => [r.index, r.tsSec, r.tsNsec, r.caplen, r.origLen, r.interfaceId, r.linkType])).toEqual(
        want.map((f) => [f.n, f.sec, f.nsec, f.caplen, f.len, f.iface, ENCAP_TO_LINKTYPE[f.encap]]),
      );
      expect(summary.bytes).toBe(fixture(name).length);
    });
  }
});

describe('classic pcap', () => {
  const lo = fixture('lo-en10mb.pcap');

  it('pcap-parser and our reader give identical records, fileOffsets included', async () => {
    const a = await readBuffer(lo, { classicEngine: 'pcap-parser' });
    const b = await readBuffer(lo, { classicEngine: 'wirelab' });
    expect(a.recs.length).toBeGreaterThan(20);
    expect(b.recs.map(plain)).toEqual(a.recs.map(plain));
    expect(b.summary).toEqual(a.summary);
    expect(a.summary).toMatchObject({ format: 'pcap', linkType: 1, linkTypes: [1], snaplen: 262144 });
    expect(a.headers).toEqual([['pcap', 1, 262144]]);
    for (const r of a.recs) expect(lo.subarray(r.fileOffset + 16, r.fileOffset + 16 + r.caplen).equals(r.data)).toBe(true);
  });

  it('nanosecond and big-endian (usec and nsec) files give the same records', async () => {
    const base = (await readBuffer(lo)).recs.map(essence);
    const nsec = fixture('lo-en10mb.nsec.pcap');
    for (const [what, buf] of [['nsec', nsec], ['big-endian usec', classicToBigEndian(lo)], ['big-endian nsec', classicToBigEndian(nsec)]] as const) {
      const { recs, summary } = await readBuffer(buf);
      expect(summary.faults, what).toEqual([]);
      expect(recs.map(essence), what).toEqual(base);
    }
  });

  it('SLL2 capture keeps caplen < origLen (tcpdump -s 2048)', async () => {
    const { recs, summary } = await readBuffer(fixture('any-sll2.pcap'));
    expect(summary.linkType).toBe(276);
    const cut = recs.filter((r) => r.caplen < r.origLen);
    expect(cut.length).toBeGreaterThan(0);
    for (const r of cut) expect(r.caplen).toBe(2048);
  });
});

describe('pcapng', () => {
  const lo = fixture('lo-en10mb.pcap');
  const ng = fixture('lo-en10mb.pcapng');

  it('usec and nsec (if_tsresol 9) pcapng give the records of the classic file', async () => {
    const base = (await readBuffer(lo)).recs.map(essence);
    for (const name of ['lo-en10mb.pcapng', 'lo-en10mb.nsec.pcapng']) {
      const { recs, summary } = await readBuffer(fixture(name));
      expect(recs.map(essence), name).toEqual(base);
      expect(summary).toMatchObject({ format: 'pcapng', linkType: 1, linkTypes: [1], snaplen: 262144, faults: [] });
    }
  });

  it('big-endian sections read the same', async () => {
    for (const name of ['lo-en10mb.pcapng', 'lo-en10mb.nsec.pcapng', 'merged-2if.pcapng']) {
      const le = await readBuffer(fixture(name));
      const be = await readBuffer(pcapngToBigEndian(fixture(name)));
      expect(be.summary.faults, name).toEqual([]);
      expect(be.recs.map(plain), name).toEqual(le.recs.map(plain));
    }
  });

  it('two interfaces with different link types', async () => {
    const { recs, summary, headers } = await readBuffer(fixture('merged-2if.pcapng'));
    expect(summary.linkTypes).toEqual([1, 276]);
    expect(headers).toEqual([['pcapng', 1, 262144], ['pcapng', 276, 2048]]);
    const sll2 = (await readBuffer(fixture('any-sll2.pcap'))).recs.map(essence);
    const en = (await readBuffer(lo)).recs.map(essence);
    expect(recs.filter((r) => r.interfaceId === 1).map(essence)).toEqual(sll2);
    expect(recs.filter((r) => r.interfaceId === 0).map(essence)).toEqual(en);
  });

  it('several sections (one a different byte order): interface ids run on across sections', async () => {
    const two = Buffer.concat([ng, pcapngToBigEndian(fixture('merged-2if.pcapng'))]);
    const { recs, summary } = await readBuffer(two);
    const first = (await readBuffer(ng)).recs;
    const second = (await readBuffer(fixture('merged-2if.pcapng'))).recs;
    expect(summary.linkTypes).toEqual([1, 1, 276]);
    expect(summary.faults).toEqual([]);
    expect(recs.map(essence)).toEqual([...first, ...second].map(essence));
    expect(recs.slice(first.length).map((r) => r.interfaceId)).toEqual(second.map((r) => r.interfaceId + 1));
    expect(recs.map((r) => r.index)).toEqual(recs.map((_, i) => i + 1));
  });

  it('unknown blocks are skipped with one UNKNOWN_BLOCK fault per type; known ones silently', async () => {
    const odd = (type: number) => makeBlock(type, Buffer.from('wirelab test block'));
    let i = 0;
    const spliced = mapBlocks(ng, (blk, bytes) => (blk.type === 6 && i++ % 5 === 0 ? Buffer.concat([odd(0x77), odd(5), bytes, odd(0x78), odd(0x77)]) : bytes));
    const { recs, summary } = await readBuffer(spliced);
    expect(recs.map(essence)).toEqual((await readBuffer(ng)).recs.map(essence));
    expect(summary.faults.map((f) => [f.code, f.fatal])).toEqual([['UNKNOWN_BLOCK', false], ['UNKNOWN_BLOCK', false]]);
    expect(summary.faults[0]!.message).toContain('0x00000077');
    expect(spliced.readUInt32LE(summary.faults[0]!.offset)).toBe(0x77);
  });

  it('simple packet blocks: interface 0, caplen = min(snaplen, origLen, block)', async () => {
    // SPBs carry no timestamp; here the snaplen of the IDB is lowered to 100 bytes.
    const spb = mapBlocks(ng, (blk, bytes) => {
      if (blk.type === 1) {
        const b = Buffer.from(bytes);
        b.writeUInt32LE(100, 12);
        return b;
      }
      if (blk.type !== 6) return bytes;
      const caplen = bytes.readUInt32LE(20);
      const body = Buffer.alloc(4 + caplen);
      body.writeUInt32LE(bytes.readUInt32LE(24), 0);
      bytes.copy(body, 4, 28, 28 + caplen);
      return makeBlock(3, body);
    });
    const { recs, summary } = await readBuffer(spb);
    const base = (await readBuffer(ng)).recs;
    expect(summary.faults).toEqual([]);
    expect(recs.map((r) => [r.caplen, r.origLen, r.tsSec, r.interfaceId, r.data.toString('hex')])).toEqual(
      base.map((r) => [Math.min(100, r.caplen), r.origLen, 0, 0, r.data.subarray(0, 100).toString('hex')]),
    );
  });

  it('obsolete packet blocks (type 2) read like enhanced ones', async () => {
    const pb = mapBlocks(ng, (blk, bytes) => {
      if (blk.type !== 6) return bytes;
      const b = Buffer.from(bytes);
      b.writeUInt32LE(2, 0); // interface 0 and drops 0 read the same as the EPB's u32 interface 0
      return b;
    });
    expect((await readBuffer(pb)).recs.map(plain)).toEqual((await readBuffer(ng)).recs.map(plain));
  });

  it('if_tsresol as a power of 2 (2^-30), and an if_tsoffset', async () => {
    const nsng = fixture('lo-en10mb.nsec.pcapng'); // IDB option 9 = 9 (nanoseconds)
    const base = (await readBuffer(nsng)).recs;
    const shift = 30n;
    const rewritten = mapBlocks(nsng, (blk, bytes) => {
      if (blk.type === 1) {
        // Options: if_tsresol = 0x80|30, if_tsoffset = -1000 s, end.
        const opts = Buffer.alloc(8 + 12 + 4);
        opts.writeUInt16LE(9, 0);
        opts.writeUInt16LE(1, 2);
        opts.writeUInt8(0x80 | 30, 4);
        opts.writeUInt16LE(14, 8);
        opts.writeUInt16LE(8, 10);
        opts.writeBigInt64LE(-1000n, 12);
        return makeBlock(1, Buffer.concat([bytes.subarray(8, 16), opts]));
      }
      if (blk.type !== 6) return bytes;
      const b = Buffer.from(bytes);
      const ns = (BigInt(bytes.readUInt32LE(12)) << 32n) | BigInt(bytes.readUInt32LE(16));
      const units = ((ns / 1_000_000_000n) << shift) + ((ns % 1_000_000_000n) << shift) / 1_000_000_000n;
      b.writeUInt32LE(Number(units >> 32n), 12);
      b.writeUInt32LE(Number(units & 0xffffffffn), 16);
      return b;
    });
    const { recs, summary } = await readBuffer(rewritten);
    expect(summary.faults).toEqual([]);
    expect(recs.length).toBe(base.length);
    for (let i = 0; i < recs.length; i++) {
      const blk = blocks(rewritten).filter((x) => x.type === 6)[i]!;
      const units = (BigInt(rewritten.readUInt32LE(blk.offset + 12)) << 32n) | BigInt(rewritten.readUInt32LE(blk.offset + 16));
      const wantNs = (units * 1_000_000_000n) >> shift;
      expect(BigInt(recs[i]!.tsSec + 1000) * 1_000_000_000n + BigInt(recs[i]!.tsNsec)).toBe(wantNs);
      // and within 1 ns of the original nanosecond timestamp
      expect(Math.abs(recs[i]!.tsSec + 1000 - base[i]!.tsSec) * 1e9 + (recs[i]!.tsNsec - base[i]!.tsNsec)).toBeLessThanOrEqual(1);
    }
  });

  it('timestamps of picosecond resolution (if_tsresol 12) and beyond 2^53 units', async () => {
    const nsng = fixture('lo-en10mb.nsec.pcapng');
    const base = (await readBuffer(nsng)).recs;
    const ps = mapBlocks(nsng, (blk, bytes) => {
      const b = Buffer.from(bytes);
      if (blk.type === 1) b.writeUInt8(12, 20); // the option value byte of if_tsresol (option at 16)
      if (blk.type === 6) {
        const units = ((BigInt(bytes.readUInt32LE(12)) << 32n) | BigInt(bytes.readUInt32LE(16))) * 1000n + 999n;
        // 1.8e21 ps since 1970 does not fit 64 bits (2^64 ps is ~213 days): move the epoch
        // forward by 1.79e9 s with if_tsoffset-free arithmetic (the +999 ps must floor away).
        const shifted = units - 1_790_000_000n * 1_000_000_000_000n;
        b.writeBigUInt64LE(((shifted & 0xffffffffn) << 32n) | (shifted >> 32n), 12);
      }
      return b;
    });
    expect(nsng.readUInt16LE(blocks(nsng)[1]!.offset + 16)).toBe(9); // the IDB's first option is if_tsresol
    const { recs } = await readBuffer(ps);
    expect(recs.map((r) => [r.tsSec + 1_790_000_000, r.tsNsec])).toEqual(base.map((r) => [r.tsSec, r.tsNsec]));
  });
});
