/**
 * `wirelab report DIR [--out FILE]`: (re)build the HTML report of a run from its report.json and
 * its pcaps (analysed again). Also the HTML step of `wirelab run` (writeRunHtml), so both write
 * the same page.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { labs as catalogue } from '../../labs/index.js';
import { claimById } from '../../labs/claims.js';
import { WirelabError } from '../errors.js';
import type { LabOutcome } from '../lab/runner.js';
import { reportFromDir, reportFromRun, writeHtml, type Catalogue } from '../report/html/build.js';
import type { RunJson } from '../report/run-json.js';
import { parse } from './args.js';
import { note, out } from './output.js';

const USAGE = 'wirelab report DIR [--out FILE]   (DIR: captures/<run>/ as `wirelab run` wrote it; default FILE: DIR/report.html)';

export const labCatalogue: Catalogue = {
  lab: (name) => catalogue.find((l) => l.name === name),
  claim: (id) => claimById(id)?.text,
};

function mb(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} kB`;
}

/** The run's report.html (and a copy at `extra`, with its own pcap links); returns the files written. */
export async function writeRunHtml(json: RunJson, outcomes: LabOutcome[], dir: string, extra?: string): Promise<string[]> {
  const files = [path.join(dir, 'report.html'), ...(extra ? [path.resolve(extra)] : [])];
  for (const f of files) await writeHtml(f, reportFromRun(json, outcomes, dir, f, labCatalogue));
  return files;
}

export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('report', argv, { out: { type: 'string' } }, USAGE);
  if (positionals.length !== 1) throw new WirelabError('BAD_USAGE', `wirelab report takes one run directory, got ${positionals.length}\nusage: ${USAGE}`);
  const dir = path.resolve(positionals[0]!);
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new WirelabError('FILE_NOT_FOUND', `${positionals[0]} is not a directory: give the run directory \`wirelab run\` printed (captures/<run>/)`);
  const file = path.resolve(values.out ?? path.join(dir, 'report.html'));
  const started = performance.now();
  const bytes = await writeHtml(file, await reportFromDir(dir, file, labCatalogue));
  note(`wirelab report: ${mb(bytes)} in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  out(path.relative(process.cwd(), file) || file);
  return 0;
}
