/** The tolerances and models the UDP loss labs judge by (src/lab/stats.ts, labs/udp/loss-facts.ts). */
import { describe, expect, it } from 'vitest';
import { binomialBound, differenceBound, fragmentModel } from '../../../src/lab/stats.js';
import { packetsFor } from '../../../labs/udp/loss-facts.js';

describe('binomial bounds', () => {
  it('shrink with the sample: 4 sd of p(1-p)/n around p', () => {
    const b = binomialBound(27.1, 1000);
    expect(b.sdPercent).toBeCloseTo(1.406, 2);
    expect(b.lo).toBeCloseTo(27.1 - 4 * 1.406, 1);
    expect(b.hi).toBeCloseTo(27.1 + 4 * 1.406, 1);
    const small = binomialBound(27.1, 100);
    expect(small.hi - small.lo).toBeCloseTo(Math.sqrt(10) * (b.hi - b.lo), 1);
  });
  it('stay within 0..100 and are never narrower than one datagram', () => {
    expect(binomialBound(0, 50)).toMatchObject({ lo: 0, hi: 2 });
    expect(binomialBound(100, 50).hi).toBe(100);
    expect(differenceBound(2, 2000, 2000)).toBeCloseTo(4 * Math.sqrt(0.02 * 0.98 * (2 / 2000)) * 100, 6);
  });
});

describe('the fragment model', () => {
  it('1-(1-P)^k: one packet loses P, three lose 27.1% at P = 10%', () => {
    expect(fragmentModel(10, 1)).toBeCloseTo(10, 9);
    expect(fragmentModel(10, 3)).toBeCloseTo(27.1, 9);
    expect(fragmentModel(1, 34)).toBeCloseTo(28.94, 2);
  });
  it('packets per datagram on an MTU, as the kernel cuts them (IPv4 1480 bytes of data per fragment, IPv6 1448)', () => {
    expect(packetsFor(1472, 1500, 4)).toBe(1);
    expect(packetsFor(1473, 1500, 4)).toBe(2);
    expect(packetsFor(1452, 1500, 6)).toBe(1);
    expect(packetsFor(1453, 1500, 6)).toBe(2);
    expect(packetsFor(4000, 1500, 4)).toBe(3);
    expect(packetsFor(50_000, 1500, 4)).toBe(34);
    expect(packetsFor(50_000, 1500, 6)).toBe(35);
    expect(packetsFor(65_507, 1500, 4)).toBe(45);
    expect(packetsFor(65_527, 1500, 6)).toBe(46);
    expect(packetsFor(50_000, 65_536, 4)).toBe(1);
  });
});
