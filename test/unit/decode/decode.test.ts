import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeBytes, decodePacket } from '../../../src/decode/decode.js';
import { newDecodedPacket } from '../../../src/decode/packet.js';
import type { DecodedPacket } from '../../../src/decode/packet.js';
import { describePacket } from '../../../src/decode/describe.js';
import { DECODED_LINK_TYPES } from '../../../src/decode/link.js';
import * as tcp4 from '../../fixtures/decode/tcp4-lo.js';
import * as udp4 from '../../fixtures/decode/udp4-lo.js';
import * as udp6 from '../../fixtures/decode/udp6-lo.js';
import * as router from '../../fixtures/decode/icmp-router-veth.js';
import * as sll2 from '../../fixtures/decode/tcp4-sll2.js';
import { PCAPS, WILD, bytes, readPcap } from './helpers.js';

const pcaps = readdirSync(PCAPS).filter((f) => f.endsWith('.pcap')).sort();

/**
 * Every decoded field as plain data (what a reused object must reproduce exactly), offsets into
 * buf taken from the frame's first byte (a record's frame is decoded in place in its chunk).
 */
function snapshot(p: DecodedPacket): Record<string, unknown> {
  const { buf: _buf, start, end, tcpOptions, quoted, error, ...rest } = p;
  const { sack, unknown, ...opts } = tcpOptions;
  const rebase = <T extends object>(o: T): T =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, k.endsWith('Offset') && k !== 'fileOffset' && k !== 'fragmentOffset' && typeof v === 'number' && v >= 0 ? v - start : v])) as T;
  return {
    ...rebase(rest),
    frameLength: end - start,
    error: error ? { ...error } : null,
    quoted: quoted.present ? rebase({ ...quoted }) : { present: false },
    opts: { ...rebase(opts), sack: Array.from(sack.subarray(0, 2 * opts.sackCount)), unknown: unknown.slice(0, opts.unknownCount).map((u) => ({ ...u, offset: u.offset - start })) },
  };
}

describe('decodePacket', () => {
  it('copies the record fields and decodes', () => {
    const { records } = readPcap(join(PCAPS, 'tcp4-lo.pcap'));
    const out = newDecodedPacket();
    decodePacket(records[1]!, out);
    expect(out).toMatchObject({
      index: 2,
      tsSec: records[1]!.tsSec,
      tsNsec: records[1]!.tsNsec,
      caplen: 74,
      origLen: 74,
      linkType: 1,
      fileOffset: records[1]!.fileOffset,
      net: 4,
      srcPort: 8080,
    });
    // Decoded in place: the frame is the record's chunk from its offset, no Buffer of its own.
    expect(out.buf).toBe(records[1]!.chunk);
    expect([out.start, out.end]).toEqual([records[1]!.offset, records[1]!.offset + 74]);
    expect(out.srcOffset - out.start).toBe(26);
  });

  it('a reused object gives exactly what a fresh one gives, packet after packet, across every capture', () => {
    const out = newDecodedPacket();
    let n = 0;
    for (const file of pcaps) {
      for (const rec of readPcap(join(PCAPS, file)).records) {
        decodePacket(rec, out);
        const fresh = decodeBytes(rec.linkType, rec.data, rec.origLen);
        expect(out.start, 'decoded in place, in the file-sized chunk').toBe(rec.offset);
        expect(snapshot(out), `${file} #${rec.index}`).toEqual({ ...snapshot(fresh), index: rec.index, tsSec: rec.tsSec, tsNsec: rec.tsNsec, fileOffset: rec.fileOffset });
        n++;
      }
    }
    expect(n).toBeGreaterThan(100);
  });

  it('decodes every packet of every real capture without an error', () => {
    for (const file of pcaps) {
      for (const rec of readPcap(join(PCAPS, file)).records) {
        const p = decodeBytes(rec.linkType, rec.data, rec.origLen);
        expect(p.error, `${file} #${rec.index}: ${describePacket(p)}`).toBeNull();
        expect(p.truncated, `${file} #${rec.index}`).toBe(rec.caplen < rec.origLen);
      }
    }
  });
});

describe('no exceptions out, whatever the bytes', () => {
  const frames: [number, Buffer][] = [tcp4.syn, tcp4.data, udp4.small, udp4.frag1, udp4.portUnreach, udp6.frag1, udp6.portUnreach, router.fragNeeded, router.reasmExceeded6, router.mldHopByHop].map((f) => [1, bytes(f)]);
  frames.push([276, bytes(sll2.syn)]);
  // Every frame of the wild captures: tunnels, PPPoE, NFLOG, PPP, HDLC, FDDI, IPoIB (test/fixtures/wild).
  for (const file of readdirSync(WILD).filter((f) => f.endsWith('.pcap'))) {
    for (const rec of readPcap(join(WILD, file)).records) frames.push([rec.linkType, rec.data]);
  }
  const linkTypes = [...DECODED_LINK_TYPES, 9999];

  function sane(p: DecodedPacket): void {
    const n = p.buf.length;
    if (p.error) expect(p.error.code).not.toBe('INTERNAL');
    if (p.net !== 0) {
      expect(p.srcOffset + p.addrLength).toBeLessThanOrEqual(n);
      expect(p.dstOffset + p.addrLength).toBeLessThanOrEqual(n);
    }
    if (p.srcPort >= 0) expect(p.l4Offset + 4).toBeLessThanOrEqual(n);
    if (p.quoted.present) expect(p.quoted.dstOffset + (p.quoted.net === 6 ? 16 : 4)).toBeLessThanOrEqual(n);
    expect(p.payloadLength).toBeGreaterThanOrEqual(0);
    expect(p.tcpOptions.sackCount).toBeLessThanOrEqual(4);
    expect(() => describePacket(p)).not.toThrow();
  }

  it('survives random mutations and cuts of real frames (no INTERNAL errors, offsets inside the buffer)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: frames.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        (fi, edits, cut) => {
          const [lt, frame] = frames[fi]!;
          const b = Buffer.from(frame);
          for (const [at, v] of edits) b[at % b.length] = v;
          const len = cut % (b.length + 1);
          sane(decodeBytes(lt, b.subarray(0, len), b.length));
        },
      ),
      { numRuns: 20000 },
    );
  });

  it('survives random bytes on every link type', () => {
    fc.assert(
      fc.property(fc.constantFrom(...linkTypes), fc.uint8Array({ maxLength: 120 }), (lt, raw) => {
        sane(decodeBytes(lt, Buffer.from(raw)));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('describePacket reads like tcpdump -nn -S -t', () => {
  it('matches tcpdump for the TCP, UDP and ICMP packets of every capture', () => {
    let compared = 0;
    for (const file of pcaps) {
      const path = join(PCAPS, file);
      let tcpdump: string[];
      try {
        tcpdump = execFileSync('tcpdump', ['-nn', '-S', '-t', '-r', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd().split('\n');
      } catch {
        return; // no tcpdump: the cross-check below (tshark) has its own skip
      }
      readPcap(path).records.forEach((rec, i) => {
        const p = decodeBytes(rec.linkType, rec.data, rec.origLen);
        const ours = describePacket(p).replace(' [truncated]', '');
        const theirs = tcpdump[i]!.replace(/^lo\s+In\s+/, '').replace(/: HTTP.*$/, '');
        const icmpShown = (p.proto === 1 && (p.icmpType === 3 || p.icmpType === 11)) || (p.proto === 58 && p.icmpType >= 1 && p.icmpType <= 3);
        if ((p.proto === 6 || p.proto === 17 || icmpShown) && !p.isFragment && !p.truncated) {
          expect(ours, `${file} #${rec.index}`).toBe(theirs);
          compared++;
        }
      });
    }
    expect(compared).toBeGreaterThan(50);
  });
});

const haveTshark = (() => {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const FIELDS = [
  'frame.number', 'ip.id', 'ip.frag_offset', 'ip.flags.mf', 'ipv6.fraghdr.ident', 'ipv6.fraghdr.offset', 'ipv6.fraghdr.more',
  'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.flags', 'tcp.len', 'tcp.options.mss_val', 'tcp.options.wscale.shift',
  'tcp.options.timestamp.tsval', 'tcp.options.sack_le', 'udp.srcport', 'udp.dstport', 'udp.length',
  'icmp.type', 'icmp.code', 'icmp.mtu', 'icmpv6.type', 'icmpv6.code', 'icmpv6.mtu',
];

/** Our decode of one packet rendered in tshark's columns (ICMP errors: the quoted ports, as tshark shows them). */
function asTsharkRow(p: DecodedPacket): string {
  const v = (x: number | boolean | null | undefined) => (x === null || x === undefined || x === -1 ? '' : typeof x === 'boolean' ? (x ? '1' : '0') : String(x));
  const tcp = p.proto === 6 && p.tcpHeaderLength > 0;
  const udp = p.proto === 17 && p.l4Offset >= 0;
  const icmpQuotesUdp = (p.proto === 1 || p.proto === 58) && p.quoted.present && p.quoted.proto === 17 && p.quoted.srcPort >= 0;
  const o = p.tcpOptions;
  const frag6 = p.net === 6 && p.isFragment;
  const udpLengthQuoted = icmpQuotesUdp ? quotedUdpLength(p) : -1;
  return [
    p.index,
    p.net === 4 ? `0x${p.ipId.toString(16).padStart(4, '0')}` : '',
    p.net === 4 ? p.fragmentOffset / 8 : '',
    p.net === 4 ? v(p.moreFragments) : '',
    frag6 ? `0x${p.ipId.toString(16).padStart(8, '0')}` : p.proto === 58 && p.quoted.ipId !== 0 ? `0x${p.quoted.ipId.toString(16).padStart(8, '0')}` : '',
    frag6 ? p.fragmentOffset / 8 : '',
    frag6 ? v(p.moreFragments) : '',
    tcp ? p.srcPort : '', tcp ? p.dstPort : '', tcp ? p.seq : '', tcp ? p.ack : '',
    tcp ? `0x${p.tcpFlags.toString(16).padStart(4, '0')}` : '', tcp ? p.payloadLength : '',
    tcp ? v(o.mss) : '', tcp ? v(o.wscale) : '', tcp && o.hasTimestamps ? o.tsVal : '', tcp && o.sackCount > 0 ? o.sack[0] : '',
    udp ? p.srcPort : icmpQuotesUdp ? p.quoted.srcPort : '',
    udp ? p.dstPort : icmpQuotesUdp ? p.quoted.dstPort : '',
    udp ? p.udpLength : icmpQuotesUdp ? v(udpLengthQuoted) : '',
    p.proto === 1 ? p.icmpType : '', p.proto === 1 ? p.icmpCode : '', p.proto === 1 ? v(p.icmpMtu) : '',
    p.proto === 58 ? p.icmpType : '', p.proto === 58 ? p.icmpCode : '', p.proto === 58 ? v(p.icmpMtu) : '',
  ].join('\t');
}

/** The UDP length field of the quoted datagram (tshark shows it; we keep only ports, so read it here). */
function quotedUdpLength(p: DecodedPacket): number {
  const b = p.buf;
  // ports are at the start of the quoted UDP header: find it from the quoted source port position.
  for (let i = p.l4Offset + 8; i + 6 <= b.length; i++) {
    if (b.readUInt16BE(i) === p.quoted.srcPort && b.readUInt16BE(i + 2) === p.quoted.dstPort && i > p.quoted.dstOffset) return b.readUInt16BE(i + 4);
  }
  return -1;
}

describe.skipIf(!haveTshark)('cross-check with tshark (every packet of every real capture)', () => {
  it.each(pcaps)('%s: proto, ports, seq, ack, flags, lengths, fragments, ICMP agree with tshark', (file) => {
    const path = join(PCAPS, file);
    const args = ['-r', path, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-o', 'tcp.relative_sequence_numbers:FALSE',
      '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f', ...FIELDS.flatMap((f) => ['-e', f])];
    const theirs = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).replace(/\n$/, '').split('\n');
    const ours = readPcap(path).records.map((rec, i) => {
      const p = newDecodedPacket();
      decodePacket(rec, p);
      if (p.proto === 58 && p.quoted.present && theirs[i]) {
        // tshark's first fragment-header fields there are the quoted packet's: we keep only its id.
        const cols = theirs[i]!.split('\t');
        cols[5] = '';
        cols[6] = '';
        theirs[i] = cols.join('\t');
      }
      return asTsharkRow(p);
    });
    expect(ours).toEqual(theirs);
  });
});
if (!haveTshark) {
  describe('cross-check with tshark', () => {
    it.skip('skipped: tshark is not installed (apt-get install tshark to run it)', () => {});
  });
}
