/** The loss labs' facts on synthetic segments: data, marks, SACK blocks, ACK coverage, window probes; ethtool's offload lines. */
import { describe, expect, it } from 'vitest';
import { ACK, Conv, PSH, SYN, analyzeFrames } from '../analyze/build.js';
import { connFacts } from '../../../src/lab/facts.js';
import { ackCoverage, dataSegments, sackBlocks, windowProbes, withMark, zeroWindows } from '../../../src/lab/loss-facts.js';
import { parseOffloads } from '../../../src/lab/offloads.js';

// ISNs 100 (client) and 500 (server): relative data starts at 1.
const hs = (): Conv => new Conv().cs(0, SYN, 100, 0, 0, { sackPerm: true, mss: 1460 }).sc(0.001, SYN | ACK, 500, 101, 0, { sackPerm: true, mss: 1460 }).cs(0.002, ACK, 101, 501);

describe('ackCoverage', () => {
  it('a cumulative ACK covers two segments; a lone segment waits for the delayed ACK', () => {
    const k = hs().cs(1, ACK, 101, 501, 1000).cs(1.0001, ACK, 1101, 501, 1000).sc(1.0002, ACK, 501, 2101)
      .cs(2, ACK | PSH, 2101, 501, 100).sc(2.04, ACK, 501, 2201);
    const f = connFacts(analyzeFrames(k.frames).tcp[0]!);
    const cov = ackCoverage(f, 'server');
    expect(cov.map((c) => [c.ack.packet, c.segments.map((s) => s.packet), c.bytes])).toEqual([[6, [4, 5], 2000], [8, [7], 100]]);
    expect(cov[1]!.delay).toBeCloseTo(0.04, 6);
    expect(dataSegments(f, 'client').map((s) => s.len)).toEqual([1000, 1000, 100]);
  });
});

describe('duplicate ACKs and SACK blocks', () => {
  it('lists the dup ACKs of a hole with their SACK blocks, relative to the sender', () => {
    // Segment 1101..2101 lost: two later segments make two duplicate ACKs with SACK, then the fast retransmission.
    const k = hs().cs(1, ACK, 101, 501, 1000).sc(1.0001, ACK, 501, 1101)
      .cs(1.001, ACK, 2101, 501, 1000).sc(1.0011, ACK, 501, 1101, 0, { sack: [[2101, 3101]] })
      .cs(1.002, ACK, 3101, 501, 1000).sc(1.0021, ACK, 501, 1101, 0, { sack: [[2101, 4101]] })
      .cs(1.003, ACK, 4101, 501, 1000).sc(1.0031, ACK, 501, 1101, 0, { sack: [[2101, 5101]] })
      .cs(1.0032, ACK, 1101, 501, 1000).sc(1.0033, ACK, 501, 5101);
    const f = connFacts(analyzeFrames(k.frames).tcp[0]!);
    const dups = withMark(f, 'dup-ack', 'server');
    expect(dups.map((d) => d.packet)).toEqual([7, 9, 11]);
    expect(dups.map(sackBlocks)).toEqual([[[2001, 3001]], [[2001, 4001]], [[2001, 5001]]]);
    expect(withMark(f, 'fast-retransmission').map((s) => s.packet)).toEqual([12]);
    expect(sackBlocks(f.segments[0]!)).toEqual([]);
  });
});

describe('windowProbes', () => {
  it("takes Linux's zero-byte probes into a zero window, with the time since the window closed and the intervals", () => {
    const k = hs().cs(1, ACK, 101, 501, 1000).sc(1.001, ACK, 501, 1101, 0, { win: 0 })
      .cs(1.2, ACK, 1100, 501).sc(1.2001, ACK, 501, 1101, 0, { win: 0 })
      .cs(1.6, ACK, 1100, 501).sc(1.6001, ACK, 501, 1101, 0, { win: 0 })
      .cs(2.4, ACK, 1100, 501).sc(2.4001, ACK, 501, 1101, 0, { win: 0 })
      .sc(3, ACK, 501, 1101, 0, { win: 2000 }).cs(3.001, ACK, 1101, 501, 1000)
      .cs(3.5, ACK, 1100, 501); // not a probe: the window is open again
    const f = connFacts(analyzeFrames(k.frames).tcp[0]!);
    const p = windowProbes(f, 'client');
    expect(p.map((x) => [x.packet, x.len])).toEqual([[6, 0], [8, 0], [10, 0]]);
    expect(p.map((x) => Math.round(x.sinceZero * 1000))).toEqual([199, 599, 1399]);
    expect(p.map((x) => Math.round(x.interval * 1000))).toEqual([NaN, 400, 800]);
    expect(zeroWindows(f, 'server').map((s) => s.packet)).toEqual([5, 7, 9, 11]);
    // Wireshark calls a zero-byte probe with seq = snd_una - 1 a keep-alive, the window reopening a window update.
    expect(withMark(f, 'keep-alive', 'client').map((s) => s.packet)).toEqual([6, 8, 10]);
    expect(withMark(f, 'window-update').map((s) => s.packet)).toEqual([12]);
  });
});

describe('parseOffloads', () => {
  it("reads tso/gso/gro from ethtool -k's output", () => {
    const out = 'Features for eth0:\nrx-checksumming: on\ntcp-segmentation-offload: off\n\ttx-tcp-segmentation: off\ngeneric-segmentation-offload: on\ngeneric-receive-offload: off [fixed]\n';
    expect(parseOffloads(out)).toEqual({ tso: false, gso: true, gro: false });
    expect(parseOffloads('')).toEqual({});
  });
});
