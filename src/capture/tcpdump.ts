/**
 * The tcpdump backend: `ip netns exec NS tcpdump -i IFACE -U --immediate-mode -s 2048 -B 65536 -n
 * -w - [filter]` (LAB-MECHANICS.md: immediate mode or an early stop loses packets; -B 64 MiB or
 * bursts lose copies). Ready when stderr says "listening on"; stop() is SIGINT, which flushes and
 * prints the counts.
 */
import { WirelabError } from '../errors.js';
import { which } from '../which.js';
import { supervise, type CountsFromStderr } from './capture-process.js';
import type { CaptureOptions, LiveCapture } from './live-types.js';

/** Parse tcpdump's closing lines ("N packets captured", "... received by filter", "... dropped by kernel"). */
export function parseTcpdumpCounts(stderr: string): CountsFromStderr | null {
  const num = (re: RegExp): number | null => {
    const m = re.exec(stderr);
    return m ? Number(m[1]) : null;
  };
  const captured = num(/(\d+) packets? captured/);
  if (captured === null) return null;
  return {
    captured,
    receivedByFilter: num(/(\d+) packets? received by filter/),
    droppedByKernel: num(/(\d+) packets? dropped by kernel/),
  };
}

export function tcpdumpArgv(opts: CaptureOptions): string[] {
  const host = opts.sandbox.host(opts.role);
  const iface = opts.iface ?? host.iface;
  const argv = [
    'ip', 'netns', 'exec', host.netns,
    'tcpdump', '-i', iface, '-U', '--immediate-mode',
    '-s', String(opts.snaplen ?? 2048),
    '-B', String(opts.bufferKiB ?? 65536),
    '-n', '-w', '-',
  ];
  if (opts.filter) argv.push(opts.filter);
  return argv;
}

export async function startTcpdump(opts: CaptureOptions): Promise<LiveCapture> {
  if (!which('tcpdump')) {
    throw new WirelabError('NO_TCPDUMP', 'tcpdump is not installed: apt-get install tcpdump (or use the raw-socket backend: --backend raw-socket)', {
      tool: 'tcpdump',
    });
  }
  const argv = tcpdumpArgv(opts);
  const proc = opts.sandbox.spawn(opts.role, argv.slice(4), { stdio: ['ignore', 'pipe', 'pipe'] });
  return supervise({
    proc,
    file: opts.file,
    backend: 'tcpdump',
    limits: [],
    ready: /listening on /,
    what: `tcpdump on ${argv[6]} in ${argv[3]}`,
    parseCounts: parseTcpdumpCounts,
  });
}
