/** The CLI's promises to users: exit codes, clear errors with the fix, nothing on stdout but output. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_NETNS_INO, ownNetnsInode } from '../../../src/sandbox/container-mode.js';
import { cliPath, isRoot, root, runCli } from '../../support/cli.js';

describe('wirelab CLI', () => {
  it('list --json is the DESIGN.md contract', async () => {
    const r = await runCli(['list', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows.map((x) => x.lab)).toEqual([
      'handshake', 'third-segment-data', 'isn', 'stale-syn', 'queues', 'lost-third-ack', 'syn-flood',
      'four-way-close', 'server-first-close', 'half-close', 'three-segment-close', 'time-wait', 'lost-last-ack', 'simultaneous-close', 'rst',
      'segmentation', 'retransmission', 'window', 'reordering', 'duplicates', 'checksum',
      'slow-reader', 'big-datagram', 'rcvbuf', 'rate', 'wan-loss', 'sender-side', 'mtu-fragments',
    ]);
    for (const row of rows) {
      // The contract's keys first; topic, families and typed params follow.
      expect(Object.keys(row).slice(0, 5)).toEqual(['lab', 'claims', 'title', 'seconds', 'needs']);
      expect(Array.isArray(row.claims) && (row.claims as string[]).every((c) => /^[HCTU]\d\d$/.test(c))).toBe(true);
    }
  });

  it('an unknown lab exits 2 and lists the labs', async () => {
    const r = await runCli(['run', 'no-such-lab']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no lab named "no-such-lab"');
    expect(r.stderr).toContain('handshake');
    expect(r.stdout).toBe('');
  });

  it('an unknown command and a bad flag exit 2 with usage, no stack trace', async () => {
    const a = await runCli(['frobnicate']);
    expect(a.code).toBe(2);
    const b = await runCli(['inspect', '--bogus', 'x.pcap']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('usage: wirelab inspect');
    expect(a.stderr + b.stderr).not.toMatch(/\n\s+at /);
  });

  it('COMMAND --help prints that command\'s usage and exits 0; after -- it belongs to the captured program', async () => {
    for (const [argv, usage] of [[['run', '--help'], 'wirelab run LAB'], [['sweep', 'udp', '-h'], 'wirelab sweep udp --rcvbuf'], [['inspect', 'x.pcap', '--help'], 'wirelab inspect FILE']] as const) {
      const r = await runCli([...argv]);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stdout).toContain(usage);
      expect(r.stdout).not.toContain('wirelab doctor');
      expect(r.stdout).toContain('exit codes:');
    }
  });

  it('inspect of a missing file, a directory and an empty file exits 2 naming the problem', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wl-cli-'));
    const empty = path.join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    for (const [file, words] of [[path.join(dir, 'nope.pcap'), /no such file|not found|does not exist/i], [dir, /directory/i], [empty, /empty/i]] as const) {
      const r = await runCli(['inspect', file]);
      expect(r.code, `${file}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(words);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it.skipIf(!isRoot)('run without CAP_NET_ADMIN (a container without --cap-add) exits 3 with the fix', async () => {
    const r = await runCli(['run', 'handshake'], { prefix: ['setpriv', '--bounding-set=-all', '--inh-caps=-all', '--'] });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/CAP_NET_ADMIN/);
    expect(r.stderr).toMatch(/--cap-add NET_ADMIN/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  // In a container's own namespace the same run goes ahead one lab at a time (container-mode.test.ts).
  it.skipIf(!isRoot || ownNetnsInode() !== HOST_NETNS_INO)('run without CAP_SYS_ADMIN in the host\'s network namespace exits 3 before any lab starts', async () => {
    const r = await runCli(['run', '--all'], { prefix: ['setpriv', '--bounding-set=-sys_admin', '--inh-caps=-all', '--'] });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/CAP_SYS_ADMIN/);
    expect(r.stderr).toMatch(/--cap-add SYS_ADMIN/);
    expect(r.stdout).toBe('');
  });

  // The checkout must be readable by `nobody` (a CI clone under a private temp dir is not).
  const nobodyCanRead = isRoot && spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', cliPath]).status === 0;
  it.skipIf(!nobodyCanRead)('run as an unprivileged user exits 3 and says to run as root (skipped when nobody cannot read the checkout)', async () => {
    const r = await runCli(['run', 'handshake'], { prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'] });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/root/);
    expect(r.stderr).toMatch(/sudo|cap-add/);
  });

  it.skipIf(!isRoot)('capture -- node program annotates the connection the user program made', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'wl-cap-'));
    const r = await runCli(['capture', '--json', '--out', out, '--', process.execPath, path.join(root, 'test/fixtures/programs/echo-pair.mjs')], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('echo: hello wirelab');
    const j = JSON.parse(r.stdout) as { tcp: { handshake: { complete: boolean }; bytes: { client: number; server: number }; close: { kind: string; initiator: string } }[] };
    expect(j.tcp).toHaveLength(1);
    expect(j.tcp[0]!.handshake.complete).toBe(true);
    expect(j.tcp[0]!.bytes).toEqual({ client: 14, server: 14 });
    expect(j.tcp[0]!.close.initiator).toBe('client');
  });

  it.skipIf(!isRoot)('doctor reports what labs need and exits 0 here', async () => {
    const r = await runCli(['doctor', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[]; sysctls: Record<string, string> };
    expect(d.ok).toBe(true);
    expect(d.checks.find((c) => c.name === 'network namespaces')?.ok).toBe(true);
    expect(d.sysctls['net.ipv4.tcp_synack_retries']).toMatch(/^\d+$/);
  });
});

describe.skipIf(!isRoot)('capture backends', () => {
  it('--backend raw-socket runs the IPv4 labs and states its limits', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'wl-raw-'));
    const r = await runCli(['run', 'handshake', '--backend', 'raw-socket', '--out', out], { timeoutMs: 60_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('capture limits: raw-socket backend: IPv4 only');
    expect(r.stdout).toContain('H03 confirmed');
  });

  it('--backend raw-socket with --ipv6 is refused (exit 2): it cannot see IPv6', async () => {
    const r = await runCli(['run', 'handshake', '--ipv6', '--backend', 'raw-socket']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/IPv4 only/);
  });
});
