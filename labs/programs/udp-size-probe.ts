/**
 * Which UDP payload sizes the kernel takes, and which arrive: one program, two modes.
 *   mode 'receive': binds (4 MiB asked for SO_RCVBUF), counts every datagram by its length; on
 *     { do: 'report', quietMs } it waits until nothing arrived for quietMs and reports the lengths.
 *   mode 'send': on a connected socket, sends one zero-filled datagram of each size in `sizes`, in
 *     order, each after the previous send's callback, and reports each send's outcome (ok, or the
 *     error code: EMSGSIZE when the payload cannot fit in one IP packet of the family's largest size).
 *   args: { mode, addr, family, port?, sizes? }
 *   events: ready { port } · received { sizes: [[size, count]...] } · sent { results: [{ size, ok, code }] }
 */
import dgram from 'node:dgram';
import { args, emit, onCommand } from './protocol.js';

interface Args {
  mode: 'receive' | 'send';
  addr: string;
  family: 4 | 6;
  port?: number;
  sizes?: number[];
}

const a = args<Args>();
const type = a.family === 6 ? 'udp6' : 'udp4';

if (a.mode === 'receive') {
  const sock = dgram.createSocket({ type, recvBufferSize: 4 << 20 });
  const bySize = new Map<number, number>();
  let last = performance.now();
  sock.on('message', (m: Buffer) => {
    last = performance.now();
    bySize.set(m.length, (bySize.get(m.length) ?? 0) + 1);
  });
  onCommand((cmd) => {
    if (cmd.do !== 'report') return;
    const quiet = typeof cmd.quietMs === 'number' ? cmd.quietMs : 100;
    const check = (): void => {
      if (performance.now() - last < quiet) {
        setTimeout(check, 10);
        return;
      }
      emit('received', { sizes: [...bySize].sort((x, y) => x[0] - y[0]) });
    };
    check();
  });
  sock.bind(0, a.addr, () => emit('ready', { port: sock.address().port }));
} else {
  const sock = dgram.createSocket({ type });
  const sizes = a.sizes ?? [];
  const results: { size: number; ok: boolean; code: string | null }[] = [];
  const buf = Buffer.alloc(Math.max(0, ...sizes));
  let i = 0;
  const next = (): void => {
    if (i >= sizes.length) {
      emit('sent', { results });
      sock.close();
      return;
    }
    const size = sizes[i++]!;
    sock.send(buf.subarray(0, size), (err) => {
      results.push({ size, ok: !err, code: err ? ((err as NodeJS.ErrnoException).code ?? 'ERROR') : null });
      next();
    });
  };
  sock.on('error', () => {}); // a send's error arrives in its callback
  sock.connect(a.port!, a.addr, () => {
    emit('ready', { port: sock.address().port });
    next();
  });
}
