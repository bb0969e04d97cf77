/**
 * Crafted segments are real packets: tshark (the oracle) decodes them and verifies their TCP
 * checksum as good, or as bad when the lab asks for a bad one; over IPv4 and IPv6.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pcapGlobalHeader, pcapRecord } from '../../../src/capture/pcap-writer.js';
import { buildSegment, parseIPv6, type CraftSpec } from '../../../src/lab/craft.js';

const hasTshark = (() => {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const LINKTYPE_RAW = 101;

function tshark(specs: CraftSpec[]): string[][] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wl-craft-'));
  const file = path.join(dir, 'c.pcap');
  writeFileSync(file, Buffer.concat([pcapGlobalHeader(LINKTYPE_RAW, 65535), ...specs.map((s, i) => pcapRecord(1000 + i, 0, buildSegment(s), 65535))]));
  const out = execFileSync('tshark', ['-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=|',
    '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.seq_raw', '-e', 'tcp.flags.str', '-e', 'tcp.options.mss_val', '-e', 'tcp.len', '-e', 'tcp.checksum.status', '-e', 'ip.checksum.status'], { encoding: 'utf8' });
  return out.trim().split('\n').map((l) => l.split('|'));
}

const syn4: CraftSpec = { src: '10.0.0.100', dst: '10.0.0.2', sport: 40000, dport: 8080, seq: 4000000000, flags: ['SYN'], mss: 1460 };
const syn6: CraftSpec = { src: 'fd00::100', dst: 'fd00::2', sport: 40001, dport: 8080, seq: 1, flags: ['SYN'], mss: 1440 };
const data4: CraftSpec = { src: '127.0.0.1', dst: '127.0.0.1', sport: 1, dport: 2, seq: 7, ack: 9, flags: ['ACK', 'PSH'], payload: 'hello' };

describe.skipIf(!hasTshark)('crafted segments, checked by tshark', () => {
  it('IPv4 and IPv6 SYNs and a data segment decode with the fields asked for and a good checksum', () => {
    const rows = tshark([syn4, syn6, data4]);
    expect(rows[0]).toEqual(['10.0.0.100', '', '40000', '8080', '4000000000', expect.stringContaining('S'), '1460', '0', '2', '2'].map((v, i) => (i >= 8 ? expect.any(String) : v)));
    // tcp.checksum.status: 1 = Good, 0 = Bad (2 = unverified)
    expect(rows.map((r) => r[8])).toEqual(['1', '1', '1']);
    expect(rows[0]![9]).toBe('1'); // the IPv4 header checksum too
    expect(rows[1]!.slice(1, 7)).toEqual(['fd00::100', '40001', '8080', '1', expect.stringContaining('S'), '1440']);
    expect(rows[2]![7]).toBe('5');
  });

  it('badChecksum gives a segment whose TCP checksum is wrong, everything else the same', () => {
    const rows = tshark([{ ...syn4, badChecksum: true }, { ...syn6, badChecksum: true }]);
    expect(rows.map((r) => r[8])).toEqual(['0', '0']);
  });
});

describe('crafting input', () => {
  it('parses IPv6 text forms', () => {
    expect(parseIPv6('::1').toString('hex')).toBe('00000000000000000000000000000001');
    expect(parseIPv6('fd00::2').toString('hex')).toBe('fd000000000000000000000000000002');
    expect(parseIPv6('::ffff:10.0.0.1').toString('hex')).toBe('00000000000000000000ffff0a000001');
  });

  it('rejects mixed families and bad ports with the reason', () => {
    expect(() => buildSegment({ ...syn4, dst: '::1' })).toThrow(/not the same family/);
    expect(() => buildSegment({ ...syn4, sport: 70000 })).toThrow(/sport 70000 is not a port/);
    expect(() => buildSegment({ ...syn4, src: '10.0.0' })).toThrow(/not an IPv4 address/);
  });
});
