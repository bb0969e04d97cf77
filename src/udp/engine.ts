/**
 * One UDP loss experiment in a sandbox: runUdp(sandbox, params, opts) -> UdpResult.
 * The receiver runs on the sandbox's server host, the sender on its client host (the same
 * namespace on loopback). Around them: tcpdump on the receiver's interface (-s 128 -B 64 MiB:
 * headers and our 16-byte payload header, a buffer that keeps up at 300k packets/s), the
 * loss rule at the receiver's input with its NFLOG capture, the kernel's counters before and
 * after, and an optional kernel drop-reason source. Labs call runUdp with their own sandbox
 * (several runs in one sandbox are fine without loss; give each its own `name` so their captures
 * do not overwrite each other; a run with loss leaves its rule behind, so it must be the sandbox's
 * last); `wirelab udp` and the sweep call runUdpInFreshSandbox.
 */
import path from 'node:path';
import { startCapture } from '../capture/live.js';
import type { CaptureStats, LiveCapture } from '../capture/live-types.js';
import { WirelabError } from '../errors.js';
import { LabProgram } from '../lab/program.js';
import { child } from '../log.js';
import { createSandbox } from '../sandbox/index.js';
import type { HostRole, Sandbox, TopologySpec } from '../sandbox/types.js';
import { attribute } from './attribution.js';
import { scanInterface, scanNflog, type NflogScan } from './capture-scan.js';
import { roleDelta, rmemLimits, snapshot, waitReassemblyIdle } from './kernel-state.js';
import { formatBytes, validateParams, type UdpParams } from './params.js';
import { formatPercent, type DropReasonSource, type UdpResult } from './result.js';

const log = child('udp');
const NFLOG_GROUP = 11;
const RULE = 'udp-loss';
/** Sandboxes that carry a loss rule from a run: the sandbox API cannot remove a rule again. */
const lossRuleIn = new WeakMap<Sandbox, number>(); // sandbox -> the rule's loss in percent

export interface UdpRunOptions {
  dir: string; // where the captures go
  name?: string; // file stem (default "udp")
  dropReasons?: DropReasonSource;
}

export function udpTopology(p: UdpParams): TopologySpec {
  return p.mtu === null ? { kind: p.topology } : { kind: p.topology, mtu: p.mtu };
}

/** Create the sandbox the params ask for, run, always destroy it. */
export async function runUdpInFreshSandbox(params: UdpParams, opts: UdpRunOptions): Promise<UdpResult> {
  validateParams(params);
  const sb = await createSandbox(udpTopology(params), { label: `udp-${opts.name ?? 'run'}` });
  try {
    return await runUdp(sb, params, opts);
  } finally {
    await sb.destroy();
  }
}

function endpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function unpackBits(b64: string, count: number): Uint8Array {
  const bits = Buffer.from(b64, 'base64');
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (bits[i >> 3]! >> (i & 7)) & 1;
  return out;
}

interface SenderDone {
  attempted: number;
  sent: number;
  errors: number;
  errorCodes: Record<string, number>;
  failed: number[];
  firstMs: number;
  lastMs: number;
  cpuMs: number;
}

interface ReceiverDone {
  received: number;
  duplicates: number;
  outOfOrder: number;
  foreign: number;
  jitterMs: number;
  drops: number | null;
  rcvbuf: number;
  bitmap: string;
  cpuMs: number;
}

export async function runUdp(sb: Sandbox, input: UdpParams, opts: UdpRunOptions): Promise<UdpResult> {
  const p = validateParams({ ...input });
  const t0 = Date.now();
  const stem = opts.name ?? 'udp';
  const addr = (r: HostRole): string => (p.family === 6 ? sb.host(r).addr6 : sb.host(r).addr4);
  // Expire incomplete reassembly queues after 1 s instead of 30, so ReasmFails is counted in time.
  await sb.setSysctls({ 'net.ipv4.ipfrag_time': { value: 1, optional: true }, 'net.ipv6.ip6frag_time': { value: 1, optional: true } }, 'server');
  const earlier = lossRuleIn.get(sb);
  if (earlier !== undefined) {
    throw new WirelabError(
      'BAD_USAGE',
      `sandbox ${sb.id} still carries the ${earlier}%-loss rule of an earlier runUdp, which would drop this run's datagrams too: run each experiment that injects loss in a fresh sandbox (runUdpInFreshSandbox)`,
    );
  }
  if (p.loss > 0) {
    lossRuleIn.set(sb, p.loss);
    await sb.applyFaults([{ kind: 'random-loss', name: RULE, at: 'server', match: { proto: 'udp' }, percent: p.loss, nflogGroup: NFLOG_GROUP }]);
  }
  const file = path.join(opts.dir, `${stem}.pcap`);
  const nflogFile = p.loss > 0 ? path.join(opts.dir, `${stem}-dropped.pcap`) : null;
  const captures: LiveCapture[] = [];
  const programs: LabProgram[] = [];
  try {
    captures.push(await startCapture({ sandbox: sb, role: 'server', file, backend: 'tcpdump', snaplen: 128, bufferKiB: 65536 }));
    if (nflogFile) captures.push(await startCapture({ sandbox: sb, role: 'server', iface: `nflog:${NFLOG_GROUP}`, file: nflogFile, backend: 'tcpdump', snaplen: 256, bufferKiB: 65536 }));
    const before = await snapshot(sb);
    const receiver = new LabProgram(sb, 'server', 'udp-receiver', 'udp-receiver', {
      addr: addr('server'), family: p.family, rcvbuf: p.rcvbuf, workUs: p.workUs, reader: p.reader, count: p.count,
    });
    programs.push(receiver);
    const ready = await receiver.next('ready', 30_000); // a node process starts in ~0.1 s, in >10 s at a load average of 100
    const port = ready.port as number;
    await opts.dropReasons?.start(sb);
    const expectedS = p.rate === 'max' ? p.count / 50_000 : p.count / p.rate;
    const sender = new LabProgram(sb, 'client', 'udp-sender', 'udp-sender', {
      addr: addr('server'), port, family: p.family, size: p.size, count: p.count, rate: p.rate === 'max' ? 0 : p.rate, pace: p.pace,
    });
    programs.push(sender);
    const sent = (await sender.next('done', Math.ceil(expectedS * 3000) + 30_000)) as unknown as SenderDone;
    receiver.send({ do: 'drain', quietMs: 100 });
    const workS = (p.count * p.workUs) / 1e6;
    const got = (await receiver.next('done', Math.ceil(workS * 1500) + 30_000)) as unknown as ReceiverDone;
    // Incomplete fragment queues expire after ipfrag_time (1 s here): then ReasmFails is final.
    if (!(await waitReassemblyIdle(sb, 'server', 5000))) log.warn('reassembly queues still pending after 5 s');
    const kernel = opts.dropReasons ? await opts.dropReasons.stop() : null;
    const after = await snapshot(sb);
    const faults = p.loss > 0 ? await sb.faultCounts() : [];
    const stats: CaptureStats[] = [];
    for (const c of captures.splice(0)) stats.push(await c.stop());
    for (const prog of programs.splice(0)) await prog.stop();

    const iface = await scanInterface(file, p.count, port);
    const nflog: NflogScan | null = nflogFile ? await scanNflog(nflogFile, p.count, port, iface) : null;
    const ruleDropped = p.loss > 0 ? faults.find((f) => f.name === RULE)?.dropped ?? null : null;
    const receiverCounters = roleDelta(before, after, sb, 'server');
    const senderCounters = roleDelta(before, after, sb, 'client');
    const linkDrops = after.linkDropped - before.linkDropped;
    const qdiscDrops = after.qdiscDropped - before.qdiscDropped;
    const captureComplete = stats.every((s) => s.complete);
    const received = unpackBits(got.bitmap, p.count);
    const attribution = attribute({
      count: p.count, received, failedSends: sent.failed, errorCodes: sent.errorCodes, iface,
      captureComplete, nflog, ruleDropped, socketDrops: got.drops, receiverCounters, senderCounters, linkDrops, qdiscDrops,
      ...(kernel?.bySeq ? { kernelBySeq: kernel.bySeq } : {}),
    });
    const lost = p.count - got.received;
    const lossPercent = (lost / p.count) * 100;
    const seconds = Math.max(0, (sent.lastMs - sent.firstMs) / 1000);
    // n sends span n-1 intervals; one datagram has no rate
    const ratePerSec = sent.attempted > 1 && seconds > 0 ? (sent.attempted - 1) / seconds : 0;
    const reached = iface.reached.reduce((s, v) => s + (v > 0 ? 1 : 0), 0);
    let packets = 0;
    for (let i = 0; i < p.count; i++) if (iface.reached[i]) packets += iface.fragments[i]!;
    const k = reached > 0 ? packets / reached : 1;
    const kInt = Math.round(k);
    const rm = await rmemLimits();
    const requested = p.rcvbuf;
    const clamped = requested !== null && rm.max !== null && requested > rm.max;
    const primary = stats[0]!;
    return {
      params: p,
      sender: {
        address: addr('client'), attempted: sent.attempted, sent: sent.sent, errors: sent.errors, errorCodes: sent.errorCodes,
        seconds, ratePerSec, cpuMs: sent.cpuMs,
      },
      receiver: {
        address: endpoint(addr('server'), port), received: got.received, lost, lossPercent, lossText: formatPercent(lossPercent),
        outOfOrder: got.outOfOrder, duplicates: got.duplicates, jitterMs: got.jitterMs, foreign: got.foreign, cpuMs: got.cpuMs,
      },
      rcvbuf: {
        requested, effective: got.rcvbuf, rmemMax: rm.max, rmemDefault: rm.dflt, clamped,
        explanation: requested === null
          ? `the kernel's default (net.core.rmem_default = ${rm.dflt ?? '?'})`
          : `asked for ${formatBytes(requested)}; the kernel doubles SO_RCVBUF (half is bookkeeping)${clamped ? ` after clamping the request at net.core.rmem_max = ${rm.max} (the host's; a namespace cannot raise it)` : `, up to net.core.rmem_max = ${rm.max ?? '?'}`}` +
            (got.rcvbuf > 2 * Math.min(requested, rm.max ?? requested) ? `, and never below its minimum (SOCK_MIN_RCVBUF): ${got.rcvbuf}` : ''),
      },
      attribution,
      fragments: {
        packetsPerDatagram: +k.toFixed(3),
        fragmentedDatagrams: iface.fragmentedDatagrams,
        model: p.loss > 0
          ? {
            perPacketLossPercent: p.loss,
            packetsPerDatagram: kInt,
            predictedLossPercent: (1 - Math.pow(1 - p.loss / 100, kInt)) * 100,
            measuredLossPercent: (100 * (attribution.causes.find((c) => c.cause === 'injected-loss')?.datagrams ?? 0)) / p.count,
          }
          : null,
      },
      counters: {
        receiver: receiverCounters,
        sender: senderCounters,
        router: sb.roles.includes('router') ? roleDelta(before, after, sb, 'router') : null,
        ruleDropped,
        linkDrops,
        qdiscDrops,
      },
      capture: {
        file, nflogFile, packets: primary.captured, droppedByKernel: stats.reduce<number | null>((s, c) => (c.droppedByKernel === null ? s : (s ?? 0) + c.droppedByKernel), null),
        complete: captureComplete, limits: stats.flatMap((s) => s.limits),
        icmpTimeExceeded: iface.icmpTimeExceeded, icmpUnreachable: iface.icmpUnreachable,
      },
      kernelReasons: kernel ? kernel.byReason : null,
      durationMs: Date.now() - t0,
    };
  } catch (e) {
    if (e instanceof WirelabError) throw e;
    throw new WirelabError('INTERNAL', `udp experiment failed: ${(e as Error).message}`);
  } finally {
    for (const prog of programs) await prog.stop().catch(() => null);
    for (const c of captures) await c.stop().catch(() => null);
  }
}
