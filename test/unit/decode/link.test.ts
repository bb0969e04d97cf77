import { describe, expect, it } from 'vitest';
import { decodeBytes } from '../../../src/decode/decode.js';
import { SYN } from '../../../src/decode/packet.js';
import type { DecodedPacket } from '../../../src/decode/packet.js';
import { formatAddress } from '../../../src/decode/address.js';
import * as tcp4 from '../../fixtures/decode/tcp4-lo.js';
import * as tcp6 from '../../fixtures/decode/tcp6-lo.js';
import * as sll from '../../fixtures/decode/tcp4-sll.js';
import * as sll2 from '../../fixtures/decode/tcp4-sll2.js';
import * as router from '../../fixtures/decode/icmp-router-veth.js';
import { bytes, decodeFixture, splice } from './helpers.js';

/** The SYN of tcp4-lo as every link type must give it. */
function expectSyn4(p: DecodedPacket, ipOffset: number): void {
  expect(p.error).toBeNull();
  expect(p.truncated).toBe(false);
  expect(p.net).toBe(4);
  expect(p.ipOffset).toBe(ipOffset);
  expect(formatAddress(p.buf, p.srcOffset, 4)).toBe('127.0.0.1');
  expect(p.srcPort).toBe(39006);
  expect(p.dstPort).toBe(8080);
  expect(p.seq).toBe(3591254835);
  expect(p.tcpFlags).toBe(SYN);
}

const ip4 = bytes(tcp4.syn).subarray(14); // the same SYN without its Ethernet header
const ip6 = bytes(tcp6.syn).subarray(14);

describe('Ethernet (1)', () => {
  it('finds IPv4 after the 14-byte header', () => {
    const p = decodeFixture(tcp4.linkType, tcp4.syn);
    expect(p.linkType).toBe(1);
    expect(p.etherType).toBe(0x0800);
    expect(p.vlan).toBe(-1);
    expectSyn4(p, 14);
  });

  it('finds IPv6 after the 14-byte header', () => {
    const p = decodeFixture(tcp6.linkType, tcp6.syn);
    expect(p.etherType).toBe(0x86dd);
    expect(p.net).toBe(6);
    expect(p.srcPort).toBe(57852);
  });

  it('leaves ARP undecoded: net 0 and no error', () => {
    // tcpdump: ARP, Request who-has 10.1.0.1 tell 10.1.0.2, length 28
    const p = decodeFixture(router.linkType, router.arp);
    expect(p.etherType).toBe(0x0806);
    expect(p.net).toBe(0);
    expect(p.error).toBeNull();
    expect(p.truncated).toBe(false);
    expect(p.srcPort).toBe(-1);
  });

  it('flags a frame shorter than its header as truncated, not an error', () => {
    const p = decodeBytes(1, bytes(tcp4.syn).subarray(0, 13), 74);
    expect(p.truncated).toBe(true);
    expect(p.error).toBeNull();
    expect(p.net).toBe(0);
  });
});

describe('802.1Q / 802.1ad tags (frames from a real veth capture, tags inserted by hand: no 8021q module here)', () => {
  const frame = bytes(router.udpDf); // IP 10.1.0.2.40001 > 10.2.0.2.9000: UDP, length 1400 (DF)

  it('walks one 802.1Q tag', () => {
    const tagged = splice(frame, 12, 0, [0x81, 0x00, 0x20, 0x0a]); // PCP 1, VID 10
    const p = decodeBytes(1, tagged);
    expect(p.vlan).toBe(10);
    expect(p.etherType).toBe(0x0800);
    expect(p.ipOffset).toBe(18);
    expect(p.error).toBeNull();
    expect([p.srcPort, p.dstPort, p.payloadLength]).toEqual([40001, 9000, 1400]);
  });

  it('walks stacked 802.1ad + 802.1Q tags and reports the outer VLAN', () => {
    const tagged = splice(frame, 12, 0, [0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x14]); // S-VID 100, C-VID 20
    const p = decodeBytes(1, tagged);
    expect(p.vlan).toBe(100);
    expect(p.ipOffset).toBe(22);
    expect([p.srcPort, p.dstPort, p.payloadLength]).toEqual([40001, 9000, 1400]);
  });

  it('treats a tag cut by the snaplen as truncation', () => {
    const tagged = splice(frame, 12, 0, [0x81, 0x00, 0x00, 0x0a]).subarray(0, 16);
    const p = decodeBytes(1, tagged, frame.length + 4);
    expect(p.truncated).toBe(true);
    expect(p.error).toBeNull();
  });

  it('stops at a non-IP ethertype behind a tag without an error', () => {
    const arp = splice(bytes(router.arp), 12, 0, [0x81, 0x00, 0x00, 0x05]);
    const p = decodeBytes(1, arp);
    expect([p.vlan, p.etherType, p.net]).toEqual([5, 0x0806, 0]);
    expect(p.error).toBeNull();
  });
});

describe('Linux cooked captures (tcpdump -i any)', () => {
  it('SLL (113): protocol at byte 14, IP at 16', () => {
    const p = decodeFixture(sll.linkType, sll.syn);
    expect(sll.linkType).toBe(113);
    expect(p.ipOffset).toBe(16);
    expect(p.error).toBeNull();
    expect(p.tcpFlags).toBe(SYN);
    expect(p.tcpOptions.mss).toBe(65495);
  });

  it('SLL2 (276): protocol at byte 0, IP at 20', () => {
    const p = decodeFixture(sll2.linkType, sll2.syn);
    expect(sll2.linkType).toBe(276);
    expect(p.ipOffset).toBe(20);
    expect(p.error).toBeNull();
    expect(p.tcpFlags).toBe(SYN);
    const data = decodeFixture(sll2.linkType, sll2.data);
    expect(data.payloadLength).toBe(5);
  });

  it('SLL cut inside its header is truncated', () => {
    expect(decodeBytes(113, bytes(sll.syn).subarray(0, 15), 76).truncated).toBe(true);
    expect(decodeBytes(276, bytes(sll2.syn).subarray(0, 19), 80).truncated).toBe(true);
  });
});

describe('raw IP link types', () => {
  it.each([101, 12, 14])('raw IP (%i) picks the version from the first nibble', (lt) => {
    expectSyn4(decodeBytes(lt, ip4), 0);
    const p6 = decodeBytes(lt, ip6);
    expect(p6.net).toBe(6);
    expect(p6.srcPort).toBe(57852);
  });

  it('raw IP with a version that is neither 4 nor 6 is a link error', () => {
    const p = decodeBytes(101, Buffer.concat([Buffer.from([0x55]), ip4.subarray(1)]));
    expect(p.error).toMatchObject({ layer: 'link', code: 'BAD_IP_VERSION', offset: 0 });
  });

  it('IPv4 (228) and IPv6 (229)', () => {
    expectSyn4(decodeBytes(228, ip4), 0);
    expect(decodeBytes(229, ip6).net).toBe(6);
  });

  it('IPv4 (228) carrying a version-6 packet is an ipv4 error', () => {
    const p = decodeBytes(228, ip6);
    expect(p.error).toMatchObject({ layer: 'ipv4', code: 'BAD_IP_VERSION' });
  });
});

describe('BSD loopback: NULL (0, host byte order) and LOOP (108, network order)', () => {
  const le = (n: number) => Buffer.from([n, 0, 0, 0]);
  const be = (n: number) => Buffer.from([0, 0, 0, n]);

  it('NULL, AF_INET = 2 in either byte order', () => {
    expectSyn4(decodeBytes(0, Buffer.concat([le(2), ip4])), 4);
    expectSyn4(decodeBytes(0, Buffer.concat([be(2), ip4])), 4);
  });

  it.each([24, 28, 30])('NULL, AF_INET6 = %i in either byte order', (af) => {
    expect(decodeBytes(0, Buffer.concat([le(af), ip6])).net).toBe(6);
    expect(decodeBytes(0, Buffer.concat([be(af), ip6])).net).toBe(6);
  });

  it('NULL with another family is not IP and not an error', () => {
    const p = decodeBytes(0, Buffer.concat([le(23), ip4]));
    expect(p.net).toBe(0);
    expect(p.error).toBeNull();
  });

  it('LOOP reads the family in network order', () => {
    expectSyn4(decodeBytes(108, Buffer.concat([be(2), ip4])), 4);
    expect(decodeBytes(108, Buffer.concat([be(24), ip6])).net).toBe(6);
    expect(decodeBytes(108, Buffer.concat([le(2), ip4])).net).toBe(0); // 0x02000000 is no family
  });
});

describe('unknown link types', () => {
  it('are an error on layer link, and nothing else is decoded', () => {
    const p = decodeBytes(147, bytes(tcp4.syn));
    expect(p.error).toMatchObject({ layer: 'link', code: 'UNKNOWN_LINK_TYPE', offset: 0 });
    expect(p.error?.message).toContain('147');
    expect(p.net).toBe(0);
    expect(p.srcPort).toBe(-1);
  });
});
