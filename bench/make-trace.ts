/**
 * Make a real trace: a loopback sandbox (lo MTU 1500), a little injected loss (nftables fault
 * rules on the input path, so tcpdump still sees every dropped packet), tcpdump, and
 * bench/traffic.ts inside the namespace.
 *
 *   node dist/bench/make-trace.js --packets 1000000 --out /tmp/wl-bench.pcap [--json]
 *
 * The faults give the trace what an analyzer must get right: retransmitted data (random loss on
 * TCP segments with payload), SYN retransmissions (drop-nth on SYNs, plus 1% random SYN loss on
 * big traces), SYN-ACK retransmissions (drop-nth on SYN-ACKs, and lost final handshake ACKs on
 * the server-speaks-first port, where nothing else completes the handshake), and incomplete UDP
 * datagrams (fragment loss).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startCapture } from '../src/capture/live.js';
import type { CaptureStats } from '../src/capture/live-types.js';
import { createSandbox } from '../src/sandbox/index.js';
import type { FaultCount, FaultRule } from '../src/sandbox/types.js';
import type { TrafficArgs } from './traffic.js';

export interface TraceOptions {
  packets: number; // roughly how many packets the trace should hold
  out: string;
  timeLimitMs?: number; // the traffic program's own limit (default: scaled to the size)
  dataLossPercent?: number; // random loss on TCP data, default 1 (nft takes whole percents)
  fragmentLossPercent?: number; // default 3
}

export interface TraceResult {
  file: string;
  packets: number; // what tcpdump wrote
  droppedByKernel: number | null;
  receivedByFilter: number | null;
  seconds: number;
  plan: TrafficArgs;
  traffic: Record<string, unknown>; // traffic.ts's summary
  faults: FaultCount[];
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** dist/bench/traffic.js, from the source tree (vitest) or from dist itself. */
export function trafficProgram(): string {
  const candidates = [path.join(here, 'traffic.js'), path.resolve(here, '..', 'dist', 'bench', 'traffic.js')];
  const found = candidates.find((p) => p.includes(`${path.sep}dist${path.sep}`) && existsSync(p));
  if (!found) throw new Error(`the traffic program is not built (${candidates[1]} is missing): run \`npx tsc -p tsconfig.json\``);
  return found;
}

// Calibrated on this machine (lo MTU 1500, GSO on): a short connection averages ~9 packets, a
// datagram of the default size mix ~2.75 (1, 1, 3 and 6 fragments), a 4 MB bulk transfer ~250.
const PER_CONN = 9;
const PER_DATAGRAM = 2.75;
const PER_BULK_MB = 65;

/** The traffic mix for about `packets` packets: ~88% short connections, ~7% UDP, ~5% bulk. */
export function planTraffic(packets: number): TrafficArgs {
  const conns = Math.max(60, Math.round((packets * 0.88) / PER_CONN));
  const share = (f: number): number => Math.max(1, Math.round(conns * f));
  const bulkMb = Math.max(2, Math.round((packets * 0.05) / PER_BULK_MB));
  const transfers = Math.max(2, Math.min(40, Math.round(bulkMb / 4)));
  return {
    short: {
      clientClose: share(0.33),
      serverClose: share(0.3),
      clientReset: share(0.1),
      serverReset: share(0.1),
      greet: share(0.1),
      refused: share(0.07),
    },
    concurrency: conns > 2000 ? 96 : 32,
    maxResponse: 6000,
    bulk: { uploads: Math.ceil(transfers / 2), downloads: Math.floor(transfers / 2), bytes: Math.round((bulkMb / transfers) * 1024 * 1024), concurrency: 2 },
    udp: { datagrams: Math.max(40, Math.round((packets * 0.07) / PER_DATAGRAM)), burst: 20, gapMs: 5, sizes: [100, 1400, 3000, 8000] },
    timeLimitMs: Math.max(20_000, Math.round(packets / 2)), // ~2,000 packets/s at the very least
    waitGo: true,
  };
}

/** Some packet positions 1..n, spread geometrically: 2, 5, 11, 23, ... */
function positions(n: number, first: number): number[] {
  const out: number[] = [];
  for (let k = first; k <= n; k = Math.round(k * 2.2) + 1) out.push(k);
  return out;
}

function faultRules(plan: TrafficArgs, ports: { echo: number; greet: number }, o: TraceOptions): FaultRule[] {
  const s = plan.short ?? {};
  const echoConns = (s.clientClose ?? 0) + (s.serverClose ?? 0) + (s.clientReset ?? 0) + (s.serverReset ?? 0);
  const rules: FaultRule[] = [
    { kind: 'random-loss', name: 'data-loss', at: 'server', match: { tcp: 'data' }, percent: o.dataLossPercent ?? 1 },
    { kind: 'fragment-loss', name: 'frag-loss', at: 'server', percent: o.fragmentLossPercent ?? 3 },
  ];
  positions(echoConns, 2).forEach((nth, i) =>
    rules.push({ kind: 'drop-nth', name: `syn-${i}`, at: 'server', match: { tcp: 'syn', dport: ports.echo }, nth, count: i % 3 === 2 ? 2 : 1 }),
  );
  positions(echoConns, 3).forEach((nth, i) =>
    rules.push({ kind: 'drop-nth', name: `synack-${i}`, at: 'client', match: { tcp: 'syn-ack', sport: ports.echo }, nth }),
  );
  // Server speaks first: the handshake's final ACK is the first pure ACK of each greet connection;
  // dropping the 1st pure ACK to that port is certainly one, later positions usually are.
  rules.push({ kind: 'drop-nth', name: 'greet-ack-first', at: 'server', match: { tcp: 'pure-ack', dport: ports.greet }, nth: 1 });
  if (echoConns > 2000) {
    rules.push({ kind: 'random-loss', name: 'syn-loss', at: 'server', match: { tcp: 'syn', dport: ports.echo }, percent: 1 });
    rules.push({ kind: 'random-loss', name: 'synack-loss', at: 'client', match: { tcp: 'syn-ack', sport: ports.echo }, percent: 1 });
  }
  return rules;
}

/** Wait for one JSON line with `event` on the child's stdout. */
function waitEvent(lines: AsyncIterator<string>, event: string, what: string): Promise<Record<string, unknown>> {
  return (async () => {
    for (;;) {
      const r = await lines.next();
      if (r.done) throw new Error(`the traffic program exited before ${what}`);
      try {
        const m = JSON.parse(r.value) as Record<string, unknown>;
        if (m.event === event) return m;
      } catch {
        // not a JSON line: ignore
      }
    }
  })();
}

export async function makeTrace(o: TraceOptions): Promise<TraceResult> {
  const t0 = Date.now();
  const plan = planTraffic(o.packets);
  if (o.timeLimitMs) plan.timeLimitMs = o.timeLimitMs;
  const program = trafficProgram();
  const sb = await createSandbox({ kind: 'loopback', mtu: 1500 }, { label: 'bench-trace' });
  let stats: CaptureStats | null = null;
  try {
    await sb.setSysctls({
      'net.ipv4.ip_local_port_range': { value: '10000 65000', optional: true },
      'net.ipv4.tcp_no_metrics_save': { value: 1, optional: true },
    });
    const cap = await startCapture({ sandbox: sb, role: 'client', file: o.out, backend: 'tcpdump' });
    cap.stream.resume(); // nobody reads the live stream: let it flow
    try {
      const child = sb.spawn('client', [process.execPath, program, JSON.stringify(plan)], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number>((r) => child.once('exit', (c) => r(c ?? -1)));
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      try {
        const ready = await waitEvent(lines, 'ready', 'it was ready');
        await sb.applyFaults(faultRules(plan, ready.ports as { echo: number; greet: number }, o));
        child.stdin!.write('go\n');
        const done = await waitEvent(lines, 'done', 'its summary');
        const code = await exited;
        if (code !== 0) throw new Error(`the traffic program exited ${code}: ${stderr.trim()}`);
        const faults = await sb.faultCounts();
        stats = await cap.stop();
        return {
          file: o.out,
          packets: stats.captured,
          droppedByKernel: stats.droppedByKernel,
          receivedByFilter: stats.receivedByFilter,
          seconds: (Date.now() - t0) / 1000,
          plan,
          traffic: done,
          faults,
        };
      } catch (e) {
        child.kill('SIGKILL');
        throw new Error(`${(e as Error).message}${stderr ? `\ntraffic stderr: ${stderr.trim()}` : ''}`);
      }
    } finally {
      if (!stats) await cap.stop().catch(() => null);
    }
  } finally {
    await sb.destroy();
  }
}

function cliArgs(argv: string[]): { packets: number; out: string; json: boolean } {
  let packets = 1_000_000;
  let out = '/tmp/wl-bench.pcap';
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--packets') packets = Number(argv[++i]);
    else if (a === '--out') out = argv[++i]!;
    else if (a === '--json') json = true;
    else throw new Error(`unknown argument ${a}\nusage: node dist/bench/make-trace.js [--packets N] [--out FILE] [--json]`);
  }
  if (!(packets > 0)) throw new Error('--packets takes a positive number');
  return { packets, out, json };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const a = cliArgs(process.argv.slice(2));
  makeTrace({ packets: a.packets, out: path.resolve(a.out) })
    .then((r) => {
      if (a.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else {
        const t = r.traffic as { tcp: Record<string, { attempted: number; completed: number }>; udp: { sent: number; received: number } };
        const tcp = Object.entries(t.tcp).map(([k, v]) => `${k} ${v.completed}/${v.attempted}`).join(', ');
        process.stdout.write(
          `${r.file}: ${r.packets} packets in ${r.seconds.toFixed(1)} s, tcpdump dropped ${r.droppedByKernel ?? '?'}\n` +
            `  tcp: ${tcp}\n  udp: ${t.udp.received}/${t.udp.sent} datagrams received\n` +
            `  faults: ${r.faults.map((f) => `${f.name}=${f.dropped}`).join(' ')}\n`,
        );
      }
      process.exit(r.droppedByKernel ? 1 : 0);
    })
    .catch((e: unknown) => {
      process.stderr.write(`make-trace: ${(e as Error).message}\n`);
      process.exit(1);
    });
}
