/** `wirelab sweep udp`: bad grids rejected before anything runs; a small real grid writes CSV, JSON and an SVG plot. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, runCli } from '../../support/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'wirelab-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('wirelab sweep udp', () => {
  it.each([
    [['--size', '100,65508'], /EMSGSIZE/],
    [['--rate', '10k,-5'], /--rate/],
    [['--rate', '10k,,max'], /empty value/],
    [['--rcvbuf', ''], /empty value/],
    [['--loss', '0,101%'], /above 100%/],
    [['--jobs', '0'], /--jobs/],
  ])('%j exits 2 before any cell runs', async (args, words) => {
    const r = await runCli(['sweep', 'udp', ...args, '--out', path.join(dir, 'bad')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(words);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('sweep without "udp" says what to type', async () => {
    const r = await runCli(['sweep', '--rate', '10k']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('wirelab sweep udp');
  });

  it.skipIf(!isRoot)('a 2 x 2 grid writes one CSV row per cell, the JSON contract, and an SVG with the model line', async () => {
    const out = path.join(dir, 'grid');
    const r = await runCli(['sweep', 'udp', '--rcvbuf', '4k,4m', '--loss', '0,20%', '--rate', '5k', '--pace', '--size', '200', '--count', '400', '--json', '--out', out], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { swept: string[]; cells: Array<Record<string, unknown>>; files: Record<string, string> };
    expect(j.swept).toEqual(['rcvbuf', 'loss']);
    expect(j.cells.map((c) => [c.rcvbuf, c.loss])).toEqual([['4k', '0'], ['4k', '20%'], ['4m', '0'], ['4m', '20%']]);
    for (const c of j.cells) {
      expect(c.error).toBeNull();
      expect(c.unexplained).toBe(0);
    }
    // the big buffer with 20% injected: about 20% lost, all to the rule; the model says 20% too
    const big = j.cells[3]! as { lossPercent: number; modelLossPercent: number; causes: Record<string, number>; lost: number };
    expect(big.lossPercent).toBeGreaterThan(10);
    expect(big.lossPercent).toBeLessThan(30);
    expect(big.causes['injected-loss']).toBe(big.lost);
    expect(big.modelLossPercent).toBeCloseTo(20, 5);
    const csv = readFileSync(path.join(out, 'sweep.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(5);
    expect(csv[0]!.split(',').slice(0, 5)).toEqual(['cell', 'rcvbuf', 'rate', 'size', 'loss']);
    const svg = readFileSync(path.join(out, 'sweep.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('model 1-(1-P)^k');
    expect(svg).toContain('UDP loss against SO_RCVBUF');
  });
});
