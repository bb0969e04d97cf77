/**
 * The two proof labs, run for real through the CLI as a user runs them: real sockets in real
 * namespaces, a real tcpdump. Their verdicts, claims and captures are what users rely on.
 */
import { existsSync, readFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot, root, runCli } from '../../support/cli.js';

interface RunJson {
  run: string;
  dir: string;
  kernel: string;
  labs: {
    lab: string;
    verdict: string;
    reason: string | null;
    capture: string | null;
    durationMs: number;
    claims: { id: string; verdict: string; evidence: string }[];
    expectations: { text: string; ok: boolean; expected: unknown; actual: unknown }[];
    inspect: { tcp: { client: string; server: string; close: { kind: string; initiator: string | null }; timeWait: string | null; handshake: { complete: boolean } }[] } | null;
  }[];
}

describe.skipIf(!isRoot)('labs (needs root: namespaces and tcpdump)', () => {
  for (const family of [4, 6] as const) {
    it(`handshake and four-way-close pass over IPv${family}, with every claim confirmed`, async () => {
      const out = mkdtempSync(path.join(os.tmpdir(), 'wl-labs-'));
      const r = await runCli(['run', 'handshake', 'four-way-close', '--json', '--out', out, ...(family === 6 ? ['--ipv6'] : [])], { timeoutMs: 90_000 });
      const report = JSON.parse(r.stdout) as RunJson;
      const failed = report.labs.flatMap((l) => l.expectations.filter((e) => !e.ok).map((e) => `${l.lab}: ${e.text}: expected ${JSON.stringify(e.expected)} got ${JSON.stringify(e.actual)}`));
      expect(failed, r.stderr).toEqual([]);
      expect(report.labs.map((l) => [l.lab, l.verdict, l.reason])).toEqual([
        ['handshake', 'pass', null],
        ['four-way-close', 'pass', null],
      ]);
      expect(r.code).toBe(0);
      const verdicts = Object.fromEntries(report.labs.flatMap((l) => l.claims.map((c) => [c.id, c.verdict])));
      expect(verdicts).toEqual({ H01: 'confirmed', H02: 'confirmed', H03: 'confirmed', H04: 'confirmed', H06: 'confirmed', C01: 'confirmed', C02: 'confirmed', C04: 'confirmed', C05: 'confirmed', C06: 'confirmed' });
      // report.json on disk is the same object, and the captures exist where it says.
      const onDisk = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as RunJson;
      expect(onDisk.labs.map((l) => l.verdict)).toEqual(['pass', 'pass']);
      for (const l of report.labs) {
        expect(existsSync(path.resolve(root, l.capture!))).toBe(true);
        expect(l.inspect!.tcp).toHaveLength(1);
      }
      const close = report.labs[1]!.inspect!.tcp[0]!;
      expect(close.close).toEqual({ kind: 'four-way', initiator: 'client' });
      expect(close.timeWait).toBe('client');
      expect(close.server.startsWith(family === 6 ? '[::1]:' : '127.0.0.1:')).toBe(true);
    });
  }

  it('--param serverDelayMs=0 folds the server ACK into its FIN: a three-way close, C02 differs', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'wl-labs-'));
    const r = await runCli(['run', 'four-way-close', '--param', 'serverDelayMs=0', '--json', '--out', out], { timeoutMs: 60_000 });
    const report = JSON.parse(r.stdout) as RunJson;
    const lab = report.labs[0]!;
    // The server closes on EOF in its own process, well inside the ~40 ms delayed-ACK timer.
    const failed = lab.expectations.filter((e) => !e.ok).map((e) => `${e.text}: expected ${JSON.stringify(e.expected)} got ${JSON.stringify(e.actual)}`);
    expect(failed, r.stderr).toEqual([]);
    expect([lab.verdict, lab.reason, r.code]).toEqual(['pass', null, 0]);
    expect(lab.inspect!.tcp[0]!.close).toEqual({ kind: 'three-way', initiator: 'client' });
    expect(lab.inspect!.tcp[0]!.timeWait).toBe('client');
    expect(Object.fromEntries(lab.claims.map((c) => [c.id, c.verdict]))).toEqual({ C01: 'confirmed', C02: 'differs', C04: 'confirmed', C05: 'confirmed', C06: 'confirmed' });
  });

  it('--live prints annotated segments while the lab runs', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'wl-labs-'));
    const r = await runCli(['run', 'handshake', '--live', '--out', out], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[handshake\] #0 .*SYN/);
    expect(r.stdout).toContain('H01 confirmed');
  });
});

describe.skipIf(!isRoot)('the joined timeline (needs root)', () => {
  it('--timeline joins each packet with the socket states the kernel showed before it', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'wl-tl-'));
    const r = await runCli(['run', 'four-way-close', '--timeline', '--out', out], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => l.includes('/proc: client'));
    expect(rows.length).toBe(9); // one per captured segment
    // Before the SYN no client socket can have been seen: the join never shows a state from the future.
    expect(rows[0]).toMatch(/\/proc: client -;/);
    // Between the client's FIN and the server's own FIN (200 ms) the server's socket showed CLOSE_WAIT.
    const lines = r.stdout.split('\n');
    const serverFin = lines.findIndex((l) => l.includes('FIN: the server closes too'));
    expect(lines[serverFin + 1]).toMatch(/server CLOSE_WAIT/);
  });
});
