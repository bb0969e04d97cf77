/**
 * A client for TIME_WAIT experiments: one process, one connection per command, each closed by the
 * client first. It connects (from a given local port if asked: libuv then binds with SO_REUSEADDR,
 * always), writes a few bytes and shuts down its side (FIN); when the server's FIN arrives the
 * socket closes, and the client's kernel keeps the 4-tuple in TIME_WAIT.
 *   args: { host, port }
 *   commands: { do: 'open', id, port?, localPort?, bytes? }   (port: another server port than args.port)
 *   events: 'connected' { id, port, local, remote } | 'closed' { id } | 'error' { id, code, syscall, message }
 */
import net from 'node:net';
import { endpointText } from '../../src/endpoint.js';
import { args, emit, onCommand } from './protocol.js';

interface Args {
  host: string;
  port: number;
}

const a = args<Args>();

function open(id: string, port: number, localPort: number | undefined, bytes: number): void {
  const s = net.connect({ host: a.host, port, ...(localPort ? { localPort } : {}) });
  s.on('connect', () => {
    emit('connected', { id, port: s.localPort, local: endpointText(s.localAddress ?? '?', s.localPort ?? 0), remote: endpointText(s.remoteAddress ?? '?', s.remotePort ?? 0) });
    s.end(Buffer.alloc(bytes, 0x61)); // the request, then FIN: the client closes first
  });
  s.on('data', () => {});
  s.on('error', (e: NodeJS.ErrnoException) => emit('error', { id, code: e.code ?? 'ERROR', syscall: e.syscall ?? null, message: e.message }));
  s.on('close', (hadError: boolean) => emit('closed', { id, hadError }));
}

onCommand((cmd) => {
  if (cmd.do !== 'open') {
    emit('error', { code: 'BAD_COMMAND', message: `unknown command ${cmd.do}` });
    return;
  }
  open(String(cmd.id), Number(cmd.port ?? a.port), cmd.localPort ? Number(cmd.localPort) : undefined, Number(cmd.bytes ?? 10));
});
emit('ready');
