/**
 * The README's "Writing a lab" example is this fixture, line for line, and it runs: its lab passes
 * over IPv4 and IPv6 with C12 confirmed.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLab } from '../../../src/lab/runner.js';
import type { AnyLab } from '../../../src/lab/types.js';
import example from '../../fixtures/labs/refused.js';
import { isRoot, root } from '../../support/cli.js';

describe('the README lab example', () => {
  it('is the tested fixture, line for line', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const block = /## Writing a lab[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(readFileSync(path.join(root, 'test/fixtures/labs/refused.ts'), 'utf8'));
  });

  it.skipIf(!isRoot).each([4, 6] as const)('runs and passes over IPv%i with C12 confirmed', async (family) => {
    const o = await runLab(example as AnyLab, { family, params: {}, outDir: mkdtempSync(path.join(os.tmpdir(), 'wl-example-')) });
    expect(o.expectations.filter((e) => !e.ok)).toEqual([]);
    expect([o.verdict, o.claims.map((c) => [c.id, c.verdict])]).toEqual(['pass', [['C12', 'confirmed']]]);
  });
});
