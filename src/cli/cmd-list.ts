import { labs } from '../../labs/index.js';
import { parse } from './args.js';
import { out, outJson } from './output.js';

const USAGE = 'wirelab list [--json]';

export async function listCommand(argv: string[]): Promise<number> {
  const { values } = parse('list', argv, { json: { type: 'boolean' } }, USAGE);
  const rows = labs.map((l) => ({ lab: l.name, claims: l.claims, title: l.title, seconds: l.seconds, needs: l.needs }));
  if (values.json) {
    outJson(rows);
    return 0;
  }
  const w = Math.max(...rows.map((r) => r.lab.length));
  for (const r of rows) out(`${r.lab.padEnd(w)}  ~${r.seconds}s  ${r.claims.join(' ')}  ${r.title}`);
  out(`\nrun one: wirelab run ${rows[0]?.lab ?? 'LAB'}    all: wirelab run --all    IPv6: add --ipv6`);
  return 0;
}
