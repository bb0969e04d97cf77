/**
 * startCapture: the backend dispatcher. 'auto' takes tcpdump when it is installed, else the
 * raw-socket backend with a warning (logged, and in `limits`).
 */
import { WirelabError } from '../errors.js';
import { child } from '../log.js';
import { which } from '../which.js';
import type { CaptureOptions, LiveCapture } from './live-types.js';
import { startRawSocketCapture } from './rawsocket-backend.js';
import { startTcpdump } from './tcpdump.js';

const log = child('capture');

export const NO_TCPDUMP_LIMIT = 'tcpdump is not installed (apt-get install tcpdump): captured with the raw-socket backend';

/** Start a capture; it is also stopped (and its file flushed) when the sandbox is destroyed, e.g. on Ctrl-C. */
export async function startCapture(opts: CaptureOptions): Promise<LiveCapture> {
  const cap = await startBackend(opts);
  opts.sandbox.onDestroy(() => cap.stop());
  return cap;
}

async function startBackend(opts: CaptureOptions): Promise<LiveCapture> {
  const backend = opts.backend ?? 'auto';
  switch (backend) {
    case 'tcpdump':
      return startTcpdump(opts);
    case 'raw-socket':
      return startRawSocketCapture(opts);
    case 'auto': {
      if (which('tcpdump')) return startTcpdump(opts);
      log.info({ file: opts.file }, NO_TCPDUMP_LIMIT); // the user is told through `limits` in the report
      return startRawSocketCapture(opts, [NO_TCPDUMP_LIMIT]);
    }
    default:
      throw new WirelabError('BAD_USAGE', `unknown capture backend ${JSON.stringify(backend)} (tcpdump, raw-socket or auto)`);
  }
}
