/** Each topology comes up and a real TCP connection works across it, over IPv4 and IPv6; destroy leaves nothing. */
import { afterEach, describe, expect, it } from 'vitest';
import { createSandbox, listSandboxNamespaces } from '../../../src/sandbox/index.js';
import type { Sandbox, TopologySpec } from '../../../src/sandbox/types.js';
import { run } from '../../../src/sandbox/command.js';
import { tcpEcho } from './helpers.js';

let sb: Sandbox | null = null;
afterEach(async () => {
  await sb?.destroy();
  sb = null;
});

const cases: Array<[string, TopologySpec, string[]]> = [
  ['loopback', { kind: 'loopback' }, ['client', 'server']],
  ['veth', { kind: 'veth' }, ['client', 'server']],
  ['router', { kind: 'router', mtu: 1400, serverMtu: 1300 }, ['client', 'server', 'router']],
];

describe.each(cases)('topology %s', (_name, topo, roles) => {
  it('carries a real TCP connection over IPv4 and IPv6 and is gone after destroy', async () => {
    sb = await createSandbox(topo, { label: `topology-${topo.kind}` });
    expect([...sb.roles].sort()).toEqual([...roles].sort());
    for (const fam of [4, 6] as const) {
      const r = await tcpEcho(sb, fam);
      expect(r.out).toContain('ECHO hello');
    }
    // the holder lives in the namespace: its /proc/<pid>/net/tcp is the namespace's
    const pid = sb.nsPid('server');
    const link = await run(['readlink', `/proc/${pid}/ns/net`]);
    const self = await run(['readlink', '/proc/self/ns/net']);
    expect(link.stdout.trim()).not.toEqual(self.stdout.trim());
    const names = (await listSandboxNamespaces()).filter((n) => n.id === sb!.id).map((n) => n.name);
    expect(names.length).toBe(topo.kind === 'loopback' ? 1 : roles.length);
    if (topo.kind === 'router') {
      const mtu = await sb.exec('server', ['ip', '-o', 'link', 'show', 'eth0']);
      expect(mtu.stdout).toMatch(/mtu 1300/);
      const mtuC = await sb.exec('client', ['ip', '-o', 'link', 'show', 'eth0']);
      expect(mtuC.stdout).toMatch(/mtu 1400/);
      const fwdC = await sb.exec('client', ['cat', '/proc/sys/net/ipv4/ip_forward']);
      expect(fwdC.stdout.trim()).toBe('0');
    }
    await sb.destroy();
    await sb.destroy(); // idempotent
    const after = (await listSandboxNamespaces()).filter((n) => n.id === sb!.id);
    expect(after).toEqual([]);
    const ipl = await run(['ip', 'netns', 'list']);
    for (const n of names) expect(ipl.stdout).not.toContain(n);
  });
});

it('loopback mtu sets lo', async () => {
  sb = await createSandbox({ kind: 'loopback', mtu: 1500 }, { label: 'lo-mtu' });
  const r = await sb.exec('client', ['ip', '-o', 'link', 'show', 'lo']);
  expect(r.stdout).toMatch(/mtu 1500/);
  expect(sb.host('client').netns).toBe(sb.host('server').netns);
  expect(sb.host('client').addr4).toBe('127.0.0.1');
});
