/**
 * Per-connection lists and facts labs read (the retransmission list, the RST list with causes,
 * each side's state path), checked with segments kept (the labs' model object, filled as
 * segments arrive) and without (built from the row at the end): both must say the same.
 */
import { describe, expect, test } from 'vitest';
import { Conv, SYN, ACK, FIN, PSH, RST, analyzeFrames, type Frame } from './build.js';
import type { TcpConnection } from '../../../src/analyze/model.js';

const C = 3626544836;
const S = 4294967000; // wraps: seq/ack must read back unsigned
const c1 = (C + 1) >>> 0;
const s1 = (S + 1) >>> 0;

function open(k = new Conv()): Conv {
  return k.cs(0, SYN, C, 0).sc(0.001, SYN | ACK, S, c1).cs(0.002, ACK, c1, s1);
}

/** The connection, analyzed both ways; fails when the two disagree on these facts. */
function both(frames: Frame[]): TcpConnection {
  const kept = analyzeFrames(frames, true).tcp[0]!;
  const rows = analyzeFrames(frames, false).tcp[0]!;
  for (const key of ['retransmissionList', 'resetList', 'statePath'] as const) expect(rows[key]).toEqual(kept[key]);
  return kept;
}

describe('retransmissions as a list', () => {
  test('a retransmitted SYN and FIN: packet, time, side and kind of each copy', () => {
    const k = new Conv().cs(0, SYN, C, 0).cs(1, SYN, C, 0).sc(1.001, SYN | ACK, S, c1).cs(1.002, ACK, c1, s1)
      .cs(2, FIN | ACK, c1, s1).cs(2.2, FIN | ACK, c1, s1).sc(2.201, FIN | ACK, s1, (c1 + 1) >>> 0).cs(2.202, ACK, (c1 + 1) >>> 0, (s1 + 1) >>> 0);
    const c = both(k.frames);
    expect(c.handshake.synTimes).toEqual([0, 1]);
    expect(c.close.finTimes.client).toEqual([2, 2.2]);
    expect(c.retransmissionList).toEqual([
      { packet: 2, t: 1, side: 'client', kind: 'retransmission' },
      { packet: 6, t: 2.2, side: 'client', kind: 'retransmission' },
    ]);
    expect(c.retransmissions).toBe(c.retransmissionList.length);
    expect(c.statePath.client).toEqual(['CLOSED', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'TIME_WAIT']);
  });

  test('a side that never changed state has its state as its path', () => {
    const c = both(new Conv().cs(0, SYN, C, 0).frames);
    expect(c.statePath).toEqual({ client: ['CLOSED', 'SYN_SENT'], server: ['CLOSED'] });
  });
});

describe('counts', () => {
  test('zero-window probes: one byte at a time into the peer\'s zero window', () => {
    const k = open().sc(0.01, ACK, s1, c1, 0, { win: 0 }).cs(0.2, ACK, c1, s1, 1).cs(0.6, ACK, c1, s1, 1);
    const kept = analyzeFrames(k.frames, true).tcp[0]!;
    expect(kept.segments.map((s) => s.marks.includes('zero-window-probe'))).toEqual([false, false, false, false, true, true]);
    expect(kept.zeroWindowProbes).toBe(2);
    expect(analyzeFrames(k.frames, false).tcp[0]!.zeroWindowProbes).toBe(2);
  });
});

describe('resets with their cause', () => {
  test('closed port, unread data, and a later RST', () => {
    const refused = both(new Conv().cs(0, SYN, C, 0).sc(0.00003, RST | ACK, 0, c1).frames);
    expect(refused.resetList).toEqual([{ packet: 2, t: 0.00003, side: 'server', cause: 'closed-port' }]);
    const k = open().cs(0.01, PSH | ACK, c1, s1, 10).sc(0.0101, ACK, s1, (c1 + 10) >>> 0)
      .sc(0.02, RST | ACK, s1, (c1 + 10) >>> 0).sc(0.03, RST, s1, 0);
    const c = both(k.frames);
    expect(c.resetList).toEqual([
      { packet: 6, t: 0.02, side: 'server', cause: 'unread-data' },
      { packet: 7, t: 0.03, side: 'server', cause: 'other' },
    ]);
    expect(c.resets).toBe(2);
  });
});
