/** Pairing one connection's segments across the client host's and the server host's captures (synthetic segment lists). */
import { describe, expect, it } from 'vitest';
import type { SegmentRecord, Side, TcpConnection } from '../../../src/analyze/model.js';
import { pairConnection, twoEnds } from '../../../src/analyze/two-ends.js';

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;

function seg(packet: number, absTime: number, from: Side, flags: number, seq: number, ack: number, len = 0, tsVal?: number): SegmentRecord {
  return {
    packet, time: absTime - 100, absTime, from, flags, seq, ack, relSeq: 0, relAck: 0, len, window: 500,
    options: tsVal === undefined ? {} : { timestamps: [tsVal, 0] }, marks: [], meaning: `${from} #${packet}`, transitions: [],
  };
}

function conn(segments: SegmentRecord[], isns: [number, number] | null = [1000, 5000], client = '10.0.0.1:40000', server = '10.0.0.2:7000'): TcpConnection {
  return {
    client, server, segments,
    handshake: { clientIsn: isns?.[0] ?? null, serverIsn: isns?.[1] ?? null },
    states: { client: [], server: [] },
  } as unknown as TcpConnection;
}

describe('two ends of one connection', () => {
  it('gives each segment its one-way delay: receiver time minus sender time, in either direction', () => {
    const c = conn([seg(1, 100.0, 'client', SYN, 1000, 0), seg(2, 100.0030, 'server', SYN | ACK, 5000, 1001), seg(3, 100.0031, 'client', ACK, 1001, 5001)]);
    const s = conn([seg(1, 100.0010, 'client', SYN, 1000, 0), seg(2, 100.0020, 'server', SYN | ACK, 5000, 1001), seg(3, 100.0045, 'client', ACK, 1001, 5001)]);
    const p = pairConnection(c, s, 'isn');
    expect(p.segments.map((x) => [x.from, x.clientPacket, x.serverPacket, x.delayMs])).toEqual([
      ['client', 1, 1, 1],
      ['server', 2, 2, 1],
      ['client', 3, 3, 1.4],
    ]);
    expect(p.oneWay.clientToServer).toEqual({ count: 2, minMs: 1, medianMs: 1.2, maxMs: 1.4 });
    expect(p.rttMs).toEqual({ client: 3, server: 2.5 });
  });

  it('pairs the k-th copy of a retransmitted segment with the k-th copy; one never received is counted unseen', () => {
    const data = (n: number, t: number, ts: number): SegmentRecord => seg(n, t, 'client', PSH | ACK, 1001, 5001, 100, ts);
    // The client sent the data three times; the server host saw the 2nd and the 3rd (the first was lost on the way).
    const c = conn([data(4, 200.0, 7), data(5, 200.2, 8), data(6, 200.6, 9)]);
    const s = conn([data(4, 200.2005, 8), data(5, 200.6007, 9)]);
    const p = pairConnection(c, s, 'isn');
    expect(p.segments.map((x) => [x.clientPacket, x.serverPacket, x.delayMs])).toEqual([
      [4, null, null],
      [5, 4, 0.5],
      [6, 5, 0.7],
    ]);
    expect(p.unseen).toEqual({ clientToServer: 1, serverToClient: 0 });
  });

  it('shows clock skew between two machines as a negative delay rather than hiding it', () => {
    const p = pairConnection(conn([seg(1, 50.0, 'client', SYN, 1000, 0)]), conn([seg(1, 49.99, 'client', SYN, 1000, 0)]), 'isn');
    expect(p.segments[0]!.delayMs).toBe(-10);
  });

  it('pairs connections by ISNs across NAT (different addresses), else by endpoints, and lists the rest', () => {
    const a = conn([seg(1, 1, 'client', SYN, 1000, 0)], [1000, 5000], '192.168.1.5:40000', '203.0.113.7:443');
    const b = conn([seg(1, 1.01, 'client', SYN, 1000, 0)], [1000, 5000], '198.51.100.9:61000', '10.0.0.2:443');
    const lone = conn([seg(1, 2, 'client', SYN, 9, 0)], [9, 99], '10.9.9.9:1', '10.9.9.8:2');
    const t = twoEnds({ file: 'c.pcap', tcp: [a, lone] } as never, { file: 's.pcap', tcp: [b] } as never);
    expect(t.connections.map((x) => [x.pairedBy, x.client, x.server])).toEqual([['isn', '192.168.1.5:40000', '10.0.0.2:443']]);
    expect(t.unpaired).toEqual({ client: ['10.9.9.9:1 -> 10.9.9.8:2'], server: [] });
  });
});
