/**
 * The UDP sender: `count` numbered datagrams of `size` bytes on a connected node:dgram socket,
 * each carrying its sequence number and send time (src/udp/payload.ts).
 *   rate 0 ('max'): as fast as it can, 1000 sends per turn of the event loop (LAB-MECHANICS:
 *     247k/s at 100 bytes on this machine kind);
 *   rate r, pace false: every ~1 ms it sends what is due (r/1000 per tick, in a burst: iperf3's way);
 *   rate r, pace true: sends spaced 1/r apart (the loop spins between sends, yielding every 2 ms).
 * Every send's callback is counted: an error (ECONNREFUSED after an ICMP port unreachable, EPERM
 * from an output rule, ENOBUFS, EAGAIN…) is counted by code and its sequence number kept.
 * Buffers come from a ring: node may queue a send (libuv) and keep its buffer until the callback,
 * so a ring slot is reused only after its send completed (callbacks complete in order).
 *   args: { addr, port, family, size, count, rate, pace }
 * libuv tries each send at once; when the socket's send buffer is full (EAGAIN) it keeps the send in
 * its own queue and retries when the socket is writable: `queuedMax` is the deepest that queue got
 * (socket.getSendQueueCount() after each send; 0 when every send went straight to the kernel).
 *   events: ready { localPort } · done { attempted, sent, errors, errorCodes, failed[], firstMs,  lastMs, lastCallbackMs, queuedMax, queuedMaxBytes, cpuMs (from the first send to the last callback) }
 */
import dgram from 'node:dgram';
import { stampMagic, writeHeader } from '../../src/udp/payload.js';
import { args, emit } from './protocol.js';

interface Args {
  addr: string;
  port: number;
  family: 4 | 6;
  size: number;
  count: number;
  rate: number; // 0: as fast as possible
  pace: boolean;
}

const a = args<Args>();
const BATCH = 1000;
const MAX_FAILED_KEPT = 1_000_000;
const RING = Math.max(16, Math.min(4096, Math.floor((32 << 20) / a.size)));
const slab = Buffer.alloc(a.size * RING);
const ring: Buffer[] = [];
for (let i = 0; i < RING; i++) {
  const b = slab.subarray(i * a.size, (i + 1) * a.size);
  stampMagic(b);
  ring.push(b);
}

const origin = performance.timeOrigin;
const sock = dgram.createSocket({ type: a.family === 6 ? 'udp6' : 'udp4' });
let issued = 0;
let completed = 0;
let errors = 0;
const errorCodes: Record<string, number> = {};
const failed: number[] = [];
let firstMs = 0;
let lastMs = 0;
let lastCallbackMs = 0;
let queuedMax = 0; // libuv's send queue (sends the kernel refused with EAGAIN, retried later)
let queuedMaxBytes = 0;
let start = 0;
let finished = false;
let cpuAtStart: NodeJS.CpuUsage | null = null; // CPU time is counted from the first send, startup apart

function onSent(err: Error | null): void {
  if (err) {
    errors++;
    const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
    errorCodes[code] = (errorCodes[code] ?? 0) + 1;
    if (failed.length < MAX_FAILED_KEPT) failed.push(completed);
  }
  completed++;
  if (completed === a.count) {
    lastCallbackMs = origin + performance.now();
    finish();
  }
}

function sendOne(): void {
  const b = ring[issued % RING]!;
  const now = origin + performance.now();
  writeHeader(b, issued, now);
  if (issued === 0) firstMs = now;
  lastMs = now;
  issued++;
  sock.send(b, onSent);
  const q = sock.getSendQueueCount();
  if (q > queuedMax) {
    queuedMax = q;
    queuedMaxBytes = sock.getSendQueueSize();
  }
}

function finish(): void {
  if (finished) return;
  finished = true;
  const cpu = process.cpuUsage(cpuAtStart ?? undefined);
  emit('done', { attempted: a.count, sent: a.count - errors, errors, errorCodes, failed, firstMs, lastMs, lastCallbackMs, queuedMax, queuedMaxBytes, cpuMs: (cpu.user + cpu.system) / 1000 });
  sock.close();
}

function blast(): void {
  const end = Math.min(a.count, issued + BATCH);
  while (issued < end && issued - completed < RING) sendOne();
  if (issued < a.count) setImmediate(blast);
}

function burst(): void {
  const due = Math.min(a.count, Math.floor(((performance.now() - start) * a.rate) / 1000) + 1);
  while (issued < due && issued - completed < RING) sendOne();
  if (issued < a.count) setTimeout(burst, 1);
}

function paced(): void {
  const sliceEnd = performance.now() + 2;
  while (issued < a.count && issued - completed < RING) {
    const dueAt = start + (issued * 1000) / a.rate;
    let now = performance.now();
    if (dueAt - now > 2) {
      setTimeout(paced, dueAt - now - 1);
      return;
    }
    while (now < dueAt) now = performance.now();
    sendOne();
    if (now > sliceEnd) break;
  }
  if (issued < a.count) setImmediate(paced);
}

sock.on('error', (e: NodeJS.ErrnoException) => {
  const code = e.code ?? 'ERROR';
  errorCodes[`socket:${code}`] = (errorCodes[`socket:${code}`] ?? 0) + 1;
});

sock.connect(a.port, a.addr, () => {
  const addr = sock.address();
  emit('ready', { localPort: addr.port });
  start = performance.now();
  cpuAtStart = process.cpuUsage();
  if (a.rate <= 0) blast();
  else if (a.pace) paced();
  else burst();
});
