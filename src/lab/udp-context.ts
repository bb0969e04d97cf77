/**
 * UDP experiments inside a lab: `ctx.udp(name, params, opts)` runs one experiment with the UDP
 * engine (src/udp/engine.ts) and keeps its result for the judge (`ctx.udp(name)`) and for the
 * report (`labs[].udp` in report.json, a table per lab in the HTML report).
 *
 * Where it runs: in the lab's own sandbox when the experiment's topology and MTU are the lab's and
 * it injects no loss (runs there take turns: each reads the kernel's counters before and after),
 * else in a fresh sandbox of its own (a loss rule cannot be removed from a sandbox again, and a
 * loopback experiment in a veth lab needs another namespace). Fresh sandboxes run in parallel with
 * everything else and are removed when the experiment ends, or by the runner if the lab is stopped.
 */
import path from 'node:path';
import { WirelabError } from '../errors.js';
import { createSandbox } from '../sandbox/index.js';
import type { Sandbox, SysctlSpec } from '../sandbox/types.js';
import { runUdp } from '../udp/engine.js';
import { DEFAULT_PARAMS, validateParams, type UdpParams } from '../udp/params.js';
import type { UdpCauseId, UdpResult } from '../udp/result.js';
import type { Family } from './types.js';

export interface UdpExperimentOptions {
  /** Run in a fresh sandbox even when the lab's own would do. */
  fresh?: boolean;
  /** Sysctls for the experiment's fresh sandbox (every namespace), e.g. a larger reassembly memory. */
  sysctls?: SysctlSpec;
  /** One line a reader of the report sees beside the numbers. */
  title?: string;
}

/** One experiment as report.json carries it (README: JSON contracts, `labs[].udp`). */
export interface UdpExperimentJson {
  name: string;
  title: string | null;
  params: UdpParams;
  sent: number;
  received: number;
  lost: number;
  lossPercent: number;
  lossText: string;
  sendErrors: number;
  rcvbufEffective: number;
  causes: Record<UdpCauseId, number>;
  unexplained: number;
  packetsPerDatagram: number;
  model: { perPacketLossPercent: number; packetsPerDatagram: number; predictedLossPercent: number; measuredLossPercent: number } | null;
  reassembly: { fails: number; timeouts: number };
  icmpTimeExceeded: number;
  capture: string; // the experiment's pcap, a file in the run's directory
  droppedCapture: string | null; // the packets the loss rule dropped (NFLOG), when it injected loss
  durationMs: number;
}

const CAUSES: UdpCauseId[] = ['send-error', 'before-receiver', 'injected-loss', 'reassembly', 'receive-buffer'];

export function udpExperimentJson(name: string, title: string | null, r: UdpResult): UdpExperimentJson {
  const causes = Object.fromEntries(CAUSES.map((c) => [c, r.attribution.causes.find((x) => x.cause === c)?.datagrams ?? 0])) as Record<UdpCauseId, number>;
  const rc = r.counters.receiver;
  const n = (k: string): number => rc[k] ?? 0;
  return {
    name,
    title,
    params: r.params,
    sent: r.sender.attempted,
    received: r.receiver.received,
    lost: r.receiver.lost,
    lossPercent: r.receiver.lossPercent,
    lossText: r.receiver.lossText,
    sendErrors: r.sender.errors,
    rcvbufEffective: r.rcvbuf.effective,
    causes,
    unexplained: r.attribution.unexplained,
    packetsPerDatagram: r.fragments.packetsPerDatagram,
    model: r.fragments.model,
    reassembly: { fails: n('Ip.ReasmFails') + n('Ip6.ReasmFails'), timeouts: n('Ip.ReasmTimeout') + n('Ip6.ReasmTimeout') },
    icmpTimeExceeded: r.capture.icmpTimeExceeded,
    capture: path.basename(r.capture.file),
    droppedCapture: r.capture.nflogFile ? path.basename(r.capture.nflogFile) : null,
    durationMs: r.durationMs,
  };
}

export class LabUdp {
  private readonly results = new Map<string, { title: string | null; result: UdpResult }>();
  private readonly fresh = new Set<Sandbox>();
  private turn: Promise<unknown> = Promise.resolve();
  private lossInLab = false;

  constructor(
    private readonly lab: string,
    private readonly family: Family,
    private readonly sandbox: Sandbox,
    private readonly outDir: string,
  ) {}

  /** ctx.udp(name, params, opts): run one experiment (the lab's family unless params say otherwise). */
  async run(name: string, input: Partial<UdpParams>, opts: UdpExperimentOptions = {}): Promise<UdpResult> {
    if (!/^[a-z0-9-]+$/.test(name)) throw new WirelabError('BAD_LAB', `lab ${this.lab}: UDP experiment name "${name}" must be lower-case letters, digits and dashes`);
    if (this.results.has(name)) throw new WirelabError('BAD_LAB', `lab ${this.lab}: two UDP experiments named "${name}"`);
    this.results.set(name, { title: opts.title ?? null, result: null as unknown as UdpResult }); // reserve the name
    const own = this.sandbox.topology;
    // The lab's topology and MTU unless the experiment names another topology (then its default MTU).
    const ownShape = input.topology === undefined || input.topology === own.kind;
    const params = validateParams({ ...DEFAULT_PARAMS, topology: own.kind, mtu: ownShape ? (own.mtu ?? null) : null, family: this.family, ...input });
    const stem = `${this.lab}${this.family === 6 ? '-ipv6' : ''}-${name}`;
    const sameShape = own.kind === params.topology && (own.mtu ?? null) === params.mtu;
    const inLab = !opts.fresh && !opts.sysctls && sameShape && !this.lossInLab;
    let result: UdpResult;
    try {
      if (inLab) {
        if (params.loss > 0) this.lossInLab = true; // the lab's sandbox keeps the rule: later ones go fresh
        const mine = this.turn.then(() => runUdp(this.sandbox, params, { dir: this.outDir, name: stem }));
        this.turn = mine.catch(() => null);
        result = await mine;
      } else {
        const topo = params.mtu === null ? { kind: params.topology } : { kind: params.topology, mtu: params.mtu };
        const sb = await createSandbox(topo, { label: `${this.lab}-${name}` });
        this.fresh.add(sb);
        try {
          if (opts.sysctls) await sb.setSysctls(opts.sysctls);
          result = await runUdp(sb, params, { dir: this.outDir, name: stem });
        } finally {
          this.fresh.delete(sb);
          await sb.destroy();
        }
      }
    } catch (e) {
      this.results.delete(name);
      throw e;
    }
    this.results.set(name, { title: opts.title ?? null, result });
    return result;
  }

  /** The judge's ctx.udp(name). */
  result(name: string): UdpResult {
    const r = this.results.get(name)?.result;
    if (!r) {
      const have = [...this.results.entries()].filter(([, v]) => v.result).map(([k]) => k);
      throw new WirelabError('BAD_LAB', `lab ${this.lab} judges UDP experiment "${name}", but its experiments were: ${have.join(', ') || 'none'}`);
    }
    return r;
  }

  /** labs[].udp: every finished experiment in the order it was started; null when the lab ran none. */
  json(): UdpExperimentJson[] | null {
    const rows = [...this.results.entries()].filter(([, v]) => v.result).map(([k, v]) => udpExperimentJson(k, v.title, v.result));
    return rows.length ? rows : null;
  }

  /** Remove fresh sandboxes an unfinished experiment left (the lab timed out or failed). */
  async destroy(): Promise<void> {
    await Promise.all([...this.fresh].map((sb) => sb.destroy().catch(() => null)));
    this.fresh.clear();
  }
}
