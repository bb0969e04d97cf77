/** Which captured packets a fault dropped: the rule's match while it was armed, checked against its counter. */
import { describe, expect, it } from 'vitest';
import { ACK, Conv, SYN, analyzeFrames } from '../analyze/build.js';
import { faultDrops, type FaultLog } from '../../../src/lab/fault-drops.js';

// A handshake whose client then re-sends its pure ACK twice (as when the server never got it).
const k = new Conv('10.0.0.1:40000', '10.0.0.2:80').cs(1, SYN, 100, 0).sc(1.001, SYN | ACK, 500, 101).cs(1.002, ACK, 101, 501)
  .sc(2.0, SYN | ACK, 500, 101).cs(2.001, ACK, 101, 501).sc(4.0, SYN | ACK, 500, 101).cs(4.001, ACK, 101, 501);
const a = analyzeFrames(k.frames);
const base = a.firstTime!;
const addr = (r: string): string => (r === 'client' ? '10.0.0.1' : '10.0.0.2');
const pureAcks = { at: 'server' as const, match: { from: 'client' as const, dport: 80, tcp: 'pure-ack' as const } };

describe('faultDrops', () => {
  it('names the pure ACKs a window dropped while armed, when the counter agrees', () => {
    const log: FaultLog = { name: 'acks', spec: pureAcks, windows: [{ from: base - 1, to: base + 1.5 }] };
    expect(faultDrops(a, [log], [{ name: 'acks', dropped: 2 }], addr, false)).toEqual({ packets: [3, 5], unnamed: [] });
  });
  it('takes the nth..nth+count-1 matches of a drop-nth rule', () => {
    const log: FaultLog = { name: 'acks', spec: { ...pureAcks, drop: { nth: 2, count: 2 } }, windows: [{ from: 0, to: Infinity }] };
    expect(faultDrops(a, [log], [{ name: 'acks', dropped: 2 }], addr, false).packets).toEqual([5, 7]);
  });
  it('names none when the counter disagrees, or the rule drops at random, and says why', () => {
    const log: FaultLog = { name: 'acks', spec: pureAcks, windows: [{ from: 0, to: Infinity }] };
    const r = faultDrops(a, [log], [{ name: 'acks', dropped: 2 }], addr, false);
    expect(r.packets).toEqual([]);
    expect(r.unnamed[0]!.why).toMatch(/3 captured packets match .* its counter says 2/);
    const rnd: FaultLog = { name: 'acks', spec: { ...pureAcks, drop: { percent: 50 } }, windows: [{ from: 0, to: Infinity }] };
    expect(faultDrops(a, [rnd], [{ name: 'acks', dropped: 1 }], addr, false).unnamed[0]!.why).toMatch(/random/);
  });
  it('names none for a rule that also matches on TTL (not kept per segment), even when the count would agree', () => {
    const log: FaultLog = { name: 'acks', spec: { ...pureAcks, match: { ...pureAcks.match, ttl: 64 } }, windows: [{ from: base - 1, to: base + 1.5 }] };
    const r = faultDrops(a, [log], [{ name: 'acks', dropped: 2 }], addr, false);
    expect(r.packets).toEqual([]);
    expect(r.unnamed).toEqual([{ fault: 'acks', dropped: 2, why: expect.stringMatching(/TTL 64/) }]);
  });
});
