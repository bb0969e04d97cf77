/**
 * The kernel-event source of a lab: its network namespaces registered with a bpftrace process
 * (kernel-hub.ts), ready() before the lab's programs, stop() flushed before the sandbox goes. A
 * run shares one hub among its labs (src/lab/runner.ts); startKernelEvents() is the standalone
 * form (its own hub, closed at stop: doctor, the benchmark, tests). Without bpftrace, BTF or
 * privileges it never throws: stop() says what was missing and the fix.
 */
import { startKernelEventHub } from './kernel-hub.js';
import type { KernelEvents } from './kernel-types.js';

export { namespaceInodes } from './kernel-assemble.js';

export interface KernelEventSource {
  /** Resolves when the probes are attached and the clock is calibrated, or when it is known there will be no events. */
  ready(): Promise<void>;
  /** Flush, stop bpftrace, and return the events (or why there are none). Idempotent. */
  stop(): Promise<KernelEvents>;
}

export interface KernelEventOptions {
  /** how long bpftrace may take to compile and attach (default 300 s: it compiles with LLVM, ~2.6 s of CPU: 2-10 s on an idle machine, over 120 s at a load average of 100) */
  attachTimeoutMs?: number;
  /** how long one lab waits for that compile before it runs without kernel events (default 30 s) */
  labWaitMs?: number;
}

/** A source with its own bpftrace process, ended at stop() (one lab; a run shares a hub instead). */
export function startKernelEvents(netnsNames: string[], opts: KernelEventOptions = {}): KernelEventSource {
  // One consumer: it waits for the compile as long as the hub does (30 s by default, as a lab alone did).
  const attachTimeoutMs = opts.attachTimeoutMs ?? 30_000;
  const hub = startKernelEventHub({ attachTimeoutMs, labWaitMs: opts.labWaitMs ?? attachTimeoutMs + 1000 });
  const src = hub.attach(netnsNames);
  let stopping: Promise<KernelEvents> | null = null;
  return {
    ready: () => src.ready(),
    stop: () =>
      (stopping ??= (async () => {
        try {
          return await src.stop();
        } finally {
          await hub.close();
        }
      })()),
  };
}
