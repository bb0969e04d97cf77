/**
 * The top of the report: how many labs passed and how the claims came out, then per lab its
 * verdict, every claim with its verdict and evidence sentence (and, where Linux differs from the
 * textbook, both and the measured value), the run's story, the failed checks, and the
 * explanation a learner reads. Everything printed comes from the runner's outcome.
 */
import { badge, details, esc, plural, shown, slug } from './markup.js';
import type { HtmlLab } from './model.js';

function countBy<T extends string>(xs: T[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

/** The run at a glance: labs passed, claims confirmed / differ / refuted / untestable. */
export function renderRunSummary(labs: HtmlLab[]): string {
  const v = countBy(labs.map((l) => l.verdict));
  const c = countBy(labs.flatMap((l) => l.claims.map((x) => x.verdict)));
  const tile = (n: number, word: string, cls: string): string => `<div class="tile ${cls}"><b>${n}</b><span>${esc(word)}</span></div>`;
  const rows = labs.map((l) =>
    `<tr><td><a href="#lab-${esc(slug(`${l.lab}-${l.family}`))}">${esc(l.lab)}</a> <small>IPv${l.family}</small></td><td>${badge(l.verdict)}</td>` +
      `<td class="claims-cell">${l.claims.map((x) => `<span class="chip v-${esc(x.verdict)}" title="${esc(x.evidence)}">${esc(x.id)} ${esc(x.verdict)}</span>`).join(' ')}</td>` +
      `<td class="num">${(l.durationMs / 1000).toFixed(1)} s</td></tr>`,
  );
  return `<section class="summary" aria-label="Summary">
<div class="tiles">
${tile(v.pass ?? 0, `of ${plural(labs.length, 'lab')} passed`, (v.fail ?? 0) + (v.error ?? 0) ? 'bad' : 'good')}
${tile(c.confirmed ?? 0, 'claims confirmed', 'v-confirmed')}
${tile(c.differs ?? 0, 'differ on Linux', 'v-differs')}
${tile(c.refuted ?? 0, 'refuted', 'v-refuted')}
${c.untestable ? tile(c.untestable, 'untestable', 'v-untestable') : ''}
</div>
<table class="labs"><thead><tr><th>lab</th><th>verdict</th><th>claims</th><th class="num">took</th></tr></thead><tbody>${rows.join('')}</tbody></table>
</section>`;
}

function claimBlock(c: HtmlLab['claims'][number]): string {
  const diff = c.differs
    ? `<dl class="differs"><dt>textbook</dt><dd>${esc(c.differs.textbook)}</dd><dt>Linux</dt><dd>${esc(c.differs.linux)}</dd><dt>measured</dt><dd>${esc(c.differs.measured)}</dd></dl>`
    : '';
  return `<li class="claim v-${esc(c.verdict)}"><div class="claim-head"><b>${esc(c.id)}</b> ${badge(c.verdict)}${c.text ? ` <span class="claim-text">${esc(c.text)}</span>` : ''}</div>` +
    `<p class="evidence">${esc(c.evidence)}</p>${diff}</li>`;
}

/** A lab's verdict, claims, story, failed checks and explanation. */
export function renderLabHeader(l: HtmlLab): string {
  const params = Object.entries(l.params);
  const failed = l.failed.length
    ? `<div class="failed"><h4>Checks that failed</h4><ul>${l.failed.map((f) =>
      `<li><b>${esc(f.text)}</b> <small>${esc(f.at)}</small><br>expected <code>${esc(shown(f.expected))}</code>, got <code>${esc(shown(f.actual))}</code></li>`).join('')}</ul></div>`
    : '';
  return `<header class="lab-head"><h2>${badge(l.verdict)} ${esc(l.lab)} <small>IPv${l.family} · ${(l.durationMs / 1000).toFixed(1)} s</small></h2>
${l.title ? `<p class="lab-title">${esc(l.title)}</p>` : ''}
${l.reason ? `<p class="reason">${esc(l.reason)}</p>` : ''}
${params.length ? `<p class="params">parameters: ${params.map(([k, v]) => `<code>${esc(k)}=${esc(shown(v))}</code>`).join(' ')}</p>` : ''}
${l.captureHref ? `<p class="pcap">capture: <a href="${esc(l.captureHref)}" download>${esc(l.captureName ?? l.captureHref)}</a> <small>(opens in Wireshark)</small></p>` : ''}
</header>
${l.claims.length ? `<ul class="claims">${l.claims.map(claimBlock).join('')}</ul>` : ''}
${l.story ? `<p class="story">${esc(l.story)}</p>` : ''}
${failed}
${l.explanation ? details('What this lab shows', `<div class="explanation">${esc(l.explanation).split(/\n\s*\n/).map((p) => `<p>${p}</p>`).join('')}</div>`) : ''}`;
}
