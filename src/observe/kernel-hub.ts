/**
 * One bpftrace process for a whole wirelab process (a `run` of many labs): it compiles once (2–10 s
 * with LLVM) and labs then register and unregister their network namespaces while it runs (an
 * fsync() of a descriptor in this process's window; see bpftrace-script.ts). The kernel filters
 * on the registered set; user space routes each event line to the lab that registered its
 * namespace. A lab's stop is a flush barrier: its own clock marker is awaited (what the kernel
 * emitted before it on that CPU has been read), then its namespaces are unregistered, which prints
 * their in-kernel counters before the acknowledgement. Without bpftrace, BTF or privileges it
 * never throws: each attachment's stop() says what was missing and the fix.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createInterface } from 'node:readline';
import { describeError } from '../errors.js';
import { child } from '../log.js';
import { which } from '../sandbox/command.js';
import { buildScript, PROC_DYNAMIC_FIRST, WINDOW } from './bpftrace-script.js';
import { assembleKernelEvents, cpuMsOf, explainStderr, namespaceInodes } from './kernel-assemble.js';
import type { KernelEventOptions, KernelEventSource } from './kernel-events.js';
import { EventRouter, type EventSink } from './kernel-route.js';
import { calibrationPoint, markerSyscall, realtimeMinusMonotonic, type CalibrationPoint } from './kernel-clock.js';
import type { KernelEvents, KernelEventsMissing } from './kernel-types.js';
import { kernelEventsSupport, PRIVILEGE_FIX, withPrivateTracefs, type KernelEventsSupport } from './tracefs.js';

const log = child('kernel-hub');
const MARKS = 10;
const ACK_MS = 5000;

export interface KernelEventHub {
  /** Resolves when the probes are attached (null), or with why there will be no events. */
  ready(): Promise<KernelEventsMissing | null>;
  /** A lab's view: its namespaces registered at ready(), its events at stop(). */
  attach(netnsNames: string[]): KernelEventSource;
  /** Stop bpftrace (SIGINT, then SIGKILL after 5 s). Idempotent. */
  close(): Promise<void>;
  /** bpftrace's pid (tests: one per process), null before it starts or without it. */
  readonly pid: number | null;
}

interface Registration {
  gen: number;
  sinks: EventSink[];
}

export function startKernelEventHub(opts: KernelEventOptions = {}): KernelEventHub {
  const base = randomInt(1 << 28, 1 << 30);
  const started = Date.now();
  let proc: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let stderr = '';
  let failure: KernelEventsMissing | null = null;
  let support: KernelEventsSupport | null = null;
  let closing = false;
  let nextTag = 1;
  const router = new EventRouter();
  const byInode = new Map<number, Registration>();
  const pending = new Map<number, Promise<number>>(); // registrations awaiting bpftrace's acknowledgement

  const readyP: Promise<KernelEventsMissing | null> = (async () => {
    support = await kernelEventsSupport();
    if (!support.ok) return (failure = { available: false, missing: support.detail, fix: support.fix });
    if (closing) return (failure = { available: false, missing: 'the run ended before kernel events were ready', fix: null });
    const script = buildScript(support.formats, { base }, { fsyncUprobe: support.fsyncUprobe, skbCbOffset: support.skbCbOffset });
    // setpriv --pdeathsig: bpftrace ends (SIGINT) when we die, even by SIGKILL: no probe outlives its run.
    const argv = withPrivateTracefs([...(which('setpriv') ? ['setpriv', '--pdeathsig', 'INT'] : []), support.bpftrace!, '-f', 'json', '-B', 'line', '-e', script]);
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    p.stderr!.on('data', (b: Buffer) => {
      if (stderr.length < 20_000) stderr += b.toString();
    });
    createInterface({ input: p.stdout! }).on('line', (l) => router.line(l));
    exited = new Promise((resolve) => p.once('close', () => resolve()));
    void exited.then(() => {
      if (!failure) failure = { available: false, missing: `bpftrace exited during the run: ${explainStderr(stderr) || 'no message'}`, fix: null };
      router.failAcks();
    });
    const attached = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), opts.attachTimeoutMs ?? 300_000);
      router.onBegin = () => {
        clearTimeout(t);
        resolve(true);
      };
      p.once('error', () => resolve(false));
      void exited.then(() => resolve(false));
    });
    router.onBegin = null;
    if (!attached) {
      const why = closing ? 'the run ended before kernel events were ready' : `bpftrace did not attach its probes: ${explainStderr(stderr) || 'it timed out'}`;
      failure = { available: false, missing: why, fix: /not permitted|permission/i.test(stderr) ? PRIVILEGE_FIX : null };
      p.kill('SIGKILL');
      return failure;
    }
    log.debug({ compileMs: Date.now() - started, pid: p.pid }, 'kernel events ready');
    return null;
  })().catch((e) => (failure = { available: false, missing: `kernel events failed to start: ${describeError(e)}`, fix: null }));

  /** fsync(base + off) and wait for bpftrace's acknowledgement (kind N or X): the registration number, 0 on timeout. */
  const control = (kind: 'N' | 'X', ino: number): Promise<number> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        forget();
        resolve(0);
      }, ACK_MS);
      const forget = router.expect(kind, ino, (g) => {
        clearTimeout(t);
        resolve(g);
      });
      markerSyscall(base + (kind === 'N' ? WINDOW : 2 * WINDOW) + (ino - PROC_DYNAMIC_FIRST));
    });

  const waitMarks = (a: EventSink, n: number, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        a.onMark = undefined;
        resolve(false);
      }, ms);
      a.onMark = () => {
        if (a.marks.length < n) return;
        clearTimeout(t);
        a.onMark = undefined;
        resolve(true);
      };
      a.onMark();
    });

  const calibrate = async (a: EventSink, tag: number): Promise<CalibrationPoint | null> => {
    const have = a.marks.length;
    // Warm the code path first (a descriptor below the window: the kernel-side filter ignores it):
    // cold, one call takes ~13 µs; warm, ~3 µs.
    for (let i = 0; i < 30; i++) markerSyscall(base - 1);
    const rt = realtimeMinusMonotonic();
    const brackets = Array.from({ length: MARKS }, () => markerSyscall(base + tag));
    if (!(await waitMarks(a, have + MARKS, 5000))) return null;
    return calibrationPoint(brackets, a.marks.slice(have, have + MARKS), rt);
  };

  const attach = (netnsNames: string[]): KernelEventSource => {
    const t0 = Date.now();
    let namespaces: { netns: string; inode: number }[];
    try {
      namespaces = namespaceInodes(netnsNames);
    } catch (e) {
      const m: KernelEventsMissing = { available: false, missing: `the lab's namespaces could not be identified: ${describeError(e)}`, fix: null };
      return { ready: async () => undefined, stop: async () => m };
    }
    const outside = namespaces.find((n) => n.inode < PROC_DYNAMIC_FIRST || n.inode >= PROC_DYNAMIC_FIRST + WINDOW);
    const a: EventSink = { lines: [], marks: [] };
    const tag = nextTag++;
    router.tag(tag, a);
    const gens = new Map<number, string>(); // registration number -> namespace name
    let fail: KernelEventsMissing | null = outside
      ? { available: false, missing: `namespace ${outside.netns} has inode ${outside.inode}, outside the dynamic range the kernel-event filter takes (the host's own namespace cannot be traced per lab)`, fix: null }
      : null;
    let startCal: CalibrationPoint | null = null;
    let lostAtReady = 0;
    let cpuAtReady: number | null = null;
    let readyMs = 0;
    let readyDone = false;
    let stopping: Promise<KernelEvents> | null = null;

    const register = async (): Promise<void> => {
      for (const n of namespaces) {
        let r = byInode.get(n.inode);
        // another lab of this process may have registered the same namespace (the container's own): share it
        if (!r) {
          let p = pending.get(n.inode);
          if (!p) pending.set(n.inode, (p = control('N', n.inode).finally(() => pending.delete(n.inode))));
          const gen = await p;
          if (!gen) throw new Error(`bpftrace did not acknowledge namespace ${n.netns} within ${ACK_MS} ms`);
          r = byInode.get(n.inode) ?? { gen, sinks: [] };
          byInode.set(n.inode, r);
        }
        r.sinks.push(a);
        router.route(r.gen, a);
        gens.set(r.gen, n.netns);
      }
    };

    /** Unregister (the last lab holding a namespace removes it from the kernel's set: its counters are printed first). */
    const unregister = async (): Promise<void> => {
      for (const n of namespaces) {
        const r = byInode.get(n.inode);
        if (!r || !r.sinks.includes(a)) continue;
        r.sinks.splice(r.sinks.indexOf(a), 1);
        if (r.sinks.length === 0) {
          byInode.delete(n.inode);
          if (proc && (proc as ChildProcess).exitCode === null) await control('X', n.inode);
        }
        router.unroute(r.gen, a);
      }
    };

    const readyP2: Promise<void> = (async () => {
      if (fail) return;
      // A lab waits for the compile at most labWaitMs; the hub goes on compiling for the labs after it.
      let late: NodeJS.Timeout | undefined;
      const hubFail = await Promise.race([readyP, new Promise<'late'>((r) => (late = setTimeout(() => r('late'), opts.labWaitMs ?? 30_000)))]);
      clearTimeout(late);
      if (hubFail === 'late') {
        fail = { available: false, missing: `bpftrace was still compiling its program after ${Math.round((opts.labWaitMs ?? 30_000) / 1000)} s (a busy machine): this lab ran without kernel events; later labs of the run get them once it is ready`, fix: null };
        return;
      }
      if (hubFail) {
        fail = hubFail;
        return;
      }
      if (stopping) return; // stopped while the hub was compiling
      await register();
      startCal = await calibrate(a, tag);
      if (!startCal) fail = { available: false, missing: 'bpftrace attached but never saw the clock-calibration marker (fsync)', fix: null };
      lostAtReady = router.lost;
      cpuAtReady = cpuMsOf(proc?.pid);
      readyMs = Date.now() - t0;
    })()
      .catch((e) => {
        fail = { available: false, missing: `kernel events failed to start: ${describeError(e)}`, fix: null };
      })
      .finally(() => {
        readyDone = true;
      });

    const finish = async (): Promise<KernelEvents> => {
      if (!readyDone) {
        // stopped before its namespaces were registered (the lab failed early): do not wait for the compile
        void readyP2.then(unregister).finally(() => router.tag(tag, null));
        return fail ?? { available: false, missing: 'the lab stopped before kernel events were ready', fix: null };
      }
      if (fail || !startCal) {
        await unregister().catch(() => undefined);
        router.tag(tag, null);
        return fail ?? { available: false, missing: 'kernel events did not start', fix: null };
      }
      // The end marker is also the flush barrier: what the kernel emitted before it has been read.
      const endCal = await calibrate(a, tag);
      const cpuMs = cpuAtReady === null ? null : (cpuMsOf(proc?.pid) ?? cpuAtReady) - cpuAtReady;
      await unregister(); // prints the counters (maps), then acknowledges
      router.tag(tag, null);
      return assembleKernelEvents({
        support: support!, lines: a.lines, maps: { '@emitted': router.mapOf('@emitted', gens), '@drops': router.mapOf('@drops', gens), '@run': router.mapOf('@run', gens) },
        gens, namespaces, startCal, endCal, lostReported: router.lost - lostAtReady, startMs: readyMs, cpuMs,
      });
    };

    return {
      ready: () => readyP2,
      stop: () => (stopping ??= finish().catch((e): KernelEvents => ({ available: false, missing: `kernel events failed: ${describeError(e)}`, fix: null }))),
    };
  };

  return {
    ready: () => readyP,
    attach,
    get pid() {
      return proc?.pid ?? null;
    },
    close: async () => {
      closing = true;
      const p = proc as ChildProcess | null;
      if (!p || p.exitCode !== null) return;
      if (router.unrouted) log.debug({ unrouted: router.unrouted }, 'event lines of namespaces no longer registered');
      failure ??= { available: false, missing: 'the run ended', fix: null };
      p.kill('SIGINT');
      const killer = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}
