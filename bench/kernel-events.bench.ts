/**
 * The cost of kernel events: a UDP blast at full rate inside a lab namespace, without and with the
 * kernel-event source attached to that namespace, in one run. The sender sends numbered 100-byte
 * datagrams as fast as node:dgram can for a fixed time, in two modes:
 *   overflow: the receiver (4 KiB buffer) does not read until the end, so nearly every datagram
 *     overflows its buffer: one kfree_skb event (SOCKET_RCVBUFF, with its first bytes) per datagram,
 *     the worst case for the source;
 *   drain: the receiver (default buffer) reads as fast as it can; only what it cannot take drops.
 * Sources: none (no bpftrace), then the run's one bpftrace (compiled once, as in `wirelab run`)
 * with this namespace registered (on) and not registered (idle: what a blast in another lab of
 * the run pays) alternately, then none again, so the baseline brackets the measurement; and once
 * a floor: a bpftrace whose kfree_skb probe does nothing (what any BPF program on that classic
 * tracepoint costs: bpftrace 0.17 has no raw tracepoints or fentry, which skip the event record).
 * The rate compared is datagrams per CPU second of the sender plus bpftrace (the loopback receive
 * path, the drop and the tracepoint's program all run in the sender's system time): what one full
 * core would send. Wall-clock rates are reported too but on a shared, loaded machine they measure
 * the load. Medians over the rounds.
 *
 *   node dist/bench/kernel-events.bench.js [--rounds 5] [--seconds 2] [--modes overflow,drain] [--skip-floor] [--out bench/results/kernel-events.json]
 *
 * Targets: the sender's rate drops by less than 5% with events on; lost events 0 (or reported).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { startKernelEventHub, type KernelEventHub } from '../src/observe/kernel-hub.js';
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

/** none: no bpftrace at all; on: this namespace registered with the run's bpftrace; idle: that bpftrace attached, this namespace not registered (what a blast in another lab pays). */
type Source = 'none' | 'idle' | 'on' | 'floor';

interface Round {
  mode: Mode;
  source: Source;
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
 * The floor: bpftrace with a kfree_skb probe that does nothing. What any BPF program on that
 * tracepoint costs per dropped packet here, whatever it does.
 */
async function floorProbe(): Promise<() => Promise<void>> {
  const argv = withPrivateTracefs(['bpftrace', '-e', 'tracepoint:skb:kfree_skb { $x = 1; }']);
  const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
  await line(p, /Attaching \d+ probe/);
  return async () => {
    const done = new Promise((r) => p.once('close', r));
    p.kill('SIGINT');
    await done;
  };
}

async function blast(sb: Sandbox, hub: KernelEventHub | null, mode: Mode, seconds: number, source: Source): Promise<Round> {
  const events = source === 'on';
  const floor = source === 'floor';
  const src = events ? hub!.attach(sb.roles.map((r) => sb.host(r).netns)) : null;
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
    mode: floor ? 'floor' : mode, source, events, sent, seconds: el, sendRate: sent / el, senderCpuS: Number(m[3]), bpftraceCpuS: ka?.cpuMs != null ? ka.cpuMs / 1000 : null,
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
  const { values } = parseArgs({ options: { modes: { type: 'string', default: 'overflow,drain' }, 'skip-floor': { type: 'boolean', default: false }, rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '2' }, out: { type: 'string', default: path.join(root, 'bench/results/kernel-events.json') } } });
  const rounds = Number(values.rounds);
  const modeList = values.modes!.split(',') as Mode[];
  if (!modeList.every((m) => m === 'overflow' || m === 'drain')) throw new Error(`--modes takes overflow and/or drain, got ${values.modes}`);
  const loadStart = os.loadavg()[0];
  const seconds = Number(values.seconds);
  const sb = await createSandbox({ kind: 'loopback' }, { label: 'bench-kernel-events' });
  const results: Round[] = [];
  const say = (r: Round): void =>
    void process.stderr.write(`[bench] ${r.mode} ${r.source}: ${Math.round(r.sendRate)} datagrams/s sent (${Math.round(r.cpuRate)} per CPU s; sender ${r.senderCpuS.toFixed(2)} s CPU${r.events ? `, bpftrace ${r.bpftraceCpuS?.toFixed(2)} s` : ''}), ${r.received} received, ${r.dropped} dropped${r.events ? `, ${r.dropEvents} drop events (${r.dropCountInKernel} counted in the kernel), ${r.lost} lost` : ''} (load ${os.loadavg()[0].toFixed(1)})\n`);
  const phase = async (hub: KernelEventHub | null, sources: Source[]): Promise<void> => {
    for (let i = 0; i < rounds; i++) {
      for (const mode of modeList) {
        for (const src of i % 2 ? [...sources].reverse() : sources) {
          const r = await blast(sb, hub, mode, seconds, src);
          results.push(r);
          say(r);
        }
      }
    }
  };
  let hub: KernelEventHub | null = null;
  try {
    // Without any bpftrace, then with the run's one bpftrace (compiled once: registered / not
    // registered alternately), then without again: the baseline brackets the measurement.
    await phase(null, ['none']);
    if (!values['skip-floor']) {
      const r = await blast(sb, null, 'overflow', seconds, 'floor');
      results.push(r);
      say(r);
    }
    hub = startKernelEventHub({ attachTimeoutMs: 600_000 });
    const t0 = Date.now();
    const hubFail = await hub.ready();
    if (hubFail) throw new Error(`kernel events unavailable: ${hubFail.missing}`);
    process.stderr.write(`[bench] bpftrace compiled and attached in ${((Date.now() - t0) / 1000).toFixed(1)} s (load ${os.loadavg()[0].toFixed(1)})\n`);
    await phase(hub, ['on', 'idle']);
    await hub.close();
    hub = null;
    await phase(null, ['none']);
  } finally {
    await hub?.close();
    await sb.destroy();
  }
  const modes = modeList.map((mode) => {
    const rs = results.filter((r) => r.mode === mode);
    const off = median(rs.filter((r) => r.source === 'none').map((r) => r.cpuRate));
    const idle = median(rs.filter((r) => r.source === 'idle').map((r) => r.cpuRate));
    const floorRate = median(results.filter((r) => r.mode === 'floor').map((r) => r.cpuRate));
    const on = median(rs.filter((r) => r.events).map((r) => r.cpuRate));
    const drop = (off - on) / off;
    const wallOff = median(rs.filter((r) => r.source === 'none').map((r) => r.sendRate));
    const wallOn = median(rs.filter((r) => r.events).map((r) => r.sendRate));
    const lost = rs.filter((r) => r.events).reduce((s, r) => s + (r.lost ?? 0), 0);
    const dropEvents = rs.filter((r) => r.events).reduce((s, r) => s + (r.dropEvents ?? 0), 0);
    return { mode, medianCpuRate: { off: Math.round(off), on: Math.round(on), idle: Math.round(idle), ...(mode === 'overflow' && !values['skip-floor'] ? { floor: Math.round(floorRate) } : {}) }, medianWallRate: { off: Math.round(wallOff), on: Math.round(wallOn) }, rateDropPercent: Math.round(drop * 1000) / 10, dropEvents, lostEvents: lost, met: { rate: drop < 0.05, lost: lost === 0 } };
  });
  const summary = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, load1: os.loadavg()[0], load1AtStart: loadStart, kernel: os.release(), node: process.version },
    rounds, seconds,
    target: { rateDropBelowPercent: 5, lostEvents: 0 },
    modes,
    results,
  };
  mkdirSync(path.dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, JSON.stringify(summary, null, 2) + '\n');
  for (const m of modes) {
    const idle = `; attached but this namespace not registered: ${m.medianCpuRate.idle} (${Math.round((1 - m.medianCpuRate.idle / m.medianCpuRate.off) * 1000) / 10}% slower)`;
    const fl = 'floor' in m.medianCpuRate ? `; any program on kfree_skb (an empty one): ${m.medianCpuRate.floor} (${Math.round((1 - m.medianCpuRate.floor! / m.medianCpuRate.off) * 1000) / 10}% slower)` : '';
    console.log(`${m.mode}: median ${m.medianCpuRate.off} datagrams per CPU second without kernel events, ${m.medianCpuRate.on} with (bpftrace's CPU included): ${m.rateDropPercent}% slower${idle}${fl} (target < 5%: ${m.met.rate ? 'met' : 'MISSED'}); ${m.dropEvents} drop events, ${m.lostEvents} lost (target 0: ${m.met.lost ? 'met' : 'MISSED'})`);
  }
  console.log(`wall-clock rates (noisy under load): ${modes.map((m) => `${m.mode} ${m.medianWallRate.off} -> ${m.medianWallRate.on}/s`).join(', ')}`);
  console.log(`${rounds} rounds x ${seconds} s per source and mode, load ${loadStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores; written to ${path.relative(process.cwd(), values.out!)}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
