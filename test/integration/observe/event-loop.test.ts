/**
 * The observer shares the runner's event loop with the lab programs' I/O. Reading /proc/net/tcp walks
 * the kernel's global socket hash (~5 ms a file on a big machine): done synchronously every 10 ms it
 * kept the loop about half busy per lab, and two labs in parallel starved their own programs. Guard:
 * while sampling an (empty) lab namespace, the event loop stays mostly idle.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { expect, it } from 'vitest';
import { startObserver } from '../../../src/observe/index.js';
import { isRoot } from '../../support/cli.js';

it.skipIf(!isRoot)('sampling a namespace every 10 ms leaves the event loop mostly free (needs root)', async () => {
  const holder = spawn('unshare', ['--net', 'sleep', '10'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 100)); // unshare has exec'd sleep in its new namespace
    const obs = startObserver(holder.pid!, { intervalMs: 10 });
    const start = performance.eventLoopUtilization();
    await new Promise((r) => setTimeout(r, 1000));
    const used = performance.eventLoopUtilization(start).utilization;
    const o = await obs.stop();
    expect(o.samples.length).toBeGreaterThan(0);
    // Measured: 0.02-0.27 with reads off the main thread (the high end on a loaded machine), >= 0.5 with
    // synchronous reads (10 ms busy per 10 ms pause, by construction).
    expect(used, `event loop utilization ${used.toFixed(2)}`).toBeLessThan(0.4);
  } finally {
    holder.kill('SIGKILL');
  }
});
