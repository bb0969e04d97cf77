/**
 * `wirelab inspect --json` against its anchors on one real trace, in one run, side by side:
 * tshark with TCP analysis fields, tshark's conversation table, tcpdump -r, and a bare
 * pcap-parser loop that only counts packets. Wall time (median of N runs) and peak RSS
 * (/usr/bin/time -v) for each; the ratios against the targets; bench/results/latest.json.
 *
 *   node dist/bench/inspect.bench.js [--trace /tmp/wl-bench.pcap] [--runs 3] [--tshark-analysis-runs N]
 *                                    [--packets 1000000 (when the trace must be made)] [--out FILE]
 *
 * Targets: inspect >= 5x faster than tshark's conversation table, >= 15x faster than tshark with
 * analysis, faster than the bare pcap-parser loop, peak RSS < 200 MB. On a shared machine wall
 * time follows the load: CPU time (user + sys, /usr/bin/time) is reported beside it, and the load
 * average before and after the run.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTrace } from './make-trace.js';

const here = path.dirname(fileURLToPath(import.meta.url)); // dist/bench
const root = path.resolve(here, '..', '..');
const TIME = '/usr/bin/time';

interface Tool {
  name: string;
  argv: string[];
  runs: number;
}

interface Measured {
  name: string;
  argv: string[];
  wallS: number[]; // every run
  medianS: number;
  cpuS: number[]; // user + sys of every run (empty without /usr/bin/time)
  medianCpuS: number | null;
  peakRssMb: number | null; // the largest over the runs
  output?: string; // stdout, for the tools whose stdout is tiny and read (the packet count)
}

interface Options {
  trace: string;
  runs: number;
  tsharkAnalysisRuns: number | null;
  packets: number;
  out: string;
}

function options(argv: string[]): Options {
  const o: Options = { trace: '/tmp/wl-bench.pcap', runs: 3, tsharkAnalysisRuns: null, packets: 1_000_000, out: path.join(root, 'bench', 'results', 'latest.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--trace') o.trace = path.resolve(v());
    else if (a === '--runs') o.runs = Number(v());
    else if (a === '--tshark-analysis-runs') o.tsharkAnalysisRuns = Number(v());
    else if (a === '--packets') o.packets = Number(v());
    else if (a === '--out') o.out = path.resolve(v());
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(o.runs >= 1)) throw new Error('--runs takes a number >= 1');
  return o;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One run: wall time measured here, peak RSS from /usr/bin/time -v (null without it). */
function runOnce(t: Tool, keepStdout: boolean): Promise<{ wallS: number; cpuS: number | null; rssKb: number | null; stdout: string }> {
  const useTime = existsSync(TIME);
  const argv = useTime ? [TIME, '-v', ...t.argv] : t.argv;
  const devnull = openSync('/dev/null', 'w');
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const cp = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', keepStdout ? 'pipe' : devnull, 'pipe'] });
    let stderr = '';
    let stdout = '';
    cp.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
    cp.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (stderr.length > 1 << 20) stderr = stderr.slice(-65536);
    });
    cp.on('error', reject);
    cp.on('close', (code) => {
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      closeSync(devnull);
      if (code !== 0) {
        reject(new Error(`${t.name}: \`${t.argv.join(' ')}\` exited ${code}: ${stderr.slice(-2000)}`));
        return;
      }
      const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
      const sys = /System time \(seconds\): ([\d.]+)/.exec(stderr);
      const cpuS = user && sys ? Number(user[1]) + Number(sys[1]) : null;
      resolve({ wallS, cpuS, rssKb: m ? Number(m[1]) : null, stdout });
    });
  });
}

async function measure(tools: Tool[], say: (s: string) => void): Promise<Measured[]> {
  const res: Measured[] = tools.map((t) => ({ name: t.name, argv: t.argv, wallS: [], medianS: 0, cpuS: [], medianCpuS: null, peakRssMb: null }));
  const maxRuns = Math.max(...tools.map((t) => t.runs));
  // Round-robin, so a slow moment of the machine is spread over every tool.
  for (let r = 0; r < maxRuns; r++) {
    for (let i = 0; i < tools.length; i++) {
      const t = tools[i]!;
      if (r >= t.runs) continue;
      const m = res[i]!;
      const one = await runOnce(t, t.name === 'pcap-parser count');
      m.wallS.push(one.wallS);
      if (one.cpuS !== null) m.cpuS.push(one.cpuS);
      if (one.rssKb !== null) m.peakRssMb = Math.max(m.peakRssMb ?? 0, one.rssKb / 1024);
      if (one.stdout) m.output = one.stdout.trim();
      say(`  run ${r + 1}: ${t.name} ${one.wallS.toFixed(2)} s${one.rssKb !== null ? `, ${(one.rssKb / 1024).toFixed(0)} MB` : ''}`);
    }
  }
  for (const m of res) {
    m.medianS = median(m.wallS);
    m.medianCpuS = m.cpuS.length ? median(m.cpuS) : null;
  }
  return res;
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const say = (s: string): void => void process.stderr.write(`${s}\n`);
  const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
  const counter = path.join(here, 'pcap-parser-count.js');
  for (const f of [cli, counter]) if (!existsSync(f)) throw new Error(`${f} is missing: run \`npx tsc -p tsconfig.json\``);
  if (!existsSync(o.trace)) {
    say(`${o.trace} is missing: making a ${o.packets}-packet trace (bench/make-trace.ts, needs root)`);
    const t = await makeTrace({ packets: o.packets, out: o.trace });
    say(`  ${t.packets} packets in ${t.seconds.toFixed(1)} s, tcpdump dropped ${t.droppedByKernel ?? '?'}`);
  }
  const bytes = statSync(o.trace).size;
  if (!existsSync(TIME)) say(`${TIME} is missing (apt-get install time): peak RSS is not measured`);
  const big = bytes > 100 * 1024 * 1024;
  const tools: Tool[] = [
    { name: 'wirelab inspect --json', argv: [process.execPath, cli, 'inspect', o.trace, '--json'], runs: o.runs },
    { name: 'pcap-parser count', argv: [process.execPath, counter, o.trace], runs: o.runs },
    { name: 'tcpdump -nn -r', argv: ['tcpdump', '-nn', '-r', o.trace], runs: o.runs },
    { name: 'tshark conv,tcp', argv: ['tshark', '-r', o.trace, '-q', '-z', 'conv,tcp'], runs: o.runs },
    {
      name: 'tshark analysis fields',
      argv: ['tshark', '-r', o.trace, '-T', 'fields', '-e', 'tcp.stream', '-e', 'tcp.analysis.flags'],
      runs: o.tsharkAnalysisRuns ?? (big ? 1 : o.runs),
    },
  ];
  say(`bench: ${o.trace} (${(bytes / 1e6).toFixed(0)} MB), ${o.runs} runs each`);
  const loadBefore = os.loadavg();
  say(`load average before: ${loadBefore.map((x) => x.toFixed(2)).join(' ')} (${os.cpus().length} cores)`);
  const res = await measure(tools, say);
  const loadAfter = os.loadavg();
  const by = (n: string): Measured => res.find((m) => m.name === n)!;
  const inspect = by('wirelab inspect --json');
  const cpu = (m: Measured): number => m.medianCpuS ?? NaN;
  const ratios = {
    tsharkConvOverInspect: by('tshark conv,tcp').medianS / inspect.medianS,
    tsharkAnalysisOverInspect: by('tshark analysis fields').medianS / inspect.medianS,
    inspectOverPcapParser: inspect.medianS / by('pcap-parser count').medianS,
    cpu: {
      tsharkConvOverInspect: cpu(by('tshark conv,tcp')) / cpu(inspect),
      tsharkAnalysisOverInspect: cpu(by('tshark analysis fields')) / cpu(inspect),
      inspectOverPcapParser: cpu(inspect) / cpu(by('pcap-parser count')),
    },
    inspectPeakRssMb: inspect.peakRssMb,
  };
  const targets = {
    tsharkConvOverInspect: { want: '>= 5', ok: ratios.tsharkConvOverInspect >= 5 },
    tsharkAnalysisOverInspect: { want: '>= 15', ok: ratios.tsharkAnalysisOverInspect >= 15 },
    inspectOverPcapParser: { want: '< 1', ok: ratios.inspectOverPcapParser < 1 },
    inspectPeakRssMb: { want: '< 200', ok: ratios.inspectPeakRssMb !== null && ratios.inspectPeakRssMb < 200 },
  };
  const packets = Number(by('pcap-parser count').output ?? NaN);

  const w = Math.max(...res.map((m) => m.name.length));
  const lines = [
    `trace ${o.trace}: ${Number.isFinite(packets) ? packets : '?'} packets, ${(bytes / 1e6).toFixed(0)} MB`,
    `load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')} (${os.cpus().length} cores)`,
    `${'tool'.padEnd(w)}  median s   min s   max s  median CPU s  runs  peak RSS MB`,
    ...res.map(
      (m) =>
        `${m.name.padEnd(w)}  ${m.medianS.toFixed(2).padStart(8)}  ${Math.min(...m.wallS).toFixed(2).padStart(6)}  ${Math.max(...m.wallS).toFixed(2).padStart(6)}  ${(m.medianCpuS === null ? '?' : m.medianCpuS.toFixed(2)).padStart(12)}  ${String(m.wallS.length).padStart(4)}  ${m.peakRssMb === null ? '?' : m.peakRssMb.toFixed(0).padStart(11)}`,
    ),
    '',
    `tshark conv,tcp / inspect: ${ratios.tsharkConvOverInspect.toFixed(1)}x faster (CPU ${ratios.cpu.tsharkConvOverInspect.toFixed(1)}x; target >= 5x): ${targets.tsharkConvOverInspect.ok ? 'met' : 'MISSED'}`,
    `tshark analysis / inspect: ${ratios.tsharkAnalysisOverInspect.toFixed(1)}x faster (CPU ${ratios.cpu.tsharkAnalysisOverInspect.toFixed(1)}x; target >= 15x): ${targets.tsharkAnalysisOverInspect.ok ? 'met' : 'MISSED'}`,
    `inspect / pcap-parser loop: ${ratios.inspectOverPcapParser.toFixed(2)}x (CPU ${ratios.cpu.inspectOverPcapParser.toFixed(2)}x; target < 1, faster): ${targets.inspectOverPcapParser.ok ? 'met' : 'MISSED'}`,
    `inspect peak RSS: ${ratios.inspectPeakRssMb === null ? '?' : ratios.inspectPeakRssMb.toFixed(0)} MB (target < 200 MB): ${targets.inspectPeakRssMb.ok ? 'met' : 'MISSED'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  mkdirSync(path.dirname(o.out), { recursive: true });
  const report = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, memGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, kernel: os.release() },
    trace: { file: o.trace, bytes, packets: Number.isFinite(packets) ? packets : null },
    load: { before: loadBefore, after: loadAfter },
    results: res.map(({ name, argv, wallS, medianS, cpuS, medianCpuS, peakRssMb }) => ({ name, argv, wallS, medianS, cpuS, medianCpuS, peakRssMb })),
    ratios,
    targets,
  };
  writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  say(`wrote ${o.out}`);
  if (!Object.values(targets).every((t) => t.ok)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(1);
});
