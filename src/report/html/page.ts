/**
 * The HTML report: one self-contained page (inline CSS, SVG and a small script; a Content
 * Security Policy that forbids fetching anything). A run's summary first, then per lab its
 * claims, a ladder per connection, the state timeline and the counters; `inspect --html` draws
 * one capture the same way. Past the connection limit the first N are drawn and the page says
 * how many it left out.
 */
import type { Analysis, TcpConnection } from '../../analyze/model.js';
import { renderLadderSvg } from './ladder-svg.js';
import { dur, esc, plural, slug } from './markup.js';
import type { HtmlLab, HtmlReport } from './model.js';
import { CSS, SCRIPT } from './style.js';
import { renderLabHeader, renderRunSummary } from './summary.js';
import { renderObservedTables, renderStateTimeline } from './timeline.js';
import { renderPlots, renderUdpExperiments, renderUdpFlows, renderUdpResult } from './udp.js';
import type { ObservedJson } from '../observed-json.js';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

const LEGEND = `<div class="legend"><span><i class="lg-c"></i>client → server</span><span><i class="lg-s"></i>server → client</span>` +
  `<span><i class="lg-r"></i>↻ retransmission</span><span><i class="lg-d"></i>✕ dropped by a fault</span><span><i class="lg-t"></i>TIME_WAIT</span>` +
  '<span>time runs down; space grows with the log of each gap; hover or tap an arrow for its full decode</span></div>';

function connFacts(c: TcpConnection): string {
  const h = c.handshake;
  const hs = h.complete ? `handshake complete${h.rttMs !== null ? `, RTT ${h.rttMs.toFixed(3)} ms` : ''}` : 'handshake incomplete';
  const close = c.close.kind === 'none' ? 'not closed in the capture' : `${c.close.kind} close${c.close.initiator ? ` begun by the ${c.close.initiator}` : ''}`;
  const tw = c.timeWait === null ? '' : ` · TIME_WAIT: ${c.timeWait}`;
  const counts = [
    plural(c.packets, 'packet'),
    `bytes ${c.bytes.client} / ${c.bytes.server}`,
    c.retransmissions ? plural(c.retransmissions, 'retransmission') : '',
    h.synAckRetransmits ? `${h.synAckRetransmits} SYN-ACK resent` : '',
    h.synRetransmits ? `${h.synRetransmits} SYN resent` : '',
    c.resets ? plural(c.resets, 'reset') : '',
    c.dupAcks ? `${c.dupAcks} dup ACKs` : '',
  ].filter(Boolean).join(' · ');
  return `<p class="facts">${esc(hs)} · ${esc(close)}${esc(tw)} · ${esc(counts)}</p>` +
    `<p class="facts">client: ${esc(c.statePath.client.join(' → '))}<br>server: ${esc(c.statePath.server.join(' → '))}</p>`;
}

function connection(c: TcpConnection, dropped: ReadonlySet<number>, observed: ObservedJson | null, maxSegments: number, anchor: string): string {
  const ladder = c.segments.length
    ? `<div class="diagram">${renderLadderSvg(c, { dropped, observed, maxSegments })}</div>`
    : '<p class="note">No segments kept for this connection.</p>';
  return `<div class="conn" id="${esc(anchor)}"><div class="conn-head"><h3>TCP #${c.id} <small>${esc(c.client)} → ${esc(c.server)} · IPv${c.family}</small></h3></div>${connFacts(c)}${ladder}</div>`;
}

function leftOut(total: number, drawn: number): string {
  return total > drawn ? `<p class="note limit">Drawn: the first ${drawn} of ${total} TCP connections; ${total - drawn} left out (the pcap has them all; <code>wirelab inspect FILE --stream N</code> shows one).</p>` : '';
}

function labSection(l: HtmlLab, report: HtmlReport): string {
  const id = `lab-${slug(`${l.lab}-${l.family}`)}`;
  const a: Analysis | null = l.analysis;
  const conns = a ? a.tcp.slice(0, report.limits.connections) : [];
  const dropped = new Set(l.observed?.dropped ?? []);
  const body: string[] = [renderLabHeader(l)];
  if (a) {
    body.push(`<h3>Connections</h3><p class="note">${esc(`${a.packets} packets captured, ${plural(a.tcp.length, 'TCP connection')}, ${plural(a.udp.length, 'UDP flow')}`)}</p>`);
    if (conns.length) body.push(LEGEND);
    body.push(...conns.map((c) => connection(c, dropped, l.observed, report.limits.segments, `${id}-tcp-${c.id}`)));
    body.push(leftOut(a.tcp.length, conns.length));
    if (conns.length) body.push(`<h3>Socket states over time</h3><div class="diagram">${renderStateTimeline(conns, l.observed)}</div>`);
    body.push(renderUdpFlows(a.udp, a.icmp, report.limits.connections));
  }
  if (Array.isArray(l.udp)) body.push(renderUdpExperiments(l.udp));
  else if (l.udp !== undefined) body.push(renderUdpResult(l.udp));
  body.push(renderObservedTables(l.observed, 200));
  return `<section class="lab" id="${esc(id)}">${body.join('\n')}</section>`;
}

function inspectSection(r: NonNullable<HtmlReport['inspect']>, report: HtmlReport): string {
  const a = r.analysis;
  const conns = a.tcp.slice(0, report.limits.connections);
  const rows = conns.map((c) =>
    `<tr><td><a href="#tcp-${c.id}">#${c.id}</a></td><td>${esc(c.client)}</td><td>${esc(c.server)}</td><td class="num">${c.packets}</td>` +
      `<td>${c.handshake.complete ? 'complete' : 'incomplete'}</td><td>${esc(c.close.kind)}${c.close.initiator ? ` (${c.close.initiator})` : ''}</td>` +
      `<td class="wide">${esc(c.timeWait ?? '–')}</td><td class="num wide">${c.retransmissions}</td><td class="num wide">${c.resets}</td></tr>`);
  const faults = a.faults.map((f) => `<p class="bad">fault at byte ${f.offset}${f.fatal ? ' (reading stopped)' : ''}: ${esc(f.message)}</p>`).join('');
  return `<section class="capture">
<p>${esc(`${a.format ?? 'not a capture'}, link type ${a.linkType}, ${a.packets} packets, ${r.tcpTotal} TCP connections, ${a.udp.length} UDP flows`)}${a.decodeErrors ? `, ${a.decodeErrors} decode errors` : ''}${a.truncated ? `, ${a.truncated} truncated` : ''}</p>
${r.captureHref ? `<p class="pcap">capture: <a href="${esc(r.captureHref)}" download>${esc(r.captureHref)}</a> <small>(opens in Wireshark)</small></p>` : ''}
${faults}
${leftOut(r.tcpTotal, conns.length)}
${conns.length ? `<h2>TCP connections</h2><div class="scroll"><table class="conn-table"><thead><tr><th>#</th><th>client</th><th>server</th><th class="num">packets</th><th>handshake</th><th>close</th><th class="wide">TIME_WAIT</th><th class="num wide">retrans.</th><th class="num wide">resets</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>` : ''}
${conns.length ? LEGEND : ''}
${conns.map((c) => connection(c, new Set(), null, report.limits.segments, `tcp-${c.id}`)).join('\n')}
${conns.length ? `<h3>States over time (from the packets)</h3><div class="diagram">${renderStateTimeline(conns, null)}</div>` : ''}
${renderUdpFlows(a.udp, a.icmp, report.limits.connections)}
</section>`;
}

/** The whole page as one string. */
export function renderHtml(report: HtmlReport): string {
  const labs = report.labs;
  const took = labs.reduce((s, l) => s + l.durationMs, 0) / 1000;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<title>${esc(report.title)}</title>
<style>${CSS}</style></head>
<body><main>
<h1>${esc(report.title)}</h1>
<p class="sub">${esc(report.subtitle)}${labs.length ? ` · ${esc(plural(labs.length, 'lab'))}, ${esc(dur(took))} of lab time` : ''}</p>
${labs.length ? renderRunSummary(labs) : ''}
${labs.map((l) => labSection(l, report)).join('\n')}
${report.inspect ? inspectSection(report.inspect, report) : ''}
${renderPlots(report.plots)}
<footer>Written by wirelab at ${esc(report.generated)}. Everything drawn comes from the capture's analysis and the lab run; nothing on this page is fetched from the network.</footer>
</main><div id="tip" role="tooltip"></div>
<script>${SCRIPT}</script>
</body></html>
`;
}
