/**
 * A snapshot of everything a lab could change in the host's network namespace: nftables and
 * iptables rules, links, addresses, routes, qdiscs, the sysctls labs set, and wirelab namespaces.
 * Lifetimes that count down by themselves (IPv6 "expires 1720sec", valid_lft/preferred_lft) are
 * blanked so that only real changes differ.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const HOST_SYSCTLS = [
  'net/ipv4/tcp_no_metrics_save', 'net/ipv4/tcp_synack_retries', 'net/ipv4/tcp_syn_retries', 'net/ipv4/tcp_syncookies',
  'net/ipv4/tcp_max_tw_buckets', 'net/ipv4/ipfrag_time', 'net/core/somaxconn', 'net/ipv4/ip_forward',
  'net/ipv6/conf/all/forwarding', 'net/ipv6/conf/all/accept_dad', 'net/ipv6/conf/default/accept_dad',
];

/** A shell command's stdout, or 'failed: …' (never throws). */
export function sh(cmd: string): string {
  try {
    return execFileSync('sh', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return `failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

const timeless = (s: string): string => s.replace(/\b(expires|valid_lft|preferred_lft) \d+sec/g, '$1 _');

/**
 * wirelab namespaces whose owner process is gone: what a run leaked. A namespace whose owner still
 * runs belongs to a run in progress (another test file, another user's lab), not to a leak.
 */
function orphanNamespaces(): string {
  return sh('ip netns list').split('\n').map((l) => l.split(' ')[0]!)
    .filter((n) => {
      const owner = /^wirelab-(\d+)-/.exec(n);
      if (!owner) return false;
      try {
        process.kill(Number(owner[1]), 0);
        return false;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code !== 'EPERM';
      }
    })
    .sort().join('\n');
}

/** `namespaces: false` leaves out the wirelab namespaces (for a check while a sandbox exists). */
export function hostState(opts: { namespaces?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {
    nft: sh('nft list ruleset 2>&1'),
    iptables: sh('iptables-save 2>/dev/null').replace(/^#.*$/gm, ''),
    links: sh("ip -o link | sed 's/ state [A-Z]*//'"),
    addrs: timeless(sh('ip -o addr')),
    routes: timeless(sh('ip route; ip -6 route')),
    qdiscs: sh('tc qdisc show 2>&1'),
  };
  if (opts.namespaces !== false) out.netns = orphanNamespaces();
  for (const k of HOST_SYSCTLS) {
    try {
      out[k] = readFileSync(`/proc/sys/${k}`, 'utf8');
    } catch {
      out[k] = 'absent';
    }
  }
  return out;
}
