import { describe, expect, it } from 'vitest';
import { decodeBytes, decodeInto } from '../../../src/decode/decode.js';
import { ACK, AE, CWR, ECE, FIN, PSH, SYN } from '../../../src/decode/packet.js';
import * as tcp4 from '../../fixtures/decode/tcp4-lo.js';
import * as tcp6 from '../../fixtures/decode/tcp6-lo.js';
import * as sack from '../../fixtures/decode/tcp-sack-lo.js';
import * as tfo from '../../fixtures/decode/tcp-tfo-lo.js';
import { describePacket } from '../../../src/decode/describe.js';
import { bytes, decodeFixture, withByte } from './helpers.js';

const TCP = 14 + 20; // TCP header offset in the IPv4 loopback frames
const CLIENT_ISN = 3591254835; // tcp4-lo: seq of the SYN

describe('TCP header', () => {
  it('SYN: ports, seq, flags, window, options', () => {
    // Flags [S], seq 3591254835, win 65495, options [mss 65495,sackOK,TS val 1116241564 ecr 0,nop,wscale 10], length 0
    const p = decodeFixture(tcp4.linkType, tcp4.syn);
    expect(p.error).toBeNull();
    expect([p.srcPort, p.dstPort, p.seq, p.tcpFlags, p.window]).toEqual([39006, 8080, CLIENT_ISN, SYN, 65495]);
    expect(p.tcpHeaderLength).toBe(40);
    expect(p.payloadLength).toBe(0);
    const o = p.tcpOptions;
    expect([o.mss, o.wscale, o.sackPermitted, o.hasTimestamps, o.tsVal, o.tsEcr]).toEqual([65495, 10, true, true, 1116241564, 0]);
    expect([o.sackCount, o.tfoPresent, o.unknownCount]).toEqual([0, false, 0]);
  });

  it('SYN-ACK: ack of ISN + 1', () => {
    // Flags [S.], seq 880376971, ack 3591254836, win 65483, options [..., TS val 4264626619 ecr 1116241564, ...]
    const p = decodeFixture(tcp4.linkType, tcp4.synAck);
    expect([p.seq, p.ack, p.tcpFlags, p.window]).toEqual([880376971, CLIENT_ISN + 1, SYN | ACK, 65483]);
    expect([p.tcpOptions.tsVal, p.tcpOptions.tsEcr]).toEqual([4264626619, 1116241564]);
  });

  it('data: payload length from the IP total length, offset after the options', () => {
    // Flags [P.], seq 1:6, ack 1, win 64, options [nop,nop,TS val ...], length 5
    const p = decodeFixture(tcp4.linkType, tcp4.data);
    expect([p.seq, p.ack, p.tcpFlags, p.window]).toEqual([CLIENT_ISN + 1, 880376972, PSH | ACK, 64]);
    expect(p.tcpHeaderLength).toBe(32);
    expect(p.payloadOffset).toBe(TCP + 32);
    expect(p.payloadLength).toBe(5);
    expect(p.buf.subarray(p.payloadOffset, p.payloadOffset + 5).toString()).toBe('hello');
    expect([p.tcpOptions.mss, p.tcpOptions.wscale, p.tcpOptions.sackPermitted]).toEqual([-1, -1, false]);
  });

  it('FIN', () => {
    const p = decodeFixture(tcp4.linkType, tcp4.fin);
    expect(p.tcpFlags).toBe(FIN | ACK);
    expect(p.seq).toBe(CLIENT_ISN + 6);
  });

  it('over IPv6 too', () => {
    // ::1.57852 > ::1.8080: Flags [P.], seq 1:6 ... length 5
    const p = decodeFixture(tcp6.linkType, tcp6.data);
    expect([p.srcPort, p.dstPort, p.payloadLength, p.seq]).toEqual([57852, 8080, 5, 649975862]);
  });

  it('ECE, CWR and AE (the old NS bit) are flags too', () => {
    let b = withByte(bytes(tcp4.syn), TCP + 13, 0xc2); // CWR | ECE | SYN
    b = withByte(b, TCP + 12, b[TCP + 12]! | 1); // AE
    const p = decodeBytes(1, b);
    expect(p.tcpFlags).toBe(SYN | ECE | CWR | AE);
    expect(p.tcpHeaderLength).toBe(40); // AE does not disturb the data offset
    expect(p.error).toBeNull();
  });
});

describe('TCP options', () => {
  it('SACK blocks from a real duplicate ACK after a dropped segment', () => {
    // Flags [.], seq 1, ack 28961, win 88, options [nop,nop,TS val 3849399720 ecr 730160071,nop,nop,sack 1 {50681:72401}]
    const isn = 3347130752; // the sender's ISN in tcp-sack-lo.pcap (packet 1)
    const p = decodeFixture(sack.linkType, sack.sackAck);
    expect(p.error).toBeNull();
    expect(p.ack).toBe(isn + 28961);
    expect(p.tcpOptions.sackCount).toBe(1);
    expect([p.tcpOptions.sack[0], p.tcpOptions.sack[1]]).toEqual([isn + 50681, isn + 72401]);
    expect(p.tcpOptions.tsVal).toBe(3849399720);
  });

  it('TFO cookie request (kind 34, no cookie)', () => {
    // options [mss 65495,sackOK,TS val 3760346175 ecr 0,nop,wscale 10,tfo  cookiereq,nop,nop]
    const p = decodeFixture(tfo.linkType, tfo.cookieRequest);
    expect(p.error).toBeNull();
    expect([p.tcpOptions.tfoPresent, p.tcpOptions.tfoCookieOffset, p.tcpOptions.tfoCookieLength]).toEqual([true, -1, 0]);
    expect(p.tcpOptions.mss).toBe(65495);
  });

  it('TFO cookie in the SYN-ACK', () => {
    // options [..., tfo  cookie 8aea5a027402b57e,nop,nop]
    const p = decodeFixture(tfo.linkType, tfo.synAckCookie);
    const o = p.tcpOptions;
    expect(o.tfoPresent).toBe(true);
    expect(o.tfoCookieLength).toBe(8);
    expect(p.buf.subarray(o.tfoCookieOffset, o.tfoCookieOffset + 8).toString('hex')).toBe('8aea5a027402b57e');
  });

  it('TFO SYN carrying data', () => {
    // Flags [S], seq 595192947:595192952, ..., tfo  cookie 8aea5a027402b57e,nop,nop], length 5
    const p = decodeFixture(tfo.linkType, tfo.synWithData);
    expect(p.tcpFlags).toBe(SYN);
    expect(p.payloadLength).toBe(5);
    expect(p.buf.subarray(p.payloadOffset, p.payloadOffset + 5).toString()).toBe('tfo-1');
    expect(p.tcpOptions.tfoCookieLength).toBe(8);
  });

  it('experimental TFO (kind 254, magic 0xF989)', () => {
    // The real cookie request with "22 02 01 01" (tfo cookiereq, nop, nop) rewritten to "fe 04 f9 89".
    const b = bytes(tfo.cookieRequest);
    const at = b.indexOf(Buffer.from('22020101', 'hex'), TCP + 20);
    Buffer.from('fe04f989', 'hex').copy(b, at);
    const p = decodeBytes(1, b);
    expect(p.error).toBeNull();
    expect([p.tcpOptions.tfoPresent, p.tcpOptions.tfoCookieOffset, p.tcpOptions.unknownCount]).toEqual([true, -1, 0]);
  });

  it('kind 254 without the TFO magic, and other kinds, are kept raw as unknown', () => {
    // The ACK's leading "01 01" (nop,nop) rewritten to "4c 02": an unknown kind 76, length 2.
    const b = withByte(withByte(bytes(tcp4.data), TCP + 20, 0x4c), TCP + 21, 0x02);
    const p = decodeBytes(1, b);
    expect(p.error).toBeNull();
    expect(p.tcpOptions.unknownCount).toBe(1);
    expect(p.tcpOptions.unknown[0]).toEqual({ kind: 76, offset: TCP + 20, length: 2 });
    expect(p.tcpOptions.hasTimestamps).toBe(true);

    // Decoding into the same object reuses the array rather than growing it.
    decodeInto(p);
    decodeInto(p);
    expect(p.tcpOptions.unknown.length).toBe(1);
    expect(p.tcpOptions.unknownCount).toBe(1);
  });

  it('an option length running past the header is a malformed option; the fixed header and the segment stay', () => {
    const b = withByte(bytes(tcp4.syn), TCP + 21, 0x30); // MSS says 48 bytes
    const p = decodeBytes(1, b);
    expect(p.error).toMatchObject({ layer: 'tcp-option', code: 'BAD_OPTION', offset: TCP + 20 });
    expect(p.tcpOptions.badOffset).toBe(TCP + 20);
    expect(p.payloadOffset).toBe(TCP + 40);
    expect(p.payloadLength).toBe(0);
    expect([p.srcPort, p.dstPort, p.seq, p.tcpFlags]).toEqual([39006, 8080, CLIENT_ISN, SYN]);
    expect(p.net).toBe(4);
  });

  it('an option length < 2 is a malformed option', () => {
    const b = withByte(bytes(tcp4.syn), TCP + 21, 0x01);
    expect(decodeBytes(1, b).error).toMatchObject({ layer: 'tcp-option', code: 'BAD_OPTION', offset: TCP + 20 });
  });

  it('a known option with the wrong length is a malformed option; the options before it stay', () => {
    // wscale at TCP+37 (kind 3): length 3 -> 2 (the next byte becomes part of the stream of options)
    const b = withByte(bytes(tcp4.syn), TCP + 38, 0x02);
    const p = decodeBytes(1, b);
    expect(p.error).toMatchObject({ layer: 'tcp-option', code: 'BAD_OPTION', offset: TCP + 37 });
    expect(p.tcpOptions.mss).toBe(65495);
    expect(p.tcpOptions.hasTimestamps).toBe(true);
    expect(p.tcpOptions.wscale).toBe(-1);
  });

  it('a timestamps option of length 8 (seen in the wild) keeps the SYN: malformed option, describe shows it bad', () => {
    // TS at TCP+26 (after mss and sackOK; kind 8, length 10) -> length 8
    const b = withByte(bytes(tcp4.syn), TCP + 27, 0x08);
    const p = decodeBytes(1, b);
    expect(p.error).toMatchObject({ layer: 'tcp-option', code: 'BAD_OPTION', offset: TCP + 26 });
    expect(p.tcpOptions.badOffset).toBe(TCP + 26);
    expect(p.tcpOptions.hasTimestamps).toBe(false);
    expect([p.tcpFlags, p.seq, p.tcpHeaderLength]).toEqual([SYN, CLIENT_ISN, 40]);
    expect(describePacket(p)).toContain('options [mss 65495,sackOK,bad opt 8]');
    expect(describePacket(p)).toContain('[bad tcp-option at byte');
    decodeInto(p); // the next packet into the same object starts clean
    expect(p.tcpOptions.badOffset).toBe(TCP + 26);
    p.buf = bytes(tcp4.syn);
    decodeInto(p);
    expect(p.tcpOptions.badOffset).toBe(-1);
    expect(p.error).toBeNull();
  });

  it('options cut by the snaplen are truncation; what fits is decoded', () => {
    const p = decodeBytes(1, bytes(tcp4.syn).subarray(0, TCP + 26), 74);
    expect(p.truncated).toBe(true);
    expect(p.error).toBeNull();
    expect(p.tcpOptions.mss).toBe(65495);
    expect(p.tcpOptions.hasTimestamps).toBe(false);
  });
});

describe('TCP headers that lie', () => {
  it('data offset < 5 is an error at byte 12; ports and seq stay', () => {
    const p = decodeBytes(1, withByte(bytes(tcp4.syn), TCP + 12, 0x40));
    expect(p.error).toMatchObject({ layer: 'tcp', code: 'BAD_DATA_OFFSET', offset: TCP + 12 });
    expect([p.srcPort, p.seq, p.ttl]).toEqual([39006, CLIENT_ISN, 64]);
  });

  it('data offset past the segment is an error', () => {
    const p = decodeBytes(1, withByte(bytes(tcp4.syn), TCP + 12, 0xf0)); // 60 > 40
    expect(p.error).toMatchObject({ layer: 'tcp', code: 'BAD_DATA_OFFSET', offset: TCP + 12 });
  });

  it('an IP payload shorter than 20 bytes cannot hold a TCP header', () => {
    const b = Buffer.from(bytes(tcp4.syn));
    b.writeUInt16BE(20 + 12, 14 + 2);
    const p = decodeBytes(1, b);
    expect(p.error).toMatchObject({ layer: 'tcp', code: 'SHORT_SEGMENT', offset: TCP });
  });

  it('a real snaplen-cut data segment (-s 128) is truncated, payload length from IP', () => {
    const p = decodeFixture(sack.linkType, sack.bigData);
    expect(p.truncated).toBe(true);
    expect(p.error).toBeNull();
    expect(p.payloadLength).toBe(7240);
    expect(p.tcpFlags).toBe(PSH | ACK);
  });
});
