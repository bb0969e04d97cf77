/**
 * The closing labs (part a: server-first close, half-close, three-segment close, TIME_WAIT), run for
 * real through the CLI (namespaces, sockets, tcpdump) in one run per family: each lab's verdict, each
 * claim's verdict, and the measured values the differs verdicts carry. `wirelab claims --json` shows
 * their claims covered, and a bad param is refused before anything runs.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot, runCli } from '../../support/cli.js';
import { runLabs } from '../../support/lab-run.js';

const LABS = ['server-first-close', 'half-close', 'three-segment-close', 'time-wait'];
const EXPECTED: Record<string, Record<string, string>> = {
  'server-first-close': { C01: 'confirmed', C06: 'confirmed' },
  'half-close': { C03: 'confirmed' },
  'three-segment-close': { C07: 'differs' },
  'time-wait': { C08: 'differs', C10: 'differs' },
};

describe.skipIf(!isRoot)('the closing labs, part a (needs root)', () => {
  for (const family of [4, 6] as const) {
    it(`all four pass over IPv${family} with the expected verdict for each claim`, async () => {
      const r = await runLabs(LABS, family, { jobs: 4, timeoutMs: 240_000, tag: 'close-a' });
      const { labs, failed } = r;
      expect(failed, r.stderr).toEqual([]);
      expect(labs.map((l) => [l.lab, l.family, l.verdict, l.reason])).toEqual(LABS.map((n) => [n, family, 'pass', null]));
      expect(r.code).toBe(0);
      for (const l of labs) {
        expect(Object.fromEntries(l.claims.map((c) => [c.id, c.verdict])), l.lab).toEqual(EXPECTED[l.lab]);
        expect(l.story, l.lab).toMatch(/\d/);
      }
      const claim = (lab: string, id: string) => labs.find((l) => l.lab === lab)!.claims.find((c) => c.id === id)!;
      // The evidence and the differs notes carry this run's numbers.
      expect(claim('server-first-close', 'C06').evidence).toMatch(/its socket showed TIME_WAIT with (5\d|60)\.\d\d s left/);
      expect(claim('half-close', 'C03').evidence).toMatch(/1048576 bytes over \d\.\d\d s, each ack = u\+1/);
      expect(claim('three-segment-close', 'C07').differs!.measured).toMatch(/^A closed [\d.]+ ms after the FIN: 3 segments; B's timer fired at [\d.]+ ms, its FIN at [\d.]+ ms: 4 segments$/);
      expect(claim('time-wait', 'C08').differs!.measured).toMatch(/^the timer started at (59|60)\.\d\d s$/);
      expect(claim('time-wait', 'C10').evidence).toContain('bind() without SO_REUSEADDR got EADDRINUSE');
      expect(claim('time-wait', 'C10').evidence).toContain('without timestamps connect() from port 40002 got EADDRNOTAVAIL');
      expect(claim('time-wait', 'C10').differs!.measured).toMatch(/\(ISN \+65537\); ephemeral port reused \d+\.\d\d s after the last timestamp$/);
    }, 260_000);
  }
});

describe('the closing labs, part a, without running them', () => {
  it('`wirelab claims --json` lists each lab under its claims', async () => {
    const r = await runCli(['claims', '--json', '--captures', mkdtempSync(path.join(os.tmpdir(), 'wl-none-'))]);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; labs: string[] }[];
    const labsOf = (id: string): string[] => rows.find((x) => x.id === id)!.labs;
    for (const [lab, claims] of Object.entries(EXPECTED)) for (const id of Object.keys(claims)) expect(labsOf(id), id).toContain(lab);
  });

  it('a bad param is refused with exit 2 before anything runs', async () => {
    const a = await runCli(['run', 'time-wait', '--param', 'full=maybe']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('full');
    const b = await runCli(['run', 'three-segment-close', '--param', 'lateMs=10']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('lateMs must be within 100..5000');
    expect(a.stderr + b.stderr).not.toMatch(/\n\s+at /);
    expect(a.stdout + b.stdout).toBe('');
  });
});
