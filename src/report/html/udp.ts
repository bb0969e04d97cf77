/**
 * UDP in the report: the flows the analysis counted (datagrams, bytes, fragments, datagrams never
 * complete), the ICMP errors, a UDP experiment's loss numbers and the attribution of every lost
 * datagram (when a lab or `wirelab udp` produced one), and the plots a sweep wrote. The
 * experiment's shape is read tolerantly: a field that is missing is not drawn.
 */
import type { IcmpEvent, UdpFlow } from '../../analyze/model.js';
import { esc, secs } from './markup.js';
import type { HtmlPlot } from './model.js';

export function renderUdpFlows(flows: UdpFlow[], icmp: IcmpEvent[], limit: number): string {
  const out: string[] = [];
  if (flows.length) {
    const rows = flows.slice(0, limit).map((u) =>
      `<tr><td>${u.id}</td><td>${esc(u.src)} → ${esc(u.dst)}</td><td class="num">${u.datagrams}</td><td class="num">${u.bytes}</td>` +
        `<td class="num">${u.datagrams ? `${u.sizes.min}–${u.sizes.max}` : '–'}</td><td class="num">${u.fragmented}</td><td class="num${u.incomplete ? ' bad' : ''}">${u.incomplete}</td></tr>`);
    out.push(`<h3>UDP flows</h3><div class="scroll"><table class="udp"><thead><tr><th>#</th><th>flow</th><th class="num">datagrams</th><th class="num">bytes</th><th class="num">sizes</th><th class="num">fragmented</th><th class="num">never complete</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>` +
      (flows.length > limit ? `<p class="note">${flows.length - limit} more UDP flows not shown</p>` : ''));
  }
  if (icmp.length) {
    const rows = icmp.slice(0, limit).map((e) =>
      `<tr><td class="num">${secs(e.time)}</td><td>#${e.packet}</td><td>${esc(e.from)} → ${esc(e.to)}</td><td>${esc(e.kind)} <small>(type ${e.type} code ${e.code})</small>${e.mtu !== null ? ` mtu ${e.mtu}` : ''}</td><td>${esc(e.quoted ?? '')}</td></tr>`);
    out.push(`<h3>ICMP errors</h3><div class="scroll"><table><thead><tr><th class="num">time (s)</th><th>packet</th><th>from → to</th><th>kind</th><th>about</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`);
  }
  return out.join('\n');
}

interface UdpResultLike {
  receiver?: { received?: number; lost?: number; lossText?: string; outOfOrder?: number; duplicates?: number; jitterMs?: number };
  sender?: { attempted?: number; errors?: number; ratePerSec?: number };
  rcvbuf?: { effective?: number; explanation?: string };
  attribution?: { lost?: number; causes?: { cause: string; datagrams: number; evidence: string }[]; unexplained?: number; notes?: string[] };
}

/** A UDP experiment's numbers and the cause of every lost datagram. */
export function renderUdpResult(r: unknown): string {
  if (r === null || typeof r !== 'object') return '';
  const u = r as UdpResultLike;
  const rx = u.receiver ?? {};
  const nums: [string, unknown][] = [
    ['sent', u.sender?.attempted], ['received', rx.received], ['lost', rx.lost !== undefined ? `${rx.lost} (${rx.lossText ?? ''})` : undefined],
    ['out of order', rx.outOfOrder], ['duplicates', rx.duplicates], ['jitter', rx.jitterMs !== undefined ? `${rx.jitterMs.toFixed(3)} ms` : undefined],
    ['receive buffer', u.rcvbuf?.effective !== undefined ? `${u.rcvbuf.effective} bytes` : undefined],
  ];
  const causes = (u.attribution?.causes ?? []).filter((c) => c.datagrams > 0);
  const bar = causes.length && u.attribution?.lost
    ? `<div class="stack" role="img" aria-label="lost datagrams by cause">${causes.map((c) => `<span class="cause c-${esc(c.cause)}" style="flex:${c.datagrams}" title="${esc(`${c.cause}: ${c.datagrams}`)}">${esc(c.cause)} ${c.datagrams}</span>`).join('')}</div>`
    : '';
  return `<h3>UDP loss</h3><dl class="nums">${nums.filter(([, v]) => v !== undefined).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>${bar}` +
    (causes.length ? `<ul class="causes">${causes.map((c) => `<li><b>${esc(c.cause)}</b>: ${c.datagrams} datagrams. ${esc(c.evidence)}</li>`).join('')}</ul>` : '') +
    (u.attribution?.unexplained ? `<p class="bad">${u.attribution.unexplained} lost datagrams have no cause</p>` : '') +
    (u.attribution?.notes ?? []).map((n) => `<p class="note">${esc(n)}</p>`).join('') +
    (u.rcvbuf?.explanation ? `<p class="note">${esc(u.rcvbuf.explanation)}</p>` : '');
}

/** Plots (SVG files a sweep wrote) as images: self-contained, and their own scripts never run. */
export function renderPlots(plots: HtmlPlot[]): string {
  if (!plots.length) return '';
  return `<section class="plots"><h2>Plots</h2>${plots.map((p) =>
    `<figure><img alt="${esc(p.name)}" src="data:image/svg+xml;base64,${Buffer.from(p.svg).toString('base64')}"><figcaption>${esc(p.name)}</figcaption></figure>`).join('')}</section>`;
}

interface UdpExperimentLike {
  name?: string;
  title?: string | null;
  params?: { family?: number; topology?: string; mtu?: number | null; size?: number; rate?: number | string; pace?: boolean; loss?: number; rcvbuf?: number | null; workUs?: number };
  sent?: number;
  received?: number;
  lost?: number;
  lossText?: string;
  causes?: Record<string, number>;
  unexplained?: number;
  packetsPerDatagram?: number;
  model?: { predictedLossPercent?: number; measuredLossPercent?: number } | null;
  capture?: string;
}

const pct = (x: number | undefined): string => (typeof x === 'number' ? `${+x.toPrecision(3)}%` : '–');

/** How an experiment was set up, in a few words: "IPv4 veth mtu 1500 · 50000 B · 500/s paced · 1% loss". */
function setup(p: UdpExperimentLike['params']): string {
  if (!p) return '';
  const parts = [`IPv${p.family ?? 4} ${p.topology ?? ''}${p.mtu ? ` mtu ${p.mtu}` : ''}`, `${p.size ?? '?'} B`];
  parts.push(p.rate === 'max' || p.rate === undefined ? 'max rate' : `${p.rate}/s${p.pace ? ' paced' : ''}`);
  if (p.loss) parts.push(`${p.loss}% loss`);
  if (p.rcvbuf) parts.push(`rcvbuf ${p.rcvbuf}`);
  if (p.workUs) parts.push(`work ${p.workUs} µs`);
  return parts.join(' · ');
}

/** A lab's UDP experiments (report.json `labs[].udp`): one row each, the causes of every lost datagram. */
export function renderUdpExperiments(rows: unknown[]): string {
  if (!rows.length) return '';
  const body = rows.map((r) => {
    const x = (r ?? {}) as UdpExperimentLike;
    const causes = Object.entries(x.causes ?? {}).filter(([, n]) => n > 0).map(([c, n]) => `${c} ${n}`).join(', ') || '–';
    const model = x.model ? `${pct(x.model.predictedLossPercent)} / ${pct(x.model.measuredLossPercent)}` : '–';
    return `<tr><td><b>${esc(x.name ?? '?')}</b>${x.title ? `<br><small>${esc(x.title)}</small>` : ''}</td><td><small>${esc(setup(x.params))}</small></td>` +
      `<td class="num">${esc(x.sent ?? '–')}</td><td class="num">${esc(x.received ?? '–')}</td><td class="num${x.lost ? ' bad' : ''}">${esc(x.lost ?? '–')}${x.lossText ? ` <small>(${esc(x.lossText)})</small>` : ''}</td>` +
      `<td>${esc(causes)}</td><td class="num${x.unexplained ? ' bad' : ''}">${esc(x.unexplained ?? '–')}</td><td class="num">${esc(x.packetsPerDatagram ?? '–')}</td><td class="num">${esc(model)}</td></tr>`;
  });
  return `<h3>UDP experiments</h3><div class="scroll"><table class="udp"><thead><tr><th>experiment</th><th>setup</th><th class="num">sent</th><th class="num">received</th><th class="num">lost</th><th>causes</th><th class="num">unexplained</th><th class="num">packets / datagram</th><th class="num">model 1-(1-P)^k / rule killed</th></tr></thead><tbody>${body.join('')}</tbody></table></div>`;
}
