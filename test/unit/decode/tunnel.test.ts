/**
 * Tunnels opened as Wireshark opens them: the connection is keyed by the innermost addresses,
 * the encapsulation recorded in DecodedPacket.encap, the outermost IP header kept at
 * outerIpOffset. Inner packets are the real loopback SYNs; outer headers are written here (the
 * real captures of each tunnel are in test/fixtures/wild, checked against tshark).
 */
import { describe, expect, it } from 'vitest';
import { decodeBytes, decodeInto } from '../../../src/decode/decode.js';
import { describePacket } from '../../../src/decode/describe.js';
import { formatAddress } from '../../../src/decode/address.js';
import { ENCAP_GRE, ENCAP_IP6IP, ENCAP_IPIP, ENCAP_TEREDO, ENCAP_VXLAN, SYN, encapNames } from '../../../src/decode/packet.js';
import type { DecodedPacket } from '../../../src/decode/packet.js';
import * as tcp4 from '../../fixtures/decode/tcp4-lo.js';
import * as tcp6 from '../../fixtures/decode/tcp6-lo.js';
import { bytes } from './helpers.js';

const eth4 = bytes(tcp4.syn);
const ip4 = eth4.subarray(14);
const ip6 = bytes(tcp6.syn).subarray(14);
const hex = (h: string): Buffer => Buffer.from(h.replace(/ /g, ''), 'hex');

/** An outer IPv4 header 10.9.0.1 > 10.9.0.2 with protocol `proto` around `payload` (frag: MF set). */
function outer4(proto: number, payload: Buffer, frag = false): Buffer {
  const h = hex(`4500 0000 1234 ${frag ? '2000' : '4000'} 40 00 0000 0a090001 0a090002`);
  h[9] = proto;
  h.writeUInt16BE(20 + payload.length, 2);
  return Buffer.concat([hex('000000000002 000000000001 0800'), h, payload]);
}

/** An outer UDP header 40000 > `port` around `payload`. */
function udp(port: number, payload: Buffer, src = 40000): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(src, 0);
  h.writeUInt16BE(port, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

function expectInnerSyn(p: DecodedPacket, net: 4 | 6 = 4): void {
  expect(p.error).toBeNull();
  expect(p.truncated).toBe(false);
  expect(p.net).toBe(net);
  expect(p.tcpFlags).toBe(SYN);
  expect(p.srcPort).toBe(net === 4 ? 39006 : 57852);
  expect(formatAddress(p.buf, p.srcOffset, p.addrLength)).toBe(net === 4 ? '127.0.0.1' : '::1');
  expect(p.outerIpOffset).toBe(14);
  expect(formatAddress(p.buf, p.outerIpOffset + 12, 4)).toBe('10.9.0.1');
}

describe('IP in IP', () => {
  it('protocol 4: the inner IPv4 packet is the one decoded', () => {
    // tshark: eth:ethertype:ip:ip:tcp, tcp.stream keyed by 127.0.0.1:39006 -> 127.0.0.1:8080
    const p = decodeBytes(1, outer4(4, ip4));
    expectInnerSyn(p);
    expect(p.ipOffset).toBe(34);
    expect(p.encap).toBe(ENCAP_IPIP);
    expect(describePacket(p)).toMatch(/^IP 10\.9\.0\.1 > 10\.9\.0\.2: ip-in-ip: IP 127\.0\.0\.1\.39006 > 127\.0\.0\.1\.8080: Flags \[S\]/);
  });

  it('protocol 41: IPv6 in IPv4 (6in4, sit)', () => {
    const p = decodeBytes(1, outer4(41, ip6));
    expectInnerSyn(p, 6);
    expect(p.encap).toBe(ENCAP_IP6IP);
  });

  it('an IPv6 outer header carries IPv4 (4, DS-Lite / ip6tnl) and IPv6 (41, 6in6)', () => {
    const outer6 = (nh: number, payload: Buffer): Buffer => {
      const h = hex(`6000 0000 0000 00 40 fd090000000000000000000000000001 fd090000000000000000000000000002`);
      h.writeUInt16BE(payload.length, 4);
      h[6] = nh;
      return Buffer.concat([hex('000000000002 000000000001 86dd'), h, payload]);
    };
    const p = decodeBytes(1, outer6(4, ip4));
    expect([p.net, p.ipOffset, p.outerIpOffset, p.encap, p.srcPort, p.error]).toEqual([4, 54, 14, ENCAP_IPIP, 39006, null]);
    expect(describePacket(p)).toMatch(/^IP6 fd09::1 > fd09::2: ip-in-ip: IP 127\.0\.0\.1\.39006 > /);
    const q = decodeBytes(1, outer6(41, ip6));
    expect([q.net, q.ipOffset, q.encap, q.srcPort, q.error]).toEqual([6, 54, ENCAP_IP6IP, 57852, null]);
  });

  it('a fragmented outer datagram is not opened (its inner packet is in pieces)', () => {
    const p = decodeBytes(1, outer4(4, ip4, true));
    expect([p.net, p.proto, p.l4Offset, p.encap, p.outerIpOffset]).toEqual([4, 4, -1, 0, -1]);
    expect(p.payloadLength).toBe(ip4.length);
  });

  it('an inner packet cut by the snaplen is truncated, the inner header still decoded', () => {
    const f = outer4(4, ip4);
    const p = decodeBytes(1, f.subarray(0, 34 + 20), f.length);
    expect([p.net, p.ipOffset, p.truncated, p.encap]).toEqual([4, 34, true, ENCAP_IPIP]);
    expect(formatAddress(p.buf, p.srcOffset, 4)).toBe('127.0.0.1');
  });

  it('tunnels inside tunnels are opened to the innermost (GRE carrying IPv6-in-IPv4)', () => {
    const p = decodeBytes(1, outer4(47, Buffer.concat([hex('0000 0800'), outer4(41, ip6).subarray(14)])));
    expectInnerSyn(p, 6);
    expect(encapNames(p.encap)).toEqual(['ipv6-in-ip', 'gre']);
  });

  it('decoding the next packet into the same object forgets the tunnel', () => {
    const p = decodeBytes(1, outer4(4, ip4));
    p.buf = eth4;
    p.origLen = eth4.length;
    decodeInto(p);
    expect([p.encap, p.outerIpOffset, p.ipOffset]).toEqual([0, -1, 14]);
  });
});

describe('GRE (47)', () => {
  it('plain GRE carrying IPv4 and IPv6', () => {
    // tshark: ip:gre:ip:tcp
    const p = decodeBytes(1, outer4(47, Buffer.concat([hex('0000 0800'), ip4])));
    expectInnerSyn(p);
    expect(p.ipOffset).toBe(38);
    expect(p.encap).toBe(ENCAP_GRE);
    expectInnerSyn(decodeBytes(1, outer4(47, Buffer.concat([hex('0000 86dd'), ip6]))), 6);
  });

  it('checksum, key and sequence number fields are skipped', () => {
    const p = decodeBytes(1, outer4(47, Buffer.concat([hex('b000 0800 abcd0000 0000002a 00000007'), ip4])));
    expectInnerSyn(p);
    expect(p.ipOffset).toBe(34 + 16);
  });

  it('Ethernet inside (0x6558, gretap / NVGRE)', () => {
    const p = decodeBytes(1, outer4(47, Buffer.concat([hex('2000 6558 00000100'), eth4])));
    expectInnerSyn(p);
    expect(p.ipOffset).toBe(34 + 8 + 14);
  });

  it('PPTP enhanced GRE (version 1) carrying PPP', () => {
    const p = decodeBytes(1, outer4(47, Buffer.concat([hex('3001 880b 0000 0001 00000003'), hex('ff03 0021'), ip4])));
    p.buf.writeUInt16BE(4 + ip4.length, 38); // the payload length field
    decodeInto(p);
    expectInnerSyn(p);
  });

  it('a GRE header longer than the IP payload is an error on layer tunnel; other protocols stay GRE', () => {
    const bad = decodeBytes(1, outer4(47, hex('b000 0800 abcd')));
    expect(bad.error).toMatchObject({ layer: 'tunnel', code: 'BAD_GRE', offset: 34 });
    const mpls = decodeBytes(1, outer4(47, Buffer.concat([hex('0000 8847'), ip4])));
    expect([mpls.net, mpls.proto, mpls.l4Offset, mpls.error, mpls.encap]).toEqual([4, 47, -1, null, 0]);
    // Ethernet inside carrying ARP behind a VLAN tag: the packet stays the GRE one, nothing of the inside kept.
    const arp = hex('ffffffffffff 020000000001 8100 0009 0806 0001 0800 0604 0001 020000000001 0a000001 000000000000 0a000002');
    const g = decodeBytes(1, outer4(47, Buffer.concat([hex('0000 6558'), arp])));
    expect([g.net, g.proto, g.l4Offset, g.encap, g.etherType, g.vlan, g.outerIpOffset]).toEqual([4, 47, -1, 0, 0x0800, -1, -1]);
    expect(g.payloadLength).toBe(4 + arp.length);
  });
});

describe('VXLAN (UDP 4789) and Teredo (UDP 3544)', () => {
  it('VXLAN: 8-byte header, then an Ethernet frame', () => {
    // tshark: ip:udp:vxlan:eth:ethertype:ip:tcp
    const p = decodeBytes(1, outer4(17, udp(4789, Buffer.concat([hex('08000000 00002a00'), eth4]))));
    expectInnerSyn(p);
    expect(p.encap).toBe(ENCAP_VXLAN);
    expect(p.ipOffset).toBe(34 + 8 + 8 + 14);
  });

  it('VXLAN carrying ARP stays the UDP datagram it is', () => {
    const arp = hex('ffffffffffff 020000000001 0806 0001 0800 0604 0001 020000000001 0a000001 000000000000 0a000002');
    const p = decodeBytes(1, outer4(17, udp(4789, Buffer.concat([hex('08000000 00002a00'), arp]))));
    expect([p.net, p.proto, p.dstPort, p.encap, p.outerIpOffset]).toEqual([4, 17, 4789, 0, -1]);
  });

  it('Teredo: IPv6 straight in UDP, or after an origin indication or authentication header', () => {
    // tshark: ip:udp:teredo:ipv6:tcp
    for (const pre of ['', '0000 0d96 c0000201', '0001 0000 0102030405060708 00']) {
      const p = decodeBytes(1, outer4(17, udp(3544, Buffer.concat([hex(pre), ip6]))));
      expectInnerSyn(p, 6);
      expect(p.encap).toBe(ENCAP_TEREDO);
    }
    const fromServer = decodeBytes(1, outer4(17, udp(51000, ip6, 3544)));
    expectInnerSyn(fromServer, 6);
  });

  it('a UDP datagram on 3544 that is not IPv6 stays UDP', () => {
    const p = decodeBytes(1, outer4(17, udp(3544, Buffer.from('not teredo at all, just some bytes long enough to look at'))));
    expect([p.net, p.proto, p.dstPort, p.encap, p.error]).toEqual([4, 17, 3544, 0, null]);
  });
});
