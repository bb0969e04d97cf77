import { describe, expect, it } from 'vitest';
import { describeLinkType, linkTypeName } from '../../../src/capture/link-types.js';
import { fixture, readBuffer } from './read-helpers.js';

describe('link type names', () => {
  it('names the link types tcpdump writes on Linux, and numbers the rest', () => {
    expect([0, 1, 101, 108, 113, 228, 229, 276].map(linkTypeName)).toEqual(['NULL', 'EN10MB', 'RAW', 'LOOP', 'LINUX_SLL', 'IPV4', 'IPV6', 'LINUX_SLL2']);
    expect(linkTypeName(4242)).toBe('LINKTYPE_4242');
    expect(describeLinkType(276)).toBe('276 (LINUX_SLL2)');
  });

  it('the fixtures carry the link types tcpdump -i lo and -i any wrote', async () => {
    expect(linkTypeName((await readBuffer(fixture('lo-en10mb.pcap'))).summary.linkType)).toBe('EN10MB');
    expect(linkTypeName((await readBuffer(fixture('any-sll2.pcap'))).summary.linkType)).toBe('LINUX_SLL2');
  });
});
