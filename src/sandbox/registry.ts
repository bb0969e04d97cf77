/**
 * The process-wide list of live sandboxes, destroyed on SIGINT / SIGTERM (then exit 130 / 143),
 * on an uncaught exception, and (synchronously, best effort) on 'exit'. Handlers are installed
 * once, on the first registration.
 */
import { child } from '../log.js';
import { deleteNamespaceSync } from './namespaces.js';

const log = child('sandbox');

export interface Registered {
  namespaces(): string[];
  destroy(): Promise<void>;
}

const live = new Set<Registered>();
let installed = false;

function destroySync(): void {
  for (const s of live) for (const ns of s.namespaces()) deleteNamespaceSync(ns);
  live.clear();
}

async function destroyAll(): Promise<void> {
  await Promise.allSettled([...live].map((s) => s.destroy()));
}

function onSignal(signal: 'SIGINT' | 'SIGTERM', code: number): void {
  const handler = (): void => {
    const others = process.listenerCount(signal) > 1;
    if (live.size === 0 && others) return; // nothing of ours to clean; the other handler decides
    if (live.size > 0) log.warn({ signal, sandboxes: live.size }, 'signal: destroying sandboxes');
    const timer = setTimeout(() => {
      destroySync();
      process.exit(code);
    }, 5000);
    timer.unref();
    void destroyAll().finally(() => {
      if (process.listenerCount(signal) === 1) {
        // die of the signal itself, as if we had not caught it (the shell sees 128+n)
        process.removeListener(signal, handler);
        process.kill(process.pid, signal);
        setTimeout(() => process.exit(code), 200).unref();
      } else process.exit(code);
    });
  };
  process.on(signal, handler);
}

function install(): void {
  if (installed) return;
  installed = true;
  onSignal('SIGINT', 130);
  onSignal('SIGTERM', 143);
  process.on('uncaughtExceptionMonitor', () => destroySync());
  process.on('exit', () => destroySync());
}

export function register(s: Registered): void {
  install();
  live.add(s);
}

export function unregister(s: Registered): void {
  live.delete(s);
}
