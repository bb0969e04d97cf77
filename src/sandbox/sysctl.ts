/**
 * Setting sysctls inside a sandbox namespace: one `sh` per namespace writes /proc/sys and reads
 * every key back. Keys this kernel lacks, read-only /proc/sys (containers) and keys that are not
 * per-namespace (net.core.rmem_max & co: read-only copies of the host's) fail with SYSCTL_FAILED
 * naming the key and the fix; optional keys are skipped with the reason.
 */
import { WirelabError } from '../errors.js';
import { run } from './command.js';
import type { SysctlResult, SysctlSpec } from './types.js';

/** Sysctls that a network namespace only mirrors from the host (Linux keeps them global). */
const HOST_ONLY = /^net\.core\.(rmem_max|rmem_default|wmem_max|wmem_default|optmem_max|netdev_max_backlog)$/;

interface Wanted {
  key: string;
  value: string;
  optional: boolean;
}

function normalize(spec: SysctlSpec): Wanted[] {
  return Object.entries(spec).map(([key, v]) => {
    if (!/^[a-z0-9_.\-]+$/i.test(key)) {
      throw new WirelabError('BAD_USAGE', `sysctl key ${JSON.stringify(key)} is not of the form net.ipv4.tcp_synack_retries`);
    }
    const optional = typeof v === 'object' && v !== null && v.optional === true;
    const value = String(typeof v === 'object' && v !== null ? v.value : v);
    if (/['\n\\]/.test(value)) throw new WirelabError('BAD_USAGE', `sysctl ${key}: value ${JSON.stringify(value)} has a character sysctl values never have`);
    return { key, value, optional };
  });
}

const SH = (w: Wanted): string => {
  const p = '/proc/sys/' + w.key.replace(/\./g, '/');
  // One line per key: KEY \t STATUS \t PREVIOUS \t NOW \t ERROR (tabs inside values become spaces).
  return [
    `p='${p}'; k='${w.key}'; v='${w.value}'`,
    `if [ ! -e "$p" ]; then printf '%s\\tmissing\\t\\t\\t\\n' "$k"; else`,
    `prev=$(tr '\\t\\n' '  ' < "$p")`,
    // Already the wanted value (e.g. from docker run --sysctl): no write, so read-only /proc/sys is fine.
    `if [ "$(echo $prev)" = "$(echo $v)" ]; then err=; st=0; else`,
    `err=$( { printf '%s\\n' "$v" > "$p"; } 2>&1 ) ; st=$?; fi`,
    `now=$(tr '\\t\\n' '  ' < "$p")`,
    `err=$(printf '%s' "$err" | tr '\\t\\n' '  ')`,
    `if [ $st -eq 0 ]; then s=ok; else s=failed; fi`,
    `printf '%s\\t%s\\t%s\\t%s\\t%s\\n' "$k" "$s" "$prev" "$now" "$err"; fi`,
  ].join('\n');
};

const squash = (s: string): string => s.trim().replace(/\s+/g, ' ');

/** Where the sysctls are set: a lab namespace (`ip netns exec NS`) or this process's own (a container's). */
export interface SysctlTarget {
  argv: string[]; // the prefix that runs `sh` there
  ownNetns: boolean; // true: the container's own namespace, where docker run --sysctl reaches
}

export const inNamespace = (ns: string): SysctlTarget => ({ argv: ['ip', 'netns', 'exec', ns], ownNetns: false });

function readOnlyFix(w: Wanted, own: boolean): string {
  return own
    ? `run the container with --sysctl ${w.key}=${w.value} (or --security-opt systempaths=unconfined; podman: --security-opt unmask=/proc/sys)`
    : `run the container with --security-opt systempaths=unconfined (podman: --security-opt unmask=/proc/sys); --sysctl cannot help here, it reaches the container's namespace, not the lab's own`;
}

function failure(w: Wanted, status: string, now: string, err: string, ns: string, own: boolean): string {
  if (status === 'missing') {
    return `this kernel has no ${w.key} (no /proc/sys/${w.key.replace(/\./g, '/')} in namespace ${ns}): check the spelling, or mark it optional`;
  }
  if (HOST_ONLY.test(w.key)) {
    return `${w.key} is not settable per network namespace (the namespace sees a read-only copy of the host's value ${now}): a lab cannot change it; set it on the host yourself (sysctl -w ${w.key}=${w.value}) or design the lab around the current value`;
  }
  if (/read-only/i.test(err)) {
    return `cannot set ${w.key}=${w.value} (it is ${now}): /proc/sys is read-only here (a container): ${readOnlyFix(w, own)}`;
  }
  if (/permission denied/i.test(err)) {
    return `cannot set ${w.key}=${w.value}: permission denied (${err.trim()}): run as root with CAP_NET_ADMIN; in a container ${readOnlyFix(w, own)}`;
  }
  if (status === 'ok') return `${w.key} reads back as ${JSON.stringify(now)} after writing ${JSON.stringify(w.value)}: the kernel clamps or rejects this value`;
  return `the kernel refused ${w.key}=${w.value} (${err.trim() || 'write failed'}): check the value's range`;
}

/** Set `spec` inside namespace `ns`; throws SYSCTL_FAILED for the first required key that fails. */
export async function setSysctlsIn(ns: string, spec: SysctlSpec, target: SysctlTarget = inNamespace(ns)): Promise<SysctlResult[]> {
  const wanted = normalize(spec);
  if (wanted.length === 0) return [];
  const script = ['set -f', ...wanted.map(SH)].join('\n'); // set -f: unquoted $prev and $v never glob
  const r = await run([...target.argv, 'sh', '-c', script]);
  if (r.code !== 0) {
    throw new WirelabError('SYSCTL_FAILED', `could not run sh in namespace ${ns} to set sysctls: ${r.stderr.trim()}`, { ns });
  }
  const lines = new Map<string, string[]>();
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    const f = line.split('\t');
    lines.set(f[0]!, f);
  }
  const results: SysctlResult[] = [];
  for (const w of wanted) {
    const f = lines.get(w.key) ?? [w.key, 'failed', '', '', 'no output'];
    const [, status = 'failed', prev = '', now = '', err = ''] = f;
    const ok = status === 'ok' && squash(now) === squash(w.value);
    if (ok) {
      results.push({ key: w.key, value: squash(now), previous: squash(prev), skipped: false });
      continue;
    }
    const reason = failure(w, status, squash(now), err, ns, target.ownNetns);
    if (w.optional) {
      results.push({ key: w.key, value: squash(now), previous: squash(prev), skipped: true, reason });
      continue;
    }
    throw new WirelabError('SYSCTL_FAILED', reason, { key: w.key, value: w.value, ns });
  }
  return results;
}
