/**
 * Both capture backends record a real TCP handshake inside a sandbox: the tcpdump backend (stop
 * flushes everything: the file holds exactly what tcpdump counted) and the raw-socket backend
 * (a readable link-type-228 pcap of the same kind of exchange).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture } from '../../../src/capture/live.js';
import { parseTcpdumpCounts } from '../../../src/capture/tcpdump.js';
import { createSandbox } from '../../../src/sandbox/index.js';
import type { Sandbox } from '../../../src/sandbox/types.js';
import { tcpEcho } from '../sandbox/helpers.js';
import { ensureHelperBuilt, ipOf, readPcap, tcpFlags, tsharkCount } from './pcap-read.js';

let sb: Sandbox;
let dir: string;
beforeAll(async () => {
  ensureHelperBuilt();
  sb = await createSandbox({ kind: 'loopback' }, { label: 'capture-test' });
  dir = mkdtempSync(join(tmpdir(), 'wirelab-capture-'));
});
afterAll(async () => {
  await sb?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const SYN = 0x02;
const ACK = 0x10;

function flagsOf(rb: Awaited<ReturnType<typeof readPcap>>): number[] {
  return rb.packets.map((p) => tcpFlags(ipOf(rb.linkType, p.data)!) ?? -1);
}

describe('tcpdump backend', () => {
  it('parses the closing counts', () => {
    const c = parseTcpdumpCounts('tcpdump: listening on lo\n12 packets captured\n24 packets received by filter\n3 packets dropped by kernel\n');
    expect(c).toEqual({ captured: 12, receivedByFilter: 24, droppedByKernel: 3 });
    expect(parseTcpdumpCounts('tcpdump: eth9: No such device exists')).toBeNull();
  });

  it('captures a handshake and flushes everything on stop', async () => {
    const file = join(dir, 'tcpdump.pcap');
    const cap = await startCapture({ sandbox: sb, role: 'client', file, backend: 'tcpdump' });
    let streamed = 0;
    cap.stream.on('data', (b: Buffer) => (streamed += b.length));
    await tcpEcho(sb, 4);
    await tcpEcho(sb, 6);
    const stats = await cap.stop();
    const rb = await readPcap(file);
    expect(rb.linkType).toBe(1);
    expect(stats.backend).toBe('tcpdump');
    expect(stats.captured).toBe(rb.packets.length);
    expect(stats.droppedByKernel).toBe(0);
    expect(stats.complete).toBe(true);
    expect(tsharkCount(file)).toBe(rb.packets.length);
    const f = flagsOf(rb);
    expect(f.filter((x) => x === SYN).length).toBe(2); // one SYN per family
    expect(f.filter((x) => x === (SYN | ACK)).length).toBe(2);
    expect(rb.packets.length).toBeGreaterThanOrEqual(2 * 9); // handshake 3 + data 2..4 + close 3..4, each family
    const { statSync } = await import('node:fs');
    expect(streamed).toBe(statSync(file).size);
  });

  it('fails with CAPTURE_START_FAILED and tcpdump\'s words for a missing interface', async () => {
    await expect(startCapture({ sandbox: sb, role: 'client', iface: 'nope0', file: join(dir, 'x.pcap'), backend: 'tcpdump' })).rejects.toMatchObject({
      code: 'CAPTURE_START_FAILED',
      message: expect.stringMatching(/nope0/),
    });
  });
});

describe('raw-socket backend', () => {
  it('writes a readable IPv4 pcap of a handshake', async () => {
    const file = join(dir, 'raw.pcap');
    const cap = await startCapture({ sandbox: sb, role: 'client', file, backend: 'raw-socket' });
    expect(cap.limits.join(' ')).toMatch(/IPv4 only/);
    await tcpEcho(sb, 4);
    const stats = await cap.stop();
    const rb = await readPcap(file);
    expect(rb.linkType).toBe(228);
    expect(stats.backend).toBe('raw-socket');
    expect(stats.captured).toBe(rb.packets.length);
    expect(tsharkCount(file)).toBe(rb.packets.length);
    const f = flagsOf(rb);
    expect(f.filter((x) => x === SYN).length).toBe(1);
    expect(f.filter((x) => x === (SYN | ACK)).length).toBe(1);
    expect(rb.packets.length).toBeGreaterThanOrEqual(9);
    for (const p of rb.packets) expect(p.data.readUInt16BE(2)).toBe(p.origLen);
    const now = Date.now() / 1000;
    expect(Math.abs(rb.packets[0]!.ts - now)).toBeLessThan(30);
  });
});
