/** Make sure dist/ is current before tests that run the real CLI and lab programs. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  // setup.sh rebuilds only when a source is newer than the last build; apt is test.sh's job.
  // A failed build fails the run: integration tests must never run against a stale dist/.
  try {
    execFileSync('bash', [path.join(root, 'scripts/setup.sh')], { stdio: 'inherit', env: { ...process.env, WIRELAB_SKIP_APT: '1' } });
  } catch (e) {
    throw new Error(`global-setup: scripts/setup.sh failed (see the tsc errors above), so dist/ may be stale: fix the build first (${(e as Error).message.split('\n')[0]})`);
  }
}
