/**
 * The kernel-event source of a run: one bpftrace process (JSON output) filtered in the kernel to
 * the run's network namespaces, in a private mount namespace with tracefs. Started before the
 * lab's programs (ready() resolves once its probes are attached and the clock is calibrated),
 * stopped and flushed before the sandbox goes (stop(): a last calibration marker is awaited, then
 * SIGINT; bpftrace drains its buffers and prints its in-kernel counters). Lines are kept raw while
 * the lab runs and parsed at stop. Without bpftrace, BTF or privileges it never throws: stop()
 * says what was missing and the fix.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describeError } from '../errors.js';
import { child } from '../log.js';
import { buildScript } from './bpftrace-script.js';
import { symbolize } from './kallsyms.js';
import { calibrationPoint, kernelToEpoch, markerSyscall, realtimeMinusMonotonic, type CalibrationPoint } from './kernel-clock.js';
import { applyRuns, dropLocations, openRuns, parseEventLine, parseRunLine, type DropRun } from './kernel-event-parse.js';
import { completeTuples } from './kernel-join.js';
import type { DropEvent, KernelEvent, KernelEvents, KernelEventsMissing } from './kernel-types.js';
import { which } from '../sandbox/command.js';
import { kernelEventsSupport, PRIVILEGE_FIX, withPrivateTracefs } from './tracefs.js';
import { symbolName } from './tracepoint-format.js';

const log = child('kernel-events');
const MARKS = 10;
const PRINTF = '{"type": "printf", "data": "';

export interface KernelEventSource {
  /** Resolves when the probes are attached and the clock is calibrated, or when it is known there will be no events. */
  ready(): Promise<void>;
  /** Flush, stop bpftrace, and return the events (or why there are none). Idempotent. */
  stop(): Promise<KernelEvents>;
}

export interface KernelEventOptions {
  /** how long bpftrace may take to compile and attach (default 30 s: it compiles with LLVM) */
  attachTimeoutMs?: number;
}

function missingSource(m: KernelEventsMissing): KernelEventSource {
  return { ready: async () => undefined, stop: async () => m };
}

/** Inode numbers of network namespaces, in order, without repeats: a name is /run/netns/NAME, a path
 * (such as /proc/self/ns/net, the container's own namespace in container mode) is read as it is. */
export function namespaceInodes(names: string[]): { netns: string; inode: number }[] {
  const seen = new Set<string>();
  const out: { netns: string; inode: number }[] = [];
  for (const n of names) {
    if (seen.has(n)) continue;
    seen.add(n);
    out.push({ netns: n, inode: statSync(n.startsWith('/') ? n : `/run/netns/${n}`).ino });
  }
  return out;
}

export function startKernelEvents(netnsNames: string[], opts: KernelEventOptions = {}): KernelEventSource {
  let namespaces: { netns: string; inode: number }[];
  try {
    namespaces = namespaceInodes(netnsNames);
  } catch (e) {
    return missingSource({ available: false, missing: `the lab's namespaces could not be identified: ${describeError(e)}`, fix: null });
  }
  const started = Date.now();
  const marker = randomInt(1 << 30, 2 ** 31 - 1);
  const lines: string[] = [];
  const marks: bigint[] = [];
  const markWaiters: (() => void)[] = [];
  const maps: Record<string, Record<string, unknown>> = {}; // bpftrace's maps as printed at exit
  let lostReported = 0;
  let stderr = '';
  let proc: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let failure: KernelEventsMissing | null = null;
  let startCal: CalibrationPoint | null = null;
  let attachMs = 0;
  let stopping: Promise<KernelEvents> | null = null;
  let onBegin: (() => void) | null = null;
  let cpuAtReady: number | null = null;
  let readyDone = false;
  let aborted = false;

  const onLine = (line: string): void => {
    if (line.startsWith(PRINTF)) {
      const data = line.slice(PRINTF.length, line.lastIndexOf('"'));
      const end = data.endsWith('\\n') ? data.length - 2 : data.length;
      const ev = data.slice(0, end);
      if (ev.charCodeAt(0) === 66 /* B */) {
        onBegin?.();
      } else if (ev.charCodeAt(0) === 67 /* C */) {
        marks.push(BigInt(ev.slice(2)));
        for (const w of markWaiters.splice(0)) w();
      } else lines.push(ev);
      return;
    }
    try {
      const o = JSON.parse(line) as { type: string; data: Record<string, unknown> };
      if (o.type === 'lost_events') lostReported += Number(o.data.events) || 0;
      else if (o.type === 'map') Object.assign(maps, o.data);
    } catch {
      // not JSON: ignore
    }
  };

  const waitMarks = (n: number, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (marks.length >= n) {
          clearTimeout(t);
          resolve(true);
        } else markWaiters.push(check);
      };
      const t = setTimeout(() => resolve(false), ms);
      check();
    });

  const calibrate = async (): Promise<CalibrationPoint | null> => {
    const have = marks.length;
    // Warm the code path first (a descriptor the kernel-side filter ignores): cold, one call takes ~13 µs; warm, ~3 µs.
    for (let i = 0; i < 30; i++) markerSyscall(marker + 1);
    const rt = realtimeMinusMonotonic();
    const brackets = Array.from({ length: MARKS }, () => markerSyscall(marker));
    if (!(await waitMarks(have + MARKS, 5000))) return null;
    return calibrationPoint(brackets, marks.slice(have, have + MARKS), rt);
  };

  const readyP: Promise<void> = (async () => {
    const support = await kernelEventsSupport();
    if (!support.ok) {
      failure = { available: false, missing: support.detail, fix: support.fix };
      return;
    }
    const script = buildScript(support.formats, namespaces.map((n) => n.inode), marker, { kprobeFsync: support.kprobeFsync, skbCbOffset: support.skbCbOffset });
    if (aborted) {
      failure = { available: false, missing: 'the lab stopped before kernel events were ready', fix: null };
      return;
    }
    // setpriv --pdeathsig: bpftrace ends (SIGINT) when we die, even by SIGKILL: no probe outlives its run.
    const argv = withPrivateTracefs([...(which('setpriv') ? ['setpriv', '--pdeathsig', 'INT'] : []), support.bpftrace!, '-f', 'json', '-B', 'line', '-e', script]);
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    p.stderr!.on('data', (b: Buffer) => {
      if (stderr.length < 20_000) stderr += b.toString();
    });
    createInterface({ input: p.stdout! }).on('line', onLine);
    exited = new Promise((resolve) => p.once('close', () => resolve()));
    const attached = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), opts.attachTimeoutMs ?? 30_000);
      onBegin = () => {
        clearTimeout(t);
        resolve(true);
      };
      p.once('error', () => resolve(false));
      void exited.then(() => resolve(false));
    });
    onBegin = null;
    attachMs = Date.now() - started;
    if (!attached) {
      const why = aborted ? 'the lab stopped before kernel events were ready' : `bpftrace did not attach its probes: ${explainStderr(stderr) || 'it timed out'}`;
      failure = { available: false, missing: why, fix: /not permitted|permission/i.test(stderr) ? PRIVILEGE_FIX : null };
      p.kill('SIGKILL');
      return;
    }
    startCal = await calibrate();
    cpuAtReady = cpuMsOf(p.pid);
    if (!startCal) {
      failure = { available: false, missing: 'bpftrace attached but never saw the clock-calibration marker (sys_enter_fsync)', fix: null };
      p.kill('SIGKILL');
    }
    log.debug({ attachMs, namespaces, errorNs: startCal?.halfNs }, 'kernel events ready');
  })()
    .catch((e) => {
      failure = { available: false, missing: `kernel events failed to start: ${describeError(e)}`, fix: null };
    })
    .finally(() => {
      readyDone = true;
    });

  const finish = async (): Promise<KernelEvents> => {
    if (!readyDone) {
      // stopped before the probes were attached (the lab failed early): do not wait for the compile
      aborted = true;
      (proc as ChildProcess | null)?.kill('SIGKILL');
    }
    await readyP;
    const p = proc as ChildProcess | null;
    if (failure || !p || !startCal) {
      if (p && p.exitCode === null) p.kill('SIGKILL');
      return failure ?? { available: false, missing: 'kernel events did not start', fix: null };
    }
    // The end marker is also the flush barrier: what the kernel emitted before it has been read.
    const endCal = await calibrate();
    const cpuMs = cpuAtReady === null ? null : (cpuMsOf(p.pid) ?? cpuAtReady) - cpuAtReady;
    p.kill('SIGINT');
    const killer = setTimeout(() => p.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
    const support = await kernelEventsSupport();
    const dropFormat = support.formats.get('skb/kfree_skb') ?? null;
    const resetFormat = support.formats.get('tcp/tcp_send_reset') ?? null;
    const byInode = new Map(namespaces.map((n) => [n.inode, n.netns]));
    const symbols = await symbolize(dropLocations(lines));
    const toEpoch = kernelToEpoch(startCal, endCal);
    const events: KernelEvent[] = [];
    const netnsOf = (i: number): string => byInode.get(i) ?? `inode ${i}`;
    for (const l of lines) {
      const ev = parseEventLine(l, { toEpoch, netnsOf, dropFormat, resetFormat, symbols });
      if (ev) events.push(ev);
    }
    events.sort((a, b) => a.time - b.time);
    completeTuples(events);
    const open = openRuns(maps);
    const closedRuns = lines.map(parseRunLine).filter((r): r is DropRun => r !== null);
    const runs = closedRuns.concat(open);
    applyRuns(events.filter((e): e is DropEvent => e.kind === 'drop'), runs, { toEpoch, netnsOf, dropFormat });
    const emitted: Record<string, number> = {};
    for (const [k, v] of Object.entries(maps['@emitted'] ?? {})) emitted[k] = Number(v);
    const emittedTotal = Object.values(emitted).reduce((a, b) => a + b, 0);
    const dropCounts: { netns: string; reason: string; count: number }[] = [];
    for (const [k, v] of Object.entries(maps['@drops'] ?? {})) {
      const [ino, reason] = k.split(',').map(Number) as [number, number];
      dropCounts.push({ netns: byInode.get(ino) ?? `inode ${ino}`, reason: symbolName(dropFormat, 'reason', reason), count: Number(v) });
    }
    // every D line is an event, every U line a run folded into one: what is missing was lost
    const lost = Math.max(lostReported, emittedTotal - events.length - closedRuns.length);
    const driftUs = endCal ? Number(endCal.offsetNs - startCal.offsetNs) / 1000 : null;
    return {
      available: true, events, lost, emitted, dropCounts, namespaces, startMs: attachMs, cpuMs,
      clock: {
        method: 'fsync() marker seen by bpftrace, bracketed by CLOCK_MONOTONIC reads; CLOCK_MONOTONIC to CLOCK_REALTIME from a Date.now() millisecond edge',
        offsetS: Number(startCal.offsetNs) / 1e9,
        errorUs: Math.max(startCal.halfNs, endCal?.halfNs ?? 0) / 1000,
        driftUs,
      },
    };
  };

  return {
    ready: () => readyP,
    stop: () => (stopping ??= finish().catch((e): KernelEvents => {
      (proc as ChildProcess | null)?.kill('SIGKILL');
      return { available: false, missing: `kernel events failed: ${describeError(e)}`, fix: null };
    })),
  };
}

/** CPU time (user + system) a process has used, ms; null when unreadable. */
function cpuMsOf(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}
const CLK_TCK = 100; // USER_HZ

/** bpftrace's stderr without its harmless RLIMIT_MEMLOCK warning, first lines only. */
function explainStderr(s: string): string {
  return s
    .split('\n')
    .filter((l) => l.trim() && !/RLIMIT_MEMLOCK/.test(l))
    .slice(0, 3)
    .join(' / ');
}
