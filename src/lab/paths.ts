/** Where things live, found from this module's own location (works from src/ under vitest and from dist/). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WirelabError } from '../errors.js';

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'tsconfig.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new WirelabError('INTERNAL', 'cannot find the wirelab repository root (package.json + tsconfig.json) above ' + dir);
}

export const repoRoot = findRoot();

/**
 * The command that starts a lab program: a TypeScript program runs compiled (dist/labs/programs/
 * NAME.js) in node; NAME.py runs in python3 from labs/programs/ (for what node cannot do: a
 * listener that never accepts, a TCP Fast Open client).
 */
export function programArgv(name: string): string[] {
  if (name.endsWith('.py')) {
    if (!/^[a-z0-9-]+\.py$/.test(name)) throw new WirelabError('BAD_LAB', `lab program name "${name}" must be lower-case letters, digits and dashes`);
    const p = path.join(repoRoot, 'labs', 'programs', name);
    if (!existsSync(p)) throw new WirelabError('BAD_LAB', `lab program ${path.relative(repoRoot, p)} does not exist`);
    return ['python3', p];
  }
  return [process.execPath, '--enable-source-maps', programPath(name)];
}

/** Lab programs written in TypeScript run compiled, as separate node processes inside the namespace. */
export function programPath(name: string): string {
  if (!/^[a-z0-9-]+$/.test(name)) throw new WirelabError('BAD_USAGE', `lab program name "${name}" must be lower-case letters, digits and dashes`);
  const p = path.join(repoRoot, 'dist', 'labs', 'programs', `${name}.js`);
  if (!existsSync(p)) {
    throw new WirelabError('PROGRAM_FAILED', `lab program ${name} is not built (${path.relative(repoRoot, p)} is missing): run \`npm run build\` (or \`bash scripts/setup.sh\`)`);
  }
  return p;
}

export function defaultCapturesDir(): string {
  return path.join(repoRoot, 'captures');
}
