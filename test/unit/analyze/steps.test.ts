/**
 * The packet numbers of the handshake and close steps (TcpConnection.steps): what labs read to
 * say "packet 6 is the first FIN". Checked with segments kept (the labs' model object, filled as
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
  for (const key of ['steps', 'handshake', 'close'] as const) expect(rows[key]).toEqual(kept[key]);
  return kept;
}

const packets = (c: TcpConnection): (number | null)[] => Object.values(c.steps).map((s) => s?.packet ?? null);

describe('handshake and close steps', () => {
  test('four-way close by the client: every step, with its time, seq, ack and sender', () => {
    const k = open().cs(0.01, PSH | ACK, c1, s1, 5).sc(0.0101, ACK, s1, (c1 + 5) >>> 0)
      .cs(0.02, FIN | ACK, (c1 + 5) >>> 0, s1).sc(0.0201, ACK, s1, (c1 + 6) >>> 0)
      .sc(0.03, FIN | ACK, s1, (c1 + 6) >>> 0).cs(0.0301, ACK, (c1 + 6) >>> 0, (s1 + 1) >>> 0);
    const c = both(k.frames);
    expect(Object.keys(c.steps)).toEqual(['syn', 'synAck', 'ack', 'firstFin', 'firstFinAck', 'secondFin', 'lastAck']);
    expect(packets(c)).toEqual([1, 2, 3, 6, 7, 8, 9]);
    expect(c.steps.syn).toEqual({ packet: 1, t: 0, seq: C, ack: 0, side: 'client' });
    expect(c.steps.synAck).toEqual({ packet: 2, t: 0.001, seq: S, ack: c1, side: 'server' });
    expect(c.steps.ack).toEqual({ packet: 3, t: 0.002, seq: c1, ack: s1, side: 'client' });
    expect(c.steps.firstFin).toMatchObject({ packet: 6, seq: (c1 + 5) >>> 0, side: 'client' });
    expect(c.steps.firstFinAck).toMatchObject({ packet: 7, ack: (c1 + 6) >>> 0, side: 'server' });
    expect(c.steps.secondFin).toMatchObject({ packet: 8, seq: s1, side: 'server' });
    expect(c.steps.lastAck).toMatchObject({ packet: 9, t: 0.0301, ack: (s1 + 1) >>> 0, side: 'client' });
  });

  test('three-way close by the server: the second FIN is also the ACK of the first', () => {
    const k = open().sc(0.02, FIN | ACK, s1, c1).cs(0.0201, FIN | ACK, c1, (s1 + 1) >>> 0).sc(0.0202, ACK, (s1 + 1) >>> 0, (c1 + 1) >>> 0);
    const c = both(k.frames);
    expect(packets(c)).toEqual([1, 2, 3, 4, 5, 5, 6]);
    expect(c.steps.firstFin!.side).toBe('server');
    expect(c.steps.firstFinAck!.side).toBe('client');
    expect(c.steps.lastAck!.side).toBe('server');
  });

  test('simultaneous close: the FINs cross, each acknowledged afterwards', () => {
    const k = open().cs(0.02, FIN | ACK, c1, s1).sc(0.02001, FIN | ACK, s1, c1)
      .cs(0.0201, ACK, (c1 + 1) >>> 0, (s1 + 1) >>> 0).sc(0.0202, ACK, (s1 + 1) >>> 0, (c1 + 1) >>> 0);
    const c = both(k.frames);
    // the client's ACK (6) acknowledges the second FIN: lastAck before firstFinAck (7)
    expect(packets(c)).toEqual([1, 2, 3, 4, 7, 5, 6]);
  });

  test('steps absent are null: a SYN refused by a RST, a half-close', () => {
    const refused = both(new Conv().cs(0, SYN, C, 0).sc(0.00003, RST | ACK, 0, c1).frames);
    expect(packets(refused)).toEqual([1, null, null, null, null, null, null]);
    const half = both(open().cs(0.02, FIN | ACK, c1, s1).sc(0.0201, ACK, s1, (c1 + 1) >>> 0).frames);
    expect(packets(half)).toEqual([1, 2, 3, 4, 5, null, null]);
  });

  test('a retransmitted SYN and FIN: the steps are the first copies; the copies are in retransmissionList', () => {
    const k = new Conv().cs(0, SYN, C, 0).cs(1, SYN, C, 0).sc(1.001, SYN | ACK, S, c1).cs(1.002, ACK, c1, s1)
      .cs(2, FIN | ACK, c1, s1).cs(2.2, FIN | ACK, c1, s1).sc(2.201, FIN | ACK, s1, (c1 + 1) >>> 0).cs(2.202, ACK, (c1 + 1) >>> 0, (s1 + 1) >>> 0);
    const c = both(k.frames);
    expect(packets(c)).toEqual([1, 3, 4, 5, 7, 7, 8]);
    expect(c.handshake.synTimes).toEqual([0, 1]);
    expect(c.close.finTimes.client).toEqual([2, 2.2]);
    expect(c.retransmissionList.map((r) => r.packet)).toEqual([2, 6]);
  });
});
