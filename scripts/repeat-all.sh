#!/usr/bin/env bash
# Run every lab over IPv4 and IPv6 (`wirelab run --all`) N times in a row and count, per lab and
# family, how many runs passed, with the claim verdicts seen and each failure's reason:
#   bash scripts/repeat-all.sh N [run --all flags, e.g. --jobs 2]
# Needs the build (npm run build). Each run's JSON, stderr and captures stay under the printed
# folder. Exits 1 unless every lab passed every time.
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:?usage: bash scripts/repeat-all.sh N [run --all flags]}
shift
out=$(mktemp -d /tmp/wl-repeat-all-XXXX)
for i in $(seq 1 "$n"); do
  s=$(date +%s)
  node dist/src/cli/main.js run --all --json --out "$out/captures$i" "$@" > "$out/run$i.json" 2> "$out/run$i.err"
  echo "run $i of $n: exit $? in $(( $(date +%s) - s )) s, load $(cut -d' ' -f1 /proc/loadavg)"
done
node - "$out" "$n" <<'JS'
const fs = require('fs');
const [dir, n] = [process.argv[2], Number(process.argv[3])];
const t = {};
const fails = [];
for (let i = 1; i <= n; i++) {
  let r;
  try { r = JSON.parse(fs.readFileSync(`${dir}/run${i}.json`, 'utf8')); } catch { fails.push(`run ${i}: no report (see ${dir}/run${i}.err)`); continue; }
  for (const l of r.labs) {
    const k = `${l.lab} IPv${l.family}`;
    t[k] ??= { pass: 0, n: 0, claims: new Set() };
    t[k].n++;
    if (l.verdict === 'pass') t[k].pass++;
    else fails.push(`run ${i} ${k}: ${l.verdict} ${l.reason ?? ''}`.slice(0, 300));
    for (const c of l.claims) t[k].claims.add(`${c.id}=${c.verdict}`);
  }
}
let all = fails.length === 0;
for (const [k, v] of Object.entries(t).sort()) {
  console.log(`${k}: ${v.pass} of ${v.n} passed; ${[...v.claims].join(' ')}`);
  if (v.pass !== n) all = false;
}
for (const f of fails) console.log(f);
console.log(`${dir}: ${all ? 'every lab passed every run' : 'not every lab passed every run'}`);
process.exit(all ? 0 : 1);
JS
