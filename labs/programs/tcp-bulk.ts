/**
 * A bulk TCP endpoint for the loss labs: one side sends a known number of bytes (a pattern in
 * which every 4-byte word is its own stream offset, so no two segments carry the same bytes), the
 * other reads them, and both sides hash the stream (sha256) so a lab can check end to end that
 * the application read exactly what was sent, in order, once. Either side may send and read.
 *   args: { mode: 'listen', host, port, send?, end?, paused?, notifyAt?, reportReads? }
 *       | { mode: 'connect', host, port, send?, end?, paused?, notifyAt?, reportReads?, deferConnect? }
 *   send: bytes to write as soon as the connection is up (one write() of the whole block)
 *   end: half-close (FIN) once that block is handed to the kernel
 *   paused: do not read until told ({ do: 'resume' }): the kernel's receive buffer fills
 *   notifyAt: stream offsets; 'reached' is reported once the bytes read reach each of them
 *   reportReads: report every chunk read ('read'); off by default (a 'read' line per chunk is a lot)
 *   commands: { do: 'send', bytes } | { do: 'end' } | { do: 'pause' } | { do: 'resume' }
 *           | { do: 'notify', at } | { do: 'connect' } | { do: 'destroy' } | { do: 'exit' }
 * Events: listening {port}, accepted/connected {local, remote}, sent {bytes, total, sha256},
 * reached {at, total, sha256 (of the first `at` bytes)}, read {bytes, total}, paused/resumed {total},
 * eof {total, sha256}, closed, error {code, message}.
 */
import { createHash, type Hash } from 'node:crypto';
import net from 'node:net';
import { endpointText } from '../../src/endpoint.js';
import { args, emit, onCommand } from './protocol.js';

interface Args {
  mode: 'listen' | 'connect';
  host: string;
  port: number;
  send?: number;
  end?: boolean;
  paused?: boolean;
  notifyAt?: number[];
  reportReads?: boolean;
  deferConnect?: boolean;
}

const a = args<Args>();
let sock: net.Socket | null = null;
let sentTotal = 0;
let readTotal = 0;
const sentHash = createHash('sha256');
const readHash = createHash('sha256');
const pending: number[] = [...(a.notifyAt ?? [])].sort((x, y) => x - y);

/** The bytes at stream offsets [from, from+n): each aligned 4-byte word holds its own offset (big-endian). */
function pattern(from: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    const p = from + i;
    b[i] = (Math.floor(p / 4) >>> (8 * (3 - (p % 4)))) & 0xff;
  }
  return b;
}

function digest(h: Hash): string {
  return h.copy().digest('hex');
}

function send(n: number, then?: () => void): void {
  if (!sock || n <= 0) return;
  const block = pattern(sentTotal, n);
  sentTotal += n;
  sentHash.update(block);
  const total = sentTotal;
  const sha256 = digest(sentHash);
  sock.write(block, () => {
    emit('sent', { bytes: n, total, sha256 });
    then?.();
  });
}

/** Hash what was read, reporting each notifyAt offset with the hash of exactly the bytes before it. */
function onData(d: Buffer): void {
  let off = 0;
  while (pending.length && readTotal + (d.length - off) >= pending[0]!) {
    const at = pending.shift()!;
    const upto = at - readTotal;
    if (upto > 0) readHash.update(d.subarray(off, off + upto));
    off += Math.max(upto, 0);
    readTotal = Math.max(readTotal, at);
    emit('reached', { at, total: readTotal, sha256: digest(readHash) });
  }
  readHash.update(d.subarray(off));
  readTotal += d.length - off;
  if (a.reportReads) emit('read', { bytes: d.length, total: readTotal });
}

/**
 * pause(): the application stops reading. socket.pause() alone only stops 'data' events: Node keeps
 * reading from the kernel into its own buffer until readableHighWaterMark, so a small segment
 * would still be read (and acknowledged at once). Stop libuv's reads too, as Node itself does once
 * that buffer is full; startReading() starts them again (Node's own pending read never returns
 * otherwise: the stream waits for data the stopped handle never delivers).
 */
type Handle = { reading?: boolean; readStop?: () => number; readStart?: () => number };
const handleOf = (s: net.Socket): Handle | undefined => (s as unknown as { _handle?: Handle })._handle;

function stopReading(s: net.Socket): void {
  s.pause();
  const h = handleOf(s);
  if (h?.reading && h.readStop) {
    h.reading = false;
    h.readStop();
  }
}

function startReading(s: net.Socket): void {
  const h = handleOf(s);
  if (h && !h.reading && h.readStart) {
    h.reading = true;
    h.readStart();
  }
  s.resume();
}

function watch(s: net.Socket, event: 'accepted' | 'connected'): void {
  sock = s;
  emit(event, { local: endpointText(s.localAddress ?? '?', s.localPort ?? 0), remote: endpointText(s.remoteAddress ?? '?', s.remotePort ?? 0), port: s.localPort });
  s.on('data', onData);
  s.on('end', () => emit('eof', { total: readTotal, sha256: digest(readHash) }));
  s.on('error', (e: NodeJS.ErrnoException) => emit('error', { code: e.code ?? 'ERROR', message: e.message }));
  s.on('close', (hadError: boolean) => emit('closed', { hadError }));
  if (a.paused) stopReading(s);
  if (a.send) send(a.send, a.end ? () => s.end() : undefined);
}

function connect(): void {
  const s = net.connect({ host: a.host, port: a.port, allowHalfOpen: true });
  s.on('connect', () => watch(s, 'connected'));
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (!sock) emit('error', { code: e.code ?? 'ERROR', message: e.message });
  });
}

if (a.mode === 'listen') {
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: !!a.paused }, (s) => watch(s, 'accepted'));
  server.on('error', (e: NodeJS.ErrnoException) => emit('error', { code: e.code ?? 'ERROR', message: e.message }));
  server.listen({ host: a.host, port: a.port }, () => emit('listening', { port: (server.address() as net.AddressInfo).port }));
} else if (a.deferConnect) {
  emit('ready');
} else {
  connect();
}

onCommand((cmd) => {
  switch (cmd.do) {
    case 'connect':
      if (a.mode === 'connect' && !sock) connect();
      break;
    case 'send':
      send(Number(cmd.bytes ?? 0));
      break;
    case 'end':
      sock?.end();
      break;
    case 'pause':
      if (sock) stopReading(sock);
      emit('paused', { total: readTotal });
      break;
    case 'resume':
      emit('resumed', { total: readTotal });
      if (sock) startReading(sock);
      break;
    case 'notify': {
      const at = Number(cmd.at);
      if (at <= readTotal) emit('reached', { at, total: readTotal, sha256: null, late: true });
      else {
        pending.push(at);
        pending.sort((x, y) => x - y);
      }
      break;
    }
    case 'destroy':
      sock?.destroy();
      break;
    case 'exit':
      process.exit(0);
      break;
    default:
      emit('error', { code: 'BAD_COMMAND', message: `unknown command ${cmd.do}` });
  }
});
