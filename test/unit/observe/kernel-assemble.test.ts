/**
 * One lab's share of a shared bpftrace, assembled: its lines (registration numbers in the namespace
 * field) named by its namespaces, the in-kernel counters decoded from their numeric kind codes,
 * runs still open at unregistration folded in, and what the kernel emitted but no line carried
 * counted as lost.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleKernelEvents } from '../../../src/observe/kernel-assemble.js';
import type { DropEvent } from '../../../src/observe/kernel-types.js';
import type { KernelEventsSupport, TracepointName } from '../../../src/observe/tracefs.js';
import { parseTracepointFormat, type TracepointFormat } from '../../../src/observe/tracepoint-format.js';

const fixture = (f: string): string => readFileSync(path.join(__dirname, 'fixtures', f), 'utf8');
const support: KernelEventsSupport = {
  ok: true, detail: 'test', fix: null, bpftrace: 'bpftrace', fsyncUprobe: null, skbCbOffset: 40,
  formats: new Map<TracepointName, TracepointFormat>([['skb/kfree_skb', parseTracepointFormat(fixture('kfree_skb-6.18.format'))]]),
};
// datagram n's first 4 payload bytes (big-endian) as bpftrace reads them: a little-endian u64
const le = (n: number): number => (((n & 0xff) << 24) | (((n >> 8) & 0xff) << 16) | (((n >> 16) & 0xff) << 8) | (n >>> 24)) >>> 0;
const cal = { kernelNs: 0, offsetNs: 1_700_000_000_000_000_000n, halfNs: 5000 };

describe("assembling one lab's events from a shared bpftrace", () => {
  // @drops counted the run's first drop (its D line); the 1990 after it are in the open run's count
  it('names registration numbers by namespace, decodes the counters, folds open runs and counts nothing lost when every line came', async () => {
    const k = await assembleKernelEvents({
      support,
      lines: [
        'S 1000 7 ffff1 7 2 0 8080 ::ffff:10.0.0.1 ::ffff:10.0.0.2',
        `D 2000 8 6 2048 4 17 10.0.0.1 10.0.0.2 40000 5000 108 ${le(9)} ffffffff820a7607`,
      ],
      maps: { '@emitted': { '7,1': 1, '8,6': 1 }, '@drops': { '8,6': 1 }, '@run': { '8,6,40000,5000': [1999, 1991, 9000] } },
      gens: new Map([[7, 'lab-client'], [8, 'lab-server']]),
      namespaces: [{ netns: 'lab-client', inode: 4026532174 }, { netns: 'lab-server', inode: 4026532175 }],
      startCal: cal, endCal: cal, lostReported: 0, startMs: 4, cpuMs: 10,
    });
    expect(k.available).toBe(true);
    if (!k.available) return;
    expect(k.events.map((e) => e.netns)).toEqual(['lab-client', 'lab-server']);
    expect(k.emitted).toEqual({ state: 1, drop: 1 });
    expect(k.dropCounts).toEqual([{ netns: 'lab-server', reason: 'SOCKET_RCVBUFF', count: 1991 }]);
    const d = k.events[1] as DropEvent;
    expect([d.count, d.lastNumber]).toEqual([1991, 1999]);
    expect(k.lost).toBe(0);
    expect(k.events[0]!.time).toBeCloseTo(1_700_000_000 + 1e-6, 6);
  });

  it('counts as lost what the kernel emitted and no line carried, or what bpftrace reported lost, whichever is more', async () => {
    const base = {
      support, lines: ['S 1000 7 ffff1 7 2 0 8080 ::ffff:10.0.0.1 ::ffff:10.0.0.2'], gens: new Map([[7, 'ns']]), namespaces: [],
      startCal: cal, endCal: null, startMs: 0, cpuMs: null,
    };
    expect((await assembleKernelEvents({ ...base, maps: { '@emitted': { '7,1': 4 } }, lostReported: 0 })) as { lost: number }).toMatchObject({ lost: 3 });
    expect((await assembleKernelEvents({ ...base, maps: { '@emitted': { '7,1': 4 } }, lostReported: 5 })) as { lost: number }).toMatchObject({ lost: 5 });
  });
});
