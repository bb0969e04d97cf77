/** `wirelab list [--json]`: the labs, their claims, params, families and how long each takes. */
import { labs } from '../../labs/index.js';
import { claimsOf } from '../lab/catalogue.js';
import { describeParam, type ParamSpecs } from '../lab/params.js';
import { parse } from './args.js';
import { out, outJson } from './output.js';

const USAGE = 'wirelab list [--json]';

export async function listCommand(argv: string[]): Promise<number> {
  const { values } = parse('list', argv, { json: { type: 'boolean' } }, USAGE);
  const rows = labs.map((l) => ({
    lab: l.name, claims: claimsOf(l), title: l.title, seconds: l.seconds, needs: l.needs, topic: l.topic,
    families: l.families ?? [4, 6], ...(l.familyNote ? { familyNote: l.familyNote } : {}),
    params: Object.entries((l.params ?? {}) as ParamSpecs).map(([name, p]) => ({ name, ...p })),
  }));
  if (values.json) {
    outJson(rows);
    return 0;
  }
  const w = Math.max(...rows.map((r) => r.lab.length));
  let topic = '';
  for (const r of rows) {
    if (r.topic !== topic) out(`${(topic = r.topic)}/`);
    out(`  ${r.lab.padEnd(w)}  ~${r.seconds}s  ${r.claims.join(' ')}  ${r.title}${r.families.length < 2 ? `  [IPv${r.families.join('')} only: ${r.familyNote}]` : ''}`);
    for (const p of r.params) out(`  ${' '.repeat(w)}    --param ${describeParam(p.name, p)}`);
  }
  out(`\nrun one: wirelab run ${rows[0]?.lab ?? 'LAB'}    all (IPv4 and IPv6): wirelab run --all    IPv6: add --ipv6`);
  return 0;
}
