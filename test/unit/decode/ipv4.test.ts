import { describe, expect, it } from 'vitest';
import { decodeBytes } from '../../../src/decode/decode.js';
import { formatAddress } from '../../../src/decode/address.js';
import * as tcp4 from '../../fixtures/decode/tcp4-lo.js';
import * as udp4 from '../../fixtures/decode/udp4-lo.js';
import * as sack from '../../fixtures/decode/tcp-sack-lo.js';
import * as router from '../../fixtures/decode/icmp-router-veth.js';
import { bumpIPv4Length, bytes, decodeFixture, splice, withByte, withU16 } from './helpers.js';

const IP = 14; // IPv4 starts after the Ethernet header in all these frames

describe('IPv4 header fields', () => {
  it('reads the SYN of a real loopback handshake', () => {
    // IP (tos 0x0, ttl 64, id 31386, offset 0, flags [DF], proto TCP (6), length 60)
    const p = decodeFixture(tcp4.linkType, tcp4.syn);
    expect(p.net).toBe(4);
    expect(p.addrLength).toBe(4);
    expect(p.ttl).toBe(64);
    expect(p.ipId).toBe(31386);
    expect(p.dontFragment).toBe(true);
    expect(p.moreFragments).toBe(false);
    expect(p.isFragment).toBe(false);
    expect(p.proto).toBe(6);
    expect(p.ipHeaderLength).toBe(20);
    expect(p.ipTotalLength).toBe(60);
    expect(formatAddress(p.buf, p.srcOffset, 4)).toBe('127.0.0.1');
    expect(formatAddress(p.buf, p.dstOffset, 4)).toBe('127.0.0.1');
    expect(p.l4Offset).toBe(34);
  });

  it('reads the router-facing addresses of a veth frame', () => {
    // IP 10.1.0.2.40001 > 10.2.0.2.9000: UDP, length 1400 (flags [DF])
    const p = decodeFixture(router.linkType, router.udpDf);
    expect(formatAddress(p.buf, p.srcOffset, 4)).toBe('10.1.0.2');
    expect(formatAddress(p.buf, p.dstOffset, 4)).toBe('10.2.0.2');
    expect(p.dontFragment).toBe(true);
  });

  it('skips options by IHL', () => {
    // The UDP "hello" datagram with a Router Alert option (94 04 00 00) put in: IHL 6.
    let b = splice(bytes(udp4.small), IP + 20, 0, [0x94, 0x04, 0x00, 0x00]);
    b = withByte(b, IP, 0x46);
    b = bumpIPv4Length(b, IP, 4);
    const p = decodeBytes(1, b);
    expect(p.error).toBeNull();
    expect(p.ipHeaderLength).toBe(24);
    expect(p.l4Offset).toBe(IP + 24);
    expect([p.srcPort, p.dstPort, p.payloadLength]).toEqual([40000, 9000, 5]);
  });
});

describe('IPv4 fragments (a 4000-byte datagram on MTU 1500: three fragments)', () => {
  it('first fragment: MF, offset 0, ports decoded', () => {
    // IP (... id 27322, offset 0, flags [+], proto UDP (17), length 1500)
    const p = decodeFixture(udp4.linkType, udp4.frag1);
    expect([p.isFragment, p.moreFragments, p.fragmentOffset, p.ipId]).toEqual([true, true, 0, 27322]);
    expect([p.srcPort, p.dstPort]).toEqual([40000, 9000]);
    expect(p.l4Offset).toBe(34);
    expect(p.error).toBeNull();
  });

  it('middle fragment: offset in bytes, no transport header', () => {
    // IP (... id 27322, offset 1480, flags [+], proto UDP (17), length 1500)
    const p = decodeFixture(udp4.linkType, udp4.frag2);
    expect([p.isFragment, p.moreFragments, p.fragmentOffset, p.ipId, p.proto]).toEqual([true, true, 1480, 27322, 17]);
    expect(p.l4Offset).toBe(-1);
    expect(p.srcPort).toBe(-1);
    expect(p.payloadOffset).toBe(34);
    expect(p.payloadLength).toBe(1480);
    expect(p.error).toBeNull();
  });

  it('last fragment: MF clear, still a fragment', () => {
    // IP (... id 27322, offset 2960, flags [none], proto UDP (17), length 1068)
    const p = decodeFixture(udp4.linkType, udp4.frag3);
    expect([p.isFragment, p.moreFragments, p.fragmentOffset]).toEqual([true, false, 2960]);
    expect(p.payloadLength).toBe(1048);
  });
});

describe('IPv4 lengths: trust the header, not the captured bytes', () => {
  it('ignores Ethernet padding', () => {
    // "hello" is 47 bytes; a NIC pads it to 60 on the wire and the capture keeps the pad.
    const padded = Buffer.concat([bytes(udp4.small), Buffer.alloc(13)]);
    const p = decodeBytes(1, padded);
    expect(p.error).toBeNull();
    expect(p.truncated).toBe(false);
    expect(p.ipTotalLength).toBe(33);
    expect(p.payloadLength).toBe(5);
  });

  it('a snaplen-cut payload is truncated, and lengths still come from the headers (real -s 128 capture)', () => {
    // IP 127.0.0.1.42470 > 127.0.0.1.8081: Flags [P.], seq 1:7241, ..., length 7240 (caplen 128)
    const p = decodeFixture(sack.linkType, sack.bigData);
    expect(p.buf.length).toBe(128);
    expect(p.truncated).toBe(true);
    expect(p.error).toBeNull();
    expect(p.ipTotalLength).toBe(7292);
    expect(p.payloadLength).toBe(7240);
  });

  it('a header cut by the snaplen is truncated with nothing invented', () => {
    const p = decodeBytes(1, bytes(tcp4.syn).subarray(0, IP + 12), 74);
    expect(p.truncated).toBe(true);
    expect(p.error).toBeNull();
    expect(p.srcPort).toBe(-1);
  });

  it('a transport header cut after the ports keeps the ports', () => {
    const p = decodeBytes(1, bytes(tcp4.syn).subarray(0, IP + 20 + 6), 74);
    expect(p.truncated).toBe(true);
    expect(p.error).toBeNull();
    expect([p.net, p.srcPort, p.dstPort, p.tcpFlags]).toEqual([4, 39006, 8080, 0]);
  });

  it('total length 0 (TSO capture on the sender) takes the frame length', () => {
    const p = decodeBytes(1, withU16(bytes(tcp4.data), IP + 2, 0));
    expect(p.error).toBeNull();
    expect(p.ipTotalLength).toBe(bytes(tcp4.data).length - IP);
    expect(p.payloadLength).toBe(5);
  });
});

describe('IPv4 headers that lie', () => {
  it('IHL < 5 is an error at the IP header', () => {
    const p = decodeBytes(1, withByte(bytes(tcp4.syn), IP, 0x43));
    expect(p.error).toMatchObject({ layer: 'ipv4', code: 'BAD_IHL', offset: IP });
    expect(p.etherType).toBe(0x0800); // the link layer stays decoded
    expect(p.srcPort).toBe(-1);
  });

  it('total length < header length is an error at the length field', () => {
    const p = decodeBytes(1, withU16(bytes(tcp4.syn), IP + 2, 12));
    expect(p.error).toMatchObject({ layer: 'ipv4', code: 'BAD_TOTAL_LENGTH', offset: IP + 2 });
    expect(p.ttl).toBe(64);
  });

  it('total length past the frame on the wire is truncation (a device cut the frame and recorded the cut length), as tshark reads it', () => {
    const p = decodeBytes(1, bumpIPv4Length(bytes(tcp4.syn), IP, 100));
    expect(p.error).toBeNull();
    expect(p.truncated).toBe(true);
    expect(p.ipTotalLength).toBe(160);
    expect([p.srcPort, p.dstPort, p.seq]).toEqual([39006, 8080, 3591254835]);
    expect(p.payloadLength).toBe(100); // from the header, as for a snaplen cut
  });

  it('total length within origLen but past caplen is truncation', () => {
    const b = bumpIPv4Length(bytes(tcp4.syn), IP, 100);
    const p = decodeBytes(1, b, b.length + 100);
    expect(p.error).toBeNull();
    expect(p.truncated).toBe(true);
    expect(p.payloadLength).toBe(100);
  });

  it('options past the snaplen are truncation', () => {
    const b = withByte(bytes(tcp4.syn), IP, 0x4f); // IHL 15: 60 bytes of header
    const p = decodeBytes(1, b.subarray(0, IP + 40), 200);
    expect(p.truncated).toBe(true);
    expect(p.error).toBeNull();
    expect(p.l4Offset).toBe(-1);
  });
});
