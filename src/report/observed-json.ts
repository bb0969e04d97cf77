/**
 * What report.json keeps of a lab's observations, so `wirelab report DIR` can draw them again
 * without the run: each captured connection's sockets as the sampled /proc/net/tcp showed them
 * (a span per state: first sample seen in it, the next sample that showed something else, the
 * timer it had when first seen), the kernel counters that moved per host, the faults and the
 * packets they dropped, and the kernel's own events where the run had them. A projection of the
 * runner's data, computed once here; the HTML renderers only draw it.
 */
import type { Analysis, Side } from '../analyze/model.js';
import type { LabOutcome } from '../lab/runner.js';
import type { Observation } from '../observe/types.js';

export interface SocketSpan {
  state: string;
  from: number; // seconds since the capture's first packet: the first sample that showed it
  to: number; // the next sample that showed something else (or the end of observation)
  open: boolean; // still in this state when observation stopped
  timer: string; // 'none', 'time-wait', 'retransmit', ...
  timerLeftMs: number; // the timer's remaining time in that first sample
}

export interface ObservedJson {
  sampleMs: number;
  sockets: { connection: number; side: Side; host: string; spans: SocketSpan[] }[];
  counters: { host: string; delta: Record<string, number> }[];
  faults: { name: string; dropped: number }[];
  dropped: number[]; // packet numbers a fault dropped
  unnamedDrops: { fault: string; dropped: number; why: string }[];
  /**
   * TIME_WAIT as measured: entered at the packet the analysis dates it at, first seen in /proc
   * seenAfterS later with timerLeftMs on its timer, so it lasts lengthS in all.
   */
  timeWait: { connection: number; side: Side; enteredAt: number; firstSeen: number; seenAfterS: number; timerLeftMs: number; lengthS: number }[];
  /** The kernel's own events (tracepoints) where the run had them, else null. */
  kernel: { time: number; connection: number | null; who: string; text: string; kind: string }[] | null;
}

function spansOf(obs: Observation, local: string, remote: string, origin: number): SocketSpan[] {
  const spans: SocketSpan[] = [];
  let cur: SocketSpan | null = null;
  for (const sample of obs.samples) {
    const e = sample.sockets.find((s) => s.local === local && s.remote === remote) ?? null;
    const t = sample.time - origin;
    if (cur !== null && (e === null || e.state !== cur.state)) {
      cur.to = t;
      cur.open = false;
      cur = null;
    }
    if (e !== null && cur === null) {
      cur = { state: e.state, from: t, to: t, open: true, timer: e.timer, timerLeftMs: e.timerRemainingMs };
      spans.push(cur);
    }
  }
  if (cur !== null) cur.to = obs.after.time - origin;
  return spans;
}

export function toObservedJson(o: LabOutcome): ObservedJson | null {
  const a: Analysis | null = o.analysis;
  if (a === null || a.firstTime === null) return null;
  const origin = a.firstTime;
  const hosts = Object.entries(o.observations ?? {}).filter((e): e is [string, Observation] => e[1] !== undefined);
  // One namespace observed under two roles (loopback) is drawn once.
  const byObs = new Map<Observation, string[]>();
  for (const [role, obs] of hosts) byObs.set(obs, [...(byObs.get(obs) ?? []), role]);
  const distinct = [...byObs].map(([obs, roles]) => [roles.join('+'), obs] as [string, Observation]);
  // A 4-tuple reused by a later connection: each connection takes the spans that began in its own
  // lifetime (from just before its first packet to the next connection's first packet).
  const nextOnTuple = new Map<number, number>();
  const lastOnTuple = new Map<string, number>();
  for (const c of a.tcp) {
    const key = `${c.client}|${c.server}`;
    const prev = lastOnTuple.get(key);
    if (prev !== undefined) nextOnTuple.set(prev, c.firstTime);
    lastOnTuple.set(key, c.id);
  }
  const SLACK = 0.05; // a sample may show the socket a little before its first packet was captured
  const sockets: ObservedJson['sockets'] = [];
  for (const c of a.tcp) {
    const until = nextOnTuple.get(c.id) ?? Infinity;
    for (const [side, local, remote] of [['client', c.client, c.server], ['server', c.server, c.client]] as const) {
      for (const [host, obs] of distinct) {
        const spans = spansOf(obs, local, remote, origin).filter((sp) => sp.to >= c.firstTime - SLACK && sp.from < until);
        if (spans.length) sockets.push({ connection: c.id, side, host, spans });
      }
    }
  }
  const timeWait: ObservedJson['timeWait'] = [];
  for (const c of a.tcp) {
    for (const side of ['client', 'server'] as const) {
      const entered = c.states[side].find((t) => t.to === 'TIME_WAIT');
      const span = sockets.find((x) => x.connection === c.id && x.side === side)?.spans.find((x) => x.state === 'TIME_WAIT' && x.timer === 'time-wait');
      if (!entered || !span || Number.isNaN(entered.time)) continue;
      timeWait.push({
        connection: c.id, side, enteredAt: entered.time, firstSeen: span.from, seenAfterS: span.from - entered.time,
        timerLeftMs: span.timerLeftMs, lengthS: span.from + span.timerLeftMs / 1000 - entered.time,
      });
    }
  }
  const kernelRows = (o.timeline as unknown as { kind?: string; time: number; connection: number | null; who?: string; text?: string; event?: { kind?: string } }[])
    .filter((r) => r.kind === 'kernel');
  return {
    sampleMs: 10,
    sockets,
    counters: distinct.filter(([, obs]) => Object.keys(obs.delta).length > 0).map(([host, obs]) => ({ host, delta: obs.delta })),
    faults: o.faults.map((f) => ({ name: f.name, dropped: f.dropped })),
    dropped: o.drops?.packets ?? [],
    unnamedDrops: o.drops?.unnamed ?? [],
    timeWait,
    kernel: kernelRows.length ? kernelRows.map((r) => ({ time: r.time, connection: r.connection, who: r.who ?? '', text: r.text ?? '', kind: r.event?.kind ?? '' })) : null,
  };
}
