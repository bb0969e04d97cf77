/** Make sure dist/ is current before tests that run the real CLI and lab programs. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  // setup.sh rebuilds only when a source is newer than the last build; apt is test.sh's job.
  // A type error fails `npm test` there (set -e); here it only warns so unit tests still run.
  try {
    execFileSync('bash', [path.join(root, 'scripts/setup.sh')], { stdio: 'inherit', env: { ...process.env, WIRELAB_SKIP_APT: '1' } });
  } catch {
    process.stderr.write('global-setup: the build failed; tests that run dist/ may see a stale build\n');
  }
}
