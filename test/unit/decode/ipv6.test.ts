import { describe, expect, it } from 'vitest';
import { decodeBytes } from '../../../src/decode/decode.js';
import { SYN } from '../../../src/decode/packet.js';
import { formatAddress } from '../../../src/decode/address.js';
import * as tcp6 from '../../fixtures/decode/tcp6-lo.js';
import * as udp6 from '../../fixtures/decode/udp6-lo.js';
import * as router from '../../fixtures/decode/icmp-router-veth.js';
import { bumpIPv6Length, bytes, decodeFixture, splice, withByte } from './helpers.js';

const IP = 14;

/** Puts extension headers between the fixed header and the TCP header of the real ::1 SYN. */
function withExtensions(first: number, headers: number[][]): Buffer {
  const ext = headers.flat();
  let b = splice(bytes(tcp6.syn), IP + 40, 0, ext);
  b = withByte(b, IP + 6, first);
  return bumpIPv6Length(b, IP, ext.length);
}

describe('IPv6 fixed header', () => {
  it('reads the SYN over ::1', () => {
    // IP6 (flowlabel 0x205e8, hlim 64, next-header TCP (6) payload length: 40) ::1.57852 > ::1.8080
    const p = decodeFixture(tcp6.linkType, tcp6.syn);
    expect(p.net).toBe(6);
    expect(p.addrLength).toBe(16);
    expect(p.ttl).toBe(64);
    expect(p.proto).toBe(6);
    expect(p.ipHeaderLength).toBe(40);
    expect(p.ipTotalLength).toBe(80);
    expect(formatAddress(p.buf, p.srcOffset, 16)).toBe('::1');
    expect(formatAddress(p.buf, p.dstOffset, 16)).toBe('::1');
    expect([p.isFragment, p.ipId]).toEqual([false, 0]);
    expect([p.srcPort, p.dstPort]).toEqual([57852, 8080]);
  });
});

describe('IPv6 extension headers', () => {
  it('walks a real hop-by-hop header (MLD report with router alert)', () => {
    // IP6 (hlim 1, next-header Options (0) payload length: 56) :: > ff02::16: HBH (rtalert: 0x0000) (padn) ICMP6
    const p = decodeFixture(router.linkType, router.mldHopByHop);
    expect(p.error).toBeNull();
    expect(p.proto).toBe(58);
    expect(p.ipHeaderLength).toBe(48);
    expect(p.icmpType).toBe(143); // MLDv2 report
    expect(formatAddress(p.buf, p.dstOffset, 16)).toBe('ff02::16');
  });

  it('walks hop-by-hop, routing, destination options and AH to TCP', () => {
    const b = withExtensions(0, [
      [43, 0, 1, 4, 0, 0, 0, 0], // hop-by-hop, PadN
      [60, 0, 4, 0, 0, 0, 0, 0], // routing type 4, segments left 0
      [51, 0, 1, 4, 0, 0, 0, 0], // destination options
      [6, 4, 0, 0, ...new Array(20).fill(0xab)], // AH: (4 + 2) * 4 = 24 bytes
    ]);
    const p = decodeBytes(1, b);
    expect(p.error).toBeNull();
    expect(p.proto).toBe(6);
    expect(p.ipHeaderLength).toBe(40 + 48);
    expect([p.srcPort, p.dstPort, p.tcpOptions.mss]).toEqual([57852, 8080, 65476]);
  });

  it('no next header (59) ends the walk with no transport', () => {
    const b = withExtensions(60, [[59, 0, 1, 4, 0, 0, 0, 0]]);
    const p = decodeBytes(1, b);
    expect(p.error).toBeNull();
    expect(p.proto).toBe(59);
    expect(p.l4Offset).toBe(-1);
    expect(p.srcPort).toBe(-1);
  });

  it('an extension header longer than the payload length is an error at that header', () => {
    const b = withExtensions(60, [[6, 200, 1, 4, 0, 0, 0, 0]]); // says 1608 bytes
    const p = decodeBytes(1, b);
    expect(p.error).toMatchObject({ layer: 'ipv6', code: 'BAD_EXTENSION_HEADER', offset: IP + 40 });
    expect(p.net).toBe(6); // the fixed header stays decoded
    expect(p.srcPort).toBe(-1);
  });

  it('an extension header cut by the snaplen is truncation', () => {
    const b = withExtensions(60, [[6, 0, 1, 4, 0, 0, 0, 0]]);
    const p = decodeBytes(1, b.subarray(0, IP + 44), b.length);
    expect(p.truncated).toBe(true);
    expect(p.error).toBeNull();
  });
});

describe('IPv6 fragment header (4000 bytes over ::1 with MTU 1500)', () => {
  it('first fragment: id, offset 0, M, ports decoded', () => {
    // frag (0x3bf9a619:0|1448) 40000 > 9000: UDP, length 4000
    const p = decodeFixture(udp6.linkType, udp6.frag1);
    expect([p.isFragment, p.moreFragments, p.fragmentOffset, p.ipId]).toEqual([true, true, 0, 0x3bf9a619]);
    expect(p.proto).toBe(17);
    expect(p.ipHeaderLength).toBe(48);
    expect([p.srcPort, p.dstPort, p.udpLength]).toEqual([40000, 9000, 4008]);
    expect(p.error).toBeNull();
  });

  it('later fragment: no ports, payload is the fragment data', () => {
    // frag (0x3bf9a619:1448|1448)
    const p = decodeFixture(udp6.linkType, udp6.frag2);
    expect([p.isFragment, p.moreFragments, p.fragmentOffset, p.ipId]).toEqual([true, true, 1448, 0x3bf9a619]);
    expect(p.proto).toBe(17);
    expect(p.l4Offset).toBe(-1);
    expect(p.srcPort).toBe(-1);
    expect(p.payloadLength).toBe(1448);
    expect(p.error).toBeNull();
  });

  it('last fragment over a veth: M clear', () => {
    // frag (0xf870e78e:1448|560)
    const p = decodeFixture(router.linkType, router.frag6Second);
    expect([p.isFragment, p.moreFragments, p.fragmentOffset, p.ipId]).toEqual([true, false, 1448, 0xf870e78e]);
    expect(p.payloadLength).toBe(560);
  });
});

describe('IPv6 lengths', () => {
  it('payload length past the frame on the wire is truncation, as tshark reads it', () => {
    const p = decodeBytes(1, bumpIPv6Length(bytes(tcp6.syn), IP, 1));
    expect(p.error).toBeNull();
    expect(p.truncated).toBe(true);
    expect(p.tcpFlags).toBe(SYN);
  });

  it('payload cut by the snaplen is truncation', () => {
    const f = bytes(tcp6.data);
    const p = decodeBytes(1, f.subarray(0, f.length - 3), f.length);
    expect(p.truncated).toBe(true);
    expect(p.error).toBeNull();
    expect(p.payloadLength).toBe(5);
  });

  it('a header cut short is truncation', () => {
    const p = decodeBytes(1, bytes(tcp6.syn).subarray(0, IP + 30), 94);
    expect(p.truncated).toBe(true);
    expect(p.error).toBeNull();
    expect(p.net).toBe(0);
  });
});
