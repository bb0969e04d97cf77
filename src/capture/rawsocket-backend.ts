/**
 * The raw-socket backend, for machines without tcpdump: runs rawsocket-helper (compiled JS)
 * inside the namespace; same LiveCapture contract as tcpdump, with its limits spelled out.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WirelabError } from '../errors.js';
import { supervise } from './capture-process.js';
import type { CaptureOptions, LiveCapture } from './live-types.js';
import { parseTcpdumpCounts } from './tcpdump.js';

export const RAW_SOCKET_LIMITS = [
  'raw-socket backend: IPv4 only',
  'no IP fragments (the kernel hands raw sockets reassembled datagrams)',
  'inbound only (on lo that is everything)',
];

/** Where the compiled helper is: beside this file when running from dist/, else dist/src/capture/. */
export function rawSocketHelperPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'rawsocket-helper.js');
  const root = resolve(dirname(here), '..', '..');
  return join(root, 'dist', 'src', 'capture', 'rawsocket-helper.js');
}

export async function startRawSocketCapture(opts: CaptureOptions, extraLimits: string[] = []): Promise<LiveCapture> {
  const helper = rawSocketHelperPath();
  if (!existsSync(helper)) {
    throw new WirelabError('CAPTURE_START_FAILED', `the raw-socket capture helper ${helper} is not built: run npm run build (tsc) first`, { helper });
  }
  const host = opts.sandbox.host(opts.role);
  if (opts.filter) {
    throw new WirelabError('BAD_USAGE', 'the raw-socket backend takes no BPF filter: drop the filter or install tcpdump (apt-get install tcpdump)');
  }
  const proc = opts.sandbox.spawn(opts.role, [process.execPath, helper, '--snaplen', String(opts.snaplen ?? 2048)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return supervise({
    proc,
    file: opts.file,
    backend: 'raw-socket',
    limits: [...extraLimits, ...RAW_SOCKET_LIMITS],
    ready: /rawsocket-helper: listening on/,
    what: `the raw-socket capture in ${host.netns}`,
    parseCounts: parseTcpdumpCounts,
  });
}
