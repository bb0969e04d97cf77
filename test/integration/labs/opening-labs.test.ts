/**
 * The connection-opening labs, run for real through the CLI (real namespaces, sockets, tcpdump,
 * crafted packets), over IPv4 and IPv6: each lab's verdict and each claim's verdict. Bad input is
 * refused before anything runs (exit 2), and `wirelab claims --json` shows H01-H11 covered.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot, runCli } from '../../support/cli.js';
import { runLabs } from '../../support/lab-run.js';

const OPENING = ['handshake', 'third-segment-data', 'isn', 'stale-syn', 'queues', 'lost-third-ack', 'syn-flood'];
const EXPECTED: Record<string, string> = {
  H01: 'confirmed', H02: 'confirmed', H03: 'confirmed', H04: 'confirmed', H06: 'confirmed',
  H05: 'confirmed', H07: 'differs', H08: 'confirmed', H09: 'confirmed', H10: 'confirmed', H11: 'differs',
};

describe.skipIf(!isRoot)('the opening labs (needs root)', () => {
  for (const family of [4, 6] as const) {
    it(`all seven pass over IPv${family} with the expected verdict for H01-H11`, async () => {
      const r = await runLabs(OPENING, family, { jobs: 4, timeoutMs: 180_000, tag: 'open' });
      const { labs, failed } = r;
      expect(failed, r.stderr).toEqual([]);
      expect(labs.map((l) => [l.lab, l.family, l.verdict, l.reason])).toEqual(OPENING.map((n) => [n, family, 'pass', null]));
      expect(r.code).toBe(0);
      expect(r.verdicts).toEqual(EXPECTED);
      const { claims } = r;
      // The differs verdicts carry this run's measured value.
      expect(claims.H07!.differs!.measured).toMatch(/^15\.\d\d million\/s along one 4-tuple/);
      expect(claims.H11!.differs!.measured).toMatch(/^\d+ unanswered SYNs over \d/);
      for (const l of labs) expect(l.story, l.lab).toMatch(/\d/);
    }, 200_000);
  }
});

describe('bad input is refused before anything runs', () => {
  it('an unknown param: exit 2 naming the lab\'s params and their types', async () => {
    const r = await runCli(['run', 'lost-third-ack', '--param', 'bad=1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('lab lost-third-ack has no param "bad"');
    expect(r.stderr).toContain('synackRetries (int 1..4, default 2)');
    expect(r.stdout).toBe('');
  });

  it('a value out of range or of the wrong type: exit 2', async () => {
    const a = await runCli(['run', 'lost-third-ack', '--param', 'synackRetries=9']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--param synackRetries=9: synackRetries must be within 1..4');
    const b = await runCli(['run', 'queues', '--param', 'backlog=two']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('backlog is a whole number');
    expect(a.stderr + b.stderr).not.toMatch(/\n\s+at /);
  });

  it('a param no selected lab takes, among several labs: exit 2 listing what they take', async () => {
    const r = await runCli(['run', 'handshake', 'queues', '--param', 'flood=3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--param flood: none of the selected labs takes it (they take queues: backlog)');
  });
});

describe('wirelab claims', () => {
  it('--json lists every claim with the labs covering it; H01-H11 are each covered', async () => {
    const r = await runCli(['claims', '--json', '--captures', mkdtempSync(path.join(os.tmpdir(), 'wl-none-'))]);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: string; text: string; labs: string[]; last: unknown }[];
    expect(rows.map((x) => x.id).slice(0, 11)).toEqual(['H01', 'H02', 'H03', 'H04', 'H05', 'H06', 'H07', 'H08', 'H09', 'H10', 'H11']);
    for (const row of rows.slice(0, 11)) expect(row.labs.length, row.id).toBeGreaterThan(0);
    expect(rows.find((x) => x.id === 'H10')!.labs).toEqual(['lost-third-ack']);
    // Every claim of the catalogue has a lab now (38: H01-H11, C01-C12, T01-T07, U01-U08); with no runs there is no last verdict.
    expect(rows).toHaveLength(38);
    expect(rows.filter((x) => x.labs.length === 0).map((x) => x.id)).toEqual([]);
    expect(rows.every((x) => x.last === null)).toBe(true);
  });

  it.skipIf(!isRoot)('shows the last verdict and its evidence once a run exists', async () => {
    const captures = mkdtempSync(path.join(os.tmpdir(), 'wl-caps-'));
    const run = await runCli(['run', 'handshake', '--json', '--out', path.join(captures, 'run1')], { timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    const r = await runCli(['claims', '--json', '--captures', captures]);
    const h01 = (JSON.parse(r.stdout) as { id: string; last: { verdict: string; evidence: string; lab: string } | null }[]).find((x) => x.id === 'H01')!;
    expect(h01.last).toMatchObject({ verdict: 'confirmed', lab: 'handshake', evidence: expect.stringMatching(/^packet \d+: SYN \(ACK=0\), seq x = \d+/) });
    const text = await runCli(['claims', '--captures', captures]);
    expect(text.stdout).toContain('last: confirmed (handshake, IPv4');
  });
});
