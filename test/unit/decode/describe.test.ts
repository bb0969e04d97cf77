import { describe, expect, it } from 'vitest';
import { decodeBytes } from '../../../src/decode/decode.js';
import { describePacket, tcpFlagsText } from '../../../src/decode/describe.js';
import { ACK, AE, CWR, ECE, FIN, PSH, RST, SYN, URG } from '../../../src/decode/packet.js';
import * as tcp4 from '../../fixtures/decode/tcp4-lo.js';
import * as udp4 from '../../fixtures/decode/udp4-lo.js';
import * as udp6 from '../../fixtures/decode/udp6-lo.js';
import * as tfo from '../../fixtures/decode/tcp-tfo-lo.js';
import * as router from '../../fixtures/decode/icmp-router-veth.js';
import { bytes, decodeFixture, splice, withByte } from './helpers.js';

// (describePacket is also checked line by line against tcpdump -nn -S -t in decode.test.ts.)
describe('describePacket', () => {
  it('prints a SYN the way tcpdump -nn -S does', () => {
    expect(describePacket(decodeFixture(1, tcp4.syn))).toBe(
      'IP 127.0.0.1.39006 > 127.0.0.1.8080: Flags [S], seq 3591254835, win 65495, options [mss 65495,sackOK,TS val 1116241564 ecr 0,nop,wscale 10], length 0',
    );
  });

  it('prints TFO options as tcpdump does', () => {
    expect(describePacket(decodeFixture(1, tfo.cookieRequest))).toContain('wscale 10,tfo  cookiereq,nop,nop]');
  });

  it('flag letters in tcpdump order, AE as e', () => {
    expect(tcpFlagsText(SYN | ACK)).toBe('S.');
    expect(tcpFlagsText(FIN | PSH | ACK)).toBe('FP.');
    expect(tcpFlagsText(RST)).toBe('R');
    expect(tcpFlagsText(SYN | ECE | CWR | AE | URG)).toBe('SUEWe');
    expect(tcpFlagsText(0)).toBe('none');
  });

  it('shows fragments with id, size, offset and more-fragments', () => {
    expect(describePacket(decodeFixture(1, udp4.frag2))).toBe('IP 127.0.0.1 > 127.0.0.1: ip-proto-17, length 1480 (frag 27322:1480@1480+)');
    expect(describePacket(decodeFixture(1, udp6.frag2))).toBe(`IP6 ::1 > ::1: ip-proto-17, length 1448 (frag ${0x3bf9a619}:1448@1448+)`);
  });

  it('names ARP and VLAN tags', () => {
    expect(describePacket(decodeFixture(1, router.arp))).toBe('ethertype ARP (0x0806), length 42');
    const tagged = decodeBytes(1, splice(bytes(udp4.small), 12, 0, [0x81, 0x00, 0x00, 0x07]));
    expect(describePacket(tagged)).toBe('vlan 7, IP 127.0.0.1.40000 > 127.0.0.1.9000: UDP, length 5');
  });

  it('says truncated and names the layer, byte and lie of an error', () => {
    const f = bytes(tcp4.data);
    expect(describePacket(decodeBytes(1, f.subarray(0, f.length - 2), f.length))).toMatch(/length 5 \[truncated\]$/);
    const bad = describePacket(decodeBytes(1, withByte(f, 34 + 12, 0x30)));
    expect(bad).toBe('IP 127.0.0.1.39006 > 127.0.0.1.8080: Flags [P.], ack 880376972, win 64 [bad tcp at byte 46: TCP data offset 3 (< 5)]');
    expect(describePacket(decodeBytes(147, f))).toMatch(/^\[bad link at byte 0: link type 147 /);
  });
});

describe('describePacket on damaged options', () => {
  it('a timestamps option with length 2 prints as a bad option instead of reading past the header', () => {
    // Found by the fuzz test (seed -805618836): tcp4.data with byte 57 set to 2 and the frame cut at 58.
    const b = Buffer.from(bytes(tcp4.data));
    b[57] = 2;
    const p = decodeBytes(1, b.subarray(0, 58), b.length);
    expect(p.error?.code).toBe('BAD_OPTION');
    expect(describePacket(p)).toContain('bad opt 8');
  });
});
