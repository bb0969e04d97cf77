/** `wirelab run LAB… | --all [--json] [--live] [--ipv6] [--param k=v] [--jobs N] [--out DIR]` */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { labs as catalogue } from '../../labs/index.js';
import { WirelabError } from '../errors.js';
import { defaultCapturesDir, repoRoot } from '../lab/paths.js';
import { runLabs } from '../lab/runner.js';
import type { LabDefinition } from '../lab/types.js';
import { renderSegmentLine } from '../report/text.js';
import { toRunJson } from '../report/run-json.js';
import { renderLabOutcome, renderRunSummary, renderTimeline } from '../report/run-text.js';
import { preflight } from '../lab/preflight.js';
import { intOption, keyValues, parse } from './args.js';
import { note, out, outJson } from './output.js';

const USAGE = 'wirelab run LAB… | --all [--json] [--live] [--timeline] [--ipv6] [--param key=value] [--jobs N] [--out DIR] [--backend tcpdump|raw-socket]';

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[:.]/g, '-').replace('Z', '')}-${process.pid}`;
}

export function selectLabs(names: string[], all: boolean): LabDefinition[] {
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
    ipv6: { type: 'boolean' },
    param: { type: 'string', multiple: true },
    jobs: { type: 'string' },
    out: { type: 'string' },
    backend: { type: 'string' },
  }, USAGE);
  const labs = selectLabs(positionals, !!values.all);
  const params = keyValues(values.param, '--param');
  for (const k of Object.keys(params)) {
    if (!labs.some((l) => l.params && k in l.params)) {
      const known = labs.flatMap((l) => Object.keys(l.params ?? {}).map((p) => `${l.name}: ${p}`));
      throw new WirelabError('BAD_USAGE', `--param ${k}: none of the selected labs takes it${known.length ? ` (they take ${known.join(', ')})` : ' (they take no parameters)'}`);
    }
  }
  const backend = values.backend ?? 'auto';
  if (!['auto', 'tcpdump', 'raw-socket'].includes(backend)) throw new WirelabError('BAD_USAGE', `--backend ${backend}: use tcpdump or raw-socket`);
  const pf = await preflight({ needTcpdump: backend === 'tcpdump' });
  const family = values.ipv6 ? 6 : 4;
  if (backend === 'raw-socket' || (backend === 'auto' && !pf.tcpdump)) {
    // The raw-socket backend sees IPv4 only, and no IP fragments: some labs need what only tcpdump sees.
    const needy = labs.filter((l) => l.needs.includes('tcpdump')).map((l) => l.name);
    const why = family === 6 ? 'IPv6 captures' : needy.length ? `lab(s) ${needy.join(', ')}` : null;
    if (why && backend === 'raw-socket') throw new WirelabError('BAD_USAGE', `--backend raw-socket cannot capture what ${why} need (it sees IPv4 only, no IP fragments): drop --backend`);
    if (why) throw new WirelabError('NO_TCPDUMP', `tcpdump is not installed and ${why} need it (the raw-socket fallback sees IPv4 only, no IP fragments): apt-get install tcpdump`);
    if (backend === 'auto') note('wirelab: tcpdump is not installed: capturing with the raw-socket backend (IPv4 only, no IP fragments); apt-get install tcpdump for full captures');
  }

  const run = newRunId();
  const dir = path.resolve(values.out ?? path.join(defaultCapturesDir(), run));
  const byName = new Map(catalogue.map((l) => [l.name, l]));
  if (!values.json) note(`wirelab: running ${labs.length} lab(s) over IPv${family}; captures in ${path.relative(process.cwd(), dir) || '.'}`);
  const outcomes = await runLabs(labs, {
    family,
    params,
    outDir: dir,
    backend: backend as 'auto' | 'tcpdump' | 'raw-socket',
    ...(intOption(values.jobs, '--jobs', 1) ? { concurrency: intOption(values.jobs, '--jobs', 1)! } : {}),
    ...(values.live ? { onSegment: (lab, conn, seg) => out(`[${lab}] #${conn.id} ${renderSegmentLine(seg)}`) } : {}),
    onLabDone: (o) => {
      if (!values.json) out(`${renderLabOutcome(o, byName.get(o.lab))}${values.timeline ? `\n${renderTimeline(o)}` : ''}\n`);
    },
  });
  const report = toRunJson(run, path.relative(repoRoot, dir), os.release(), outcomes);
  await writeFile(path.join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (values.json) outJson(report);
  else out(`${renderRunSummary(outcomes)}\nreport: ${path.join(path.relative(process.cwd(), dir) || '.', 'report.json')}`);
  if (outcomes.some((o) => o.verdict === 'fail' || o.verdict === 'error')) return 1;
  return 0;
}
