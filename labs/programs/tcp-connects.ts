/**
 * Opens TCP connections one after another and resets each as soon as it is established (RST: no
 * TIME_WAIT anywhere, so the same 4-tuple can be used again at once).
 *   args: { host, port, localPorts: number[], gapsMs?: number[] }
 *   connection i comes from localPorts[i] (0: the kernel picks), gapsMs[i] ms after connection i-1 was reset.
 *   events: 'open' { i, local } per connection, then 'done'.
 */
import net from 'node:net';
import { args, emit, onCommand } from './protocol.js';

interface Args {
  host: string;
  port: number;
  localPorts: number[];
  gapsMs?: number[];
}

const a = args<Args>();
onCommand(() => {});

function once(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const lp = a.localPorts[i]!;
    const s = net.connect({ host: a.host, port: a.port, ...(lp ? { localPort: lp } : {}) });
    s.on('connect', () => {
      emit('open', { i, local: s.localPort });
      s.resetAndDestroy();
      resolve();
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      emit('error', { i, code: e.code ?? 'ERROR', message: e.message });
      reject(e);
    });
  });
}

for (let i = 0; i < a.localPorts.length; i++) {
  const gap = i === 0 ? 0 : (a.gapsMs?.[i] ?? 0);
  // The gap is the experiment's variable (the time between two uses of a 4-tuple), not a wait.
  if (gap > 0) await new Promise((r) => setTimeout(r, gap));
  await once(i);
}
emit('done');
