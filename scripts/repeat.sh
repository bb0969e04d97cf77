#!/usr/bin/env bash
# Run one lab N times (P at a time, each in its own namespaces) and count the passes:
#   bash scripts/repeat.sh LAB N [P] [--ipv6] [--param k=v ...]
# Prints each run's verdict line and "LAB IPvF: K of N passed (first failure: run I)"; exits 1 unless all passed.
set -uo pipefail
cd "$(dirname "$0")/.."
lab=$1 n=$2 p=${3:-4}
shift 3 || shift $#
fam=4; for a in "$@"; do [ "$a" = --ipv6 ] && fam=6; done
out=$(mktemp -d /tmp/wl-repeat-XXXX)
seq 1 "$n" | xargs -P "$p" -I{} sh -c "node dist/src/cli/main.js run $lab --json --out $out/{} $* > $out/{}.json 2> $out/{}.err; echo \$? > $out/{}.rc"
passed=0 first=
for i in $(seq 1 "$n"); do
  v=$(node -e "const r=require('$out/$i.json');const l=r.labs[0];console.log(l.verdict+' '+l.claims.map(c=>c.id+'='+c.verdict).join(' ')+(l.reason?' | '+l.reason:''))" 2>/dev/null || echo "error $(tail -1 $out/$i.err)")
  echo "run $i: $v"
  case $v in pass*) passed=$((passed+1));; *) [ -z "$first" ] && first=$i;; esac
done
echo "$lab IPv$fam: $passed of $n passed${first:+ (first failure: run $first, $out/$first)}"
[ "$passed" = "$n" ]
