/**
 * The cost of kernel events: a UDP blast at full rate inside a lab namespace, alternately without
 * and with the kernel-event source attached to that namespace, in one run. The sender sends
 * numbered 100-byte datagrams as fast as node:dgram can for a fixed time, in two modes:
 *   overflow: the receiver (4 KiB buffer) does not read until the end, so nearly every datagram
 *     overflows its buffer: one kfree_skb event (SOCKET_RCVBUFF, with its first bytes) per datagram,
 *     the worst case for the source;
 *   drain: the receiver (default buffer) reads as fast as it can; only what it cannot take drops;
 *   floor (overflow, once a round): instead of the source, a bpftrace whose kfree_skb probe only
 *     counts: the cost of having any BPF program on that tracepoint.
 * The rate compared is datagrams per CPU second of the sender plus bpftrace (the loopback receive
 * path, the drop and the tracepoint's program all run in the sender's system time): what one full
 * core would send. Wall-clock rates are reported too but on a shared, loaded machine they measure
 * the load. Medians over the rounds; rounds alternate off/on so the machine's load drifts alike.
 *
 *   node dist/bench/kernel-events.bench.js [--rounds 5] [--seconds 2] [--out bench/results/kernel-events.json]
 *
 * Targets: the sender's rate drops by less than 5% with events on; lost events 0 (or reported).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { startKernelEvents } from '../src/observe/kernel-events.js';
import { withPrivateTracefs } from '../src/observe/tracefs.js';
import { createSandbox } from '../src/sandbox/index.js';
import type { Sandbox } from '../src/sandbox/types.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const RECEIVER = `
const dgram = require('dgram'); const fs = require('fs'); const block = process.argv[1] === 'overflow';
const s = dgram.createSocket(block ? { type: 'udp4', recvBufferSize: 4096 } : 'udp4'); let n = 0;
s.on('message', () => n++);
s.bind(0, '127.0.0.1', () => {
  fs.writeSync(1, 'READY ' + s.address().port + '\\n');
  if (block) fs.readSync(0, Buffer.alloc(1)); // not reading while the sender blasts
  process.stdin.on('data', () => { fs.writeSync(1, 'GOT ' + n + '\\n'); process.exit(0); });
  if (block) setTimeout(() => { fs.writeSync(1, 'GOT ' + n + '\\n'); process.exit(0); }, 100);
});`;

const SENDER = `
const dgram = require('dgram'); const [port, ms] = process.argv.slice(1).map(Number);
const s = dgram.createSocket('udp4'); s.connect(port, '127.0.0.1', () => {
  const bufs = Array.from({ length: 64 }, () => Buffer.alloc(100));
  let i = 0; const cpu0 = process.cpuUsage(); const t0 = process.hrtime.bigint(); const end = t0 + BigInt(ms) * 1000000n;
  const batch = () => {
    if (process.hrtime.bigint() >= end) { const el = Number(process.hrtime.bigint() - t0) / 1e9; const c = process.cpuUsage(cpu0); console.log('SENT ' + i + ' ' + el + ' ' + (c.user + c.system) / 1e6); s.close(); return; }
    for (let k = 0; k < 63; k++) { bufs[k].writeUInt32BE(i++ >>> 0, 0); s.send(bufs[k]); }
    bufs[63].writeUInt32BE(i++ >>> 0, 0); s.send(bufs[63], batch);
  };
  batch();
});`;

function line(cp: import('node:child_process').ChildProcess, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    cp.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      const m = re.exec(buf);
      if (m) resolve(m);
    });
    cp.once('exit', () => reject(new Error(`exited before ${re}: ${buf}`)));
  });
}

type Mode = 'overflow' | 'drain' | 'floor';

interface Round {
  mode: Mode;
  events: boolean;
  sent: number;
  seconds: number;
  sendRate: number; // datagrams/s the sender achieved (wall clock: at the mercy of the machine's load)
  senderCpuS: number; // CPU the sender used (user + system: the loopback receive path and the tracepoints run in it)
  bpftraceCpuS: number | null; // CPU bpftrace used while the sender ran
  cpuRate: number; // datagrams per CPU second of sender + bpftrace: the rate a full core would give
  received: number;
  dropped: number;
  dropEvents: number | null;
  dropCountInKernel: number | null;
  lost: number | null;
}

/**
 * The floor: bpftrace with a kfree_skb probe that only counts, no filter. What any BPF program on
 * that tracepoint costs per dropped packet here, whatever it does.
 */
async function floorProbe(): Promise<() => Promise<void>> {
  const argv = withPrivateTracefs(['bpftrace', '-e', 'tracepoint:skb:kfree_skb { @n = count(); }']);
  const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
  await line(p, /Attaching \d+ probe/);
  return async () => {
    const done = new Promise((r) => p.once('close', r));
    p.kill('SIGINT');
    await done;
  };
}

async function blast(sb: Sandbox, mode: Mode, seconds: number, events: boolean, floor = false): Promise<Round> {
  const src = events && !floor ? startKernelEvents(sb.roles.map((r) => sb.host(r).netns)) : null;
  await src?.ready();
  const stopFloor = floor ? await floorProbe() : null;
  const rcv = sb.spawn('server', ['node', '-e', RECEIVER, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = Number((await line(rcv, /READY (\d+)/))[1]);
  const snd = sb.spawn('client', ['node', '-e', SENDER, String(port), String(seconds * 1000)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const m = await line(snd, /SENT (\d+) ([\d.]+) ([\d.]+)/);
  await new Promise((r) => setTimeout(r, 200)); // the receiver drains its buffer
  rcv.stdin!.write('x');
  const received = Number((await line(rcv, /GOT (\d+)/))[1]);
  const k = await src?.stop();
  await stopFloor?.();
  if (k && !k.available) throw new Error(`kernel events unavailable: ${k.missing}`);
  const sent = Number(m[1]);
  const el = Number(m[2]);
  const ka = k && k.available ? k : null;
  return {
    mode: floor ? 'floor' : mode, events, sent, seconds: el, sendRate: sent / el, senderCpuS: Number(m[3]), bpftraceCpuS: ka?.cpuMs != null ? ka.cpuMs / 1000 : null,
    cpuRate: sent / (Number(m[3]) + (ka?.cpuMs ?? 0) / 1000), received, dropped: sent - received,
    dropEvents: ka ? ka.events.filter((e) => e.kind === 'drop').length : null,
    dropCountInKernel: ka ? ka.dropCounts.reduce((s, d) => s + d.count, 0) : null,
    lost: ka ? ka.lost : null,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '2' }, out: { type: 'string', default: path.join(root, 'bench/results/kernel-events.json') } } });
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const sb = await createSandbox({ kind: 'loopback' }, { label: 'bench-kernel-events' });
  const results: Round[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      for (const [mode, ev] of (['overflow', 'drain'] as Mode[]).flatMap((m) => (i % 2 ? [true, false] : [false, true]).map((e) => [m, e] as const))) {
        const r = await blast(sb, mode, seconds, ev);
        results.push(r);
        process.stderr.write(`[bench] ${mode} events ${ev ? 'on ' : 'off'}: ${Math.round(r.sendRate)} datagrams/s sent (${Math.round(r.cpuRate)} per CPU s; sender ${r.senderCpuS.toFixed(2)} s CPU${ev ? `, bpftrace ${r.bpftraceCpuS?.toFixed(2)} s` : ''}), ${r.received} received, ${r.dropped} dropped${ev ? `, ${r.dropEvents} drop events (${r.dropCountInKernel} counted in the kernel), ${r.lost} lost` : ''}\n`);
      }
      {
        const r = await blast(sb, 'overflow', seconds, true, true);
        results.push(r);
        process.stderr.write(`[bench] floor (a count-only kfree_skb probe): ${Math.round(r.sendRate)} datagrams/s sent (${Math.round(r.cpuRate)} per CPU s; sender ${r.senderCpuS.toFixed(2)} s CPU), ${r.dropped} dropped\n`);
      }
    }
  } finally {
    await sb.destroy();
  }
  const modes = (['overflow', 'drain'] as Mode[]).map((mode) => {
    const rs = results.filter((r) => r.mode === mode);
    const off = median(rs.filter((r) => !r.events).map((r) => r.cpuRate));
    const floorRate = median(results.filter((r) => r.mode === 'floor').map((r) => r.cpuRate));
    const on = median(rs.filter((r) => r.events).map((r) => r.cpuRate));
    const drop = (off - on) / off;
    const wallOff = median(rs.filter((r) => !r.events).map((r) => r.sendRate));
    const wallOn = median(rs.filter((r) => r.events).map((r) => r.sendRate));
    const lost = rs.filter((r) => r.events).reduce((s, r) => s + (r.lost ?? 0), 0);
    const dropEvents = rs.filter((r) => r.events).reduce((s, r) => s + (r.dropEvents ?? 0), 0);
    return { mode, medianCpuRate: { off: Math.round(off), on: Math.round(on), ...(mode === 'overflow' ? { floor: Math.round(floorRate) } : {}) }, medianWallRate: { off: Math.round(wallOff), on: Math.round(wallOn) }, rateDropPercent: Math.round(drop * 1000) / 10, dropEvents, lostEvents: lost, met: { rate: drop < 0.05, lost: lost === 0 } };
  });
  const summary = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, load1: os.loadavg()[0], kernel: os.release(), node: process.version },
    rounds, seconds,
    target: { rateDropBelowPercent: 5, lostEvents: 0 },
    modes,
    results,
  };
  mkdirSync(path.dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, JSON.stringify(summary, null, 2) + '\n');
  for (const m of modes) {
    const fl = 'floor' in m.medianCpuRate ? `; any program on kfree_skb (count only): ${m.medianCpuRate.floor} (${Math.round((1 - m.medianCpuRate.floor! / m.medianCpuRate.off) * 1000) / 10}% slower)` : '';
    console.log(`${m.mode}: median ${m.medianCpuRate.off} datagrams per CPU second without kernel events, ${m.medianCpuRate.on} with (bpftrace's CPU included): ${m.rateDropPercent}% slower${fl} (target < 5%: ${m.met.rate ? 'met' : 'MISSED'}); ${m.dropEvents} drop events, ${m.lostEvents} lost (target 0: ${m.met.lost ? 'met' : 'MISSED'})`);
  }
  console.log(`wall-clock rates (noisy under load): ${modes.map((m) => `${m.mode} ${m.medianWallRate.off} -> ${m.medianWallRate.on}/s`).join(', ')}`);
  console.log(`${rounds} rounds x ${seconds} s each way, load ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores; written to ${path.relative(process.cwd(), values.out!)}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
