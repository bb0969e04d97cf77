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
import type { CaptureBackend, CaptureStats, LiveCapture } from '../capture/live-types.js';
import { describeError, isWirelabError, WirelabError } from '../errors.js';
import { child } from '../log.js';
import { readSockets, startKernelEvents, startObserver, summarizeKernelEvents, type KernelEventSource, type Observer } from '../observe/index.js';
import type { KernelEventsSummary } from '../observe/index.js';
import type { SocketEntry } from '../observe/types.js';
import { createSandbox } from '../sandbox/index.js';
import type { FaultCount, HostRole, Sandbox, SysctlResult } from '../sandbox/types.js';
import { LabJudge } from './judge.js';
import { joinTimeline, type TimelineRow } from './timeline.js';
import { repoRoot } from './paths.js';
import { LabProgram } from './program.js';
import type { ClaimResult, ExpectationResult, Family, LabDefinition, LabJudgeContext, LabRunContext, ParamValue } from './types.js';

const log = child('runner');

export type LabVerdict = 'pass' | 'fail' | 'error' | 'skipped';

export interface LabOutcome {
  lab: string;
  family: Family;
  verdict: LabVerdict;
  reason: string | null;
  timedOut: boolean;
  capture: string | null;
  durationMs: number;
  claims: ClaimResult[];
  expectations: ExpectationResult[];
  analysis: Analysis | null;
  captureStats: CaptureStats | null;
  faults: FaultCount[];
  sysctls: SysctlResult[];
  timeline: TimelineRow[]; // packets joined with the sampled socket states (and kernel events)
  kernelEvents: KernelEventsSummary | null; // null: the lab did not get that far
}

export interface RunOptions {
  family: Family;
  params: Record<string, string>; // from --param k=v
  outDir: string; // captures/<run>
  concurrency?: number;
  backend?: CaptureBackend | 'auto';
  /** --live: called with each analyzed segment as it is captured. */
  onSegment?: (lab: string, conn: TcpConnection, seg: SegmentRecord) => void;
  onLabDone?: (o: LabOutcome) => void;
}

export function defaultConcurrency(): number {
  return Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length));
}

export async function runLabs(labs: LabDefinition[], opts: RunOptions): Promise<LabOutcome[]> {
  await mkdir(opts.outDir, { recursive: true });
  const results: LabOutcome[] = new Array(labs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < labs.length) {
      const i = next++;
      results[i] = await runLab(labs[i]!, opts);
      opts.onLabDone?.(results[i]!);
    }
  };
  const n = Math.min(labs.length, opts.concurrency ?? defaultConcurrency());
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}

/** Merge a lab's declared parameters with the user's --param values (typed like the default). */
export function labParams(lab: LabDefinition, given: Record<string, string>): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [k, p] of Object.entries(lab.params ?? {})) {
    const raw = given[k];
    if (raw === undefined) {
      out[k] = p.default;
    } else if (typeof p.default === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new WirelabError('BAD_USAGE', `--param ${k}=${raw}: lab ${lab.name} wants a number for ${k} (${p.help})`);
      out[k] = n;
    } else if (typeof p.default === 'boolean') {
      if (!['true', 'false', '1', '0'].includes(raw)) throw new WirelabError('BAD_USAGE', `--param ${k}=${raw}: lab ${lab.name} wants true or false for ${k}`);
      out[k] = raw === 'true' || raw === '1';
    } else {
      out[k] = raw;
    }
  }
  return out;
}

function skipped(lab: LabDefinition, family: Family, reason: string): LabOutcome {
  return {
    lab: lab.name, family, verdict: 'skipped', reason, timedOut: false, capture: null, durationMs: 0,
    claims: lab.claims.map((id) => ({ id, verdict: 'untestable', evidence: `not run: ${reason}` })),
    expectations: [], analysis: null, captureStats: null, faults: [], sysctls: [], timeline: [], kernelEvents: null,
  };
}

export async function runLab(lab: LabDefinition, opts: RunOptions): Promise<LabOutcome> {
  const family = opts.family;
  if (lab.families && !lab.families.includes(family)) {
    return skipped(lab, family, `this lab runs over IPv${lab.families.join('/IPv')} only`);
  }
  const started = Date.now();
  const timeoutMs = lab.timeoutMs ?? Math.max(20_000, lab.seconds * 10_000);
  const file = path.join(opts.outDir, `${lab.name}${family === 6 ? '-ipv6' : ''}.pcap`);
  const outcome: LabOutcome = {
    lab: lab.name, family, verdict: 'error', reason: null, timedOut: false, capture: null, durationMs: 0,
    claims: [], expectations: [], analysis: null, captureStats: null, faults: [], sysctls: [], timeline: [], kernelEvents: null,
  };
  let sandbox: Sandbox | null = null;
  let capture: LiveCapture | null = null;
  const programs: LabProgram[] = [];
  let observer: Observer | null = null;
  let kernel: KernelEventSource | null = null;
  let analysisP: Promise<Analysis> | null = null;
  try {
    const params = labParams(lab, opts.params);
    sandbox = await createSandbox(lab.topology, { label: lab.name });
    const sb = sandbox;
    // bpftrace compiles for a few seconds: start it now, await it before the lab's programs.
    kernel = startKernelEvents(sb.roles.map((r) => sb.host(r).netns));
    outcome.sysctls = await sb.setSysctls({ 'net.ipv4.tcp_no_metrics_save': 1, ...(lab.sysctls ?? {}) });
    if (lab.faults?.length) await sb.applyFaults(lab.faults);
    const captureRole: HostRole = lab.captureAt ?? 'server';
    capture = await startCapture({ sandbox: sb, role: captureRole, file, backend: opts.backend ?? 'auto' });
    outcome.capture = path.relative(repoRoot, file);
    const cap = capture;
    const aP = inspectStream(cap.stream, {
      file: outcome.capture,
      keepSegments: true,
      ...(opts.onSegment ? { onUpdate: (c: TcpConnection, s: SegmentRecord | null) => s && opts.onSegment!(lab.name, c, s) } : {}),
    });
    analysisP = aP;
    const obs = startObserver(sb.nsPid(captureRole), { intervalMs: 10 });
    observer = obs;
    const marks: { label: string; t: number }[] = [];
    const addr = (role: HostRole): string => (family === 6 ? sb.host(role).addr6 : sb.host(role).addr4);
    const ctx: LabRunContext = {
      family, params, sandbox: sb, addr,
      program: (role, name, args) => {
        const p = new LabProgram(sb, role, name, args);
        programs.push(p);
        return p;
      },
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      // The observer already samples the capture host's sockets: read its samples rather than
      // /proc/net/tcp a second time (each read walks the kernel's global socket hash, ~5 ms).
      waitForSocket: (role, pred, ms) =>
        waitForSocket(sb.nsPid(role) === sb.nsPid(captureRole) ? async () => obs.latest()?.sockets ?? [] : () => readSockets(sb.nsPid(role)), pred, ms),
      mark: (label) => marks.push({ label, t: Date.now() / 1000 }),
    };

    await kernel.ready();
    await withTimeout(lab.run(ctx), timeoutMs, lab.name);
    // Let the last packets reach the capture before stopping it.
    await new Promise((r) => setTimeout(r, 100));
    const programResults = await Promise.all(programs.map((p) => p.stop()));
    const observation = await obs.stop();
    observer = null;
    const kernelEvents = await kernel.stop();
    kernel = null;
    outcome.kernelEvents = summarizeKernelEvents(kernelEvents);
    outcome.captureStats = await cap.stop();
    capture = null;
    const analysis = await aP;
    outcome.analysis = analysis;
    outcome.timeline = joinTimeline(analysis, observation, kernelEvents);
    outcome.faults = lab.faults?.length ? await sb.faultCounts() : [];

    const judge = new LabJudge(repoRoot);
    const progByName: Record<string, (typeof programResults)[number]> = {};
    programResults.forEach((r, i) => {
      const key = progByName[r.role] ? `${r.role}${i}` : r.role;
      progByName[key] = r;
    });
    const jctx: LabJudgeContext = {
      family, params, analysis, observation, kernelEvents, programs: progByName, faults: outcome.faults, sysctls: outcome.sysctls,
      capture: outcome.captureStats, marks, addr,
      connectionsTo: (port) => analysis.tcp.filter((c) => c.serverPort === port),
    };
    if (!outcome.captureStats.complete) {
      judge.ok('the capture is complete (tcpdump: 0 packets dropped by kernel)', false, outcome.captureStats.droppedByKernel, 0);
    }
    lab.judge(jctx, judge);
    outcome.expectations = judge.expectations;
    outcome.claims = lab.claims.map(
      (id) => judge.claims.find((c) => c.id === id) ?? { id, verdict: 'untestable' as const, evidence: 'the lab reached no verdict on this claim in this run' },
    );
    const failed = judge.expectations.filter((e) => !e.ok);
    outcome.verdict = failed.length ? 'fail' : 'pass';
    outcome.reason = failed.length ? `${failed.length} of ${judge.expectations.length} expectations failed` : null;
  } catch (e) {
    outcome.verdict = 'error';
    outcome.timedOut = isWirelabError(e) && e.code === 'LAB_TIMEOUT';
    outcome.reason = isWirelabError(e) ? `${e.code}: ${e.message}` : `unexpected: ${describeError(e)}`;
    if (!isWirelabError(e)) log.error({ err: e, lab: lab.name }, 'lab crashed');
    outcome.claims = lab.claims.map((id) => ({ id, verdict: 'untestable', evidence: `the lab did not finish: ${outcome.reason}` }));
  } finally {
    await Promise.all(programs.map((p) => p.stop(200).catch(() => null)));
    if (observer) await observer.stop().catch(() => null);
    if (kernel) await kernel.stop().catch(() => null); // bpftrace ends before the namespaces go
    if (capture) outcome.captureStats = await capture.stop().catch(() => null);
    if (analysisP && !outcome.analysis) outcome.analysis = await analysisP.catch(() => null);
    if (sandbox) await sandbox.destroy().catch((e) => log.error({ err: e }, 'sandbox cleanup failed'));
    outcome.durationMs = Date.now() - started;
  }
  return outcome;
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

async function waitForSocket(sockets: () => Promise<SocketEntry[]>, pred: (s: SocketEntry) => boolean, ms: number): Promise<SocketEntry> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = (await sockets()).find(pred);
    if (found) return found;
    if (Date.now() > deadline) throw new WirelabError('PROGRAM_FAILED', `no socket in the lab namespace reached the awaited state within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
