/**
 * Container mode, as a container without CAP_SYS_ADMIN sees the machine: a network namespace of
 * its own (unshare -n), /proc/sys mounted read-only (what Docker does), CAP_SYS_ADMIN dropped
 * (setpriv). The real CLI runs in it, as root, with real sockets and tcpdump.
 */
import { chownSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_NETNS_INO, ownNetnsInode } from '../../../src/sandbox/container-mode.js';
import { isRoot, root, runCli, runProgram } from '../../support/cli.js';

const DROP = 'setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin';
const OWNER = 1000;

/** argv prefix: a fresh netns (+ mount ns), `pre` run as full root, /proc/sys read-only unless `rw`, then without CAP_SYS_ADMIN. */
function container(opts: { pre?: string; rw?: boolean; keepSysAdmin?: boolean } = {}): string[] {
  const ro = opts.rw ? 'true' : 'mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys';
  const script = `${opts.pre ?? 'true'} && ${ro} && exec ${opts.keepSysAdmin ? '' : DROP} "$@"`;
  return ['unshare', '-n', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh'];
}

function ownedDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wl-cmode-'));
  chownSync(dir, OWNER, OWNER);
  return dir;
}

/** Run a snippet (ESM, top-level await) against dist/ inside `prefix`; it prints one JSON line. */
function snippet(prefix: string[], code: string): ReturnType<typeof runProgram> {
  return runProgram([...prefix, process.execPath, '--input-type=module', '-e', code]);
}

/** Only where the test itself runs in the host's namespace (not when CI runs inside a container). */
const inHostNetns = ownNetnsInode() === HOST_NETNS_INO;

describe.skipIf(!isRoot)('container mode: no CAP_SYS_ADMIN, a namespace of its own, read-only /proc/sys', () => {
  it('runs loopback labs in its own namespace one at a time (even with --jobs 2), says so, and gives the files to the folder\'s owner', async () => {
    const dir = ownedDir();
    const r = await runCli(['run', 'handshake', 'four-way-close', '--jobs', '2', '--json', '--out', path.join(dir, 'run')], { prefix: container(), timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/own network namespace.*one at a time/);
    // Both labs judge "exactly one connection to 127.0.0.1 in my capture": run side by side on one lo, they would see each other's.
    const report = JSON.parse(r.stdout) as { labs: { lab: string; verdict: string }[] };
    expect(report.labs.map((l) => l.verdict)).toEqual(['pass', 'pass']);
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f));
    expect(files.filter((f) => f.endsWith('.pcap'))).toHaveLength(2);
    for (const f of files) expect([f, statSync(f).uid, statSync(f).gid]).toEqual([f, OWNER, OWNER]);
  }, 120_000);

  it('run --all skips a two-host lab with the flag to add; the runner never tries to build it', async () => {
    const code = `
      const { runLab } = await import(${JSON.stringify(path.join(root, 'dist/src/lab/runner.js'))});
      const lab = { name: 'two-hosts', title: 't', claims: ['H01'], seconds: 1, needs: ['root'], topology: { kind: 'veth' }, explanation: '',
        run: async () => { throw new Error('must not run'); }, judge: () => {} };
      const o = await runLab(lab, { family: 4, params: {}, outDir: '/tmp' });
      console.log(JSON.stringify({ verdict: o.verdict, reason: o.reason, claims: o.claims }));`;
    const r = await snippet(container(), code);
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { verdict: string; reason: string; claims: { verdict: string }[] };
    expect(o.verdict).toBe('skipped');
    expect(o.reason).toMatch(/lab two-hosts needs two hosts.*--cap-add SYS_ADMIN/);
    expect(o.claims.map((c) => c.verdict)).toEqual(['untestable']);
  });

  it('a topology with two hosts says which flag to add (exit 3)', async () => {
    const r = await runCli(['capture', '--topology', 'veth', '--', 'true'], { prefix: container() });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/two hosts.*no CAP_SYS_ADMIN.*--cap-add SYS_ADMIN/);
    expect(r.stdout).toBe('');
  });

  it.runIf(inHostNetns)('in the host\'s own network namespace it refuses instead (exit 3, the flag named)', async () => {
    const r = await runCli(['run', 'handshake'], { prefix: ['setpriv', '--inh-caps=-sys_admin', '--bounding-set=-sys_admin'] });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/CAP_SYS_ADMIN.*--cap-add SYS_ADMIN/);
  });

  it('a sysctl set by docker run --sysctl is taken as it is; another value names the exact --sysctl flag', async () => {
    const code = `
      const { setSysctlsIn } = await import(${JSON.stringify(path.join(root, 'dist/src/sandbox/sysctl.js'))});
      const own = { argv: [], ownNetns: true };
      const same = await setSysctlsIn('own', { 'net.ipv4.tcp_syn_retries': 4 }, own);
      let err = null;
      try { await setSysctlsIn('own', { 'net.ipv4.tcp_syn_retries': 3 }, own); } catch (e) { err = { code: e.code, message: e.message }; }
      console.log(JSON.stringify({ same, err }));`;
    const r = await snippet(container({ pre: 'sysctl -qw net.ipv4.tcp_syn_retries=4' }), code);
    expect(r.code, r.stderr).toBe(0);
    const { same, err } = JSON.parse(r.stdout) as { same: { value: string; skipped: boolean }[]; err: { code: string; message: string } };
    expect(same).toEqual([expect.objectContaining({ value: '4', skipped: false })]);
    expect(err.code).toBe('SYSCTL_FAILED');
    expect(err.message).toContain('read-only');
    expect(err.message).toContain('--sysctl net.ipv4.tcp_syn_retries=3');
    expect(err.message).toContain('systempaths=unconfined');
  });

  it('with CAP_SYS_ADMIN but read-only /proc/sys, a lab namespace\'s sysctl names systempaths=unconfined (--sysctl cannot reach it)', async () => {
    const code = `
      const { createSandbox } = await import(${JSON.stringify(path.join(root, 'dist/src/sandbox/index.js'))});
      const sb = await createSandbox({ kind: 'loopback' }, { label: 'ro-proc-sys' });
      let err = null;
      try { await sb.setSysctls({ 'net.ipv4.tcp_syn_retries': 3 }); } catch (e) { err = { code: e.code, message: e.message }; }
      await sb.destroy();
      console.log(JSON.stringify(err));`;
    const r = await snippet(container({ keepSysAdmin: true }), code);
    expect(r.code, r.stderr).toBe(0);
    const err = JSON.parse(r.stdout) as { code: string; message: string };
    expect(err.code).toBe('SYSCTL_FAILED');
    expect(err.message).toContain('--security-opt systempaths=unconfined');
    expect(err.message).not.toContain('--sysctl net.ipv4');
  });

  it('puts back what a lab changed in the shared namespace: sysctls, lo\'s MTU, the fault table', async () => {
    const code = `
      const { createSandbox } = await import(${JSON.stringify(path.join(root, 'dist/src/sandbox/index.js'))});
      const { execFileSync } = await import('node:child_process');
      const { readFileSync } = await import('node:fs');
      const read = () => ({ syn: readFileSync('/proc/sys/net/ipv4/tcp_syn_retries', 'utf8').trim(), mtu: / mtu (\\d+)/.exec(execFileSync('ip', ['-o', 'link', 'show', 'lo'], { encoding: 'utf8' }))[1] }); // not /sys: it shows the namespace it was mounted in
      const before = read();
      const sb = await createSandbox({ kind: 'loopback', mtu: 9000 }, { label: 'restore' });
      await sb.setSysctls({ 'net.ipv4.tcp_syn_retries': 2 });
      await sb.applyFaults([{ kind: 'random-loss', name: 'some', at: 'server', match: { proto: 'udp' }, percent: 10 }]);
      const during = { ...read(), tables: execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).trim() };
      await sb.destroy();
      const after = { ...read(), tables: execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' }).trim() };
      console.log(JSON.stringify({ before, during, after }));`;
    const r = await snippet(container({ rw: true }), code);
    expect(r.code, r.stderr).toBe(0);
    const { before, during, after } = JSON.parse(r.stdout) as Record<string, { syn: string; mtu: string; tables?: string }>;
    expect(during).toEqual({ syn: '2', mtu: '9000', tables: 'table inet wirelab' });
    expect(after).toEqual({ ...before, tables: '' });
  });
});
