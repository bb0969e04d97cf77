/**
 * `wirelab claims [--json] [--captures DIR]`: every claim of the catalogue, the labs that test it,
 * and, when a run exists under captures/, its last verdict with the evidence. A claim no lab covers
 * is listed as such.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { CLAIMS } from '../../labs/claims.js';
import { labs } from '../../labs/index.js';
import { claimsOf } from '../lab/catalogue.js';
import { defaultCapturesDir } from '../lab/paths.js';
import type { RunJson } from '../report/run-json.js';
import { parse } from './args.js';
import { out, outJson } from './output.js';

const USAGE = 'wirelab claims [--json] [--captures DIR]';

export interface LastVerdict {
  verdict: string;
  evidence: string;
  lab: string;
  family: number;
  run: string;
  time: string; // ISO time of the report
}

export interface ClaimRow {
  id: string;
  topic: string;
  text: string;
  labs: string[];
  last: LastVerdict | null;
}

/** The newest verdict per claim ID over every report.json under `dir` (unreadable reports skipped). */
export async function lastVerdicts(dir: string): Promise<Map<string, LastVerdict>> {
  const found = new Map<string, LastVerdict & { ms: number }>();
  let entries: string[] = [];
  try {
    entries = await readdir(dir);
  } catch {
    return new Map();
  }
  for (const e of entries) {
    const file = path.join(dir, e, 'report.json');
    let report: RunJson;
    let ms: number;
    try {
      ms = (await stat(file)).mtimeMs;
      report = JSON.parse(await readFile(file, 'utf8')) as RunJson;
    } catch {
      continue;
    }
    for (const l of report.labs ?? []) {
      if (l.verdict === 'skipped') continue;
      for (const c of l.claims ?? []) {
        const prev = found.get(c.id);
        if (prev && prev.ms >= ms) continue;
        found.set(c.id, { verdict: c.verdict, evidence: c.evidence, lab: l.lab, family: l.family ?? 4, run: report.run, time: new Date(ms).toISOString(), ms });
      }
    }
  }
  return new Map([...found].map(([k, { ms: _ms, ...v }]) => [k, v]));
}

export async function claimsCommand(argv: string[]): Promise<number> {
  const { values } = parse('claims', argv, { json: { type: 'boolean' }, captures: { type: 'string' } }, USAGE);
  const last = await lastVerdicts(path.resolve(values.captures ?? defaultCapturesDir()));
  const rows: ClaimRow[] = CLAIMS.map((c) => ({
    id: c.id, topic: c.topic, text: c.text,
    labs: labs.filter((l) => claimsOf(l).includes(c.id)).map((l) => l.name),
    last: last.get(c.id) ?? null,
  }));
  if (values.json) {
    outJson(rows);
    return 0;
  }
  let topic = '';
  for (const r of rows) {
    if (r.topic !== topic) out(`\n${(topic = r.topic)}`);
    out(`  ${r.id}  ${r.text}`);
    out(`       labs: ${r.labs.length ? r.labs.join(', ') : 'none yet: no lab covers this claim'}`);
    if (r.last) out(`       last: ${r.last.verdict} (${r.last.lab}, IPv${r.last.family}, run ${r.last.run}): ${r.last.evidence}`);
    else if (r.labs.length) out(`       last: not run yet (wirelab run ${r.labs[0]})`);
  }
  const covered = rows.filter((r) => r.labs.length).length;
  out(`\n${covered} of ${rows.length} claims covered by a lab; ${rows.filter((r) => r.last).length} with a verdict from a run`);
  return 0;
}
