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
 */
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
}

const a = args<Args>();
let sock: net.Socket | null = null;
let received = 0;

function endpoint(addr: string | undefined, port: number | undefined): string {
  return endpointText(addr ?? '?', port ?? 0);
}

function watch(s: net.Socket): void {
  sock = s;
  s.on('data', (d: Buffer) => {
    received += d.length;
    emit('data', { bytes: d.length, total: received });
  });
  s.on('end', () => {
    // the peer's FIN arrived
    if (a.endOnEof) s.end();
    emit('end', { total: received });
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
