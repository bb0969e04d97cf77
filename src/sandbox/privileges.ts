/**
 * Preflight: can this process create namespaces and raw sockets, and are the tools there?
 * Each failure is a WirelabError whose message says how to fix it.
 */
import { readFileSync } from 'node:fs';
import { WirelabError } from '../errors.js';
import { which } from './command.js';
import { sandboxMode } from './container-mode.js';

const CAP_NET_ADMIN = 12;
const CAP_NET_RAW = 13;
const CAP_SYS_ADMIN = 21; // ip netns add mounts /run/netns; unshare(CLONE_NEWNET) needs it too

export interface PrivilegeReport {
  uid: number;
  capEff: bigint;
  netAdmin: boolean;
  netRaw: boolean;
  sysAdmin: boolean;
}

/** Read the effective capability set of this process from /proc/self/status. */
export function readPrivileges(): PrivilegeReport {
  const status = readFileSync('/proc/self/status', 'utf8');
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  const capEff = m ? BigInt('0x' + m[1]) : 0n;
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  return {
    uid,
    capEff,
    netAdmin: ((capEff >> BigInt(CAP_NET_ADMIN)) & 1n) === 1n,
    netRaw: ((capEff >> BigInt(CAP_NET_RAW)) & 1n) === 1n,
    sysAdmin: ((capEff >> BigInt(CAP_SYS_ADMIN)) & 1n) === 1n,
  };
}

const FIX =
  'run as root: sudo npx wirelab ...; in Docker: docker run --cap-add NET_ADMIN --cap-add NET_RAW ... (and --cap-add SYS_ADMIN for labs with two hosts or a router; podman: the same flags)';

/** Throw NOT_ROOT / NO_CAP_NET_ADMIN unless this process may create namespaces or use a container's own. */
export function checkPrivileges(opts: { needRaw?: boolean } = {}): PrivilegeReport {
  const p = readPrivileges();
  if (p.uid !== 0) {
    throw new WirelabError('NOT_ROOT', `wirelab needs root to create network namespaces (uid is ${p.uid}): ${FIX}`, { uid: p.uid });
  }
  if (!p.netAdmin || (opts.needRaw && !p.netRaw)) {
    const missing = [!p.netAdmin ? 'CAP_NET_ADMIN' : null, opts.needRaw && !p.netRaw ? 'CAP_NET_RAW' : null].filter(Boolean).join(' and ');
    throw new WirelabError('NO_CAP_NET_ADMIN', `this process lacks ${missing} (CapEff ${p.capEff.toString(16)}): ${FIX}`, {
      capEff: p.capEff.toString(16),
    });
  }
  // Without CAP_SYS_ADMIN, a container's own namespace still serves single-host labs (container-mode.ts).
  const mode = sandboxMode(p);
  if (mode.kind === 'none') throw new WirelabError('NO_CAP_NET_ADMIN', mode.why, { capEff: p.capEff.toString(16) });
  return p;
}

const INSTALL: Record<string, string> = {
  ip: 'apt-get install iproute2',
  nft: 'apt-get install nftables',
  iptables: 'apt-get install iptables',
  tcpdump: 'apt-get install tcpdump',
  ethtool: 'apt-get install ethtool (or bash scripts/setup.sh)',
  sh: 'apt-get install dash',
};

/** The path of a required tool, or NO_TOOL (NO_TCPDUMP for tcpdump) with the package to install. */
export function requireTool(tool: string): string {
  const p = which(tool);
  if (p) return p;
  const fix = INSTALL[tool] ?? `install ${tool}`;
  throw new WirelabError(tool === 'tcpdump' ? 'NO_TCPDUMP' : 'NO_TOOL', `${tool} is not installed (or not on PATH): ${fix}`, { tool });
}
