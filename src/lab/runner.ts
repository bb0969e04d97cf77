/**
 * The lab runner: each lab in a fresh sandbox, with a capture and an observer around its programs,
 * then judged. Several labs run in parallel (a limit from the CPU count); a lab that runs past its
 * timeout is stopped and counted apart from failures. Nothing here knows any lab by name.
 */
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Analysis, SegmentRecord, TcpConnection } from '../analyze/model.js';
import { inspectStream } from '../analyze/pipeline.js';
import { startCapture } from '../capture/live.js';
import type { CaptureBackend, LiveCapture } from '../capture/live-types.js';
import { describeError, isWirelabError, WirelabError } from '../errors.js';
import { child } from '../log.js';
import { startKernelEventHub, startKernelEvents, startObserver, summarizeKernelEvents, type KernelEventHub, type KernelEventSource, type Observer } from '../observe/index.js';
import { readCounters } from '../observe/counters.js';
import type { Observation, SocketEntry } from '../observe/types.js';
import { createSandbox, OWN_NETNS_LABEL, topologyRefusal } from '../sandbox/index.js';
import type { FaultRule, HostRole, Sandbox } from '../sandbox/types.js';
import { endpointText } from '../endpoint.js';
import { craftIn } from './craft-run.js';
import { judgeRun, untestable } from './judge.js';
import { resolveParams, type ParamSpecs, type ParamValues } from './params.js';
import { faultDrops, type FaultLog } from './fault-drops.js';
import { joinTimeline } from './timeline.js';
import { repoRoot } from './paths.js';
import { LabProgram } from './program.js';
import { LabUdp } from './udp-context.js';
import type { AnyLab, Family, LabJudgeContext, LabOutcome, LabRunContext, Mark, ProgramEvent, ProgramResult, RuntimeFault } from './types.js';

export type ParamValue = number | boolean | string;

const log = child('runner');

export type { LabOutcome, LabVerdict, ProgramEvent } from './types.js';

export interface RunOptions {
  family: Family;
  params: Record<string, string>; // from --param k=v (validated against each lab's specs)
  outDir: string; // captures/<run>
  concurrency?: number;
  backend?: CaptureBackend | 'auto';
  /** --live: called with each analyzed segment as it is captured. */
  onSegment?: (lab: string, conn: TcpConnection, seg: SegmentRecord) => void;
  onLabDone?: (o: LabOutcome) => void;
  /** The run's one bpftrace process, shared by its labs (runJobs opens it; without one, a lab starts its own). */
  kernelHub?: KernelEventHub;
}

export interface RunJob {
  lab: AnyLab;
  family: Family;
}

export function defaultConcurrency(): number {
  return Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length));
}

/** Run labs (each over opts.family), several at a time. */
export async function runLabs(labs: AnyLab[], opts: RunOptions): Promise<LabOutcome[]> {
  return runJobs(labs.map((lab) => ({ lab, family: opts.family })), opts);
}

/** Run (lab, family) jobs, several at a time, each in its own fresh namespaces; results in job order. */
export async function runJobs(jobs: RunJob[], opts: RunOptions): Promise<LabOutcome[]> {
  await mkdir(opts.outDir, { recursive: true });
  const results: LabOutcome[] = new Array(jobs.length);
  // The longest labs start first so the short ones fill in around them; results keep job order.
  const order = jobs.map((_, i) => i).sort((x, y) => jobs[y]!.lab.seconds - jobs[x]!.lab.seconds || x - y);
  let next = 0;
  // One bpftrace for the whole run: it compiles (2-10 s) while the first labs build their
  // namespaces; each lab then registers its namespaces with it in milliseconds.
  const ownHub = opts.kernelHub ? null : startKernelEventHub();
  const hub = opts.kernelHub ?? ownHub!;
  const worker = async (): Promise<void> => {
    while (next < order.length) {
      const i = order[next++]!;
      results[i] = await runLab(jobs[i]!.lab, { ...opts, family: jobs[i]!.family, kernelHub: hub });
      opts.onLabDone?.(results[i]!);
    }
  };
  const n = Math.min(jobs.length, opts.concurrency ?? defaultConcurrency());
  try {
    await Promise.all(Array.from({ length: n }, worker));
  } finally {
    await ownHub?.close();
  }
  return results;
}

function emptyOutcome(lab: AnyLab, family: Family): LabOutcome {
  return {
    lab: lab.name, family, verdict: 'error', reason: null, timedOut: false, capture: null, durationMs: 0, params: {},
    claims: [], expectations: [], story: null, analysis: null, captureStats: null, faults: [], sysctls: [], events: [], timeline: [], observations: {}, drops: null, kernelEvents: null, udp: null,
  };
}

export async function runLab(lab: AnyLab, opts: RunOptions): Promise<LabOutcome> {
  const family = opts.family;
  if (lab.families && !lab.families.includes(family)) {
    const o = emptyOutcome(lab, family);
    const why = `this lab runs over IPv${lab.families.join('/IPv')} only: ${lab.familyNote ?? 'see the lab'}`;
    return { ...o, verdict: 'skipped', reason: why, claims: untestable(lab, `not run: ${why}`) };
  }
  const refusal = topologyRefusal(lab.topology, `lab ${lab.name}`); // a container without CAP_SYS_ADMIN
  if (refusal) {
    const o = emptyOutcome(lab, family);
    return { ...o, verdict: 'skipped', reason: refusal, claims: untestable(lab, `not run: ${refusal}`) };
  }
  const started = Date.now();
  const timeoutMs = lab.timeoutMs ?? Math.max(20_000, lab.seconds * 10_000);
  const file = path.join(opts.outDir, `${lab.name}${family === 6 ? '-ipv6' : ''}.pcap`);
  const outcome = emptyOutcome(lab, family);
  let sandbox: Sandbox | null = null;
  let capture: LiveCapture | null = null;
  const programs: LabProgram[] = [];
  const observers = new Map<string, Observer>(); // by namespace name
  let kernel: KernelEventSource | null = null;
  let analysisP: Promise<Analysis> | null = null;
  let udp: LabUdp | null = null;
  const marks: Mark[] = [];
  try {
    // --param values meant for other labs of the same run are not this lab's concern (the CLI
    // rejects a key that no selected lab takes); this lab's own are validated again here.
    const mine = Object.fromEntries(Object.entries(opts.params).filter(([k]) => lab.params && k in lab.params));
    const params = resolveParams(lab.name, lab.params, mine) as ParamValues<ParamSpecs>;
    outcome.params = params;
    sandbox = await createSandbox(lab.topology, { label: lab.name });
    const sb = sandbox;
    // The run's bpftrace (or, alone, the lab's own: it compiles for a few seconds) is awaited before the lab's programs.
    const netns = sb.roles.map((r) => (sb.host(r).netns === OWN_NETNS_LABEL ? '/proc/self/ns/net' : sb.host(r).netns));
    kernel = opts.kernelHub ? opts.kernelHub.attach(netns) : startKernelEvents(netns);
    const labSysctls = typeof lab.sysctls === 'function' ? lab.sysctls(params) : (lab.sysctls ?? {});
    // Optional: a container's read-only /proc/sys cannot take it, and a fresh namespace (or the
    // container mode's metrics flush) already starts without cached metrics.
    outcome.sysctls = await sb.setSysctls({ 'net.ipv4.tcp_no_metrics_save': { value: 1, optional: true }, ...labSysctls });
    const captureRole: HostRole = lab.captureAt ?? 'server';
    capture = await startCapture({ sandbox: sb, role: captureRole, file, backend: opts.backend ?? 'auto', ...(lab.captureFilter ? { filter: lab.captureFilter } : {}) });
    outcome.capture = path.relative(repoRoot, file);
    const cap = capture;
    const aP = inspectStream(cap.stream, {
      file: outcome.capture,
      keepSegments: true,
      ...(opts.onSegment ? { onUpdate: (c: TcpConnection, s: SegmentRecord | null) => s && opts.onSegment!(lab.name, c, s) } : {}),
    });
    analysisP = aP;
    // Every host observed: one observer per namespace (loopback: one for both roles).
    const roleNs = (role: HostRole): string => sb.host(role).netns;
    for (const role of sb.roles) {
      if (!observers.has(roleNs(role))) observers.set(roleNs(role), startObserver(sb.nsPid(role), { intervalMs: 10 }));
    }
    const freshSockets = (role: HostRole): Promise<SocketEntry[]> => observers.get(roleNs(role))!.fresh();
    const addr = (role: HostRole): string => (family === 6 ? sb.host(role).addr6 : sb.host(role).addr4);
    const endpoint = (role: HostRole, port: number): string => endpointText(addr(role), port);
    const names = new Set<string>();
    const faultNames = new Set<string>();
    const faultLogs: FaultLog[] = [];
    const labUdp = new LabUdp(lab.name, family, sb, opts.outDir);
    udp = labUdp;
    const ctx: LabRunContext<ParamSpecs> = {
      family, params, sandbox: sb, outDir: opts.outDir, addr, endpoint,
      program: (role, program, args, name) => {
        let n = name ?? program;
        if (names.has(n)) {
          if (name) throw new WirelabError('BAD_LAB', `lab ${lab.name}: two programs named "${name}"`);
          let i = 2;
          while (names.has(`${program}-${i}`)) i++;
          n = `${program}-${i}`;
        }
        names.add(n);
        const p = new LabProgram(sb, role, program, n, args);
        programs.push(p);
        return p;
      },
      fault: async (name, spec) => {
        if (faultNames.has(name)) throw new WirelabError('BAD_LAB', `lab ${lab.name}: two faults named "${name}"`);
        faultNames.add(name);
        const flog: FaultLog = { name, spec, windows: spec.armed === false ? [] : [{ from: Date.now() / 1000, to: Infinity }] };
        faultLogs.push(flog);
        await sb.applyFaults([faultRule(name, spec)]);
        return {
          name,
          arm: async (ms) => {
            const from = Date.now() / 1000;
            await sb.armFault(name, ms);
            flog.windows.push({ from, to: ms === undefined ? Infinity : from + ms / 1000 });
          },
          disarm: async () => {
            await sb.disarmFault(name);
            const now = Date.now() / 1000;
            for (const w of flog.windows) if (w.to > now) w.to = now;
          },
          count: async () => (await sb.faultCounts()).find((f) => f.name === name)?.dropped ?? 0,
        };
      },
      craft: (role, segments) => craftIn(sb, role, segments),
      exec: async (role, argv) => {
        const r = await sb.exec(role, argv);
        if (r.code !== 0) throw new WirelabError('PROGRAM_FAILED', `\`${argv.join(' ')}\` in the ${role} namespace exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
        return r.stdout;
      },
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      // Waits take the observer's next read, not its latest sample, which may predate the lab's last
      // action (segmentation resumed its reader on a stale "acknowledged" in 1 run of 5 under load);
      // no second reader of /proc/net/tcp (each read walks the kernel's global socket hash, ~5 ms).
      waitForSocket: (role, pred, ms) => waitForSocket(role, () => freshSockets(role), pred, ms),
      waitForSockets: (role, pred, ms) => waitForTable(role, () => freshSockets(role), pred, ms),
      counters: async (role) => (await readCounters(sb.nsPid(role))).values,
      mark: (label, data) => void marks.push({ label, t: Date.now() / 1000, ...(data ? { data } : {}) }),
      udp: (name, params, o) => labUdp.run(name, params, o),
    };

    await kernel.ready();
    await withTimeout(lab.run(ctx), timeoutMs, lab.name);
    // Let the last packets reach the capture before stopping it.
    await new Promise((r) => setTimeout(r, 100));
    const programResults = await Promise.all(programs.map((p) => p.stop()));
    const observations: Partial<Record<HostRole, Observation>> = {};
    const byNs = new Map<string, Observation>();
    for (const [ns, obs] of observers) byNs.set(ns, await obs.stop());
    observers.clear();
    const kernelEvents = await kernel.stop();
    kernel = null;
    outcome.kernelEvents = summarizeKernelEvents(kernelEvents);
    for (const role of sb.roles) observations[role] = byNs.get(roleNs(role))!;
    outcome.captureStats = await cap.stop();
    capture = null;
    const analysis = await aP;
    outcome.analysis = analysis;
    const observation = observations[captureRole]!;
    outcome.timeline = joinTimeline(analysis, observation, kernelEvents);
    outcome.faults = faultNames.size ? await sb.faultCounts() : [];
    outcome.observations = observations;
    if (faultLogs.length) outcome.drops = faultDrops(analysis, faultLogs, outcome.faults, addr, sb.topology.kind === 'loopback');
    outcome.events = programEvents(programResults, marks);

    const progByName: Record<string, ProgramResult> = {};
    for (const r of programResults) progByName[r.name] = r;
    const jctx: LabJudgeContext<ParamSpecs> = {
      family, params, analysis, observation, observations, kernelEvents, programs: progByName, faults: outcome.faults, sysctls: outcome.sysctls,
      capture: outcome.captureStats, marks, addr, endpoint,
      connectionsTo: (port) => analysis.tcp.filter((c) => c.serverPort === port),
      program: (name) => {
        const p = progByName[name];
        if (!p) throw new WirelabError('BAD_LAB', `lab ${lab.name} judges program "${name}", but its programs were: ${Object.keys(progByName).join(', ') || 'none'}`);
        return p;
      },
      mark: (label) => marks.find((m) => m.label === label) ?? null,
      udp: (name) => labUdp.result(name),
    };
    judgeRun(lab, jctx, outcome);
  } catch (e) {
    outcome.verdict = 'error';
    outcome.timedOut = isWirelabError(e) && e.code === 'LAB_TIMEOUT';
    outcome.reason = isWirelabError(e) ? `${e.code}: ${e.message}` : `unexpected: ${describeError(e)}`;
    if (!isWirelabError(e)) log.error({ err: e, lab: lab.name }, 'lab crashed');
    outcome.claims = untestable(lab, `the lab did not finish: ${outcome.reason}`);
  } finally {
    await Promise.all(programs.map((p) => p.stop(200).catch(() => null)));
    for (const obs of observers.values()) await obs.stop().catch(() => null);
    if (kernel) await kernel.stop().catch(() => null); // bpftrace ends before the namespaces go
    if (capture) outcome.captureStats = await capture.stop().catch(() => null);
    if (udp) {
      outcome.udp = udp.json();
      await udp.destroy();
    }
    if (analysisP && !outcome.analysis) outcome.analysis = await analysisP.catch(() => null);
    if (sandbox) await sandbox.destroy().catch((e) => log.error({ err: e }, 'sandbox cleanup failed'));
    if (!outcome.events.length) outcome.events = programEvents(programs.map((p) => p.result()), marks);
    outcome.durationMs = Date.now() - started;
  }
  return outcome;
}

function faultRule(name: string, f: RuntimeFault): FaultRule {
  const base = { name, at: f.at, match: f.match, ...(f.armed === false ? { armed: false } : {}) };
  const d = f.drop ?? 'all';
  if (d === 'all') return { kind: 'drop-window', ...base, armed: f.armed !== false };
  if ('nth' in d) return { kind: 'drop-nth', ...base, nth: d.nth, ...(d.count ? { count: d.count } : {}) };
  return { kind: 'random-loss', ...base, percent: d.percent };
}

function programEvents(results: ProgramResult[], marks: Mark[]): ProgramEvent[] {
  const out: ProgramEvent[] = [];
  for (const r of results) {
    for (const m of r.messages) {
      const { event, t, ...data } = m;
      out.push({ program: r.name, t, event, data });
    }
  }
  for (const m of marks) out.push({ program: 'mark', t: m.t, event: m.label, data: m.data ?? {} });
  return out.sort((a, b) => a.t - b.t);
}

async function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new WirelabError('LAB_TIMEOUT', `lab ${name} ran past its ${Math.round(ms / 1000)} s timeout; its namespace was removed. Re-run it alone (\`wirelab run ${name}\`) to see whether the machine was just busy.`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForSocket(role: HostRole, sockets: () => Promise<SocketEntry[]>, pred: (s: SocketEntry) => boolean, ms: number): Promise<SocketEntry> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = (await sockets()).find(pred);
    if (found) return found;
    if (Date.now() > deadline) throw new WirelabError('PROGRAM_FAILED', `no socket in the ${role}'s namespace reached the awaited state within ${ms} ms (${(await sockets()).map((s) => `${s.local} ${s.remote} ${s.state}`).join('; ') || 'no sockets'})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function waitForTable(role: HostRole, sockets: () => Promise<SocketEntry[]>, pred: (all: SocketEntry[]) => boolean, ms: number): Promise<SocketEntry[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const all = await sockets();
    if (pred(all)) return all;
    if (Date.now() > deadline) throw new WirelabError('PROGRAM_FAILED', `the socket table in the ${role}'s namespace did not reach the awaited shape within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
