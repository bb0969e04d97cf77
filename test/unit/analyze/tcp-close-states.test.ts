/**
 * Synthetic segment lists for each close kind, reused 4-tuples, handshake retransmissions and
 * RST cases: the connection facts and each side's RFC 9293 state sequence.
 */
import { describe, expect, test } from 'vitest';
import { Conv, SYN, ACK, FIN, PSH, RST, analyzeFrames } from './build.js';
import type { TcpConnection } from '../../../src/analyze/model.js';

const C = 3626544836; // ISNs near the top of the space: relative numbers must wrap correctly
const S = 4294967000;
const c1 = (C + 1) >>> 0;
const s1 = (S + 1) >>> 0;

function path(c: TcpConnection, side: 'client' | 'server'): string {
  return c.statePath[side].join(' ');
}

function open(k = new Conv()): Conv {
  return k.cs(0, SYN, C, 0, 0, { mss: 65495, wscale: 7, sackPerm: true, ts: [1, 0] })
    .sc(0.00004, SYN | ACK, S, c1, 0, { mss: 65495, wscale: 7, sackPerm: true, ts: [1, 1] })
    .cs(0.00008, ACK, c1, s1);
}

describe('close kinds and endpoint states', () => {
  test('four-way close initiated by the client', () => {
    const k = open().cs(0.01, PSH | ACK, c1, s1, 5).sc(0.0101, ACK, s1, (c1 + 5) >>> 0)
      .cs(0.02, FIN | ACK, (c1 + 5) >>> 0, s1).sc(0.0201, ACK, s1, (c1 + 6) >>> 0)
      .sc(0.03, FIN | ACK, s1, (c1 + 6) >>> 0).cs(0.0301, ACK, (c1 + 6) >>> 0, (s1 + 1) >>> 0);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.handshake).toMatchObject({ complete: true, clientIsn: C, serverIsn: S, synRetransmits: 0, dataInThirdSegment: false });
    expect(c!.handshake.rttMs).toBeCloseTo(0.08, 5);
    expect(c!.close).toMatchObject({ kind: 'four-way', initiator: 'client', lastAckTime: 0.0301 });
    expect(c!.timeWait).toBe('client');
    expect(path(c!, 'client')).toBe('CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT');
    expect(path(c!, 'server')).toBe('CLOSED LISTEN SYN_RCVD ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED');
    // each transition names the packet that caused it
    expect(c!.states.client.map((t) => t.packet)).toEqual([1, 3, 6, 7, 9]);
    // the server is CLOSE_WAIT from the FIN it received (packet 6), not from its ACK (7)
    expect(c!.states.server.map((t) => t.packet)).toEqual([null, 2, 3, 6, 8, 9]);
    expect(c!.segments[1]!.relAck).toBe(1);
    expect(c!.segments[3]!.relSeq).toBe(1);
  });

  test('three-way close (FIN and ACK folded) initiated by the server', () => {
    const k = open().sc(0.02, FIN | ACK, s1, c1).cs(0.0201, FIN | ACK, c1, (s1 + 1) >>> 0).sc(0.0202, ACK, (s1 + 1) >>> 0, (c1 + 1) >>> 0);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.close.kind).toBe('three-way');
    expect(c!.close.initiator).toBe('server');
    expect(c!.timeWait).toBe('server');
    expect(path(c!, 'server')).toBe('CLOSED LISTEN SYN_RCVD ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT');
    expect(path(c!, 'client')).toBe('CLOSED SYN_SENT ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED');
  });

  test('simultaneous close: both FIN_WAIT_1 -> CLOSING -> TIME_WAIT', () => {
    const k = open().cs(0.02, FIN | ACK, c1, s1).sc(0.02001, FIN | ACK, s1, c1)
      .cs(0.0201, ACK, (c1 + 1) >>> 0, (s1 + 1) >>> 0).sc(0.0201, ACK, (s1 + 1) >>> 0, (c1 + 1) >>> 0);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.close).toMatchObject({ kind: 'simultaneous', initiator: 'client' });
    expect(c!.timeWait).toBe('both');
    expect(path(c!, 'client')).toBe('CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT');
    expect(path(c!, 'server')).toBe('CLOSED LISTEN SYN_RCVD ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT');
  });

  test('crossed FINs, the client never acknowledges the server\'s: no CLOSING, no TIME_WAIT for it (FIN_WAIT_2 at its FIN\'s ACK)', () => {
    const k = open().sc(0.02, FIN | ACK, s1, c1).cs(0.02001, FIN | ACK, c1, s1).sc(0.0201, ACK, (s1 + 1) >>> 0, (c1 + 1) >>> 0);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.close).toMatchObject({ kind: 'simultaneous', initiator: 'server' });
    expect(c!.timeWait).toBeNull();
    expect(path(c!, 'client')).toBe('CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2');
    expect(c!.states.client.at(-1)).toMatchObject({ from: 'FIN_WAIT_1', to: 'FIN_WAIT_2', packet: 6 });
    expect(path(c!, 'server')).toBe('CLOSED LISTEN SYN_RCVD ESTABLISHED FIN_WAIT_1 CLOSING');
  });

  test('crossed FINs, the client\'s copy of the server\'s FIN comes after the ACK of its own: FIN_WAIT_2, then TIME_WAIT', () => {
    // The server's first FIN is lost before the client; its retransmission arrives after the server acknowledged the client's FIN.
    const k = open().sc(0.02, FIN | ACK, s1, c1).cs(0.02001, FIN | ACK, c1, s1).sc(0.0201, ACK, (s1 + 1) >>> 0, (c1 + 1) >>> 0)
      .sc(0.22, FIN | ACK, s1, (c1 + 1) >>> 0).cs(0.2201, ACK, (c1 + 1) >>> 0, (s1 + 1) >>> 0);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.close).toMatchObject({ kind: 'simultaneous', initiator: 'server' });
    expect(path(c!, 'client')).toBe('CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT');
    expect(path(c!, 'server')).toBe('CLOSED LISTEN SYN_RCVD ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT');
    expect(c!.timeWait).toBe('both');
  });

  test('half-close only: kind none, initiator known, no TIME_WAIT', () => {
    const k = open().cs(0.02, FIN | ACK, c1, s1).sc(0.0201, ACK, s1, (c1 + 1) >>> 0).sc(0.03, PSH | ACK, s1, (c1 + 1) >>> 0, 100);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.close).toMatchObject({ kind: 'none', initiator: 'client' });
    expect(c!.timeWait).toBeNull();
    expect(path(c!, 'client')).toBe('CLOSED SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2');
  });

  test('RST from a closed port', () => {
    const k = new Conv().cs(0, SYN, C, 0).sc(0.00003, RST | ACK, 0, c1);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.resets).toBe(1);
    expect(c!.close).toMatchObject({ kind: 'reset', initiator: 'server' });
    expect(c!.handshake.complete).toBe(false);
    expect(c!.segments[1]!.marks).toContain('rst-from-closed-port');
    expect(path(c!, 'client')).toBe('CLOSED SYN_SENT CLOSED');
    expect(path(c!, 'server')).toBe('CLOSED');
  });

  test('RST after the peer sent data (abortive close), then nothing', () => {
    const k = open().cs(0.01, PSH | ACK, c1, s1, 10).sc(0.0101, ACK, s1, (c1 + 10) >>> 0).sc(0.02, RST | ACK, s1, (c1 + 10) >>> 0);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.close).toMatchObject({ kind: 'reset', initiator: 'server' });
    expect(c!.segments[5]!.marks).toContain('rst-after-close-with-unread-data');
    expect(path(c!, 'server')).toBe('CLOSED LISTEN SYN_RCVD ESTABLISHED CLOSED');
    expect(path(c!, 'client')).toBe('CLOSED SYN_SENT ESTABLISHED CLOSED');
    expect(c!.timeWait).toBeNull();
  });

  test('SYN retransmissions: times, count, RTT from the last SYN (tcp.analysis.initial_rtt)', () => {
    const k = new Conv().cs(0, SYN, C, 0).cs(1, SYN, C, 0).cs(3, SYN, C, 0).sc(3.0001, SYN | ACK, S, c1).cs(3.0002, ACK, c1, s1);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.handshake.synTimes).toEqual([0, 1, 3]);
    expect(c!.handshake.synRetransmits).toBe(2);
    expect(c!.retransmissions).toBe(2);
    expect(c!.handshake.rttMs).toBeCloseTo(0.2, 5);
    expect(c!.segments[1]!.meaning).toMatch(/SYN retransmitted after 1\.00 s/);
  });

  test('SYN-ACK retransmissions with the last ACK lost: the server stays SYN_RCVD until it works', () => {
    // The client's ACK is captured but dropped at the server's input: the server resends its SYN-ACK.
    const k = new Conv().cs(0, SYN, C, 0).sc(0.0001, SYN | ACK, S, c1).cs(0.0002, ACK, c1, s1)
      .sc(1.02, SYN | ACK, S, c1).cs(1.0201, ACK, c1, s1).sc(3.03, SYN | ACK, S, c1).cs(3.0301, ACK, c1, s1)
      .cs(5, PSH | ACK, c1, s1, 10).sc(5.0001, RST, s1, 0);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.handshake.synAckRetransmits).toBe(2);
    expect(c!.handshake.synAckTimes).toEqual([0.0001, 1.02, 3.03]);
    expect(c!.retransmissions).toBe(2);
    expect(path(c!, 'server')).toBe('CLOSED LISTEN SYN_RCVD CLOSED');
    expect(path(c!, 'client')).toBe('CLOSED SYN_SENT ESTABLISHED CLOSED');
  });

  test('reused 4-tuple: a new SYN with another ISN is a new connection, after a close or not', () => {
    const k = open().cs(0.02, FIN | ACK, c1, s1).sc(0.0201, FIN | ACK, s1, (c1 + 1) >>> 0).cs(0.0202, ACK, (c1 + 1) >>> 0, (s1 + 1) >>> 0)
      .cs(1, SYN, 12345, 0).sc(1.0001, SYN | ACK, 999, 12346).cs(1.0002, ACK, 12346, 1000)
      .cs(2, SYN, 55555, 0); // a third one, while the second is open
    const a = analyzeFrames(k.frames);
    expect(a.tcp.map((c) => c.id)).toEqual([0, 1, 2]);
    expect(a.tcp.map((c) => c.packets)).toEqual([6, 3, 1]);
    expect(a.tcp[1]!.handshake.clientIsn).toBe(12345);
    expect(a.tcp[0]!.timeWait).toBe('client');
    expect(a.tcp[1]!.close.kind).toBe('none');
  });

  test('no SYN seen: client is the first sender, both inferred ESTABLISHED, relative numbers from 1', () => {
    const k = new Conv().sc(0, PSH | ACK, 777, 888, 50).cs(0.001, ACK, 888, 827);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.client).toBe('10.0.0.2:80');
    expect(c!.handshake.clientIsn).toBeNull();
    expect(c!.segments[0]!.relSeq).toBe(1);
    expect(c!.segments[1]!.relAck).toBe(51);
    // Assumed, not seen: the path starts at ESTABLISHED, with no transition into it.
    expect(c!.start).toBe('mid-stream');
    expect(c!.statePath).toEqual({ client: ['ESTABLISHED'], server: ['ESTABLISHED'] });
    expect(c!.states.client).toEqual([]);
  });

  test('a capture starting at the SYN-ACK: its receiver is the client, in SYN_SENT (assumed), ESTABLISHED on its ACK', () => {
    const k = new Conv().sc(0, SYN | ACK, S, c1).cs(0.0001, ACK, c1, s1);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.client).toBe('10.0.0.1:40000');
    expect(c!.start).toBe('syn-ack');
    expect(path(c!, 'client')).toBe('SYN_SENT ESTABLISHED');
    expect(c!.states.client[0]).toMatchObject({ from: 'SYN_SENT', to: 'ESTABLISHED', packet: 2 });
    expect(path(c!, 'server')).toBe('CLOSED LISTEN SYN_RCVD ESTABLISHED');
  });

  test('a lone RST first: picked up mid-stream, no state assumed', () => {
    const [c] = analyzeFrames(new Conv().sc(0, RST, 7, 0).frames).tcp;
    expect(c!.start).toBe('mid-stream');
    expect(c!.statePath).toEqual({ client: ['CLOSED'], server: ['CLOSED'] });
  });

  test('data in the SYN (TFO) and in the third segment', () => {
    const k = new Conv().cs(0, SYN, C, 0, 20).sc(0.0001, SYN | ACK, S, (c1 + 20) >>> 0).cs(0.0002, PSH | ACK, (c1 + 20) >>> 0, s1, 30);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.handshake.dataInSyn).toBe(true);
    expect(c!.handshake.dataInThirdSegment).toBe(true);
    expect(c!.bytes).toEqual({ client: 50, server: 0 });
  });

  test('IPv6 endpoints and counts without kept segments', () => {
    const k = open(new Conv('[2001:db8::1]:40000', '[2001:db8::2]:443'));
    const a = analyzeFrames(k.frames, false);
    expect(a.tcp[0]!.client).toBe('[2001:db8::1]:40000');
    expect(a.tcp[0]!.family).toBe(6);
    expect(a.tcp[0]!.segments).toEqual([]);
    expect(a.tcp[0]!.handshake.complete).toBe(true);
  });
});

describe('per-segment marks', () => {
  test('dup ACKs, fast retransmission, out-of-order, lost segment, zero window', () => {
    const k = open()
      .cs(0.01, ACK, c1, s1, 100).cs(0.0101, ACK, (c1 + 200) >>> 0, s1, 100)
      .cs(0.01011, ACK, (c1 + 100) >>> 0, s1, 100)
      .sc(0.011, ACK, s1, (c1 + 300) >>> 0, 0, { win: 0 })
      .cs(0.02, ACK, (c1 + 300) >>> 0, s1, 100).cs(0.0201, ACK, (c1 + 400) >>> 0, s1, 100)
      .sc(0.021, ACK, s1, (c1 + 300) >>> 0).sc(0.0211, ACK, s1, (c1 + 300) >>> 0).sc(0.0212, ACK, s1, (c1 + 300) >>> 0)
      .cs(0.0213, ACK, (c1 + 300) >>> 0, s1, 100);
    const [c] = analyzeFrames(k.frames).tcp;
    const marks = c!.segments.map((s) => s.marks.join(','));
    expect(marks[4]).toContain('previous-segment-not-captured');
    expect(marks[5]).toContain('out-of-order');
    expect(marks[6]).toContain('zero-window');
    expect(marks.filter((m) => m.includes('dup-ack')).length).toBe(2);
    expect(marks[12]).toContain('fast-retransmission');
    expect(c!.retransmissions).toBe(1);
    expect(c!.outOfOrder).toBe(1);
    expect(c!.zeroWindows).toBe(1);
    expect(c!.lostSegments).toBe(1);
  });
});

describe('retransmission vs out-of-order at the threshold', () => {
  // Seen on a real 1M-packet trace: a segment resent exactly one initial RTT (16 µs) after the
  // highest one. Wireshark compares whole nanoseconds: equal is not below the threshold, so it is
  // a retransmission. In float seconds the two 16 µs gaps can round apart.
  test('a resend exactly one initial RTT after the last new segment is a retransmission, as tshark says', () => {
    // initial RTT 23 µs; FIN at 0.500010, the data resent at 0.500033: 23 µs later. In float
    // seconds that gap reads 2.2999999999995246e-5 < 2.3e-5 and was called out-of-order.
    const k = new Conv()
      .cs(0, SYN, C, 0, 0).sc(0.000011, SYN | ACK, S, c1, 0).cs(0.000023, ACK, c1, s1)
      .sc(0.5, PSH | ACK, s1, c1, 443)
      .sc(0.50001, FIN | ACK, (s1 + 443) >>> 0, c1)
      .sc(0.500033, PSH | ACK, s1, c1, 443);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.retransmissions).toBe(1);
    expect(c!.outOfOrder).toBe(0);
  });
});

describe('CLOSE_WAIT on the segment lines and the ladder', () => {
  test('four-way: the FIN line carries the server\'s CLOSE_WAIT, the delayed ACK is "ACK of the client\'s FIN"', () => {
    const k = open().cs(0.02, FIN | ACK, c1, s1).sc(0.063, ACK, s1, (c1 + 1) >>> 0)
      .sc(0.25, FIN | ACK, s1, (c1 + 1) >>> 0).cs(0.2501, ACK, (c1 + 1) >>> 0, (s1 + 1) >>> 0);
    const [c] = analyzeFrames(k.frames).tcp;
    const [fin, ack] = [c!.segments[3]!, c!.segments[4]!];
    expect(fin.transitions).toEqual([
      { side: 'client', from: 'ESTABLISHED', to: 'FIN_WAIT_1' },
      { side: 'server', from: 'ESTABLISHED', to: 'CLOSE_WAIT' },
    ]);
    expect(fin.meaning).toContain('server -> CLOSE_WAIT');
    expect(ack.transitions).toEqual([{ side: 'client', from: 'FIN_WAIT_1', to: 'FIN_WAIT_2' }]);
    expect(ack.meaning).toMatch(/^ACK of the client's FIN/);
    // ... and says when CLOSE_WAIT began (a --live reader saw the FIN line before this ACK proved it)
    expect(ack.meaning).toContain(`the server has been in CLOSE_WAIT since the FIN arrived (packet ${fin.packet})`);
  });

  test('three-way: the FIN+ACK still reads as the folded close', () => {
    const k = open().cs(0.02, FIN | ACK, c1, s1).sc(0.021, FIN | ACK, s1, (c1 + 1) >>> 0).cs(0.0211, ACK, (c1 + 1) >>> 0, (s1 + 1) >>> 0);
    const [c] = analyzeFrames(k.frames).tcp;
    expect(c!.close.kind).toBe('three-way');
    expect(c!.segments[3]!.meaning).toContain('server -> CLOSE_WAIT');
    expect(c!.segments[4]!.meaning).toMatch(/^FIN\+ACK: the server acknowledges the client's FIN .*three-way close/);
  });
});
