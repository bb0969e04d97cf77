/**
 * Drop and reset reasons come from the tracepoint's own format file: the real 6.18 files of this
 * machine, and a 5.17 kfree_skb written from that kernel's include/trace/events/skb.h (the first
 * with reasons, numbered differently: the reason for reading them rather than hard-coding them).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTracepointFormat, symbolName } from '../../../src/observe/tracepoint-format.js';

const fixture = (f: string): string => readFileSync(path.join(__dirname, 'fixtures', f), 'utf8');

describe('tracepoint format files', () => {
  it('reads kfree_skb fields and drop reason names of kernel 6.18', () => {
    const f = parseTracepointFormat(fixture('kfree_skb-6.18.format'));
    expect(f.name).toBe('kfree_skb');
    expect(f.fields).toEqual(['skbaddr', 'location', 'rx_sk', 'protocol', 'reason']);
    const reason = (n: number): string => symbolName(f, 'reason', n);
    expect([reason(3), reason(6), reason(12), reason(40), reason(64), reason(95)]).toEqual([
      'NO_SOCKET', 'SOCKET_RCVBUFF', 'NETFILTER_DROP', 'TCP_LISTEN_OVERFLOW', 'QDISC_DROP', 'FRAG_REASM_TIMEOUT',
    ]);
    expect(reason(10)).toBe('TCP_CSUM');
    expect(reason(11)).toBe('UDP_CSUM');
    expect(f.symbols.get('reason')!.size).toBeGreaterThan(100);
    expect(reason(9999)).toBe('REASON_9999');
  });

  it('reads an older kernel whose numbers differ (5.17: reason 5 is UDP_CSUM, no rx_sk)', () => {
    const f = parseTracepointFormat(fixture('kfree_skb-5.17.format'));
    expect(f.fields).toEqual(['skbaddr', 'location', 'protocol', 'reason']);
    expect(symbolName(f, 'reason', 5)).toBe('UDP_CSUM');
    expect(symbolName(f, 'reason', 1)).toBe('NO_SOCKET');
  });

  it('reads tcp_send_reset reasons; symbolic state tables (TCP_ESTABLISHED, not numbers) are no table', () => {
    const rst = parseTracepointFormat(fixture('tcp_send_reset-6.18.format'));
    expect(rst.fields).toEqual(['skbaddr', 'skaddr', 'state', 'reason', 'saddr', 'daddr']);
    expect(symbolName(rst, 'reason', 1)).toBe('NO_SOCKET');
    expect(rst.symbols.has('state')).toBe(false);
    const rtx = parseTracepointFormat(fixture('tcp_retransmit_skb-6.18.format'));
    expect(rtx.fields).toContain('saddr_v6');
    expect(rtx.symbols.has('family')).toBe(true);
    expect(rtx.symbols.get('family')!.get(10)).toBe('AF_INET6');
  });
});
