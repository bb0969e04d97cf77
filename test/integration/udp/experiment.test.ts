/**
 * Real UDP experiments in fresh namespaces (real sockets, tcpdump, nftables): the loss a user sees
 * and the attribution of every lost datagram to its cause, over IPv4 and IPv6. Small counts keep
 * them fast; the counts that must match the kernel match exactly, random ones carry a tolerance.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../../../src/sandbox/index.js';
import { runUdp, runUdpInFreshSandbox } from '../../../src/udp/engine.js';
import { DEFAULT_PARAMS, type UdpParams } from '../../../src/udp/params.js';
import type { UdpCauseId, UdpResult } from '../../../src/udp/result.js';
import { isRoot } from '../../support/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wirelab-udp-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const run = (p: Partial<UdpParams>): Promise<UdpResult> => runUdpInFreshSandbox({ ...DEFAULT_PARAMS, ...p }, { dir, name: `t${n++}` });
const cause = (r: UdpResult, id: UdpCauseId): number => r.attribution.causes.find((c) => c.cause === id)!.datagrams;

describe.skipIf(!isRoot)('wirelab udp experiments', () => {
  for (const family of [4, 6] as const) {
    it(`IPv${family}: a 4 KiB receive buffer loses datagrams, and every one is charged to the receive buffer`, async () => {
      const r = await run({ family, count: 2000, size: 100, rate: 'max', rcvbuf: 4096, workUs: 50 });
      expect(r.rcvbuf.effective).toBe(8192); // the kernel doubles SO_RCVBUF
      expect(r.sender.errors).toBe(0);
      expect(r.receiver.lost).toBeGreaterThan(0);
      expect(r.receiver.lost).toBe(2000 - r.receiver.received);
      expect(cause(r, 'receive-buffer')).toBe(r.receiver.lost);
      expect(r.attribution.unexplained).toBe(0);
      expect(r.counters.receiver[family === 6 ? 'Udp6.RcvbufErrors' : 'Udp.RcvbufErrors']).toBe(r.receiver.lost);
      expect(r.capture.complete).toBe(true);
      expect(r.capture.packets).toBe(2000); // the capture saw every datagram reach the host
    });

    it(`IPv${family}: a generous buffer and paced sends lose nothing`, async () => {
      const r = await run({ family, count: 2000, size: 1000, rate: 5000, pace: true, rcvbuf: 4 << 20 });
      expect(r.receiver.lost).toBe(0);
      expect(r.receiver.received).toBe(2000);
      expect(r.receiver.duplicates).toBe(0);
      expect(r.receiver.outOfOrder).toBe(0);
      expect(r.attribution.unexplained).toBe(0);
      expect(r.receiver.lossText).toBe('0%');
      expect(r.sender.ratePerSec).toBeGreaterThan(5000 * 0.6); // a loaded machine can hold the sender back, never speed it up
      expect(r.sender.ratePerSec).toBeLessThan(5000 * 1.2);
      expect(r.receiver.jitterMs).toBeGreaterThanOrEqual(0);
    });

    it(`IPv${family}: datagrams longer than the rule's logged copy (4000 bytes on loopback) are still tied to the rule`, async () => {
      const r = await run({ family, count: 1000, size: 4000, rate: 5000, pace: true, rcvbuf: 4 << 20, loss: 10 });
      expect(r.fragments.packetsPerDatagram).toBe(1); // lo's MTU is 65536
      expect(r.receiver.lost).toBeGreaterThan(40); // mean 100, sd 9.5
      expect(cause(r, 'injected-loss')).toBe(r.receiver.lost);
      expect(r.attribution.unexplained).toBe(0);
      expect(r.attribution.notes).toEqual([]);
    });

    it(`IPv${family}: an injected 10% loss on a veth pair is charged to the rule, datagram by datagram`, async () => {
      const r = await run({ family, topology: 'veth', count: 3000, size: 100, rate: 10_000, pace: true, rcvbuf: 4 << 20, loss: 10 });
      // 3000 draws at p = 0.1: mean 300, sd 16.4; 6 sd either side
      expect(r.receiver.lost).toBeGreaterThan(200);
      expect(r.receiver.lost).toBeLessThan(400);
      expect(cause(r, 'injected-loss')).toBe(r.receiver.lost);
      expect(r.counters.ruleDropped).toBe(r.receiver.lost); // one packet per datagram
      expect(r.attribution.unexplained).toBe(0);
      expect(r.fragments.model?.packetsPerDatagram).toBe(1);
    });
  }

  it('IPv4: 4000-byte datagrams over MTU 1500 travel as 3 fragments; 10% packet loss kills about 1-(0.9)^3 of them, all charged to the rule', async () => {
    const r = await run({ topology: 'veth', count: 2000, size: 4000, rate: 5000, pace: true, rcvbuf: 4 << 20, loss: 10 });
    expect(r.fragments.packetsPerDatagram).toBe(3);
    expect(r.fragments.model?.predictedLossPercent).toBeCloseTo(27.1, 1);
    // 2000 draws at p = 0.271: sd 1.0 percentage points; 6 sd either side
    expect(r.receiver.lossPercent).toBeGreaterThan(21);
    expect(r.receiver.lossPercent).toBeLessThan(33);
    expect(cause(r, 'injected-loss')).toBe(r.receiver.lost);
    expect(r.attribution.unexplained).toBe(0);
    // each datagram that lost some but not all of its fragments failed reassembly once
    expect(r.counters.receiver['Ip.ReasmFails'] ?? 0).toBeGreaterThan(0);
  });

  it('IPv4: a receiver that works 500 µs between reads loses datagrams at 4k/s; reading into a queue and working in a worker thread loses none', async () => {
    const common = { count: 3000, size: 100, rate: 4000, pace: true, workUs: 500, rcvbuf: 256 << 10 } as const;
    const inline = await run({ ...common, reader: 'inline' });
    expect(inline.receiver.lost).toBeGreaterThan(0);
    expect(cause(inline, 'receive-buffer')).toBe(inline.receiver.lost);
    expect(inline.attribution.unexplained).toBe(0);
    const queued = await run({ ...common, reader: 'queue' });
    expect(queued.receiver.lost).toBe(0);
    expect(queued.receiver.received).toBe(3000);
  });

  it('a lab can run several experiments in its own sandbox; after one that injected loss it is told to use a fresh sandbox', async () => {
    const sb = await createSandbox({ kind: 'loopback' }, { label: 'udp-twice' });
    try {
      const a = await runUdp(sb, { ...DEFAULT_PARAMS, count: 300, size: 100, rate: 5000, rcvbuf: 1 << 20 }, { dir, name: 'twice-a' });
      const b = await runUdp(sb, { ...DEFAULT_PARAMS, count: 300, size: 100, rate: 5000, rcvbuf: 1 << 20, loss: 50 }, { dir, name: 'twice-b' });
      expect(a.receiver.lost).toBe(0);
      expect(a.capture.packets).toBe(300); // counters and captures are per run
      expect(cause(b, 'injected-loss')).toBe(b.receiver.lost);
      await expect(runUdp(sb, { ...DEFAULT_PARAMS, count: 300 }, { dir, name: 'twice-c' })).rejects.toMatchObject({ code: 'BAD_USAGE' });
    } finally {
      await sb.destroy();
    }
  });

  it('a kernel drop-reason source (the seam for kernel events) is started before the first datagram and stopped after the last', async () => {
    const calls: string[] = [];
    const source = {
      start: async (sb: { id: string }) => void calls.push(`start ${sb.id}`),
      stop: async () => {
        calls.push('stop');
        return { byReason: { SOCKET_RCVBUFF: 7 } };
      },
    };
    const r = await runUdpInFreshSandbox({ ...DEFAULT_PARAMS, count: 200, size: 100, rate: 5000, rcvbuf: 1 << 20 }, { dir, name: 'seam', dropReasons: source });
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatch(/^start /);
    expect(calls[1]).toBe('stop');
    expect(r.kernelReasons).toEqual({ SOCKET_RCVBUFF: 7 });
  });
});
