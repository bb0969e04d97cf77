/**
 * wirelab's UDP sender against `iperf3 -u -b 0` in the same run: same datagram size, same count,
 * each in a fresh loopback namespace with the same tcpdump capture running (-s 128 -B 64 MiB), in
 * rotating order, median of N rounds. A third anchor, the floor of node:dgram itself: a bare loop
 * of `send()` on a connected socket (the same header, no callbacks, no timing of its own) to
 * wirelab's receiver: wirelab against it is what wirelab's sender adds; it against iperf3 is what
 * node:dgram costs per datagram beside a C `write()` loop. Reports datagrams/s of both and their ratio (target:
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
import { LabProgram } from '../src/lab/program.js';
import { createSandbox } from '../src/sandbox/index.js';
import type { Sandbox } from '../src/sandbox/types.js';
import { runUdp } from '../src/udp/engine.js';
import { DEFAULT_PARAMS } from '../src/udp/params.js';
import { MAGIC } from '../src/udp/payload.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const IPERF_PORT = 5201; // inside a fresh namespace of its own: nothing else listens there

interface Options {
  sizes: number[];
  count: number;
  rounds: number;
  out: string;
}

interface Sample {
  tool: 'wirelab' | 'iperf3' | 'node-loop';
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

/** The node:dgram floor: numbered datagrams in a bare loop, 1000 per turn; prints SENT n seconds cpuSeconds. */
const NODE_LOOP = `
const dgram = require('node:dgram'); const [port, size, count, v6] = process.argv.slice(1).map(Number);
const s = dgram.createSocket(v6 ? 'udp6' : 'udp4');
s.connect(port, v6 ? '::1' : '127.0.0.1', () => {
  const bufs = Array.from({ length: 64 }, () => { const b = Buffer.alloc(size); b.writeUInt32BE(${MAGIC}, 4); return b; });
  let i = 0; const cpu0 = process.cpuUsage(); const t0 = performance.now();
  const turn = () => {
    const end = Math.min(count, i + 1000);
    for (; i < end; i++) { const b = bufs[i & 63]; b.writeUInt32BE(i, 0); b.writeDoubleBE(performance.timeOrigin + performance.now(), 8); s.send(b); }
    if (i < count) { setImmediate(turn); return; }
    const c = process.cpuUsage(cpu0);
    console.log('SENT ' + i + ' ' + (performance.now() - t0) / 1000 + ' ' + (c.user + c.system) / 1e6);
    s.close();
  };
  turn();
});`;

async function nodeLoop(size: number, count: number, round: number, dir: string): Promise<Sample> {
  return withSandbox('bench-udp-node-loop', async (sb) => {
    const cap = await startCapture({ sandbox: sb, role: 'server', file: path.join(dir, `node-loop-${size}-${round}.pcap`), backend: 'tcpdump', snaplen: 128, bufferKiB: 65536 });
    const receiver = new LabProgram(sb, 'server', 'udp-receiver', 'udp-receiver', { addr: sb.host('server').addr4, family: 4, rcvbuf: null, workUs: 0, reader: 'inline', count });
    try {
      const port = (await receiver.next('ready', 60_000)).port as number;
      const r = await sb.exec('client', ['node', '-e', NODE_LOOP, String(port), String(size), String(count), '0']);
      const m = /SENT (\d+) ([\d.]+) ([\d.]+)/.exec(r.stdout);
      if (!m) throw new Error(`the node:dgram loop failed (${r.code}): ${r.stderr.slice(0, 500)}`);
      receiver.send({ do: 'drain', quietMs: 100 });
      const got = await receiver.next('done', 120_000);
      const stats = await cap.stop();
      return {
        tool: 'node-loop', size, round, perSec: count / Number(m[2]), perCpuSec: count / Number(m[3]), receivedPercent: (100 * (got.received as number)) / count,
        captureDropped: stats.droppedByKernel, captured: stats.captured,
      };
    } finally {
      await receiver.stop().catch(() => null);
      await cap.stop().catch(() => null);
    }
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
        // rotate who goes first, so none always gets the quieter moment
        const tools = [wirelab, iperf3, nodeLoop];
        const order = [...tools.slice(round % 3), ...tools.slice(0, round % 3)];
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
    const n = median(of('node-loop').map((s) => s.perSec));
    const nc = median(of('node-loop').map((s) => s.perCpuSec));
    return {
      size,
      wirelabPerSec: Math.round(w),
      iperf3PerSec: Math.round(i),
      wirelabPerCpuSec: Math.round(wc),
      iperf3PerCpuSec: Math.round(ic),
      cpuRatio: +(wc / ic).toFixed(3),
      nodeLoopPerSec: Math.round(n),
      nodeLoopPerCpuSec: Math.round(nc),
      nodeLoopToIperf3: { rate: +(n / i).toFixed(3), perCpu: +(nc / ic).toFixed(3) },
      wirelabToNodeLoop: { rate: +(w / n).toFixed(3), perCpu: +(wc / nc).toFixed(3) },
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
        `received: wirelab ${r.wirelabReceivedPercent}%, iperf3 ${r.iperf3ReceivedPercent}%\n` +
        `  the node:dgram floor (a bare send() loop to the same receiver): ${r.nodeLoopPerSec}/s, ${r.nodeLoopPerCpuSec} per CPU second: ` +
        `${r.nodeLoopToIperf3.rate} of iperf3's rate (${r.nodeLoopToIperf3.perCpu} per CPU); wirelab's sender reaches ${r.wirelabToNodeLoop.rate} of it (${r.wirelabToNodeLoop.perCpu} per CPU)\n`,
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
