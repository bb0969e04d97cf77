/**
 * The house rule: labs never touch the host's network namespace, clean up after themselves even when
 * killed, and two labs at once do not see each other's packets.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, isRoot, root, runCli } from '../../support/cli.js';
import { hostState, sh } from '../../support/host-state.js';


function wirelabNamespaces(): string[] {
  return sh('ip netns list').split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith('wirelab-'));
}

describe.skipIf(!isRoot)('isolation (needs root)', () => {
  it('a run leaves the host namespace exactly as it found it', async () => {
    const before = hostState();
    const out = mkdtempSync(path.join(os.tmpdir(), 'wl-iso-'));
    // --all: every lab over IPv4 and IPv6, the whole catalogue under the 5-minute bar.
    const started = Date.now();
    const r = await runCli(['run', '--all', '--out', out], { timeoutMs: 300_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain('over IPv4 and IPv6');
    expect(Date.now() - started).toBeLessThan(300_000);
    expect(hostState()).toEqual(before);
  }, 310_000);

  it('a run killed with SIGKILL mid-lab leaves namespaces that the next run removes', async () => {
    const child = spawn(process.execPath, [cliPath, 'run', 'four-way-close', '--out', mkdtempSync(path.join(os.tmpdir(), 'wl-kill-'))], { cwd: root, stdio: 'ignore' });
    const mine = (): string[] => wirelabNamespaces().filter((n) => n.startsWith(`wirelab-${child.pid}-`));
    const deadline = Date.now() + 15_000;
    while (mine().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(mine().length, 'the run created its namespace').toBeGreaterThan(0);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(mine().length, 'SIGKILL gives no chance to clean up: the namespace is still there').toBeGreaterThan(0);
    // The next run cleans up before it starts.
    const r = await runCli(['run', 'handshake', '--out', mkdtempSync(path.join(os.tmpdir(), 'wl-kill-'))], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(mine()).toEqual([]);
    expect(sh(`ps -eo pid,args | grep -v grep | grep 'wirelab-${child.pid}-' || true`).trim()).toBe('');
  });

  it('SIGINT mid-lab removes its namespaces and keeps what was captured', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'wl-int-'));
    const pcap = path.join(out, 'four-way-close.pcap');
    const child = spawn(process.execPath, [cliPath, 'run', 'four-way-close', '--out', out], { cwd: root, stdio: 'ignore' });
    const mine = (): string[] => wirelabNamespaces().filter((n) => n.startsWith(`wirelab-${child.pid}-`));
    const size = (): number => (existsSync(pcap) ? statSync(pcap).size : 0);
    // Interrupt once the handshake is on file (24-byte header + records), before the lab ends.
    const deadline = Date.now() + 15_000;
    while (size() < 24 + 3 * 80 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    expect(mine().length, 'interrupted while the lab was running').toBeGreaterThan(0);
    child.kill('SIGINT');
    const how = await new Promise<string>((r) => child.once('exit', (c, sig) => r(sig ?? `code ${c}`)));
    // It dies of the signal after cleaning up (the shell sees 130), or exits 130 itself.
    expect(['SIGINT', 'code 130']).toContain(how);
    expect(mine()).toEqual([]);
    // Nothing already captured is lost: the file reads whole, the handshake is in it.
    const r = await runCli(['inspect', pcap, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout) as { tcp: { handshake: { complete: boolean } }[] };
    expect(j.tcp[0]?.handshake.complete).toBe(true);
  });

  it('two labs in parallel each capture only their own connection', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'wl-par-'));
    const r = await runCli(['run', 'handshake', 'four-way-close', '--jobs', '2', '--json', '--out', out], { timeoutMs: 90_000 });
    const report = JSON.parse(r.stdout) as { labs: { lab: string; durationMs: number; inspect: { tcp: { server: string }[]; udp: unknown[] } }[] };
    // Both use 127.0.0.1 in their own namespaces: each capture holds exactly its own one connection.
    for (const l of report.labs) {
      expect(l.inspect.tcp, l.lab).toHaveLength(1);
      expect(l.inspect.udp, l.lab).toHaveLength(0);
    }
  });
});
