/**
 * A byte stream with an end-to-end check: the sender writes a known stream and reports the SHA-256
 * of everything it wrote; the reader hashes everything the application read, in the order read, and
 * reports the count and the hash when the stream ends. Equal hashes and counts: every byte arrived
 * once, in order, whatever happened to the segments on the way.
 *   args: { mode: 'listen', host, port, report? } | { mode: 'connect', host, port }
 *   report: the reader emits 'progress' each time it has read this many more bytes (default 65536; 1: every read)
 *   commands: { do: 'send', bytes } (appends `bytes` stream bytes) | { do: 'end' } (FIN once written)
 *   events: listening {port} | connected {local, remote, port} | accepted {local, remote}
 *           sent {bytes, total, sha256} (written to the kernel) | progress {total} (reader, see report)
 *           end {total, sha256} (reader: the peer's FIN after the last byte) | closed | error {code, message}
 * The stream bytes are printable ASCII (never 0xff), from a fixed generator: byte i of the stream is
 * the same in every run, so a lab can say which bytes a segment carried.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { endpointText } from '../../src/endpoint.js';
import { args, emit, onCommand } from './protocol.js';

interface Args {
  mode: 'listen' | 'connect';
  host: string;
  port: number;
  report?: number;
}

const a = args<Args>();
const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');

/** Stream bytes [from, from + n): a linear congruential walk over the alphabet, seeded by the offset. */
function streamBytes(from: number, n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    const k = from + i;
    out[i] = ALPHABET[((k * 2654435761) >>> 0) % 61 ^ (k >>> 12) % 3]!;
  }
  return out;
}

let sock: net.Socket | null = null;

function endpoint(addr: string | undefined, port: number | undefined): string {
  return endpointText(addr ?? '?', port ?? 0);
}

function read(s: net.Socket): void {
  const hash = createHash('sha256');
  let total = 0;
  let reported = 0;
  s.on('data', (d: Buffer) => {
    hash.update(d);
    total += d.length;
    if (total - reported >= (a.report ?? 65536)) {
      reported = total;
      emit('progress', { total });
    }
  });
  s.on('end', () => {
    emit('end', { total, sha256: hash.digest('hex') });
    s.end();
  });
  s.on('error', (e: NodeJS.ErrnoException) => emit('error', { code: e.code ?? 'ERROR', message: e.message }));
  s.on('close', () => emit('closed'));
}

if (a.mode === 'listen') {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    emit('accepted', { local: endpoint(s.localAddress, s.localPort), remote: endpoint(s.remoteAddress, s.remotePort) });
    sock = s;
    read(s);
  });
  server.on('error', (e: NodeJS.ErrnoException) => emit('error', { code: e.code ?? 'ERROR', message: e.message }));
  server.listen({ host: a.host, port: a.port }, () => emit('listening', { port: (server.address() as net.AddressInfo).port }));
} else {
  const s = net.connect({ host: a.host, port: a.port, allowHalfOpen: true });
  sock = s;
  s.on('connect', () => emit('connected', { local: endpoint(s.localAddress, s.localPort), remote: endpoint(s.remoteAddress, s.remotePort), port: s.localPort }));
  s.on('data', () => undefined); // the reader sends nothing; drain anyway
  s.on('error', (e: NodeJS.ErrnoException) => emit('error', { code: e.code ?? 'ERROR', message: e.message }));
  s.on('close', () => emit('closed'));
}

const sentHash = createHash('sha256');
let sent = 0;

onCommand((cmd) => {
  switch (cmd.do) {
    case 'send': {
      const n = Number(cmd.bytes ?? 0);
      if (!Number.isInteger(n) || n < 1) {
        emit('error', { code: 'BAD_COMMAND', message: `send: bytes must be a whole number >= 1, got ${String(cmd.bytes)}` });
        break;
      }
      const chunk = streamBytes(sent, n);
      sent += n;
      sentHash.update(chunk);
      const total = sent;
      const digest = sentHash.copy().digest('hex');
      sock?.write(chunk, () => emit('sent', { bytes: n, total, sha256: digest }));
      break;
    }
    case 'end':
      sock?.end();
      emit('ending');
      break;
    default:
      emit('error', { code: 'BAD_COMMAND', message: `unknown command ${cmd.do}` });
  }
});
