import { describe, expect, it } from 'vitest';
import { decodeBytes } from '../../../src/decode/decode.js';
import { formatAddress } from '../../../src/decode/address.js';
import type { DecodedPacket } from '../../../src/decode/packet.js';
import * as udp4 from '../../fixtures/decode/udp4-lo.js';
import * as router from '../../fixtures/decode/icmp-router-veth.js';
import * as udp6 from '../../fixtures/decode/udp6-lo.js';
import { bytes, decodeFixture } from './helpers.js';

function quotedDst(p: DecodedPacket): string {
  return formatAddress(p.buf, p.quoted.dstOffset, p.quoted.net === 6 ? 16 : 4);
}

describe('ICMP (IPv4)', () => {
  it('port unreachable (3/3) quotes the UDP datagram that hit the closed port', () => {
    // 127.0.0.1 > 127.0.0.1: ICMP 127.0.0.1 udp port 9999 unreachable, length 47
    const p = decodeFixture(udp4.linkType, udp4.portUnreach);
    expect(p.error).toBeNull();
    expect([p.proto, p.icmpType, p.icmpCode, p.icmpMtu, p.srcPort]).toEqual([1, 3, 3, -1, -1]);
    expect(p.quoted).toMatchObject({ present: true, net: 4, proto: 17, srcPort: 40000, dstPort: 9999 });
    expect(quotedDst(p)).toBe('127.0.0.1');
    expect(p.payloadLength).toBe(39);
  });

  it('fragmentation needed (3/4) carries the next-hop MTU', () => {
    // 10.1.0.1 > 10.1.0.2: ICMP 10.2.0.2 unreachable - need to frag (mtu 1280), length 556
    //   IP (... id 6404, flags [DF], proto UDP (17), length 1428) 10.1.0.2.40001 > 10.2.0.2.9000
    const p = decodeFixture(router.linkType, router.fragNeeded);
    expect([p.icmpType, p.icmpCode, p.icmpMtu]).toEqual([3, 4, 1280]);
    expect(p.quoted).toMatchObject({ present: true, proto: 17, ipId: 6404, srcPort: 40001, dstPort: 9000 });
    expect(quotedDst(p)).toBe('10.2.0.2');
    expect(formatAddress(p.buf, p.srcOffset, 4)).toBe('10.1.0.1'); // the router
  });

  it('TTL exceeded in transit (11/0)', () => {
    // ICMP time exceeded in-transit, quoting 10.1.0.2.40001 > 10.2.0.2.9000: UDP, length 100
    const p = decodeFixture(router.linkType, router.ttlExceeded);
    expect([p.icmpType, p.icmpCode, p.icmpMtu]).toEqual([11, 0, -1]);
    expect(p.quoted).toMatchObject({ proto: 17, srcPort: 40001, dstPort: 9000 });
  });

  it('reassembly time exceeded (11/1) quotes the first fragment: IP id to match the fragments', () => {
    //   IP (tos 0x0, ttl 64, id 33772, offset 0, flags [+], proto UDP (17), length 1500)
    //   10.1.0.2.40001 > 10.1.0.1.9000: UDP, length 2000
    const p = decodeFixture(router.linkType, router.reasmExceeded);
    expect([p.icmpType, p.icmpCode]).toEqual([11, 1]);
    expect(p.quoted).toMatchObject({ proto: 17, ipId: 33772, srcPort: 40001, dstPort: 9000 });
    expect(quotedDst(p)).toBe('10.1.0.1');
  });

  it('a quote cut by the snaplen keeps type/code and what it can', () => {
    const f = bytes(udp4.portUnreach);
    const p = decodeBytes(1, f.subarray(0, 14 + 20 + 8 + 20 + 2), f.length);
    expect(p.truncated).toBe(true);
    expect(p.error).toBeNull();
    expect([p.icmpType, p.icmpCode]).toEqual([3, 3]);
    expect(p.quoted).toMatchObject({ present: true, proto: 17, srcPort: -1 });
  });

  it('a message shorter than 8 bytes is an error', () => {
    const b = Buffer.from(bytes(udp4.portUnreach));
    b.writeUInt16BE(20 + 6, 14 + 2);
    expect(decodeBytes(1, b).error).toMatchObject({ layer: 'icmp', code: 'SHORT_MESSAGE', offset: 34 });
  });
});

describe('ICMPv6', () => {
  it('port unreachable (1/4)', () => {
    // ::1 > ::1: ICMP6, destination unreachable, unreachable port, ::1 udp port 9999
    const u = decodeFixture(udp6.linkType, udp6.portUnreach);
    expect([u.proto, u.icmpType, u.icmpCode]).toEqual([58, 1, 4]);
    expect(u.quoted).toMatchObject({ present: true, net: 6, proto: 17, srcPort: 40000, dstPort: 9999 });
    expect(quotedDst(u)).toBe('::1');
  });

  it('packet too big (2) carries the MTU and quotes the datagram', () => {
    // fd00:1::1 > fd00:1::2: ICMP6, packet too big, mtu 1280
    const p = decodeFixture(router.linkType, router.packetTooBig);
    expect([p.icmpType, p.icmpCode, p.icmpMtu]).toEqual([2, 0, 1280]);
    expect(p.quoted).toMatchObject({ net: 6, proto: 17, srcPort: 40001, dstPort: 9000 });
    expect(quotedDst(p)).toBe('fd00:2::2');
  });

  it('hop limit exceeded (3/0)', () => {
    const p = decodeFixture(router.linkType, router.hopLimitExceeded);
    expect([p.icmpType, p.icmpCode, p.icmpMtu]).toEqual([3, 0, -1]);
    expect(p.quoted).toMatchObject({ proto: 17, srcPort: 40001, dstPort: 9000 });
  });

  it('reassembly time exceeded (3/1) quotes the first fragment through its fragment header', () => {
    // ICMP6, time exceeded in-transit (reassembly), for frag (0xf870e78e:0|1448) 40001 > 9000
    const p = decodeFixture(router.linkType, router.reasmExceeded6);
    expect([p.icmpType, p.icmpCode]).toEqual([3, 1]);
    expect(p.quoted).toMatchObject({ net: 6, proto: 17, ipId: 0xf870e78e, srcPort: 40001, dstPort: 9000 });
    expect(quotedDst(p)).toBe('fd00:1::1');
  });

  it('neighbor discovery is decoded as a plain ICMPv6 message', () => {
    const p = decodeFixture(router.linkType, router.mldHopByHop);
    expect(p.icmpType).toBe(143);
    expect(p.quoted.present).toBe(false);
  });
});
