/** UDP flows by direction, fragments grouped by IP ID (first fragment early or late, one missing), ICMP errors. */
import { describe, expect, test } from 'vitest';
import { analyzeFrames, udpFrame, udpFragments, icmpFrame } from './build.js';

const A = '10.0.0.1:5000';
const B = '10.0.0.2:6000';

describe('UDP flows', () => {
  test('datagrams, bytes, sizes per direction', () => {
    const a = analyzeFrames([udpFrame(0, A, B, 100), udpFrame(0.1, A, B, 300), udpFrame(0.2, B, A, 7)]);
    expect(a.udp.map((u) => [u.src, u.dst, u.datagrams, u.bytes, u.sizes.min, u.sizes.max])).toEqual([
      [A, B, 2, 400, 100, 300],
      [B, A, 1, 7, 7, 7],
    ]);
  });

  test('fragments grouped by IP ID; a missing fragment makes the datagram incomplete', () => {
    const whole = udpFragments(1, A, B, 4000, 77, 1480); // 3 fragments
    const broken = udpFragments(2, A, B, 4000, 78, 1480);
    expect(whole.length).toBe(3);
    const a = analyzeFrames([...whole, broken[0]!, broken[2]!]);
    expect(a.udp.length).toBe(1);
    expect(a.udp[0]).toMatchObject({ datagrams: 2, fragmented: 2, incomplete: 1, bytes: 8000 });
  });

  test('the first fragment arriving last still joins the flow; the missing last fragment is noticed', () => {
    const f = udpFragments(1, A, B, 4000, 90, 1480);
    const g = udpFragments(2, A, B, 4000, 91, 1480);
    const a = analyzeFrames([f[2]!, f[1]!, f[0]!, g[0]!, g[1]!]);
    expect(a.udp[0]).toMatchObject({ datagrams: 2, fragmented: 2, incomplete: 1 });
  });

  test('ICMP port unreachable quoting the datagram', () => {
    const d = udpFrame(0, A, B, 10, 4242);
    const a = analyzeFrames([d, icmpFrame(0.001, '10.0.0.2', '10.0.0.1', 3, 3, d)]);
    expect(a.icmp).toHaveLength(1);
    expect(a.icmp[0]).toMatchObject({ kind: 'port-unreachable', from: '10.0.0.2', to: '10.0.0.1', packet: 2 });
    expect(a.icmp[0]!.quoted).toBe('udp 10.0.0.1:5000 > 10.0.0.2:6000 id 4242');
  });
});
