/** Sysctls are set inside the lab namespaces and read back; impossible ones fail with the reason. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSandbox } from '../../../src/sandbox/index.js';
import type { Sandbox } from '../../../src/sandbox/types.js';

let sb: Sandbox;
const hostBefore = readFileSync('/proc/sys/net/ipv4/tcp_synack_retries', 'utf8');
beforeAll(async () => {
  sb = await createSandbox({ kind: 'veth' }, { label: 'sysctl-test' });
});
afterAll(async () => {
  await sb?.destroy();
});

it('sets sysctls in every namespace and reads them back', async () => {
  const prev = (await sb.exec('server', ['cat', '/proc/sys/net/ipv4/tcp_synack_retries'])).stdout.trim();
  const want = prev === '2' ? 3 : 2;
  const res = await sb.setSysctls({ 'net.ipv4.tcp_synack_retries': want, 'net.ipv4.tcp_rmem': '4096 65536 1048576', 'net.core.somaxconn': 17 });
  expect(res.map((r) => [r.key, r.value, r.skipped])).toEqual([
    ['net.ipv4.tcp_synack_retries', String(want), false],
    ['net.ipv4.tcp_rmem', '4096 65536 1048576', false],
    ['net.core.somaxconn', '17', false],
  ]);
  expect(res[0]!.previous).toBe(prev);
  for (const role of ['client', 'server'] as const) {
    expect((await sb.exec(role, ['cat', '/proc/sys/net/core/somaxconn'])).stdout.trim()).toBe('17');
  }
  const one = await sb.setSysctls({ 'net.ipv4.tcp_syn_retries': 4 }, 'client');
  expect(one[0]!.value).toBe('4');
  expect((await sb.exec('server', ['cat', '/proc/sys/net/ipv4/tcp_syn_retries'])).stdout.trim()).not.toBe('4');
  expect(readFileSync('/proc/sys/net/ipv4/tcp_synack_retries', 'utf8')).toBe(hostBefore);
});

it('fails with SYSCTL_FAILED naming a key this kernel lacks, skips it when optional', async () => {
  await expect(sb.setSysctls({ 'net.ipv4.tcp_bogus_knob': 1 })).rejects.toMatchObject({
    code: 'SYSCTL_FAILED',
    message: expect.stringContaining('this kernel has no net.ipv4.tcp_bogus_knob'),
  });
  const r = await sb.setSysctls({ 'net.ipv4.tcp_bogus_knob': { value: 1, optional: true } });
  expect(r[0]).toMatchObject({ key: 'net.ipv4.tcp_bogus_knob', skipped: true, reason: expect.stringContaining('no net.ipv4.tcp_bogus_knob') });
});

it('says net.core.rmem_max is not settable per namespace, and a refused value is an error', async () => {
  await expect(sb.setSysctls({ 'net.core.rmem_max': 1048576 })).rejects.toMatchObject({
    code: 'SYSCTL_FAILED',
    message: expect.stringContaining('not settable per network namespace'),
  });
  await expect(sb.setSysctls({ 'net.ipv4.tcp_synack_retries': 'many' })).rejects.toMatchObject({ code: 'SYSCTL_FAILED' });
});
