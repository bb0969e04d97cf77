/**
 * What a sandbox leaves behind: nothing in the host namespace (rules, links, addresses, routes,
 * sysctls), nothing after a SIGKILLed owner once cleanupStale() ran, and nothing seen across two
 * sandboxes with identical addresses.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCapture } from '../../../src/capture/live.js';
import { run } from '../../../src/sandbox/command.js';
import { cleanupStale, createSandbox, listSandboxNamespaces } from '../../../src/sandbox/index.js';
import { readPcap } from '../capture/pcap-read.js';
import { ensureBuilt } from './build.js';
import { tcpEcho, waitExit, waitLine } from './helpers.js';
import { hostState } from '../../support/host-state.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wirelab-lifecycle-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('leaves the host namespace exactly as it was', async () => {
  const before = hostState();
  const sb = await createSandbox({ kind: 'router', mtu: 1400 }, { label: 'host-unchanged' });
  await sb.setSysctls({ 'net.ipv4.tcp_synack_retries': 1, 'net.core.somaxconn': 11, 'net.ipv4.tcp_syncookies': 0 });
  await sb.applyFaults([
    { kind: 'random-loss', name: 'r', at: 'server', match: { proto: 'udp' }, percent: 10 },
    { kind: 'drop-window', name: 'w', at: 'router', match: { tcp: 'pure-ack' }, armed: true },
  ]);
  const cap = await startCapture({ sandbox: sb, role: 'server', file: join(dir, 'host.pcap'), backend: 'tcpdump' });
  expect((await tcpEcho(sb, 4)).out).toContain('ECHO hello');
  await cap.stop();
  const { netns: _ours, ...beforeWithoutNs } = before;
  expect(hostState({ namespaces: false })).toEqual(beforeWithoutNs); // while it exists, too (but for its own namespaces)
  await sb.destroy();
  expect(hostState()).toEqual(before);
  expect((await listSandboxNamespaces()).filter((n) => n.id === sb.id)).toEqual([]);
  const td = await run(['pgrep', '-f', `tcpdump.*${join(dir, 'host.pcap')}`]);
  expect(td.stdout.trim()).toBe('');
});

it('cleanupStale() removes the namespaces (and processes) of a SIGKILLed owner', async () => {
  const js = ensureBuilt('dist/src/sandbox/index.js', 'src/sandbox');
  const SCRIPT = `
    const { createSandbox } = await import(process.argv[1]);
    const sb = await createSandbox({ kind: 'veth' }, { label: 'doomed' });
    sb.spawn('server', ['sleep', '300'], { stdio: 'ignore' });
    console.log('READY ' + sb.id + ' ' + sb.host('server').netns);
    setInterval(() => {}, 1000);`;
  const childProc = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, js], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitLine(childProc, /READY (\S+) (\S+)/, 10_000);
  const [id, serverNs] = [m[1]!, m[2]!];
  await new Promise((r) => setTimeout(r, 200)); // let the sleep start inside
  const pids = (await run(['ip', 'netns', 'pids', serverNs])).stdout.trim().split(/\s+/).map(Number);
  expect(pids.length).toBeGreaterThanOrEqual(2); // the holder and the sleep
  childProc.kill('SIGKILL');
  await waitExit(childProc);
  const left = (await listSandboxNamespaces()).filter((n) => n.id === id);
  expect(left.map((n) => n.role).sort()).toEqual(['client', 'server']);
  expect(left.every((n) => !n.ownerAlive)).toBe(true);
  const removed = await cleanupStale();
  expect(removed.sort()).toEqual(left.map((n) => n.name).sort());
  expect((await run(['ip', 'netns', 'list'])).stdout).not.toContain(id);
  const deadline = Date.now() + 2000;
  const alive = (pid: number): boolean => {
    try {
      return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
    } catch {
      return false;
    }
  };
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(pids.filter(alive)).toEqual([]);
});

it('two sandboxes with identical addresses and ports do not see each other', async () => {
  const [a, b] = await Promise.all([
    createSandbox({ kind: 'veth' }, { label: 'twin-a' }),
    createSandbox({ kind: 'veth' }, { label: 'twin-b' }),
  ]);
  try {
    expect(a.host('server').addr4).toBe(b.host('server').addr4);
    const capA = await startCapture({ sandbox: a, role: 'server', file: join(dir, 'a.pcap'), backend: 'tcpdump', filter: 'tcp' });
    const capB = await startCapture({ sandbox: b, role: 'server', file: join(dir, 'b.pcap'), backend: 'tcpdump', filter: 'tcp' });
    const first = await tcpEcho(a, 4);
    expect(first.out).toContain('ECHO hello');
    // the same server port in both at once
    const both = await Promise.all([tcpEcho(a, 4, first.port), tcpEcho(b, 4, first.port)]);
    for (const r of both) expect(r.out).toContain('ECHO hello');
    await capA.stop();
    await capB.stop();
    const pa = await readPcap(join(dir, 'a.pcap'));
    const pb = await readPcap(join(dir, 'b.pcap'));
    const syns = (rb: typeof pa): number => rb.packets.filter((p) => p.data[14 + 20 + 13] === 0x02).length;
    expect(syns(pa)).toBe(2);
    expect(syns(pb)).toBe(1);
  } finally {
    await Promise.all([a.destroy(), b.destroy()]);
  }
});

it.each([
  ['SIGTERM', 143],
  ['SIGINT', 130],
  ['throw', 1],
] as const)('an owner that gets %s removes its namespaces before it exits (%i)', async (how, code) => {
  const js = ensureBuilt('dist/src/sandbox/index.js', 'src/sandbox');
  const SCRIPT = `
    const { createSandbox } = await import(process.argv[1]);
    const sb = await createSandbox({ kind: 'veth' }, { label: 'signalled' });
    console.log('READY ' + sb.id);
    process.stdin.on('data', () => { throw new Error('boom'); });
    setInterval(() => {}, 1000);`;
  const childProc = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, js], { stdio: ['pipe', 'pipe', 'pipe'] });
  const id = (await waitLine(childProc, /READY (\S+)/, 10_000))[1]!;
  expect((await listSandboxNamespaces()).filter((n) => n.id === id).length).toBe(2);
  if (how === 'throw') childProc.stdin!.write('x');
  else childProc.kill(how);
  const exit = await new Promise<{ code: number | null; signal: string | null }>((r) => childProc.once('exit', (c, s) => r({ code: c, signal: s })));
  // the signal is re-raised after cleanup, so the owner dies of it (a shell reports 128+n: 130 / 143)
  if (how === 'throw') expect(exit.code).toBe(code);
  else expect(exit.signal).toBe(how);
  expect((await listSandboxNamespaces()).filter((n) => n.id === id)).toEqual([]);
});
