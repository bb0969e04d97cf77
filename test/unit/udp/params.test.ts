/** The numbers a user types for `wirelab udp` and `wirelab sweep udp`, and the errors for bad ones. */
import { describe, expect, it } from 'vitest';
import { WirelabError } from '../../../src/errors.js';
import { DEFAULT_PARAMS, parseBytes, parseCount, parsePercent, parseRate, parseRcvbuf, parseSize, validateParams } from '../../../src/udp/params.js';
import { formatPercent } from '../../../src/udp/result.js';

function usageError(f: () => unknown): WirelabError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WirelabError);
    expect((e as WirelabError).exitCode).toBe(2);
    return e as WirelabError;
  }
  throw new Error('expected a usage error');
}

describe('udp parameters', () => {
  it('rates: plain, k (1000), m, max; nothing negative or unparsable', () => {
    expect(parseRate('40000')).toBe(40_000);
    expect(parseRate('40k')).toBe(40_000);
    expect(parseRate('1.5m')).toBe(1_500_000);
    expect(parseRate('max')).toBe('max');
    for (const bad of ['-5', '0', 'fast', '', '10x']) expect(usageError(() => parseRate(bad)).message).toContain('--rate');
  });

  it('sizes: up to 65507, and 65508 explained as EMSGSIZE', () => {
    expect(parseSize('65507')).toBe(65507);
    expect(parseSize('1472')).toBe(1472);
    const e = usageError(() => parseSize('65508'));
    expect(e.message).toContain('EMSGSIZE');
    expect(e.message).toContain('65507');
    expect(usageError(() => parseSize('4')).message).toContain('sequence number');
  });

  it('buffer sizes use k = 1024; default means the kernel default', () => {
    expect(parseRcvbuf('256k')).toBe(262_144);
    expect(parseRcvbuf('1m')).toBe(1 << 20);
    expect(parseRcvbuf('default')).toBeNull();
    expect(parseBytes('8k', '--rcvbuf', 1, 1 << 30)).toBe(8192);
    usageError(() => parseRcvbuf('lots'));
  });

  it('loss in percent, at most 100', () => {
    expect(parsePercent('1%')).toBe(1);
    expect(parsePercent('0.5')).toBe(0.5);
    expect(parsePercent('0')).toBe(0);
    expect(usageError(() => parsePercent('150%')).message).toContain('100%');
    usageError(() => parsePercent('-1'));
  });

  it('counts and whole-set validation', () => {
    expect(parseCount('100k')).toBe(100_000);
    usageError(() => parseCount('0'));
    usageError(() => validateParams({ ...DEFAULT_PARAMS, pace: true, rate: 'max' }));
    usageError(() => validateParams({ ...DEFAULT_PARAMS, size: 70_000 }));
    expect(validateParams({ ...DEFAULT_PARAMS })).toEqual(DEFAULT_PARAMS);
  });

  it('loss percentages print with two significant digits, as iperf3 users read them', () => {
    expect(formatPercent(3.14159)).toBe('3.1%');
    expect(formatPercent(0.012345)).toBe('0.012%');
    expect(formatPercent(48.2)).toBe('48%');
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(100)).toBe('100%');
    expect(formatPercent(99.96)).toBe('100%');
    expect(formatPercent(99.7)).toBe('99.7%');
  });
});
