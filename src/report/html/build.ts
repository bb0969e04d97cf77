/**
 * Gathers what the HTML report draws: from a run's outcomes (`wirelab run`), from a run directory's
 * report.json and pcaps (`wirelab report DIR`, the captures analysed again), or from one analysed
 * capture (`inspect --html`). Lab titles, explanations and claim texts come from the catalogue the
 * caller passes in; pcap links are relative to the HTML file.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Analysis } from '../../analyze/model.js';
import { inspectStream } from '../../analyze/pipeline.js';
import { tcpConnections } from '../../analyze/analyzer.js';
import { firstConnections } from '../../analyze/first-connections.js';
import { openCaptureFile } from '../../capture/read.js';
import { WirelabError } from '../../errors.js';
import type { LabOutcome } from '../../lab/runner.js';
import { toObservedJson, type ObservedJson } from '../observed-json.js';
import type { RunJson } from '../run-json.js';
import { DEFAULT_LIMITS, type HtmlLab, type HtmlPlot, type HtmlReport } from './model.js';
import { renderHtml } from './page.js';

/** What the catalogue says about a lab and a claim (the caller passes labs/ in; src/ never imports it). */
export interface Catalogue {
  lab(name: string): { title: string; explanation: string } | undefined;
  claim(id: string): string | undefined;
}

type RunLab = RunJson['labs'][number];

function href(htmlFile: string, capture: string | null): string | null {
  if (capture === null) return null;
  return path.relative(path.dirname(path.resolve(htmlFile)), path.resolve(capture)).split(path.sep).join('/');
}

function labFrom(j: RunLab, analysis: Analysis | null, observed: ObservedJson | null, captureFile: string | null, htmlFile: string, cat: Catalogue, udp?: unknown): HtmlLab {
  const def = cat.lab(j.lab);
  return {
    lab: j.lab,
    title: def?.title ?? null,
    explanation: def?.explanation ?? null,
    family: j.family ?? 4,
    verdict: j.verdict,
    reason: j.reason,
    durationMs: j.durationMs,
    params: j.params ?? {},
    story: j.story ?? null,
    claims: j.claims.map((c) => ({ ...c, text: cat.claim(c.id) ?? null })),
    failed: j.expectations.filter((e) => !e.ok).map((e) => ({ text: e.text, expected: e.expected, actual: e.actual, at: e.at ?? '' })),
    captureHref: href(htmlFile, captureFile),
    captureName: captureFile ? path.basename(captureFile) : null,
    analysis,
    observed,
    ...(udp !== undefined ? { udp } : {}),
  };
}

/** `wirelab run`: the outcomes in memory and the report.json object made from them. */
export function reportFromRun(json: RunJson, outcomes: LabOutcome[], runDir: string, htmlFile: string, cat: Catalogue): HtmlReport {
  return {
    title: `wirelab run ${json.run}`,
    subtitle: `kernel ${json.kernel} · ${json.dir}`,
    labs: json.labs.map((j, i) => {
      const o = outcomes[i]!;
      const file = o.capture ? path.join(runDir, path.basename(o.capture)) : null;
      return labFrom(j, o.analysis, toObservedJson(o), file, htmlFile, cat, j.udp ?? undefined);
    }),
    inspect: null,
    plots: [],
    limits: DEFAULT_LIMITS,
    generated: new Date().toISOString(),
  };
}

async function plotsIn(dir: string): Promise<HtmlPlot[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.svg')).sort();
  return Promise.all(names.map(async (name) => ({ name, svg: await readFile(path.join(dir, name), 'utf8') })));
}

/** `wirelab report DIR`: report.json read back, every capture in DIR analysed again. */
export async function reportFromDir(dir: string, htmlFile: string, cat: Catalogue): Promise<HtmlReport> {
  const file = path.join(dir, 'report.json');
  if (!existsSync(file)) throw new WirelabError('FILE_NOT_FOUND', `${dir} has no report.json: give the directory a \`wirelab run\` wrote (captures/<run>/)`);
  let json: RunJson;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as RunJson;
  } catch (e) {
    throw new WirelabError('BAD_REPORT', `${file} is not JSON (${(e as Error).message}): run the labs again to rewrite it`);
  }
  if (!Array.isArray(json?.labs)) throw new WirelabError('BAD_REPORT', `${file} has no "labs" list: it is not a report.json that \`wirelab run\` wrote`);
  const labs: HtmlLab[] = [];
  for (const j of json.labs) {
    const pcap = j.capture ? path.join(dir, path.basename(j.capture)) : null;
    const have = pcap !== null && existsSync(pcap);
    const analysis = have ? await inspectStream(openCaptureFile(pcap), { file: path.basename(pcap), keepSegments: true }) : null;
    const udp = j.udp ?? undefined;
    labs.push(labFrom(j, analysis, j.observed ?? null, have ? pcap : null, htmlFile, cat, udp));
  }
  return {
    title: `wirelab run ${json.run}`,
    subtitle: `kernel ${json.kernel} · ${json.dir}`,
    labs,
    inspect: null,
    plots: await plotsIn(dir),
    limits: DEFAULT_LIMITS,
    generated: new Date().toISOString(),
  };
}

/** `inspect FILE --html OUT`: one capture (the connections drawn are those `analysis.tcp` holds). */
export function reportFromCapture(file: string, analysis: Analysis, tcpTotal: number, htmlFile: string, connections = DEFAULT_LIMITS.connections): HtmlReport {
  return {
    title: `wirelab inspect ${path.basename(file)}`,
    subtitle: file,
    labs: [],
    inspect: { analysis, captureHref: file === '-' ? null : href(htmlFile, file), tcpTotal },
    plots: [],
    limits: { ...DEFAULT_LIMITS, connections },
    generated: new Date().toISOString(),
  };
}

/**
 * `inspect FILE --html OUT` after the first pass: the first `limit` connections with their
 * segments (the first pass' own when it kept them, else a second pass that keeps only theirs)
 * beside the first pass' counts and UDP flows.
 */
export async function writeInspectHtml(file: string, first: Analysis, kept: boolean, htmlFile: string, limit = DEFAULT_LIMITS.connections): Promise<{ bytes: number; drawn: number; total: number }> {
  const total = tcpConnections(first).count;
  const drawn = kept ? first.tcp.slice(0, limit) : (await firstConnections(openCaptureFile(file), file, limit)).tcp;
  const a: Analysis = {
    file: first.file, format: first.format, linkType: first.linkType, packets: first.packets, decodeErrors: first.decodeErrors,
    truncated: first.truncated, firstTime: first.firstTime, faults: first.faults, errors: first.errors, udp: first.udp, icmp: first.icmp, tcp: drawn,
  };
  const bytes = await writeHtml(htmlFile, reportFromCapture(file, a, total, htmlFile, limit));
  return { bytes, drawn: drawn.length, total };
}

export async function writeHtml(file: string, report: HtmlReport): Promise<number> {
  const html = renderHtml(report);
  try {
    await writeFile(file, html);
  } catch (e) {
    throw new WirelabError('BAD_USAGE', `cannot write the HTML report to ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; give a path in a directory you can write`);
  }
  return Buffer.byteLength(html);
}
