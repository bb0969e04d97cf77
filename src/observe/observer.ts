/**
 * startObserver: sample a namespace's sockets every intervalMs (default 10 ms) through the
 * /proc/<pid>/net files of a process inside it (no spawning), keep only samples that differ from
 * the previous one (timer countdowns alone do not count as a change: the first sample of a run
 * holds the remaining time, later times follow from it; a timer that restarted does count: a
 * TIME_WAIT socket answering a retransmitted FIN starts its 60 s again), and the counters before
 * and after.
 */
import { readCounters, counterDelta } from './counters.js';
import { readSockets } from './proc-net.js';
import type { CounterSnapshot, Observation, SocketEntry, SocketSample } from './types.js';

function signature(sockets: SocketEntry[]): string {
  let s = '';
  for (const e of sockets) {
    s += `${e.proto} ${e.local} ${e.remote} ${e.state} ${e.timer} ${e.retransmits} ${e.txQueue} ${e.rxQueue} ${e.drops} ${e.inode}\n`;
  }
  return s;
}

/** A timer whose deadline moved later than this (beyond read-time jitter) restarted. */
export const TIMER_RESTART_S = 0.1;

/** Each timed socket's deadline (sample time + remaining), keyed by its 4-tuple and timer kind. */
function deadlines(time: number, sockets: SocketEntry[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of sockets) if (e.timer !== 'none') out.set(`${e.proto} ${e.local} ${e.remote} ${e.timer}`, time + e.timerRemainingMs / 1000);
  return out;
}

/** True when some socket's timer deadline moved later than `prev` had it (the timer restarted). */
export function timerRestarted(prev: Map<string, number>, next: Map<string, number>): boolean {
  for (const [k, at] of next) {
    const was = prev.get(k);
    if (was !== undefined && at > was + TIMER_RESTART_S) return true;
  }
  return false;
}

export interface Observer {
  /**
   * The table of the first read that starts after this call (a lab's wait): fresh, since the
   * latest sample may predate the lab's last action, and in the observation like every sample,
   * so a state a lab waited for is never missing from what it is judged on. A waiting read runs
   * at once rather than after the sampling interval; after stop(), a read of its own.
   */
  fresh(): Promise<SocketEntry[]>;
  stop(): Promise<Observation>;
}

export function startObserver(pid: number, opts: { intervalMs?: number } = {}): Observer {
  const interval = Math.max(1, opts.intervalMs ?? 10);
  const samples: SocketSample[] = [];
  let lastSig: string | null = null;
  let lastDeadlines = new Map<string, number>();
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> = Promise.resolve();
  let lastCounters: CounterSnapshot | null = null;
  let waiting: { resolve: (s: SocketEntry[]) => void; reject: (e: unknown) => void }[] = [];

  const before = readCounters(pid);

  // A read is stamped when it has finished (every state in it held at or before that moment, so a
  // packet is never joined with a state from its future) and kept when it differs.
  const record = (read: SocketEntry[]): void => {
    const time = Date.now() / 1000;
    const sockets = read;
    sockets.sort((a, b) => (a.proto + a.local + a.remote < b.proto + b.local + b.remote ? -1 : 1));
    const sig = signature(sockets);
    const due = deadlines(time, sockets);
    if (sig !== lastSig || timerRestarted(lastDeadlines, due)) {
      samples.push({ time, sockets });
      lastSig = sig;
    }
    lastDeadlines = due;
  };

  // Reading /proc/net/tcp walks the kernel's global socket hash (~5 ms a file on this machine), so
  // it runs off the main thread. It answers the fresh() calls made before it started.
  const sample = async (): Promise<void> => {
    const served = waiting;
    waiting = [];
    try {
      const sockets = await readSockets(pid);
      record(sockets);
      for (const w of served) w.resolve(sockets);
    } catch (e) {
      for (const w of served) w.reject(e);
      throw e;
    }
  };

  const tick = (): void => {
    timer = null;
    if (stopped) return;
    inFlight = sample()
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, waiting.length ? 0 : interval);
      });
  };
  // the first sample at once, after the 'before' counters
  void before.then(
    (c) => {
      lastCounters = c;
      tick();
    },
    () => tick(),
  );

  return {
    fresh: () => {
      if (stopped) return readSockets(pid);
      return new Promise<SocketEntry[]>((resolve, reject) => {
        waiting.push({ resolve, reject });
        if (timer !== null) {
          // between two samples: read now
          clearTimeout(timer);
          tick();
        }
      });
    },
    async stop(): Promise<Observation> {
      const b = await before.catch(() => ({ time: Date.now() / 1000, values: {} }) as CounterSnapshot);
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
      await sample().catch(() => undefined); // the final state
      const after = await readCounters(pid).catch(() => lastCounters ?? b);
      return { samples, before: b, after, delta: counterDelta(b, after) };
    },
  };
}
