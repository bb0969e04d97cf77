/**
 * The UDP receiver: binds, reads the sender's numbered datagrams and counts them as iperf3 does
 * (received, out of order, duplicates, RFC 3550 jitter), working `workUs` per datagram:
 *   reader 'inline': the work happens in the 'message' handler, so the socket is not read meanwhile;
 *   reader 'queue': the handler only queues, a worker thread does the work (the socket keeps being read).
 * On { do: 'drain' } it waits until its socket's receive queue (/proc/self/net/udp rx_queue) and its
 * work queue are empty and nothing arrived for `quietMs`, then reports, with the socket's drop
 * count (the last column of /proc/net/udp) and which sequence numbers arrived (a bitmap, base64).
 *   args: { addr, family, rcvbuf: number|null, workUs, reader, count }
 *   events: ready { port, rcvbuf } · done { received, duplicates, outOfOrder, jitterMs, foreign, drops, bitmap, ... }
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { MAGIC } from '../../src/udp/payload.js';
import { args, emit, onCommand } from './protocol.js';

interface Args {
  addr: string;
  family: 4 | 6;
  rcvbuf: number | null;
  workUs: number;
  reader: 'inline' | 'queue';
  count: number;
}

const a = args<Args>();
const origin = performance.timeOrigin;
const seen = new Uint8Array(a.count);
let received = 0;
let duplicates = 0;
let outOfOrder = 0;
let foreign = 0;
let maxSeq = -1;
let jitter = 0; // ms
let prevTransit = 0;
let havePrev = false;
let firstMs = 0;
let lastMs = 0;
let lastArrival = 0; // performance.now() of the last datagram

function spin(us: number): void {
  if (us <= 0) return;
  const end = performance.now() + us / 1000;
  while (performance.now() < end) {
    // busy: the per-datagram work
  }
}

// The queue reader's worker: shared counters [0] = queued, [1] = worked.
const shared = new Int32Array(new SharedArrayBuffer(8));
let worker: Worker | null = null;
if (a.reader === 'queue' && a.workUs > 0) {
  worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const st = new Int32Array(workerData.sab);
     const us = workerData.us;
     for (;;) {
       const q = Atomics.load(st, 0);
       if (Atomics.load(st, 1) >= q) { Atomics.wait(st, 0, q, 100); continue; }
       const end = performance.now() + us / 1000;
       while (performance.now() < end) {}
       Atomics.add(st, 1, 1);
     }`,
    { eval: true, workerData: { sab: shared.buffer, us: a.workUs } },
  );
  worker.unref();
}

const sock = dgram.createSocket({ type: a.family === 6 ? 'udp6' : 'udp4', ...(a.rcvbuf ? { recvBufferSize: a.rcvbuf } : {}) });

sock.on('message', (msg: Buffer) => {
  const now = performance.now();
  lastArrival = now;
  if (msg.length < 16 || msg.readUInt32BE(4) !== MAGIC) {
    foreign++;
    return;
  }
  const seq = msg.readUInt32BE(0);
  if (seq >= a.count) {
    foreign++;
    return;
  }
  const arrivalMs = origin + now;
  if (received === 0 && duplicates === 0) firstMs = arrivalMs;
  lastMs = arrivalMs;
  if (seen[seq] !== 0) duplicates++;
  else {
    seen[seq] = 1;
    received++;
    if (seq > maxSeq) maxSeq = seq;
    else outOfOrder++;
  }
  // RFC 3550 interarrival jitter as iperf3 computes it: J += (|D| - J) / 16, D the change in transit time.
  const transit = arrivalMs - msg.readDoubleBE(8);
  if (havePrev) {
    const d = transit > prevTransit ? transit - prevTransit : prevTransit - transit;
    jitter += (d - jitter) / 16;
  }
  prevTransit = transit;
  havePrev = true;
  if (a.workUs > 0) {
    if (worker) {
      Atomics.add(shared, 0, 1);
      Atomics.notify(shared, 0);
    } else spin(a.workUs);
  }
});

/** rx_queue (bytes waiting) and drops of our socket, from /proc/self/net/udp{,6}. */
function socketQueue(port: number): { rxQueue: number; drops: number } | null {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const text = readFileSync(`/proc/self/net/${a.family === 6 ? 'udp6' : 'udp'}`, 'utf8');
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 13 || !(cols[1]! + ' ').endsWith(hexPort)) continue;
    const rx = cols[4]!.split(':')[1] ?? '0';
    return { rxQueue: parseInt(rx, 16), drops: Number(cols[cols.length - 1]) };
  }
  return null;
}

function packBits(): string {
  const out = Buffer.alloc(Math.ceil(a.count / 8));
  for (let i = 0; i < a.count; i++) if (seen[i]) out[i >> 3]! |= 1 << (i & 7);
  return out.toString('base64');
}

function drain(quietMs: number): void {
  const port = sock.address().port;
  const check = (): void => {
    const q = socketQueue(port);
    const busy = (q !== null && q.rxQueue > 0) || (worker !== null && Atomics.load(shared, 1) < Atomics.load(shared, 0));
    if (busy || performance.now() - lastArrival < quietMs) {
      setTimeout(check, 10);
      return;
    }
    emit('done', {
      received, duplicates, outOfOrder, foreign, maxSeq,
      jitterMs: jitter, firstMs, lastMs,
      drops: q?.drops ?? null,
      cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000, // the worker thread's included
      rcvbuf: sock.getRecvBufferSize(),
      bitmap: packBits(),
    });
  };
  check();
}

onCommand((cmd) => {
  if (cmd.do === 'drain') drain(typeof cmd.quietMs === 'number' ? cmd.quietMs : 100);
});

sock.bind(0, a.addr, () => {
  emit('ready', { port: sock.address().port, rcvbuf: sock.getRecvBufferSize() });
});
