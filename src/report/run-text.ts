/** `wirelab run` for people: per lab its verdict, its claims with evidence, and any failed expectation. */
import type { SegmentRecord } from '../analyze/model.js';
import type { LabOutcome } from '../lab/types.js';
import type { AnyLab } from '../lab/types.js';

const MARK: Record<string, string> = { pass: 'PASS', fail: 'FAIL', error: 'ERROR', skipped: 'SKIP' };
const CLAIM: Record<string, string> = { confirmed: 'confirmed', differs: 'differs  ', refuted: 'refuted  ', untestable: 'untestable' };

function fmt(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function segmentLine(s: SegmentRecord): string {
  return `      #${s.packet} ${s.time.toFixed(6)} ${s.from === 'client' ? 'client -> server' : 'server -> client'}: ${s.meaning}`;
}

/** The joined packet / socket-state timeline (`wirelab run --timeline`), with kernel events where available. */
export function renderTimeline(o: LabOutcome): string {
  if (!o.timeline.length) return '';
  const k = o.kernelEvents;
  const lines = ['  timeline: each packet, and the sockets as /proc/net/tcp last showed them (sampled every 10 ms); [program] lines: what the lab\'s programs reported, and when'];
  if (k?.available) lines.push(`  kernel events (tracepoints) between them, on the pcap clock ± ${k.errorUs.toFixed(1)} µs`);
  // Program messages and marks, on the capture's clock (seconds since its first packet), between the packets.
  const t0 = o.analysis?.firstTime ?? null;
  const events = t0 === null ? [] : o.events.map((e) => ({ rel: e.t - t0, e }));
  let ei = 0;
  const flush = (until: number): void => {
    for (; ei < events.length && events[ei]!.rel <= until; ei++) {
      const { rel, e } = events[ei]!;
      const data = Object.entries(e.data).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
      lines.push(`    ${rel.toFixed(6)} [${e.program}] ${e.event}${data ? ` ${data}` : ''}`);
    }
  };
  for (const r of [...o.timeline].sort((x, y) => x.time - y.time)) {
    flush(r.time);
    if (r.kind === 'kernel') {
      const after = r.after ? ` · ${r.after.gapUs} µs after #${r.after.packet}` : ' · before the first packet';
      lines.push(`      ${r.time.toFixed(6)} s ${r.who} ${r.text}${after}`);
      continue;
    }
    const age = r.sampleAgeMs === null ? "nothing sampled yet" : `this view first seen ${r.sampleAgeMs} ms earlier`;
    lines.push(`    #${r.packet} ${r.time.toFixed(6)} ${r.from === 'client' ? 'C->S' : 'S->C'} ${r.meaning}`);
    lines.push(`        /proc: client ${r.client ?? '-'}; server ${r.server ?? '-'} (${age})`);
  }
  flush(Infinity);
  return lines.join('\n');
}

export function renderLabOutcome(o: LabOutcome, lab: AnyLab | undefined): string {
  const lines: string[] = [];
  const fam = o.family === 6 ? 'IPv6' : 'IPv4';
  const timed = o.timedOut ? ' (timed out)' : '';
  lines.push(`${MARK[o.verdict]} ${o.lab} [${fam}] ${(o.durationMs / 1000).toFixed(1)} s${timed}${lab ? ` — ${lab.title}` : ''}`);
  if (o.reason) lines.push(`  ${o.reason.split('\n').join('\n  ')}`);
  if (o.capture) {
    const st = o.captureStats;
    const counts = st ? ` (${st.backend}: ${st.captured} packets${st.droppedByKernel !== null ? `, ${st.droppedByKernel} dropped by kernel` : ''})` : '';
    lines.push(`  capture: ${o.capture}${counts}${st && !st.complete ? ' INCOMPLETE: the kernel dropped packets, the analysis may miss some' : ''}`);
  }
  if (o.captureStats?.limits.length) lines.push(`  capture limits: ${o.captureStats.limits.join('; ')}`);
  const k = o.kernelEvents;
  if (k?.available) {
    const dropped = k.dropCounts.map((d) => `${d.count} ${d.reason}`).join(', ');
    lines.push(`  kernel events: ${k.events}${k.lost ? ` (${k.lost} LOST: the counts below are still exact)` : ', none lost'}; clock ± ${k.errorUs.toFixed(1)} µs${dropped ? `; drops: ${dropped}` : ''}`);
  } else if (k) {
    lines.push(`  kernel events: missing (${k.missing})${k.fix ? `; fix: ${k.fix}` : ''}; states are /proc samples every 10 ms, drops only counters`);
  }
  for (const c of o.claims) lines.push(`  ${c.id} ${CLAIM[c.verdict]}  ${c.evidence}`);
  const segs = new Map<number, SegmentRecord>();
  for (const conn of o.analysis?.tcp ?? []) for (const s of conn.segments) segs.set(s.packet, s);
  for (const e of o.expectations.filter((x) => !x.ok)) {
    lines.push(`  ${e.at}: expectation failed: ${e.text}`);
    lines.push(`      expected ${fmt(e.expected)}`);
    lines.push(`      actual   ${fmt(e.actual)}`);
    for (const p of e.packets) {
      const s = segs.get(p);
      if (s) lines.push(segmentLine(s));
    }
  }
  for (const f of o.faults) lines.push(`  fault ${f.name}: dropped ${f.dropped} packet(s)`);
  if (o.story) lines.push(`  why: ${wrap(o.story, 96).join('\n       ')}`);
  return lines.join('\n');
}

export function renderRunSummary(outcomes: LabOutcome[]): string {
  const count = (v: string): number => outcomes.filter((o) => o.verdict === v && !o.timedOut).length;
  const timedOut = outcomes.filter((o) => o.timedOut).length;
  const claims = outcomes.flatMap((o) => o.claims);
  const c = (v: string): number => claims.filter((x) => x.verdict === v).length;
  return [
    `labs: ${count('pass')} passed, ${count('fail')} failed, ${timedOut} timed out, ${count('error')} errors, ${count('skipped')} skipped`,
    `claims: ${c('confirmed')} confirmed, ${c('differs')} differ, ${c('refuted')} refuted, ${c('untestable')} untestable`,
  ].join('\n');
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}
