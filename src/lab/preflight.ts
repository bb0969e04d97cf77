/** Before any lab runs: the privileges and tools it needs, each failure with its fix (exit 3). */
import { WirelabError } from '../errors.js';
import { checkPrivileges, cleanupStale, requireTool, which } from '../sandbox/index.js';
import { child } from '../log.js';

const log = child('preflight');

export interface PreflightResult {
  tcpdump: boolean; // false: the raw-socket backend will be used, with its limits stated
}

export async function preflight(opts: { needTcpdump: boolean }): Promise<PreflightResult> {
  checkPrivileges({ needRaw: true });
  requireTool('ip');
  // A run that was SIGKILLed left its namespaces behind: the next run removes them.
  const removed = await cleanupStale();
  if (removed.length) log.info({ removed }, 'removed namespaces left by a killed run');
  if (opts.needTcpdump) requireTool('tcpdump');
  const tcpdump = which('tcpdump') !== null;
  if (!tcpdump) {
    log.info('tcpdump not found: the raw-socket backend will capture');
  }
  if (!tcpdump && !opts.needTcpdump) {
    // The raw-socket backend needs the native addon; say so now rather than mid-lab.
    try {
      await import('raw-socket');
    } catch {
      throw new WirelabError('NO_TCPDUMP', 'tcpdump is not installed and the raw-socket fallback is not built: apt-get install tcpdump (or rebuild raw-socket: bash scripts/setup.sh)');
    }
  }
  return { tcpdump };
}
