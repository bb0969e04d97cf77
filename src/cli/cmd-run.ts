/** `wirelab run LAB… | --all [--json] [--live] [--ipv6] [--param k=v] [--jobs N] [--out DIR]` */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { labs as catalogue } from '../../labs/index.js';
import { WirelabError } from '../errors.js';
import { defaultCapturesDir, repoRoot } from '../lab/paths.js';
import { runJobs, type RunJob } from '../lab/runner.js';
import { resolveParams } from '../lab/params.js';
import type { AnyLab, Family } from '../lab/types.js';
import { renderSegmentLine } from '../report/text.js';
import { toRunJson } from '../report/run-json.js';
import { renderLabOutcome, renderRunSummary, renderTimeline } from '../report/run-text.js';
import { preflight } from '../lab/preflight.js';
import { OWN_NETNS_NOTE, readPrivileges, sandboxMode, topologyRefusal } from '../sandbox/index.js';
import { renderMermaidAll } from '../report/mermaid.js';
import { writeRunHtml } from './cmd-report.js';
import { intOption, keyValues, parse } from './args.js';
import { adoptParentOwner } from './ownership.js';
import { note, out, outJson } from './output.js';

const USAGE = 'wirelab run LAB… | --all [--json] [--live] [--timeline] [--ipv4|--ipv6] [--param key=value] [--jobs N] [--out DIR] [--backend tcpdump|raw-socket] [--html FILE] [--mermaid]';

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[:.]/g, '-').replace('Z', '')}-${process.pid}`;
}

export function selectLabs(names: string[], all: boolean): AnyLab[] {
  if (all) return catalogue;
  if (!names.length) throw new WirelabError('BAD_USAGE', `wirelab run: name a lab or use --all; labs: ${catalogue.map((l) => l.name).join(', ')}\nusage: ${USAGE}`);
  return names.map((n) => {
    const lab = catalogue.find((l) => l.name === n);
    if (!lab) throw new WirelabError('UNKNOWN_LAB', `no lab named "${n}"; the labs are: ${catalogue.map((l) => l.name).join(', ')} (see \`wirelab list\`)`);
    return lab;
  });
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('run', argv, {
    all: { type: 'boolean' },
    json: { type: 'boolean' },
    live: { type: 'boolean' },
    timeline: { type: 'boolean' },
    ipv4: { type: 'boolean' },
    ipv6: { type: 'boolean' },
    param: { type: 'string', multiple: true },
    jobs: { type: 'string' },
    out: { type: 'string' },
    backend: { type: 'string' },
    html: { type: 'string' },
    mermaid: { type: 'boolean' },
  }, USAGE);
  const labs = selectLabs(positionals, !!values.all);
  const params = keyValues(values.param, '--param');
  // Every --param is validated before anything runs: a name no selected lab takes, or a value of
  // the wrong type or out of range, is exit 2 with the params and their types.
  for (const k of Object.keys(params)) {
    if (!labs.some((l) => l.params && k in l.params)) {
      if (labs.length === 1) resolveParams(labs[0]!.name, labs[0]!.params, { [k]: params[k]! }); // throws, listing the lab's params
      const known = labs.flatMap((l) => Object.keys(l.params ?? {}).map((p) => `${l.name}: ${p}`));
      throw new WirelabError('BAD_USAGE', `--param ${k}: none of the selected labs takes it${known.length ? ` (they take ${known.join(', ')})` : ' (they take no parameters)'}`);
    }
  }
  for (const l of labs) resolveParams(l.name, l.params, Object.fromEntries(Object.entries(params).filter(([k]) => l.params && k in l.params)));
  if (values.ipv4 && values.ipv6) throw new WirelabError('BAD_USAGE', `--ipv4 and --ipv6 together: give one, or neither (--all then runs both)\nusage: ${USAGE}`);
  const backend = values.backend ?? 'auto';
  if (!['auto', 'tcpdump', 'raw-socket'].includes(backend)) throw new WirelabError('BAD_USAGE', `--backend ${backend}: use tcpdump or raw-socket`);
  const pf = await preflight({ needTcpdump: backend === 'tcpdump' });
  // A container without CAP_SYS_ADMIN: labs share its namespace, one at a time; named labs it cannot run stop here.
  const ownNetns = sandboxMode(readPrivileges()).kind === 'own-netns';
  if (ownNetns) {
    const refused = values.all ? [] : labs.map((l) => topologyRefusal(l.topology, `lab ${l.name}`)).filter((r): r is string => r !== null);
    if (refused.length) throw new WirelabError('NO_CAP_NET_ADMIN', refused.join('\n'));
    note(OWN_NETNS_NOTE);
  }
  // --all covers both families unless one is asked for; named labs run over IPv4 unless --ipv6.
  const families: Family[] = values.ipv6 ? [6] : values.ipv4 || !values.all ? [4] : [4, 6];
  const family: Family = families.includes(6) && families.length === 1 ? 6 : 4;
  if (backend === 'raw-socket' || (backend === 'auto' && !pf.tcpdump)) {
    // The raw-socket backend sees IPv4 only, and no IP fragments: some labs need what only tcpdump sees.
    const needy = labs.filter((l) => l.needs.includes('tcpdump')).map((l) => l.name);
    const why = families.includes(6) ? 'IPv6 captures' : needy.length ? `lab(s) ${needy.join(', ')}` : null;
    if (why && backend === 'raw-socket') throw new WirelabError('BAD_USAGE', `--backend raw-socket cannot capture what ${why} need (it sees IPv4 only, no IP fragments): drop --backend`);
    if (why) throw new WirelabError('NO_TCPDUMP', `tcpdump is not installed and ${why} need it (the raw-socket fallback sees IPv4 only, no IP fragments): apt-get install tcpdump`);
    if (backend === 'auto') note('wirelab: tcpdump is not installed: capturing with the raw-socket backend (IPv4 only, no IP fragments); apt-get install tcpdump for full captures');
  }

  const run = newRunId();
  const dir = path.resolve(values.out ?? path.join(defaultCapturesDir(), run));
  const byName = new Map(catalogue.map((l) => [l.name, l]));
  if (!values.json) note(`wirelab: running ${labs.length} lab(s) over ${families.map((f) => `IPv${f}`).join(' and ')}; captures in ${path.relative(process.cwd(), dir) || '.'}`);
  const jobs: RunJob[] = families.flatMap((f) => labs.map((lab) => ({ lab, family: f })));
  let outcomes: Awaited<ReturnType<typeof runJobs>>;
  try {
    outcomes = await runJobs(jobs, {
      family,
      params,
      outDir: dir,
      backend: backend as 'auto' | 'tcpdump' | 'raw-socket',
      ...(ownNetns ? { concurrency: 1 } : intOption(values.jobs, '--jobs', 1) ? { concurrency: intOption(values.jobs, '--jobs', 1)! } : {}),
      ...(values.live ? { onSegment: (lab, conn, seg) => out(`[${lab}] #${conn.id} ${renderSegmentLine(seg)}`) } : {}),
      onLabDone: (o) => {
        if (!values.json) out(`${renderLabOutcome(o, byName.get(o.lab))}${values.timeline ? `\n${renderTimeline(o)}` : ''}\n`);
      },
    });
    const report = toRunJson(run, path.relative(repoRoot, dir), os.release(), outcomes);
    await writeFile(path.join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    const html = await writeRunHtml(report, outcomes, dir, values.html);
    if (values.json) outJson(report);
    else if (values.mermaid) out(outcomes.map((o) => renderMermaidAll(o.analysis?.tcp ?? [], `${o.lab} IPv${o.family}`, 20, { dropped: new Set(o.drops?.packets ?? []) })).join('\n\n'));
    else out(`${renderRunSummary(outcomes)}\nreport: ${html.map((f) => path.relative(process.cwd(), f)).join(', ')} (report.json beside it)`);
  } finally {
    await adoptParentOwner(dir); // captures and reports belong to the captures folder's owner
  }
  if (outcomes.some((o) => o.verdict === 'fail' || o.verdict === 'error')) return 1;
  return 0;
}
