/**
 * The rarer link types and encapsulations (issue 14), each around the real loopback SYN of
 * tcp4-lo / tcp6-lo. The framing bytes are written by hand (no kernel here makes PPP, HDLC,
 * FDDI or IPoIB frames); the whole-file fixtures in test/fixtures/wild are checked against tshark
 * connection by connection in test/unit/analyze/wild-captures.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { decodeBytes } from '../../../src/decode/decode.js';
import { describePacket } from '../../../src/decode/describe.js';
import { DECODED_LINK_TYPES } from '../../../src/decode/link.js';
import { ENCAP_LLC_SNAP, ENCAP_PPPOE, ENCAP_VLAN, SYN } from '../../../src/decode/packet.js';
import type { DecodedPacket } from '../../../src/decode/packet.js';
import { DECODABLE_LINK_TYPES } from '../../../src/capture/link-types.js';
import * as tcp4 from '../../fixtures/decode/tcp4-lo.js';
import * as tcp6 from '../../fixtures/decode/tcp6-lo.js';
import { bytes } from './helpers.js';

const ip4 = bytes(tcp4.syn).subarray(14);
const ip6 = bytes(tcp6.syn).subarray(14);
const hex = (h: string): Buffer => Buffer.from(h.replace(/ /g, ''), 'hex');
const frame = (head: string, ip: Buffer, tail = ''): Buffer => Buffer.concat([hex(head), ip, hex(tail)]);

function expectSyn(p: DecodedPacket, ipOffset: number, net: 4 | 6 = 4): void {
  expect(p.error).toBeNull();
  expect(p.truncated).toBe(false);
  expect(p.net).toBe(net);
  expect(p.ipOffset).toBe(ipOffset);
  expect(p.tcpFlags).toBe(SYN);
  expect(p.srcPort).toBe(net === 4 ? 39006 : 57852);
}

describe('PPP (9) and PPP in HDLC-like framing (50)', () => {
  it('address/control ff 03, protocol 0x0021: IPv4 at 4', () => {
    // tshark: PPP, Protocol: Internet Protocol version 4 (0x0021) / 127.0.0.1 -> 127.0.0.1 TCP 39006 -> 8080 [SYN]
    expectSyn(decodeBytes(9, frame('ff03 0021', ip4)), 4);
    expectSyn(decodeBytes(50, frame('ff03 0021', ip4)), 4);
  });

  it('protocol 0x0057 is IPv6; compressed address/control and a one-byte protocol are read too', () => {
    expectSyn(decodeBytes(9, frame('ff03 0057', ip6)), 4, 6);
    expectSyn(decodeBytes(9, frame('0021', ip4)), 2); // ACFC
    expectSyn(decodeBytes(9, frame('21', ip4)), 1); // ACFC + PFC
  });

  it('LCP is not IP and not an error; a header cut short is truncation', () => {
    const lcp = decodeBytes(9, hex('ff03 c021 0101 0004'));
    expect([lcp.net, lcp.error, lcp.truncated]).toEqual([0, null, false]);
    const cut = decodeBytes(9, hex('ff03 00'), 64);
    expect([cut.net, cut.truncated]).toEqual([0, true]);
  });
});

describe('PPPoE session frames (Ethernet 0x8864, and link type 51)', () => {
  const pppoe = 'ffffffffffff 020000000001 8864 1100 0001 0042 0021';

  it('Ethernet 0x8864: version/type 0x11, code 0, session, length, PPP protocol: IPv4 at 22, noted as PPPoE', () => {
    // tshark: eth:ethertype:pppoes:ppp:ip:tcp
    const p = decodeBytes(1, frame(pppoe, ip4));
    expectSyn(p, 22);
    expect(p.encap).toBe(ENCAP_PPPOE);
    expect(describePacket(p)).toMatch(/^PPPoE, IP 127\.0\.0\.1\.39006 > 127\.0\.0\.1\.8080: Flags \[S\]/);
  });

  it('behind an 802.1Q tag, and as link type 51 (no Ethernet header)', () => {
    const p = decodeBytes(1, frame('ffffffffffff 020000000001 8100 0007 8864 1100 0001 0042 0057', ip6));
    expectSyn(p, 26, 6);
    expect(p.encap).toBe(ENCAP_VLAN | ENCAP_PPPOE);
    expect(p.vlan).toBe(7);
    expectSyn(decodeBytes(51, frame('1100 0001 0042 0021', ip4)), 8);
  });

  it('a session header with the wrong version/type is a link error; discovery (0x8863) is not IP', () => {
    const bad = decodeBytes(1, frame('ffffffffffff 020000000001 8864 2100 0001 0042 0021', ip4));
    expect(bad.error).toMatchObject({ layer: 'link', code: 'BAD_PPPOE', offset: 14 });
    const padi = decodeBytes(1, hex('ffffffffffff 020000000001 8863 1109 0000 0004 0101 0000'));
    expect([padi.net, padi.error, padi.etherType]).toEqual([0, null, 0x8863]);
  });
});

describe('Cisco HDLC (104)', () => {
  it('address 0x0f, control 0, ethertype: IP at 4', () => {
    // tshark: chdlc:ip:tcp
    expectSyn(decodeBytes(104, frame('0f00 0800', ip4)), 4);
    expectSyn(decodeBytes(104, frame('8f00 86dd', ip6)), 4, 6);
    const slarp = decodeBytes(104, hex('8f00 8035 0000 0000'));
    expect([slarp.net, slarp.error]).toEqual([0, null]);
  });
});

describe('802.2 LLC / SNAP: FDDI (10) and 802.3 frames', () => {
  it('FDDI: frame control 0x50, two addresses, LLC AA AA 03, OUI 0, ethertype: IP at 21', () => {
    // tshark: fddi:llc:ip:tcp
    const p = decodeBytes(10, frame('50 ffffffffffff 020000000001 aaaa03 000000 0800', ip4));
    expectSyn(p, 21);
    expect(p.encap).toBe(ENCAP_LLC_SNAP);
    const smt = decodeBytes(10, frame('41 ffffffffffff 020000000001', Buffer.alloc(20)));
    expect([smt.net, smt.error]).toEqual([0, null]);
  });

  it('Ethernet with an 802.3 length and SNAP: IP at 22; other LLC (STP) is not IP', () => {
    const p = decodeBytes(1, frame('ffffffffffff 020000000001 0044 aaaa03 000000 0800', ip4));
    expectSyn(p, 22);
    expect(p.encap).toBe(ENCAP_LLC_SNAP);
    const stp = decodeBytes(1, hex('0180c2000000 020000000001 0026 424203 0000 0000'));
    expect([stp.net, stp.error, stp.encap]).toEqual([0, null, 0]);
  });
});

describe('IP over InfiniBand (242)', () => {
  // Wireshark's reading (packet-ipoib.c): a 40-byte pseudo-header, then RFC 4391's 4 bytes.
  const daddr = '00'.repeat(20) + '00 000048 fe800000000000000002c90300a1b2c3'; // sent: zero, then QPN and DGID
  const grh = '6000 0000 0000 1b40 fe800000000000000002c90300d4e5f6 fe800000000000000002c90300a1b2c3'; // received
  it('pseudo-header, ethertype, reserved: IP at 44', () => {
    // tshark: ipoib:ip:tcp
    expectSyn(decodeBytes(242, frame(`${daddr} 0800 0000`, ip4)), 44);
    expectSyn(decodeBytes(242, frame(`${grh} 86dd 0000`, ip6)), 44, 6);
  });

  it('a frame shorter than the 44 header bytes is truncation', () => {
    expect(decodeBytes(242, hex(`${daddr} 08`), 100).truncated).toBe(true);
  });
});

describe('NFLOG (239): TLVs in the capturing host\'s byte order, the packet in NFULA_PAYLOAD (9)', () => {
  // family 2 (AF_INET), version 0, resource id 5 (big-endian); then TLVs.
  const le = '02 00 0005  0800 0100 0800 0300  0800 0400 01000000  0800 0a00 77 6c 00 00';
  it('little-endian TLVs (x86 tcpdump -i nflog:5): the payload TLV comes after the others', () => {
    const len = (4 + ip4.length).toString(16).padStart(4, '0');
    const p = decodeBytes(239, frame(`${le} ${len.slice(2)}${len.slice(0, 2)} 0900`, ip4));
    expectSyn(p, 4 + 8 + 8 + 8 + 4);
  });

  it('big-endian TLVs, AF_INET6', () => {
    const len = (4 + ip6.length).toString(16).padStart(4, '0');
    const p = decodeBytes(239, frame(`0a 00 0005 0008 0001 08000300 ${len} 0009`, ip6));
    expectSyn(p, 16, 6);
  });

  it('a TLV length < 4 is a link error; no payload TLV is not IP', () => {
    expect(decodeBytes(239, hex('02000005 0200 0100')).error).toMatchObject({ layer: 'link', code: 'BAD_NFLOG', offset: 4 });
    const none = decodeBytes(239, hex('02000005 0800 0100 08000300'));
    expect([none.net, none.error, none.truncated]).toEqual([0, null, false]);
  });
});

describe('the link types the decoder reads', () => {
  it('are the ones the capture reader names as decodable (no UNKNOWN_LINK_TYPE note for them)', () => {
    expect([...DECODABLE_LINK_TYPES].sort((a, b) => a - b)).toEqual([...DECODED_LINK_TYPES].sort((a, b) => a - b));
    for (const lt of DECODED_LINK_TYPES) expect(decodeBytes(lt, Buffer.alloc(64)).error?.code, `link type ${lt}`).not.toBe('UNKNOWN_LINK_TYPE');
  });
});
