import { describe, expect, it } from 'vitest';
import { decodeBytes } from '../../../src/decode/decode.js';
import * as udp4 from '../../fixtures/decode/udp4-lo.js';
import * as udp6 from '../../fixtures/decode/udp6-lo.js';
import { bumpIPv4Length, bytes, decodeFixture, withU16 } from './helpers.js';

const UDP = 14 + 20;

describe('UDP', () => {
  it('reads ports, length and payload', () => {
    // 127.0.0.1.40000 > 127.0.0.1.9000: UDP, length 5
    const p = decodeFixture(udp4.linkType, udp4.small);
    expect(p.error).toBeNull();
    expect([p.proto, p.srcPort, p.dstPort, p.udpLength, p.payloadLength]).toEqual([17, 40000, 9000, 13, 5]);
    expect(p.payloadOffset).toBe(UDP + 8);
    expect(p.buf.subarray(p.payloadOffset, p.payloadOffset + 5).toString()).toBe('hello');
  });

  it('over IPv6', () => {
    const p = decodeFixture(udp6.linkType, udp6.small);
    expect([p.net, p.srcPort, p.dstPort, p.udpLength, p.payloadLength]).toEqual([6, 40000, 9000, 13, 5]);
  });

  it('first fragment: UDP length is the datagram, payload what this fragment carries', () => {
    // IP (id 27322, offset 0, flags [+], length 1500) 127.0.0.1.40000 > 127.0.0.1.9000: UDP, length 4000
    const p = decodeFixture(udp4.linkType, udp4.frag1);
    expect(p.error).toBeNull();
    expect([p.udpLength, p.payloadLength]).toEqual([4008, 1472]);
  });

  it('a UDP length larger than the IP payload is an error at the length field', () => {
    const p = decodeBytes(1, withU16(bytes(udp4.small), UDP + 4, 14));
    expect(p.error).toMatchObject({ layer: 'udp', code: 'BAD_UDP_LENGTH', offset: UDP + 4 });
    expect([p.srcPort, p.dstPort]).toEqual([40000, 9000]); // the fields before it stay
    expect(p.net).toBe(4);
  });

  it('a UDP length below 8 is an error', () => {
    const p = decodeBytes(1, withU16(bytes(udp4.small), UDP + 4, 4));
    expect(p.error).toMatchObject({ layer: 'udp', code: 'BAD_UDP_LENGTH', offset: UDP + 4 });
  });

  it('a UDP length below the IP payload is what Linux accepts (it trims): no error, the UDP length wins', () => {
    let b: Buffer = Buffer.concat([bytes(udp4.small), Buffer.from('xyz')]);
    b = bumpIPv4Length(b, 14, 3);
    const p = decodeBytes(1, b);
    expect(p.error).toBeNull();
    expect(p.payloadLength).toBe(5);
  });

  it('a first fragment whose UDP length is less than its own data is an error', () => {
    const p = decodeBytes(1, withU16(bytes(udp4.frag1), UDP + 4, 100));
    expect(p.error).toMatchObject({ layer: 'udp', code: 'BAD_UDP_LENGTH' });
  });

  it('an IP payload shorter than 8 bytes is an error', () => {
    const b = withU16(bytes(udp4.small), 14 + 2, 20 + 6);
    expect(decodeBytes(1, b).error).toMatchObject({ layer: 'udp', code: 'SHORT_DATAGRAM', offset: UDP });
  });

  it('cut by the snaplen: truncated, lengths from the headers', () => {
    const f = bytes(udp4.small);
    const p = decodeBytes(1, f.subarray(0, UDP + 8 + 2), f.length);
    expect(p.truncated).toBe(true);
    expect(p.error).toBeNull();
    expect(p.payloadLength).toBe(5);
    const q = decodeBytes(1, f.subarray(0, UDP + 6), f.length);
    expect(q.truncated).toBe(true);
    expect([q.srcPort, q.dstPort, q.udpLength]).toEqual([40000, 9000, 0]);
  });
});
