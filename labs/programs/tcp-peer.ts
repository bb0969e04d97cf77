/**
 * A TCP endpoint a lab drives step by step: it listens or connects, then writes, half-closes,
 * closes or resets when told. Every socket event is reported, with its time.
 *   args: { mode: 'listen', host, port, backlog?, endOnEof? } | { mode: 'connect', host, port, localPort?, writeAtOnce? }
 *   endOnEof: close (FIN) the moment the peer's FIN arrives, in this process, with no round trip
 *   to the runner: the kernel then folds its ACK of that FIN into our FIN.
 *   writeAtOnce: bytes written right after connect() is called, before the handshake is done
 *   deferConnect: start, report 'ready', and connect only on { do: 'connect' } (the process is
 *   already running when the lab wants the SYN out: no program start-up in the measured time)
 *   commands: { do: 'connect' } | { do: 'write', bytes } | { do: 'end' } | { do: 'destroy' } | { do: 'reset' } | { do: 'exit' }
 *   hashReads: keep a sha256 of every byte read; the 'end' event then carries it ({ total, sha256 })
 *   { do: 'stream', bytes, chunk?, gapMs?, end? }: write `bytes` random bytes, `chunk` at a time (default
 *   64 KiB), each write `gapMs` after the previous one was taken by the kernel (the application's own
 *   pace), emitting 'chunk' { n, total } per write and 'streamed' { bytes, sha256 } after the last;
 *   with end: true the socket is then closed (FIN)
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { endpointText } from '../../src/endpoint.js';
import { args, emit, onCommand } from './protocol.js';

interface Args {
  mode: 'listen' | 'connect';
  host: string;
  port: number;
  backlog?: number;
  endOnEof?: boolean;
  localPort?: number;
  writeAtOnce?: number;
  deferConnect?: boolean;
  hashReads?: boolean;
}

const a = args<Args>();
let sock: net.Socket | null = null;
let received = 0;
const readHash = a.hashReads ? createHash('sha256') : null;

function endpoint(addr: string | undefined, port: number | undefined): string {
  return endpointText(addr ?? '?', port ?? 0);
}

function watch(s: net.Socket): void {
  sock = s;
  s.on('data', (d: Buffer) => {
    received += d.length;
    readHash?.update(d);
    emit('data', { bytes: d.length, total: received });
  });
  s.on('end', () => {
    // the peer's FIN arrived
    if (a.endOnEof) s.end();
    emit('end', { total: received, ...(readHash ? { sha256: readHash.digest('hex') } : {}) });
  });
  s.on('error', (e: NodeJS.ErrnoException) => emit('error', { code: e.code ?? 'ERROR', message: e.message }));
  s.on('close', (hadError: boolean) => emit('closed', { hadError }));
}

if (a.mode === 'listen') {
  // allowHalfOpen: the server decides itself when to send its FIN (four-way vs folded close).
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    emit('accepted', { local: endpoint(s.localAddress, s.localPort), remote: endpoint(s.remoteAddress, s.remotePort) });
    watch(s);
  });
  server.on('error', (e: NodeJS.ErrnoException) => emit('error', { code: e.code ?? 'ERROR', message: e.message }));
  server.listen({ host: a.host, port: a.port, backlog: a.backlog ?? 511 }, () => {
    const addr = server.address() as net.AddressInfo;
    emit('listening', { port: addr.port });
  });
} else if (a.deferConnect) {
  emit('ready');
} else {
  connect();
}

function connect(): void {
  const s = net.connect({ host: a.host, port: a.port, allowHalfOpen: true, ...(a.localPort ? { localPort: a.localPort } : {}) });
  s.on('connect', () => emit('connected', { local: endpoint(s.localAddress, s.localPort), remote: endpoint(s.remoteAddress, s.remotePort), port: s.localPort }));
  watch(s);
  if (a.writeAtOnce) s.write(Buffer.alloc(a.writeAtOnce, 0x61), () => emit('written', { bytes: a.writeAtOnce }));
}

onCommand((cmd) => {
  switch (cmd.do) {
    case 'connect':
      if (a.mode === 'connect' && !sock) connect();
      break;
    case 'write': {
      const n = Number(cmd.bytes ?? 1);
      sock?.write(Buffer.alloc(n, 0x61), () => emit('written', { bytes: n }));
      break;
    }
    case 'stream':
      if (sock) void stream(sock, Number(cmd.bytes ?? 0), Number(cmd.chunk ?? 65536), Number(cmd.gapMs ?? 0), cmd.end === true);
      break;
    case 'end':
      sock?.end(); // FIN: close our sending side
      emit('ending');
      break;
    case 'destroy':
      sock?.destroy();
      break;
    case 'reset':
      sock?.resetAndDestroy(); // RST
      break;
    case 'exit':
      process.exit(0);
      break;
    default:
      emit('error', { code: 'BAD_COMMAND', message: `unknown command ${cmd.do}` });
  }
});

/** Write `bytes` random bytes in chunks, `gapMs` apart (the pace is the lab's variable), hashing what is sent. */
async function stream(s: net.Socket, bytes: number, chunk: number, gapMs: number, end: boolean): Promise<void> {
  const hash = createHash('sha256');
  let total = 0;
  for (let n = 1; total < bytes; n++) {
    const buf = randomBytes(Math.min(chunk, bytes - total));
    hash.update(buf);
    total += buf.length;
    // Wait until the kernel took the chunk, then pause: the next write is the application's decision.
    await new Promise<void>((resolve) => s.write(buf, () => resolve()));
    emit('chunk', { n, total });
    if (gapMs > 0 && total < bytes) await new Promise((r) => setTimeout(r, gapMs));
  }
  emit('streamed', { bytes: total, sha256: hash.digest('hex') });
  if (end) {
    s.end();
    emit('ending');
  }
}
