import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatAddress, formatEndpoint } from '../../../src/decode/address.js';

function v6(text: string): Buffer {
  // Expand a full 8-group address (test input only) into 16 bytes.
  const groups = text.split(':');
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), 2 * i));
  return b;
}

describe('formatAddress', () => {
  it('prints IPv4 dotted quads', () => {
    expect(formatAddress(Buffer.from([127, 0, 0, 1]), 0, 4)).toBe('127.0.0.1');
    expect(formatAddress(Buffer.from([9, 10, 255, 0, 7]), 1, 4)).toBe('10.255.0.7');
  });

  it.each([
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['fd00:1:0:0:0:0:0:2', 'fd00:1::2'],
    ['fe80:0:0:0:1414:7ff:feed:94dd', 'fe80::1414:7ff:feed:94dd'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // RFC 5952 4.2.3: first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2: one zero group is not shortened
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // 4.2.3: the longest run
    ['1:0:0:0:0:0:0:0', '1::'],
    ['ff02:0:0:0:0:1:ff00:1', 'ff02::1:ff00:1'],
    ['0:0:0:0:0:ffff:a01:2', '::ffff:10.1.0.2'], // IPv4-mapped, as inet_ntop prints it
    ['0:0:0:0:0:0:a01:2', '::10.1.0.2'], // IPv4-compatible (deprecated, still printed so)
    ['0:0:0:0:0:0:0:2', '::2'],
    ['ABCD:EF01:0:0:0:0:0:0', 'abcd:ef01::'],
  ])('%s -> %s', (full, expected) => {
    expect(formatAddress(v6(full), 0, 16)).toBe(expected);
  });

  it('agrees with the WHATWG URL serializer (RFC 5952 compression) on random addresses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 255 }), (raw, zeroMask) => {
        const b = Buffer.from(raw);
        for (let i = 0; i < 8; i++) if (zeroMask & (1 << i)) b.writeUInt16BE(0, 2 * i); // plenty of zero runs
        const ours = formatAddress(b, 0, 16);
        if (ours.includes('.')) return; // dotted tails: inet_ntop style, URL never prints them
        const url = new URL(`http://[${ours}]/`).hostname;
        expect(`[${ours}]`).toBe(url);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatEndpoint', () => {
  it('brackets IPv6 and not IPv4', () => {
    expect(formatEndpoint(Buffer.from([10, 0, 0, 1]), 0, 4, 80)).toBe('10.0.0.1:80');
    expect(formatEndpoint(v6('0:0:0:0:0:0:0:1'), 0, 16, 80)).toBe('[::1]:80');
  });
});
