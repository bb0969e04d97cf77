/**
 * wirelab's UDP sender against `iperf3 -u -b 0` in the same run: same datagram size, same count,
 * each in a fresh loopback namespace with the same tcpdump capture running (-s 128 -B 64 MiB), in
 * alternating order, median of N rounds. Reports datagrams/s of both and their ratio (target:
 * wirelab >= iperf3), and the capture's kernel drops (target 0; otherwise the run says the capture
 * was incomplete). Also datagrams per CPU second of each sender (wirelab's process.cpuUsage(), iperf3's
 * own cpu_utilization_percent): the comparison that does not depend on what else the machine runs.
 * Writes bench/results/udp-latest.json.
 *
 *   node dist/bench/udp.bench.js [--sizes 100,1400] [--count 200000] [--rounds 3] [--out FILE]
 * Needs root, tcpdump and iperf3 (Debian packages; scripts/setup.sh installs them).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCapture } from '../src/capture/live.js';
import { createSandbox } from '../src/sandbox/index.js';
import type { Sandbox } from '../src/sandbox/types.js';
import { runUdp } from '../src/udp/engine.js';
import { DEFAULT_PARAMS } from '../src/udp/params.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const IPERF_PORT = 5201; // inside a fresh namespace of its own: nothing else listens there

interface Options {
  sizes: number[];
  count: number;
  rounds: number;
  out: string;
}

interface Sample {
  tool: 'wirelab' | 'iperf3';
  size: number;
  round: number;
  perSec: number; // datagrams/s the sender sent
  perCpuSec: number; // datagrams per CPU second of the sender process (user + system): independent of the machine's load
  receivedPercent: number; // of those, what the receiver got
  captureDropped: number | null; // tcpdump's "dropped by kernel"
  captured: number;
}

function options(argv: string[]): Options {
  const o: Options = { sizes: [100, 1400], count: 200_000, rounds: 3, out: path.join(root, 'bench', 'results', 'udp-latest.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--sizes') o.sizes = v().split(',').map(Number);
    else if (a === '--count') o.count = Number(v());
    else if (a === '--rounds') o.rounds = Number(v());
    else if (a === '--out') o.out = path.resolve(v());
    else throw new Error(`unknown option ${a} (--sizes, --count, --rounds, --out)`);
  }
  return o;
}

async function withSandbox<T>(label: string, fn: (sb: Sandbox) => Promise<T>): Promise<T> {
  const sb = await createSandbox({ kind: 'loopback' }, { label });
  try {
    return await fn(sb);
  } finally {
    await sb.destroy();
  }
}

async function wirelab(size: number, count: number, round: number, dir: string): Promise<Sample> {
  return withSandbox('bench-udp-wirelab', async (sb) => {
    const r = await runUdp(sb, { ...DEFAULT_PARAMS, rate: 'max', size, count, rcvbuf: null }, { dir, name: `wirelab-${size}-${round}` });
    return {
      tool: 'wirelab', size, round, perSec: r.sender.ratePerSec, perCpuSec: count / (r.sender.cpuMs / 1000), receivedPercent: (100 * r.receiver.received) / count,
      captureDropped: r.capture.droppedByKernel, captured: r.capture.packets,
    };
  });
}

function waitFor(child: import('node:child_process').ChildProcess, re: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const t = setTimeout(() => reject(new Error(`iperf3 -s did not say ${re} within ${ms} ms: ${text}`)), ms);
    const on = (b: Buffer): void => {
      text += b.toString();
      if (re.test(text)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', () => reject(new Error(`iperf3 -s exited: ${text}`)));
  });
}

interface IperfUdp {
  seconds: number;
  packets: number;
  lost_packets: number;
}

async function iperf3(size: number, count: number, round: number, dir: string): Promise<Sample> {
  return withSandbox('bench-udp-iperf3', async (sb) => {
    const cap = await startCapture({ sandbox: sb, role: 'server', file: path.join(dir, `iperf3-${size}-${round}.pcap`), backend: 'tcpdump', snaplen: 128, bufferKiB: 65536 });
    const server = sb.spawn('server', ['iperf3', '-s', '-1', '--forceflush', '-p', String(IPERF_PORT)], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await waitFor(server, /Server listening/, 5000);
      const r = await sb.exec('client', ['iperf3', '-c', '127.0.0.1', '-p', String(IPERF_PORT), '-u', '-b', '0', '-l', String(size), '-k', String(count), '--json']);
      if (r.code !== 0) throw new Error(`iperf3 -c failed (${r.code}): ${r.stdout.slice(0, 500)} ${r.stderr}`);
      const doc = JSON.parse(r.stdout) as { end: { sum: IperfUdp; streams?: { udp: IperfUdp }[]; cpu_utilization_percent?: { host_total: number } } };
      const s = doc.end.streams?.[0]?.udp ?? doc.end.sum;
      const stats = await cap.stop();
      return {
        tool: 'iperf3', size, round, perSec: s.packets / s.seconds,
        // iperf3's own getrusage of the client over the test, as a percentage of the test's duration
        perCpuSec: s.packets / (((doc.end.cpu_utilization_percent?.host_total ?? NaN) / 100) * s.seconds),
        receivedPercent: (100 * (s.packets - s.lost_packets)) / s.packets,
        captureDropped: stats.droppedByKernel, captured: stats.captured,
      };
    } finally {
      server.kill('SIGTERM');
      await cap.stop().catch(() => null);
    }
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wirelab-udp-bench-'));
  const samples: Sample[] = [];
  try {
    for (const size of o.sizes) {
      for (let round = 0; round < o.rounds; round++) {
        // alternate who goes first, so neither always gets the quieter moment
        const order = round % 2 === 0 ? [wirelab, iperf3] : [iperf3, wirelab];
        for (const f of order) {
          const s = await f(size, o.count, round, dir);
          samples.push(s);
          process.stderr.write(`[bench udp] ${s.tool} ${size} B round ${round + 1}: ${Math.round(s.perSec)}/s, ${Math.round(s.perCpuSec)} per CPU second, capture dropped ${s.captureDropped}\n`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const results = o.sizes.map((size) => {
    const of = (tool: Sample['tool']): Sample[] => samples.filter((s) => s.size === size && s.tool === tool);
    const w = median(of('wirelab').map((s) => s.perSec));
    const i = median(of('iperf3').map((s) => s.perSec));
    const drops = samples.filter((s) => s.size === size).map((s) => s.captureDropped);
    const dropped = drops.reduce<number>((a, d) => a + (d ?? 0), 0);
    const wc = median(of('wirelab').map((s) => s.perCpuSec));
    const ic = median(of('iperf3').map((s) => s.perCpuSec));
    return {
      size,
      wirelabPerSec: Math.round(w),
      iperf3PerSec: Math.round(i),
      wirelabPerCpuSec: Math.round(wc),
      iperf3PerCpuSec: Math.round(ic),
      cpuRatio: +(wc / ic).toFixed(3),
      ratio: +(w / i).toFixed(3),
      targetMet: w >= i,
      captureDroppedTotal: dropped,
      captureComplete: drops.every((d) => d === 0),
      wirelabReceivedPercent: +median(of('wirelab').map((s) => s.receivedPercent)).toFixed(1),
      iperf3ReceivedPercent: +median(of('iperf3').map((s) => s.receivedPercent)).toFixed(1),
    };
  });
  const report = { date: new Date().toISOString(), count: o.count, rounds: o.rounds, loadavg: os.loadavg(), cpus: os.cpus().length, results, samples };
  mkdirSync(path.dirname(o.out), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  for (const r of results) {
    process.stdout.write(
      `${r.size} B: wirelab ${r.wirelabPerSec}/s, iperf3 -u ${r.iperf3PerSec}/s, ratio ${r.ratio} (${r.targetMet ? 'target met' : 'TARGET MISSED'}: wirelab >= iperf3); ` +
        `per CPU second of the sender: wirelab ${r.wirelabPerCpuSec}, iperf3 ${r.iperf3PerCpuSec} (ratio ${r.cpuRatio}); ` +
        `capture ${r.captureComplete ? '0 dropped by the kernel' : `INCOMPLETE: ${r.captureDroppedTotal} packets dropped by the kernel`}; ` +
        `received: wirelab ${r.wirelabReceivedPercent}%, iperf3 ${r.iperf3ReceivedPercent}%\n`,
    );
  }
  process.stdout.write(`results: ${path.relative(process.cwd(), o.out)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench udp failed: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
