/**
 * Programs that run outside vitest (the raw-socket helper inside a namespace, a child that creates
 * a sandbox and is SIGKILLed) run as compiled JS: build dist/ with tsc when a file is missing or
 * older than its sources. tsc still emits when other files in the tree have type errors.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');

export function ensureBuilt(jsRel: string, srcDirRel: string): string {
  const js = join(ROOT, jsRel);
  let stale = true;
  try {
    const t = statSync(js).mtimeMs;
    const r = spawnSync('find', [join(ROOT, srcDirRel), '-name', '*.ts', '-newermt', `@${Math.floor(t / 1000)}`], { encoding: 'utf8' });
    stale = r.stdout.trim() !== '';
  } catch {
    stale = true;
  }
  if (stale) spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { cwd: ROOT, stdio: 'ignore' });
  statSync(js); // throws when the build did not produce it
  return js;
}
